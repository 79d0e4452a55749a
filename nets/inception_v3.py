"""Inception-v3, variable for variable the net of TF-Slim's model zoo.

"Rethinking the Inception Architecture for Computer Vision", Szegedy,
Vanhoucke, Ioffe, Shlens and Wojna, http://arxiv.org/abs/1512.00567.

The entry points, their arguments, the end points and every variable name and
shape are TF-Slim's (research/slim), so the released `inception_v3.ckpt`
loads by name with `slim.assign_from_checkpoint` and code written against
TF-Slim's module runs unchanged:

    model = slim.Model(inception_v3.inception_v3, num_classes=1001)
    with slim.arg_scope(inception_v3.inception_v3_arg_scope()):
      logits, end_points = model(images, is_training=False)

The layers in the paper are named differently; the map from the old names:

  conv0 Conv2d_1a_3x3, conv1 Conv2d_2a_3x3, conv2 Conv2d_2b_3x3,
  pool1 MaxPool_3a_3x3, conv3 Conv2d_3b_1x1, conv4 Conv2d_4a_3x3,
  pool2 MaxPool_5a_3x3, mixed_35x35x256a Mixed_5b, mixed_35x35x288a Mixed_5c,
  mixed_35x35x288b Mixed_5d, mixed_17x17x768a Mixed_6a,
  mixed_17x17x768b..e Mixed_6b..Mixed_6e, mixed_8x8x1280a Mixed_7a,
  mixed_8x8x2048a Mixed_7b, mixed_8x8x2048b Mixed_7c.

The shape comments below are for a 299 x 299 input.
"""

import tensorflow as tf

import slim
from nets import inception_utils

# The end points of `inception_v3_base`, in the order they are built; any of
# them is a valid `final_endpoint`.
BASE_END_POINTS = (
    'Conv2d_1a_3x3',
    'Conv2d_2a_3x3',
    'Conv2d_2b_3x3',
    'MaxPool_3a_3x3',
    'Conv2d_3b_1x1',
    'Conv2d_4a_3x3',
    'MaxPool_5a_3x3',
    'Mixed_5b',
    'Mixed_5c',
    'Mixed_5d',
    'Mixed_6a',
    'Mixed_6b',
    'Mixed_6c',
    'Mixed_6d',
    'Mixed_6e',
    'Mixed_7a',
    'Mixed_7b',
    'Mixed_7c',
)

inception_v3_arg_scope = inception_utils.inception_arg_scope


def inception_v3_base(
    inputs,
    final_endpoint='Mixed_7c',
    min_depth=16,
    depth_multiplier=1.0,
    scope=None,
):
    """Builds Inception-v3 from the inputs up to `final_endpoint`.

    Args:
      inputs: a tensor of shape [batch_size, height, width, channels].
      final_endpoint: the end point to build the net up to, one of
        `BASE_END_POINTS` ('Conv2d_1a_3x3' ... 'Mixed_7c').
      min_depth: the smallest number of channels of any convolution; binds only
        when depth_multiplier < 1.
      depth_multiplier: a float > 0 that multiplies the number of channels of
        every convolution; values in (0, 1) give a smaller, faster net.
      scope: optional variable scope, 'InceptionV3' by default.

    Returns:
      net: the tensor of `final_endpoint`.
      end_points: a dict from end point name to its tensor, for every end point
        built.

    Raises:
      ValueError: if final_endpoint is not one of `BASE_END_POINTS`, or if
        depth_multiplier is not greater than zero.
    """
    depth = _depth_fn(depth_multiplier, min_depth)
    _check_final_endpoint(final_endpoint)
    with slim.variable_scope(scope, 'InceptionV3', [inputs]):
        return _trunk(inputs, final_endpoint, depth)


def inception_v3(
    inputs,
    num_classes=1000,
    is_training=True,
    dropout_keep_prob=0.8,
    min_depth=16,
    depth_multiplier=1.0,
    prediction_fn=slim.softmax,
    spatial_squeeze=True,
    reuse=None,
    create_aux_logits=True,
    scope='InceptionV3',
    global_pool=False,
):
    """Inception-v3 classifier: the trunk, the auxiliary head and the logits.

    With the default arguments this is the net of the paper, trained at
    299 x 299 (`inception_v3.default_image_size`). Smaller inputs shrink the
    kernels of the final pooling and of the auxiliary head to the feature map,
    as TF-Slim does, so 1 x 1 logits come out of any input down to 107 x 107
    (down to 75 x 75 with create_aux_logits=False).

    Args:
      inputs: a tensor of shape [batch_size, height, width, channels].
      num_classes: the number of classes. If 0 or None, the logits layer and
        the auxiliary head are omitted and the pooled features (before
        dropout) are returned instead of logits.
      is_training: whether batch norm uses batch statistics (and updates its
        moving averages) and dropout drops.
      dropout_keep_prob: the fraction of the pre-logits activations retained.
      min_depth: the smallest number of channels of any convolution; binds only
        when depth_multiplier < 1.
      depth_multiplier: a float > 0 that multiplies the number of channels of
        every convolution.
      prediction_fn: turns logits into `end_points['Predictions']`.
      spatial_squeeze: if True, logits have shape [B, C]; if False,
        [B, 1, 1, C].
      reuse: whether the variables of `scope` are reused.
      create_aux_logits: whether to build the auxiliary head on Mixed_6e.
      scope: the variable scope.
      global_pool: if True, the features are averaged over the whole feature
        map (any input size gives 1 x 1); if False, by a fixed 8 x 8 window.

    Returns:
      logits: the pre-softmax activations, [batch_size, num_classes], or the
        pooled features [batch_size, 1, 1, 2048 * depth_multiplier] when
        num_classes is 0 or None.
      end_points: a dict from end point name to its tensor: the trunk's, then
        'AuxLogits', 'AvgPool_1a' (or 'global_pool'), 'PreLogits', 'Logits'
        and 'Predictions'.

    Raises:
      ValueError: if depth_multiplier is not greater than zero, or the input
        is too small for the auxiliary head.
    """
    depth = _depth_fn(depth_multiplier, min_depth)
    with slim.variable_scope(
        scope, 'InceptionV3', [inputs, num_classes], reuse=reuse
    ):
        with slim.arg_scope(
            [slim.batch_norm, slim.dropout], is_training=is_training
        ):
            net, end_points = _trunk(inputs, 'Mixed_7c', depth)

            if create_aux_logits and num_classes:
                end_points['AuxLogits'] = _aux_logits(
                    end_points['Mixed_6e'], num_classes, depth, spatial_squeeze
                )

            with slim.variable_scope('Logits'):
                if global_pool:
                    net = tf.reduce_mean(
                        net, [1, 2], keepdims=True, name='GlobalPool'
                    )
                    end_points['global_pool'] = net
                else:
                    kernel_size = _reduced_kernel_size_for_small_input(
                        net, [8, 8]
                    )
                    net = slim.avg_pool2d(
                        net,
                        kernel_size,
                        padding='VALID',
                        scope='AvgPool_1a_{}x{}'.format(*kernel_size),
                    )
                    end_points['AvgPool_1a'] = net
                if not num_classes:
                    return net, end_points
                # 1 x 1 x 2048
                net = slim.dropout(
                    net, keep_prob=dropout_keep_prob, scope='Dropout_1b'
                )
                end_points['PreLogits'] = net
                logits = slim.conv2d(
                    net,
                    num_classes,
                    [1, 1],
                    activation_fn=None,
                    normalizer_fn=None,
                    scope='Conv2d_1c_1x1',
                )
                if spatial_squeeze:
                    logits = tf.squeeze(logits, [1, 2], name='SpatialSqueeze')
                # num_classes
            end_points['Logits'] = logits
            if prediction_fn:
                end_points['Predictions'] = prediction_fn(
                    logits, scope='Predictions'
                )
    return logits, end_points


inception_v3.default_image_size = 299


def _depth_fn(depth_multiplier, min_depth):
    """Returns the function that scales a layer's number of channels."""
    if not depth_multiplier > 0:
        raise ValueError(
            'depth_multiplier must be greater than zero (it multiplies the number '
            'of channels of every convolution), got {!r}.'.format(
                depth_multiplier
            )
        )
    return lambda channels: max(int(channels * depth_multiplier), min_depth)


def _check_final_endpoint(final_endpoint):
    if final_endpoint not in BASE_END_POINTS:
        raise ValueError(
            'final_endpoint must be one of {}, got {!r}.'.format(
                list(BASE_END_POINTS), final_endpoint
            )
        )


def _trunk(inputs, final_endpoint, depth):
    """Builds the end points up to `final_endpoint` in the current scope.

    Shared by `inception_v3_base` and `inception_v3`, each of which opens the
    'InceptionV3' scope itself, so the classifier does not depend on
    re-entering a scope object.
    """
    end_points = {}

    def reached(end_point, net):
        end_points[end_point] = net
        return end_point == final_endpoint

    # The stem shrinks the image with unpadded convolutions and pools.
    with slim.arg_scope(
        [slim.conv2d, slim.max_pool2d, slim.avg_pool2d],
        stride=1,
        padding='VALID',
    ):
        # 299 x 299 x 3
        net = slim.conv2d(
            inputs, depth(32), [3, 3], stride=2, scope='Conv2d_1a_3x3'
        )
        if reached('Conv2d_1a_3x3', net):
            return net, end_points
        # 149 x 149 x 32
        net = slim.conv2d(net, depth(32), [3, 3], scope='Conv2d_2a_3x3')
        if reached('Conv2d_2a_3x3', net):
            return net, end_points
        # 147 x 147 x 32
        net = slim.conv2d(
            net, depth(64), [3, 3], padding='SAME', scope='Conv2d_2b_3x3'
        )
        if reached('Conv2d_2b_3x3', net):
            return net, end_points
        # 147 x 147 x 64
        net = slim.max_pool2d(net, [3, 3], stride=2, scope='MaxPool_3a_3x3')
        if reached('MaxPool_3a_3x3', net):
            return net, end_points
        # 73 x 73 x 64
        net = slim.conv2d(net, depth(80), [1, 1], scope='Conv2d_3b_1x1')
        if reached('Conv2d_3b_1x1', net):
            return net, end_points
        # 73 x 73 x 80
        net = slim.conv2d(net, depth(192), [3, 3], scope='Conv2d_4a_3x3')
        if reached('Conv2d_4a_3x3', net):
            return net, end_points
        # 71 x 71 x 192
        net = slim.max_pool2d(net, [3, 3], stride=2, scope='MaxPool_5a_3x3')
        if reached('MaxPool_5a_3x3', net):
            return net, end_points
        # 35 x 35 x 192

    # The Inception blocks keep the spatial size, except the two reductions.
    with slim.arg_scope(
        [slim.conv2d, slim.max_pool2d, slim.avg_pool2d],
        stride=1,
        padding='SAME',
    ):
        net = _block_35x35(net, depth, 'Mixed_5b', pool_channels=32)
        if reached('Mixed_5b', net):
            return net, end_points
        # 35 x 35 x 256
        # Mixed_5c's 5x5 branch was named irregularly when the net was trained.
        net = _block_35x35(
            net,
            depth,
            'Mixed_5c',
            pool_channels=64,
            branch_1_names=('Conv2d_0b_1x1', 'Conv_1_0c_5x5'),
        )
        if reached('Mixed_5c', net):
            return net, end_points
        # 35 x 35 x 288
        net = _block_35x35(net, depth, 'Mixed_5d', pool_channels=64)
        if reached('Mixed_5d', net):
            return net, end_points
        # 35 x 35 x 288
        net = _reduction_35_to_17(net, depth)
        if reached('Mixed_6a', net):
            return net, end_points
        # 17 x 17 x 768
        for end_point, channels_7x7 in (
            ('Mixed_6b', 128),
            ('Mixed_6c', 160),
            ('Mixed_6d', 160),
            ('Mixed_6e', 192),
        ):
            net = _block_17x17(net, depth, end_point, channels_7x7)
            if reached(end_point, net):
                return net, end_points
            # 17 x 17 x 768
        net = _reduction_17_to_8(net, depth)
        if reached('Mixed_7a', net):
            return net, end_points
        # 8 x 8 x 1280
        net = _block_8x8(net, depth, 'Mixed_7b', branch_1_3x1='Conv2d_0b_3x1')
        if reached('Mixed_7b', net):
            return net, end_points
        # 8 x 8 x 2048
        net = _block_8x8(net, depth, 'Mixed_7c', branch_1_3x1='Conv2d_0c_3x1')
        reached('Mixed_7c', net)
        # 8 x 8 x 2048
    return net, end_points


def _block_35x35(
    net,
    depth,
    end_point,
    pool_channels,
    branch_1_names=('Conv2d_0a_1x1', 'Conv2d_0b_5x5'),
):
    """Mixed_5b/5c/5d: 1x1, 1x1-5x5, 1x1-3x3-3x3 and pool-1x1 branches."""
    with slim.variable_scope(end_point):
        with slim.variable_scope('Branch_0'):
            branch_0 = slim.conv2d(
                net, depth(64), [1, 1], scope='Conv2d_0a_1x1'
            )
        with slim.variable_scope('Branch_1'):
            branch_1 = slim.conv2d(
                net, depth(48), [1, 1], scope=branch_1_names[0]
            )
            branch_1 = slim.conv2d(
                branch_1, depth(64), [5, 5], scope=branch_1_names[1]
            )
        with slim.variable_scope('Branch_2'):
            branch_2 = slim.conv2d(
                net, depth(64), [1, 1], scope='Conv2d_0a_1x1'
            )
            branch_2 = slim.conv2d(
                branch_2, depth(96), [3, 3], scope='Conv2d_0b_3x3'
            )
            branch_2 = slim.conv2d(
                branch_2, depth(96), [3, 3], scope='Conv2d_0c_3x3'
            )
        with slim.variable_scope('Branch_3'):
            branch_3 = slim.avg_pool2d(net, [3, 3], scope='AvgPool_0a_3x3')
            branch_3 = slim.conv2d(
                branch_3, depth(pool_channels), [1, 1], scope='Conv2d_0b_1x1'
            )
        return tf.concat([branch_0, branch_1, branch_2, branch_3], 3)


def _reduction_35_to_17(net, depth):
    """Mixed_6a: strided 3x3 and 1x1-3x3-3x3 branches beside a max pool.

    The strided convolutions are 3x3 although named '1x1', as trained.
    """
    with slim.variable_scope('Mixed_6a'):
        with slim.variable_scope('Branch_0'):
            branch_0 = slim.conv2d(
                net,
                depth(384),
                [3, 3],
                stride=2,
                padding='VALID',
                scope='Conv2d_1a_1x1',
            )
        with slim.variable_scope('Branch_1'):
            branch_1 = slim.conv2d(
                net, depth(64), [1, 1], scope='Conv2d_0a_1x1'
            )
            branch_1 = slim.conv2d(
                branch_1, depth(96), [3, 3], scope='Conv2d_0b_3x3'
            )
            branch_1 = slim.conv2d(
                branch_1,
                depth(96),
                [3, 3],
                stride=2,
                padding='VALID',
                scope='Conv2d_1a_1x1',
            )
        with slim.variable_scope('Branch_2'):
            branch_2 = slim.max_pool2d(
                net, [3, 3], stride=2, padding='VALID', scope='MaxPool_1a_3x3'
            )
        return tf.concat([branch_0, branch_1, branch_2], 3)


def _block_17x17(net, depth, end_point, channels_7x7):
    """Mixed_6b..6e: 7x7 convolutions factorised into 1x7 and 7x1 pairs."""
    c = channels_7x7
    with slim.variable_scope(end_point):
        with slim.variable_scope('Branch_0'):
            branch_0 = slim.conv2d(
                net, depth(192), [1, 1], scope='Conv2d_0a_1x1'
            )
        with slim.variable_scope('Branch_1'):
            branch_1 = slim.conv2d(net, depth(c), [1, 1], scope='Conv2d_0a_1x1')
            branch_1 = slim.conv2d(
                branch_1, depth(c), [1, 7], scope='Conv2d_0b_1x7'
            )
            branch_1 = slim.conv2d(
                branch_1, depth(192), [7, 1], scope='Conv2d_0c_7x1'
            )
        with slim.variable_scope('Branch_2'):
            branch_2 = slim.conv2d(net, depth(c), [1, 1], scope='Conv2d_0a_1x1')
            branch_2 = slim.conv2d(
                branch_2, depth(c), [7, 1], scope='Conv2d_0b_7x1'
            )
            branch_2 = slim.conv2d(
                branch_2, depth(c), [1, 7], scope='Conv2d_0c_1x7'
            )
            branch_2 = slim.conv2d(
                branch_2, depth(c), [7, 1], scope='Conv2d_0d_7x1'
            )
            branch_2 = slim.conv2d(
                branch_2, depth(192), [1, 7], scope='Conv2d_0e_1x7'
            )
        with slim.variable_scope('Branch_3'):
            branch_3 = slim.avg_pool2d(net, [3, 3], scope='AvgPool_0a_3x3')
            branch_3 = slim.conv2d(
                branch_3, depth(192), [1, 1], scope='Conv2d_0b_1x1'
            )
        return tf.concat([branch_0, branch_1, branch_2, branch_3], 3)


def _reduction_17_to_8(net, depth):
    """Mixed_7a: strided 3x3 after 1x1 and after 1x7-7x1, beside a max pool."""
    with slim.variable_scope('Mixed_7a'):
        with slim.variable_scope('Branch_0'):
            branch_0 = slim.conv2d(
                net, depth(192), [1, 1], scope='Conv2d_0a_1x1'
            )
            branch_0 = slim.conv2d(
                branch_0,
                depth(320),
                [3, 3],
                stride=2,
                padding='VALID',
                scope='Conv2d_1a_3x3',
            )
        with slim.variable_scope('Branch_1'):
            branch_1 = slim.conv2d(
                net, depth(192), [1, 1], scope='Conv2d_0a_1x1'
            )
            branch_1 = slim.conv2d(
                branch_1, depth(192), [1, 7], scope='Conv2d_0b_1x7'
            )
            branch_1 = slim.conv2d(
                branch_1, depth(192), [7, 1], scope='Conv2d_0c_7x1'
            )
            branch_1 = slim.conv2d(
                branch_1,
                depth(192),
                [3, 3],
                stride=2,
                padding='VALID',
                scope='Conv2d_1a_3x3',
            )
        with slim.variable_scope('Branch_2'):
            branch_2 = slim.max_pool2d(
                net, [3, 3], stride=2, padding='VALID', scope='MaxPool_1a_3x3'
            )
        return tf.concat([branch_0, branch_1, branch_2], 3)


def _block_8x8(net, depth, end_point, branch_1_3x1):
    """Mixed_7b/7c: branches that end in parallel 1x3 and 3x1 convolutions.

    Branch_1's 3x1 convolution is 'Conv2d_0b_3x1' in Mixed_7b and
    'Conv2d_0c_3x1' in Mixed_7c, as trained.
    """
    with slim.variable_scope(end_point):
        with slim.variable_scope('Branch_0'):
            branch_0 = slim.conv2d(
                net, depth(320), [1, 1], scope='Conv2d_0a_1x1'
            )
        with slim.variable_scope('Branch_1'):
            branch_1 = slim.conv2d(
                net, depth(384), [1, 1], scope='Conv2d_0a_1x1'
            )
            branch_1 = tf.concat(
                [
                    slim.conv2d(
                        branch_1, depth(384), [1, 3], scope='Conv2d_0b_1x3'
                    ),
                    slim.conv2d(
                        branch_1, depth(384), [3, 1], scope=branch_1_3x1
                    ),
                ],
                3,
            )
        with slim.variable_scope('Branch_2'):
            branch_2 = slim.conv2d(
                net, depth(448), [1, 1], scope='Conv2d_0a_1x1'
            )
            branch_2 = slim.conv2d(
                branch_2, depth(384), [3, 3], scope='Conv2d_0b_3x3'
            )
            branch_2 = tf.concat(
                [
                    slim.conv2d(
                        branch_2, depth(384), [1, 3], scope='Conv2d_0c_1x3'
                    ),
                    slim.conv2d(
                        branch_2, depth(384), [3, 1], scope='Conv2d_0d_3x1'
                    ),
                ],
                3,
            )
        with slim.variable_scope('Branch_3'):
            branch_3 = slim.avg_pool2d(net, [3, 3], scope='AvgPool_0a_3x3')
            branch_3 = slim.conv2d(
                branch_3, depth(192), [1, 1], scope='Conv2d_0b_1x1'
            )
        return tf.concat([branch_0, branch_1, branch_2, branch_3], 3)


def _aux_logits(mixed_6e, num_classes, depth, spatial_squeeze):
    """The auxiliary classifier on Mixed_6e, which regularises training."""
    height, width = mixed_6e.shape[1:3]
    if (height is not None and height < 5) or (width is not None and width < 5):
        raise ValueError(
            'inputs are too small for the auxiliary head: Mixed_6e is {}x{}, its '
            '5x5 pool needs at least 5x5 (inputs of at least 107x107); pass '
            'larger inputs or create_aux_logits=False.'.format(height, width)
        )
    with slim.arg_scope(
        [slim.conv2d, slim.max_pool2d, slim.avg_pool2d],
        stride=1,
        padding='SAME',
    ):
        with slim.variable_scope('AuxLogits'):
            # 17 x 17 x 768
            aux = slim.avg_pool2d(
                mixed_6e,
                [5, 5],
                stride=3,
                padding='VALID',
                scope='AvgPool_1a_5x5',
            )
            # 5 x 5 x 768
            aux = slim.conv2d(aux, depth(128), [1, 1], scope='Conv2d_1b_1x1')
            # 5 x 5 x 128
            kernel_size = _reduced_kernel_size_for_small_input(aux, [5, 5])
            aux = slim.conv2d(
                aux,
                depth(768),
                kernel_size,
                weights_initializer=slim.truncated_normal_initializer(
                    stddev=0.01
                ),
                padding='VALID',
                scope='Conv2d_2a_{}x{}'.format(*kernel_size),
            )
            # 1 x 1 x 768
            aux = slim.conv2d(
                aux,
                num_classes,
                [1, 1],
                activation_fn=None,
                normalizer_fn=None,
                weights_initializer=slim.truncated_normal_initializer(
                    stddev=0.001
                ),
                scope='Conv2d_2b_1x1',
            )
            if spatial_squeeze:
                aux = tf.squeeze(aux, [1, 2], name='SpatialSqueeze')
            return aux


def _reduced_kernel_size_for_small_input(input_tensor, kernel_size):
    """Shrinks `kernel_size` to the static height and width of the input.

    So a window meant to cover a whole 8 x 8 (or 5 x 5) map still covers the
    whole, smaller map of a smaller image. An unknown height or width leaves
    the kernel as it is, assuming the input is large enough.
    """
    shape = input_tensor.shape.as_list()
    if shape[1] is None or shape[2] is None:
        return list(kernel_size)
    return [min(shape[1], kernel_size[0]), min(shape[2], kernel_size[1])]
