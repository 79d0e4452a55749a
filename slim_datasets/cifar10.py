"""The CIFAR-10 dataset (10 classes, 32x32 PNGs).

TF-Slim's converter writes one file per split, `cifar10_{split}.tfrecord`; ours
writes `cifar10_{split}_{i:05d}-of-{n:05d}.tfrecord` shards. Both are found.
"""

from slim_datasets import tfrecord_dataset

FILE_PATTERNS = ('cifar10_%s.tfrecord', 'cifar10_%s_*-of-*.tfrecord')

SPLITS_TO_SIZES = {'train': 50000, 'test': 10000}

NUM_CLASSES = 10

CLASS_NAMES = (
    'airplane',
    'automobile',
    'bird',
    'cat',
    'deer',
    'dog',
    'frog',
    'horse',
    'ship',
    'truck',
)

ITEMS_TO_DESCRIPTIONS = {
    'image': 'A [32 x 32 x 3] color image.',
    'label': 'A single integer between 0 and 9',
}


def get_split(split_name, dataset_dir, file_pattern=None):
    """Returns the `DatasetSplit` of one CIFAR-10 split.

    Args:
      split_name: `'train'` or `'test'`.
      dataset_dir: the folder holding the TFRecords and `labels.txt`.
      file_pattern: a glob overriding the defaults; `%s` is replaced by the split.

    Raises:
      ValueError: if `split_name` is not a CIFAR-10 split.
      FileNotFoundError: if no file matches the patterns.
    """
    return tfrecord_dataset.make_split(
        'cifar10',
        split_name,
        dataset_dir,
        file_pattern,
        FILE_PATTERNS,
        SPLITS_TO_SIZES,
        NUM_CLASSES,
        ITEMS_TO_DESCRIPTIONS,
    )
