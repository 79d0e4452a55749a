"""A restored net as inference functions: encoded images in, classes out.

```python
module = inference.build('lenet', '/tmp/tfmodel', num_classes=10,
                         label_names=['0', '1', ..., '9'])
out = module.serve_images(tf.constant([open('7.jpg', 'rb').read()]))
out['top_k_names']           # [[b'7', b'1', ...]]
```

`InferenceModule` holds the net (a `slim.Model` with restored variables),
its evaluation preprocessing, its label names and three functions:

- `serve_images(images)`: a batch of encoded images (JPEG, PNG, GIF, BMP
  bytes; for a video net `[batch, frames]` of them) decoded and preprocessed
  as the evaluation pipeline does, then classified. An image that does not
  decode fails the call with an error naming its index.
- `serve_preprocessed(input)`: a float batch already preprocessed (TF-Slim's
  `input` placeholder).
- `predict(input)`: probabilities and logits only, for TFLite and the frozen
  GraphDef (no string outputs).

The first two return `probabilities`, `logits`, `top_k_classes`,
`top_k_probabilities` and `top_k_names` (the label names, embedded in the
function as constants, so an export needs no labels file beside it).
"""

import os
import re

import tensorflow as tf

from slim import moving_averages
from slim import train_dirs
from slim import training_utils
from slim import variables as _variables
from slim.errors import ArgumentError

__all__ = [
    'InferenceModule',
    'build',
    'resolve_checkpoint',
    'restore',
    'label_names_for',
    'decode_image',
    'DEFAULT_TOP_K',
    'INPUT_NAME',
    'OUTPUT_KEYS',
]

DEFAULT_TOP_K = 5
# TF-Slim's export named its placeholder so; old tooling looks for it.
INPUT_NAME = 'input'
OUTPUT_KEYS = (
    'probabilities',
    'logits',
    'top_k_classes',
    'top_k_probabilities',
    'top_k_names',
)

_DATA_FILE = re.compile(r'\.(index|data-\d+-of-\d+)$')


class InferenceModule(tf.Module):
    """A built, restored net with its preprocessing, as serving functions.

    Args:
      model: a `slim.Model` whose variables hold the weights to serve.
      preprocess_fn: the evaluation preprocessing, `fn(image, height, width)`
        for one decoded uint8 image.
      image_size: the height and width the net is fed.
      label_names: the name of each class id, `len(label_names)` classes.
      channels: the channels of the preprocessed images (1 with grayscale).
      num_frames: the frame count of a video net, None for an image net.
      batch_size: a fixed batch size for the signatures, None for any.
      top_k: how many classes the top-k outputs list.
    """

    def __init__(
        self,
        model,
        preprocess_fn,
        image_size,
        label_names,
        channels=3,
        num_frames=None,
        batch_size=None,
        top_k=DEFAULT_TOP_K,
    ):
        super().__init__(name='inference')
        self.model = model
        self.image_size = int(image_size)
        self.channels = int(channels)
        self.num_frames = num_frames
        self.batch_size = batch_size
        self.label_names = [str(n) for n in label_names]
        self.top_k = min(int(top_k), len(self.label_names))
        self._preprocess_fn = preprocess_fn
        self.tf_slim_output_name = None  # set by the first trace of predict
        frames = [num_frames] if num_frames else []
        self.input_shape = (
            [batch_size]
            + frames
            + [self.image_size, self.image_size, self.channels]
        )
        float_spec = tf.TensorSpec(
            self.input_shape, tf.float32, name=INPUT_NAME
        )
        bytes_spec = tf.TensorSpec(
            [batch_size] + frames, tf.string, name='images'
        )
        # No autograph: the net and the DSL are plain Python over tensors.
        self.serve_images = tf.function(
            self._serve_images, input_signature=[bytes_spec], autograph=False
        )
        self.serve_preprocessed = tf.function(
            self._serve_preprocessed,
            input_signature=[float_spec],
            autograph=False,
        )
        # Held outside the module's attributes: a SavedModel would otherwise
        # trace and store it too, one more copy of the net for nothing.
        self._unsaved = _Unsaved(
            predict=tf.function(
                self._predict, input_signature=[float_spec], autograph=False
            )
        )

    @property
    def predict(self):
        """`predict(input)`: probabilities and logits of a preprocessed
        float batch (a `tf.function`; for TFLite and the frozen GraphDef)."""
        return self._unsaved.predict

    def preprocess(self, images):
        """Decodes and preprocesses a batch of encoded images (see
        `serve_images`); returns the float batch the net takes."""
        images = tf.convert_to_tensor(images, tf.string)
        flat = tf.reshape(images, [-1])
        bad = _first_undecodable(flat)
        if self.num_frames:
            where = tf.strings.format(
                'images[{}, {}]',
                (bad // self.num_frames, bad % self.num_frames),
            )
        else:
            where = tf.strings.format('images[{}]', bad)
        message = tf.strings.join(
            [where, ' is not a decodable JPEG, PNG, GIF or BMP image']
        )
        check = tf.debugging.Assert(bad < 0, [message])
        size = self.image_size

        def one(encoded):
            image = self._preprocess_fn(decode_image(encoded), size, size)
            return tf.cast(image, tf.float32)

        with tf.control_dependencies([check]):
            flat = tf.identity(flat)
        pixels = tf.map_fn(
            one,
            flat,
            fn_output_signature=tf.TensorSpec(
                [size, size, self.channels], tf.float32
            ),
        )
        return tf.reshape(
            pixels,
            tf.concat([tf.shape(images), [size, size, self.channels]], 0),
        )

    def _serve_images(self, images):
        # A call of the other signature's function, not a second trace of
        # the net: half the export time, one copy of the net in the graph.
        return self.serve_preprocessed(self.preprocess(images))

    def _serve_preprocessed(self, input):  # noqa: A002 (TF-Slim's name)
        return self._outputs(input)

    def _predict(self, input):  # noqa: A002
        probabilities, logits = self._run(input)
        return {'probabilities': probabilities, 'logits': logits}

    def _run(self, images):
        logits, end_points = self.model(images, is_training=False)
        logits = tf.reshape(logits, [-1, len(self.label_names)])
        predictions = end_points.get(
            'Predictions', end_points.get('predictions')
        )
        if predictions is not None:
            probabilities = tf.reshape(predictions, tf.shape(logits))
        else:
            probabilities = tf.nn.softmax(logits)
        self.tf_slim_output_name = _tf_slim_output_name(predictions, logits)
        return probabilities, logits

    def _outputs(self, images):
        probabilities, logits = self._run(images)
        top_probabilities, top_classes = tf.math.top_k(
            probabilities, self.top_k
        )
        names = tf.gather(tf.constant(self.label_names), top_classes)
        return {
            'probabilities': probabilities,
            'logits': logits,
            'top_k_classes': top_classes,
            'top_k_probabilities': top_probabilities,
            'top_k_names': names,
        }


class _Unsaved:
    """A plain holder, invisible to `tf.Module`'s tracking."""

    def __init__(self, **items):
        self.__dict__.update(items)


def build(
    model_name,
    checkpoint_path,
    num_classes,
    label_names,
    image_size=None,
    preprocessing_name=None,
    use_grayscale=False,
    moving_average_decay=None,
    num_frames=None,
    batch_size=None,
    top_k=DEFAULT_TOP_K,
):
    """Builds net `model_name`, restores it and wraps it for inference.

    Args:
      model_name: a registered net name.
      checkpoint_path: a checkpoint prefix or a training directory (its
        newest checkpoint that reads back).
      num_classes: the class count the net was trained with.
      label_names: the name of each class id (`num_classes` of them).
      image_size: the input size; the net's default if None.
      preprocessing_name: the preprocessing; `model_name`'s if None.
      use_grayscale: feed one gray channel.
      moving_average_decay: restore the moving averages
        (`<name>/ExponentialMovingAverage`) instead of the variables.
      num_frames: the frame count, for a video net (required for one).
      batch_size: a fixed batch size, None for any.
      top_k: the length of the top-k outputs.

    Returns:
      An `InferenceModule`.

    Raises:
      ValueError: naming the argument at fault: an unknown net or
        preprocessing, a checkpoint that is missing, damaged or does not fit,
        a video net without `num_frames`, or an image net with it.
    """
    from nets import nets_factory
    from preprocessing import preprocessing_factory

    spec = nets_factory.get_network_spec(model_name)
    if spec.num_frames and not num_frames:
        raise ArgumentError(
            'num_frames',
            num_frames,
            ': %s is a video net; give the frame count (it '
            'was trained with %d)' % (model_name, spec.num_frames),
        )
    if num_frames and not spec.num_frames:
        raise ArgumentError(
            'num_frames',
            num_frames,
            ': %s is an image net, it takes no frames' % model_name,
        )
    if len(label_names) != num_classes:
        raise ValueError(
            'label_names: %d names for num_classes=%d'
            % (len(label_names), num_classes)
        )
    path = resolve_checkpoint(checkpoint_path)
    model = nets_factory.get_network_fn(
        model_name, num_classes, is_training=False
    )
    preprocess = preprocessing_factory.get_preprocessing(
        preprocessing_name or model_name,
        is_training=False,
        use_grayscale=bool(use_grayscale),
    )
    image_size = image_size or spec.default_image_size
    channels = 1 if use_grayscale else 3
    module = InferenceModule(
        model,
        preprocess,
        image_size,
        label_names,
        channels=channels,
        num_frames=num_frames,
        batch_size=batch_size,
        top_k=top_k,
    )
    model.build(
        tf.TensorSpec([None] + module.input_shape[1:]), is_training=False
    )
    restore(model, path, moving_average_decay)
    module.checkpoint_path = path
    return module


def resolve_checkpoint(checkpoint_path):
    """The checkpoint prefix `checkpoint_path` means.

    A directory means its newest checkpoint that reads back (a damaged newer
    one is passed over with a warning, and left in place); a prefix's
    `.index` or `.data-*` file name means the prefix.

    Raises:
      ValueError: `checkpoint_path=...: ...` if there is no such checkpoint,
        or none in the directory reads back.
    """
    path = checkpoint_path
    if not path:
        raise ArgumentError(
            'checkpoint_path',
            path,
            ': expected a checkpoint prefix or a training directory',
        )
    if tf.io.gfile.isdir(path):
        try:
            found = train_dirs.newest_readable_checkpoint(
                path, set_aside_damaged=False
            )
        except ArgumentError as e:
            raise ArgumentError('checkpoint_path', path, e.problem) from None
        if found is None:
            raise ArgumentError(
                'checkpoint_path',
                path,
                'holds no checkpoint; train first (python '
                'train_image_classifier.py)',
            )
        return found
    path = _DATA_FILE.sub('', path)
    if not tf.io.gfile.exists(path + '.index'):
        raise ArgumentError(
            'checkpoint_path',
            checkpoint_path,
            'does not exist (expected a checkpoint prefix '
            'with a .index file, or a directory)',
        )
    return path


def restore(model, checkpoint_path, moving_average_decay=None):
    """Restores a built model's variables by name, as evaluation does.

    With `moving_average_decay` each model variable takes its shadow
    `<name>/ExponentialMovingAverage`; other variables load as they are.

    Raises:
      ValueError: `checkpoint_path=...` when the checkpoint is damaged or
        lacks or mis-shapes a variable (one line, with an example).
    """
    names = {_name(v): v for v in _variables.get_variables_to_restore(model)}
    if moving_average_decay:
        for v in _variables.get_model_variables(model):
            names.pop(_name(v), None)
            names[moving_averages.average_name(v)] = v
    try:
        path = training_utils.check_checkpoint_fits(names, checkpoint_path)
    except ArgumentError as e:
        # Its hint is for fine-tuning; restoring for inference takes all.
        problem = e.problem
        if moving_average_decay and 'ExponentialMovingAverage' in problem:
            problem += (
                ' (moving averages were asked for: was the net '
                'trained with {moving_average_decay}?)'
            )
        raise ArgumentError(
            e.argument, e.value, problem, mentions=('moving_average_decay',)
        ) from None
    _variables.assign_from_checkpoint(names, path)
    return path


def label_names_for(labels_to_names, num_classes, labels_offset=0):
    """The name of each of `num_classes` class ids: class `i` is the dataset's
    label `i + labels_offset`; a label without a name is named by its id."""
    labels_to_names = labels_to_names or {}
    return [
        str(labels_to_names.get(i + labels_offset, i + labels_offset))
        for i in range(num_classes)
    ]


def decode_image(encoded):
    """Decodes JPEG, PNG, GIF (its first frame) or BMP bytes to uint8 RGB,
    as the dataset readers do."""
    return tf.io.decode_image(encoded, channels=3, expand_animations=False)


def _first_undecodable(flat):
    """The index of the first element of a string vector that does not
    decode, or -1. A decoding error cannot be caught inside a graph, but a
    tf.data pipeline can drop the failing elements and the gap tells which
    one failed."""
    count = tf.size(flat)
    decoded = (
        tf.data.Dataset.from_tensor_slices((tf.range(count), flat))
        .map(lambda i, encoded: (i, tf.shape(decode_image(encoded))))
        .ignore_errors()
    )

    def step(state, item):
        expected, first_bad = state
        index, _ = item
        first_bad = tf.where(
            (first_bad < 0) & (index != expected), expected, first_bad
        )
        return index + 1, first_bad

    expected, first_bad = decoded.reduce(
        (tf.constant(0), tf.constant(-1)), step
    )
    return tf.where((first_bad < 0) & (expected != count), expected, first_bad)


def _tf_slim_output_name(predictions, logits):
    """The name TF-Slim's export gave the probabilities: `slim.softmax`
    reshaped around `tf.nn.softmax`, so `<scope>/Predictions/Reshape_1`;
    nets with a plain `tf.nn.softmax(name='Predictions')` keep that name;
    nets without predictions (VGG, AlexNet, OverFeat) get
    `<net scope>/Predictions/Reshape_1`."""
    if predictions is not None:
        name = predictions.op.name
        if name.endswith('/Softmax') or name == 'Softmax':
            return name[: -len('Softmax')] + 'Reshape_1'
        return name
    return logits.op.name.split('/')[0] + '/Predictions/Reshape_1'


def _name(variable):
    return variable.name.split(':')[0]


def default_export_dir(checkpoint_path):
    """Where an export of a run goes by default: `<train_dir>/export`."""
    folder = (
        checkpoint_path
        if tf.io.gfile.isdir(checkpoint_path)
        else os.path.dirname(checkpoint_path)
    )
    return os.path.join(folder, 'export')
