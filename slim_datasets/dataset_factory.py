"""Maps a dataset name to its module: `get_dataset(name, split_name, dataset_dir)`.

Adding a dataset is one module with a `get_split(split_name, dataset_dir,
file_pattern=None)` plus one entry in `DATASETS_MAP`.
"""

from slim.errors import ArgumentError
from slim_datasets import cifar10
from slim_datasets import custom
from slim_datasets import digits
from slim_datasets import flowers
from slim_datasets import imagenet
from slim_datasets import mnist

DATASETS_MAP = {
    'cifar10': cifar10,
    'custom': custom,
    'digits': digits,
    'flowers': flowers,
    'imagenet': imagenet,
    'mnist': mnist,
}

# The dataset the drivers use when given none: embedded, so it needs no download.
DEFAULT_DATASET = 'digits'


def get_dataset(name, split_name, dataset_dir, file_pattern=None):
    """Returns the `DatasetSplit` of a split of a named dataset.

    Args:
      name: a key of `DATASETS_MAP`, e.g. `'flowers'`.
      split_name: the split, e.g. `'train'`.
      dataset_dir: the folder of the TFRecord shards; for `'digits'` None means its
        cache folder (built on first use).
      file_pattern: a glob overriding the dataset's shard pattern; `%s` in it is
        replaced by the split name.

    Returns:
      A `tfrecord_dataset.DatasetSplit` with `num_samples`, `num_classes`,
      `labels_to_names`, `items_to_descriptions` and `read(...)`.

    Raises:
      ValueError: if `name` is not a known dataset or `split_name` not one of its
        splits (the messages list the valid names).
      FileNotFoundError: if `dataset_dir` holds no shard matching the pattern.
    """
    if name not in DATASETS_MAP:
        raise ArgumentError(
            'name',
            name,
            'is not a known dataset; valid names: '
            '%s.' % ', '.join(sorted(DATASETS_MAP)),
        )
    if not dataset_dir and name != DEFAULT_DATASET:
        raise ArgumentError(
            'dataset_dir',
            dataset_dir,
            ': the %r dataset needs the folder it is in (only the '
            'embedded %r dataset has a default one).' % (name, DEFAULT_DATASET),
        )
    return DATASETS_MAP[name].get_split(split_name, dataset_dir, file_pattern)
