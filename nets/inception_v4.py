"""Inception-v4, variable for variable the net of TF-Slim's model zoo.

"Inception-v4, Inception-ResNet and the Impact of Residual Connections on
Learning", Szegedy, Ioffe, Vanhoucke and Alemi,
http://arxiv.org/abs/1602.07261.

The entry points, their arguments, the end points and every variable name and
shape are research/slim's, so the released `inception_v4.ckpt` (2016_09_09)
loads by name with `slim.assign_from_checkpoint`:

    model = slim.Model(inception_v4.inception_v4, num_classes=1001)
    with slim.arg_scope(inception_v4.inception_v4_arg_scope()):
      logits, end_points = model(images, is_training=False)

The net is a stem (Conv2d_1a_3x3 ... Mixed_5a), then 4 Inception-A blocks
(Mixed_5b..5e), Reduction-A (Mixed_6a), 7 Inception-B blocks (Mixed_6b..6h),
Reduction-B (Mixed_7a) and 3 Inception-C blocks (Mixed_7b..7d). The block
functions are public, as in research/slim, to build variants from.

The shape comments below are for a 299 x 299 input.
"""

import tensorflow as tf

import slim
from nets import inception_utils

# The end points of `inception_v4_base`, in the order they are built; any of
# them is a valid `final_endpoint`.
BASE_END_POINTS = (
    'Conv2d_1a_3x3',
    'Conv2d_2a_3x3',
    'Conv2d_2b_3x3',
    'Mixed_3a',
    'Mixed_4a',
    'Mixed_5a',
    'Mixed_5b',
    'Mixed_5c',
    'Mixed_5d',
    'Mixed_5e',
    'Mixed_6a',
    'Mixed_6b',
    'Mixed_6c',
    'Mixed_6d',
    'Mixed_6e',
    'Mixed_6f',
    'Mixed_6g',
    'Mixed_6h',
    'Mixed_7a',
    'Mixed_7b',
    'Mixed_7c',
    'Mixed_7d',
)

inception_v4_arg_scope = inception_utils.inception_arg_scope


def block_inception_a(inputs, scope=None, reuse=None):
    """Inception-A (35 x 35): 1x1, 1x1-3x3, 1x1-3x3-3x3 and pool-1x1 branches.

    Keeps the spatial size; 384 channels out whatever comes in.
    """
    with slim.arg_scope(
        [slim.conv2d, slim.avg_pool2d, slim.max_pool2d],
        stride=1,
        padding='SAME',
    ):
        with slim.variable_scope(
            scope, 'BlockInceptionA', [inputs], reuse=reuse
        ):
            with slim.variable_scope('Branch_0'):
                branch_0 = slim.conv2d(
                    inputs, 96, [1, 1], scope='Conv2d_0a_1x1'
                )
            with slim.variable_scope('Branch_1'):
                branch_1 = slim.conv2d(
                    inputs, 64, [1, 1], scope='Conv2d_0a_1x1'
                )
                branch_1 = slim.conv2d(
                    branch_1, 96, [3, 3], scope='Conv2d_0b_3x3'
                )
            with slim.variable_scope('Branch_2'):
                branch_2 = slim.conv2d(
                    inputs, 64, [1, 1], scope='Conv2d_0a_1x1'
                )
                branch_2 = slim.conv2d(
                    branch_2, 96, [3, 3], scope='Conv2d_0b_3x3'
                )
                branch_2 = slim.conv2d(
                    branch_2, 96, [3, 3], scope='Conv2d_0c_3x3'
                )
            with slim.variable_scope('Branch_3'):
                branch_3 = slim.avg_pool2d(
                    inputs, [3, 3], scope='AvgPool_0a_3x3'
                )
                branch_3 = slim.conv2d(
                    branch_3, 96, [1, 1], scope='Conv2d_0b_1x1'
                )
            return tf.concat([branch_0, branch_1, branch_2, branch_3], 3)


def block_reduction_a(inputs, scope=None, reuse=None):
    """Reduction-A (35 -> 17): strided 3x3 and 1x1-3x3-3x3 beside a max pool.

    Out: 384 + 256 + the input's channels (1024 after a 384-channel input).
    """
    with slim.arg_scope(
        [slim.conv2d, slim.avg_pool2d, slim.max_pool2d],
        stride=1,
        padding='SAME',
    ):
        with slim.variable_scope(
            scope, 'BlockReductionA', [inputs], reuse=reuse
        ):
            with slim.variable_scope('Branch_0'):
                branch_0 = slim.conv2d(
                    inputs,
                    384,
                    [3, 3],
                    stride=2,
                    padding='VALID',
                    scope='Conv2d_1a_3x3',
                )
            with slim.variable_scope('Branch_1'):
                branch_1 = slim.conv2d(
                    inputs, 192, [1, 1], scope='Conv2d_0a_1x1'
                )
                branch_1 = slim.conv2d(
                    branch_1, 224, [3, 3], scope='Conv2d_0b_3x3'
                )
                branch_1 = slim.conv2d(
                    branch_1,
                    256,
                    [3, 3],
                    stride=2,
                    padding='VALID',
                    scope='Conv2d_1a_3x3',
                )
            with slim.variable_scope('Branch_2'):
                branch_2 = slim.max_pool2d(
                    inputs,
                    [3, 3],
                    stride=2,
                    padding='VALID',
                    scope='MaxPool_1a_3x3',
                )
            return tf.concat([branch_0, branch_1, branch_2], 3)


def block_inception_b(inputs, scope=None, reuse=None):
    """Inception-B (17 x 17): 7x7 convolutions factorised into 1x7 and 7x1.

    Keeps the spatial size; 1024 channels out whatever comes in.
    """
    with slim.arg_scope(
        [slim.conv2d, slim.avg_pool2d, slim.max_pool2d],
        stride=1,
        padding='SAME',
    ):
        with slim.variable_scope(
            scope, 'BlockInceptionB', [inputs], reuse=reuse
        ):
            with slim.variable_scope('Branch_0'):
                branch_0 = slim.conv2d(
                    inputs, 384, [1, 1], scope='Conv2d_0a_1x1'
                )
            with slim.variable_scope('Branch_1'):
                branch_1 = slim.conv2d(
                    inputs, 192, [1, 1], scope='Conv2d_0a_1x1'
                )
                branch_1 = slim.conv2d(
                    branch_1, 224, [1, 7], scope='Conv2d_0b_1x7'
                )
                branch_1 = slim.conv2d(
                    branch_1, 256, [7, 1], scope='Conv2d_0c_7x1'
                )
            with slim.variable_scope('Branch_2'):
                branch_2 = slim.conv2d(
                    inputs, 192, [1, 1], scope='Conv2d_0a_1x1'
                )
                branch_2 = slim.conv2d(
                    branch_2, 192, [7, 1], scope='Conv2d_0b_7x1'
                )
                branch_2 = slim.conv2d(
                    branch_2, 224, [1, 7], scope='Conv2d_0c_1x7'
                )
                branch_2 = slim.conv2d(
                    branch_2, 224, [7, 1], scope='Conv2d_0d_7x1'
                )
                branch_2 = slim.conv2d(
                    branch_2, 256, [1, 7], scope='Conv2d_0e_1x7'
                )
            with slim.variable_scope('Branch_3'):
                branch_3 = slim.avg_pool2d(
                    inputs, [3, 3], scope='AvgPool_0a_3x3'
                )
                branch_3 = slim.conv2d(
                    branch_3, 128, [1, 1], scope='Conv2d_0b_1x1'
                )
            return tf.concat([branch_0, branch_1, branch_2, branch_3], 3)


def block_reduction_b(inputs, scope=None, reuse=None):
    """Reduction-B (17 -> 8): strided 3x3 after 1x1 and after 1x7-7x1, beside
    a max pool.

    Out: 192 + 320 + the input's channels (1536 after a 1024-channel input).
    """
    with slim.arg_scope(
        [slim.conv2d, slim.avg_pool2d, slim.max_pool2d],
        stride=1,
        padding='SAME',
    ):
        with slim.variable_scope(
            scope, 'BlockReductionB', [inputs], reuse=reuse
        ):
            with slim.variable_scope('Branch_0'):
                branch_0 = slim.conv2d(
                    inputs, 192, [1, 1], scope='Conv2d_0a_1x1'
                )
                branch_0 = slim.conv2d(
                    branch_0,
                    192,
                    [3, 3],
                    stride=2,
                    padding='VALID',
                    scope='Conv2d_1a_3x3',
                )
            with slim.variable_scope('Branch_1'):
                branch_1 = slim.conv2d(
                    inputs, 256, [1, 1], scope='Conv2d_0a_1x1'
                )
                branch_1 = slim.conv2d(
                    branch_1, 256, [1, 7], scope='Conv2d_0b_1x7'
                )
                branch_1 = slim.conv2d(
                    branch_1, 320, [7, 1], scope='Conv2d_0c_7x1'
                )
                branch_1 = slim.conv2d(
                    branch_1,
                    320,
                    [3, 3],
                    stride=2,
                    padding='VALID',
                    scope='Conv2d_1a_3x3',
                )
            with slim.variable_scope('Branch_2'):
                branch_2 = slim.max_pool2d(
                    inputs,
                    [3, 3],
                    stride=2,
                    padding='VALID',
                    scope='MaxPool_1a_3x3',
                )
            return tf.concat([branch_0, branch_1, branch_2], 3)


def block_inception_c(inputs, scope=None, reuse=None):
    """Inception-C (8 x 8): branches that end in parallel 1x3 and 3x1.

    Keeps the spatial size; 1536 channels out whatever comes in.
    """
    with slim.arg_scope(
        [slim.conv2d, slim.avg_pool2d, slim.max_pool2d],
        stride=1,
        padding='SAME',
    ):
        with slim.variable_scope(
            scope, 'BlockInceptionC', [inputs], reuse=reuse
        ):
            with slim.variable_scope('Branch_0'):
                branch_0 = slim.conv2d(
                    inputs, 256, [1, 1], scope='Conv2d_0a_1x1'
                )
            with slim.variable_scope('Branch_1'):
                branch_1 = slim.conv2d(
                    inputs, 384, [1, 1], scope='Conv2d_0a_1x1'
                )
                branch_1 = tf.concat(
                    [
                        slim.conv2d(
                            branch_1, 256, [1, 3], scope='Conv2d_0b_1x3'
                        ),
                        slim.conv2d(
                            branch_1, 256, [3, 1], scope='Conv2d_0c_3x1'
                        ),
                    ],
                    3,
                )
            with slim.variable_scope('Branch_2'):
                branch_2 = slim.conv2d(
                    inputs, 384, [1, 1], scope='Conv2d_0a_1x1'
                )
                branch_2 = slim.conv2d(
                    branch_2, 448, [3, 1], scope='Conv2d_0b_3x1'
                )
                branch_2 = slim.conv2d(
                    branch_2, 512, [1, 3], scope='Conv2d_0c_1x3'
                )
                branch_2 = tf.concat(
                    [
                        slim.conv2d(
                            branch_2, 256, [1, 3], scope='Conv2d_0d_1x3'
                        ),
                        slim.conv2d(
                            branch_2, 256, [3, 1], scope='Conv2d_0e_3x1'
                        ),
                    ],
                    3,
                )
            with slim.variable_scope('Branch_3'):
                branch_3 = slim.avg_pool2d(
                    inputs, [3, 3], scope='AvgPool_0a_3x3'
                )
                branch_3 = slim.conv2d(
                    branch_3, 256, [1, 1], scope='Conv2d_0b_1x1'
                )
            return tf.concat([branch_0, branch_1, branch_2, branch_3], 3)


def inception_v4_base(inputs, final_endpoint='Mixed_7d', scope=None):
    """Builds Inception-v4 from the inputs up to `final_endpoint`.

    Args:
      inputs: a tensor of shape [batch_size, height, width, channels].
      final_endpoint: the end point to build the net up to, one of
        `BASE_END_POINTS` ('Conv2d_1a_3x3' ... 'Mixed_7d').
      scope: optional variable scope, 'InceptionV4' by default.

    Returns:
      net: the tensor of `final_endpoint`.
      end_points: a dict from end point name to its tensor, for every end point
        built.

    Raises:
      ValueError: if final_endpoint is not one of `BASE_END_POINTS`.
    """
    _check_final_endpoint(final_endpoint)
    with slim.variable_scope(scope, 'InceptionV4', [inputs]):
        return _trunk(inputs, final_endpoint)


def inception_v4(
    inputs,
    num_classes=1001,
    is_training=True,
    dropout_keep_prob=0.8,
    reuse=None,
    scope='InceptionV4',
    create_aux_logits=True,
):
    """Inception-v4 classifier: the trunk, the auxiliary head and the logits.

    Trained at 299 x 299 (`inception_v4.default_image_size`). The final average
    pool covers the whole last feature map, so any input of at least 75 x 75
    gives logits (at least 107 x 107 with the auxiliary head, whose second
    convolution's kernel is the size of its input map: 5 x 5 at 299 x 299, as
    in the released checkpoint). With unknown height or width the features are
    averaged by `reduce_mean` instead of a fixed pool.

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
      create_aux_logits: whether to build the auxiliary head on Mixed_6h.

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
    with slim.variable_scope(scope, 'InceptionV4', [inputs], reuse=reuse):
        with slim.arg_scope(
            [slim.batch_norm, slim.dropout], is_training=is_training
        ):
            net, end_points = _trunk(inputs, 'Mixed_7d')

            with slim.arg_scope(
                [slim.conv2d, slim.max_pool2d, slim.avg_pool2d],
                stride=1,
                padding='SAME',
            ):
                if create_aux_logits and num_classes:
                    end_points['AuxLogits'] = _aux_logits(
                        end_points['Mixed_6h'], num_classes
                    )

                with slim.variable_scope('Logits'):
                    # 8 x 8 x 1536
                    kernel_size = net.shape[1:3]
                    if kernel_size.is_fully_defined():
                        net = slim.avg_pool2d(
                            net,
                            kernel_size.as_list(),
                            padding='VALID',
                            scope='AvgPool_1a',
                        )
                    else:
                        net = tf.reduce_mean(
                            net, [1, 2], keepdims=True, name='global_pool'
                        )
                    end_points['global_pool'] = net
                    if not num_classes:
                        return net, end_points
                    # 1 x 1 x 1536
                    net = slim.dropout(
                        net, dropout_keep_prob, scope='Dropout_1b'
                    )
                    net = slim.flatten(net, scope='PreLogitsFlatten')
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


inception_v4.default_image_size = 299


def _check_final_endpoint(final_endpoint):
    if final_endpoint not in BASE_END_POINTS:
        raise ValueError(
            'final_endpoint must be one of {}, got {!r}.'.format(
                list(BASE_END_POINTS), final_endpoint
            )
        )


def _trunk(inputs, final_endpoint):
    """Builds the end points up to `final_endpoint` in the current scope.

    Shared by `inception_v4_base` and `inception_v4`, each of which opens the
    'InceptionV4' scope itself.
    """
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
            inputs, 32, [3, 3], stride=2, padding='VALID', scope='Conv2d_1a_3x3'
        )
        if reached('Conv2d_1a_3x3', net):
            return net, end_points
        # 149 x 149 x 32
        net = slim.conv2d(
            net, 32, [3, 3], padding='VALID', scope='Conv2d_2a_3x3'
        )
        if reached('Conv2d_2a_3x3', net):
            return net, end_points
        # 147 x 147 x 32
        net = slim.conv2d(net, 64, [3, 3], scope='Conv2d_2b_3x3')
        if reached('Conv2d_2b_3x3', net):
            return net, end_points
        # 147 x 147 x 64
        with slim.variable_scope('Mixed_3a'):
            with slim.variable_scope('Branch_0'):
                branch_0 = slim.max_pool2d(
                    net,
                    [3, 3],
                    stride=2,
                    padding='VALID',
                    scope='MaxPool_0a_3x3',
                )
            with slim.variable_scope('Branch_1'):
                branch_1 = slim.conv2d(
                    net,
                    96,
                    [3, 3],
                    stride=2,
                    padding='VALID',
                    scope='Conv2d_0a_3x3',
                )
            net = tf.concat([branch_0, branch_1], 3)
        if reached('Mixed_3a', net):
            return net, end_points
        # 73 x 73 x 160
        with slim.variable_scope('Mixed_4a'):
            with slim.variable_scope('Branch_0'):
                branch_0 = slim.conv2d(net, 64, [1, 1], scope='Conv2d_0a_1x1')
                branch_0 = slim.conv2d(
                    branch_0, 96, [3, 3], padding='VALID', scope='Conv2d_1a_3x3'
                )
            with slim.variable_scope('Branch_1'):
                branch_1 = slim.conv2d(net, 64, [1, 1], scope='Conv2d_0a_1x1')
                branch_1 = slim.conv2d(
                    branch_1, 64, [1, 7], scope='Conv2d_0b_1x7'
                )
                branch_1 = slim.conv2d(
                    branch_1, 64, [7, 1], scope='Conv2d_0c_7x1'
                )
                branch_1 = slim.conv2d(
                    branch_1, 96, [3, 3], padding='VALID', scope='Conv2d_1a_3x3'
                )
            net = tf.concat([branch_0, branch_1], 3)
        if reached('Mixed_4a', net):
            return net, end_points
        # 71 x 71 x 192
        with slim.variable_scope('Mixed_5a'):
            with slim.variable_scope('Branch_0'):
                branch_0 = slim.conv2d(
                    net,
                    192,
                    [3, 3],
                    stride=2,
                    padding='VALID',
                    scope='Conv2d_1a_3x3',
                )
            with slim.variable_scope('Branch_1'):
                branch_1 = slim.max_pool2d(
                    net,
                    [3, 3],
                    stride=2,
                    padding='VALID',
                    scope='MaxPool_1a_3x3',
                )
            net = tf.concat([branch_0, branch_1], 3)
        if reached('Mixed_5a', net):
            return net, end_points
        # 35 x 35 x 384

        for end_point in ('Mixed_5b', 'Mixed_5c', 'Mixed_5d', 'Mixed_5e'):
            net = block_inception_a(net, end_point)
            if reached(end_point, net):
                return net, end_points
            # 35 x 35 x 384
        net = block_reduction_a(net, 'Mixed_6a')
        if reached('Mixed_6a', net):
            return net, end_points
        # 17 x 17 x 1024
        for end_point in (
            'Mixed_6b',
            'Mixed_6c',
            'Mixed_6d',
            'Mixed_6e',
            'Mixed_6f',
            'Mixed_6g',
            'Mixed_6h',
        ):
            net = block_inception_b(net, end_point)
            if reached(end_point, net):
                return net, end_points
            # 17 x 17 x 1024
        net = block_reduction_b(net, 'Mixed_7a')
        if reached('Mixed_7a', net):
            return net, end_points
        # 8 x 8 x 1536
        for end_point in ('Mixed_7b', 'Mixed_7c', 'Mixed_7d'):
            net = block_inception_c(net, end_point)
            if reached(end_point, net):
                return net, end_points
            # 8 x 8 x 1536
    raise AssertionError('unreachable: final_endpoint was checked')


def _aux_logits(mixed_6h, num_classes):
    """The auxiliary classifier on Mixed_6h, which regularises training."""
    height, width = mixed_6h.shape[1:3]
    if height is None or width is None:
        raise ValueError(
            'the auxiliary head needs a known input height and width (its '
            'kernel is the size of the feature map), got Mixed_6h of shape {}; '
            'pass inputs of static size or create_aux_logits=False.'.format(
                mixed_6h.shape
            )
        )
    if height < 5 or width < 5:
        raise ValueError(
            'inputs are too small for the auxiliary head: Mixed_6h is {}x{}, its '
            '5x5 pool needs at least 5x5 (inputs of at least 107x107); pass '
            'larger inputs or create_aux_logits=False.'.format(height, width)
        )
    with slim.variable_scope('AuxLogits'):
        # 17 x 17 x 1024
        aux = slim.avg_pool2d(
            mixed_6h, [5, 5], stride=3, padding='VALID', scope='AvgPool_1a_5x5'
        )
        # 5 x 5 x 1024
        aux = slim.conv2d(aux, 128, [1, 1], scope='Conv2d_1b_1x1')
        # 5 x 5 x 128; the kernel covers the whole map, whatever its size.
        aux = slim.conv2d(
            aux,
            768,
            aux.shape[1:3].as_list(),
            padding='VALID',
            scope='Conv2d_2a',
        )
        # 1 x 1 x 768
        aux = slim.flatten(aux)
        return slim.fully_connected(
            aux, num_classes, activation_fn=None, scope='Aux_logits'
        )
