"""Downloads MNIST and converts it to `mnist_*` shards of 28x28 grayscale PNGs.

The four IDX files come from `DATA_URL` (TF-Slim's source), or from `archive`: a
local folder or tar archive holding them. Output: `mnist_train_*-of-00005`,
`mnist_test_00000-of-00001` and TF-Slim's labels.txt.
"""

import gzip
import io
import os
import shutil
import struct
import zlib

import numpy as np
from PIL import Image

from slim.errors import ArgumentError
from slim_datasets import conversion
from slim_datasets import convert_flowers
from slim_datasets import dataset_utils
from slim_datasets import download
from slim_datasets import mnist

DATA_URL = 'https://storage.googleapis.com/cvdf-datasets/mnist/'
FILES = {
    'train': ('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'),
    'test': ('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'),
}
NUM_SHARDS = {'train': 5, 'test': 1}


def run(dataset_dir, archive=None, url=DATA_URL, overwrite=False):
    """Downloads (or takes `archive`) and converts MNIST into `dataset_dir`.

    Args:
      dataset_dir: the output folder.
      archive: a local folder or tar archive with the four `.gz` IDX files.
      url: the base URL the four files are under (a `file://` URL works too).
      overwrite: replace an existing MNIST dataset in `dataset_dir`.

    Returns:
      A `conversion.ConversionResult`.

    Raises:
      ValueError: if `dataset_dir` is a file, `archive` is missing, not a folder
        nor a readable tar archive, has an unsafe member or lacks a file, or an
        IDX file is malformed.
      conversion.ForeignFilesError: (a ValueError) if `dataset_dir` holds files
        this conversion would replace or mix with but did not write (another
        dataset's shards, a `labels.txt` of its own); nothing is written then.
      OSError: if a download fails (no partial file is left).
    """
    convert_flowers.check_archive(archive)
    if conversion.keep_existing(dataset_dir, 'mnist', overwrite, tuple(FILES)):
        return conversion.ConversionResult(dataset_dir, {}, 0, [], False)
    sizes = {}
    with conversion.staging_dir(dataset_dir) as work:
        source, out = os.path.join(work, 'source'), os.path.join(work, 'out')
        os.makedirs(out)
        origins = _gather_sources(source, archive, url)
        for split_name, (images_file, labels_file) in FILES.items():
            images = _read_idx(
                os.path.join(source, images_file), 3, origins[images_file]
            )
            labels = _read_idx(
                os.path.join(source, labels_file), 1, origins[labels_file]
            )
            if len(images) != len(labels):
                raise ValueError(
                    '%s has %d images but %s %d labels.'
                    % (
                        origins[images_file],
                        len(images),
                        origins[labels_file],
                        len(labels),
                    )
                )
            sizes[split_name] = conversion.write_split(
                _examples(images, labels),
                len(labels),
                out,
                'mnist',
                split_name,
                NUM_SHARDS[split_name],
            )
        dataset_utils.write_label_file(dict(enumerate(mnist.CLASS_NAMES)), out)
        conversion.publish(out, dataset_dir, 'mnist', tuple(FILES))
    return conversion.ConversionResult(dataset_dir, sizes, 0, [], True)


def _gather_sources(source, archive, url):
    """Puts the four IDX files into `source`, from `archive` or downloaded.

    Returns `{file name: where it came from}`, for messages: the staged copies
    are gone by the time a user reads one.
    """
    names = [name for pair in FILES.values() for name in pair]
    if archive:
        unpacked = archive
        if not os.path.isdir(archive):
            unpacked = os.path.join(source, 'unpacked')
            download.extract_tar(
                archive,
                unpacked,
                argument='archive',
                expected='a folder or tar '
                'archive holding the four MNIST files %s' % ', '.join(names),
            )
        found = {
            f: os.path.join(root, f)
            for root, _, files in os.walk(unpacked)
            for f in files
            if f in names
        }
        missing = [n for n in names if n not in found]
        if missing:
            raise ArgumentError(
                'archive', archive, 'lacks the MNIST files %s.' % missing
            )
        os.makedirs(source, exist_ok=True)
        for name in names:
            shutil.copyfile(found[name], os.path.join(source, name))
        if unpacked == archive:
            return {name: repr(found[name]) for name in names}
        return {
            name: '%s in archive=%r'
            % (os.path.relpath(found[name], unpacked), archive)
            for name in names
        }
    os.makedirs(source, exist_ok=True)
    origins = {}
    for name in names:
        # Downloaded straight into the staging folder: it goes away with it.
        origins[name] = url.rstrip('/') + '/' + name
        download.download_file(origins[name], os.path.join(source, name))
    return origins


def _read_idx(path, rank, shown):
    try:
        with gzip.open(path, 'rb') as f:
            data = f.read()
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        reason = (
            'it ends early, as a cut-off download or copy does'
            if isinstance(e, EOFError)
            else 'its data are damaged (%s)' % e
        )
        raise ValueError(
            '%s is not a readable gzip file: %s; expected a gzip-compressed '
            'MNIST IDX file.' % (shown, reason)
        ) from None
    if len(data) < 4 + 4 * rank:
        raise ValueError(
            '%s holds %d bytes; expected an IDX file of rank %d, which has '
            'a %d-byte header.' % (shown, len(data), rank, 4 + 4 * rank)
        )
    (magic,) = struct.unpack('>I', data[:4])
    if magic != 0x800 + rank:
        raise ValueError(
            '%s is not an IDX file of rank %d (magic number %#x).'
            % (shown, rank, magic)
        )
    dims = struct.unpack('>' + 'I' * rank, data[4 : 4 + 4 * rank])
    array = np.frombuffer(data, np.uint8, offset=4 + 4 * rank)
    if array.size != int(np.prod(dims)):
        raise ValueError(
            '%s holds %d bytes of data; its header says %s.'
            % (shown, array.size, dims)
        )
    return array.reshape(dims)


def _examples(images, labels):
    for image, label in zip(images, labels):
        buffer = io.BytesIO()
        Image.fromarray(image, 'L').save(buffer, format='PNG')
        height, width = image.shape
        yield dataset_utils.image_to_tfexample(
            buffer.getvalue(), b'png', height, width, int(label)
        ).SerializeToString()
