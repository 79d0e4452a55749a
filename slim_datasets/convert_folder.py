"""Converts a folder of class sub-folders of images into TF-Slim shards plus labels.txt.

    source_dir/daisy/1.jpg, source_dir/roses/7.png, ...
      -> dataset_dir/{name}_train_00000-of-00005.tfrecord, ..., labels.txt

Class ids are the sorted sub-folder names. The train/validation split is a shuffle
of the sorted file list with `seed`, so a seed gives the same shards on any machine
and with any number of workers. Files are validated (fully decoded) in parallel
worker processes; files that are not decodable images are skipped, logged and
counted. A split none of whose files decode is not written, and a folder none of
whose files decode is refused: no empty dataset is ever written. The workers are started with 'spawn', so a script calling this needs the
usual `if __name__ == '__main__':` guard of multiprocessing (or `num_workers=0`).
Read the result with `get_dataset('custom', split, dataset_dir)` (or the
dataset module of `name`).
"""

import multiprocessing
import os
import random

from absl import logging

from slim.errors import ArgumentError
from slim_datasets import conversion
from slim_datasets import custom
from slim_datasets import dataset_utils
from slim_datasets import image_files

SPLITS = ('train', 'validation')


def convert_folder(
    source_dir,
    dataset_dir,
    name='custom',
    num_validation=None,
    validation_fraction=0.1,
    num_shards=5,
    seed=0,
    num_workers=None,
    overwrite=False,
):
    """Converts `source_dir` into sharded train/validation TFRecords in `dataset_dir`.

    Args:
      source_dir: a folder with one sub-folder of images per class.
      dataset_dir: the output folder (created if needed).
      name: the shard name prefix, `{name}_{split}_{i:05d}-of-{n:05d}.tfrecord`.
      num_validation: the number of validation files; overrides the fraction.
      validation_fraction: the share of files for validation, in [0, 1).
      num_shards: shards per split (fewer if a split has fewer files).
      seed: the seed of the train/validation shuffle.
      num_workers: worker processes; None for one per CPU, 0 for none.
      overwrite: replace a dataset already in `dataset_dir` instead of keeping it.

    Returns:
      A `conversion.ConversionResult`.

    Raises:
      ValueError: for a missing `source_dir`, one without class sub-folders, files
        or any decodable image (nothing is written then), or an out-of-range
        `num_validation`, `validation_fraction`, `num_shards` or `num_workers`; a
        `dataset_dir` that is a file.
      conversion.ForeignFilesError: (a ValueError) if `dataset_dir` holds files
        this conversion would replace or mix with but did not write (another
        dataset's shards, a `labels.txt` of its own); nothing is written then.
    """
    if not os.path.isdir(source_dir):
        raise ArgumentError(
            'source_dir',
            source_dir,
            'is not a folder; expected a '
            'folder with one sub-folder of images per class.',
        )
    if not 0.0 <= validation_fraction < 1.0:
        raise ArgumentError(
            'validation_fraction',
            validation_fraction,
            ': expected a number in [0, 1).',
        )
    if not isinstance(num_shards, int) or num_shards < 1:
        raise ArgumentError(
            'num_shards', num_shards, ': expected a positive integer.'
        )
    if num_workers is not None and (
        not isinstance(num_workers, int) or num_workers < 0
    ):
        raise ArgumentError(
            'num_workers', num_workers, ': expected None or an integer >= 0.'
        )
    files, class_names = list_image_files(source_dir)
    if num_validation is None:
        num_validation = int(round(len(files) * validation_fraction))
    if not isinstance(num_validation, int) or not 0 <= num_validation < len(
        files
    ):
        raise ArgumentError(
            'num_validation',
            num_validation,
            ': expected an integer in [0, %d), the number of files in '
            '%s.' % (len(files), source_dir),
        )
    if conversion.keep_existing(dataset_dir, name, overwrite, SPLITS):
        return conversion.ConversionResult(dataset_dir, {}, 0, [], False)

    random.Random(seed).shuffle(files)
    splits = {
        'validation': files[:num_validation],
        'train': files[num_validation:],
    }
    skipped = []
    sizes = {}
    with (
        conversion.staging_dir(dataset_dir) as staging,
        _pool(num_workers) as pool,
    ):
        for split_name in SPLITS:
            split_files = splits[split_name]
            if not split_files:
                continue
            loaded = _imap(
                pool, image_files.read_image, [p for p, _ in split_files]
            )
            examples = _examples(split_files, loaded, skipped)
            size = conversion.write_split(
                examples,
                len(split_files),
                staging,
                name,
                split_name,
                num_shards,
            )
            shards = [
                os.path.join(staging, f)
                for f in sorted(os.listdir(staging))
                if f.startswith('%s_%s_' % (name, split_name))
            ]
            if not size:
                # Shards without a record would only fail later, in training.
                for path in shards:
                    os.remove(path)
                continue
            sizes[split_name] = size
            custom.write_split_sizes(staging, split_name, shards, size)
        if not sizes:
            path, reason = min(skipped)
            raise ArgumentError(
                'source_dir',
                source_dir,
                'holds no image that can be decoded: all %d files in its class '
                'sub-folders %s were skipped (e.g. %s: %s); expected JPEG, PNG or other '
                'image files Pillow reads.'
                % (
                    len(skipped),
                    dataset_utils.some_names(class_names),
                    os.path.relpath(path, source_dir),
                    reason,
                ),
            )
        for split_name in SPLITS:
            if splits[split_name] and split_name not in sizes:
                logging.warning(
                    'All %d %s files of %s were skipped; no %s split is '
                    'written.',
                    len(splits[split_name]),
                    split_name,
                    source_dir,
                    split_name,
                )
        dataset_utils.write_label_file(dict(enumerate(class_names)), staging)
        conversion.publish(staging, dataset_dir, name, SPLITS)
    if skipped:
        logging.warning(
            'Skipped %d files of %s that are not decodable images.',
            len(skipped),
            source_dir,
        )
    logging.info('Converted %s into %s: %s.', source_dir, dataset_dir, sizes)
    return conversion.ConversionResult(
        dataset_dir, sizes, len(skipped), skipped, True
    )


def list_image_files(source_dir):
    """Returns `([(path, class_id)] sorted by path, sorted class names)`.

    Every file under a class sub-folder counts (recursively); hidden files and
    folders (starting with '.') do not.

    Raises:
      ValueError: if there are no class sub-folders or no files in them.
    """
    class_names = sorted(
        d
        for d in os.listdir(source_dir)
        if not d.startswith('.') and os.path.isdir(os.path.join(source_dir, d))
    )
    if not class_names:
        raise ArgumentError(
            'source_dir',
            source_dir,
            'has no class sub-folders; expected one folder of images '
            'per class, e.g. %s/daisy/1.jpg.' % source_dir,
        )
    files = []
    for class_id, class_name in enumerate(class_names):
        for root, dirs, filenames in os.walk(
            os.path.join(source_dir, class_name)
        ):
            dirs[:] = [d for d in dirs if not d.startswith('.')]
            files.extend(
                (os.path.join(root, f), class_id)
                for f in filenames
                if not f.startswith('.')
            )
    if not files:
        raise ArgumentError(
            'source_dir',
            source_dir,
            'has class sub-folders %s but no files in them.' % class_names,
        )
    return sorted(files), class_names


def _examples(split_files, loaded, skipped):
    for (path, class_id), (data, image_format, height, width, reason) in zip(
        split_files, loaded
    ):
        if reason is not None:
            logging.warning(
                'Skipping %s: not a decodable image (%s).', path, reason
            )
            skipped.append((path, reason))
            yield None
            continue
        yield dataset_utils.image_to_tfexample(
            data, image_format, height, width, class_id
        ).SerializeToString()


class _pool:
    """A 'spawn' process pool (forking a process that runs TensorFlow is unsafe)."""

    def __init__(self, num_workers):
        self._num_workers = (
            (os.cpu_count() or 1) if num_workers is None else num_workers
        )
        self.pool = None

    def __enter__(self):
        if self._num_workers > 0:
            self.pool = multiprocessing.get_context('spawn').Pool(
                self._num_workers
            )
        return self.pool

    def __exit__(self, *exc_info):
        if self.pool is not None:
            self.pool.terminate() if exc_info[0] else self.pool.close()
            self.pool.join()


def _imap(pool, fn, items):
    if pool is None:
        return map(fn, items)
    # imap keeps the input order, which is what makes the shards deterministic.
    return pool.imap(fn, items, chunksize=8)
