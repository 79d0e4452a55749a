"""VGG-style preprocessing (Simonyan & Zisserman), with TF-Slim's parameters.

Training: resize so the smaller side is a random size in [256, 512] keeping the
aspect ratio, take a random crop of the output size, flip left-right at random.
Evaluation: smaller side to 256, central crop. Both subtract the ImageNet channel
means 123.68, 116.78, 103.94 from the 0..255 values (no scaling), as the VGG and
ResNet-v1 checkpoints of the TF-Slim model zoo expect.
"""

import tensorflow as tf

from preprocessing import random_ops

R_MEAN = 123.68
G_MEAN = 116.78
B_MEAN = 103.94

RESIZE_SIDE_MIN = 256
RESIZE_SIDE_MAX = 512


def preprocess_image(
    image,
    output_height,
    output_width,
    is_training=False,
    resize_side_min=RESIZE_SIDE_MIN,
    resize_side_max=RESIZE_SIDE_MAX,
    use_grayscale=False,
    seed=None,
):
    """Preprocesses one image.

    Args:
      image: a 3-D RGB image tensor with values in [0, 255] (any dtype).
      output_height, output_width: the output size.
      is_training: random resize, crop and flip; else fixed resize and central crop.
      resize_side_min: the smallest resized smaller side in training, and the
        resized smaller side in evaluation.
      resize_side_max: the largest resized smaller side in training.
      use_grayscale: return one gray channel (minus the gray value of the means).
      seed: None, an int or an int [2] tensor for the random choices.

    Returns:
      A float32 [output_height, output_width, 3 (or 1)] tensor, mean-subtracted.
    """
    if is_training:
        return preprocess_for_train(
            image,
            output_height,
            output_width,
            resize_side_min,
            resize_side_max,
            use_grayscale,
            seed,
        )
    return preprocess_for_eval(
        image, output_height, output_width, resize_side_min, use_grayscale
    )


def preprocess_for_train(
    image,
    output_height,
    output_width,
    resize_side_min=RESIZE_SIDE_MIN,
    resize_side_max=RESIZE_SIDE_MAX,
    use_grayscale=False,
    seed=None,
):
    """Random aspect-preserving resize, random crop, flip, mean subtraction."""
    side_seed, crop_seed, flip_seed = random_ops.split_seed(seed, 3)
    resize_side = tf.random.stateless_uniform(
        [],
        side_seed,
        minval=resize_side_min,
        maxval=resize_side_max + 1,
        dtype=tf.int32,
    )
    image = _aspect_preserving_resize(image, resize_side)
    shape = tf.shape(image)
    offsets = tf.random.stateless_uniform(
        [2], crop_seed, minval=0, maxval=tf.int32.max, dtype=tf.int32
    )
    # A random offset in [0, size - crop], as TF-Slim's random_uniform(maxval=...+1).
    offset_height = offsets[0] % (shape[0] - output_height + 1)
    offset_width = offsets[1] % (shape[1] - output_width + 1)
    image = _crop(
        image, offset_height, offset_width, output_height, output_width
    )
    image = tf.image.stateless_random_flip_left_right(
        tf.cast(image, tf.float32), flip_seed
    )
    return _mean_image_subtraction(image, use_grayscale)


def preprocess_for_eval(
    image,
    output_height,
    output_width,
    resize_side=RESIZE_SIDE_MIN,
    use_grayscale=False,
):
    """Aspect-preserving resize to `resize_side`, central crop, mean subtraction."""
    image = _aspect_preserving_resize(image, resize_side)
    shape = tf.shape(image)
    image = _crop(
        image,
        (shape[0] - output_height) // 2,
        (shape[1] - output_width) // 2,
        output_height,
        output_width,
    )
    return _mean_image_subtraction(tf.cast(image, tf.float32), use_grayscale)


def smallest_size_at_least(height, width, smallest_side):
    """Returns `(new_height, new_width)` with the smaller side `smallest_side`.

    Computed in float32 and truncated, as TF-Slim does, so sizes match its own.
    """
    height = tf.cast(height, tf.float32)
    width = tf.cast(width, tf.float32)
    smallest_side = tf.cast(smallest_side, tf.float32)
    scale = tf.where(
        height > width, smallest_side / width, smallest_side / height
    )
    return tf.cast(height * scale, tf.int32), tf.cast(width * scale, tf.int32)


def _aspect_preserving_resize(image, smallest_side):
    shape = tf.shape(image)
    new_height, new_width = smallest_size_at_least(
        shape[0], shape[1], smallest_side
    )
    # tf.compat.v1.image.resize_bilinear(align_corners=False)'s kernel, as TF-Slim.
    resized = tf.raw_ops.ResizeBilinear(
        images=tf.expand_dims(image, 0),
        size=tf.stack([new_height, new_width]),
        align_corners=False,
        half_pixel_centers=False,
    )
    resized = tf.squeeze(resized, [0])
    resized.set_shape([None, None, 3])
    return resized


def _crop(image, offset_height, offset_width, crop_height, crop_width):
    shape = tf.shape(image)
    # Graph-time checks with a readable message instead of a bare slice error.
    tf.debugging.assert_greater_equal(
        shape[:2],
        tf.constant([crop_height, crop_width]),
        message='vgg_preprocessing: the crop is larger than the resized image.',
    )
    image = tf.slice(
        image,
        tf.stack([offset_height, offset_width, 0]),
        tf.stack([crop_height, crop_width, shape[2]]),
    )
    image.set_shape([crop_height, crop_width, 3])
    return image


def _mean_image_subtraction(image, use_grayscale):
    if use_grayscale:
        gray_mean = 0.2989 * R_MEAN + 0.5870 * G_MEAN + 0.1140 * B_MEAN
        return tf.image.rgb_to_grayscale(image) - gray_mean
    return image - tf.constant([R_MEAN, G_MEAN, B_MEAN], dtype=image.dtype)
