"""Tests of finding damaged TFRecord shards after a `DataLossError`.

The shards are written by the converters' own writer, then damaged as disks and
interrupted copies damage files: cut short, or overwritten with zeros.
"""

import io
import os
import struct

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from slim_datasets import conversion
from slim_datasets import custom
from slim_datasets import dataset_utils
from slim_datasets import tfrecord_check
from slim_datasets import tfrecord_dataset


def _png(value):
    buffer = io.BytesIO()
    Image.fromarray(np.full((3, 3, 3), value, np.uint8)).save(
        buffer, format='PNG'
    )
    return buffer.getvalue()


@pytest.fixture
def split(tmp_path):
    """A 'pets' train split of 2 shards x 5 records, written by write_split."""
    examples = [
        dataset_utils.image_to_tfexample(
            _png(i), b'png', 3, 3, i % 2
        ).SerializeToString()
        for i in range(10)
    ]
    conversion.write_split(examples, 10, str(tmp_path), 'pets', 'train', 2)
    dataset_utils.write_label_file({0: 'cat', 1: 'dog'}, str(tmp_path))
    return tfrecord_dataset.DatasetSplit(
        'pets', 'train', str(tmp_path), ['pets_%s_*.tfrecord'], 10, 2
    )


def _record_offsets(path):
    """The byte offsets at which the records of an intact file start, and its size."""
    offsets = [0]
    for record in tf.data.TFRecordDataset(path):
        offsets.append(offsets[-1] + 12 + len(record.numpy()) + 4)
    return offsets[:-1], offsets[-1]


def _data_loss(split_):
    with pytest.raises(tf.errors.DataLossError) as info:
        for _ in split_.read(shuffle=True, seed=0, num_readers=2):
            pass
    return info.value


def _check_line(line, path, offset, records):
    assert '\n' not in line
    assert line.startswith(
        "TFRecord shard %r of the 'train' split of the 'pets' dataset "
        'is damaged at byte %d (after %d whole records): '
        % (path, offset, records)
    ), line


def test_a_truncated_shard_is_named_with_the_byte_and_the_cut(split):
    path = split.data_sources[1]
    offsets, _ = _record_offsets(path)
    with open(path, 'r+b') as f:
        f.truncate(offsets[3] + 20)  # 20 bytes into the 4th record
    line = split.describe_data_loss(_data_loss(split))
    _check_line(line, path, offsets[3], 3)
    length = offsets[4] - offsets[3] - 16
    assert (
        'truncated: a record of %d bytes needs the file to reach byte %d, but it '
        'ends at byte %d' % (length, offsets[4], offsets[3] + 20)
    ) in line
    assert split.data_sources[0] not in line  # the intact shard is not blamed
    assert 'Re-create the dataset' in line


def test_a_shard_cut_inside_a_header(split):
    path = split.data_sources[0]
    offsets, _ = _record_offsets(path)
    with open(path, 'r+b') as f:
        f.truncate(offsets[2] + 5)
    # TensorFlow reads the records before the cut and stops without an error...
    assert len(list(split.read())) == 7
    # ...but the shard is found damaged all the same.
    line = split.describe_data_loss()
    _check_line(line, path, offsets[2], 2)
    assert (
        "truncated: the file ends 5 bytes into a record's 12-byte header"
        in line
    )


def test_a_zeroed_shard_is_a_damaged_header_at_byte_0(split):
    path = split.data_sources[1]
    size = os.path.getsize(path)
    with open(path, 'wb') as f:
        f.write(bytes(size))  # same size, all zeros: a lost block of a disk
    line = split.describe_data_loss(_data_loss(split))
    _check_line(line, path, 0, 0)
    assert (
        'bad checksum of the record length: its header is damaged (the bytes there '
        'are zeros)'
    ) in line


def test_zeroed_record_data_is_a_data_checksum(split):
    path = split.data_sources[0]
    offsets, _ = _record_offsets(path)
    length = offsets[3] - offsets[2] - 16
    with open(path, 'r+b') as f:
        f.seek(offsets[2] + 12)
        f.write(bytes(length))
    line = split.describe_data_loss(_data_loss(split))
    _check_line(line, path, offsets[2], 2)
    assert (
        'bad checksum of the record data: its %d bytes are damaged (they are all '
        'zeros)' % length
    ) in line


def test_every_damaged_shard_is_listed(split):
    for path in split.data_sources:
        with open(path, 'r+b') as f:
            f.truncate(os.path.getsize(path) - 1)
    damaged = split.find_damaged_shards()
    assert [d.path for d in damaged] == split.data_sources
    assert [d.record for d in damaged] == [4, 4]
    line = split.describe_data_loss()
    _check_line(line, split.data_sources[0], damaged[0].offset, 4)
    assert line.count(' 1 more damaged: %r. ' % split.data_sources[1]) == 1


def test_intact_shards_are_not_blamed(split):
    assert split.find_damaged_shards() == []
    error = tf.errors.DataLossError(None, None, 'corrupted record at 12')
    line = split.describe_data_loss(error)
    assert line.startswith(
        "Lost data while reading the shards of the 'train' split of the "
        "'pets' dataset (TensorFlow said: corrupted record at 12), but "
        'every shard reads whole now'
    )


def test_a_damaged_custom_shard_is_named_when_its_split_is_counted(
    split, tmp_path
):
    path = split.data_sources[1]
    with open(path, 'r+b') as f:
        f.truncate(os.path.getsize(path) // 2)
    with pytest.raises(ValueError) as info:
        custom.get_split('train', str(tmp_path))
    assert str(info.value).startswith(
        "TFRecord shard %r of the 'train' split of the custom "
        'dataset is damaged at byte' % path
    )


def test_masked_crc32c_is_the_one_tfrecord_files_store(tmp_path):
    path = str(tmp_path / 'one.tfrecord')
    with tf.io.TFRecordWriter(path) as writer:
        writer.write(b'some data')
    raw = open(path, 'rb').read()
    (length_crc,) = struct.unpack('<I', raw[8:12])
    (data_crc,) = struct.unpack('<I', raw[-4:])
    assert tfrecord_check.masked_crc32c(raw[:8]) == length_crc
    assert tfrecord_check.masked_crc32c(b'some data') == data_crc
