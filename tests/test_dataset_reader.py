"""Tests of `DatasetSplit.read`: decoding, shuffling, corrupt images, errors."""

import io
import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from slim_datasets import dataset_utils
from slim_datasets import tfrecord_dataset


def _encode(array, image_format):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=image_format)
    return buffer.getvalue()


def _write_shards(directory, name, split, shards):
    """`shards` is a list of lists of (encoded, label); returns the paths."""
    paths = []
    for index, records in enumerate(shards):
        path = dataset_utils.shard_filename(
            str(directory), name, split, index, len(shards)
        )
        with tf.io.TFRecordWriter(path) as writer:
            for encoded, label in records:
                writer.write(
                    dataset_utils.image_to_tfexample(
                        encoded, b'png', 1, 1, label
                    ).SerializeToString()
                )
        paths.append(path)
    return paths


def _split(directory, num_samples, name='x'):
    return tfrecord_dataset.DatasetSplit(
        name,
        'train',
        str(directory),
        ['%s_%%s_*.tfrecord' % name],
        num_samples,
        3,
    )


def test_decodes_png_jpeg_gray_and_rgba_to_uint8_rgb(tmp_path):
    rng = np.random.RandomState(0)
    rgb = rng.randint(0, 256, (5, 6, 3)).astype(np.uint8)
    gray = rng.randint(0, 256, (4, 3)).astype(np.uint8)
    rgba = rng.randint(0, 256, (3, 2, 4)).astype(np.uint8)
    flat = np.full(
        (8, 8, 3), 90, np.uint8
    )  # JPEG is lossy; a flat image survives it
    _write_shards(
        tmp_path,
        'x',
        'train',
        [
            [(_encode(rgb, 'PNG'), 0), (_encode(gray, 'PNG'), 1)],
            [(_encode(rgba, 'PNG'), 2), (_encode(flat, 'JPEG'), 0)],
        ],
    )
    dataset = _split(tmp_path, 4)
    assert dataset.read().element_spec == (
        tf.TensorSpec([None, None, 3], tf.uint8),
        tf.TensorSpec([], tf.int64),
    )
    got = {
        image.shape: (image, int(label))
        for image, label in dataset.read().as_numpy_iterator()
    }
    np.testing.assert_array_equal(got[(5, 6, 3)][0], rgb)
    np.testing.assert_array_equal(
        got[(4, 3, 3)][0], np.stack([gray] * 3, axis=-1)
    )
    np.testing.assert_array_equal(got[(3, 2, 3)][0], rgba[..., :3])
    assert np.abs(got[(8, 8, 3)][0].astype(int) - 90).max() <= 2
    assert [got[s][1] for s in [(5, 6, 3), (4, 3, 3), (3, 2, 3)]] == [0, 1, 2]


def _numbered_shards(tmp_path, num_shards=3, per_shard=10):
    # Each image's one pixel value is its record number, so order is observable.
    shards = [
        [
            (_encode(np.full((1, 1, 3), s * per_shard + i, np.uint8), 'PNG'), 0)
            for i in range(per_shard)
        ]
        for s in range(num_shards)
    ]
    _write_shards(tmp_path, 'x', 'train', shards)
    return _split(tmp_path, num_shards * per_shard)


def _order(dataset):
    return [int(image[0, 0, 0]) for image, _ in dataset.as_numpy_iterator()]


def test_reads_every_record_once_from_parallel_readers(tmp_path):
    dataset = _numbered_shards(tmp_path)
    for num_readers in (1, 2, 4):
        assert sorted(_order(dataset.read(num_readers=num_readers))) == list(
            range(30)
        )


def test_shuffle_with_a_seed_is_repeatable_and_mixes(tmp_path):
    dataset = _numbered_shards(tmp_path)
    first = _order(dataset.read(shuffle=True, seed=3))
    assert first == _order(dataset.read(shuffle=True, seed=3))
    assert first != _order(dataset.read(shuffle=True, seed=4))
    assert sorted(first) == list(range(30)) and first != sorted(first)


def _corrupt_shards(tmp_path):
    good = _encode(np.zeros((2, 2, 3), np.uint8), 'PNG')
    truncated = good[: len(good) // 2]
    paths = _write_shards(
        tmp_path,
        'x',
        'train',
        [
            [(good, 0)] * 3,
            [(good, 1), (b'not an image at all', 1), (good, 1), (truncated, 2)],
        ],
    )
    return _split(tmp_path, 7), paths


def test_corrupt_image_stops_with_an_error_naming_shard_and_the_fix(tmp_path):
    dataset, paths = _corrupt_shards(tmp_path)
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        list(dataset.read())
    message = str(info.value)
    assert 'Could not decode an image in shard ' + paths[1] in message
    assert 'skip_corrupt_images=True' in message


def test_corrupt_images_are_skipped_and_counted_when_asked(tmp_path):
    dataset, _ = _corrupt_shards(tmp_path)
    labels = sorted(
        int(label) for _, label in dataset.read(skip_corrupt_images=True)
    )
    assert labels == [0, 0, 0, 1, 1]
    assert dataset.num_skipped_images == 2
    list(dataset.read(skip_corrupt_images=True, shuffle=True, seed=1))
    assert dataset.num_skipped_images == 4  # counts every skip, over passes too


def test_a_record_that_is_not_an_example_counts_as_corrupt(tmp_path):
    path = dataset_utils.shard_filename(str(tmp_path), 'x', 'train', 0, 1)
    with tf.io.TFRecordWriter(path) as writer:
        writer.write(b'\x01\x02 not a tf.train.Example')
    dataset = _split(tmp_path, 1)
    assert list(dataset.read(skip_corrupt_images=True)) == []
    assert dataset.num_skipped_images == 1


@pytest.mark.parametrize(
    'kwargs,match',
    [
        ({'num_readers': 0}, 'num_readers=0'),
        ({'num_readers': 2.5}, 'num_readers=2.5'),
        (
            {'shuffle': True, 'shuffle_buffer_size': -1},
            'shuffle_buffer_size=-1',
        ),
    ],
)
def test_read_refuses_bad_arguments(tmp_path, kwargs, match):
    dataset = _numbered_shards(tmp_path, 1, 1)
    with pytest.raises(ValueError, match=match):
        dataset.read(**kwargs)


def test_find_shards_errors_name_the_pattern(tmp_path):
    with pytest.raises(
        FileNotFoundError, match=r"'x'.*'train'.*x_train_\*\.tfrecord"
    ):
        tfrecord_dataset.find_shards(
            str(tmp_path), 'x_%s_*.tfrecord', 'x', 'train'
        )
    with pytest.raises(ValueError, match='dataset_dir=None'):
        tfrecord_dataset.find_shards(None, 'x_%s_*.tfrecord', 'x', 'train')


def test_make_split_refuses_unknown_split(tmp_path):
    with pytest.raises(
        ValueError, match=r"split_name='test'.*valid names: train, validation"
    ):
        tfrecord_dataset.make_split(
            'x',
            'test',
            str(tmp_path),
            None,
            ['x_%s_*'],
            {'train': 1, 'validation': 1},
            2,
            {},
        )


def test_count_records(tmp_path):
    dataset = _numbered_shards(tmp_path, 2, 4)
    assert tfrecord_dataset.count_records(dataset.data_sources) == 8


@pytest.mark.parametrize('num_shards', [3, 1])
def test_input_context_splits_the_data_between_pipelines(tmp_path, num_shards):
    dataset = _numbered_shards(tmp_path, num_shards, 12 // num_shards)
    parts = [
        _order(
            dataset.read(
                input_context=tf.distribute.InputContext(
                    num_input_pipelines=2, input_pipeline_id=i
                )
            )
        )
        for i in range(2)
    ]
    assert parts[0] and parts[1] and not set(parts[0]) & set(parts[1])
    assert sorted(parts[0] + parts[1]) == list(range(12))


def test_corrupt_runs_across_chunk_boundaries_are_all_counted(tmp_path):
    chunk = tfrecord_dataset._CHUNK
    bad_positions = {0, chunk - 1, chunk, chunk + 1, 2 * chunk + 4}
    records = [
        (
            b'broken'
            if i in bad_positions
            else _encode(np.full((1, 1, 3), i % 256, np.uint8), 'PNG'),
            i % 3,
        )
        for i in range(2 * chunk + 5)
    ]  # the last record is bad too
    _write_shards(tmp_path, 'x', 'train', [records])
    dataset = _split(tmp_path, len(records))
    values = sorted(
        int(image[0, 0, 0])
        for image, _ in dataset.read(
            skip_corrupt_images=True
        ).as_numpy_iterator()
    )
    assert values == sorted(
        i % 256 for i in range(len(records)) if i not in bad_positions
    )
    assert dataset.num_skipped_images == len(bad_positions)
    with pytest.raises(
        tf.errors.InvalidArgumentError, match='Could not decode'
    ):
        list(dataset.read(shuffle=True, seed=0))


def test_cache_keeps_decoded_images_and_reshuffles_each_epoch(tmp_path):
    dataset = _numbered_shards(tmp_path)
    two_epochs = _order(
        dataset.read(shuffle=True, seed=5, cache=True).repeat(2)
    )
    first, second = two_epochs[:30], two_epochs[30:]
    assert sorted(first) == sorted(second) == list(range(30))
    assert first != second and first != sorted(first)
    assert _order(dataset.read(shuffle=True, seed=5, cache=True)) == first
    assert sorted(_order(dataset.read(cache=True))) == list(range(30))


def test_a_split_without_records_is_refused(tmp_path):
    from slim_datasets import conversion, dataset_factory

    # All its items skipped: write_split leaves empty shard files.
    conversion.write_split(
        [None, None], 2, str(tmp_path), 'flowers', 'train', 2
    )
    dataset_utils.write_label_file({0: 'daisy'}, str(tmp_path))
    expected = (
        "dataset_dir=%r: the 'train' split of the %%r dataset holds no records: its "
        'shards (flowers_train_00000-of-00002.tfrecord, '
        'flowers_train_00001-of-00002.tfrecord) are empty files; expected at least '
        'one record.' % str(tmp_path)
    )
    for name in ('flowers', 'custom'):
        with pytest.raises(ValueError) as info:
            dataset_factory.get_dataset(name, 'train', str(tmp_path))
        assert str(info.value).startswith(expected % name), str(info.value)
    # One record in any shard is enough.
    with tf.io.TFRecordWriter(
        os.path.join(str(tmp_path), 'flowers_train_00001-of-00002.tfrecord')
    ) as w:
        w.write(
            dataset_utils.image_to_tfexample(
                _encode(np.zeros((1, 1, 3), np.uint8), 'PNG'), b'png', 1, 1, 0
            ).SerializeToString()
        )
    assert (
        len(
            list(
                dataset_factory.get_dataset(
                    'flowers', 'train', str(tmp_path)
                ).read()
            )
        )
        == 1
    )
