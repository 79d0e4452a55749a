"""ImageNet ILSVRC-2012 as TF-Slim reads it: 1001 classes, 0 being 'background'.

Shards as `build_imagenet_data.py` writes them (`train-00000-of-01024`), or ours
(`imagenet_{split}_{i:05d}-of-{n:05d}.tfrecord`). Class names come from
`labels.txt`, else from the synset files TF-Slim downloads
(`imagenet_lsvrc_2015_synsets.txt` and `imagenet_metadata.txt`) when they are in
`dataset_dir`; this module never goes to the network.
"""

import os

from slim_datasets import tfrecord_dataset

FILE_PATTERNS = ('%s-*', 'imagenet_%s_*-of-*.tfrecord')

SPLITS_TO_SIZES = {'train': 1281167, 'validation': 50000}

NUM_CLASSES = 1001

SYNSETS_FILENAME = 'imagenet_lsvrc_2015_synsets.txt'
METADATA_FILENAME = 'imagenet_metadata.txt'

ITEMS_TO_DESCRIPTIONS = {
    'image': 'A color image of varying height and width.',
    'label': 'The label id of the image, integer between 0 and 999',
    'label_text': 'The text of the label.',
    'object/bbox': 'A list of bounding boxes.',
    'object/label': 'A list of labels, one per each object.',
}


def get_split(split_name, dataset_dir, file_pattern=None):
    """Returns the `DatasetSplit` of one ImageNet split.

    Args:
      split_name: `'train'` or `'validation'`.
      dataset_dir: the folder holding the shards (and optionally the names files).
      file_pattern: a glob overriding the defaults; `%s` is replaced by the split.

    Raises:
      ValueError: if `split_name` is not an ImageNet split, or the synset files
        are malformed.
      FileNotFoundError: if no shard matches the patterns.
    """
    labels_to_names = None
    if dataset_dir and not os.path.isfile(
        os.path.join(dataset_dir, 'labels.txt')
    ):
        labels_to_names = readable_names_from_synsets(dataset_dir)
    return tfrecord_dataset.make_split(
        'imagenet',
        split_name,
        dataset_dir,
        file_pattern,
        FILE_PATTERNS,
        SPLITS_TO_SIZES,
        NUM_CLASSES,
        ITEMS_TO_DESCRIPTIONS,
        labels_to_names,
    )


def readable_names_from_synsets(dataset_dir):
    """Returns `{0: 'background', 1..1000: human-readable name}`, or None.

    The synsets are numbered from 1 in the order of the synsets file (alphabetical),
    as TF-Slim's `create_readable_names_for_imagenet_labels` does. Returns None when
    either file is missing.

    Raises:
      ValueError: if a metadata line is not `synset<TAB>name` or a synset has no name.
    """
    synsets_path = os.path.join(dataset_dir, SYNSETS_FILENAME)
    metadata_path = os.path.join(dataset_dir, METADATA_FILENAME)
    if not (os.path.isfile(synsets_path) and os.path.isfile(metadata_path)):
        return None
    with open(synsets_path, encoding='utf-8') as f:
        synsets = [line.strip() for line in f if line.strip()]
    synset_to_human = {}
    with open(metadata_path, encoding='utf-8') as f:
        for line_number, line in enumerate(f, start=1):
            parts = line.rstrip('\n').split('\t')
            if len(parts) != 2:
                raise ValueError(
                    '%s line %d is %r; expected "synset<TAB>name".'
                    % (metadata_path, line_number, line)
                )
            synset_to_human[parts[0]] = parts[1]
    missing = [s for s in synsets if s not in synset_to_human]
    if missing:
        raise ValueError(
            '%s has no name for the synsets %s listed in %s.'
            % (metadata_path, missing[:5], synsets_path)
        )
    labels_to_names = {0: 'background'}
    for index, synset in enumerate(synsets, start=1):
        labels_to_names[index] = synset_to_human[synset]
    return labels_to_names
