"""Classification losses as TF-Slim computes them, returned as values.

There is no LOSSES collection: each function returns its scalar loss, and
`total_loss` adds the ones it is given to a model's regularization losses.
Losses are computed in float32 whatever the logits' dtype.
"""

import tensorflow as tf

__all__ = [
    'softmax_cross_entropy',
    'sparse_softmax_cross_entropy',
    'compute_weighted_loss',
    'total_loss',
]


def softmax_cross_entropy(
    logits, onehot_labels, weights=1.0, label_smoothing=0, scope=None
):
    """Weighted mean softmax cross entropy of `[batch, classes]` logits.

    With `label_smoothing` s the targets become
    `onehot * (1 - s) + s / num_classes`. `weights` is a scalar or a
    `[batch]` tensor; the mean is over the examples of nonzero weight.

    Raises:
      ValueError: if logits and labels have different static shapes, or
        `label_smoothing` is outside [0, 1].
    """
    with tf.name_scope(scope or 'softmax_cross_entropy_loss'):
        logits = tf.cast(logits, tf.float32)
        labels = tf.cast(onehot_labels, tf.float32)
        if not logits.shape.is_compatible_with(labels.shape):
            raise ValueError(
                'softmax_cross_entropy: logits shape %s and onehot_labels shape '
                '%s differ' % (logits.shape, labels.shape)
            )
        if not isinstance(label_smoothing, tf.Tensor) and not (
            0 <= label_smoothing <= 1
        ):
            raise ValueError(
                'softmax_cross_entropy: label_smoothing must be in '
                '[0, 1], got %r' % (label_smoothing,)
            )
        if isinstance(label_smoothing, tf.Tensor) or label_smoothing > 0:
            num_classes = tf.cast(tf.shape(labels)[-1], tf.float32)
            labels = (
                labels * (1.0 - label_smoothing) + label_smoothing / num_classes
            )
        losses = tf.nn.softmax_cross_entropy_with_logits(
            labels=labels, logits=logits
        )
        return compute_weighted_loss(losses, weights)


def sparse_softmax_cross_entropy(logits, labels, weights=1.0, scope=None):
    """Weighted mean cross entropy for integer class `labels` of shape [batch]."""
    with tf.name_scope(scope or 'sparse_softmax_cross_entropy_loss'):
        logits = tf.cast(logits, tf.float32)
        labels = tf.convert_to_tensor(labels)
        if labels.shape.rank == logits.shape.rank:
            labels = tf.squeeze(labels, axis=-1)
        losses = tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.cast(labels, tf.int64), logits=logits
        )
        return compute_weighted_loss(losses, weights)


def compute_weighted_loss(losses, weights=1.0):
    """`sum(losses * weights) / count(nonzero broadcast weights)` (0 if none)."""
    losses = tf.cast(losses, tf.float32)
    weights = tf.cast(weights, tf.float32)
    while (
        weights.shape.rank is not None
        and losses.shape.rank is not None
        and weights.shape.rank > losses.shape.rank
        and weights.shape[-1] == 1
    ):
        weights = tf.squeeze(weights, axis=-1)
    weights = tf.broadcast_to(weights, tf.shape(losses))
    total = tf.reduce_sum(losses * weights)
    present = tf.reduce_sum(tf.cast(tf.not_equal(weights, 0.0), tf.float32))
    return tf.math.divide_no_nan(total, present)


def total_loss(losses, regularization_losses=()):
    """The sum of `losses` and `regularization_losses` (e.g. `model.losses`).

    Raises:
      ValueError: if there is nothing to add.
    """
    terms = [
        tf.cast(l, tf.float32)
        for l in list(losses) + list(regularization_losses)
    ]
    if not terms:
        raise ValueError('total_loss: no losses given')
    return tf.add_n(terms)
