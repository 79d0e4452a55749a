"""The arg scope shared by the Inception family of nets.

Every Inception net of the TF-Slim model zoo is trained under the same
defaults: He-style (variance scaling) initialised convolutions, an L2 weight
penalty on conv and fully connected weights, and batch norm after each
convolution. Keeping that in one function keeps checkpoints of the family
interchangeable with TF-Slim's, which were trained under exactly this scope.

Usage:

    with slim.arg_scope(inception_utils.inception_arg_scope()):
      logits, end_points = inception_v3.inception_v3(images, num_classes)

It also holds what the Inception net files share besides the scope: the
channel-count function of `depth_multiplier` and `min_depth`, the check of a
`final_endpoint`, and the pooling kernel that shrinks to small feature maps.
"""

import tensorflow as tf

import slim


def inception_arg_scope(
    weight_decay=0.00004,
    use_batch_norm=True,
    batch_norm_decay=0.9997,
    batch_norm_epsilon=0.001,
    activation_fn=tf.nn.relu,
    batch_norm_scale=False,
):
    """Returns the default arg scope of the Inception models.

    Args:
      weight_decay: the L2 penalty on conv and fully connected weights.
      use_batch_norm: if True, batch norm follows every convolution.
      batch_norm_decay: decay of the batch norm moving averages.
      batch_norm_epsilon: small float added to the variance to avoid dividing
        by zero in batch norm.
      activation_fn: the activation of the convolutions.
      batch_norm_scale: if True, batch norm has a learned `gamma`. TF-Slim's
        released Inception checkpoints have none, hence the default False.

    Returns:
      An arg scope dict, to enter with `slim.arg_scope(...)`.
    """
    batch_norm_params = {
        'decay': batch_norm_decay,
        'epsilon': batch_norm_epsilon,
        'scale': batch_norm_scale,
    }
    if use_batch_norm:
        normalizer_fn = slim.batch_norm
        normalizer_params = batch_norm_params
    else:
        normalizer_fn = None
        normalizer_params = {}
    with slim.arg_scope(
        [slim.conv2d, slim.fully_connected],
        weights_regularizer=slim.l2_regularizer(weight_decay),
    ):
        with slim.arg_scope(
            [slim.conv2d],
            weights_initializer=slim.variance_scaling_initializer(),
            activation_fn=activation_fn,
            normalizer_fn=normalizer_fn,
            normalizer_params=normalizer_params,
        ) as scope:
            return scope


def depth_fn(depth_multiplier, min_depth):
    """Returns the function that scales a layer's number of channels.

    `depth_fn(m, d)(channels)` is `max(int(channels * m), d)`: `min_depth`
    binds only when depth_multiplier < 1.

    Raises:
      ValueError: if depth_multiplier is not greater than zero.
    """
    if not depth_multiplier > 0:
        raise ValueError(
            'depth_multiplier must be greater than zero (it multiplies the number '
            'of channels of every convolution), got {!r}.'.format(
                depth_multiplier
            )
        )
    return lambda channels: max(int(channels * depth_multiplier), min_depth)


def check_final_endpoint(final_endpoint, valid_end_points):
    """Raises a ValueError unless `final_endpoint` is one of `valid_end_points`.

    Done before anything is built, so a typo costs no computation.
    """
    if final_endpoint not in valid_end_points:
        raise ValueError(
            'final_endpoint must be one of {}, got {!r}.'.format(
                list(valid_end_points), final_endpoint
            )
        )


def reduced_kernel_size_for_small_input(input_tensor, kernel_size):
    """Shrinks `kernel_size` to the static height and width of the input.

    So a window meant to cover a whole 7 x 7 (or 8 x 8) map still covers the
    whole, smaller map of a smaller image. An unknown height or width leaves
    the kernel as it is, assuming the input is large enough.
    """
    shape = input_tensor.shape.as_list()
    if shape[1] is None or shape[2] is None:
        return list(kernel_size)
    return [min(shape[1], kernel_size[0]), min(shape[2], kernel_size[1])]
