r"""Measures the input pipeline: TFRecords of JPEGs -> decode -> inception training crop.

Builds TFRecord shards of ImageNet-like JPEGs (about 400x350, made with numpy and
Pillow, smooth enough to compress like photos), then times the train driver's
pipeline (`slim.input_pipelines.train_input_fn`: `DatasetSplit.read(shuffle=True)`
+ `inception_preprocessing` (training, 299x299) + batching), in images per second. The pipeline must deliver at least twice the
images/s of bfloat16 Inception-v3 training on the same machine, which
`benchmarks/benchmark_nets.py --dtypes=bfloat16` measures; pass that figure as
`--train_images_per_second` to print the ratio.

    python benchmarks/input_pipeline.py [--num_images=512] [--batch_size=32]
"""

import argparse
import io
import os
import sys
import tempfile
import time

import numpy as np
import tensorflow as tf
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from slim_datasets import dataset_utils  # noqa: E402
from slim_datasets import tfrecord_dataset  # noqa: E402
from preprocessing import preprocessing_factory  # noqa: E402
from slim import input_pipelines  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--num_images', type=int, default=512)
    parser.add_argument('--num_shards', type=int, default=8)
    parser.add_argument('--batch_size', type=int, default=32)
    parser.add_argument('--image_size', type=int, default=299)
    parser.add_argument('--num_batches', type=int, default=40)
    parser.add_argument(
        '--data_dir',
        default=None,
        help='where to write the shards '
        '(default: a temporary folder, removed afterwards)',
    )
    parser.add_argument(
        '--train_images_per_second',
        type=float,
        default=None,
        help='bfloat16 Inception-v3 training throughput to compare with',
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_dir:
        data_dir = args.data_dir or tmp_dir
        make_shards(data_dir, args.num_images, args.num_shards)
        rate = pipeline_images_per_second(
            data_dir,
            args.num_images,
            args.batch_size,
            args.image_size,
            args.num_batches,
        )
    print(
        'input pipeline: %.1f images/s (read + decode + inception training '
        'preprocessing at %dx%d, batch %d, %d CPUs)'
        % (
            rate,
            args.image_size,
            args.image_size,
            args.batch_size,
            os.cpu_count(),
        )
    )
    if args.train_images_per_second:
        print(
            'pipeline / training = %.1fx (at least 2x needed)'
            % (rate / args.train_images_per_second)
        )


def make_shards(
    data_dir, num_images, num_shards, height=350, width=400, seed=0
):
    """Writes `num_images` JPEG records in `num_shards` `bench_train_*` shards."""
    rng = np.random.RandomState(seed)
    per_shard = -(-num_images // num_shards)
    for shard in range(num_shards):
        path = dataset_utils.shard_filename(
            data_dir, 'bench', 'train', shard, num_shards
        )
        with tf.io.TFRecordWriter(path) as writer:
            for _ in range(min(per_shard, num_images - shard * per_shard)):
                # Coarse noise upscaled plus fine grain: compresses like a photo
                # (tens of kB), unlike pure noise.
                coarse = rng.randint(
                    0, 256, (height // 16, width // 16, 3)
                ).astype(np.uint8)
                image = np.asarray(
                    Image.fromarray(coarse).resize(
                        (width, height), Image.BICUBIC
                    ),
                    np.int16,
                )
                image = np.clip(
                    image + rng.randint(-12, 13, image.shape), 0, 255
                )
                buffer = io.BytesIO()
                Image.fromarray(image.astype(np.uint8)).save(
                    buffer, 'JPEG', quality=90
                )
                writer.write(
                    dataset_utils.image_to_tfexample(
                        buffer.getvalue(),
                        b'jpeg',
                        height,
                        width,
                        int(rng.randint(1000)),
                    ).SerializeToString()
                )


def pipeline_images_per_second(
    data_dir, num_images, batch_size, image_size, num_batches
):
    """Times the training input pipeline the drivers build, after a warm-up."""
    dataset = tfrecord_dataset.DatasetSplit(
        'bench', 'train', data_dir, ['bench_%s_*.tfrecord'], num_images, 1000
    )
    preprocess = preprocessing_factory.get_preprocessing(
        'inception_v3', is_training=True
    )
    # The drivers' own pipeline, with the train driver's default flags.
    input_fn = input_pipelines.train_input_fn(
        dataset,
        preprocess,
        image_size,
        batch_size,
        num_readers=4,
        num_preprocessing_threads=4,
    )
    iterator = iter(input_fn())
    for _ in range(5):  # warm-up: threads, AUTOTUNE, page cache
        next(iterator)
    start = time.perf_counter()
    for _ in range(num_batches):
        images, _ = next(iterator)
    elapsed = time.perf_counter() - start
    assert images.shape == (batch_size, image_size, image_size, 3)
    return num_batches * batch_size / elapsed


if __name__ == '__main__':
    main()
