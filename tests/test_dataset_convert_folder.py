"""Tests of the folder converter: round trip, record format, determinism, safety."""

import filecmp
import os
import random
import re

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from slim_datasets import convert_folder
from slim_datasets import dataset_factory
from slim_datasets import image_files

CLASSES = ('cat', 'dog', 'eel')


def _make_source(root, per_class=6, seed=0):
    """Writes PNGs (RGB, gray, RGBA), one JPEG and one BMP; returns {path: pixels}."""
    rng = np.random.RandomState(seed)
    pixels = {}
    for class_name in CLASSES:
        os.makedirs(os.path.join(root, class_name))
        for i in range(per_class):
            shape = [(9, 7, 3), (6, 8), (5, 5, 4)][i % 3]
            array = rng.randint(0, 256, shape).astype(np.uint8)
            path = os.path.join(root, class_name, '%d.png' % i)
            Image.fromarray(array).save(path)
            rgb = array if array.ndim == 3 else np.stack([array] * 3, axis=-1)
            pixels[path] = rgb[..., :3]
    Image.fromarray(np.full((8, 8, 3), 100, np.uint8)).save(
        os.path.join(root, 'dog', 'x.jpg')
    )
    bmp = rng.randint(0, 256, (4, 6, 3)).astype(np.uint8)
    Image.fromarray(bmp).save(os.path.join(root, 'eel', 'y.bmp'))
    pixels[os.path.join(root, 'eel', 'y.bmp')] = bmp
    return pixels


def _read_split(dataset_dir, split):
    dataset = dataset_factory.get_dataset('custom', split, dataset_dir)
    return dataset, list(dataset.read().as_numpy_iterator())


def test_round_trip_keeps_pixels_and_labels(tmp_path):
    source = str(tmp_path / 'src')
    pixels = _make_source(source)
    out = str(tmp_path / 'out')
    result = convert_folder.convert_folder(
        source, out, num_validation=4, num_shards=2, num_workers=2
    )
    assert result.converted and result.num_skipped == 0
    assert result.splits_to_sizes == {'train': 16, 'validation': 4}
    train, train_records = _read_split(out, 'train')
    validation, validation_records = _read_split(out, 'validation')
    assert train.labels_to_names == dict(enumerate(CLASSES))
    assert (train.num_samples, validation.num_samples, train.num_classes) == (
        16,
        4,
        3,
    )
    # Every lossless source image comes back exactly, with its folder's label.
    expected = sorted(
        (CLASSES.index(os.path.basename(os.path.dirname(p))), a.tobytes())
        for p, a in pixels.items()
    )
    got = sorted(
        (int(label), image.tobytes())
        for image, label in train_records + validation_records
        if not (
            image.shape == (8, 8, 3)
            and np.abs(image.astype(int) - 100).max() <= 2
        )
    )
    assert got == expected
    assert (
        len(train_records + validation_records) == len(pixels) + 1
    )  # + the JPEG


def test_raw_records_have_tf_slim_keys_and_shard_names(tmp_path):
    source = str(tmp_path / 'src')
    pixels = _make_source(source, per_class=2)
    out = str(tmp_path / 'out')
    convert_folder.convert_folder(
        source, out, num_validation=2, num_shards=3, num_workers=0
    )
    shards = sorted(f for f in os.listdir(out) if f.endswith('.tfrecord'))
    assert shards == [
        'custom_train_%05d-of-00003.tfrecord' % i for i in range(3)
    ] + ['custom_validation_%05d-of-00002.tfrecord' % i for i in range(2)]
    assert (
        tmp_path / 'out' / 'labels.txt'
    ).read_text() == '0:cat\n1:dog\n2:eel\n'
    formats = set()
    for shard in shards:
        for raw in tf.data.TFRecordDataset(os.path.join(out, shard)):
            feature = tf.train.Example.FromString(raw.numpy()).features.feature
            assert sorted(feature) == [
                'image/class/label',
                'image/encoded',
                'image/format',
                'image/height',
                'image/width',
            ]
            encoded = feature['image/encoded'].bytes_list.value[0]
            image = tf.io.decode_image(encoded).numpy()
            assert feature['image/height'].int64_list.value == [image.shape[0]]
            assert feature['image/width'].int64_list.value == [image.shape[1]]
            assert feature['image/class/label'].int64_list.value[0] in (0, 1, 2)
            formats.add(feature['image/format'].bytes_list.value[0])
            # PNGs and JPEGs are stored byte for byte; the BMP was re-encoded as PNG.
            assert encoded[:4] in (
                b'\x89PNG',
                b'\xff\xd8\xff\xe0',
                b'\xff\xd8\xff\xdb',
            )
    assert formats == {b'png', b'jpeg'}
    assert len(pixels) + 1 == sum(
        1 for s in shards for _ in tf.data.TFRecordDataset(os.path.join(out, s))
    )


def test_same_seed_same_files_whatever_the_workers(tmp_path):
    source = str(tmp_path / 'src')
    _make_source(source)
    outputs = []
    for name, workers, seed in (('a', 0, 7), ('b', 2, 7), ('c', 0, 8)):
        out = str(tmp_path / name)
        convert_folder.convert_folder(
            source, out, num_validation=5, seed=seed, num_workers=workers
        )
        outputs.append(out)
    names = sorted(os.listdir(outputs[0]))
    _, mismatch, errors = filecmp.cmpfiles(
        outputs[0], outputs[1], names, shallow=False
    )
    assert not mismatch and not errors
    _, mismatch, _ = filecmp.cmpfiles(
        outputs[0], outputs[2], names, shallow=False
    )
    assert mismatch  # another seed, another split


def test_undecodable_files_are_skipped_and_reported(tmp_path):
    source = str(tmp_path / 'src')
    _make_source(source, per_class=3)
    (tmp_path / 'src' / 'cat' / 'notes.txt').write_text('not an image')
    good = (tmp_path / 'src' / 'dog' / '0.png').read_bytes()
    (tmp_path / 'src' / 'dog' / 'cut.png').write_bytes(good[: len(good) // 2])
    (tmp_path / 'src' / 'dog' / '.hidden.png').write_bytes(b'ignored')
    result = convert_folder.convert_folder(
        source, str(tmp_path / 'out'), num_validation=2, num_workers=2
    )
    assert result.num_skipped == 2
    assert sorted(os.path.basename(p) for p, _ in result.skipped_files) == [
        'cut.png',
        'notes.txt',
    ]
    assert sum(result.splits_to_sizes.values()) == 9 + 2
    _, records = _read_split(str(tmp_path / 'out'), 'train')
    assert len(records) == result.splits_to_sizes['train']


def test_existing_dataset_is_kept_without_overwrite(tmp_path):
    source = str(tmp_path / 'src')
    _make_source(source, per_class=2)
    out = str(tmp_path / 'out')
    convert_folder.convert_folder(
        source, out, num_validation=1, num_shards=2, num_workers=0
    )
    before = {n: (tmp_path / 'out' / n).read_bytes() for n in os.listdir(out)}
    result = convert_folder.convert_folder(
        source, out, num_validation=3, num_shards=1, num_workers=0
    )
    assert not result.converted
    assert {
        n: (tmp_path / 'out' / n).read_bytes() for n in os.listdir(out)
    } == before
    result = convert_folder.convert_folder(
        source,
        out,
        num_validation=3,
        num_shards=1,
        num_workers=0,
        overwrite=True,
    )
    assert result.converted and result.splits_to_sizes == {
        'train': 5,
        'validation': 3,
    }
    names = sorted(os.listdir(out))
    assert names == [
        'custom_train_00000-of-00001.tfrecord',
        'custom_validation_00000-of-00001.tfrecord',
        'labels.txt',
        'split_sizes.json',
    ]  # the old 2-shard files are gone, nothing else left
    assert (
        dataset_factory.get_dataset('custom', 'validation', out).num_samples
        == 3
    )


def test_a_failing_conversion_leaves_the_folder_as_it_was(
    tmp_path, monkeypatch
):
    source = str(tmp_path / 'src')
    _make_source(source, per_class=2)
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'unrelated.txt').write_text('mine')

    def broken(path):
        raise RuntimeError('worker died')

    monkeypatch.setattr(image_files, 'read_image', broken)
    with pytest.raises(RuntimeError):
        convert_folder.convert_folder(
            source, str(out), num_validation=1, num_workers=0
        )
    assert os.listdir(out) == ['unrelated.txt']


@pytest.mark.parametrize(
    'kwargs,match',
    [
        ({'validation_fraction': 1.0}, r'validation_fraction=1\.0'),
        ({'num_validation': 100}, r'num_validation=100.*\[0, 8\)'),
        ({'num_shards': 0}, 'num_shards=0'),
        ({'num_workers': -1}, 'num_workers=-1'),
    ],
)
def test_bad_arguments_are_refused(tmp_path, kwargs, match):
    source = str(tmp_path / 'src')
    _make_source(source, per_class=2)  # 6 PNGs, a JPEG and a BMP
    with pytest.raises(ValueError, match=match):
        convert_folder.convert_folder(source, str(tmp_path / 'out'), **kwargs)
    assert not (tmp_path / 'out').exists()


def test_source_errors(tmp_path):
    with pytest.raises(ValueError, match='is not a folder'):
        convert_folder.convert_folder(
            str(tmp_path / 'missing'), str(tmp_path / 'out')
        )
    (tmp_path / 'flat').mkdir()
    (tmp_path / 'flat' / 'a.png').write_bytes(b'')
    with pytest.raises(ValueError, match='no class sub-folders'):
        convert_folder.convert_folder(
            str(tmp_path / 'flat'), str(tmp_path / 'out')
        )
    (tmp_path / 'empty' / 'cat').mkdir(parents=True)
    with pytest.raises(
        ValueError, match=re.escape("sub-folders ['cat'] but no files")
    ):
        convert_folder.convert_folder(
            str(tmp_path / 'empty'), str(tmp_path / 'out')
        )


def test_shards_go_beside_other_files_without_touching_them(tmp_path):
    source = str(tmp_path / 'src')
    _make_source(source, per_class=2)
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'notes.txt').write_text('mine')
    (out / 'holiday.jpg').write_bytes(b'\xff\xd8 a photo')
    result = convert_folder.convert_folder(
        source, str(out), num_validation=1, num_shards=1, num_workers=0
    )
    assert result.converted
    assert (out / 'notes.txt').read_text() == 'mine'
    assert (out / 'holiday.jpg').read_bytes() == b'\xff\xd8 a photo'


@pytest.mark.parametrize('overwrite', [False, True])
def test_shards_of_another_name_are_neither_replaced_nor_mixed_with(
    tmp_path, overwrite
):
    # 'pets_cats_train_...' starts with 'pets_' but is not the 'pets' dataset's: an
    # overwrite of 'pets' used to delete it.
    source = str(tmp_path / 'src')
    _make_source(source, per_class=2)
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'pets_cats_train_00000-of-00001.tfrecord').write_bytes(b'not ours')
    with pytest.raises(
        ValueError,
        match=r"^dataset_dir='.*/out' holds TFRecord files that "
        r"are not the 'pets' dataset's \(pets_cats_train_",
    ):
        convert_folder.convert_folder(
            source, str(out), name='pets', num_workers=0, overwrite=overwrite
        )
    assert os.listdir(out) == ['pets_cats_train_00000-of-00001.tfrecord']
    assert (
        out / 'pets_cats_train_00000-of-00001.tfrecord'
    ).read_bytes() == b'not ours'


def test_a_folder_without_a_decodable_image_is_refused(tmp_path):
    source = tmp_path / 'src'
    for class_name in ('cat', 'dog'):
        (source / class_name).mkdir(parents=True)
        (source / class_name / 'notes.txt').write_text('not an image')
    (source / 'dog' / 'cut.jpg').write_bytes(b'\xff\xd8\xff\xe0 cut short')
    out = tmp_path / 'out'
    with pytest.raises(ValueError) as info:
        convert_folder.convert_folder(
            str(source), str(out), num_validation=1, num_workers=0
        )
    assert str(info.value) == (
        "source_dir=%r holds no image that can be decoded: all 3 files in its class "
        "sub-folders cat, dog were skipped (e.g. %s: not a format Pillow recognises); "
        "expected JPEG, PNG or other image files Pillow reads."
        % (str(source), os.path.join('cat', 'notes.txt'))
    )
    assert not out.exists()  # nothing written, not even the folder


def test_a_split_whose_files_are_all_skipped_is_not_written(tmp_path):
    source = tmp_path / 'src'
    (source / 'a').mkdir(parents=True)
    (source / 'b').mkdir()
    for i in range(3):
        Image.fromarray(np.full((2, 2, 3), i, np.uint8)).save(
            source / 'a' / ('%d.png' % i)
        )
    (source / 'b' / 'bad.png').write_bytes(b'not a png')
    # The seed whose shuffle puts the bad file first, i.e. into validation.
    files = sorted(str(p) for p in source.glob('*/*'))
    seed = next(
        s for s in range(100) if _shuffled(files, s)[0].endswith('bad.png')
    )
    out = str(tmp_path / 'out')
    result = convert_folder.convert_folder(
        str(source), out, num_validation=1, seed=seed, num_workers=0
    )
    assert result.splits_to_sizes == {'train': 3} and result.num_skipped == 1
    assert not [n for n in os.listdir(out) if '_validation_' in n]
    with pytest.raises(
        ValueError,
        match=r"split_name='validation'.*valid names \(from the "
        r'shard names\): train\.',
    ):
        dataset_factory.get_dataset('custom', 'validation', out)


def _shuffled(items, seed):
    items = list(items)
    random.Random(seed).shuffle(items)
    return items
