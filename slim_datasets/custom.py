"""Any folder of TF-Slim shards plus `labels.txt`, e.g. made by the `folder` converter.

The splits are whatever the shard names say: `{name}_{split}_{i:05d}-of-{n:05d}.tfrecord`.
The number of classes comes from `labels.txt`. Split sizes are counted by reading
the shards once and cached in `split_sizes.json` beside them, keyed by the shards'
names and byte sizes so that re-converted shards are counted again.
"""

import json
import os
import re

import tensorflow as tf
from absl import logging

from slim.errors import ArgumentError, MissingFileError
from slim_datasets import dataset_utils
from slim_datasets import tfrecord_check
from slim_datasets import tfrecord_dataset

SIZES_FILENAME = 'split_sizes.json'

_SHARD_RE = re.compile(
    r'^(?P<name>.+)_(?P<split>[^_]+)_\d{5}-of-\d{5}\.tfrecord$'
)

ITEMS_TO_DESCRIPTIONS = {
    'image': 'A color image of varying size.',
    'label': 'A single integer, the class id of labels.txt',
}


def get_split(split_name, dataset_dir, file_pattern=None):
    """Returns the `DatasetSplit` of one split of a folder of shards.

    Args:
      split_name: a split present in the shard names, e.g. `'train'`.
      dataset_dir: the folder holding the shards and `labels.txt`.
      file_pattern: a glob overriding `*_%s_*-of-*.tfrecord`; `%s` is the split.

    Raises:
      ValueError: if `dataset_dir` is not given, or `split_name` is not among the
        splits the shard names show (the message lists them).
      FileNotFoundError: if `labels.txt` is missing or no shard matches.
      ValueError: if a shard is damaged (its split is counted when first read):
        the message names the shard, the byte and what is wrong.
    """
    if not dataset_dir:
        raise ArgumentError(
            'dataset_dir',
            dataset_dir,
            ': the custom dataset needs the '
            'folder that holds its shards and labels.txt.',
        )
    if not dataset_utils.has_labels(dataset_dir):
        raise MissingFileError(
            'dataset_dir',
            dataset_dir,
            'has no %s (one "id:name" line per class) for '
            'the custom dataset; the folder converter writes it.'
            % dataset_utils.LABELS_FILENAME,
        )
    if file_pattern is None:
        splits = available_splits(dataset_dir)
        if split_name not in splits:
            raise ArgumentError(
                'split_name',
                split_name,
                'is not a split of the custom dataset in %r; '
                'valid names (from the shard names): %s.'
                % (dataset_dir, ', '.join(splits) or 'none found'),
            )
        file_pattern = '*_%s_*-of-*.tfrecord'
    labels_to_names = dataset_utils.read_label_file(dataset_dir)
    shards = tfrecord_dataset.find_shards(
        dataset_dir, file_pattern, 'custom', split_name
    )
    try:
        num_samples = _cached_split_size(dataset_dir, split_name, shards)
    except tf.errors.DataLossError as e:
        raise ValueError(
            tfrecord_check.describe(
                tfrecord_check.find_damaged_shards(shards),
                'the %r split of the custom dataset' % split_name,
                e,
            )
        ) from None
    return tfrecord_dataset.DatasetSplit(
        'custom',
        split_name,
        dataset_dir,
        [file_pattern],
        num_samples,
        max(labels_to_names) + 1 if labels_to_names else 0,
        labels_to_names,
        ITEMS_TO_DESCRIPTIONS,
    )


def available_splits(dataset_dir):
    """Returns the sorted split names the shard file names in `dataset_dir` show."""
    splits = set()
    for filename in os.listdir(dataset_dir):
        match = _SHARD_RE.match(filename)
        if match:
            splits.add(match.group('split'))
    return sorted(splits)


def write_split_sizes(dataset_dir, split_name, shards, num_samples):
    """Records the size of a split so `get_split` need not count it.

    Converters call this after writing the shards. Written atomically.
    """
    path = os.path.join(dataset_dir, SIZES_FILENAME)
    cache = _read_cache(path)
    cache[split_name] = {
        'num_samples': int(num_samples),
        'shards': _fingerprint(shards),
    }
    tmp_path = path + '.tmp-%d' % os.getpid()
    with open(tmp_path, 'w', encoding='utf-8') as f:
        json.dump(cache, f, indent=1, sort_keys=True)
    os.replace(tmp_path, path)


def _cached_split_size(dataset_dir, split_name, shards):
    entry = _read_cache(os.path.join(dataset_dir, SIZES_FILENAME)).get(
        split_name
    )
    if entry and entry.get('shards') == _fingerprint(shards):
        return int(entry['num_samples'])
    num_samples = tfrecord_dataset.count_records(shards)
    try:
        write_split_sizes(dataset_dir, split_name, shards, num_samples)
    except (
        OSError
    ) as e:  # a read-only folder still reads; it is just counted again
        logging.info(
            'Could not cache the split sizes in %s: %s', dataset_dir, e
        )
    return num_samples


def _fingerprint(shards):
    return {os.path.basename(p): os.path.getsize(p) for p in shards}


def _read_cache(path):
    try:
        with open(path, encoding='utf-8') as f:
            cache = json.load(f)
        return cache if isinstance(cache, dict) else {}
    except (OSError, ValueError):
        return {}
