"""What every converter shares: shard writing, staging, and never destroying data.

A converter writes everything into a staging folder inside `dataset_dir` and
`publish`es it at the end, so a failed or killed conversion leaves the folder as it
was (a folder it had to create is removed again). A folder that already holds the
converted dataset is left alone unless `overwrite=True`; then the old shards are
removed only after the new ones are in place.

A converter of the dataset `name` only ever replaces or removes what a conversion
of `name` wrote:

  * its shards, `{name}_{split}_{i:05d}-of-{n:05d}.tfrecord` (and, for the splits
    it writes, TF-Slim's single files `{name}_{split}.tfrecord`);
  * `labels.txt` and `split_sizes.json`, of which a folder has one: they are
    `name`'s when the folder's TFRecord files are all `name`'s shards, and there
    is at least one.

So a folder with TFRecord files of another dataset (the new `labels.txt` would be
read with them, and the `custom` reader would mix both), or with a `labels.txt` or
`split_sizes.json` beside no shard of `name`, is refused with a `ForeignFilesError`
before anything is written, with or without `overwrite`. Files of other kinds
(photos, notes, the downloaded archive) are left where they are.
"""

import collections
import contextlib
import math
import os
import re
import shutil
import tempfile

import tensorflow as tf
from absl import logging

from slim.errors import ArgumentError
from slim_datasets import dataset_utils

ConversionResult = collections.namedtuple(
    'ConversionResult',
    [
        'dataset_dir',
        'splits_to_sizes',
        'num_skipped',
        'skipped_files',
        'converted',
    ],
)
ConversionResult.__doc__ = """What a converter did.

Fields:
  dataset_dir: the output folder.
  splits_to_sizes: `{split: records written}`; empty when nothing was converted.
  num_skipped: how many source files were skipped as not decodable images.
  skipped_files: `[(path, reason)]` of those files.
  converted: False when an existing dataset was kept (no `overwrite`).
"""

# The files of which a folder holds one, whichever dataset it is.
SHARED_FILENAMES = (dataset_utils.LABELS_FILENAME, 'split_sizes.json')

# Names of TFRecord files, ours and others': `*.tfrecord(s)`, and the
# `train-00000-of-01024` of TF-Slim's build_imagenet_data.py.
_TFRECORD_RE = re.compile(r'(\.tfrecords?$)|(-\d{5}-of-\d{5}$)')


class ForeignFilesError(ArgumentError):
    """A folder holds files that writing a dataset into it would replace or mix with."""


def check_dataset_dir(dataset_dir, name, splits):
    """Raises unless writing the dataset `name` into `dataset_dir` spares all else.

    Args:
      dataset_dir: the output folder; it need not exist.
      name: the dataset (shard name prefix) a converter is about to write.
      splits: the splits the converter writes, e.g. `('train', 'validation')`.

    Raises:
      ValueError: if `dataset_dir` is empty or a file.
      ForeignFilesError: (a ValueError) if `dataset_dir` holds TFRecord files that
        are not `name`'s shards, or `labels.txt`/`split_sizes.json` beside no shard
        of `name`; the message names `dataset_dir` and a few of those files.
    """
    if not dataset_dir:
        raise ArgumentError(
            'dataset_dir',
            dataset_dir,
            ': expected the folder the TFRecord shards and labels.txt go to.',
        )
    if os.path.exists(dataset_dir) and not os.path.isdir(dataset_dir):
        raise ArgumentError(
            'dataset_dir',
            dataset_dir,
            'is a file; expected a folder (new, empty, or holding the '
            '%r dataset) for the TFRecord shards and labels.txt.' % name,
        )
    own, foreign, shared = _scan(dataset_dir, name, splits)
    if foreign:
        raise ForeignFilesError(
            'dataset_dir',
            dataset_dir,
            'holds TFRecord files that are not the %r dataset\'s (%s); expected a new '
            'or empty folder, or one holding only the %r dataset: a folder has one '
            'labels.txt, and readers would mix the shards. Choose another {dataset_dir}.'
            % (name, dataset_utils.some_names(foreign), name),
            mentions=('dataset_dir',),
        )
    if shared and not own:
        raise ForeignFilesError(
            'dataset_dir',
            dataset_dir,
            'holds %s beside no %r shard, so no conversion of %r wrote it; expected a '
            'new or empty folder, or one holding the %r dataset. Move %s away or choose '
            'another {dataset_dir}.'
            % (
                ' and '.join(shared),
                name,
                name,
                name,
                'it' if len(shared) == 1 else 'them',
            ),
            mentions=('dataset_dir',),
        )


def existing_dataset_files(dataset_dir, name, splits):
    """Returns the paths of what a conversion of `name` wrote into `dataset_dir`.

    Its shards (of any split), and `labels.txt`/`split_sizes.json` when they are
    `name`'s (see the module docstring); [] when the folder does not exist.
    """
    own, foreign, shared = _scan(dataset_dir, name, splits)
    if own and not foreign:
        own += shared
    return sorted(os.path.join(dataset_dir, n) for n in own)


def keep_existing(dataset_dir, name, overwrite, splits):
    """Returns True (and logs why) if `name` is there and must not be replaced.

    Raises:
      ValueError, ForeignFilesError: as `check_dataset_dir`, first of all.
    """
    check_dataset_dir(dataset_dir, name, splits)
    existing = existing_dataset_files(dataset_dir, name, splits)
    if existing and not overwrite:
        logging.warning(
            '%s already holds a converted dataset (%s); keeping it. Pass '
            'overwrite=True (--overwrite) to re-create it.',
            dataset_dir,
            dataset_utils.some_names(os.path.basename(p) for p in existing),
        )
        return True
    return False


@contextlib.contextmanager
def staging_dir(dataset_dir):
    """Yields a fresh temporary folder inside `dataset_dir`, removed on exit.

    `dataset_dir` (and its missing parents) are created if needed, and removed
    again if the block fails and leaves them empty: a failed conversion leaves no
    trace. (What the block put there, e.g. a downloaded archive, stays.)
    """
    created = []  # deepest first
    folder = os.path.abspath(dataset_dir)
    while not os.path.isdir(folder) and os.path.dirname(folder) != folder:
        created.append(folder)
        folder = os.path.dirname(folder)
    os.makedirs(dataset_dir, exist_ok=True)
    path = tempfile.mkdtemp(prefix='.converting-', dir=dataset_dir)
    try:
        yield path
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        for folder in created:
            try:
                os.rmdir(folder)  # only if empty; anything else stays
            except OSError:
                break
        raise
    finally:
        shutil.rmtree(path, ignore_errors=True)


def publish(staging, dataset_dir, name, splits):
    """Moves the staged files into `dataset_dir`, then removes stale `name` shards.

    Stale are the shards of `splits` the new conversion did not write (another
    shard count, or TF-Slim's single files): left there, they would be read with
    the new ones.

    Raises:
      ForeignFilesError: if files of another dataset appeared in `dataset_dir`
        since the conversion started; nothing is moved then.
    """
    check_dataset_dir(dataset_dir, name, splits)
    new_names = sorted(os.listdir(staging))
    stale = [
        p
        for p in _shards_of_splits(dataset_dir, name, splits)
        if os.path.basename(p) not in new_names
    ]
    # labels.txt last: its presence is what marks the folder as converted.
    new_names.sort(key=lambda n: n == dataset_utils.LABELS_FILENAME)
    for filename in new_names:
        os.replace(
            os.path.join(staging, filename), os.path.join(dataset_dir, filename)
        )
    for path in stale:
        os.remove(path)


def write_split(
    serialized_examples, num_items, out_dir, name, split_name, num_shards
):
    """Writes examples into `num_shards` shards by input position; returns the count.

    Args:
      serialized_examples: an iterable of `num_items` serialized examples or None
        (a skipped item: its shard just gets one record fewer).
      num_items: the length of the iterable, which fixes which item goes where.
      out_dir: the folder for the shards.
      name, split_name: for the shard names.
      num_shards: the number of shards; at most `num_items` are used.
    """
    num_shards = max(1, min(num_shards, num_items))
    per_shard = max(1, int(math.ceil(num_items / float(num_shards))))
    writers = [None] * num_shards
    written = 0
    try:
        for index, serialized in enumerate(serialized_examples):
            shard = min(index // per_shard, num_shards - 1)
            if index % per_shard == 0 and index:
                logging.info(
                    '%s %s: %d of %d images converted.',
                    name,
                    split_name,
                    index,
                    num_items,
                )
            if writers[shard] is None:
                writers[shard] = tf.io.TFRecordWriter(
                    dataset_utils.shard_filename(
                        out_dir, name, split_name, shard, num_shards
                    )
                )
            if serialized is not None:
                writers[shard].write(serialized)
                written += 1
        for shard in range(num_shards):  # a shard whose items were all skipped
            if writers[shard] is None:
                writers[shard] = tf.io.TFRecordWriter(
                    dataset_utils.shard_filename(
                        out_dir, name, split_name, shard, num_shards
                    )
                )
    finally:
        for writer in writers:
            if writer is not None:
                writer.close()
    return written


def _own_shard_re(name, splits):
    return re.compile(
        r'^%s_(?:[^_]+_\d{5}-of-\d{5}|%s)\.tfrecord$'
        % (re.escape(name), '|'.join(re.escape(s) for s in splits))
    )


def _scan(dataset_dir, name, splits):
    """Returns the sorted `(own shards, foreign TFRecord files, shared files)` names."""
    if not os.path.isdir(dataset_dir):
        return [], [], []
    own_re = _own_shard_re(name, splits)
    own, foreign, shared = [], [], []
    for filename in sorted(os.listdir(dataset_dir)):
        if not os.path.isfile(os.path.join(dataset_dir, filename)):
            continue
        if own_re.match(filename):
            own.append(filename)
        elif filename in SHARED_FILENAMES:
            shared.append(filename)
        elif _TFRECORD_RE.search(filename):
            foreign.append(filename)
    return own, foreign, shared


def _shards_of_splits(dataset_dir, name, splits):
    own, _, _ = _scan(dataset_dir, name, splits)
    prefixes = tuple('%s_%s_' % (name, s) for s in splits)
    singles = ['%s_%s.tfrecord' % (name, s) for s in splits]
    return [
        os.path.join(dataset_dir, n)
        for n in own
        if n.startswith(prefixes) or n in singles
    ]
