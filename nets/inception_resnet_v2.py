"""Inception-ResNet-v2, variable for variable the net of TF-Slim's model zoo.

"Inception-v4, Inception-ResNet and the Impact of Residual Connections on
Learning", Szegedy, Ioffe, Vanhoucke and Alemi,
http://arxiv.org/abs/1602.07261.

The entry points, their arguments, the end points and every variable name and
shape are research/slim's, so the released `inception_resnet_v2_2016_08_30`
checkpoint loads by name with `slim.assign_from_checkpoint`:

    model = slim.Model(inception_resnet_v2.inception_resnet_v2,
                       num_classes=1001)
    with slim.arg_scope(inception_resnet_v2.inception_resnet_v2_arg_scope()):
      logits, end_points = model(images, is_training=False)

The net is a stem (Conv2d_1a_3x3 ... Mixed_5b), 10 residual Block35 units,
a reduction (Mixed_6a), 20 Block17 units (their output is 'PreAuxLogits'), a
reduction (Mixed_7a), 10 Block8 units and a 1x1 convolution to 1536 channels
(Conv2d_7b_1x1). The residual units are built with `slim.repeat`, which
names them as the released checkpoint does: 'Repeat/block35_1' ..
'Repeat/block35_10', 'Repeat_1/block17_1' .. 'Repeat_1/block17_20',
'Repeat_2/block8_1' .. 'Repeat_2/block8_9', and the last, linear one
'Block8'.

The shape comments below are for a 299 x 299 input, output_stride 16 and
align_feature_maps False.
"""

import tensorflow as tf

import slim

# The end points of `inception_resnet_v2_base`, in the order they are built;
# any of them is a valid `final_endpoint`.
BASE_END_POINTS = (
    'Conv2d_1a_3x3',
    'Conv2d_2a_3x3',
    'Conv2d_2b_3x3',
    'MaxPool_3a_3x3',
    'Conv2d_3b_1x1',
    'Conv2d_4a_3x3',
    'MaxPool_5a_3x3',
    'Mixed_5b',
    'Mixed_6a',
    'PreAuxLogits',
    'Mixed_7a',
    'Conv2d_7b_1x1',
)

# With output_stride 8 the net is defined up to this end point only, as in
# research/slim.
_LAST_END_POINT_AT_STRIDE_8 = 'PreAuxLogits'


def block35(net, scale=1.0, activation_fn=tf.nn.relu, scope=None, reuse=None):
    """The 35 x 35 residual unit (Inception-ResNet-A).

    Three towers (1x1; 1x1-3x3; 1x1-3x3-3x3) are concatenated, projected back
    to the input's channels by a linear 1x1 convolution with biases, scaled by
    `scale` and added to the input; `activation_fn` (if any) follows the sum.
    """
    with slim.variable_scope(scope, 'Block35', [net], reuse=reuse):
        with slim.variable_scope('Branch_0'):
            tower_0 = slim.conv2d(net, 32, 1, scope='Conv2d_1x1')
        with slim.variable_scope('Branch_1'):
            tower_1 = slim.conv2d(net, 32, 1, scope='Conv2d_0a_1x1')
            tower_1 = slim.conv2d(tower_1, 32, 3, scope='Conv2d_0b_3x3')
        with slim.variable_scope('Branch_2'):
            tower_2 = slim.conv2d(net, 32, 1, scope='Conv2d_0a_1x1')
            tower_2 = slim.conv2d(tower_2, 48, 3, scope='Conv2d_0b_3x3')
            tower_2 = slim.conv2d(tower_2, 64, 3, scope='Conv2d_0c_3x3')
        mixed = tf.concat([tower_0, tower_1, tower_2], 3)
        return _residual(net, mixed, scale, activation_fn)


def block17(net, scale=1.0, activation_fn=tf.nn.relu, scope=None, reuse=None):
    """The 17 x 17 residual unit (Inception-ResNet-B): towers 1x1 and
    1x1-1x7-7x1, as `block35` otherwise."""
    with slim.variable_scope(scope, 'Block17', [net], reuse=reuse):
        with slim.variable_scope('Branch_0'):
            tower_0 = slim.conv2d(net, 192, 1, scope='Conv2d_1x1')
        with slim.variable_scope('Branch_1'):
            tower_1 = slim.conv2d(net, 128, 1, scope='Conv2d_0a_1x1')
            tower_1 = slim.conv2d(tower_1, 160, [1, 7], scope='Conv2d_0b_1x7')
            tower_1 = slim.conv2d(tower_1, 192, [7, 1], scope='Conv2d_0c_7x1')
        mixed = tf.concat([tower_0, tower_1], 3)
        return _residual(net, mixed, scale, activation_fn)


def block8(net, scale=1.0, activation_fn=tf.nn.relu, scope=None, reuse=None):
    """The 8 x 8 residual unit (Inception-ResNet-C): towers 1x1 and
    1x1-1x3-3x1, as `block35` otherwise."""
    with slim.variable_scope(scope, 'Block8', [net], reuse=reuse):
        with slim.variable_scope('Branch_0'):
            tower_0 = slim.conv2d(net, 192, 1, scope='Conv2d_1x1')
        with slim.variable_scope('Branch_1'):
            tower_1 = slim.conv2d(net, 192, 1, scope='Conv2d_0a_1x1')
            tower_1 = slim.conv2d(tower_1, 224, [1, 3], scope='Conv2d_0b_1x3')
            tower_1 = slim.conv2d(tower_1, 256, [3, 1], scope='Conv2d_0c_3x1')
        mixed = tf.concat([tower_0, tower_1], 3)
        return _residual(net, mixed, scale, activation_fn)


def inception_resnet_v2_base(
    inputs,
    final_endpoint='Conv2d_7b_1x1',
    output_stride=16,
    align_feature_maps=False,
    scope=None,
    activation_fn=tf.nn.relu,
):
    """Builds Inception-ResNet-v2 from the inputs up to `final_endpoint`.

    Args:
      inputs: a tensor of shape [batch_size, height, width, channels].
      final_endpoint: the end point to build the net up to, one of
        `BASE_END_POINTS` ('Conv2d_1a_3x3' ... 'Conv2d_7b_1x1').
      output_stride: 16, or 8 to keep Mixed_6a at the stride of Mixed_5b (its
        strided convolutions and pool become stride 1, and the Block17 units
        atrous with rate 2); with 8 the net is defined up to 'PreAuxLogits'.
      align_feature_maps: if True, every VALID padding of the net becomes
        SAME, so feature maps align with the input (150 x 150 after
        Conv2d_1a_3x3 at 299 x 299 instead of 149 x 149).
      scope: optional variable scope, 'InceptionResnetV2' by default.
      activation_fn: the activation after the sum of each residual unit (the
        convolutions take theirs from the arg scope).

    Returns:
      net: the tensor of `final_endpoint`.
      end_points: a dict from end point name to its tensor, for every end point
        built.

    Raises:
      ValueError: if final_endpoint is not one of `BASE_END_POINTS`, if
        output_stride is not 8 or 16, or if output_stride is 8 and
        final_endpoint comes after 'PreAuxLogits'.
    """
    _check_arguments(final_endpoint, output_stride)
    with slim.variable_scope(scope, 'InceptionResnetV2', [inputs]):
        return _trunk(
            inputs,
            final_endpoint,
            output_stride,
            align_feature_maps,
            activation_fn,
        )


def inception_resnet_v2(
    inputs,
    num_classes=1001,
    is_training=True,
    dropout_keep_prob=0.8,
    reuse=None,
    scope='InceptionResnetV2',
    create_aux_logits=True,
    activation_fn=tf.nn.relu,
):
    """Inception-ResNet-v2 classifier: the trunk, the auxiliary head, logits.

    Trained at 299 x 299 (`inception_resnet_v2.default_image_size`). The final
    average pool covers the whole last feature map, so any input of at least
    75 x 75 gives logits (at least 107 x 107 with the auxiliary head, whose
    'Conv2d_2a_5x5' kernel is the size of its input map: 5 x 5 at 299 x 299,
    as in the released checkpoint). With unknown height or width the features
    are averaged by `reduce_mean` instead of a fixed pool.

    Args:
      inputs: a tensor of shape [batch_size, height, width, 3].
      num_classes: the number of classes. If 0 or None, the logits layer and
        the auxiliary head are omitted and the pooled features (before
        dropout), [batch_size, 1, 1, 1536], are returned instead of logits.
      is_training: whether batch norm uses batch statistics (and updates its
        moving averages) and dropout drops.
      dropout_keep_prob: the fraction of the pre-logits activations retained.
      reuse: whether the variables of `scope` are reused.
      scope: the variable scope.
      create_aux_logits: whether to build the auxiliary head on PreAuxLogits.
      activation_fn: the activation after the sum of each residual unit.

    Returns:
      logits: the pre-softmax activations, [batch_size, num_classes], or the
        pooled features when num_classes is 0 or None.
      end_points: a dict from end point name to its tensor: the trunk's, then
        'AuxLogits', 'global_pool', 'PreLogitsFlatten', 'Logits' and
        'Predictions'.

    Raises:
      ValueError: if the input is too small (or of unknown size) for the
        auxiliary head.
    """
    with slim.variable_scope(scope, 'InceptionResnetV2', [inputs], reuse=reuse):
        with slim.arg_scope(
            [slim.batch_norm, slim.dropout], is_training=is_training
        ):
            net, end_points = _trunk(
                inputs,
                'Conv2d_7b_1x1',
                output_stride=16,
                align_feature_maps=False,
                activation_fn=activation_fn,
            )

            if create_aux_logits and num_classes:
                end_points['AuxLogits'] = _aux_logits(
                    end_points['PreAuxLogits'], num_classes
                )

            with slim.variable_scope('Logits'):
                # 8 x 8 x 1536
                kernel_size = net.shape[1:3]
                if kernel_size.is_fully_defined():
                    net = slim.avg_pool2d(
                        net,
                        kernel_size.as_list(),
                        padding='VALID',
                        scope='AvgPool_1a_8x8',
                    )
                else:
                    net = tf.reduce_mean(
                        net, [1, 2], keepdims=True, name='global_pool'
                    )
                end_points['global_pool'] = net
                if not num_classes:
                    return net, end_points
                # 1 x 1 x 1536
                net = slim.flatten(net)
                net = slim.dropout(
                    net,
                    dropout_keep_prob,
                    is_training=is_training,
                    scope='Dropout',
                )
                end_points['PreLogitsFlatten'] = net
                # 1536
                logits = slim.fully_connected(
                    net, num_classes, activation_fn=None, scope='Logits'
                )
                end_points['Logits'] = logits
                end_points['Predictions'] = tf.nn.softmax(
                    logits, name='Predictions'
                )
    return logits, end_points


inception_resnet_v2.default_image_size = 299


def inception_resnet_v2_arg_scope(
    weight_decay=0.00004,
    batch_norm_decay=0.9997,
    batch_norm_epsilon=0.001,
    activation_fn=tf.nn.relu,
    batch_norm_updates_collections='update_ops',
    batch_norm_scale=False,
):
    """Returns the arg scope Inception-ResNet-v2 was trained under.

    Unlike the other Inception nets' scope, the L2 penalty also covers biases
    (of the residual projections and the logits), the convolutions keep
    TF-Slim's default (Xavier) initializer, and batch norm is always on.

    Args:
      weight_decay: the L2 penalty on conv and fully connected weights and
        biases.
      batch_norm_decay: decay of the batch norm moving averages.
      batch_norm_epsilon: small float added to the variance to avoid dividing
        by zero in batch norm.
      activation_fn: the activation of the convolutions.
      batch_norm_updates_collections: as in TF-Slim, 'update_ops' (its
        `tf.GraphKeys.UPDATE_OPS`) by default; here the moving statistics are
        always updated in place when training (see `slim.batch_norm`).
      batch_norm_scale: if True, batch norm has a learned `gamma`. The released
        checkpoint has none, hence the default False.

    Returns:
      An arg scope dict, to enter with `slim.arg_scope(...)`.
    """
    regularizer = slim.l2_regularizer(weight_decay)
    with slim.arg_scope(
        [slim.conv2d, slim.fully_connected],
        weights_regularizer=regularizer,
        biases_regularizer=regularizer,
    ):
        batch_norm_params = {
            'decay': batch_norm_decay,
            'epsilon': batch_norm_epsilon,
            'updates_collections': batch_norm_updates_collections,
            'fused': None,
            'scale': batch_norm_scale,
        }
        with slim.arg_scope(
            [slim.conv2d],
            activation_fn=activation_fn,
            normalizer_fn=slim.batch_norm,
            normalizer_params=batch_norm_params,
        ) as scope:
            return scope


def _check_arguments(final_endpoint, output_stride):
    if final_endpoint not in BASE_END_POINTS:
        raise ValueError(
            'final_endpoint must be one of {}, got {!r}.'.format(
                list(BASE_END_POINTS), final_endpoint
            )
        )
    if output_stride not in (8, 16):
        raise ValueError(
            'output_stride must be 8 or 16, got {!r}.'.format(output_stride)
        )
    last = BASE_END_POINTS.index(_LAST_END_POINT_AT_STRIDE_8)
    if output_stride == 8 and BASE_END_POINTS.index(final_endpoint) > last:
        raise ValueError(
            'output_stride 8 is supported up to the {!r} end point only, got '
            'final_endpoint={!r}; pass output_stride=16 or an earlier '
            'final_endpoint.'.format(
                _LAST_END_POINT_AT_STRIDE_8, final_endpoint
            )
        )


def _residual(net, mixed, scale, activation_fn):
    """Adds the scaled linear 1x1 projection of `mixed` to `net`."""
    up = slim.conv2d(
        mixed,
        net.shape[3],
        1,
        normalizer_fn=None,
        activation_fn=None,
        scope='Conv2d_1x1',
    )
    scaled_up = up * scale
    if activation_fn == tf.nn.relu6:
        # A band-pass for the residual, so the sum stays within relu6's range.
        scaled_up = tf.clip_by_value(scaled_up, -6.0, 6.0)
    net += scaled_up
    if activation_fn:
        net = activation_fn(net)
    return net


def _trunk(
    inputs, final_endpoint, output_stride, align_feature_maps, activation_fn
):
    """Builds the end points up to `final_endpoint` in the current scope.

    Shared by `inception_resnet_v2_base` and `inception_resnet_v2`, each of
    which opens the 'InceptionResnetV2' scope itself.
    """
    padding = 'SAME' if align_feature_maps else 'VALID'
    # At output stride 8, Mixed_6a keeps the spatial size and the Block17
    # units that follow see it through atrous convolutions.
    use_atrous = output_stride == 8
    reduction_stride = 1 if use_atrous else 2
    end_points = {}

    def reached(end_point, net):
        end_points[end_point] = net
        return end_point == final_endpoint

    with slim.arg_scope(
        [slim.conv2d, slim.max_pool2d, slim.avg_pool2d],
        stride=1,
        padding='SAME',
    ):
        # 299 x 299 x 3
        net = slim.conv2d(
            inputs, 32, 3, stride=2, padding=padding, scope='Conv2d_1a_3x3'
        )
        if reached('Conv2d_1a_3x3', net):
            return net, end_points
        # 149 x 149 x 32
        net = slim.conv2d(net, 32, 3, padding=padding, scope='Conv2d_2a_3x3')
        if reached('Conv2d_2a_3x3', net):
            return net, end_points
        # 147 x 147 x 32
        net = slim.conv2d(net, 64, 3, scope='Conv2d_2b_3x3')
        if reached('Conv2d_2b_3x3', net):
            return net, end_points
        # 147 x 147 x 64
        net = slim.max_pool2d(
            net, 3, stride=2, padding=padding, scope='MaxPool_3a_3x3'
        )
        if reached('MaxPool_3a_3x3', net):
            return net, end_points
        # 73 x 73 x 64
        net = slim.conv2d(net, 80, 1, padding=padding, scope='Conv2d_3b_1x1')
        if reached('Conv2d_3b_1x1', net):
            return net, end_points
        # 73 x 73 x 80
        net = slim.conv2d(net, 192, 3, padding=padding, scope='Conv2d_4a_3x3')
        if reached('Conv2d_4a_3x3', net):
            return net, end_points
        # 71 x 71 x 192
        net = slim.max_pool2d(
            net, 3, stride=2, padding=padding, scope='MaxPool_5a_3x3'
        )
        if reached('MaxPool_5a_3x3', net):
            return net, end_points
        # 35 x 35 x 192
        with slim.variable_scope('Mixed_5b'):
            with slim.variable_scope('Branch_0'):
                tower_0 = slim.conv2d(net, 96, 1, scope='Conv2d_1x1')
            with slim.variable_scope('Branch_1'):
                tower_1 = slim.conv2d(net, 48, 1, scope='Conv2d_0a_1x1')
                tower_1 = slim.conv2d(tower_1, 64, 5, scope='Conv2d_0b_5x5')
            with slim.variable_scope('Branch_2'):
                tower_2 = slim.conv2d(net, 64, 1, scope='Conv2d_0a_1x1')
                tower_2 = slim.conv2d(tower_2, 96, 3, scope='Conv2d_0b_3x3')
                tower_2 = slim.conv2d(tower_2, 96, 3, scope='Conv2d_0c_3x3')
            with slim.variable_scope('Branch_3'):
                tower_3 = slim.avg_pool2d(net, 3, scope='AvgPool_0a_3x3')
                tower_3 = slim.conv2d(tower_3, 64, 1, scope='Conv2d_0b_1x1')
            net = tf.concat([tower_0, tower_1, tower_2, tower_3], 3)
        if reached('Mixed_5b', net):
            return net, end_points
        # 35 x 35 x 320
        net = slim.repeat(
            net, 10, block35, scale=0.17, activation_fn=activation_fn
        )
        # 35 x 35 x 320
        with slim.variable_scope('Mixed_6a'):
            with slim.variable_scope('Branch_0'):
                tower_0 = slim.conv2d(
                    net,
                    384,
                    3,
                    stride=reduction_stride,
                    padding=padding,
                    scope='Conv2d_1a_3x3',
                )
            with slim.variable_scope('Branch_1'):
                tower_1 = slim.conv2d(net, 256, 1, scope='Conv2d_0a_1x1')
                tower_1 = slim.conv2d(tower_1, 256, 3, scope='Conv2d_0b_3x3')
                tower_1 = slim.conv2d(
                    tower_1,
                    384,
                    3,
                    stride=reduction_stride,
                    padding=padding,
                    scope='Conv2d_1a_3x3',
                )
            with slim.variable_scope('Branch_2'):
                tower_2 = slim.max_pool2d(
                    net,
                    3,
                    stride=reduction_stride,
                    padding=padding,
                    scope='MaxPool_1a_3x3',
                )
            net = tf.concat([tower_0, tower_1, tower_2], 3)
        if reached('Mixed_6a', net):
            return net, end_points
        # 17 x 17 x 1088 (33 x 33 x 1088 at output stride 8)
        with slim.arg_scope([slim.conv2d], rate=2 if use_atrous else 1):
            net = slim.repeat(
                net, 20, block17, scale=0.10, activation_fn=activation_fn
            )
        if reached('PreAuxLogits', net):
            return net, end_points
        # 17 x 17 x 1088
        with slim.variable_scope('Mixed_7a'):
            with slim.variable_scope('Branch_0'):
                tower_0 = slim.conv2d(net, 256, 1, scope='Conv2d_0a_1x1')
                tower_0 = slim.conv2d(
                    tower_0,
                    384,
                    3,
                    stride=2,
                    padding=padding,
                    scope='Conv2d_1a_3x3',
                )
            with slim.variable_scope('Branch_1'):
                tower_1 = slim.conv2d(net, 256, 1, scope='Conv2d_0a_1x1')
                tower_1 = slim.conv2d(
                    tower_1,
                    288,
                    3,
                    stride=2,
                    padding=padding,
                    scope='Conv2d_1a_3x3',
                )
            with slim.variable_scope('Branch_2'):
                tower_2 = slim.conv2d(net, 256, 1, scope='Conv2d_0a_1x1')
                tower_2 = slim.conv2d(tower_2, 288, 3, scope='Conv2d_0b_3x3')
                tower_2 = slim.conv2d(
                    tower_2,
                    320,
                    3,
                    stride=2,
                    padding=padding,
                    scope='Conv2d_1a_3x3',
                )
            with slim.variable_scope('Branch_3'):
                tower_3 = slim.max_pool2d(
                    net, 3, stride=2, padding=padding, scope='MaxPool_1a_3x3'
                )
            net = tf.concat([tower_0, tower_1, tower_2, tower_3], 3)
        if reached('Mixed_7a', net):
            return net, end_points
        # 8 x 8 x 2080
        net = slim.repeat(
            net, 9, block8, scale=0.20, activation_fn=activation_fn
        )
        # The last unit is linear and unscaled.
        net = block8(net, activation_fn=None)
        # 8 x 8 x 2080
        net = slim.conv2d(net, 1536, 1, scope='Conv2d_7b_1x1')
        reached('Conv2d_7b_1x1', net)
        # 8 x 8 x 1536
    return net, end_points


def _aux_logits(pre_aux_logits, num_classes):
    """The auxiliary classifier on PreAuxLogits, which regularises training."""
    height, width = pre_aux_logits.shape[1:3]
    if height is None or width is None:
        raise ValueError(
            'the auxiliary head needs a known input height and width (its '
            'kernel is the size of the feature map), got PreAuxLogits of shape '
            '{}; pass inputs of static size or create_aux_logits=False.'.format(
                pre_aux_logits.shape
            )
        )
    if height < 5 or width < 5:
        raise ValueError(
            'inputs are too small for the auxiliary head: PreAuxLogits is {}x{}, '
            'its 5x5 pool needs at least 5x5 (inputs of at least 107x107); pass '
            'larger inputs or create_aux_logits=False.'.format(height, width)
        )
    with slim.variable_scope('AuxLogits'):
        # 17 x 17 x 1088
        aux = slim.avg_pool2d(
            pre_aux_logits, 5, stride=3, padding='VALID', scope='Conv2d_1a_3x3'
        )
        # 5 x 5 x 1088
        aux = slim.conv2d(aux, 128, 1, scope='Conv2d_1b_1x1')
        # 5 x 5 x 128; the kernel covers the whole map, whatever its size.
        aux = slim.conv2d(
            aux,
            768,
            aux.shape[1:3].as_list(),
            padding='VALID',
            scope='Conv2d_2a_5x5',
        )
        # 1 x 1 x 768
        aux = slim.flatten(aux)
        return slim.fully_connected(
            aux, num_classes, activation_fn=None, scope='Logits'
        )
