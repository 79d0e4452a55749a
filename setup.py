"""Installs the slim layer DSL, the model zoo, preprocessing and datasets."""

from setuptools import find_packages, setup

TF_LINE = '2.21.*'

setup(
    name='slim-tf2',
    version='0.1.0',
    description='TF-Slim style layers, model zoo, datasets and drivers on TensorFlow 2',
    packages=find_packages(
        include=[
            'slim',
            'slim.*',
            'nets',
            'nets.*',
            'preprocessing',
            'preprocessing.*',
            'slim_datasets',
            'slim_datasets.*',
            'serving',
            'serving.*',
        ]
    ),
    py_modules=[
        'train_image_classifier',
        'eval_image_classifier',
        'driver_utils',
        'download_and_convert_data',
        'export_inference_graph',
        'classify_image',
    ],
    python_requires='>=3.10',
    install_requires=[
        'tensorflow==' + TF_LINE,
        'numpy>=1.26,<3',
        'pillow>=10,<14',
        'absl-py>=2.1,<3',
        # Ships the 8x8 digits that the embedded default dataset is made of.
        'scikit-learn>=1.4,<2',
    ],
    extras_require={
        # TensorBoard reads the event files the drivers write; TensorFlow
        # 2.21 no longer installs it. Its releases follow TensorFlow's.
        'tensorboard': ['tensorboard==' + TF_LINE],
        'test': [
            'pytest>=8,<10',
            # The suite runs on two processes (pytest.ini): graph building
            # is single-threaded Python, so two cores halve it.
            'pytest-xdist>=3.5,<4',
            'tf-slim==1.1.0',
            'tf-keras==' + TF_LINE,
            # The formatter and pyflakes checks .ci/run makes (ruff.toml).
            'ruff==0.17.6',
        ],
    },
)
