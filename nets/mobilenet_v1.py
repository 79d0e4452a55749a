"""MobileNet v1, variable for variable the net of TF-Slim's model zoo.

"MobileNets: Efficient Convolutional Neural Networks for Mobile Vision
Applications", Howard, Zhu, Chen, Kalenichenko, Wang, Weyand, Andreetto and
Adam, https://arxiv.org/abs/1704.04861.

The entry points, their arguments, the end points and every variable name and
shape are research/slim's, so the released `mobilenet_v1_1.0_224.ckpt` (and
the 0.75, 0.5 and 0.25 widths) load by name with `slim.assign_from_checkpoint`:

    model = slim.Model(mobilenet_v1.mobilenet_v1, num_classes=1001)
    with slim.arg_scope(
        mobilenet_v1.mobilenet_v1_arg_scope(is_training=False)):
      logits, end_points = model(images, is_training=False)

The net is data: `MOBILENETV1_CONV_DEFS` lists a full 3 x 3 convolution and
13 depthwise separable ones (`DepthSepConv`: a 3 x 3 depthwise convolution,
'Conv2d_<i>_depthwise', then a 1 x 1 one, 'Conv2d_<i>_pointwise'), each
followed by batch norm and ReLU6 under `mobilenet_v1_arg_scope`. A list of
your own `Conv` and `DepthSepConv` specs builds a variant.

The shape comments below are for a 224 x 224 input.
"""

import collections
import functools

import tensorflow as tf

import slim
from nets import inception_utils

# A full convolution and a depthwise separable one: kernel [height, width],
# stride, and output channels before `depth_multiplier` is applied.
Conv = collections.namedtuple('Conv', ['kernel', 'stride', 'depth'])
DepthSepConv = collections.namedtuple(
    'DepthSepConv', ['kernel', 'stride', 'depth']
)

# The body of MobileNet v1 (Table 1 of the paper); output stride 32.
MOBILENETV1_CONV_DEFS = [
    Conv(kernel=[3, 3], stride=2, depth=32),  # 112 x 112
    DepthSepConv(kernel=[3, 3], stride=1, depth=64),
    DepthSepConv(kernel=[3, 3], stride=2, depth=128),  # 56 x 56
    DepthSepConv(kernel=[3, 3], stride=1, depth=128),
    DepthSepConv(kernel=[3, 3], stride=2, depth=256),  # 28 x 28
    DepthSepConv(kernel=[3, 3], stride=1, depth=256),
    DepthSepConv(kernel=[3, 3], stride=2, depth=512),  # 14 x 14
    DepthSepConv(kernel=[3, 3], stride=1, depth=512),
    DepthSepConv(kernel=[3, 3], stride=1, depth=512),
    DepthSepConv(kernel=[3, 3], stride=1, depth=512),
    DepthSepConv(kernel=[3, 3], stride=1, depth=512),
    DepthSepConv(kernel=[3, 3], stride=1, depth=512),
    DepthSepConv(kernel=[3, 3], stride=2, depth=1024),  # 7 x 7
    DepthSepConv(kernel=[3, 3], stride=1, depth=1024),
]

_OUTPUT_STRIDES = (8, 16, 32)


def end_point_names(conv_defs=None):
    """The end points `mobilenet_v1_base` builds for `conv_defs`, in order.

    'Conv2d_<i>' for a `Conv`, 'Conv2d_<i>_depthwise' and
    'Conv2d_<i>_pointwise' for a `DepthSepConv`; any of them is a valid
    `final_endpoint`. `MOBILENETV1_CONV_DEFS` when conv_defs is None.

    Raises:
      TypeError: if an entry of conv_defs is neither a `Conv` nor a
        `DepthSepConv`.
    """
    names = []
    for i, conv_def in enumerate(
        MOBILENETV1_CONV_DEFS if conv_defs is None else conv_defs
    ):
        if isinstance(conv_def, Conv):
            names.append('Conv2d_%d' % i)
        elif isinstance(conv_def, DepthSepConv):
            names += ['Conv2d_%d_depthwise' % i, 'Conv2d_%d_pointwise' % i]
        else:
            raise TypeError(
                'conv_defs[{}] must be a mobilenet_v1.Conv or '
                'mobilenet_v1.DepthSepConv, got {!r}.'.format(i, conv_def)
            )
    return names


def mobilenet_v1_base(
    inputs,
    final_endpoint='Conv2d_13_pointwise',
    min_depth=8,
    depth_multiplier=1.0,
    conv_defs=None,
    output_stride=None,
    use_explicit_padding=False,
    scope=None,
):
    """Builds MobileNet v1 from the inputs up to `final_endpoint`.

    The layers take their normalizer, activation and initializers from the
    enclosing arg scope (`mobilenet_v1_arg_scope` for the published nets).

    Args:
      inputs: a tensor of shape [batch_size, height, width, channels].
      final_endpoint: the end point to build the net up to, one of
        `end_point_names(conv_defs)` ('Conv2d_0', 'Conv2d_1_depthwise',
        'Conv2d_1_pointwise', ..., 'Conv2d_13_pointwise').
      min_depth: the smallest number of channels of any convolution; binds
        only when depth_multiplier < 1.
      depth_multiplier: the factor on every convolution's number of channels,
        greater than zero.
      conv_defs: a list of `Conv` and `DepthSepConv` specs;
        `MOBILENETV1_CONV_DEFS` if None.
      output_stride: None, or 8, 16 or 32: the largest ratio of input to
        feature map size. Once it is reached, the depthwise convolutions stride
        1 and dilate instead (atrous convolution), so the map stays that size
        and the variables stay the same.
      use_explicit_padding: if True, every convolution pads 'VALID' after
        padding its input by hand, as 'SAME' would: the output sizes are the
        same, the padding does not depend on the input size.
      scope: optional variable scope, 'MobilenetV1' by default.

    Returns:
      net: the tensor of `final_endpoint`.
      end_points: a dict from end point name to its tensor, for every end point
        built.

    Raises:
      ValueError: if depth_multiplier is not greater than zero, output_stride
        is not None, 8, 16 or 32, or final_endpoint is not an end point of
        conv_defs.
      TypeError: if an entry of conv_defs is not a `Conv` or `DepthSepConv`.
    """
    depth = inception_utils.depth_fn(depth_multiplier, min_depth)
    if conv_defs is None:
        conv_defs = MOBILENETV1_CONV_DEFS
    if output_stride is not None and output_stride not in _OUTPUT_STRIDES:
        raise ValueError(
            'output_stride must be None, 8, 16 or 32, got {!r}.'.format(
                output_stride
            )
        )
    inception_utils.check_final_endpoint(
        final_endpoint, end_point_names(conv_defs)
    )
    end_points = {}
    padding = 'VALID' if use_explicit_padding else 'SAME'
    with slim.variable_scope(scope, 'MobilenetV1', [inputs]):
        with slim.arg_scope(
            [slim.conv2d, slim.separable_conv2d], padding=padding
        ):
            # The input-to-map ratio so far, and the dilation of the next
            # depthwise convolution once that ratio has reached output_stride.
            current_stride = 1
            rate = 1
            net = inputs
            for i, conv_def in enumerate(conv_defs):
                if (
                    output_stride is not None
                    and current_stride == output_stride
                ):
                    layer_stride = 1
                    layer_rate = rate
                    rate *= conv_def.stride
                else:
                    layer_stride = conv_def.stride
                    layer_rate = 1
                    current_stride *= conv_def.stride

                if isinstance(conv_def, Conv):
                    end_point = 'Conv2d_%d' % i
                    if use_explicit_padding:
                        net = _fixed_padding(net, conv_def.kernel)
                    # As research/slim, a full convolution strides even past
                    # output_stride; in MOBILENETV1_CONV_DEFS it is only the first
                    # layer, where that cannot happen.
                    net = slim.conv2d(
                        net,
                        depth(conv_def.depth),
                        conv_def.kernel,
                        stride=conv_def.stride,
                        scope=end_point,
                    )
                    end_points[end_point] = net
                    if end_point == final_endpoint:
                        return net, end_points
                    continue

                end_point = 'Conv2d_%d_depthwise' % i
                if use_explicit_padding:
                    net = _fixed_padding(net, conv_def.kernel, layer_rate)
                # num_outputs=None: the depthwise half only, its variable named
                # `depthwise_weights` as TF-Slim names it.
                net = slim.separable_conv2d(
                    net,
                    None,
                    conv_def.kernel,
                    depth_multiplier=1,
                    stride=layer_stride,
                    rate=layer_rate,
                    scope=end_point,
                )
                end_points[end_point] = net
                if end_point == final_endpoint:
                    return net, end_points

                end_point = 'Conv2d_%d_pointwise' % i
                net = slim.conv2d(
                    net,
                    depth(conv_def.depth),
                    [1, 1],
                    stride=1,
                    scope=end_point,
                )
                end_points[end_point] = net
                if end_point == final_endpoint:
                    return net, end_points
    # check_final_endpoint above makes this unreachable.
    raise AssertionError(final_endpoint)


def mobilenet_v1(
    inputs,
    num_classes=1000,
    dropout_keep_prob=0.999,
    is_training=True,
    min_depth=8,
    depth_multiplier=1.0,
    conv_defs=None,
    prediction_fn=slim.softmax,
    spatial_squeeze=True,
    reuse=None,
    scope='MobilenetV1',
    global_pool=False,
):
    """MobileNet v1 classifier: the base, an average pool and 1 x 1 logits.

    Trained at 224 x 224 (`mobilenet_v1.default_image_size`). The pool's
    7 x 7 window (stride 2) shrinks to the feature map of a smaller input, so
    any input up to 256 x 256 gives 1 x 1 logits; a larger one gives a larger
    map of logits, which spatial_squeeze cannot squeeze: use global_pool=True
    (or spatial_squeeze=False) there. With unknown height or width the window
    stays 7 x 7.

    Args:
      inputs: a tensor of shape [batch_size, height, width, channels].
      num_classes: the number of classes. If 0 or None, the logits layer is
        omitted and the pooled features (before dropout),
        [batch_size, 1, 1, 1024 * depth_multiplier], are returned instead.
      dropout_keep_prob: the fraction of the pooled features retained.
      is_training: whether batch norm uses batch statistics (and updates its
        moving averages) and dropout drops.
      min_depth: the smallest number of channels of any convolution; binds
        only when depth_multiplier < 1.
      depth_multiplier: the factor on every convolution's number of channels
        (0.75, 0.5 and 0.25 for the published narrow nets), greater than zero.
      conv_defs: a list of `Conv` and `DepthSepConv` specs;
        `MOBILENETV1_CONV_DEFS` if None.
      prediction_fn: turns logits into `end_points['Predictions']`; None for
        no predictions.
      spatial_squeeze: if True, logits have shape [B, C]; if False,
        [B, 1, 1, C].
      reuse: whether the variables of `scope` are reused.
      scope: the variable scope.
      global_pool: if True, the features are averaged over the whole feature
        map (end point 'global_pool') instead of a 7 x 7 window ('AvgPool_1a'),
        so any input size gives 1 x 1 logits.

    Returns:
      logits: the pre-softmax activations, [batch_size, num_classes], or the
        pooled features when num_classes is 0 or None.
      end_points: a dict from end point name to its tensor: the base's, then
        'AvgPool_1a' (or 'global_pool'), 'Logits' and 'Predictions'.

    Raises:
      ValueError: if inputs is not of rank 4 or has no pixels, or as
        `mobilenet_v1_base`.
    """
    shape = tf.TensorShape(inputs.shape)
    if shape.rank != 4:
        raise ValueError(
            'inputs must have rank 4, [batch_size, height, width, channels], got '
            'shape {}.'.format(shape)
        )
    if 0 in shape.as_list()[1:3]:
        raise ValueError(
            'inputs must be at least 1 x 1 (height x width), got shape '
            '{}.'.format(shape)
        )
    with slim.variable_scope(
        scope, 'MobilenetV1', [inputs], reuse=reuse
    ) as scope:
        with slim.arg_scope(
            [slim.batch_norm, slim.dropout], is_training=is_training
        ):
            net, end_points = mobilenet_v1_base(
                inputs,
                scope=scope,
                min_depth=min_depth,
                depth_multiplier=depth_multiplier,
                conv_defs=conv_defs,
            )
            # 7 x 7 x 1024
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
                        net, kernel_size, padding='VALID', scope='AvgPool_1a'
                    )
                    end_points['AvgPool_1a'] = net
                if not num_classes:
                    return net, end_points
                # 1 x 1 x 1024
                net = slim.dropout(
                    net, keep_prob=dropout_keep_prob, scope='Dropout_1b'
                )
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
            end_points['Logits'] = logits
            if prediction_fn:
                end_points['Predictions'] = prediction_fn(
                    logits, scope='Predictions'
                )
    return logits, end_points


mobilenet_v1.default_image_size = 224


def _width_variant(depth_multiplier, name):
    """`mobilenet_v1` with another default depth_multiplier, named `name`.

    A partial, not a copy: the net is `mobilenet_v1`'s, and a call may still
    pass its own depth_multiplier.
    """
    variant = functools.partial(mobilenet_v1, depth_multiplier=depth_multiplier)
    functools.update_wrapper(variant, mobilenet_v1)
    variant.__name__ = variant.__qualname__ = name
    variant.__doc__ = (
        'MobileNet v1 at width {} (`mobilenet_v1` with '
        'depth_multiplier={}).\n\n'.format(depth_multiplier, depth_multiplier)
        + mobilenet_v1.__doc__
    )
    return variant


mobilenet_v1_075 = _width_variant(0.75, 'mobilenet_v1_075')
mobilenet_v1_050 = _width_variant(0.50, 'mobilenet_v1_050')
mobilenet_v1_025 = _width_variant(0.25, 'mobilenet_v1_025')


def mobilenet_v1_arg_scope(
    is_training=True,
    weight_decay=0.00004,
    stddev=0.09,
    regularize_depthwise=False,
    batch_norm_decay=0.9997,
    batch_norm_epsilon=0.001,
    batch_norm_updates_collections='update_ops',
    normalizer_fn=slim.batch_norm,
):
    """Returns the arg scope the published MobileNet v1 nets were trained under.

    Convolutions (full and depthwise) start truncated normal, are followed by
    `normalizer_fn` (batch norm with `beta` and `gamma`) and ReLU6; the full
    ones, 1 x 1 included, carry an L2 penalty, the depthwise ones only if
    regularize_depthwise.

    Args:
      is_training: whether batch norm uses batch statistics; None leaves it
        out of the scope, to be set elsewhere.
      weight_decay: the L2 penalty on the convolution weights.
      stddev: the standard deviation of the truncated normal initializer.
      regularize_depthwise: whether the depthwise weights get the L2 penalty
        too.
      batch_norm_decay: decay of the batch norm moving averages.
      batch_norm_epsilon: small float added to the variance in batch norm.
      batch_norm_updates_collections: TF-Slim's argument, passed on to
        `slim.batch_norm`, which updates its moving statistics in place when
        training whatever the value.
      normalizer_fn: the normalizer after each convolution.

    Returns:
      An arg scope dict, to enter with `slim.arg_scope(...)`.
    """
    batch_norm_params = {
        'center': True,
        'scale': True,
        'decay': batch_norm_decay,
        'epsilon': batch_norm_epsilon,
        'updates_collections': batch_norm_updates_collections,
    }
    if is_training is not None:
        batch_norm_params['is_training'] = is_training
    regularizer = slim.l2_regularizer(weight_decay)
    with slim.arg_scope(
        [slim.conv2d, slim.separable_conv2d],
        weights_initializer=slim.truncated_normal_initializer(stddev=stddev),
        activation_fn=tf.nn.relu6,
        normalizer_fn=normalizer_fn,
    ):
        with slim.arg_scope([slim.batch_norm], **batch_norm_params):
            with slim.arg_scope([slim.conv2d], weights_regularizer=regularizer):
                with slim.arg_scope(
                    [slim.separable_conv2d],
                    weights_regularizer=regularizer
                    if regularize_depthwise
                    else None,
                ) as scope:
                    return scope


def _fixed_padding(inputs, kernel_size, rate=1):
    """Pads height and width as a 'SAME' convolution of `kernel_size` (dilated
    by `rate`) would at stride 1, so that 'VALID' after it keeps 'SAME' sizes.
    """
    pads = []
    for size in kernel_size[:2]:
        total = size + (size - 1) * (rate - 1) - 1
        pads.append([total // 2, total - total // 2])
    return tf.pad(inputs, [[0, 0]] + pads + [[0, 0]])
