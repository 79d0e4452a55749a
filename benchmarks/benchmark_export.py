"""Inference throughput of exported nets beside the in-library net.

One net with random weights (random batch-norm statistics too), exported to
a temporary folder, then timed on the same preprocessed float batch:

- library: `tf.function(model)(x, is_training=False)`, the net as trained.
- saved_model_variables: the loaded SavedModel's `preprocessed` signature,
  exported with --nofold_batch_norms (the net reads its variables).
- saved_model: the same, exported as by default (frozen, batch norm folded).
- graphdef: the frozen GraphDef, batch norm as exported (FusedBatchNorm).
- graphdef_folded: the frozen GraphDef with batch norm folded into the
  convolutions (what `--output_format=graphdef` writes).
- tflite: the float TFLite model (XNNPACK), when --tflite.

With --no_remapping the cases run a second time with Grappler's remapper off:
the remapper is the pass that fuses convolution + batch norm (+ ReLU) at run
time, so the gap says whether TF already does the folding's work.

    python benchmarks/benchmark_export.py --model_name=resnet_v1_50
    python benchmarks/benchmark_export.py --model_name=inception_v3 --no_remapping
"""

import argparse
import functools
import os
import sys
import tempfile
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '1')  # as the drivers

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from nets import nets_factory  # noqa: E402
from preprocessing import preprocessing_factory  # noqa: E402
from serving import exporters  # noqa: E402
from serving import inference  # noqa: E402


def main(argv=None):
    """Builds, exports and times the net; prints a table."""
    args = _parse_args(argv)
    spec = nets_factory.get_network_spec(args.model_name)
    size = args.image_size or spec.default_image_size
    model = nets_factory.get_network_fn(args.model_name, args.num_classes)
    images = (
        np.random.RandomState(0)
        .uniform(-1, 1, [args.batch_size, size, size, 3])
        .astype(np.float32)
    )
    model(tf.constant(images[:1]), is_training=False)
    _randomize_batch_norm(model)
    module = inference.InferenceModule(
        model,
        preprocessing_factory.get_preprocessing(args.model_name),
        size,
        [str(i) for i in range(args.num_classes)],
    )
    folder = tempfile.mkdtemp(prefix='benchmark-export-')
    exporters.save_saved_model(module, os.path.join(folder, 'saved_model'))
    exporters.save_saved_model(
        module, os.path.join(folder, 'saved_model_variables'), fold=False
    )
    plain, input_name, output_name = exporters.to_frozen_graphdef(
        module, fold=False
    )
    folded, _, _ = exporters.to_frozen_graphdef(module, fold=True)
    tflite = exporters.to_tflite(module) if args.tflite else None

    settings = [True] + ([False] if args.no_remapping else [])
    rates = {}
    for remapping in settings:
        tf.config.optimizer.set_experimental_options({'remapping': remapping})
        # Functions are optimized when first instantiated: make them anew.
        cases = _cases(
            model, folder, plain, folded, input_name, output_name, tflite
        )
        for name, fn in cases.items():
            reference = fn(images)
            np.testing.assert_allclose(
                reference, cases['library'](images), rtol=1e-3, atol=1e-5
            )
            for _ in range(args.warmup):
                fn(images)
        for _ in range(args.rounds):
            for name, fn in cases.items():
                rates.setdefault((name, remapping), []).append(
                    _images_per_second(fn, images, args)
                )
    _print_table(args, size, rates)


def _cases(model, folder, plain, folded, input_name, output_name, tflite):
    library = tf.function(
        lambda x: tf.nn.softmax(model(x, is_training=False)[0]), autograph=False
    )
    loaded = {
        name: tf.saved_model.load(os.path.join(folder, name))
        for name in ('saved_model_variables', 'saved_model')
    }
    cases = {'library': lambda x: library(x).numpy()}
    for name, saved in loaded.items():
        cases[name] = functools.partial(
            _run_signature, saved.signatures['preprocessed']
        )
    cases.update(
        {
            'graphdef': _graph_function(plain, input_name, output_name),
            'graphdef_folded': _graph_function(folded, input_name, output_name),
        }
    )
    if tflite is not None:
        cases['tflite'] = lambda x: exporters.run_tflite(
            tflite, x, batch_size=len(x)
        )['probabilities']
    cases['_loaded'] = loaded  # keeps the variables alive
    return {k: v for k, v in cases.items() if not k.startswith('_')}


def _run_signature(signature, x):
    return signature(input=x)['probabilities'].numpy()


def _graph_function(graph_def, input_name, output_name):
    def imported():
        tf.compat.v1.import_graph_def(graph_def, name='')

    wrapped = tf.compat.v1.wrap_function(imported, [])
    graph = wrapped.graph
    fn = wrapped.prune(
        graph.get_tensor_by_name(input_name + ':0'),
        graph.get_tensor_by_name(output_name + ':0'),
    )
    return lambda x: fn(tf.constant(x)).numpy()


def _randomize_batch_norm(model):
    rng = np.random.RandomState(1)
    for v in model.variables:
        if v.name.split(':')[0].endswith(('moving_variance', 'gamma')):
            v.assign(rng.uniform(0.5, 1.5, v.shape).astype(np.float32))
        elif v.name.split(':')[0].endswith(('moving_mean', 'beta')):
            v.assign(rng.normal(0, 0.1, v.shape).astype(np.float32))


def _images_per_second(fn, images, args):
    """(images per wall-clock second, per CPU second of this process)."""
    start, start_cpu = time.perf_counter(), time.process_time()
    for _ in range(args.steps):
        fn(images)
    count = args.steps * len(images)
    return (
        count / (time.perf_counter() - start),
        count / (time.process_time() - start_cpu),
    )


def _print_table(args, size, rates):
    print(
        '\n%s, batch %d at %dx%d, %d rounds of %d batches (median)'
        % (
            args.model_name,
            args.batch_size,
            size,
            size,
            args.rounds,
            args.steps,
        )
    )
    print('| case | remapper | img/s | x library | img/CPU-s | x library |')
    print('|---|---|---:|---:|---:|---:|')
    for (name, remapping), values in rates.items():
        wall, cpu = np.median(np.array(values), axis=0)
        base_wall, base_cpu = np.median(
            np.array(rates[('library', remapping)]), axis=0
        )
        print(
            '| %s | %s | %.2f | %.2fx | %.2f | %.2fx |'
            % (
                name,
                'on' if remapping else 'off',
                wall,
                wall / base_wall,
                cpu,
                cpu / base_cpu,
            )
        )


def _parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--model_name', default='resnet_v1_50')
    parser.add_argument('--batch_size', type=int, default=8)
    parser.add_argument('--image_size', type=int, default=None)
    parser.add_argument('--num_classes', type=int, default=1000)
    parser.add_argument('--steps', type=int, default=5)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--tflite', action='store_true')
    parser.add_argument(
        '--no_remapping',
        action='store_true',
        help='also run with Grappler\'s remapper off',
    )
    return parser.parse_args(argv)


if __name__ == '__main__':
    main()
