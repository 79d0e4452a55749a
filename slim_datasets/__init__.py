"""Datasets in TF-Slim's TFRecord format, their converters and the embedded default.

    from slim_datasets import dataset_factory
    split = dataset_factory.get_dataset('flowers', 'train', '/data/flowers')
    split.num_samples, split.num_classes, split.labels_to_names
    images_and_labels = split.read(shuffle=True, num_readers=4, seed=1)
    # -> tf.data.Dataset of (uint8 [H, W, 3], int64 []), one pass, prefetched

`get_dataset('digits', split, None)` builds the embedded default (scikit-learn's
digits as 28x28 PNG shards) into its cache folder on first use. The converters
(`convert_folder`, `convert_flowers`, `convert_cifar10`, `convert_mnist`, used by
`download_and_convert_data.py`) write shards that this package and TF-Slim read.

This `__init__` imports nothing heavy on purpose: the folder converter's worker
processes import `slim_datasets.image_files` and must not pay for TensorFlow.
"""
