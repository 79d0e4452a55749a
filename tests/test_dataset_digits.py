"""Tests of the embedded digits dataset: built from scikit-learn, cached, atomic."""

import filecmp
import os

import numpy as np
import pytest
from sklearn.datasets import load_digits

from slim_datasets import dataset_factory
from slim_datasets import digits


@pytest.fixture(scope='module')
def built_dir(tmp_path_factory):
    return digits.build(str(tmp_path_factory.mktemp('cache') / 'digits'))


def _read_all(dataset):
    images, labels = [], []
    for image, label in dataset.read().as_numpy_iterator():
        images.append(image)
        labels.append(label)
    return np.stack(images), np.array(labels)


def test_sizes_shapes_and_labels(built_dir):
    train = dataset_factory.get_dataset('digits', 'train', built_dir)
    validation = dataset_factory.get_dataset('digits', 'validation', built_dir)
    assert (train.num_samples, validation.num_samples, train.num_classes) == (
        1500,
        297,
        10,
    )
    assert train.labels_to_names == {i: str(i) for i in range(10)}
    train_images, train_labels = _read_all(train)
    validation_images, validation_labels = _read_all(validation)
    assert train_images.shape == (
        1500,
        28,
        28,
        3,
    ) and validation_images.shape == (297, 28, 28, 3)
    assert train_images.dtype == np.uint8 and train_labels.dtype == np.int64
    # Gray digits in three equal channels, spread over the full range.
    np.testing.assert_array_equal(train_images[..., 0], train_images[..., 2])
    assert train_images.min() == 0 and train_images.max() == 255
    # Together the splits hold scikit-learn's labels, each digit in both.
    expected = np.bincount(load_digits().target, minlength=10)
    got = np.bincount(
        np.concatenate([train_labels, validation_labels]), minlength=10
    )
    np.testing.assert_array_equal(got, expected)
    assert set(validation_labels) == set(range(10))


def test_images_are_scikit_learns_digits_upscaled(built_dir):
    from PIL import Image

    validation = dataset_factory.get_dataset('digits', 'validation', built_dir)
    images, labels = _read_all(
        validation
    )  # one shard: read in the split's order
    source = load_digits()
    index = digits.split_indices()['validation']
    np.testing.assert_array_equal(labels, source.target[index])
    for image, i in zip(images, index):
        # Shrunk back to 8x8, each image matches its scikit-learn original closely.
        small = np.asarray(
            Image.fromarray(image[..., 0]).resize((8, 8), Image.BOX), float
        )
        correlation = np.corrcoef(small.ravel(), source.images[i].ravel())[0, 1]
        assert correlation > 0.9


def test_split_is_deterministic_and_disjoint():
    first, second = digits.split_indices(), digits.split_indices()
    np.testing.assert_array_equal(first['train'], second['train'])
    assert len(first['train']) == 1500 and len(first['validation']) == 297
    assert not set(first['train']) & set(first['validation'])


def test_second_build_is_identical(built_dir, tmp_path):
    other = digits.build(str(tmp_path / 'again'))
    names = sorted(os.listdir(built_dir))
    assert names == sorted(os.listdir(other))
    assert (
        'labels.txt' in names
        and len([n for n in names if n.endswith('.tfrecord')]) == 3
    )
    match, mismatch, errors = filecmp.cmpfiles(
        built_dir, other, names, shallow=False
    )
    assert not mismatch and not errors


def test_built_cache_is_reused(built_dir):
    before = {
        n: os.stat(os.path.join(built_dir, n)).st_mtime_ns
        for n in os.listdir(built_dir)
    }
    assert digits.build(built_dir) == built_dir
    after = {
        n: os.stat(os.path.join(built_dir, n)).st_mtime_ns
        for n in os.listdir(built_dir)
    }
    assert before == after


def test_no_dataset_dir_uses_the_env_var_folder(tmp_path, monkeypatch):
    cache = tmp_path / 'env-cache'
    monkeypatch.setenv(digits.ENV_VAR, str(cache))
    dataset = dataset_factory.get_dataset('digits', 'train', None)
    assert dataset.dataset_dir == str(cache) and digits.is_built(str(cache))
    assert len(dataset.data_sources) == 2
    assert dataset.cache_decoded  # small: decoded once, then served from memory


def test_default_dir_without_env_var(monkeypatch):
    monkeypatch.delenv(digits.ENV_VAR, raising=False)
    assert digits.default_dir() == os.path.join(
        os.path.expanduser('~'), '.cache', 'slim', 'digits'
    )


def test_a_killed_build_leaves_no_dataset(tmp_path, monkeypatch):
    target = tmp_path / 'digits'
    real_write = digits._write_dataset

    def write_then_die(directory):
        real_write(directory)
        raise KeyboardInterrupt('killed')

    monkeypatch.setattr(digits, '_write_dataset', write_then_die)
    with pytest.raises(KeyboardInterrupt):
        digits.build(str(target))
    assert not target.exists() and os.listdir(tmp_path) == []
    monkeypatch.setattr(digits, '_write_dataset', real_write)
    assert digits.is_built(digits.build(str(target)))


def test_existing_folder_gets_marker_last(tmp_path, monkeypatch):
    target = tmp_path / 'digits'
    target.mkdir()
    (target / 'digits_train_00000-of-00002.tfrecord').write_bytes(
        b'half a shard'
    )
    real_replace = os.replace
    moved = []

    def replace_and_die(src, dst):
        if os.path.basename(dst) == 'digits_complete.json':
            raise OSError('disk full')
        moved.append(os.path.basename(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, 'replace', replace_and_die)
    with pytest.raises(OSError):
        digits.build(str(target))
    assert moved and not digits.is_built(str(target))
    assert not [n for n in os.listdir(target) if n.startswith('.digits-build-')]
    monkeypatch.setattr(os, 'replace', real_replace)
    digits.build(str(target))
    assert (
        len(
            list(
                dataset_factory.get_dataset(
                    'digits', 'train', str(target)
                ).read()
            )
        )
        == 1500
    )


# --- never written beside other data --------------------------------------------------


def _snapshot(folder):
    """{relative path: bytes} of every file under `folder` (folders as None)."""
    found = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs:
            found[os.path.relpath(os.path.join(root, name), folder)] = None
        for name in files:
            path = os.path.join(root, name)
            with open(path, 'rb') as f:
                found[os.path.relpath(path, folder)] = f.read()
    return found


def _user_folder(folder):
    folder.mkdir()
    (folder / 'holiday.jpg').write_bytes(b'\xff\xd8 a photo')
    (folder / 'cat.png').write_bytes(b'\x89PNG a cat')
    (folder / 'labels.txt').write_text('0:cat\n1:dog\n')
    (folder / 'sub').mkdir()
    (folder / 'sub' / 'more.png').write_bytes(b'\x89PNG')
    return folder


def test_a_folder_of_someone_elses_files_is_refused_and_left_alone(tmp_path):
    photos = _user_folder(tmp_path / 'photos')
    before = _snapshot(photos)
    for call in (
        lambda: digits.build(str(photos)),
        lambda: dataset_factory.get_dataset('digits', 'train', str(photos)),
    ):
        with pytest.raises(digits.conversion.ForeignFilesError) as info:
            call()
        message = str(info.value)
        assert message.startswith(
            'dataset_dir=%r holds files that are not the embedded '
            'digits dataset' % str(photos)
        )
        assert 'cat.png, holiday.jpg, labels.txt, sub' in message
        # It points at the factory's `name`, which the drivers call
        # --dataset_name.
        assert "pass its name as name (now 'digits')" in message
        assert info.value.mentions == ('name',) and '\n' not in message
        assert (
            _snapshot(photos) == before
        )  # not a byte written, not even a temp folder
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    'files',
    [
        {
            'labels.txt': '0:airplane\n1:automobile\n'
        },  # another dataset's labels alone
        {
            'labels.txt': '0:0\n1:1\n',
            'cifar10_train_00000-of-00005.tfrecord': 'x',
        },
        {'digits_train_00000-of-00002.tfrecord': 'x', 'notes.txt': 'mine'},
        {'.DS_Store': 'x'},
    ],
)
def test_any_foreign_file_is_refused(tmp_path, files):
    folder = tmp_path / 'd'
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    before = _snapshot(folder)
    with pytest.raises(
        ValueError, match=r"^dataset_dir='.*/d' holds files that are not"
    ):
        digits.build(str(folder))
    assert _snapshot(folder) == before


def test_a_built_cache_with_foreign_files_added_is_refused(built_dir, tmp_path):
    import shutil

    cache = tmp_path / 'cache'
    shutil.copytree(built_dir, cache)
    assert digits.build(str(cache)) == str(
        cache
    )  # a copy of the cache is the cache
    (cache / 'my_photo.jpg').write_bytes(b'\xff\xd8')
    with pytest.raises(ValueError, match=r'\(my_photo\.jpg\)'):
        dataset_factory.get_dataset('digits', 'validation', str(cache))


def test_a_file_as_dataset_dir_is_refused(tmp_path):
    path = tmp_path / 'notes.txt'
    path.write_text('mine')
    with pytest.raises(
        ValueError,
        match=r"^dataset_dir='.*notes\.txt' is a file; "
        r'expected a folder',
    ):
        digits.build(str(path))
    assert path.read_text() == 'mine' and os.listdir(tmp_path) == ['notes.txt']


def test_an_older_version_and_killed_builds_are_rebuilt_in_place(tmp_path):
    folder = tmp_path / 'digits'
    folder.mkdir()
    (folder / 'digits_train_00000-of-00003.tfrecord').write_bytes(b'old shard')
    (folder / 'labels.txt').write_text(
        ''.join('%d:%d\n' % (i, i) for i in range(10))
    )
    (folder / 'digits_complete.json').write_text('{"version": 0}')
    (folder / '.digits-build-killed').mkdir()  # a build killed with SIGKILL
    assert not digits.is_built(str(folder))
    digits.build(str(folder))
    assert digits.is_built(str(folder))
    assert (
        folder / '.digits-build-killed'
    ).is_dir()  # another build's, maybe running
    # The old version's shard is gone: read with the new ones it would mix in.
    assert sorted(n for n in os.listdir(folder) if n.endswith('.tfrecord')) == [
        'digits_train_00000-of-00002.tfrecord',
        'digits_train_00001-of-00002.tfrecord',
        'digits_validation_00000-of-00001.tfrecord',
    ]
    assert (
        len(
            list(
                dataset_factory.get_dataset(
                    'digits', 'train', str(folder)
                ).read()
            )
        )
        == 1500
    )
