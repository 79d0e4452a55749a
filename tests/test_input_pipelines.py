"""slim/input_pipelines.py: the drivers' train and eval pipelines over real
TFRecord shards."""

import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from slim_datasets import dataset_utils
from slim_datasets import tfrecord_dataset
from slim import input_pipelines


def _png(value):
    buffer = io.BytesIO()
    Image.fromarray(np.full((2, 2, 3), value, np.uint8)).save(buffer, 'PNG')
    return buffer.getvalue()


def _split(directory, shards):
    """A split of `shards`, lists of labels; label -1 is an undecodable image."""
    for index, labels in enumerate(shards):
        path = dataset_utils.shard_filename(
            str(directory), 'x', 'train', index, len(shards)
        )
        with tf.io.TFRecordWriter(path) as writer:
            for label in labels:
                encoded = b'broken' if label < 0 else _png(label)
                writer.write(
                    dataset_utils.image_to_tfexample(
                        encoded, b'png', 2, 2, max(label, 0)
                    ).SerializeToString()
                )
    return tfrecord_dataset.DatasetSplit(
        'x',
        'train',
        str(directory),
        ['x_%s_*.tfrecord'],
        sum(len(s) for s in shards),
        10,
    )


def _identity(image, height, width):
    return tf.image.resize(tf.cast(image, tf.float32), [height, width])


def test_each_pipeline_decodes_only_its_own_files(tmp_path):
    # The second file holds an image that does not decode: the pipeline
    # that does not own that file must never decode it.
    split = _split(tmp_path, [[1, 2, 3, 4], [5, 6, -1, 7]])
    input_fn = input_pipelines.train_input_fn(
        split, _identity, 2, 1, skip_corrupt_images=True, seed=0
    )
    labels, skipped = [], []
    for pipeline in range(2):
        context = tf.distribute.InputContext(
            num_input_pipelines=2, input_pipeline_id=pipeline
        )
        batches = input_fn(context).take(8)
        labels.append({int(label[0]) for _, label in batches})
        skipped.append(split.num_skipped_images)
    assert labels == [{1, 2, 3, 4}, {5, 6, 7}]
    assert skipped[0] == 0 and skipped[1] > 0  # once per epoch it read


def test_train_batches_per_replica_and_offsets_labels(tmp_path):
    split = _split(tmp_path, [[1, 2, 3], [4, 5]])
    input_fn = input_pipelines.train_input_fn(
        split, _identity, 3, 4, labels_offset=1, seed=0
    )
    context = tf.distribute.InputContext(
        num_input_pipelines=1, num_replicas_in_sync=2
    )
    images, labels = next(iter(input_fn(context)))
    assert images.shape == (4, 3, 3, 3) and labels.dtype == tf.int64
    # Repeated: more batches than the five examples fill.
    seen = [int(l) for _, batch in input_fn().take(5) for l in batch]
    assert set(seen) == {0, 1, 2, 3, 4} and len(seen) == 20


def test_eval_is_one_ordered_pass_with_a_short_last_batch(tmp_path):
    split = _split(tmp_path, [[1, 2, 3, 4, 5]])
    batches = list(input_pipelines.eval_dataset(split, _identity, 2, 2))
    assert [b[1].numpy().tolist() for b in batches] == [[1, 2], [3, 4], [5]]
    limited = input_pipelines.eval_dataset(
        split, _identity, 2, 2, max_num_batches=2
    )
    assert len(list(limited)) == 2


def test_eval_stops_on_an_undecodable_image_unless_skipping(tmp_path):
    split = _split(tmp_path, [[1, -1, 2]])
    with pytest.raises(tf.errors.InvalidArgumentError):
        list(input_pipelines.eval_dataset(split, _identity, 2, 1))
    kept = input_pipelines.eval_dataset(
        split, _identity, 2, 1, skip_corrupt_images=True
    )
    assert [int(l) for _, b in kept for l in b] == [1, 2]
