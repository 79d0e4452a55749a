"""Tests of the TF-Slim record helpers and the labels file."""

import os

import pytest
import tensorflow as tf

from slim_datasets import dataset_utils


def test_image_to_tfexample_uses_tf_slim_keys():
    example = dataset_utils.image_to_tfexample(b'\x89PNG...', b'png', 28, 30, 7)
    parsed = tf.train.Example.FromString(example.SerializeToString())
    feature = parsed.features.feature
    assert sorted(feature) == [
        'image/class/label',
        'image/encoded',
        'image/format',
        'image/height',
        'image/width',
    ]
    assert feature['image/encoded'].bytes_list.value == [b'\x89PNG...']
    assert feature['image/format'].bytes_list.value == [b'png']
    assert feature['image/class/label'].int64_list.value == [7]
    assert feature['image/height'].int64_list.value == [28]
    assert feature['image/width'].int64_list.value == [30]


def test_feature_helpers_take_scalars_and_lists():
    assert dataset_utils.int64_feature([1, 2]).int64_list.value == [1, 2]
    assert dataset_utils.float_feature(0.5).float_list.value == [0.5]
    assert dataset_utils.bytes_feature('jpeg').bytes_list.value == [b'jpeg']


def test_shard_filename_is_tf_slims():
    assert dataset_utils.shard_filename(
        '/d', 'flowers', 'train', 3, 5
    ) == os.path.join('/d', 'flowers_train_00003-of-00005.tfrecord')


def test_label_file_round_trip_in_id_colon_name_lines(tmp_path):
    labels = {1: 'roses', 0: 'daisy', 2: 'name: with colon'}
    dataset_utils.write_label_file(labels, str(tmp_path))
    text = (tmp_path / 'labels.txt').read_text()
    assert text == '0:daisy\n1:roses\n2:name: with colon\n'
    assert dataset_utils.has_labels(str(tmp_path))
    assert dataset_utils.read_label_file(str(tmp_path)) == labels
    assert os.listdir(tmp_path) == ['labels.txt']  # no temporary file left


def test_read_label_file_refuses_malformed_lines(tmp_path):
    (tmp_path / 'labels.txt').write_text('0:daisy\nroses\n')
    with pytest.raises(ValueError, match=r'line 2.*expected "id:name"'):
        dataset_utils.read_label_file(str(tmp_path))
