"""Weight regularizers with TF-Slim's definitions.

Each returns `fn(weights) -> scalar loss` (or None when its scale is 0);
layers add the loss to the running model's `losses`.
"""

import numbers

import tensorflow as tf

__all__ = [
    'l1_regularizer',
    'l2_regularizer',
    'l1_l2_regularizer',
    'sum_regularizer',
    'apply_regularization',
]


def l1_regularizer(scale, scope=None):
    """`scale * sum(|w|)`.

    Raises:
      ValueError: if `scale` is negative or not a number.
    """
    scale = _check_scale('l1_regularizer', scale)
    if scale == 0.0:
        return lambda _: None

    def l1(weights):
        with tf.name_scope(scope or 'l1_regularizer'):
            w = tf.cast(weights, tf.float32)
            return tf.multiply(scale, tf.reduce_sum(tf.abs(w)), name='value')

    return l1


def l2_regularizer(scale, scope=None):
    """`scale * sum(w ** 2) / 2`, TF-Slim's (and `tf.nn.l2_loss`'s) half.

    Raises:
      ValueError: if `scale` is negative or not a number.
    """
    scale = _check_scale('l2_regularizer', scale)
    if scale == 0.0:
        return lambda _: None

    def l2(weights):
        with tf.name_scope(scope or 'l2_regularizer'):
            w = tf.cast(weights, tf.float32)
            return tf.multiply(scale, tf.nn.l2_loss(w), name='value')

    return l2


def l1_l2_regularizer(scale_l1=1.0, scale_l2=1.0, scope=None):
    """The sum of an l1 and an l2 regularizer.

    Raises:
      ValueError: if a scale is negative or not a number.
    """
    _check_scale('l1_l2_regularizer', scale_l1)
    _check_scale('l1_l2_regularizer', scale_l2)
    if scale_l1 == 0.0 and scale_l2 == 0.0:
        return lambda _: None
    return sum_regularizer(
        [l1_regularizer(scale_l1), l2_regularizer(scale_l2)],
        scope=scope or 'l1_l2_regularizer',
    )


def sum_regularizer(regularizer_list, scope=None):
    """A regularizer that adds up the others' losses."""

    def _sum(weights):
        with tf.name_scope(scope or 'sum_regularizer'):
            losses = [r(weights) for r in regularizer_list]
            losses = [l for l in losses if l is not None]
            return tf.add_n(losses) if losses else None

    return _sum


def apply_regularization(regularizer, weights_list):
    """The summed loss of `regularizer` over `weights_list`."""
    losses = [regularizer(w) for w in weights_list]
    losses = [l for l in losses if l is not None]
    return tf.add_n(losses) if losses else tf.constant(0.0)


def _check_scale(what, scale):
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real):
        raise ValueError('%s: scale must be a number, got %r' % (what, scale))
    if scale < 0.0:
        raise ValueError('%s: scale must be >= 0, got %g' % (what, scale))
    return float(scale)
