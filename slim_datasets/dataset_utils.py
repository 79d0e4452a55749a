"""TFRecord writing helpers and the labels file, in TF-Slim's exact format.

Records are `tf.train.Example`s with the keys `image/encoded`, `image/format`,
`image/class/label`, `image/height` and `image/width`; shards are named
`{name}_{split}_{index:05d}-of-{count:05d}.tfrecord`; `labels.txt` holds one
`id:name` line per class. Files written here read in TF-Slim and the other way round.
"""

import os

import tensorflow as tf

LABELS_FILENAME = 'labels.txt'

# TF-Slim's feature keys; a record written by its converters parses with these.
KEY_ENCODED = 'image/encoded'
KEY_FORMAT = 'image/format'
KEY_LABEL = 'image/class/label'
KEY_HEIGHT = 'image/height'
KEY_WIDTH = 'image/width'


def int64_feature(values):
    """Returns a `tf.train.Feature` of int64s from a scalar or a list."""
    if not isinstance(values, (tuple, list)):
        values = [values]
    return tf.train.Feature(
        int64_list=tf.train.Int64List(value=[int(v) for v in values])
    )


def bytes_feature(value):
    """Returns a `tf.train.Feature` holding one bytes value (str is UTF-8 encoded)."""
    if isinstance(value, str):
        value = value.encode('utf-8')
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def float_feature(values):
    """Returns a `tf.train.Feature` of floats from a scalar or a list."""
    if not isinstance(values, (tuple, list)):
        values = [values]
    return tf.train.Feature(float_list=tf.train.FloatList(value=values))


def image_to_tfexample(image_data, image_format, height, width, class_id):
    """Returns the `tf.train.Example` TF-Slim's converters write for one image.

    Args:
      image_data: the encoded image bytes (JPEG or PNG).
      image_format: `'jpeg'`, `'jpg'` or `'png'` (bytes or str).
      height, width: the image size in pixels.
      class_id: the integer label.
    """
    return tf.train.Example(
        features=tf.train.Features(
            feature={
                KEY_ENCODED: bytes_feature(image_data),
                KEY_FORMAT: bytes_feature(image_format),
                KEY_LABEL: int64_feature(class_id),
                KEY_HEIGHT: int64_feature(height),
                KEY_WIDTH: int64_feature(width),
            }
        )
    )


def shard_filename(dataset_dir, name, split_name, index, num_shards):
    """Returns the path of one shard: `{name}_{split}_{index:05d}-of-{count:05d}.tfrecord`."""
    return os.path.join(
        dataset_dir,
        '%s_%s_%05d-of-%05d.tfrecord' % (name, split_name, index, num_shards),
    )


def write_label_file(
    labels_to_class_names, dataset_dir, filename=LABELS_FILENAME
):
    """Writes `labels.txt` with one `id:name` line per class, in id order.

    Written to a temporary name and renamed, so a reader never sees half a file.
    """
    path = os.path.join(dataset_dir, filename)
    tmp_path = path + '.tmp-%d' % os.getpid()
    with open(tmp_path, 'w', encoding='utf-8') as f:
        for label in sorted(labels_to_class_names):
            f.write('%d:%s\n' % (label, labels_to_class_names[label]))
    os.replace(tmp_path, path)


def has_labels(dataset_dir, filename=LABELS_FILENAME):
    """Returns whether `dataset_dir` holds a labels file."""
    return os.path.isfile(os.path.join(dataset_dir, filename))


def some_names(names, limit=4):
    """Returns `'a, b, c'` or `'a, b, c, d and 5 more'`: a few names for a message."""
    names = list(names)
    shown = ', '.join(names[:limit])
    if len(names) > limit:
        shown += ' and %d more' % (len(names) - limit)
    return shown


def read_label_file(dataset_dir, filename=LABELS_FILENAME):
    """Reads `labels.txt` and returns `{id: class_name}`.

    Raises:
      ValueError: if a non-empty line is not of the form `id:name`.
    """
    path = os.path.join(dataset_dir, filename)
    labels_to_class_names = {}
    with open(path, encoding='utf-8') as f:
        for line_number, line in enumerate(f, start=1):
            line = line.rstrip('\n')
            if not line:
                continue
            index, sep, name = line.partition(':')
            if not sep or not index.strip().lstrip('-').isdigit():
                raise ValueError(
                    '%s line %d is %r; expected "id:name", e.g. "0:daisy".'
                    % (path, line_number, line)
                )
            labels_to_class_names[int(index)] = name
    return labels_to_class_names
