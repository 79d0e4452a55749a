"""Tests of `dataset_factory` and the dataset definitions against TF-Slim's.

TF-Slim's own decoder (`tf_slim.data.tfexample_decoder`, run in a graph) is the
oracle that our records read in TF-Slim; records named and keyed as TF-Slim's
converters write them must read here.
"""

import io
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from slim_datasets import dataset_factory
from slim_datasets import dataset_utils
from slim_datasets import imagenet


def _png(array):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format='PNG')
    return buffer.getvalue()


def _write(path, images_and_labels, image_format=b'png'):
    with tf.io.TFRecordWriter(str(path)) as writer:
        for image, label in images_and_labels:
            writer.write(
                dataset_utils.image_to_tfexample(
                    _png(image),
                    image_format,
                    image.shape[0],
                    image.shape[1],
                    label,
                ).SerializeToString()
            )


def _images(count, shape=(4, 5, 3), seed=0):
    rng = np.random.RandomState(seed)
    return [
        (rng.randint(0, 256, shape).astype(np.uint8), i % 3)
        for i in range(count)
    ]


# TF-Slim's research/slim numbers: split sizes and class counts.
TF_SLIM_DEFINITIONS = {
    'flowers': ({'train': 3320, 'validation': 350}, 5),
    'cifar10': ({'train': 50000, 'test': 10000}, 10),
    'mnist': ({'train': 60000, 'test': 10000}, 10),
    'imagenet': ({'train': 1281167, 'validation': 50000}, 1001),
}
# The file names TF-Slim's converters (and build_imagenet_data.py) write.
TF_SLIM_FILENAMES = {
    'flowers': 'flowers_%s_00000-of-00005.tfrecord',
    'cifar10': 'cifar10_%s.tfrecord',
    'mnist': 'mnist_%s.tfrecord',
    'imagenet': '%s-00000-of-01024',
}


@pytest.mark.parametrize('name', sorted(TF_SLIM_DEFINITIONS))
def test_reads_tf_slim_named_files_with_tf_slim_sizes(tmp_path, name):
    sizes, num_classes = TF_SLIM_DEFINITIONS[name]
    records = _images(3)
    for split in sizes:
        _write(tmp_path / (TF_SLIM_FILENAMES[name] % split), records)
    for split, size in sizes.items():
        dataset = dataset_factory.get_dataset(name, split, str(tmp_path))
        assert (
            dataset.num_samples == size and dataset.num_classes == num_classes
        )
        assert set(dataset.items_to_descriptions) >= {'image', 'label'}
        got = sorted(
            (int(l), im.tobytes())
            for im, l in dataset.read().as_numpy_iterator()
        )
        assert got == sorted((l, im.tobytes()) for im, l in records)


@pytest.mark.parametrize('name', ['cifar10', 'mnist', 'imagenet'])
def test_reads_our_shard_names_too(tmp_path, name):
    split = sorted(TF_SLIM_DEFINITIONS[name][0])[0]
    _write(
        dataset_utils.shard_filename(str(tmp_path), name, split, 0, 2),
        _images(2),
    )
    _write(
        dataset_utils.shard_filename(str(tmp_path), name, split, 1, 2),
        _images(1),
    )
    dataset = dataset_factory.get_dataset(name, split, str(tmp_path))
    assert len(dataset.data_sources) == 2 and len(list(dataset.read())) == 3


def test_labels_file_gives_the_names(tmp_path):
    _write(tmp_path / 'flowers_train_00000-of-00001.tfrecord', _images(1))
    dataset_utils.write_label_file({0: 'daisy', 1: 'dandelion'}, str(tmp_path))
    dataset = dataset_factory.get_dataset('flowers', 'train', str(tmp_path))
    assert dataset.labels_to_names == {0: 'daisy', 1: 'dandelion'}


def test_file_pattern_overrides_the_default(tmp_path):
    _write(tmp_path / 'my-train.rec', _images(2))
    dataset = dataset_factory.get_dataset(
        'flowers', 'train', str(tmp_path), file_pattern='my-%s.rec'
    )
    assert len(list(dataset.read())) == 2


def test_our_records_decode_in_tf_slim(tmp_path, monkeypatch):
    import tf_slim  # noqa: F401  (aliases in conftest make it importable)
    from tf_slim.data import tfexample_decoder

    # TF-Slim 1.1.0's Image handler calls control_flow_ops.case and .cond, which
    # TF 2.21 moved elsewhere; point the old names at them for this test.
    monkeypatch.setattr(
        tfexample_decoder.control_flow_ops,
        'case',
        tf.compat.v1.case,
        raising=False,
    )
    monkeypatch.setattr(
        tfexample_decoder.control_flow_ops,
        'cond',
        tf.compat.v1.cond,
        raising=False,
    )
    records = _images(3, shape=(6, 7, 3), seed=1)
    path = dataset_utils.shard_filename(str(tmp_path), 'flowers', 'train', 0, 1)
    _write(path, records)
    serialized = [r.numpy() for r in tf.data.TFRecordDataset(path)]
    with tf.Graph().as_default():
        # TF-Slim's flowers.py decoder, as it defines it.
        keys_to_features = {
            'image/encoded': tf.io.FixedLenFeature(
                (), tf.string, default_value=''
            ),
            'image/format': tf.io.FixedLenFeature(
                (), tf.string, default_value='png'
            ),
            'image/class/label': tf.io.FixedLenFeature(
                [], tf.int64, default_value=tf.zeros([], dtype=tf.int64)
            ),
        }
        items_to_handlers = {
            'image': tfexample_decoder.Image(),
            'label': tfexample_decoder.Tensor('image/class/label'),
        }
        decoder = tfexample_decoder.TFExampleDecoder(
            keys_to_features, items_to_handlers
        )
        record = tf.compat.v1.placeholder(tf.string, [])
        image, label = decoder.decode(record, ['image', 'label'])
        with tf.compat.v1.Session() as sess:
            slim_decoded = [
                sess.run([image, label], {record: s}) for s in serialized
            ]
    ours = dataset_factory.get_dataset('flowers', 'train', str(tmp_path)).read()
    for (slim_image, slim_label), (our_image, our_label) in zip(
        slim_decoded, ours.as_numpy_iterator()
    ):
        np.testing.assert_array_equal(slim_image, our_image)
        assert slim_label == our_label


def test_unknown_dataset_lists_the_valid_names(tmp_path):
    with pytest.raises(
        ValueError,
        match=r"name='flower'.*cifar10, custom, digits, flowers, "
        r"imagenet, mnist",
    ):
        dataset_factory.get_dataset('flower', 'train', str(tmp_path))


@pytest.mark.parametrize(
    'name,valid',
    [
        ('flowers', 'train, validation'),
        ('cifar10', 'test, train'),
        ('mnist', 'test, train'),
        ('imagenet', 'train, validation'),
        ('digits', 'train, validation'),
    ],
)
def test_unknown_split_lists_the_valid_ones(tmp_path, name, valid):
    with pytest.raises(ValueError, match=r"split_name='dev'.*%s" % valid):
        dataset_factory.get_dataset(name, 'dev', str(tmp_path))


def test_no_shards_error_names_the_pattern(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        dataset_factory.get_dataset('flowers', 'train', str(tmp_path))
    assert os.path.join(str(tmp_path), 'flowers_train_*.tfrecord') in str(
        info.value
    )
    with pytest.raises(ValueError, match='dataset_dir=None'):
        dataset_factory.get_dataset('cifar10', 'train', None)


def test_imagenet_names_from_synset_files(tmp_path):
    _write(tmp_path / 'validation-00000-of-00001', _images(1))
    synsets = ['n01440764', 'n01443537'] + ['n%08d' % i for i in range(998)]
    (tmp_path / imagenet.SYNSETS_FILENAME).write_text('\n'.join(synsets) + '\n')
    (tmp_path / imagenet.METADATA_FILENAME).write_text(
        'n01440764\ttench, Tinca tinca\nn01443537\tgoldfish, Carassius auratus\n'
        'n99999999\tnot in ILSVRC\n'
        + ''.join('n%08d\tthing %d\n' % (i, i) for i in range(998))
    )
    dataset = dataset_factory.get_dataset(
        'imagenet', 'validation', str(tmp_path)
    )
    names = dataset.labels_to_names
    assert len(names) == 1001 and names[0] == 'background'
    assert (
        names[1] == 'tench, Tinca tinca'
        and names[2] == 'goldfish, Carassius auratus'
    )
    assert names[1000] == 'thing 997'


def test_imagenet_without_names_files_has_no_names(tmp_path):
    _write(tmp_path / 'train-00000-of-00001', _images(1))
    assert (
        dataset_factory.get_dataset(
            'imagenet', 'train', str(tmp_path)
        ).labels_to_names
        is None
    )


def test_imagenet_malformed_metadata_is_refused(tmp_path):
    (tmp_path / imagenet.SYNSETS_FILENAME).write_text('n01440764\n')
    (tmp_path / imagenet.METADATA_FILENAME).write_text(
        'n01440764 tench without a tab\n'
    )
    with pytest.raises(ValueError, match='expected "synset<TAB>name"'):
        imagenet.readable_names_from_synsets(str(tmp_path))
    (tmp_path / imagenet.METADATA_FILENAME).write_text('n00000000\tother\n')
    with pytest.raises(ValueError, match='no name for the synsets'):
        imagenet.readable_names_from_synsets(str(tmp_path))


def test_custom_dataset_discovers_splits_and_caches_sizes(tmp_path):
    _write(
        dataset_utils.shard_filename(str(tmp_path), 'pets', 'train', 0, 2),
        _images(3),
    )
    _write(
        dataset_utils.shard_filename(str(tmp_path), 'pets', 'train', 1, 2),
        _images(2),
    )
    _write(
        dataset_utils.shard_filename(str(tmp_path), 'pets', 'holdout', 0, 1),
        _images(1),
    )
    dataset_utils.write_label_file(
        {0: 'cat', 1: 'dog', 2: 'eel'}, str(tmp_path)
    )
    dataset = dataset_factory.get_dataset('custom', 'train', str(tmp_path))
    assert (dataset.num_samples, dataset.num_classes) == (5, 3)
    assert (tmp_path / 'split_sizes.json').exists()
    assert (
        dataset_factory.get_dataset(
            'custom', 'holdout', str(tmp_path)
        ).num_samples
        == 1
    )
    # A re-written shard changes its size, so the cached count is not trusted.
    _write(
        dataset_utils.shard_filename(str(tmp_path), 'pets', 'train', 1, 2),
        _images(6),
    )
    assert (
        dataset_factory.get_dataset(
            'custom', 'train', str(tmp_path)
        ).num_samples
        == 9
    )
    with pytest.raises(
        ValueError, match=r"split_name='validation'.*holdout, train"
    ):
        dataset_factory.get_dataset('custom', 'validation', str(tmp_path))


def test_custom_dataset_needs_labels_and_a_folder(tmp_path):
    _write(
        dataset_utils.shard_filename(str(tmp_path), 'pets', 'train', 0, 1),
        _images(1),
    )
    with pytest.raises(FileNotFoundError, match='labels.txt'):
        dataset_factory.get_dataset('custom', 'train', str(tmp_path))
    with pytest.raises(ValueError, match='dataset_dir=None'):
        dataset_factory.get_dataset('custom', 'train', None)


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _python_files():
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [
            d
            for d in dirs
            if not d.startswith(('.', '__')) and d not in ('build', 'golden')
        ]
        for name in files:
            if name.endswith('.py'):
                yield os.path.join(folder, name)


def test_no_module_imports_a_package_named_datasets():
    # Hugging Face's `datasets` owns that top-level name; ours is
    # `slim_datasets`, so the two can be installed side by side.
    import ast

    offenders = []
    for path in _python_files():
        with open(path) as f:
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or '']
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            offenders += [
                '%s:%d' % (os.path.relpath(path, ROOT), node.lineno)
                for n in names
                if n.split('.')[0] == 'datasets'
            ]
    assert offenders == []
    assert not os.path.exists(os.path.join(ROOT, 'datasets'))


def test_the_drivers_data_beside_another_datasets_package(tmp_path):
    # A stand-in for Hugging Face's `datasets`, first on the path, as an
    # installed one is for a user's script outside this checkout.
    shadow = tmp_path / 'site' / 'datasets'
    shadow.mkdir(parents=True)
    (shadow / '__init__.py').write_text("NAME = 'huggingface'\n")
    script = (
        'import datasets, driver_utils, train_image_classifier\n'
        'from slim_datasets import dataset_factory\n'
        "assert datasets.NAME == 'huggingface'\n"
        "split = driver_utils.get_dataset('digits', 'train', %r)\n"
        'print(split.num_samples, split.num_classes)\n'
        % str(tmp_path / 'digits')
    )
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path / 'site'), ROOT])
    )
    done = subprocess.run(
        [sys.executable, '-c', script],
        cwd=str(tmp_path),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-2:] == ['1500', '10']
