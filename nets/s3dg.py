"""S3D-G, the gated separable 3-D net, variable for variable research/slim's.

"Rethinking Spatiotemporal Feature Learning For Video Understanding", Xie,
Sun, Huang, Tu and Murphy, https://arxiv.org/abs/1712.04851.

Inception-v1 inflated to video: the input is a clip `[batch, frames,
height, width, channels]`. From Conv2d_2c_3x3 on, every 3x3 convolution is
separable (1x3x3 in space, then 3x1x1 in time) and every block output is
self-gated: multiplied by a sigmoid of a linear map of its average over
time and space. The scopes are Inception-v1's ('InceptionV1/Mixed_3b/...'),
as in research/slim, so its checkpoints load by name:

    model = slim.Model(s3dg.s3dg, num_classes=400)
    with slim.arg_scope(s3dg.s3dg_arg_scope()):
      logits, end_points = model(clips, is_training=False)

`s3dg_base` is also the trunk of I3D (nets/i3d.py), with full 3-D
convolutions and no gating. The shape comments are for 64 frames of
224 x 224.
"""

import tensorflow as tf

import slim
from nets import i3d_utils

# The end points of `s3dg_base`, in the order they are built; any of them is
# a valid `final_endpoint`.
BASE_END_POINTS = (
    'Conv2d_1a_7x7',
    'MaxPool_2a_3x3',
    'Conv2d_2b_1x1',
    'Conv2d_2c_3x3',
    'MaxPool_3a_3x3',
    'Mixed_3b',
    'Mixed_3c',
    'MaxPool_4a_3x3',
    'Mixed_4b',
    'Mixed_4c',
    'Mixed_4d',
    'Mixed_4e',
    'Mixed_4f',
    'MaxPool_5a_2x2',
    'Mixed_5b',
    'Mixed_5c',
)

# The convolution blocks, where temporal convolutions or gating may start.
CONV_BLOCKS = (
    'Conv2d_2c_3x3',
    'Mixed_3b',
    'Mixed_3c',
    'Mixed_4b',
    'Mixed_4c',
    'Mixed_4d',
    'Mixed_4e',
    'Mixed_4f',
    'Mixed_5b',
    'Mixed_5c',
)

# Filters of each Inception block: Branch_0 1x1; Branch_1 1x1, 3x3;
# Branch_2 1x1, 3x3; Branch_3 1x1 after the pool (Inception-v1's).
_MIXED_DEPTHS = {
    'Mixed_3b': (64, 96, 128, 16, 32, 32),
    'Mixed_3c': (128, 128, 192, 32, 96, 64),
    'Mixed_4b': (192, 96, 208, 16, 48, 64),
    'Mixed_4c': (160, 112, 224, 24, 64, 64),
    'Mixed_4d': (128, 128, 256, 24, 64, 64),
    'Mixed_4e': (112, 144, 288, 32, 64, 64),
    'Mixed_4f': (256, 160, 320, 32, 128, 128),
    'Mixed_5b': (256, 160, 320, 32, 128, 128),
    'Mixed_5c': (384, 192, 384, 48, 128, 128),
}

# The max pools: (kernel, stride). Only 4a and 5a pool over time.
_MAX_POOLS = {
    'MaxPool_2a_3x3': ([1, 3, 3], [1, 2, 2]),
    'MaxPool_3a_3x3': ([1, 3, 3], [1, 2, 2]),
    'MaxPool_4a_3x3': ([3, 3, 3], [2, 2, 2]),
    'MaxPool_5a_2x2': ([2, 2, 2], [2, 2, 2]),
}

_DATA_FORMATS = ('NDHWC', 'NCDHW')


def s3dg_arg_scope(
    weight_decay=1e-7, batch_norm_decay=0.999, batch_norm_epsilon=0.001
):
    """Returns the arg scope S3D-G is trained under.

    Convolutions (`slim.conv3d` and `conv3d_spatiotemporal`) get an L2
    penalty, ReLU and batch norm (no `gamma`, unfused); `conv3d_spatiotemporal`
    is separable.

    Args:
      weight_decay: the L2 penalty on the convolutions' weights.
      batch_norm_decay: decay of the batch norm moving averages.
      batch_norm_epsilon: added to the variance in batch norm.

    Returns:
      An arg scope dict, to enter with `slim.arg_scope(...)`.
    """
    return _arg_scope(
        weight_decay,
        batch_norm_decay,
        batch_norm_epsilon,
        renorm=False,
        separable=True,
    )


def self_gating(input_tensor, scope, data_format='NDHWC'):
    """S3D-G's feature gating: `x * sigmoid(W mean(x))`.

    The input is averaged over frames, height and width, mapped by a 1x1x1
    convolution without biases (`<scope>/self_gating/transformer_W/weights`,
    channels x channels) and the sigmoid of that scales every position's
    channels.

    research/slim averages with a pool whose kernel is [frames, width,
    height], which fits square inputs of known size only; the mean here is
    the same for those and also takes other sizes and unknown ones.

    Args:
      input_tensor: a 5-D tensor.
      scope: the scope the gating's variables go under.
      data_format: 'NDHWC' or 'NCDHW'.

    Returns:
      A tensor of the input's shape.

    Raises:
      ValueError: for an unknown data format.
    """
    _check_data_format(data_format)
    channels_axis = data_format.index('C')
    axes = [data_format.index(axis) for axis in 'DHW']
    average = tf.reduce_mean(input_tensor, axes, keepdims=True)
    weights = slim.conv3d(
        average,
        input_tensor.shape[channels_axis],
        [1, 1, 1],
        activation_fn=None,
        normalizer_fn=None,
        biases_initializer=None,
        data_format=data_format,
        weights_initializer=slim.truncated_normal_initializer(stddev=0.01),
        scope=scope + '/self_gating/transformer_W',
    )
    return tf.sigmoid(weights) * input_tensor


def s3dg_base(
    inputs,
    first_temporal_kernel_size=3,
    temporal_conv_startat='Conv2d_2c_3x3',
    gating_startat='Conv2d_2c_3x3',
    final_endpoint='Mixed_5c',
    min_depth=16,
    depth_multiplier=1.0,
    data_format='NDHWC',
    scope='InceptionV1',
):
    """Builds the S3D-G (or I3D) trunk up to `final_endpoint`.

    Args:
      inputs: a 5-D tensor `[batch, frames, height, width, channels]`.
      first_temporal_kernel_size: the temporal size of Conv2d_1a_7x7's kernel,
        one of 1, 3, 5, 7 (I3D: 7).
      temporal_conv_startat: the first block (of `CONV_BLOCKS`) whose 3x3
        convolutions have a temporal size of 3; the blocks before it are 2-D
        (1x3x3), the "inverted pyramid" of the paper. None: all 2-D.
      gating_startat: the first block (of `CONV_BLOCKS`) whose outputs are
        self-gated, and all after it. None: no gating (I3D).
      final_endpoint: the end point to build up to, one of `BASE_END_POINTS`.
      min_depth: the smallest number of filters of a convolution, binding
        when depth_multiplier < 1.
      depth_multiplier: multiplies every convolution's number of filters.
      data_format: 'NDHWC'. research/slim also names 'NCDHW', but its batch
        norm then normalizes the width axis; refused here.
      scope: the variable scope.

    Returns:
      net: the tensor of `final_endpoint`.
      end_points: a dict from end point name to tensor, for every end point
        built.

    Raises:
      ValueError: for inputs that are not 5-D or have a size of 0; for a
        `final_endpoint`, `first_temporal_kernel_size`, `temporal_conv_startat`,
        `gating_startat` or `data_format` that is not one of the allowed values,
        or a depth_multiplier <= 0.
    """
    _check_arguments(
        inputs,
        final_endpoint,
        first_temporal_kernel_size,
        temporal_conv_startat,
        gating_startat,
        data_format,
    )
    depth = _depth_fn(depth_multiplier, min_depth)
    with slim.variable_scope(scope, 'InceptionV1', [inputs]):
        return _trunk(
            inputs,
            first_temporal_kernel_size,
            temporal_conv_startat,
            gating_startat,
            final_endpoint,
            depth,
            data_format,
        )


def s3dg(
    inputs,
    num_classes=1000,
    first_temporal_kernel_size=3,
    temporal_conv_startat='Conv2d_2c_3x3',
    gating_startat='Conv2d_2c_3x3',
    final_endpoint='Mixed_5c',
    min_depth=16,
    depth_multiplier=1.0,
    dropout_keep_prob=0.8,
    is_training=True,
    prediction_fn=slim.softmax,
    spatial_squeeze=True,
    reuse=None,
    data_format='NDHWC',
    scope='InceptionV1',
):
    """S3D-G classifier: the trunk, an average pool, dropout and 1x1x1 logits.

    Trained at 224 x 224 (`s3dg.default_image_size`) on 64-frame clips. The
    final pool is 2x7x7 (smaller for a smaller Mixed_5c), stride 1; the
    logits are computed per remaining frame and averaged over time.

    Args:
      inputs: a 5-D tensor `[batch, frames, height, width, 3]`.
      num_classes: the number of classes.
      first_temporal_kernel_size, temporal_conv_startat, gating_startat,
        final_endpoint, min_depth, depth_multiplier, data_format: as
        `s3dg_base`'s.
      dropout_keep_prob: the fraction of activations kept before the logits.
      is_training: whether batch norm uses batch statistics (and updates its
        moving averages) and dropout drops.
      prediction_fn: maps the logits to 'Predictions'.
      spatial_squeeze: if True the logits are [batch, num_classes], else
        [batch, 1, 1, num_classes].
      reuse: whether the variables of `scope` are reused.
      scope: the variable scope.

    Returns:
      logits: [batch, num_classes] (see `spatial_squeeze`).
      end_points: the trunk's end points, 'Logits' and 'Predictions'.

    Raises:
      ValueError: as `s3dg_base`; or, with spatial_squeeze, for an input
        larger than the pool covers (its logits are not 1 x 1).
    """
    _check_arguments(
        inputs,
        final_endpoint,
        first_temporal_kernel_size,
        temporal_conv_startat,
        gating_startat,
        data_format,
    )
    depth = _depth_fn(depth_multiplier, min_depth)
    with slim.variable_scope(scope, 'InceptionV1', [inputs], reuse=reuse):
        with slim.arg_scope(
            [slim.batch_norm, slim.dropout], is_training=is_training
        ):
            net, end_points = _trunk(
                inputs,
                first_temporal_kernel_size,
                temporal_conv_startat,
                gating_startat,
                final_endpoint,
                depth,
                data_format,
            )
            logits = logits_head(
                net, num_classes, dropout_keep_prob, spatial_squeeze
            )
            end_points['Logits'] = logits
            end_points['Predictions'] = prediction_fn(
                logits, scope='Predictions'
            )
    return logits, end_points


s3dg.default_image_size = 224


def logits_head(net, num_classes, dropout_keep_prob, spatial_squeeze):
    """The 'Logits' scope of I3D and S3D-G on a `[batch, frames, height,
    width, channels]` feature map: pool, dropout, 1x1x1 logits, time mean.

    Raises:
      ValueError: with spatial_squeeze, if the logits are not 1 x 1 in space.
    """
    with slim.variable_scope('Logits'):
        # 8 x 7 x 7 x 1024
        kernel_size = i3d_utils.reduced_kernel_size_3d(net, [2, 7, 7])
        net = slim.avg_pool3d(
            net, kernel_size, stride=1, scope='AvgPool_0a_7x7'
        )
        # 7 x 1 x 1 x 1024
        net = slim.dropout(net, dropout_keep_prob, scope='Dropout_0b')
        logits = slim.conv3d(
            net,
            num_classes,
            [1, 1, 1],
            activation_fn=None,
            normalizer_fn=None,
            scope='Conv2d_0c_1x1',
        )
        # The clip's logits are the mean of its frames'.
        logits = tf.reduce_mean(logits, axis=1)
        if spatial_squeeze:
            height, width = logits.shape[1:3]
            if height not in (1, None) or width not in (1, None):
                raise ValueError(
                    'spatial_squeeze=True needs logits of 1 x 1, got {} x {}: the '
                    '7 x 7 pool covers inputs of up to 224 x 224 only; pass smaller '
                    'inputs or spatial_squeeze=False.'.format(height, width)
                )
            logits = tf.squeeze(logits, [1, 2], name='SpatialSqueeze')
    return logits


def _arg_scope(
    weight_decay, batch_norm_decay, batch_norm_epsilon, renorm, separable
):
    """The arg scope of I3D and S3D-G, which differ in renorm and separable."""
    batch_norm_params = {
        'decay': batch_norm_decay,
        'epsilon': batch_norm_epsilon,
        # research/slim's choice; the unfused path computes the same moments.
        'fused': False,
        'renorm': renorm,
    }
    convolutions = [slim.conv3d, i3d_utils.conv3d_spatiotemporal]
    with slim.arg_scope(
        convolutions,
        weights_regularizer=slim.l2_regularizer(weight_decay),
        activation_fn=tf.nn.relu,
        normalizer_fn=slim.batch_norm,
        normalizer_params=batch_norm_params,
    ):
        with slim.arg_scope(
            [i3d_utils.conv3d_spatiotemporal], separable=separable
        ) as scope:
            return scope


def _check_data_format(data_format):
    if data_format not in _DATA_FORMATS:
        raise ValueError(
            'data_format must be one of {}, got {!r}.'.format(
                list(_DATA_FORMATS), data_format
            )
        )


def _check_arguments(
    inputs,
    final_endpoint,
    first_temporal_kernel_size,
    temporal_conv_startat,
    gating_startat,
    data_format,
):
    """Checks the trunk's arguments before anything is built."""
    shape = tf.TensorShape(getattr(inputs, 'shape', None))
    if shape.rank is not None and shape.rank != 5:
        raise ValueError(
            'inputs must be clips of rank 5 [batch, frames, height, width, '
            'channels], got shape {}: this is a video net.'.format(shape)
        )
    if shape.rank == 5 and 0 in shape.as_list()[1:4]:
        raise ValueError(
            'inputs must have at least 1 frame of 1 x 1, got shape {}.'.format(
                shape
            )
        )
    if final_endpoint not in BASE_END_POINTS:
        raise ValueError(
            'final_endpoint must be one of {}, got {!r}.'.format(
                list(BASE_END_POINTS), final_endpoint
            )
        )
    if first_temporal_kernel_size not in (1, 3, 5, 7):
        raise ValueError(
            'first_temporal_kernel_size must be one of 1, 3, 5, 7, '
            'got {!r}.'.format(first_temporal_kernel_size)
        )
    for name, value in (
        ('temporal_conv_startat', temporal_conv_startat),
        ('gating_startat', gating_startat),
    ):
        if value is not None and value not in CONV_BLOCKS:
            raise ValueError(
                '{} must be None or one of {}, got {!r}.'.format(
                    name, list(CONV_BLOCKS), value
                )
            )
    _check_data_format(data_format)
    if data_format == 'NCDHW':
        raise ValueError(
            "data_format='NCDHW' is not supported: batch norm normalizes the "
            'last axis, which would be the width (research/slim\'s s3dg does '
            "that); pass [batch, frames, height, width, channels] inputs with "
            "data_format='NDHWC'."
        )


def _depth_fn(depth_multiplier, min_depth):
    if not depth_multiplier > 0:
        raise ValueError(
            'depth_multiplier must be greater than zero (it '
            'multiplies the number of filters of every '
            'convolution), got {!r}.'.format(depth_multiplier)
        )
    return lambda filters: max(int(filters * depth_multiplier), min_depth)


def _trunk(
    inputs,
    first_temporal_kernel_size,
    temporal_conv_startat,
    gating_startat,
    final_endpoint,
    depth,
    data_format,
):
    """Builds the end points up to `final_endpoint` in the current scope.

    Shared by `s3dg_base` and `s3dg`, each of which opens the 'InceptionV1'
    scope itself.
    """
    end_points = {}
    # Inverted pyramid: 2-D convolutions and no gating until their start.
    temporal_size = 1
    gating = None

    def gating_fn(net, scope):
        return self_gating(net, scope, data_format=data_format)

    def reached(end_point, net):
        end_points[end_point] = net
        return end_point == final_endpoint

    with slim.arg_scope(
        [slim.conv3d],
        weights_initializer=slim.truncated_normal_initializer(stddev=0.01),
    ):
        with slim.arg_scope(
            [slim.conv3d, slim.max_pool3d, i3d_utils.conv3d_spatiotemporal],
            stride=1,
            data_format=data_format,
            padding='SAME',
        ):
            # 64 x 224 x 224 x 3. Never separable: that is slow on the input.
            net = i3d_utils.conv3d_spatiotemporal(
                inputs,
                depth(64),
                [first_temporal_kernel_size, 7, 7],
                stride=2,
                separable=False,
                scope='Conv2d_1a_7x7',
            )
            if reached('Conv2d_1a_7x7', net):
                return net, end_points
            # 32 x 112 x 112 x 64
            net = _max_pool(net, 'MaxPool_2a_3x3')
            if reached('MaxPool_2a_3x3', net):
                return net, end_points
            # 32 x 56 x 56 x 64
            net = slim.conv3d(net, depth(64), [1, 1, 1], scope='Conv2d_2b_1x1')
            if reached('Conv2d_2b_1x1', net):
                return net, end_points
            # 32 x 56 x 56 x 64
            if temporal_conv_startat == 'Conv2d_2c_3x3':
                temporal_size = 3
            if gating_startat == 'Conv2d_2c_3x3':
                gating = gating_fn
            net = i3d_utils.conv3d_spatiotemporal(
                net, depth(192), [temporal_size, 3, 3], scope='Conv2d_2c_3x3'
            )
            if gating:
                net = gating(net, scope='Conv2d_2c_3x3')
            if reached('Conv2d_2c_3x3', net):
                return net, end_points
            # 32 x 56 x 56 x 192
            net = _max_pool(net, 'MaxPool_3a_3x3')
            if reached('MaxPool_3a_3x3', net):
                return net, end_points
            # 32 x 28 x 28 x 192 -> 3b: 256, 3c: 480; 4a pools to 16 x 14 x 14;
            # 4b-4d: 512, 4e: 528, 4f: 832; 5a pools to 8 x 7 x 7; 5b: 832,
            # 5c: 1024.
            for end_point in BASE_END_POINTS[
                BASE_END_POINTS.index('Mixed_3b') :
            ]:
                if end_point in _MAX_POOLS:
                    net = _max_pool(net, end_point)
                else:
                    if temporal_conv_startat == end_point:
                        temporal_size = 3
                    if gating_startat == end_point:
                        gating = gating_fn
                    net = i3d_utils.inception_block_v1_3d(
                        net,
                        *[depth(d) for d in _MIXED_DEPTHS[end_point]],
                        temporal_kernel_size=temporal_size,
                        self_gating_fn=gating,
                        data_format=data_format,
                        scope=end_point,
                    )
                if reached(end_point, net):
                    return net, end_points
    raise AssertionError('unreachable: final_endpoint was checked')


def _max_pool(net, end_point):
    kernel, stride = _MAX_POOLS[end_point]
    return slim.max_pool3d(net, kernel, stride=stride, scope=end_point)
