r"""Downloads and converts a dataset to TF-Slim TFRecords, or converts a folder of images.

Usage:

    python download_and_convert_data.py --dataset_name=flowers --dataset_dir=/tmp/flowers
    python download_and_convert_data.py --dataset_name=cifar10 --dataset_dir=/tmp/cifar10
    python download_and_convert_data.py --dataset_name=mnist --dataset_dir=/tmp/mnist
    python download_and_convert_data.py --dataset_name=folder \
        --source_dir=/data/my_photos --dataset_dir=/tmp/my_photos

`--archive` converts a local copy instead of downloading, `--url` downloads from
elsewhere (`file://` works). A folder already holding the converted dataset is kept
unless `--overwrite`; a folder holding files the conversion did not write (another
dataset, a labels.txt of your own) is refused, with or without `--overwrite`. The
work is done by the `slim_datasets.convert_*` modules; this script only maps flags to them.

An error is one line on stderr, `download_and_convert_data.py: error: ...`, naming
the flag and its value, and --dataset_dir is left as it was (but for a completed
download, kept for the next run). The exit status is 2 for bad input (flags,
folders, archives: the library's ValueErrors) and 1 for a failure during the work
(a download, the disk: OSErrors).
"""

import os
import sys

# TensorFlow's C++ start-up notes are noise for a converter (see driver_utils).
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '1')

from absl import app  # noqa: E402
from absl import flags  # noqa: E402

DATASET_NAMES = ('flowers', 'cifar10', 'mnist', 'folder')

FLAGS = flags.FLAGS
flags.DEFINE_string(
    'dataset_name', None, 'One of %s.' % ', '.join(DATASET_NAMES)
)
flags.DEFINE_string(
    'dataset_dir', None, 'The folder the TFRecords and labels.txt go to.'
)
flags.DEFINE_string(
    'archive',
    None,
    'A local copy of the source archive (for mnist: a '
    'folder or tar archive with the four .gz files) used instead of '
    'downloading.',
)
flags.DEFINE_string(
    'url',
    None,
    "Download from this URL instead of TF-Slim's source "
    '(for mnist, the base URL of the four files).',
)
flags.DEFINE_string(
    'source_dir',
    None,
    'folder only: the folder with one sub-folder of images per class.',
)
flags.DEFINE_string('name', 'custom', 'folder only: the shard name prefix.')
flags.DEFINE_boolean(
    'overwrite', False, 'Replace a dataset already in --dataset_dir.'
)
flags.DEFINE_integer(
    'seed', 0, 'flowers and folder: the seed of the train/validation split.'
)
flags.DEFINE_integer(
    'num_validation',
    None,
    'flowers and folder: the number of '
    'validation images (default: 350 for flowers, '
    '--validation_fraction of the files for folder).',
)
flags.DEFINE_float(
    'validation_fraction', 0.1, 'folder only: the validation share.'
)
flags.DEFINE_integer('num_shards', 5, 'folder only: shards per split.')
flags.DEFINE_integer(
    'num_workers',
    None,
    'flowers and folder: worker processes (default: one per CPU).',
)


def main(argv):
    """Converts as the flags say; returns the exit status (0, 2 bad input, 1 failure)."""
    del argv
    if FLAGS.dataset_name not in DATASET_NAMES:
        return _error(
            '--dataset_name=%r: expected one of %s.'
            % (FLAGS.dataset_name, ', '.join(DATASET_NAMES)),
            2,
        )
    if not FLAGS.dataset_dir:
        return _error(
            '--dataset_dir is required: the folder the TFRecords go to.', 2
        )
    if FLAGS.dataset_name == 'folder' and not FLAGS.source_dir:
        return _error(
            '--dataset_name=folder needs --source_dir, the folder of class '
            'sub-folders to convert.',
            2,
        )
    try:
        result = convert(FLAGS.dataset_name, FLAGS.dataset_dir)
    except ValueError as e:  # the library's word for bad input
        return _error(_with_flag_names(e), 2)
    except OSError as e:  # a download or the disk failed
        return _error(_with_flag_names(e), 1)
    if not result.converted:
        print(
            '%s already holds a converted dataset; kept it. Pass --overwrite to '
            're-create it.' % FLAGS.dataset_dir
        )
        return 0
    print(
        'Converted into %s: %s'
        % (
            result.dataset_dir,
            ', '.join(
                '%s=%d' % item
                for item in sorted(result.splits_to_sizes.items())
            ),
        )
    )
    if result.num_skipped:
        print(
            'Skipped %d files that are not decodable images:'
            % result.num_skipped
        )
        for path, reason in result.skipped_files[:20]:
            print('  %s (%s)' % (path, reason))
    return 0


def convert(dataset_name, dataset_dir):
    """Runs the converter of `dataset_name` with the flags; returns its result."""
    # Imported here, not at the top: the folder converter's worker processes import
    # this script as their main module and should not load TensorFlow for nothing.
    from slim_datasets import convert_cifar10
    from slim_datasets import convert_flowers
    from slim_datasets import convert_folder
    from slim_datasets import convert_mnist

    url_kwargs = {'url': FLAGS.url} if FLAGS.url else {}
    if dataset_name == 'flowers':
        extra = (
            {'num_validation': FLAGS.num_validation}
            if FLAGS.num_validation
            else {}
        )
        return convert_flowers.run(
            dataset_dir,
            archive=FLAGS.archive,
            overwrite=FLAGS.overwrite,
            seed=FLAGS.seed,
            num_workers=FLAGS.num_workers,
            **url_kwargs,
            **extra,
        )
    if dataset_name == 'cifar10':
        return convert_cifar10.run(
            dataset_dir,
            archive=FLAGS.archive,
            overwrite=FLAGS.overwrite,
            **url_kwargs,
        )
    if dataset_name == 'mnist':
        return convert_mnist.run(
            dataset_dir,
            archive=FLAGS.archive,
            overwrite=FLAGS.overwrite,
            **url_kwargs,
        )
    return convert_folder.convert_folder(
        FLAGS.source_dir,
        dataset_dir,
        name=FLAGS.name,
        num_validation=FLAGS.num_validation,
        validation_fraction=FLAGS.validation_fraction,
        num_shards=FLAGS.num_shards,
        seed=FLAGS.seed,
        num_workers=FLAGS.num_workers,
        overwrite=FLAGS.overwrite,
    )


def parse_flags(argv):
    """Parses `argv` into FLAGS; a bad flag is one line on stderr and exit status 2."""
    try:
        return FLAGS(argv)
    except flags.Error as e:
        sys.exit(_error(str(e).splitlines()[0], 2))


def _with_flag_names(error):
    """The error's one-line message; a library `ArgumentError` (which carries
    `.argument`) names its arguments as this script's flags."""
    # Read as an attribute: importing slim.errors here would load TensorFlow
    # into the folder converter's worker processes, which import this script.
    argument = getattr(error, 'argument', None)
    if argument is None:
        return ' '.join(line.strip() for line in str(error).splitlines())
    return error.message(
        {
            name: '--' + name
            for name in (argument,) + error.mentions
            if name in FLAGS
        }
    )


def _error(message, status):
    print(
        '%s: error: %s' % (os.path.basename(__file__), message), file=sys.stderr
    )
    return status


if __name__ == '__main__':
    app.run(main, flags_parser=parse_flags)
