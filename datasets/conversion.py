"""What every converter shares: shard writing, staging, and never destroying a dataset.

A converter writes everything into a staging folder inside `dataset_dir` and
`publish`es it at the end, so a failed or killed conversion leaves the folder as it
was. A folder that already holds a converted dataset (its shards or `labels.txt`) is
left alone unless `overwrite=True`; then the old shards are removed only after the
new ones are in place.
"""
import collections
import contextlib
import glob
import math
import os
import shutil
import tempfile

import tensorflow as tf
from absl import logging

from datasets import dataset_utils

ConversionResult = collections.namedtuple(
    'ConversionResult', ['dataset_dir', 'splits_to_sizes', 'num_skipped', 'skipped_files',
                         'converted'])
ConversionResult.__doc__ = """What a converter did.

Fields:
  dataset_dir: the output folder.
  splits_to_sizes: `{split: records written}`; empty when nothing was converted.
  num_skipped: how many source files were skipped as not decodable images.
  skipped_files: `[(path, reason)]` of those files.
  converted: False when an existing dataset was kept (no `overwrite`).
"""


def existing_dataset_files(dataset_dir, name):
    """Returns the files of a converted dataset `name` in `dataset_dir` (may be [])."""
    if not os.path.isdir(dataset_dir):
        return []
    files = glob.glob(os.path.join(glob.escape(dataset_dir), name + '_*.tfrecord'))
    if dataset_utils.has_labels(dataset_dir):
        files.append(os.path.join(dataset_dir, dataset_utils.LABELS_FILENAME))
    return sorted(files)


def keep_existing(dataset_dir, name, overwrite):
    """Returns True (and logs why) if a dataset is there and must not be replaced."""
    existing = existing_dataset_files(dataset_dir, name)
    if existing and not overwrite:
        logging.warning('%s already holds a converted dataset (%s); keeping it. Pass '
                        'overwrite=True (--overwrite) to re-create it.',
                        dataset_dir, ', '.join(os.path.basename(p) for p in existing[:4]))
        return True
    return False


@contextlib.contextmanager
def staging_dir(dataset_dir):
    """Yields a fresh temporary folder inside `dataset_dir`, removed on exit."""
    os.makedirs(dataset_dir, exist_ok=True)
    path = tempfile.mkdtemp(prefix='.converting-', dir=dataset_dir)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def publish(staging, dataset_dir, name):
    """Moves the staged files into `dataset_dir`, then removes stale `name` shards."""
    new_names = sorted(os.listdir(staging))
    stale = [p for p in existing_dataset_files(dataset_dir, name)
             if os.path.basename(p) not in new_names]
    # labels.txt last: its presence is what marks the folder as converted.
    new_names.sort(key=lambda n: n == dataset_utils.LABELS_FILENAME)
    for filename in new_names:
        os.replace(os.path.join(staging, filename), os.path.join(dataset_dir, filename))
    for path in stale:
        os.remove(path)


def write_split(serialized_examples, num_items, out_dir, name, split_name, num_shards):
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
                logging.info('%s %s: %d of %d images converted.', name, split_name,
                             index, num_items)
            if writers[shard] is None:
                writers[shard] = tf.io.TFRecordWriter(dataset_utils.shard_filename(
                    out_dir, name, split_name, shard, num_shards))
            if serialized is not None:
                writers[shard].write(serialized)
                written += 1
        for shard in range(num_shards):  # a shard whose items were all skipped
            if writers[shard] is None:
                writers[shard] = tf.io.TFRecordWriter(dataset_utils.shard_filename(
                    out_dir, name, split_name, shard, num_shards))
    finally:
        for writer in writers:
            if writer is not None:
                writer.close()
    return written
