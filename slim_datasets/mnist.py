"""The MNIST dataset (10 classes, 28x28 grayscale PNGs, decoded to 3 channels).

TF-Slim's converter writes `mnist_{split}.tfrecord`; ours writes
`mnist_{split}_{i:05d}-of-{n:05d}.tfrecord` shards. Both are found.
"""

from slim_datasets import tfrecord_dataset

FILE_PATTERNS = ('mnist_%s.tfrecord', 'mnist_%s_*-of-*.tfrecord')

SPLITS_TO_SIZES = {'train': 60000, 'test': 10000}

NUM_CLASSES = 10

# TF-Slim's names, including its 'size' for six: labels.txt files it wrote say so.
CLASS_NAMES = (
    'zero',
    'one',
    'two',
    'three',
    'four',
    'five',
    'size',
    'seven',
    'eight',
    'nine',
)

ITEMS_TO_DESCRIPTIONS = {
    'image': 'A [28 x 28 x 1] grayscale image.',
    'label': 'A single integer between 0 and 9',
}


def get_split(split_name, dataset_dir, file_pattern=None):
    """Returns the `DatasetSplit` of one MNIST split.

    Args:
      split_name: `'train'` or `'test'`.
      dataset_dir: the folder holding the TFRecords and `labels.txt`.
      file_pattern: a glob overriding the defaults; `%s` is replaced by the split.

    Raises:
      ValueError: if `split_name` is not an MNIST split.
      FileNotFoundError: if no file matches the patterns.
    """
    return tfrecord_dataset.make_split(
        'mnist',
        split_name,
        dataset_dir,
        file_pattern,
        FILE_PATTERNS,
        SPLITS_TO_SIZES,
        NUM_CLASSES,
        ITEMS_TO_DESCRIPTIONS,
    )
