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
# Examples per replica whose end points `TrainSummaries` summarizes.
_ACTIVATION_EXAMPLES = 8


def scalar(name, value, step=None):
    """Writes a float scalar (TensorBoard's 'scalars' plugin)."""
    return tf.summary.write(
        name,
        tf.cast(tf.reshape(value, []), tf.float32),
        step=step,
        metadata=_metadata('scalars', summary_pb2.DATA_CLASS_SCALAR),
    )


def image(name, images, step=None, max_outputs=3):
    """Writes up to `max_outputs` images, float in [0, 1] or uint8, [N,H,W,C]."""
    images = tf.convert_to_tensor(images)[:max_outputs]
    if images.dtype != tf.uint8:
        images = tf.image.convert_image_dtype(
            tf.clip_by_value(tf.cast(images, tf.float32), 0.0, 1.0),
            tf.uint8,
            saturate=True,
        )
    shape = tf.shape(images)
    encoded = tf.map_fn(
        tf.image.encode_png, images, fn_output_signature=tf.string
    )
    tensor = tf.concat(
        [
            [tf.strings.as_string(shape[2]), tf.strings.as_string(shape[1])],
            encoded,
        ],
        axis=0,
    )
    return tf.summary.write(
        name,
        tensor,
        step=step,
        metadata=_metadata('images', summary_pb2.DATA_CLASS_BLOB_SEQUENCE),
    )


def histogram(name, values, step=None, buckets=_DEFAULT_BUCKETS):
    """Writes a histogram of `values` as TensorBoard's [buckets, 3] tensor."""
    return tf.summary.write(
        name,
        _buckets(values, buckets),
        step=step,
        metadata=_metadata('histograms', summary_pb2.DATA_CLASS_TENSOR),
    )


class TrainSummaries:
    """What `learning.train` writes at each summary step.

    The loss terms and learning rate (scalars), the first input images, and
    histograms of every variable and of the net's end points (with their
    sparsity), from a forward pass on the first 8 examples of each replica's
    batch with `call_kwargs` (inference mode, so it changes no batch-norm
    statistics). Every worker calls it at the same steps (its reads can be
    collective); `writer` is a no-op writer on all but the chief.

    The scalars, images and end points are written by one compiled
    function (op by op, LeNet's took 0.29 s, four training steps' worth);
    the variables' histograms by one compiled bucket count per variable,
    since compiling them all traces for 20 s of CPU on Inception-v3's 388
    variables. LeNet's summaries then cost ~0.04 s of CPU, Inception-v3's
    (299x299, batch 8) ~2 s, with its inference pass; 22 kB and 1.2 MB of
    event file.
    """

    def __init__(
        self,
        model,
        strategy,
        optimizer,
        writer,
        call_kwargs,
        compute_dtype,
        num_images,
        histograms,
    ):
        self._writer = writer
        self._variables = (
            [
                (v.name.split(':')[0], v)
                for v in model.variables
                if v.shape.num_elements() != 0
            ]
            if histograms
            else []
        )

        def replica_forward(images):
            # Activation statistics of a few examples show the same; the
            # pass over a whole batch cost LeNet a third of a step.
            images = images[:_ACTIVATION_EXAMPLES]
            if compute_dtype is not None and images.dtype.is_floating:
                images = tf.cast(images, compute_dtype)
            outputs = model(images, **call_kwargs)
            end_points = (
                outputs[1]
                if isinstance(outputs, (tuple, list))
                and len(outputs) > 1
                and isinstance(outputs[1], dict)
                else {}
            )
            return {
                k: tf.cast(v, tf.float32)
                for k, v in end_points.items()
                if isinstance(v, tf.Tensor)
            }

        # Without autograph, as the train step: the net has no Python
        # control flow on tensors. `names` is a tuple: one trace per run.
        @tf.function(reduce_retracing=True, autograph=False)
        def write(batch_images, step, values, names):
            images = strategy.experimental_local_results(batch_images)[0]
            end_points = (
                strategy.run(replica_forward, args=(batch_images,))
                if histograms
                else {}
            )
            with writer.as_default(step=step):
                for i, name in enumerate(names):
                    scalar(name, values[i])
                scalar('learning_rate', optimizer.learning_rate)
                if num_images and images.shape.rank == 4:
                    shown = tf.cast(images[:num_images], tf.float32)
                    low = tf.reduce_min(shown, axis=[1, 2, 3], keepdims=True)
                    high = tf.reduce_max(shown, axis=[1, 2, 3], keepdims=True)
                    image(
                        'images',
                        tf.math.divide_no_nan(shown - low, high - low),
                        max_outputs=num_images,
                    )
                if histograms:
                    for name, value in end_points.items():
                        value = strategy.experimental_local_results(value)[0]
                        histogram('activations/' + name, value)
                        scalar('sparsity/' + name, tf.nn.zero_fraction(value))

        self._write = write

    def __call__(self, batch, step, values, term_names):
        """Writes the summaries of `step`: `values` are the total loss and
        the terms named `term_names`; `batch` is the step's input."""
        names = tuple(['total_loss'] + ['losses/' + n for n in term_names])
        step = tf.constant(step, tf.int64)
        self._write(
            batch[0],
            step,
            tf.constant(list(values)[: len(names)], tf.float32),
            names,
        )
        with self._writer.as_default(step=step):
            for name, var in self._variables:
                if var.dtype != tf.float32:
                    var = tf.cast(var, tf.float32)
                tf.summary.write(
                    name, _variable_buckets(var), metadata=_HISTOGRAM_METADATA
                )
        self._writer.flush()


def _metadata(plugin, data_class):
    return summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin),
        data_class=data_class,
    )


_HISTOGRAM_METADATA = _metadata('histograms', summary_pb2.DATA_CLASS_TENSOR)


def _buckets(values, bucket_count):
    """`[left, right, count]` rows over equal-width buckets from min to max."""
    # Counted in float32 by histogram_fixed_width's kernel: over LeNet's 3.2M
    # fc3 weights it is 5x faster than float64 floor + bincount.
    values = tf.reshape(tf.cast(values, tf.float32), [-1])
    if values.shape[0] == 0:
        return tf.zeros([0, 3], tf.float64)
    low, high = tf.reduce_min(values), tf.reduce_max(values)
    # All values equal: one bucket around them, as TensorBoard does.
    width = tf.where(high > low, (high - low) / bucket_count, 1.0)
    count = tf.where(high > low, bucket_count, 1)
    counts = tf.cast(
        tf.histogram_fixed_width(
            values,
            tf.stack([low, low + width * tf.cast(count, tf.float32)]),
            nbins=count,
        ),
        tf.float64,
    )
    lefts = tf.cast(low, tf.float64) + tf.cast(width, tf.float64) * tf.cast(
        tf.range(count), tf.float64
    )
    return tf.stack([lefts, lefts + tf.cast(width, tf.float64), counts], axis=1)


@tf.function(input_signature=[tf.TensorSpec(None, tf.float32)], autograph=False)
def _variable_buckets(values):
    """`_buckets` of a non-empty float32 tensor of any shape, traced once."""
    return _buckets(values, _DEFAULT_BUCKETS)
