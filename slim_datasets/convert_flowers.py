"""Downloads TF-Slim's Flowers archive and converts it to `flowers_*` shards.

As TF-Slim's `download_and_convert_flowers.py`: 350 validation images, 5 shards per
split, shuffle seed 0 (applied to the sorted file list, so the split is the same on
every machine), labels.txt of the sorted class names.
"""

import os

from slim.errors import ArgumentError
from slim_datasets import conversion
from slim_datasets import convert_folder
from slim_datasets import download

DATA_URL = 'http://download.tensorflow.org/example_images/flower_photos.tgz'
NUM_VALIDATION = 350
NUM_SHARDS = 5
RANDOM_SEED = 0


def run(
    dataset_dir,
    archive=None,
    url=DATA_URL,
    overwrite=False,
    seed=RANDOM_SEED,
    num_validation=NUM_VALIDATION,
    num_workers=None,
):
    """Downloads (or takes `archive`) and converts Flowers into `dataset_dir`.

    Args:
      dataset_dir: the output folder.
      archive: a local `flower_photos.tgz` to use instead of downloading.
      url: where to download from (a `file://` URL works too).
      overwrite: replace an existing Flowers dataset in `dataset_dir`.
      seed, num_validation, num_workers: see `convert_folder.convert_folder`.

    Returns:
      A `conversion.ConversionResult`.

    Raises:
      ValueError: if `dataset_dir` is a file, or the archive is missing, not a
        readable tar archive, has an unsafe member or no class folders.
      conversion.ForeignFilesError: (a ValueError) if `dataset_dir` holds files
        this conversion would replace or mix with but did not write (another
        dataset's shards, a `labels.txt` of its own); nothing is written then.
      OSError: if the download fails (no partial file is left).
    """
    check_archive(archive)
    if conversion.keep_existing(
        dataset_dir, 'flowers', overwrite, convert_folder.SPLITS
    ):
        return conversion.ConversionResult(dataset_dir, {}, 0, [], False)
    with conversion.staging_dir(dataset_dir) as work:
        archive_path, downloaded = fetch(url, dataset_dir, archive)
        unpack(
            archive_path,
            bool(archive),
            downloaded,
            work,
            'flower_photos.tgz, a tar.gz of one folder of JPEGs per class',
        )
        source_dir = os.path.join(work, 'flower_photos')
        if not os.path.isdir(
            source_dir
        ):  # an archive of the class folders themselves
            source_dir = work
        try:
            result = convert_folder.convert_folder(
                source_dir,
                dataset_dir,
                name='flowers',
                num_validation=num_validation,
                num_shards=NUM_SHARDS,
                seed=seed,
                num_workers=num_workers,
                overwrite=True,
            )
        except ArgumentError as e:
            # The unpacked folder is gone when this is read: name the archive.
            if e.argument != 'source_dir':
                raise
            problem = e.message(hint=False)[
                len('source_dir=%r' % (source_dir,)) :
            ]
            raise download.archive_error(
                archive_path,
                archive and 'archive',
                ', unpacked,' + problem.replace(source_dir, 'flower_photos'),
            ) from None
    if downloaded:  # as TF-Slim, drop the archive once converted
        os.remove(archive_path)
    return result


def fetch(url, dataset_dir, archive=None):
    """Returns `(local path, downloaded)`: `archive` if given, else `url` downloaded.

    `downloaded` is True only for a file this call fetched, the one a converter may
    delete once done: a file already under the download's name in `dataset_dir`
    (a user's copy, or an earlier run's download) is used and kept.

    Raises:
      ValueError: if `archive` is given but does not exist.
    """
    if archive:
        check_archive(archive)
        return archive, False
    dest = os.path.join(dataset_dir, url.rstrip('/').split('/')[-1])
    existed = os.path.exists(dest)
    return download.download_file(url, dest), not existed


def check_archive(archive):
    """Raises a ValueError naming `archive` if it is given but does not exist."""
    if archive and not os.path.exists(archive):
        raise ArgumentError('archive', archive, 'does not exist.')


def unpack(archive_path, given, downloaded, target, expected):
    """Extracts `archive_path` (from `fetch`) into `target`.

    Args:
      archive_path, downloaded: what `fetch` returned.
      given: whether `archive_path` is the caller's `archive` argument.
      target: the folder to extract into.
      expected: what the archive should be, for the message.

    Raises:
      ValueError: as `download.extract_tar`; the message starts `archive=...` for
        the caller's archive. A file this run downloaded is removed then, so that
        the next run fetches it again.
    """
    try:
        download.extract_tar(
            archive_path,
            target,
            expected=expected,
            argument='archive' if given else None,
        )
    except ValueError:
        if downloaded:
            os.remove(archive_path)
        raise
