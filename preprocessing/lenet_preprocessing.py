"""LeNet preprocessing as TF-Slim's: centre crop or pad, then (x - 128) / 128.

The same for training and evaluation. The output lies in [-1, 127/128].
"""

import tensorflow as tf


def preprocess_image(
    image,
    output_height,
    output_width,
    is_training=False,
    use_grayscale=False,
    seed=None,
):
    """Preprocesses one image.

    Args:
      image: a 3-D image tensor with values in [0, 255] (any dtype).
      output_height, output_width: the output size.
      is_training: unused; LeNet's preprocessing has no random part.
      use_grayscale: return one gray channel.
      seed: unused; accepted so that every style takes `seed=`.

    Returns:
      A float32 [output_height, output_width, 3 (or 1)] tensor.
    """
    del is_training, seed
    image = tf.cast(image, tf.float32)
    if use_grayscale:
        image = tf.image.rgb_to_grayscale(image)
    # TF-Slim passes (width, height); see cifarnet_preprocessing for why we do not.
    image = tf.image.resize_with_crop_or_pad(image, output_height, output_width)
    return tf.divide(tf.subtract(image, 128.0), 128.0)
