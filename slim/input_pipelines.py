"""Batched `tf.data` pipelines for training and evaluation from a dataset split.

`split` is anything with `read(shuffle=..., num_readers=..., seed=...,
input_context=...)` returning `(image, label)` examples (a `slim_datasets` split);
`preprocess_fn` is `fn(image, height, width)` (a `preprocessing` function). The train pipeline
is a function of a `tf.distribute.InputContext`, for
`strategy.distribute_datasets_from_function`: each input pipeline reads and
decodes only its own part of the files (`split.read(input_context=...)`), and
batches `batch_size` examples per replica, as TF-Slim's per-clone batch.
"""

import tensorflow as tf

__all__ = ['train_input_fn', 'eval_dataset']

_AUTOTUNE = tf.data.AUTOTUNE


def train_input_fn(
    split,
    preprocess_fn,
    image_size,
    batch_size,
    labels_offset=0,
    num_readers=4,
    num_preprocessing_threads=4,
    seed=None,
    skip_corrupt_images=False,
):
    """Returns `fn(input_context)` -> shuffled, repeated per-replica batches.

    With `skip_corrupt_images`, records whose image does not decode are
    skipped and counted in `split.num_skipped_images`.
    """

    def input_fn(input_context=None):
        pipelines = input_context.num_input_pipelines if input_context else 1
        # Workers must agree on the shuffle for their shards to be disjoint.
        read_seed = seed if seed is not None or pipelines == 1 else 0
        # Sharded by the reader, before decoding: N workers each decode 1/N
        # of the images, not all of them to keep 1/N.
        dataset = split.read(
            shuffle=True,
            num_readers=num_readers,
            seed=read_seed,
            skip_corrupt_images=skip_corrupt_images,
            input_context=input_context if pipelines > 1 else None,
        )
        dataset = dataset.repeat()
        dataset = dataset.map(
            _example_fn(preprocess_fn, image_size, labels_offset),
            num_parallel_calls=num_preprocessing_threads,
        )
        per_replica = (
            input_context.get_per_replica_batch_size(
                batch_size * input_context.num_replicas_in_sync
            )
            if input_context
            else batch_size
        )
        dataset = dataset.batch(per_replica, drop_remainder=True)
        return dataset.prefetch(_AUTOTUNE)

    return input_fn


def eval_dataset(
    split,
    preprocess_fn,
    image_size,
    batch_size,
    labels_offset=0,
    num_preprocessing_threads=4,
    max_num_batches=None,
    skip_corrupt_images=False,
):
    """One ordered pass over `split` in batches (the last may be smaller)."""
    dataset = split.read(shuffle=False, skip_corrupt_images=skip_corrupt_images)
    dataset = dataset.map(
        _example_fn(preprocess_fn, image_size, labels_offset),
        num_parallel_calls=num_preprocessing_threads,
    )
    dataset = dataset.batch(batch_size)
    if max_num_batches:
        dataset = dataset.take(max_num_batches)
    return dataset.prefetch(_AUTOTUNE)


def _example_fn(preprocess_fn, image_size, labels_offset):
    def example(image, label):
        image = preprocess_fn(image, image_size, image_size)
        return image, tf.cast(label, tf.int64) - labels_offset

    return example
