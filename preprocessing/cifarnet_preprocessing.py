"""CIFAR-style preprocessing, with TF-Slim's parameters.

Training: pad 4 pixels each side, random crop of the output size, random flip,
random brightness (max delta 63 on the 0..255 scale) and contrast (0.2..1.8), then
per-image standardization. Evaluation: centre crop or pad to the output size, then
per-image standardization.
"""

import tensorflow as tf

from preprocessing import random_ops

PADDING = 4


def preprocess_image(
    image,
    output_height,
    output_width,
    is_training=False,
    add_image_summaries=False,
    use_grayscale=False,
    padding=PADDING,
    seed=None,
):
    """Preprocesses one image.

    Args:
      image: a 3-D RGB image tensor with values in [0, 255] (any dtype).
      output_height, output_width: the output size.
      is_training: pad, random crop and distort; else crop or pad only.
      add_image_summaries: accepted for TF-Slim compatibility; no summaries in TF2.
      use_grayscale: return one gray channel.
      padding: the training padding on each side.
      seed: None, an int or an int [2] tensor for the random choices.

    Returns:
      A standardized float32 [output_height, output_width, 3 (or 1)] tensor.
    """
    del add_image_summaries
    if is_training:
        return preprocess_for_train(
            image, output_height, output_width, padding, use_grayscale, seed
        )
    return preprocess_for_eval(
        image, output_height, output_width, use_grayscale
    )


def preprocess_for_train(
    image,
    output_height,
    output_width,
    padding=PADDING,
    use_grayscale=False,
    seed=None,
):
    """Pad, random crop, flip, brightness, contrast, standardization."""
    crop_seed, flip_seed, brightness_seed, contrast_seed = (
        random_ops.split_seed(seed, 4)
    )
    image = tf.cast(image, tf.float32)
    if use_grayscale:
        image = tf.image.rgb_to_grayscale(image)
    channels = 1 if use_grayscale else 3
    if padding > 0:
        image = tf.pad(image, [[padding, padding], [padding, padding], [0, 0]])
    image = tf.image.stateless_random_crop(
        image, [output_height, output_width, channels], crop_seed
    )
    image = tf.image.stateless_random_flip_left_right(image, flip_seed)
    # These two do not commute; TF-Slim applies them in this fixed order.
    image = tf.image.stateless_random_brightness(image, 63, brightness_seed)
    image = tf.image.stateless_random_contrast(image, 0.2, 1.8, contrast_seed)
    return tf.image.per_image_standardization(image)


def preprocess_for_eval(
    image, output_height, output_width, use_grayscale=False
):
    """Centre crop or pad to the output size, standardization."""
    image = tf.cast(image, tf.float32)
    if use_grayscale:
        image = tf.image.rgb_to_grayscale(image)
    # TF-Slim passes (width, height) here; equal for its square outputs, so the
    # (height, width) order, which is right for any output, gives the same result.
    image = tf.image.resize_with_crop_or_pad(image, output_height, output_width)
    return tf.image.per_image_standardization(image)
