"""Inception-style preprocessing, with TF-Slim's parameters, output in [-1, 1].

Training: a random crop covering 5%..100% of the image with aspect ratio 0.75..1.33
(`sample_distorted_bounding_box`, `min_object_covered=0.1`), a resize to the output
size, a random left-right flip and a random colour distortion. Evaluation: the
central 87.5% of the image, resized with `tf.compat.v1.image.resize_bilinear`
(`align_corners=False`) exactly as TF-Slim did, whose output differs from
`tf.image.resize`'s.

Unlike TF-Slim, every random choice comes from one `seed` (see `random_ops`), so a
call is repeatable when a seed is given.
"""

import tensorflow as tf

from preprocessing import random_ops


def preprocess_image(
    image,
    height,
    width,
    is_training=False,
    bbox=None,
    fast_mode=True,
    add_image_summaries=False,
    crop_image=True,
    use_grayscale=False,
    seed=None,
):
    """Preprocesses one image for training or evaluation.

    Args:
      image: a 3-D image tensor; uint8 in [0, 255] or float in [0, 1].
      height, width: the output size.
      is_training: distort for training, or crop and resize for evaluation.
      bbox: float [1, num_boxes, 4] boxes `[ymin, xmin, ymax, xmax]` the training
        crop must overlap; None means the whole image.
      fast_mode: skip the slow variants (bicubic/area/nearest resizes, hue and
        contrast, the colour orderings 1..3), as TF-Slim's default does.
      add_image_summaries: accepted for TF-Slim compatibility; summaries are the
        train loop's business in TF2, so nothing is written.
      crop_image: training: do the random crop; evaluation: the central crop.
      use_grayscale: return a one-channel gray image.
      seed: None, an int or an int [2] tensor for the random choices.

    Returns:
      A float32 [height, width, 3] (or 1 with `use_grayscale`) tensor in [-1, 1].
    """
    del add_image_summaries
    if is_training:
        return preprocess_for_train(
            image,
            height,
            width,
            bbox,
            fast_mode,
            random_crop=crop_image,
            use_grayscale=use_grayscale,
            seed=seed,
        )
    return preprocess_for_eval(
        image,
        height,
        width,
        central_crop=crop_image,
        use_grayscale=use_grayscale,
    )


def preprocess_for_train(
    image,
    height,
    width,
    bbox=None,
    fast_mode=True,
    random_crop=True,
    use_grayscale=False,
    seed=None,
):
    """Distorts one image for training; see `preprocess_image` for the arguments."""
    with tf.name_scope('distort_image'):
        crop_seed, resize_seed, flip_seed, order_seed, color_seed = (
            random_ops.split_seed(seed, 5)
        )
        if bbox is None:
            bbox = tf.constant(
                [0.0, 0.0, 1.0, 1.0], dtype=tf.float32, shape=[1, 1, 4]
            )
        if image.dtype != tf.float32:
            image = tf.image.convert_image_dtype(image, dtype=tf.float32)
        distorted_image = image
        if random_crop:
            distorted_image = distorted_bounding_box_crop(
                image, bbox, seed=crop_seed
            )
        distorted_image.set_shape([None, None, 3])
        # The four resize methods of TF-Slim's round robin; fast mode keeps bilinear.
        distorted_image = random_ops.apply_with_random_selector(
            distorted_image,
            lambda x, method: tf.compat.v1.image.resize_images(
                x, [height, width], method
            ),
            num_cases=1 if fast_mode else 4,
            seed=resize_seed,
        )
        distorted_image = tf.image.stateless_random_flip_left_right(
            distorted_image, flip_seed
        )
        distorted_image = random_ops.apply_with_random_selector(
            distorted_image,
            lambda x, ordering: distort_color(
                x, ordering, fast_mode, seed=color_seed
            ),
            num_cases=1 if fast_mode else 4,
            seed=order_seed,
        )
        if use_grayscale:
            distorted_image = tf.image.rgb_to_grayscale(distorted_image)
        return tf.multiply(tf.subtract(distorted_image, 0.5), 2.0)


def preprocess_for_eval(
    image,
    height,
    width,
    central_fraction=0.875,
    central_crop=True,
    use_grayscale=False,
):
    """Central crop, bilinear resize and scaling to [-1, 1], as TF-Slim's eval.

    Args:
      image: a 3-D image tensor; uint8 in [0, 255] or float in [0, 1].
      height, width: the output size; if either is falsy the image is not resized.
      central_fraction: the fraction of each side the central crop keeps.
      central_crop: whether to crop at all.
      use_grayscale: return a one-channel gray image.
    """
    with tf.name_scope('eval_image'):
        if image.dtype != tf.float32:
            image = tf.image.convert_image_dtype(image, dtype=tf.float32)
        if central_crop and central_fraction:
            image = tf.image.central_crop(
                image, central_fraction=central_fraction
            )
        if height and width:
            # The kernel behind tf.compat.v1.image.resize_bilinear(align_corners=False),
            # called directly to skip its deprecation warning.
            image = tf.raw_ops.ResizeBilinear(
                images=tf.expand_dims(image, 0),
                size=[height, width],
                align_corners=False,
                half_pixel_centers=False,
            )
            image = tf.squeeze(image, [0])
        if use_grayscale:
            image = tf.image.rgb_to_grayscale(image)
        return tf.multiply(tf.subtract(image, 0.5), 2.0)


def distort_color(image, color_ordering=0, fast_mode=True, seed=None):
    """Randomly changes brightness, saturation (and hue, contrast) in one of 4 orders.

    Args:
      image: a float image in [0, 1].
      color_ordering: 0..3, the order of the colour ops.
      fast_mode: only brightness and saturation.
      seed: None, an int or an int [2] tensor.

    Returns:
      The distorted image, clipped to [0, 1].

    Raises:
      ValueError: if `color_ordering` is not in 0..3.
    """
    if color_ordering not in (0, 1, 2, 3):
        raise ValueError(
            'color_ordering=%r: expected 0, 1, 2 or 3.' % (color_ordering,)
        )
    seeds = random_ops.split_seed(seed, 4)
    ops = {
        'brightness': lambda x, s: tf.image.stateless_random_brightness(
            x, 32.0 / 255.0, s
        ),
        'saturation': lambda x, s: tf.image.stateless_random_saturation(
            x, 0.5, 1.5, s
        ),
        'hue': lambda x, s: tf.image.stateless_random_hue(x, 0.2, s),
        'contrast': lambda x, s: tf.image.stateless_random_contrast(
            x, 0.5, 1.5, s
        ),
    }
    if fast_mode:
        order = (
            ['brightness', 'saturation']
            if color_ordering == 0
            else ['saturation', 'brightness']
        )
    else:
        order = [
            ['brightness', 'saturation', 'hue', 'contrast'],
            ['saturation', 'brightness', 'contrast', 'hue'],
            ['contrast', 'hue', 'brightness', 'saturation'],
            ['hue', 'saturation', 'contrast', 'brightness'],
        ][color_ordering]
    with tf.name_scope('distort_color'):
        for op_name, op_seed in zip(order, seeds):
            image = ops[op_name](image, op_seed)
        # The random_* ops do not necessarily clamp.
        return tf.clip_by_value(image, 0.0, 1.0)


def distorted_bounding_box_crop(
    image,
    bbox,
    min_object_covered=0.1,
    aspect_ratio_range=(0.75, 1.33),
    area_range=(0.05, 1.0),
    max_attempts=100,
    seed=None,
):
    """Returns a random crop of `image` obeying TF-Slim's overlap, aspect and area limits.

    After `max_attempts` failed draws the whole image is returned.
    """
    with tf.name_scope('distorted_bounding_box_crop'):
        if seed is None:
            seed = random_ops.split_seed(None, 1)[0]
        bbox_begin, bbox_size, _ = (
            tf.image.stateless_sample_distorted_bounding_box(
                tf.shape(image),
                bounding_boxes=bbox,
                seed=seed,
                min_object_covered=min_object_covered,
                aspect_ratio_range=aspect_ratio_range,
                area_range=area_range,
                max_attempts=max_attempts,
                use_image_if_no_bounding_boxes=True,
            )
        )
        return tf.slice(image, bbox_begin, bbox_size)
