"""Inception-v2, variable for variable the net of TF-Slim's model zoo.

The batch-normalised Inception of "Batch Normalization: Accelerating Deep
Network Training by Reducing Internal Covariate Shift", Ioffe and Szegedy,
http://arxiv.org/abs/1502.03167 (the paper's 5x5 convolutions as two 3x3s).

The entry points, their arguments, the end points and every variable name and
shape are TF-Slim's (research/slim), so the released `inception_v2.ckpt`
(1001 classes) loads by name with `slim.assign_from_checkpoint`:

    model = slim.Model(inception_v2.inception_v2, num_classes=1001)
    with slim.arg_scope(inception_v2.inception_v2_arg_scope()):
      logits, end_points = model(images, is_training=False)

The first layer is a separable 7x7 convolution; it is not under the arg
scope's batch norm, so it has biases. The shape comments are for a
224 x 224 input.
"""

import collections

import tensorflow as tf

import slim
from nets import inception_utils

# The end points of `inception_v2_base`, in the order they are built; any of
# them is a valid `final_endpoint`.
BASE_END_POINTS = (
    'Conv2d_1a_7x7',
    'MaxPool_2a_3x3',
    'Conv2d_2b_1x1',
    'Conv2d_2c_3x3',
    'MaxPool_3a_3x3',
    'Mixed_3b',
    'Mixed_3c',
    'Mixed_4a',
    'Mixed_4b',
    'Mixed_4c',
    'Mixed_4d',
    'Mixed_4e',
    'Mixed_5a',
    'Mixed_5b',
    'Mixed_5c',
)

# The end points of the root block, left out with include_root_block=False.
ROOT_END_POINTS = BASE_END_POINTS[:5]

# The channels of an Inception module's branches: a 1x1 convolution; a 1x1
# then a 3x3; a 1x1 then two 3x3s; a 3x3 pool then a 1x1.
ModuleSpec = collections.namedtuple(
    'ModuleSpec',
    [
        'branch_0',
        'branch_1_1x1',
        'branch_1_3x3',
        'branch_2_1x1',
        'branch_2_3x3',
        'branch_3',
        'pool',
    ],
)

MODULES = {
    'Mixed_3b': ModuleSpec(64, 64, 64, 64, 96, 32, 'avg'),
    'Mixed_3c': ModuleSpec(64, 64, 96, 64, 96, 64, 'avg'),
    'Mixed_4b': ModuleSpec(224, 64, 96, 96, 128, 128, 'avg'),
    'Mixed_4c': ModuleSpec(192, 96, 128, 96, 128, 128, 'avg'),
    'Mixed_4d': ModuleSpec(160, 128, 160, 128, 160, 96, 'avg'),
    'Mixed_4e': ModuleSpec(96, 128, 192, 160, 192, 96, 'avg'),
    'Mixed_5b': ModuleSpec(352, 192, 320, 160, 224, 128, 'avg'),
    'Mixed_5c': ModuleSpec(352, 192, 320, 192, 224, 128, 'max'),
}

# The channels of a grid reduction's branches: a 1x1 then a strided 3x3; a
# 1x1 then a 3x3 and a strided 3x3; beside a strided 3x3 max pool.
ReductionSpec = collections.namedtuple(
    'ReductionSpec',
    ['branch_0_1x1', 'branch_0_3x3', 'branch_1_1x1', 'branch_1_3x3'],
)

REDUCTIONS = {
    'Mixed_4a': ReductionSpec(128, 160, 64, 96),
    'Mixed_5a': ReductionSpec(128, 192, 192, 256),
}

inception_v2_arg_scope = inception_utils.inception_arg_scope


def _trunc_normal(stddev):
    return slim.truncated_normal_initializer(stddev=stddev)


def inception_v2_base(
    inputs,
    final_endpoint='Mixed_5c',
    min_depth=16,
    depth_multiplier=1.0,
    use_separable_conv=True,
    data_format='NHWC',
    include_root_block=True,
    scope=None,
):
    """Builds Inception-v2 from the inputs up to `final_endpoint`.

    Args:
      inputs: a tensor of shape [batch_size, height, width, channels], or
        [batch_size, channels, height, width] with data_format='NCHW'.
      final_endpoint: the end point to build the net up to, one of
        `BASE_END_POINTS` ('Conv2d_1a_7x7' ... 'Mixed_5c'), but not one of
        `ROOT_END_POINTS` when include_root_block is False.
      min_depth: the smallest number of channels of any convolution; binds only
        when depth_multiplier < 1.
      depth_multiplier: a float > 0 that multiplies the number of channels of
        every convolution; values in (0, 1) give a smaller, faster net.
      use_separable_conv: if True, 'Conv2d_1a_7x7' is a separable convolution
        (as trained); if False, a normal one (with batch norm).
      data_format: 'NHWC' or 'NCHW', the layout of the inputs and of every
        activation. 'NCHW' needs use_separable_conv=False, and TensorFlow runs
        'NCHW' convolutions on GPUs only.
      include_root_block: if True, the convolutions and pools before the first
        Inception module ('Conv2d_1a_7x7' ... 'MaxPool_3a_3x3') are built; if
        False, `inputs` goes straight into 'Mixed_3b'.
      scope: optional variable scope, 'InceptionV2' by default.

    Returns:
      net: the tensor of `final_endpoint`.
      end_points: a dict from end point name to its tensor, for every end point
        built.

    Raises:
      ValueError: if final_endpoint is not a valid end point, depth_multiplier
        is not greater than zero, data_format is neither 'NHWC' nor 'NCHW', or
        is 'NCHW' with use_separable_conv.
    """
    depth = inception_utils.depth_fn(depth_multiplier, min_depth)
    _check_final_endpoint(final_endpoint, include_root_block)
    _check_data_format(data_format, use_separable_conv)
    with slim.variable_scope(scope, 'InceptionV2', [inputs]):
        return _base(
            inputs,
            final_endpoint,
            depth,
            use_separable_conv,
            data_format,
            include_root_block,
        )


def inception_v2(
    inputs,
    num_classes=1000,
    is_training=True,
    dropout_keep_prob=0.8,
    min_depth=16,
    depth_multiplier=1.0,
    prediction_fn=slim.softmax,
    spatial_squeeze=True,
    reuse=None,
    scope='InceptionV2',
    global_pool=False,
):
    """Inception-v2 classifier: the base, an average pool and the logits.

    With the default arguments this is the net trained at 224 x 224
    (`inception_v2.default_image_size`). Smaller inputs shrink the final
    7 x 7 pool to the feature map, as TF-Slim does, so any input gives 1 x 1
    logits.

    Args:
      inputs: a tensor of shape [batch_size, height, width, channels].
      num_classes: the number of classes. If 0 or None, the logits layer is
        omitted and the pooled features (before dropout) are returned instead
        of logits.
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
      scope: the variable scope.
      global_pool: if True, the features are averaged over the whole feature
        map; if False, by a fixed 7 x 7 window (larger inputs then give more
        than one logit per class and need spatial_squeeze=False).

    Returns:
      logits: the pre-softmax activations, [batch_size, num_classes], or the
        pooled features [batch_size, 1, 1, 1024 * depth_multiplier] when
        num_classes is 0 or None.
      end_points: a dict from end point name to its tensor: the base's, then
        'AvgPool_1a' (or 'global_pool'), 'PreLogits', 'Logits' and
        'Predictions'.

    Raises:
      ValueError: if depth_multiplier is not greater than zero.
    """
    depth = inception_utils.depth_fn(depth_multiplier, min_depth)
    with slim.variable_scope(scope, 'InceptionV2', [inputs], reuse=reuse):
        with slim.arg_scope(
            [slim.batch_norm, slim.dropout], is_training=is_training
        ):
            net, end_points = _base(
                inputs,
                'Mixed_5c',
                depth,
                use_separable_conv=True,
                data_format='NHWC',
                include_root_block=True,
            )
            with slim.variable_scope('Logits'):
                if global_pool:
                    net = tf.reduce_mean(
                        net, [1, 2], keepdims=True, name='global_pool'
                    )
                    end_points['global_pool'] = net
                else:
                    kernel_size = (
                        inception_utils.reduced_kernel_size_for_small_input(
                            net, [7, 7]
                        )
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
                # 1 x 1 x 1024
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
            end_points['Predictions'] = prediction_fn(
                logits, scope='Predictions'
            )
    return logits, end_points


inception_v2.default_image_size = 224


def _check_final_endpoint(final_endpoint, include_root_block):
    valid = (
        BASE_END_POINTS
        if include_root_block
        else BASE_END_POINTS[len(ROOT_END_POINTS) :]
    )
    inception_utils.check_final_endpoint(final_endpoint, valid)


def _check_data_format(data_format, use_separable_conv):
    if data_format not in ('NHWC', 'NCHW'):
        raise ValueError(
            "data_format must be 'NHWC' or 'NCHW', got {!r}.".format(
                data_format
            )
        )
    if data_format == 'NCHW' and use_separable_conv:
        raise ValueError(
            "data_format='NCHW' needs use_separable_conv=False: the separable "
            "first layer supports 'NHWC' only."
        )


def _base(
    inputs,
    final_endpoint,
    depth,
    use_separable_conv,
    data_format,
    include_root_block,
):
    """Builds the end points up to `final_endpoint` in the current scope.

    Shared by `inception_v2_base` and `inception_v2`, each of which opens the
    'InceptionV2' scope itself.
    """
    end_points = {}
    channel_axis = 3 if data_format == 'NHWC' else 1

    def reached(end_point, net):
        end_points[end_point] = net
        return end_point == final_endpoint

    # Unlike research/slim, batch norm is told the layout too: otherwise, in
    # 'NCHW', the arg scope's batch norm would normalise over the width.
    with (
        slim.arg_scope(
            [slim.conv2d, slim.max_pool2d, slim.avg_pool2d],
            stride=1,
            padding='SAME',
            data_format=data_format,
        ),
        slim.arg_scope([slim.batch_norm], data_format=data_format),
    ):
        net = inputs
        if include_root_block:
            # 224 x 224 x 3
            if use_separable_conv:
                # The depthwise step makes `depthwise_multiplier` channels of each
                # input channel; it must keep in_channels * depthwise_multiplier <=
                # out_channels so that the separable convolution is not
                # overparameterized (it is no kin of depth_multiplier).
                depthwise_multiplier = min(int(depth(64) / 3), 8)
                net = slim.separable_conv2d(
                    net,
                    depth(64),
                    [7, 7],
                    depth_multiplier=depthwise_multiplier,
                    stride=2,
                    padding='SAME',
                    weights_initializer=_trunc_normal(1.0),
                    scope='Conv2d_1a_7x7',
                )
            else:
                net = slim.conv2d(
                    net,
                    depth(64),
                    [7, 7],
                    stride=2,
                    weights_initializer=_trunc_normal(1.0),
                    scope='Conv2d_1a_7x7',
                )
            if reached('Conv2d_1a_7x7', net):
                return net, end_points
            # 112 x 112 x 64
            net = slim.max_pool2d(net, [3, 3], stride=2, scope='MaxPool_2a_3x3')
            if reached('MaxPool_2a_3x3', net):
                return net, end_points
            # 56 x 56 x 64
            net = slim.conv2d(
                net,
                depth(64),
                [1, 1],
                weights_initializer=_trunc_normal(0.1),
                scope='Conv2d_2b_1x1',
            )
            if reached('Conv2d_2b_1x1', net):
                return net, end_points
            # 56 x 56 x 64
            net = slim.conv2d(net, depth(192), [3, 3], scope='Conv2d_2c_3x3')
            if reached('Conv2d_2c_3x3', net):
                return net, end_points
            # 56 x 56 x 192
            net = slim.max_pool2d(net, [3, 3], stride=2, scope='MaxPool_3a_3x3')
            if reached('MaxPool_3a_3x3', net):
                return net, end_points
        # 28 x 28 x 192
        for end_point in ('Mixed_3b', 'Mixed_3c'):
            net = _module(net, end_point, depth, channel_axis)
            if reached(end_point, net):
                return net, end_points
        # 28 x 28 x 256, then 28 x 28 x 320
        net = _reduction(net, 'Mixed_4a', depth, channel_axis)
        if reached('Mixed_4a', net):
            return net, end_points
        # 14 x 14 x 576
        for end_point in ('Mixed_4b', 'Mixed_4c', 'Mixed_4d', 'Mixed_4e'):
            net = _module(net, end_point, depth, channel_axis)
            if reached(end_point, net):
                return net, end_points
            # 14 x 14 x 576
        net = _reduction(net, 'Mixed_5a', depth, channel_axis)
        if reached('Mixed_5a', net):
            return net, end_points
        # 7 x 7 x 1024
        for end_point in ('Mixed_5b', 'Mixed_5c'):
            net = _module(net, end_point, depth, channel_axis)
            if reached(end_point, net):
                return net, end_points
            # 7 x 7 x 1024
    return net, end_points


def _module(net, end_point, depth, channel_axis):
    """An Inception module with the channels of `MODULES[end_point]`."""
    spec = MODULES[end_point]
    with slim.variable_scope(end_point):
        with slim.variable_scope('Branch_0'):
            branch_0 = slim.conv2d(
                net, depth(spec.branch_0), [1, 1], scope='Conv2d_0a_1x1'
            )
        with slim.variable_scope('Branch_1'):
            branch_1 = slim.conv2d(
                net,
                depth(spec.branch_1_1x1),
                [1, 1],
                weights_initializer=_trunc_normal(0.09),
                scope='Conv2d_0a_1x1',
            )
            branch_1 = slim.conv2d(
                branch_1,
                depth(spec.branch_1_3x3),
                [3, 3],
                scope='Conv2d_0b_3x3',
            )
        with slim.variable_scope('Branch_2'):
            branch_2 = slim.conv2d(
                net,
                depth(spec.branch_2_1x1),
                [1, 1],
                weights_initializer=_trunc_normal(0.09),
                scope='Conv2d_0a_1x1',
            )
            branch_2 = slim.conv2d(
                branch_2,
                depth(spec.branch_2_3x3),
                [3, 3],
                scope='Conv2d_0b_3x3',
            )
            branch_2 = slim.conv2d(
                branch_2,
                depth(spec.branch_2_3x3),
                [3, 3],
                scope='Conv2d_0c_3x3',
            )
        with slim.variable_scope('Branch_3'):
            if spec.pool == 'max':
                branch_3 = slim.max_pool2d(net, [3, 3], scope='MaxPool_0a_3x3')
            else:
                branch_3 = slim.avg_pool2d(net, [3, 3], scope='AvgPool_0a_3x3')
            branch_3 = slim.conv2d(
                branch_3,
                depth(spec.branch_3),
                [1, 1],
                weights_initializer=_trunc_normal(0.1),
                scope='Conv2d_0b_1x1',
            )
        return tf.concat([branch_0, branch_1, branch_2, branch_3], channel_axis)


def _reduction(net, end_point, depth, channel_axis):
    """A grid reduction with the channels of `REDUCTIONS[end_point]`."""
    spec = REDUCTIONS[end_point]
    with slim.variable_scope(end_point):
        with slim.variable_scope('Branch_0'):
            branch_0 = slim.conv2d(
                net,
                depth(spec.branch_0_1x1),
                [1, 1],
                weights_initializer=_trunc_normal(0.09),
                scope='Conv2d_0a_1x1',
            )
            branch_0 = slim.conv2d(
                branch_0,
                depth(spec.branch_0_3x3),
                [3, 3],
                stride=2,
                scope='Conv2d_1a_3x3',
            )
        with slim.variable_scope('Branch_1'):
            branch_1 = slim.conv2d(
                net,
                depth(spec.branch_1_1x1),
                [1, 1],
                weights_initializer=_trunc_normal(0.09),
                scope='Conv2d_0a_1x1',
            )
            branch_1 = slim.conv2d(
                branch_1,
                depth(spec.branch_1_3x3),
                [3, 3],
                scope='Conv2d_0b_3x3',
            )
            branch_1 = slim.conv2d(
                branch_1,
                depth(spec.branch_1_3x3),
                [3, 3],
                stride=2,
                scope='Conv2d_1a_3x3',
            )
        with slim.variable_scope('Branch_2'):
            branch_2 = slim.max_pool2d(
                net, [3, 3], stride=2, scope='MaxPool_1a_3x3'
            )
        return tf.concat([branch_0, branch_1, branch_2], channel_axis)
