"""Maps a net (or style) name to its preprocessing function, as TF-Slim's factory.

`get_preprocessing(name, is_training)` returns `fn(image, output_height,
output_width, **kwargs)`. Every net of TF-Slim's `nets_factory` has an entry with the
style TF-Slim gives it. Beyond TF-Slim's own table: `alexnet_v2` and `overfeat` (which
TF-Slim's factory forgot) get the vgg style like the other ImageNet nets trained on
0..255 inputs, the `mobilenet_v1_*` width variants get inception like `mobilenet_v1`,
and `nasnet_cifar` gets cifarnet, as TF-Slim's NASNet README tells one to pass.
"""
import numpy as np

from preprocessing import cifarnet_preprocessing
from preprocessing import inception_preprocessing
from preprocessing import lenet_preprocessing
from preprocessing import vgg_preprocessing

_INCEPTION_NETS = (
    'inception', 'inception_v1', 'inception_v2', 'inception_v3', 'inception_v4',
    'inception_resnet_v2',
    'mobilenet_v1', 'mobilenet_v1_075', 'mobilenet_v1_050', 'mobilenet_v1_025',
    'mobilenet_v2', 'mobilenet_v2_035', 'mobilenet_v2_140',
    'mobilenet_v3_small', 'mobilenet_v3_large', 'mobilenet_v3_small_minimalistic',
    'mobilenet_v3_large_minimalistic', 'mobilenet_edgetpu', 'mobilenet_edgetpu_075',
    'nasnet_mobile', 'nasnet_large', 'pnasnet_mobile', 'pnasnet_large',
)
_VGG_NETS = (
    'vgg', 'vgg_a', 'vgg_16', 'vgg_19', 'alexnet_v2', 'overfeat',
    'resnet_v1_50', 'resnet_v1_101', 'resnet_v1_152', 'resnet_v1_200',
    'resnet_v2_50', 'resnet_v2_101', 'resnet_v2_152', 'resnet_v2_200',
)

PREPROCESSING_MAP = dict(
    [(name, inception_preprocessing) for name in _INCEPTION_NETS]
    + [(name, vgg_preprocessing) for name in _VGG_NETS]
    + [('cifarnet', cifarnet_preprocessing), ('nasnet_cifar', cifarnet_preprocessing),
       ('lenet', lenet_preprocessing)])


def get_preprocessing(name, is_training=False, use_grayscale=False):
    """Returns `preprocessing_fn(image, output_height, output_width, **kwargs)`.

    Args:
      name: a net name (`'inception_v3'`, `'resnet_v1_50'`, ...) or a style name
        (`'inception'`, `'vgg'`, `'cifarnet'`, `'lenet'`).
      is_training: whether to return the training (random) variant.
      use_grayscale: whether the function returns one gray channel.

    The returned function preprocesses one image (before batching); its keyword
    arguments go to the style's `preprocess_image` (e.g. `seed=`, `fast_mode=`).

    Raises:
      ValueError: if `name` is unknown (the message lists the valid names).
      TypeError: if `is_training` or `use_grayscale` is not a bool.
    """
    if name not in PREPROCESSING_MAP:
        raise ValueError('name=%r is not a known preprocessing; valid names: %s.'
                         % (name, ', '.join(sorted(PREPROCESSING_MAP))))
    for arg_name, value in (('is_training', is_training), ('use_grayscale', use_grayscale)):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError('%s=%r: expected a bool.' % (arg_name, value))
    module = PREPROCESSING_MAP[name]

    def preprocessing_fn(image, output_height, output_width, **kwargs):
        return module.preprocess_image(image, output_height, output_width,
                                       is_training=is_training,
                                       use_grayscale=use_grayscale, **kwargs)

    return preprocessing_fn
