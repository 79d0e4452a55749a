"""The embedded default dataset: scikit-learn's 1,797 handwritten digits as PNG TFRecords.

scikit-learn ships the 8x8 images, so this needs no network. On first use they are
upscaled to 28x28, their grey levels spread over 0..255, and written as real TF-Slim
shards (1,500 train / 297 validation, a fixed split) into a cache folder:
`dataset_dir` if given, else `$SLIM_DIGITS_DIR`, else `~/.cache/slim/digits`.

The build is atomic: it writes into a temporary folder and renames it into place (or,
when the folder already exists, moves the files in and writes a completion marker
last), so a killed build never leaves a dataset that looks complete. Building twice
gives byte-identical files.

It is only ever written into a folder that does not exist, an empty one, or one that
holds nothing but the digits dataset (any version of it, or a killed build of it): a
`dataset_dir` holding anything else is someone's data, refused with a
`conversion.ForeignFilesError` before anything is written.
"""

import io
import json
import os
import re
import shutil
import tempfile

import numpy as np
import tensorflow as tf
from PIL import Image

from slim.errors import ArgumentError
from slim_datasets import conversion
from slim_datasets import dataset_utils
from slim_datasets import tfrecord_dataset

ENV_VAR = 'SLIM_DIGITS_DIR'

FILE_PATTERNS = ('digits_%s_*-of-*.tfrecord',)

SPLITS_TO_SIZES = {'train': 1500, 'validation': 297}

NUM_CLASSES = 10

IMAGE_SIZE = 28

NUM_SHARDS = {'train': 2, 'validation': 1}

ITEMS_TO_DESCRIPTIONS = {
    'image': 'A [28 x 28 x 3] image of a white digit on black (gray in 3 channels).',
    'label': 'A single integer between 0 and 9',
}

# Bump when the written images change, so caches of the old version are rebuilt.
_VERSION = 1
_MARKER = 'digits_complete.json'
_SPLIT_SEED = 0
_LABELS = {i: str(i) for i in range(NUM_CLASSES)}
# What a folder of the digits dataset may hold: any version's shards, its labels
# (checked by content), the marker and the temporary folders of killed builds.
_OWN_SHARD_RE = re.compile(
    r'^digits_(train|validation)_\d{5}-of-\d{5}\.tfrecord$'
)
_BUILD_PREFIX = '.digits-build-'


def get_split(split_name, dataset_dir=None, file_pattern=None):
    """Returns the `DatasetSplit` of one digits split, building the cache if needed.

    Args:
      split_name: `'train'` or `'validation'`.
      dataset_dir: the cache folder; None for `$SLIM_DIGITS_DIR` or
        `~/.cache/slim/digits`.
      file_pattern: a glob overriding the default; `%s` is replaced by the split.

    Raises:
      ValueError: if `split_name` is not a digits split.
      ValueError: if `dataset_dir` is a file.
      conversion.ForeignFilesError: (a ValueError) if `dataset_dir` holds files
        that are not the digits dataset's; see `build`.
    """
    if split_name not in SPLITS_TO_SIZES:
        raise ArgumentError(
            'split_name',
            split_name,
            'is not a split of the digits dataset; valid names: %s.'
            % ', '.join(sorted(SPLITS_TO_SIZES)),
        )
    dataset_dir = build(dataset_dir)
    # 1,797 images of 2 kB decoded: keeping them in memory saves the decoding
    # each epoch, which would cost more CPU than training LeNet on them.
    return tfrecord_dataset.make_split(
        'digits',
        split_name,
        dataset_dir,
        file_pattern,
        FILE_PATTERNS,
        SPLITS_TO_SIZES,
        NUM_CLASSES,
        ITEMS_TO_DESCRIPTIONS,
        cache_decoded=True,
    )


def default_dir():
    """Returns the cache folder used when no `dataset_dir` is given."""
    return os.environ.get(ENV_VAR) or os.path.join(
        os.path.expanduser('~'), '.cache', 'slim', 'digits'
    )


def is_built(dataset_dir):
    """Returns whether `dataset_dir` holds a complete digits dataset of this version."""
    try:
        with open(os.path.join(dataset_dir, _MARKER), encoding='utf-8') as f:
            return json.load(f).get('version') == _VERSION
    except (OSError, ValueError):
        return False


def build(dataset_dir=None):
    """Writes the digits shards and `labels.txt` unless already there; returns the folder.

    Args:
      dataset_dir: the cache folder; None for `default_dir()`.

    Raises:
      ValueError: if `dataset_dir` is a file.
      conversion.ForeignFilesError: (a ValueError) if `dataset_dir` holds anything
        but the digits dataset (a user's photos, another dataset's shards or
        `labels.txt`). Nothing is written then; a built folder into which other
        files were put is refused too, so nothing else is ever mixed with the
        digits.
    """
    given = dataset_dir
    dataset_dir = os.path.abspath(
        os.path.expanduser(dataset_dir or default_dir())
    )
    check_folder(dataset_dir, given)
    if is_built(dataset_dir):
        return dataset_dir
    if not os.path.isdir(dataset_dir):
        parent = os.path.dirname(dataset_dir)
        os.makedirs(parent, exist_ok=True)
        tmp_dir = tempfile.mkdtemp(prefix=_BUILD_PREFIX, dir=parent)
        try:
            os.chmod(
                tmp_dir, 0o755
            )  # mkdtemp's 0o700 would hide the cache from others
            _write_dataset(tmp_dir)
            os.rename(tmp_dir, dataset_dir)
        except OSError:
            # Another process may have renamed its build into place first.
            if not is_built(dataset_dir):
                raise
        finally:
            shutil.rmtree(tmp_dir, ignore_errors=True)
        return dataset_dir
    # The folder exists (empty, or a build of an older version): build beside the
    # files, move them in, drop the shards of an older version (read with the new
    # ones, they would mix), and write the completion marker last.
    tmp_dir = tempfile.mkdtemp(prefix=_BUILD_PREFIX, dir=dataset_dir)
    try:
        _write_dataset(tmp_dir)
        names = sorted(os.listdir(tmp_dir))
        names.remove(_MARKER)
        for name in names:
            os.replace(
                os.path.join(tmp_dir, name), os.path.join(dataset_dir, name)
            )
        for name in os.listdir(dataset_dir):
            if _OWN_SHARD_RE.match(name) and name not in names:
                os.remove(os.path.join(dataset_dir, name))
        os.replace(
            os.path.join(tmp_dir, _MARKER), os.path.join(dataset_dir, _MARKER)
        )
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return dataset_dir


def check_folder(dataset_dir, given=None):
    """Raises unless `dataset_dir` is missing, empty, or holds only the digits dataset.

    Args:
      dataset_dir: the folder to check.
      given: the value the caller was given, for the message (default: the folder).

    Raises:
      ValueError: if `dataset_dir` is a file.
      conversion.ForeignFilesError: naming `dataset_dir` and a few foreign files.
    """
    shown = given or dataset_dir
    if os.path.exists(dataset_dir) and not os.path.isdir(dataset_dir):
        raise ArgumentError(
            'dataset_dir',
            shown,
            'is a file; expected a folder for the embedded '
            'digits dataset (a new or empty one, or its cache).',
        )
    if not os.path.isdir(dataset_dir):
        return
    foreign = sorted(
        name
        for name in os.listdir(dataset_dir)
        if not _is_own(dataset_dir, name)
    )
    if foreign:
        raise conversion.ForeignFilesError(
            'dataset_dir',
            shown,
            'holds files that are not the embedded digits dataset\'s (%s); expected a '
            'folder that does not exist, an empty one, or one holding only the digits '
            'dataset. The digits are never written beside other data: to read another '
            'dataset, pass its name as {name} (now \'digits\').'
            % dataset_utils.some_names(foreign),
            mentions=('name',),
        )


def load_images():
    """Returns `(images uint8 [1797, 28, 28], labels int64 [1797])` from scikit-learn."""
    from sklearn.datasets import load_digits  # only needed when building

    digits = load_digits()
    images = np.stack([_upscale(image) for image in digits.images])
    return images, digits.target.astype(np.int64)


def split_indices():
    """Returns `{split: indices into load_images()}`, the same on every machine."""
    order = np.random.RandomState(_SPLIT_SEED).permutation(
        sum(SPLITS_TO_SIZES.values())
    )
    num_train = SPLITS_TO_SIZES['train']
    return {'train': order[:num_train], 'validation': order[num_train:]}


def _is_own(dataset_dir, name):
    path = os.path.join(dataset_dir, name)
    if name.startswith(_BUILD_PREFIX):
        return os.path.isdir(path)
    if not os.path.isfile(path):
        return False
    if _OWN_SHARD_RE.match(name) or name == _MARKER:
        return True
    if name == dataset_utils.LABELS_FILENAME:
        # Another dataset's labels.txt has the same name; only ours has this content.
        try:
            return dataset_utils.read_label_file(dataset_dir) == _LABELS
        except (OSError, ValueError, UnicodeDecodeError):
            return False
    return False


def _upscale(image):
    # 0..16 grey levels, upscaled smoothly; then stretched so every digit uses the
    # full 0..255 range, which keeps the inputs of small nets well scaled.
    small = Image.fromarray(
        (image * (255.0 / 16.0)).round().astype(np.uint8), 'L'
    )
    big = np.asarray(
        small.resize((IMAGE_SIZE, IMAGE_SIZE), Image.BILINEAR), np.float64
    )
    low, high = big.min(), big.max()
    if high > low:
        big = (big - low) * (255.0 / (high - low))
    return big.round().astype(np.uint8)


def _png(image):
    buffer = io.BytesIO()
    Image.fromarray(image, 'L').save(buffer, format='PNG')
    return buffer.getvalue()


def _write_dataset(dataset_dir):
    images, labels = load_images()
    for split_name, indices in split_indices().items():
        num_shards = NUM_SHARDS[split_name]
        for shard, shard_indices in enumerate(
            np.array_split(indices, num_shards)
        ):
            path = dataset_utils.shard_filename(
                dataset_dir, 'digits', split_name, shard, num_shards
            )
            with tf.io.TFRecordWriter(path) as writer:
                for i in shard_indices:
                    example = dataset_utils.image_to_tfexample(
                        _png(images[i]),
                        b'png',
                        IMAGE_SIZE,
                        IMAGE_SIZE,
                        labels[i],
                    )
                    writer.write(example.SerializeToString())
    dataset_utils.write_label_file(_LABELS, dataset_dir)
    with open(os.path.join(dataset_dir, _MARKER), 'w', encoding='utf-8') as f:
        json.dump(
            {'version': _VERSION, 'splits': SPLITS_TO_SIZES}, f, sort_keys=True
        )
