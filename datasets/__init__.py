"""Datasets in TF-Slim's TFRecord format, their converters and the embedded default.

`dataset_factory.get_dataset(name, split_name, dataset_dir)` is the entry point.
This package's `__init__` imports nothing heavy on purpose: the folder converter's
worker processes import `datasets.image_files` and must not pay for TensorFlow.
"""
