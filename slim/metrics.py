"""Classification metrics: one-batch values and streaming (running) metrics.

TF-Slim's `streaming_accuracy` and `streaming_recall_at_k` kept their running
totals in local variables updated by an `update_op`. Here a streaming metric is
a small `tf.Module` with two variables (a weighted sum and a weight total) and
three methods, usable eagerly or inside a `tf.function`:

```python
metrics = slim.metrics.classification_metrics()   # {'Accuracy', 'Recall_5'}
for images, labels in dataset:
    logits = model(images)
    for metric in metrics.values():
        metric.update(labels, logits)
{name: float(m.result()) for name, m in metrics.items()}
```
"""

import tensorflow as tf

__all__ = [
    'accuracy',
    'recall_at_k',
    'StreamingMean',
    'Accuracy',
    'RecallAtK',
    'classification_metrics',
]


def accuracy(labels, logits, weights=None):
    """The (weighted) fraction of examples whose top-1 class is the label.

    Args:
      labels: int labels, shape [batch] (or [batch, 1]).
      logits: scores, shape [batch, num_classes]; or predicted class ids,
        shape [batch], when rank 1.
      weights: optional [batch] weights.
    """
    correct, weights = _top_k_hits(labels, logits, 1, weights)
    return tf.math.divide_no_nan(
        tf.reduce_sum(correct * weights), tf.reduce_sum(weights)
    )


def recall_at_k(labels, logits, k=5, weights=None):
    """The (weighted) fraction of examples whose label is among the top `k`."""
    hits, weights = _top_k_hits(labels, logits, k, weights)
    return tf.math.divide_no_nan(
        tf.reduce_sum(hits * weights), tf.reduce_sum(weights)
    )


class StreamingMean(tf.Module):
    """A running weighted mean of per-example values."""

    def __init__(self, name):
        super().__init__(name=name)
        self.metric_name = name
        # Plain local variables: evaluation runs on one device, and they are
        # not saved with the model (nothing holds them in a checkpoint).
        self.total = tf.Variable(
            0.0, dtype=tf.float64, trainable=False, name='total'
        )
        self.count = tf.Variable(
            0.0, dtype=tf.float64, trainable=False, name='count'
        )

    def update_values(self, values, weights=None):
        """Adds a batch of per-example values (and optional weights)."""
        values = tf.cast(tf.reshape(values, [-1]), tf.float64)
        if weights is None:
            weights = tf.ones_like(values)
        weights = tf.cast(tf.reshape(weights, [-1]), tf.float64)
        self.total.assign_add(tf.reduce_sum(values * weights))
        self.count.assign_add(tf.reduce_sum(weights))

    def result(self):
        """The mean so far (0 before any update), as float32."""
        return tf.cast(
            tf.math.divide_no_nan(self.total, self.count), tf.float32
        )

    def reset(self):
        self.total.assign(0.0)
        self.count.assign(0.0)


class Accuracy(StreamingMean):
    """Streaming top-1 accuracy (TF-Slim's `streaming_accuracy`)."""

    def __init__(self, name='Accuracy'):
        super().__init__(name)

    def update(self, labels, logits, weights=None):
        hits, w = _top_k_hits(labels, logits, 1, weights)
        self.update_values(hits, w)


class RecallAtK(StreamingMean):
    """Streaming recall at k (TF-Slim's `streaming_recall_at_k`)."""

    def __init__(self, k=5, name=None):
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(
                'RecallAtK: k must be a positive int, got %r' % (k,)
            )
        super().__init__(name or 'Recall_%d' % k)
        self.k = k

    def update(self, labels, logits, weights=None):
        hits, w = _top_k_hits(labels, logits, self.k, weights)
        self.update_values(hits, w)


def classification_metrics(k=5):
    """TF-Slim eval's metric map: `{'Accuracy': ..., 'Recall_<k>': ...}`."""
    recall = RecallAtK(k)
    return {'Accuracy': Accuracy(), recall.metric_name: recall}


def _top_k_hits(labels, logits, k, weights):
    labels = tf.cast(tf.reshape(labels, [-1]), tf.int64)
    logits = tf.convert_to_tensor(logits)
    if logits.shape.rank == 1:
        if k != 1:
            raise ValueError(
                'recall at k=%d needs [batch, classes] logits, '
                'got predicted ids of shape %s' % (k, logits.shape)
            )
        hits = tf.equal(tf.cast(logits, tf.int64), labels)
    else:
        # in_top_k breaks ties in favour of the label; top-1 with argmax (as
        # TF-Slim's accuracy) does not, so top-1 uses argmax.
        logits = tf.cast(logits, tf.float32)
        if k == 1:
            hits = tf.equal(tf.argmax(logits, axis=-1), labels)
        else:
            k = min(k, int(logits.shape[-1]) if logits.shape[-1] else k)
            hits = tf.math.in_top_k(labels, logits, k)
    hits = tf.cast(hits, tf.float32)
    if weights is None:
        weights = tf.ones_like(hits)
    return hits, tf.cast(tf.reshape(weights, [-1]), tf.float32)
