"""The Flowers dataset (5 classes), as TF-Slim's `download_and_convert_flowers` writes it.

Shards: `flowers_{split}_{i:05d}-of-00005.tfrecord`, JPEG images of varying size.
"""

from slim_datasets import tfrecord_dataset

FILE_PATTERNS = ('flowers_%s_*.tfrecord',)

SPLITS_TO_SIZES = {'train': 3320, 'validation': 350}

NUM_CLASSES = 5

ITEMS_TO_DESCRIPTIONS = {
    'image': 'A color image of varying size.',
    'label': 'A single integer between 0 and 4',
}


def get_split(split_name, dataset_dir, file_pattern=None):
    """Returns the `DatasetSplit` of one Flowers split.

    Args:
      split_name: `'train'` or `'validation'`.
      dataset_dir: the folder holding the shards and `labels.txt`.
      file_pattern: a glob overriding TF-Slim's; `%s` is replaced by the split name.

    Raises:
      ValueError: if `split_name` is not a Flowers split.
      FileNotFoundError: if no shard matches the pattern.
    """
    return tfrecord_dataset.make_split(
        'flowers',
        split_name,
        dataset_dir,
        file_pattern,
        FILE_PATTERNS,
        SPLITS_TO_SIZES,
        NUM_CLASSES,
        ITEMS_TO_DESCRIPTIONS,
    )
