"""The dataset description every dataset module returns, and its `tf.data` reader.

A `DatasetSplit` is what TF-Slim's `slim.dataset.Dataset` was (the shards, the
sizes, the class names) plus `read()`, which builds the input pipeline TF-Slim's
queue runners used to: shards read in parallel, records shuffled, images decoded in
parallel, everything `AUTOTUNE`d and prefetched.

A record whose image cannot be decoded stops the pipeline with an error that names
its shard and says how to skip such records; `read(skip_corrupt_images=True)` skips
them instead and counts them in `num_skipped_images`. A damaged shard (truncated,
overwritten) stops it with a `tf.errors.DataLossError` that names no file; after
one, `describe_data_loss(error)` finds the shard and says where and what.
"""

import io
import os
import threading

import numpy as np
import tensorflow as tf
from absl import logging
from PIL import Image

from slim.errors import ArgumentError, MissingFileError
from slim_datasets import dataset_utils
from slim_datasets import tfrecord_check

_AUTOTUNE = tf.data.AUTOTUNE
_MAX_SHUFFLE_BUFFER = 2048
# Records decoded per sub-dataset: large enough to amortise making the sub-dataset,
# small enough that a few chunks in flight keep every core busy.
_CHUNK = 32


class DatasetSplit:
    """One split of a dataset stored as TFRecord shards of TF-Slim examples.

    Attributes:
      name: the dataset name, e.g. `'flowers'`.
      split_name: e.g. `'train'`.
      dataset_dir: the folder the shards are in.
      data_sources: the sorted list of shard paths.
      file_pattern: the glob pattern(s) the shards were found with.
      num_samples: the number of examples in the split.
      num_classes: the number of classes.
      labels_to_names: `{id: class_name}`, or None when no labels file exists.
      items_to_descriptions: `{item: description}` as in TF-Slim.
      cache_decoded: whether `read()` keeps the decoded images in memory by
        default (for small datasets such as digits, where decoding would cost
        more CPU than training).
    """

    def __init__(
        self,
        name,
        split_name,
        dataset_dir,
        file_patterns,
        num_samples,
        num_classes,
        labels_to_names=None,
        items_to_descriptions=None,
        cache_decoded=False,
    ):
        """Finds the shards and checks that they hold records.

        Raises:
          ValueError: if `dataset_dir` is empty, or every shard found is an empty
            file (a split without a record, which would train on nothing).
          FileNotFoundError: if no shard matches (see `find_shards`).
        """
        self.name = name
        self.split_name = split_name
        self.dataset_dir = dataset_dir
        self.file_pattern = file_patterns
        self.data_sources = find_shards(
            dataset_dir, file_patterns, name, split_name
        )
        _check_not_empty(self.data_sources, dataset_dir, name, split_name)
        self.num_samples = num_samples
        self.num_classes = num_classes
        self.labels_to_names = labels_to_names
        self.items_to_descriptions = dict(items_to_descriptions or {})
        self.cache_decoded = cache_decoded
        self._skips = _SkipCounter()

    @property
    def num_skipped_images(self):
        """How many undecodable images `read(skip_corrupt_images=True)` has skipped."""
        return self._skips.count

    def read(
        self,
        shuffle=False,
        num_readers=4,
        seed=None,
        skip_corrupt_images=False,
        shuffle_buffer_size=None,
        input_context=None,
        cache=None,
    ):
        """Returns a `tf.data.Dataset` of `(image uint8 [H, W, 3], label int64)`.

        One pass over the split; call `.repeat()` on the result for more epochs.

        Args:
          shuffle: shuffle the shard order and the records (reshuffled every epoch).
          num_readers: how many shards are read at once.
          seed: the shuffling seed; with a seed the order is repeatable.
          skip_corrupt_images: skip records whose image cannot be decoded, counting
            them in `num_skipped_images`, instead of stopping with an error.
          shuffle_buffer_size: records in the shuffle buffer; by default
            `min(num_samples, 2048)`.
          input_context: a `tf.distribute.InputContext` (as given to the function
            of `strategy.distribute_datasets_from_function`); each input pipeline
            then reads its own part of the shards (or of the records, when there
            are fewer shards than pipelines).
          cache: keep the decoded images in memory after the first pass (and
            shuffle those); None means `self.cache_decoded`. Only for data that
            fits in memory. Corrupt images are then counted in the first pass only.

        Raises:
          ValueError: if `num_readers` or `shuffle_buffer_size` is not a positive int.
        """
        _check_positive_int('num_readers', num_readers)
        if shuffle_buffer_size is not None:
            _check_positive_int('shuffle_buffer_size', shuffle_buffer_size)
        # Without a seed the order is random anyway, so let tf.data hand out
        # whatever element is ready first; with one, keep the order repeatable.
        deterministic = not shuffle or seed is not None
        files = tf.data.Dataset.from_tensor_slices(self.data_sources)
        num_pipelines, pipeline_id = 1, 0
        if input_context is not None:
            num_pipelines = input_context.num_input_pipelines
            pipeline_id = input_context.input_pipeline_id
        shard_files = (
            num_pipelines > 1 and len(self.data_sources) >= num_pipelines
        )
        if shard_files:
            files = files.shard(num_pipelines, pipeline_id)
        if shuffle:
            files = files.shuffle(len(self.data_sources), seed=seed)
        records = files.interleave(
            lambda path: tf.data.TFRecordDataset(path).map(lambda r: (r, path)),
            cycle_length=min(num_readers, len(self.data_sources)),
            block_length=1,
            num_parallel_calls=_AUTOTUNE,
            deterministic=deterministic,
        )
        if num_pipelines > 1 and not shard_files:
            records = records.shard(num_pipelines, pipeline_id)
        cache = self.cache_decoded if cache is None else cache
        buffer_size = shuffle_buffer_size or max(
            1, min(self.num_samples or 1, _MAX_SHUFFLE_BUFFER)
        )
        if shuffle and not cache:
            # Shuffling encoded records, not decoded images, keeps the buffer small.
            records = records.shuffle(buffer_size, seed=seed)
        # Decoding chunks of records, each in its own small dataset, lets
        # ignore_errors() drop a record that fails to decode while the enumeration
        # shows which (see _decode_chunk); reading errors still propagate.
        decoded = records.batch(_CHUNK).interleave(
            _decode_chunk,
            cycle_length=_AUTOTUNE,
            block_length=1,
            num_parallel_calls=_AUTOTUNE,
            deterministic=deterministic,
        )
        if skip_corrupt_images:
            decoded = decoded.filter(self._keep_and_count)
        else:
            decoded = decoded.map(_check_decoded).filter(
                lambda image, label, missing, shard, last: tf.logical_not(last)
            )
        decoded = decoded.map(
            lambda image, label, missing, shard, last: (image, label)
        )
        if cache:
            decoded = decoded.cache()
            if shuffle:
                decoded = decoded.shuffle(buffer_size, seed=seed)
        return decoded.prefetch(_AUTOTUNE)

    def find_damaged_shards(self):
        """Returns a `tfrecord_check.ShardDamage` for each damaged shard, in order.

        Reads every shard once: meant for after a failure, not for every run.
        """
        return tfrecord_check.find_damaged_shards(self.data_sources)

    def describe_data_loss(self, error=None):
        """Returns one line naming the damaged shard, the byte and what is wrong.

        Call it when reading the split raised `tf.errors.DataLossError` (which names
        no file), e.g.:

            except tf.errors.DataLossError as e:
                sys.exit(dataset.describe_data_loss(e))

        The line reads like "TFRecord shard '/data/flowers_train_00001-of-00005.tfrecord'
        of the 'train' split of the 'flowers' dataset is damaged at byte 4096 (after 12
        whole records): truncated: ...". Slow as `find_damaged_shards`.

        Args:
          error: the `DataLossError`, quoted if no shard is found damaged any more.
        """
        return tfrecord_check.describe(
            self.find_damaged_shards(),
            'the %r split of the %r dataset' % (self.split_name, self.name),
            error,
        )

    def _keep_and_count(self, image, label, missing, shard, last):
        del image, label

        def _count():
            count = tf.numpy_function(
                self._skips.add, [missing, shard], tf.int64, stateful=True
            )
            return (
                count > 0
            )  # always True; the dependency makes the count happen

        counted = tf.cond(missing > 0, _count, lambda: tf.constant(True))
        return tf.logical_and(counted, tf.logical_not(last))

    def __repr__(self):
        return (
            'DatasetSplit(name=%r, split_name=%r, num_samples=%d, num_classes=%d, '
            'shards=%d)'
            % (
                self.name,
                self.split_name,
                self.num_samples,
                self.num_classes,
                len(self.data_sources),
            )
        )


def make_split(
    name,
    split_name,
    dataset_dir,
    file_pattern,
    default_patterns,
    splits_to_sizes,
    num_classes,
    items_to_descriptions,
    labels_to_names=None,
    cache_decoded=False,
):
    """Returns the `DatasetSplit` of a dataset with fixed split sizes.

    The shared body of every dataset module's `get_split`. `labels_to_names` is read
    from `labels.txt` in `dataset_dir` when not given and the file exists.

    Raises:
      ValueError: if `split_name` is not one of `splits_to_sizes`, or the split's
        shards hold no record (see `DatasetSplit`).
      FileNotFoundError: if no shard matches (see `find_shards`).
    """
    if split_name not in splits_to_sizes:
        raise ArgumentError(
            'split_name',
            split_name,
            'is not a split of the %r dataset; valid names: %s.'
            % (name, ', '.join(sorted(splits_to_sizes))),
        )
    patterns = [file_pattern] if file_pattern else list(default_patterns)
    if (
        labels_to_names is None
        and dataset_dir
        and dataset_utils.has_labels(dataset_dir)
    ):
        labels_to_names = dataset_utils.read_label_file(dataset_dir)
    return DatasetSplit(
        name,
        split_name,
        dataset_dir,
        patterns,
        splits_to_sizes[split_name],
        num_classes,
        labels_to_names,
        items_to_descriptions,
        cache_decoded,
    )


def find_shards(dataset_dir, file_patterns, name='dataset', split_name='split'):
    """Returns the sorted shard paths in `dataset_dir` matching any of the patterns.

    Args:
      dataset_dir: the folder to look in.
      file_patterns: a glob pattern or a list of them, relative to `dataset_dir`
        (or absolute); `%s` in a pattern is replaced by `split_name`.

    Raises:
      ValueError: if `dataset_dir` is empty or None.
      FileNotFoundError: if no file matches; the message names the patterns.
    """
    if not dataset_dir:
        raise ArgumentError(
            'dataset_dir',
            dataset_dir,
            ': the %r dataset needs the '
            'folder its TFRecord shards are in.' % name,
        )
    if isinstance(file_patterns, str):
        file_patterns = [file_patterns]
    globs = [
        os.path.join(dataset_dir, p % split_name if '%s' in p else p)
        for p in file_patterns
    ]
    paths = sorted(
        {path for pattern in globs for path in tf.io.gfile.glob(pattern)}
    )
    if not paths:
        raise MissingFileError(
            'dataset_dir',
            dataset_dir,
            'has no TFRecord shards of the %r dataset for %r: nothing matches %s. '
            'Convert the data first (download_and_convert_data.py), or pass the '
            'folder that holds the shards as {dataset_dir}.'
            % (name, split_name, ' or '.join(repr(g) for g in globs)),
            mentions=('dataset_dir',),
        )
    return paths


def count_records(paths):
    """Returns how many records the TFRecord files hold, reading them once."""
    total = tf.data.TFRecordDataset(list(paths)).reduce(
        tf.constant(0, tf.int64), lambda count, _: count + 1
    )
    return int(total)


def decode_image(encoded):
    """Decodes JPEG/PNG/GIF/BMP bytes to uint8 [H, W, 3] (gray and RGBA to RGB)."""
    image = tf.io.decode_image(encoded, channels=3, expand_animations=False)
    image.set_shape([None, None, 3])
    return image


def _check_not_empty(paths, dataset_dir, name, split_name):
    # A TFRecord file with a record has at least 16 bytes (framing), and one
    # with bytes but no whole record fails when read; so sizes tell, and
    # usually the first shard's size suffices.
    for path in paths:
        if tf.io.gfile.stat(path).length > 0:
            return
    raise ArgumentError(
        'dataset_dir',
        dataset_dir,
        ': the %r split of the %r dataset holds no records: its shards '
        '(%s) are empty files; expected at least one record. Re-create the dataset '
        '(re-convert it), or pass the folder that holds it.'
        % (
            split_name,
            name,
            dataset_utils.some_names([os.path.basename(p) for p in paths]),
        ),
    )


def _parse_and_decode(record):
    features = tf.io.parse_single_example(
        record,
        {
            dataset_utils.KEY_ENCODED: tf.io.FixedLenFeature((), tf.string),
            dataset_utils.KEY_LABEL: tf.io.FixedLenFeature((), tf.int64),
        },
    )
    return decode_image(features[dataset_utils.KEY_ENCODED]), features[
        dataset_utils.KEY_LABEL
    ]


def _decode_chunk(records, shards):
    """Yields `(image, label, missing, shard, last)` for a chunk of records.

    The records are enumerated, decoded in parallel in order, and a decoding error
    drops its record (ignore_errors); a gap in the enumeration then tells how many
    records were dropped before each output (`missing`) and the shard of the first
    of them. A valid sentinel record ends the chunk (`last`), so that failures at
    its end show as well; it is filtered out afterwards.
    """
    count = tf.size(records, out_type=tf.int64)
    items = tf.data.Dataset.from_tensor_slices(
        tf.concat([records, [_SENTINEL_RECORD]], 0)
    ).enumerate()
    # deterministic=True keeps the chunk's order, which is what tells a gap.
    decoded = items.map(
        lambda index, record: (index,) + _parse_and_decode(record),
        num_parallel_calls=_AUTOTUNE,
        deterministic=True,
    ).ignore_errors()

    def step(expected, element):
        index, image, label = element
        shard = shards[tf.minimum(expected, tf.maximum(count - 1, 0))]
        return index + 1, (
            image,
            label,
            index - expected,
            shard,
            tf.equal(index, count),
        )

    return decoded.scan(tf.constant(0, tf.int64), step)


def _check_decoded(image, label, missing, shard, last):
    message = tf.strings.join(
        [
            'Could not decode an image in shard ',
            shard,
            ' (the record is not a parsable example with JPEG/PNG data). To skip such '
            'images, call read(skip_corrupt_images=True); they are then counted in '
            'num_skipped_images.',
        ]
    )
    with tf.control_dependencies(
        [tf.debugging.Assert(tf.equal(missing, 0), [message])]
    ):
        return tf.identity(image), label, missing, shard, last


def _sentinel_record():
    # A valid 1x1 PNG example: it always decodes, so it marks the end of a chunk.
    buffer = io.BytesIO()
    Image.new('L', (1, 1)).save(buffer, format='PNG')
    return dataset_utils.image_to_tfexample(
        buffer.getvalue(), b'png', 1, 1, 0
    ).SerializeToString()


def _check_positive_int(name, value):
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or value < 1
    ):
        raise ArgumentError(name, value, ': expected a positive integer.')


_SENTINEL_RECORD = _sentinel_record()


class _SkipCounter:
    """A thread-safe count of skipped images; tf.data may decode on many threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self.count = 0

    def add(self, missing, shard):
        with self._lock:
            self.count += int(missing)
            count = self.count
        logging.warning(
            'Skipped %d image(s) that could not be decoded in shard %s '
            '(%d skipped so far).',
            missing,
            shard.decode('utf-8', 'replace'),
            count,
        )
        return np.int64(count)
