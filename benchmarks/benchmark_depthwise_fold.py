"""Inference of a MobileNet with and without the library's folding of batch
norm into depthwise convolutions, beside Keras's application.

One process, one batch (random images, random batch-norm statistics), three
`tf.function`s timed in interleaved rounds: `plain` (the batch norm after
each depthwise convolution runs as written; the fold switched off),
`folded` (the library as it is), `keras` (the Keras application, random
weights). Prints the medians and their ratios.

    python benchmarks/benchmark_depthwise_fold.py --model_name=mobilenet_v1
"""

import argparse
import os
import sys
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '1')  # as the drivers

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from nets import nets_factory  # noqa: E402
from slim.layers import norm  # noqa: E402

KERAS = {
    'mobilenet_v1': 'MobileNet',
    'mobilenet_v2': 'MobileNetV2',
    'mobilenet_v3_large': 'MobileNetV3Large',
}


def main(argv=None):
    args = _parse_args(argv)
    import keras

    size = 224
    x = tf.constant(
        np.random.RandomState(0)
        .uniform(-1, 1, [args.batch_size, size, size, 3])
        .astype(np.float32)
    )
    model = nets_factory.get_network_fn(args.model_name, 1001)
    model(x[:1])
    rng = np.random.RandomState(1)
    for v in model.variables:
        name = v.name.split(':')[0]
        if name.endswith(('moving_variance', 'gamma')):
            v.assign(rng.uniform(0.5, 1.5, v.shape).astype(np.float32))
        elif name.endswith(('moving_mean', 'beta')):
            v.assign(rng.normal(0, 0.1, v.shape).astype(np.float32))
    folded = tf.function(lambda x: model(x, is_training=False)[0])
    folded(x)
    fold = norm._fold_into_depthwise
    norm._fold_into_depthwise = lambda *args: None
    try:
        plain = tf.function(lambda x: model(x, is_training=False)[0])
        plain(x)  # traced now, without the fold
    finally:
        norm._fold_into_depthwise = fold
    np.testing.assert_allclose(plain(x), folded(x), rtol=1e-3, atol=1e-5)
    reference = getattr(keras.applications, KERAS[args.model_name])(
        weights=None, input_shape=(size, size, 3), classes=1001
    )
    keras_fn = tf.function(lambda x: reference(x, training=False))
    keras_fn(x)
    cases = {'plain': plain, 'folded': folded, 'keras': keras_fn}
    rates = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, fn in cases.items():
            fn(x).numpy()
            start = time.perf_counter()
            for _ in range(args.steps):
                fn(x).numpy()
            rates[name].append(
                args.steps * args.batch_size / (time.perf_counter() - start)
            )
    median = {name: float(np.median(r)) for name, r in rates.items()}
    print(
        '%s inference, batch %d at %d, img/s (median of %d rounds): %s; '
        'folded/plain %.2fx, folded/keras %.2fx, plain/keras %.2fx; '
        'load %.2f'
        % (
            args.model_name,
            args.batch_size,
            size,
            args.rounds,
            ', '.join('%s %.2f' % kv for kv in median.items()),
            median['folded'] / median['plain'],
            median['folded'] / median['keras'],
            median['plain'] / median['keras'],
            os.getloadavg()[0],
        )
    )


def _parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--model_name', default='mobilenet_v1', choices=sorted(KERAS)
    )
    parser.add_argument('--batch_size', type=int, default=8)
    parser.add_argument('--steps', type=int, default=4)
    parser.add_argument('--rounds', type=int, default=5)
    return parser.parse_args(argv)


if __name__ == '__main__':
    main()
