"""How closely each net that TF-Slim ships agrees with it, restored by name.

For each net of `tf_slim.nets` (AlexNet, OverFeat, the VGGs, Inception
v1-v3, the ResNets v1 and v2): TF-Slim's version is built in a TF1 graph at
the net's default size with random weights, batch-norm statistics and
biases, and saved; ours is built through `nets_factory`, restored from that
checkpoint by name, and run on the same images in a traced inference call.
Printed per net: the parameters, and max|ours - TF-Slim| / max|TF-Slim| of
the logits and the worst of the end points both have. The tests hold every
one to 1e-4 at small sizes; this gives the figures at the default sizes.

    python benchmarks/parity.py
    python benchmarks/parity.py --model_names=vgg_16,resnet_v1_50
"""

import argparse
import importlib
import os
import sys
import tempfile

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '1')

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'tests'))
sys.path.insert(0, os.path.join(ROOT, 'benchmarks'))

import benchmark_nets  # noqa: E402
import net_oracle  # noqa: E402
import slim  # noqa: E402
from nets import nets_factory  # noqa: E402


def main(argv=None):
    args = _parse_args(argv)
    names = (
        args.model_names.split(',')
        if args.model_names
        else list(benchmark_nets.TF_SLIM_NETS)
    )
    print('| net | size | params | logits error | worst end point | error |')
    print('|---|---:|---:|---:|---|---:|')
    with tempfile.TemporaryDirectory() as folder:
        for name in names:
            row = compare(
                name, os.path.join(folder, name, 'model.ckpt'), args.batch_size
            )
            print(
                '| {} | {} | {:,} | {:.1e} | {} | {:.1e} |'.format(*row),
                flush=True,
            )


def compare(name, prefix, batch_size):
    """(name, size, parameters, logits error, worst end point, its error)."""
    tf_slim = benchmark_nets._import_tf_slim()
    spec = nets_factory.get_network_spec(name)
    size = spec.default_image_size
    classes = spec.num_classes or 1000
    module, fn, scope_fn = benchmark_nets.TF_SLIM_NETS[name]
    module = importlib.import_module('tf_slim.nets.' + module)
    images = net_oracle.random_images(size, batch=batch_size)

    def build(inputs):
        with tf_slim.arg_scope(getattr(module, scope_fn)()):
            with tf.compat.v1.variable_scope(
                '', custom_getter=net_oracle.he_uniform_weights
            ):
                logits, end_points = getattr(module, fn)(
                    inputs, num_classes=classes, is_training=False
                )
        return dict(end_points, logits=logits)

    _, theirs, _ = net_oracle.run_graph_net(
        build, images, prefix, randomize_statistics=True
    )
    model = nets_factory.get_network_fn(name, classes, is_training=False)
    model.build(tf.TensorSpec(images.shape), is_training=False)
    slim.assign_from_checkpoint(model.variables, prefix)
    logits, end_points = tf.function(lambda x: model(x, is_training=False))(
        tf.constant(images)
    )
    ours = dict(end_points, logits=logits)
    # TF-Slim's ResNets give the logits [batch, 1, 1, classes] in their end
    # points; the values are compared, squeezed alike.
    errors = {
        key: net_oracle.relative_error(
            np.squeeze(ours[key]), np.squeeze(theirs[key])
        )
        for key in theirs
        if key in ours and np.size(ours[key]) == np.size(theirs[key])
    }
    worst = max(errors, key=errors.get)
    params = sum(int(np.prod(v.shape)) for v in model.trainable_variables)
    return (name, size, params, errors['logits'], worst, errors[worst])


def _parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--model_names',
        default='',
        help='comma-separated; default: every net tf_slim ships',
    )
    parser.add_argument('--batch_size', type=int, default=2)
    return parser.parse_args(argv)


if __name__ == '__main__':
    main()
