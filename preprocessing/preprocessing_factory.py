"""Maps a preprocessing style, or a registered net, to its preprocessing function.

`get_preprocessing(name, is_training)` returns `fn(image, output_height,
output_width, **kwargs)`. `name` is a style (`'inception'`, `'vgg'`,
`'cifarnet'`, `'lenet'`) or the name of a net in `nets.nets_factory`, whose
registration names its style: the one TF-Slim's factory gave it.
"""

import numpy as np

from preprocessing import cifarnet_preprocessing
from preprocessing import inception_preprocessing
from preprocessing import lenet_preprocessing
from preprocessing import vgg_preprocessing

STYLES = {
    'cifarnet': cifarnet_preprocessing,
    'inception': inception_preprocessing,
    'lenet': lenet_preprocessing,
    'vgg': vgg_preprocessing,
}


def list_preprocessings():
    """The names `get_preprocessing` knows: the styles and the registered nets."""
    from nets import nets_factory  # nets registers the styles it uses

    return sorted(
        set(STYLES)
        | {
            name
            for name in nets_factory.list_networks()
            if nets_factory.get_network_spec(name).preprocessing in STYLES
        }
    )


def style_of(name):
    """The style module of a style or registered net name, or None."""
    if name in STYLES:
        return STYLES[name]
    from nets import nets_factory

    if name in nets_factory.list_networks():
        return STYLES.get(nets_factory.get_network_spec(name).preprocessing)
    return None


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
    module = style_of(name)
    if module is None:
        raise ValueError(
            'name=%r is not a known preprocessing; valid names: %s.'
            % (name, ', '.join(list_preprocessings()))
        )
    for arg_name, value in (
        ('is_training', is_training),
        ('use_grayscale', use_grayscale),
    ):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError('%s=%r: expected a bool.' % (arg_name, value))

    def preprocessing_fn(image, output_height, output_width, **kwargs):
        return module.preprocess_image(
            image,
            output_height,
            output_width,
            is_training=is_training,
            use_grayscale=use_grayscale,
            **kwargs,
        )

    return preprocessing_fn
