"""TensorBoard summaries written with TensorFlow alone (no `tensorboard`).

`tf.summary.scalar`, `image` and `histogram` live in the `tensorboard`
package, which TensorFlow 2.21 no longer installs. These three write the same
event records (tensor, plugin name and data class as TensorBoard's v2 ops) with
`tf.summary.write`, which TensorFlow has, so TensorBoard shows them as usual.
Use them inside `with writer.as_default(step=...)`, eagerly or traced.
`TrainSummaries` is what `learning.train` writes with them.
"""
import tensorflow as tf
from tensorflow.core.framework import summary_pb2

__all__ = ['scalar', 'image', 'histogram', 'TrainSummaries']

_DEFAULT_BUCKETS = 30


def scalar(name, value, step=None):
    """Writes a float scalar (TensorBoard's 'scalars' plugin)."""
    return tf.summary.write(
        name, tf.cast(tf.reshape(value, []), tf.float32), step=step,
        metadata=_metadata('scalars', summary_pb2.DATA_CLASS_SCALAR))


def image(name, images, step=None, max_outputs=3):
    """Writes up to `max_outputs` images, float in [0, 1] or uint8, [N,H,W,C]."""
    images = tf.convert_to_tensor(images)[:max_outputs]
    if images.dtype != tf.uint8:
        images = tf.image.convert_image_dtype(
            tf.clip_by_value(tf.cast(images, tf.float32), 0.0, 1.0), tf.uint8,
            saturate=True)
    shape = tf.shape(images)
    encoded = tf.map_fn(tf.image.encode_png, images, fn_output_signature=tf.string)
    tensor = tf.concat([[tf.strings.as_string(shape[2]),
                         tf.strings.as_string(shape[1])], encoded], axis=0)
    return tf.summary.write(
        name, tensor, step=step,
        metadata=_metadata('images', summary_pb2.DATA_CLASS_BLOB_SEQUENCE))


def histogram(name, values, step=None, buckets=_DEFAULT_BUCKETS):
    """Writes a histogram of `values` as TensorBoard's [buckets, 3] tensor."""
    return tf.summary.write(
        name, _buckets(values, buckets), step=step,
        metadata=_metadata('histograms', summary_pb2.DATA_CLASS_TENSOR))


class TrainSummaries:
    """What `learning.train` writes at each summary step.

    The loss terms and learning rate (scalars), the first input images, and
    histograms of every variable and of the net's end points (with their
    sparsity), from a forward pass on the step's batch with `call_kwargs`
    (inference mode, so it changes no batch-norm statistics). Every worker
    calls it at the same steps (its reads can be collective); `writer` is a
    no-op writer on all but the chief.
    """

    def __init__(self, model, strategy, optimizer, writer, call_kwargs,
                 compute_dtype, num_images, histograms):
        self._model, self._strategy, self._optimizer = model, strategy, optimizer
        self._writer, self._num_images = writer, num_images
        self._histograms = histograms

        def replica_forward(images):
            if compute_dtype is not None and images.dtype.is_floating:
                images = tf.cast(images, compute_dtype)
            outputs = model(images, **call_kwargs)
            end_points = (outputs[1] if isinstance(outputs, (tuple, list)) and
                          len(outputs) > 1 and isinstance(outputs[1], dict)
                          else {})
            return {k: tf.cast(v, tf.float32) for k, v in end_points.items()
                    if isinstance(v, tf.Tensor)}

        @tf.function(reduce_retracing=True, autograph=False)
        def forward(images):
            return strategy.run(replica_forward, args=(images,))
        self._forward = forward

    def __call__(self, batch, step, values, term_names):
        """Writes the summaries of `step`: `values` are the total loss and
        the terms named `term_names`; `batch` is the step's input."""
        images = self._strategy.experimental_local_results(batch[0])[0]
        names = ['total_loss'] + ['losses/' + n for n in term_names]
        end_points = self._forward(batch[0]) if self._histograms else {}
        with self._writer.as_default(step=step):
            for name, value in zip(names, values):
                scalar(name, float(value))
            rate = tf.convert_to_tensor(self._optimizer.learning_rate)
            scalar('learning_rate', float(rate))
            if self._num_images and images.shape.rank == 4:
                shown = tf.cast(images[:self._num_images], tf.float32)
                low = tf.reduce_min(shown, axis=[1, 2, 3], keepdims=True)
                high = tf.reduce_max(shown, axis=[1, 2, 3], keepdims=True)
                image('images', tf.math.divide_no_nan(
                    shown - low, high - low), max_outputs=self._num_images)
            if self._histograms:
                for var in self._model.variables:
                    histogram(var.name.split(':')[0], var)
                for name, value in end_points.items():
                    value = self._strategy.experimental_local_results(value)[0]
                    histogram('activations/' + name, value)
                    scalar('sparsity/' + name, tf.nn.zero_fraction(value))
        self._writer.flush()


def _metadata(plugin, data_class):
    return summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin),
        data_class=data_class)


def _buckets(values, bucket_count):
    """`[left, right, count]` rows over equal-width buckets from min to max."""
    values = tf.reshape(tf.cast(values, tf.float64), [-1])
    if values.shape[0] == 0:
        return tf.zeros([0, 3], tf.float64)
    low, high = tf.reduce_min(values), tf.reduce_max(values)
    # All values equal: one bucket around them, as TensorBoard does.
    width = tf.where(high > low, (high - low) / bucket_count, 1.0)
    count = tf.where(high > low, bucket_count, 1)
    index = tf.clip_by_value(tf.cast(tf.floor((values - low) / width), tf.int32),
                             0, count - 1)
    counts = tf.cast(tf.math.bincount(index, minlength=count, maxlength=count),
                     tf.float64)
    lefts = low + width * tf.cast(tf.range(count), tf.float64)
    return tf.stack([lefts, lefts + width, counts], axis=1)
