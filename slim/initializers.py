"""Weight initializers with TF-Slim's names and meanings.

Each returns a callable `init(shape, dtype=tf.float32, partition_info=None)`,
which is also the interface a layer accepts from Keras or `tf.initializers`.
"""

import math

import tensorflow as tf

__all__ = [
    'xavier_initializer',
    'variance_scaling_initializer',
    'truncated_normal_initializer',
    'zeros_initializer',
    'ones_initializer',
    'constant_initializer',
]

_MODES = ('FAN_IN', 'FAN_OUT', 'FAN_AVG')


def xavier_initializer(uniform=True, seed=None, dtype=tf.float32):
    """Glorot/Xavier: `variance_scaling_initializer(1.0, 'FAN_AVG', uniform)`."""
    return variance_scaling_initializer(
        factor=1.0, mode='FAN_AVG', uniform=uniform, seed=seed, dtype=dtype
    )


def variance_scaling_initializer(
    factor=2.0, mode='FAN_IN', uniform=False, seed=None, dtype=tf.float32
):
    """Samples with standard deviation `sqrt(factor / n)`, as TF-Slim does.

    `n` is the fan-in, the fan-out or their average (`mode`), counting the
    receptive field of a convolution. Uniform samples lie in
    `[-sqrt(3 * factor / n), sqrt(3 * factor / n)]`; otherwise a truncated
    normal with stddev `sqrt(1.3 * factor / n)` (truncation at two standard
    deviations shrinks it back to about `sqrt(factor / n)`).

    Raises:
      TypeError: if `mode` is not one of 'FAN_IN', 'FAN_OUT', 'FAN_AVG', or
        `dtype` is not a floating type.
    """
    if mode not in _MODES:
        raise TypeError(
            'variance_scaling_initializer: mode must be one of %s, '
            'got %r' % (list(_MODES), mode)
        )
    default_dtype = tf.as_dtype(dtype)
    if not default_dtype.is_floating:
        raise TypeError(
            'variance_scaling_initializer: dtype must be a '
            'floating type, got %s' % default_dtype.name
        )

    def _initializer(shape, dtype=default_dtype, partition_info=None):
        del partition_info
        dtype = tf.as_dtype(dtype)
        shape = [int(d) for d in shape]
        if shape:
            fan_in = float(shape[-2]) if len(shape) > 1 else float(shape[-1])
            fan_out = float(shape[-1])
        else:
            fan_in = fan_out = 1.0
        for dim in shape[:-2]:
            fan_in *= dim
            fan_out *= dim
        n = {
            'FAN_IN': fan_in,
            'FAN_OUT': fan_out,
            'FAN_AVG': (fan_in + fan_out) / 2.0,
        }[mode]
        if uniform:
            limit = math.sqrt(3.0 * factor / n)
            return tf.random.uniform(shape, -limit, limit, dtype, seed=seed)
        return tf.random.truncated_normal(
            shape, 0.0, math.sqrt(1.3 * factor / n), dtype, seed=seed
        )

    return _initializer


def truncated_normal_initializer(
    mean=0.0, stddev=1.0, seed=None, dtype=tf.float32
):
    """Normal samples, redrawn when more than two stddevs from the mean."""
    default_dtype = tf.as_dtype(dtype)

    def _initializer(shape, dtype=default_dtype, partition_info=None):
        del partition_info
        return tf.random.truncated_normal(
            shape, mean, stddev, tf.as_dtype(dtype), seed=seed
        )

    return _initializer


def zeros_initializer():
    return constant_initializer(0.0)


def ones_initializer():
    return constant_initializer(1.0)


def constant_initializer(value=0.0):
    """Fills with `value` (a scalar, or an array of the variable's shape)."""

    def _initializer(shape, dtype=tf.float32, partition_info=None):
        del partition_info
        return tf.broadcast_to(tf.cast(value, tf.as_dtype(dtype)), shape)

    return _initializer
