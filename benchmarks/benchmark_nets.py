"""Training-step and inference throughput of a factory net, beside references.

Measures images/s of one training step (forward, softmax cross entropy on
the logits plus 0.4 x the auxiliary logits' where the net has them, weight
decay, backward, momentum update, batch norm moving averages) and of
inference, for each dtype in --dtypes:

- float32: everything in float32.
- bfloat16: inputs cast to bfloat16, so every layer computes in bfloat16;
  variables stay float32 and the loss is computed in float32.

Our step is one `tf.function`. With --compare the same invocation also runs,
on the same batch, the references that exist for the net: TF-Slim 1.1.0's
graph-mode version where `tf_slim.nets` ships it (a tf.compat.v1.Session,
`tf_slim.learning.create_train_op` with the same momentum optimizer), and
Keras's application where Keras has one (`weights=None`; float32, and
bfloat16 through the 'mixed_bfloat16' policy); it prints one table with
ratios to the first reference in float32.

    python benchmarks/benchmark_nets.py --compare
    python benchmarks/benchmark_nets.py --model_name=resnet_v1_50 --compare
    python benchmarks/benchmark_nets.py --model_name=cifarnet --batch_size=128
"""

import argparse
import os
import sys
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
# As the drivers: oneDNN's kernels for every case (TF-Slim's and Keras's
# too); TF_ENABLE_ONEDNN_OPTS=0 measures TF's default kernels on this CPU.
os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '1')

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from nets import nets_factory  # noqa: E402

LEARNING_RATE = 0.01
MOMENTUM = 0.9
AUX_WEIGHT = 0.4  # train_image_classifier's weight of Inception's aux loss


def main(argv=None):
    args = _parse_args(argv)
    spec = nets_factory.get_network_spec(args.model_name)
    size = args.image_size or spec.default_image_size
    channels = 1 if args.model_name == 'lenet' else 3
    dtypes = [d.strip() for d in args.dtypes.split(',') if d.strip()]
    rng = np.random.RandomState(0)
    images = rng.uniform(-1, 1, (args.batch_size, size, size, channels)).astype(
        np.float32
    )
    labels = rng.randint(0, args.num_classes, args.batch_size)
    print(
        '{} batch {} at {}x{}: {} rounds of up to {} steps (or {} s) after {} '
        'warm-up; {} threads; TF_ENABLE_ONEDNN_OPTS={}; load {:.2f}'.format(
            args.model_name,
            args.batch_size,
            size,
            size,
            args.rounds,
            args.steps,
            args.max_seconds,
            args.warmup,
            _num_threads(),
            os.environ['TF_ENABLE_ONEDNN_OPTS'],
            os.getloadavg()[0],
        ),
        flush=True,
    )

    # Every case is built and warmed up first; then the rounds interleave the
    # cases, so that load from other processes hits them alike, and each
    # case's rate is its median over the rounds.
    cases = []
    if args.compare and args.model_name in TF_SLIM_NETS:
        cases += tf_slim_net(images, labels, args)
    for dtype in dtypes:
        cases += ours(images, labels, dtype, args)
    if args.compare and args.model_name in KERAS_NETS:
        for dtype in dtypes:
            cases += keras_net(images, labels, dtype, args)
    for case in cases:
        print('  warming up {} {} {}'.format(*case[:3]), flush=True)
        for _ in range(args.warmup):
            case[3]()
    rates = {case[:3]: [] for case in cases}
    for round_ in range(args.rounds):
        for case in cases:
            rates[case[:3]].append(_images_per_second(case[3], args))
        print(
            '  round {}: {}'.format(
                round_ + 1,
                ', '.join(
                    '{} {} {} {:.2f}'.format(*key, r[-1][0])
                    for key, r in rates.items()
                ),
            ),
            flush=True,
        )
    _print_table({key: np.median(r, axis=0) for key, r in rates.items()})
    print('load average at the end: {:.2f}'.format(os.getloadavg()[0]))


def ours(images, labels, dtype, args):
    """Returns the train and inference cases of our factory net."""
    model = nets_factory.get_network_fn(
        args.model_name,
        args.num_classes,
        weight_decay=args.weight_decay,
        is_training=True,
    )
    compute_dtype = tf.as_dtype(dtype)
    x = tf.cast(tf.constant(images), compute_dtype)
    onehot = tf.one_hot(labels, args.num_classes)
    model(x[:1])  # creates the variables; their shapes do not depend on batch
    variables = model.trainable_variables
    accumulators = [
        tf.Variable(tf.zeros_like(v), trainable=False) for v in variables
    ]

    @tf.function(autograph=False)  # the nets use Python control flow only
    def train_step(x, onehot):
        with tf.GradientTape() as tape:
            logits, end_points = model(x)
            loss = _cross_entropy(onehot, logits)
            if 'AuxLogits' in end_points:
                loss += AUX_WEIGHT * _cross_entropy(
                    onehot, end_points['AuxLogits']
                )
            if model.losses:
                loss += tf.add_n([tf.cast(l, tf.float32) for l in model.losses])
        grads = tape.gradient(loss, variables)
        for var, accum, grad in zip(variables, accumulators, grads):
            # The fused kernel of tf.compat.v1.train.MomentumOptimizer.
            tf.raw_ops.ResourceApplyMomentum(
                var=var.handle,
                accum=accum.handle,
                lr=LEARNING_RATE,
                grad=grad,
                momentum=MOMENTUM,
                use_locking=False,
            )
        return loss

    @tf.function(autograph=False)  # the nets use Python control flow only
    def infer_step(x):
        return model(x, is_training=False)[0]

    if args.profile_dir:
        train_step(x, onehot).numpy()
        tf.profiler.experimental.start(os.path.join(args.profile_dir, dtype))
        for _ in range(2):
            train_step(x, onehot).numpy()
        tf.profiler.experimental.stop()
    name = 'ours (' + args.model_name + ')'
    return [
        (name, dtype, 'train', lambda: train_step(x, onehot).numpy()),
        (name, dtype, 'inference', lambda: infer_step(x).numpy()),
    ]


# Our name -> (tf_slim.nets module, function, arg scope function).
TF_SLIM_NETS = {
    'alexnet_v2': ('alexnet', 'alexnet_v2', 'alexnet_v2_arg_scope'),
    'overfeat': ('overfeat', 'overfeat', 'overfeat_arg_scope'),
    'vgg_a': ('vgg', 'vgg_a', 'vgg_arg_scope'),
    'vgg_16': ('vgg', 'vgg_16', 'vgg_arg_scope'),
    'vgg_19': ('vgg', 'vgg_19', 'vgg_arg_scope'),
    'inception_v1': ('inception_v1', 'inception_v1', 'inception_v1_arg_scope'),
    'inception_v2': ('inception_v2', 'inception_v2', 'inception_v2_arg_scope'),
    'inception_v3': ('inception_v3', 'inception_v3', 'inception_v3_arg_scope'),
}
TF_SLIM_NETS.update(
    {
        'resnet_v%d_%d' % (v, depth): (
            'resnet_v%d' % v,
            'resnet_v%d_%d' % (v, depth),
            'resnet_arg_scope',
        )
        for v in (1, 2)
        for depth in (50, 101, 152, 200)
    }
)

# Our name -> keras.applications class (Keras's ResNets are v1 and v2 with
# biases and another shortcut placement: the same size class of net).
KERAS_NETS = {
    'vgg_16': 'VGG16',
    'vgg_19': 'VGG19',
    'inception_v3': 'InceptionV3',
    'inception_resnet_v2': 'InceptionResNetV2',
    'resnet_v1_50': 'ResNet50',
    'resnet_v1_101': 'ResNet101',
    'resnet_v1_152': 'ResNet152',
    'resnet_v2_50': 'ResNet50V2',
    'resnet_v2_101': 'ResNet101V2',
    'resnet_v2_152': 'ResNet152V2',
    'mobilenet_v1': 'MobileNet',
    'mobilenet_v2': 'MobileNetV2',
    'mobilenet_v3_large': 'MobileNetV3Large',
    'mobilenet_v3_small': 'MobileNetV3Small',
    'nasnet_mobile': 'NASNetMobile',
    'nasnet_large': 'NASNetLarge',
}


def tf_slim_net(images, labels, args):
    """Returns the train and inference cases of TF-Slim's graph-mode net."""
    import importlib

    tf_slim = _import_tf_slim()
    module_name, fn_name, scope_name = TF_SLIM_NETS[args.model_name]
    module = importlib.import_module('tf_slim.nets.' + module_name)

    def build(is_training):
        x = tf.constant(images)
        onehot = tf.one_hot(labels, args.num_classes)
        with tf_slim.arg_scope(
            getattr(module, scope_name)(weight_decay=args.weight_decay)
        ):
            logits, end_points = getattr(module, fn_name)(
                x, args.num_classes, is_training=is_training
            )
        logits = tf.reshape(logits, [len(images), args.num_classes])
        if not is_training:
            return logits
        tf.compat.v1.losses.softmax_cross_entropy(onehot, logits)
        if 'AuxLogits' in end_points:
            tf.compat.v1.losses.softmax_cross_entropy(
                onehot, end_points['AuxLogits'], weights=AUX_WEIGHT
            )
        total_loss = tf.compat.v1.losses.get_total_loss()
        optimizer = tf.compat.v1.train.MomentumOptimizer(
            LEARNING_RATE, MOMENTUM
        )
        return tf_slim.learning.create_train_op(total_loss, optimizer)

    cases = []
    for mode in ('train', 'inference'):
        graph = tf.Graph()
        with graph.as_default():
            fetch = build(mode == 'train')
            session = tf.compat.v1.Session(graph=graph)
            session.run(tf.compat.v1.global_variables_initializer())
        cases.append(
            (
                'TF-Slim 1.1.0 (graph)',
                'float32',
                mode,
                lambda s=session, f=fetch: s.run(f),
            )
        )
    return cases


def keras_net(images, labels, dtype, args):
    """Returns the train and inference cases of Keras 3's application."""
    import keras

    policy = 'mixed_bfloat16' if dtype == 'bfloat16' else 'float32'
    keras.mixed_precision.set_global_policy(policy)
    try:
        model = getattr(keras.applications, KERAS_NETS[args.model_name])(
            weights=None,
            classes=args.num_classes,
            classifier_activation=None,
            input_shape=images.shape[1:],
        )
    finally:
        keras.mixed_precision.set_global_policy('float32')
    # Keras' applications have no kernel regularizers: decoupled weight decay
    # in the optimizer stands in for the L2 term.
    optimizer = keras.optimizers.SGD(
        LEARNING_RATE, momentum=MOMENTUM, weight_decay=args.weight_decay
    )
    optimizer.build(model.trainable_variables)
    x = tf.constant(images)
    onehot = tf.one_hot(labels, args.num_classes)

    @tf.function(autograph=False)  # the nets use Python control flow only
    def train_step(x, onehot):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss = _cross_entropy(onehot, logits)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function(autograph=False)  # the nets use Python control flow only
    def infer_step(x):
        return model(x, training=False)

    name = 'Keras 3 ' + KERAS_NETS[args.model_name]
    return [
        (name, dtype, 'train', lambda: train_step(x, onehot).numpy()),
        (name, dtype, 'inference', lambda: infer_step(x).numpy()),
    ]


def _cross_entropy(onehot, logits):
    logits = tf.cast(logits, tf.float32)
    return tf.reduce_mean(
        tf.nn.softmax_cross_entropy_with_logits(labels=onehot, logits=logits)
    )


def _images_per_second(step, args):
    """Times up to args.steps calls of `step` (each blocks until done), stopping
    early after args.max_seconds.

    Returns:
      (images per wall-clock second, images per CPU second of this process).
      The second is what the step costs, whoever else shares the cores; on an
      idle machine it is about the first divided by the number of cores.
    """
    start, start_cpu = time.perf_counter(), time.process_time()
    steps = 0
    while steps < args.steps:
        step()
        steps += 1
        if time.perf_counter() - start > args.max_seconds:
            break
    images = args.batch_size * steps
    return (
        images / (time.perf_counter() - start),
        images / (time.process_time() - start_cpu),
    )


def _import_tf_slim():
    # TF-Slim 1.1.0 imports on TensorFlow 2.21 only with these two aliases
    # (see DESIGN.md); they change nothing for our code.
    import tf_keras.src.legacy_tf_layers
    from tensorflow.python.framework import ops

    sys.modules['tf_keras.legacy_tf_layers'] = tf_keras.src.legacy_tf_layers
    ops.Tensor = tf.Tensor
    import tf_slim

    return tf_slim


def _num_threads():
    return tf.config.threading.get_intra_op_parallelism_threads() or (
        os.cpu_count()
    )


def _print_table(rates):
    """Prints the median rates of every case, with ratios to the first row."""
    rows = list(dict.fromkeys(key[:2] for key in rates))  # in case order
    base = rows[0]
    vs = 'x ' + ' '.join(base).replace('float32', 'f32')
    print()
    print(
        '| implementation | dtype | train img/s | {0} | inference img/s | {0} '
        '| train img/CPU-s | {0} | inference img/CPU-s | {0} |'.format(vs)
    )
    print('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|')
    for row in rows:
        cells = []
        for which in (0, 1):  # wall clock, then CPU time
            for mode in ('train', 'inference'):
                rate = rates[row + (mode,)][which]
                cells += [
                    '{:.2f}'.format(rate),
                    '{:.2f}x'.format(rate / rates[base + (mode,)][which]),
                ]
        print('| {} | {} | {} |'.format(row[0], row[1], ' | '.join(cells)))


def _parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--model_name',
        default='inception_v3',
        choices=nets_factory.list_networks(),
    )
    parser.add_argument('--batch_size', type=int, default=16)
    parser.add_argument(
        '--image_size',
        type=int,
        default=None,
        help="default: the net's default image size",
    )
    parser.add_argument('--num_classes', type=int, default=1001)
    parser.add_argument('--weight_decay', type=float, default=0.00004)
    parser.add_argument(
        '--dtypes',
        default='float32,bfloat16',
        help='comma-separated, of float32 and bfloat16',
    )
    parser.add_argument(
        '--steps', type=int, default=4, help='timed steps per case and round'
    )
    parser.add_argument(
        '--rounds',
        type=int,
        default=3,
        help='interleaved rounds; the median is reported',
    )
    parser.add_argument(
        '--max_seconds',
        type=float,
        default=60,
        help='ends a timed run early (after >= 1 step)',
    )
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument(
        '--compare',
        action='store_true',
        help="also run TF-Slim's and Keras's version of the "
        'net, where they have one',
    )
    parser.add_argument(
        '--profile_dir',
        default=None,
        help='write a tf.profiler trace of 2 of our train steps',
    )
    args = parser.parse_args(argv)
    for dtype in args.dtypes.split(','):
        if dtype.strip() not in ('float32', 'bfloat16', ''):
            parser.error(
                '--dtypes: {!r} is not float32 or bfloat16'.format(dtype)
            )
    if (
        args.compare
        and args.model_name not in TF_SLIM_NETS
        and args.model_name not in KERAS_NETS
    ):
        parser.error(
            '--compare: neither TF-Slim nor Keras has {}; they have {}'.format(
                args.model_name,
                ', '.join(sorted(set(TF_SLIM_NETS) | set(KERAS_NETS))),
            )
        )
    return args


if __name__ == '__main__':
    main()
