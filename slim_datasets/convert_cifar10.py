"""Downloads CIFAR-10 (the python version) and converts it to `cifar10_*` shards.

Images are PNG-encoded 32x32 RGB as TF-Slim's converter writes them, into
`cifar10_train_0000i-of-00005.tfrecord` (one shard per batch file) and
`cifar10_test_00000-of-00001.tfrecord`, plus TF-Slim's labels.txt.
"""

import io
import os
import pickle

import numpy as np
from PIL import Image

from slim_datasets import cifar10
from slim_datasets import conversion
from slim_datasets import convert_flowers
from slim_datasets import dataset_utils
from slim_datasets import download

DATA_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz'
NUM_TRAIN_FILES = 5
IMAGE_SIZE = 32
SPLITS = ('train', 'test')


def run(dataset_dir, archive=None, url=DATA_URL, overwrite=False):
    """Downloads (or takes `archive`) and converts CIFAR-10 into `dataset_dir`.

    Args:
      dataset_dir: the output folder.
      archive: a local `cifar-10-python.tar.gz` to use instead of downloading.
      url: where to download from (a `file://` URL works too).
      overwrite: replace an existing CIFAR-10 dataset in `dataset_dir`.

    Returns:
      A `conversion.ConversionResult`.

    Raises:
      ValueError: if `dataset_dir` is a file, or the archive is missing, not a
        readable tar archive, has an unsafe member or lacks the batch files.
      conversion.ForeignFilesError: (a ValueError) if `dataset_dir` holds files
        this conversion would replace or mix with but did not write (another
        dataset's shards, a `labels.txt` of its own); nothing is written then.
      OSError: if the download fails (no partial file is left).
    """
    convert_flowers.check_archive(archive)
    if conversion.keep_existing(dataset_dir, 'cifar10', overwrite, SPLITS):
        return conversion.ConversionResult(dataset_dir, {}, 0, [], False)
    sizes = {}
    with conversion.staging_dir(dataset_dir) as work:
        archive_path, downloaded = convert_flowers.fetch(
            url, dataset_dir, archive
        )
        source, out = os.path.join(work, 'source'), os.path.join(work, 'out')
        os.makedirs(out)
        convert_flowers.unpack(
            archive_path,
            bool(archive),
            downloaded,
            source,
            'cifar-10-python.tar.gz, the python version',
        )
        batches = os.path.join(source, 'cifar-10-batches-py')
        splits = {
            'train': [
                'data_batch_%d' % (i + 1) for i in range(NUM_TRAIN_FILES)
            ],
            'test': ['test_batch'],
        }

        def fail(problem):
            return download.archive_error(
                archive_path, archive and 'archive', problem
            )

        for split_name, filenames in splits.items():
            images, labels = _load_batches(batches, filenames, fail)
            sizes[split_name] = conversion.write_split(
                _examples(images, labels),
                len(labels),
                out,
                'cifar10',
                split_name,
                len(filenames),
            )
        dataset_utils.write_label_file(
            dict(enumerate(cifar10.CLASS_NAMES)), out
        )
        conversion.publish(out, dataset_dir, 'cifar10', SPLITS)
    if downloaded:
        os.remove(archive_path)
    return conversion.ConversionResult(dataset_dir, sizes, 0, [], True)


def _load_batches(batches_dir, filenames, fail):
    images, labels = [], []
    for filename in filenames:
        path = os.path.join(batches_dir, filename)
        if not os.path.isfile(path):
            raise fail(
                'lacks %s (in cifar-10-batches-py/); expected the python '
                'version, cifar-10-python.tar.gz.' % filename
            )
        try:
            # The official batches are pickles; only open archives you trust.
            with open(path, 'rb') as f:
                batch = pickle.load(f, encoding='bytes')
            data = np.asarray(batch[b'data'], np.uint8)
            batch_images = data.reshape(-1, 3, IMAGE_SIZE, IMAGE_SIZE)
            batch_images = batch_images.transpose(0, 2, 3, 1)  # planar to HWC
            batch_labels = [int(label) for label in batch[b'labels']]
        except (
            pickle.UnpicklingError,
            EOFError,
            AttributeError,
            IndexError,
            KeyError,
            TypeError,
            ValueError,
        ) as e:
            raise fail(
                'holds a cifar-10-batches-py/%s that is not a CIFAR-10 batch '
                '(%s: %s); expected the python version, cifar-10-python.tar.gz.'
                % (filename, type(e).__name__, e)
            ) from None
        if len(batch_labels) != len(batch_images):
            raise fail(
                'holds a cifar-10-batches-py/%s with %d images but %d labels; '
                'expected one label per image.'
                % (filename, len(batch_images), len(batch_labels))
            )
        images.append(batch_images)
        labels.extend(batch_labels)
    return np.concatenate(images), labels


def _examples(images, labels):
    for image, label in zip(images, labels):
        buffer = io.BytesIO()
        Image.fromarray(image, 'RGB').save(buffer, format='PNG')
        yield dataset_utils.image_to_tfexample(
            buffer.getvalue(), b'png', IMAGE_SIZE, IMAGE_SIZE, label
        ).SerializeToString()
