"""OverFeat (the fast model), variable for variable the net of TF-Slim's zoo.

"OverFeat: Integrated Recognition, Localization and Detection using
Convolutional Networks", Sermanet, Eigen, Zhang, Mathieu, Fergus and LeCun,
2014, http://arxiv.org/abs/1312.6229.

Entry points, arguments, end points and variable names are TF-Slim's
(research/slim):

    model = slim.Model(overfeat.overfeat, num_classes=1000)
    with slim.arg_scope(overfeat.overfeat_arg_scope()):
      logits, end_points = model(images, is_training=False)

The fully connected layers are convolutions, so larger images give a map of
logits with spatial_squeeze=False. The shape comments are for a 231 x 231
input.
"""

import tensorflow as tf

import slim


def overfeat_arg_scope(weight_decay=0.0005):
    """The OverFeat arg scope: ReLU, an L2 penalty, zero biases.

    Convolutions pad 'SAME' and max pools 'VALID' unless a layer says
    otherwise.

    Args:
      weight_decay: the L2 penalty on conv and fully connected weights.

    Returns:
      An arg scope dict, to enter with `slim.arg_scope(...)`.
    """
    with slim.arg_scope(
        [slim.conv2d, slim.fully_connected],
        activation_fn=tf.nn.relu,
        weights_regularizer=slim.l2_regularizer(weight_decay),
        biases_initializer=tf.zeros_initializer(),
    ):
        with slim.arg_scope([slim.conv2d], padding='SAME'):
            with slim.arg_scope([slim.max_pool2d], padding='VALID') as scope:
                return scope


def overfeat(
    inputs,
    num_classes=1000,
    is_training=True,
    dropout_keep_prob=0.5,
    spatial_squeeze=True,
    scope='overfeat',
    global_pool=False,
):
    """OverFeat, the fast model.

    Args:
      inputs: a tensor of shape [batch_size, height, width, channels].
      num_classes: the number of classes. If 0 or None, fc8 is omitted and the
        fc7 features (after global pooling if global_pool) are returned.
      is_training: whether dropout drops.
      dropout_keep_prob: the fraction of fc6 and fc7 activations retained in
        training.
      spatial_squeeze: if True, logits have shape [B, C]; if False,
        [B, H, W, C] (H = W = 1 at 231 x 231 or with global_pool).
      scope: the variable scope.
      global_pool: if True, fc7's output is averaged over the whole feature
        map, so any input of at least 231 x 231 gives 1 x 1 logits (not part
        of the original OverFeat).

    Returns:
      net: the logits, or the features when num_classes is 0 or None.
      end_points: a dict from end point name to tensor: '<scope>/conv1',
        '<scope>/pool1', ..., '<scope>/pool5', '<scope>/fc6', '<scope>/fc7',
        then 'global_pool' (if global_pool) and '<scope>/fc8' (if
        num_classes).
    """
    with slim.variable_scope(scope, 'overfeat', [inputs]) as sc:
        end_points = {}

        def add(name, net):
            end_points[sc.name + '/' + name] = net
            return net

        # 231 x 231 x 3
        net = add(
            'conv1',
            slim.conv2d(
                inputs, 64, [11, 11], 4, padding='VALID', scope='conv1'
            ),
        )
        # 56 x 56 x 64
        net = add('pool1', slim.max_pool2d(net, [2, 2], scope='pool1'))
        # 28 x 28 x 64
        net = add(
            'conv2',
            slim.conv2d(net, 256, [5, 5], padding='VALID', scope='conv2'),
        )
        # 24 x 24 x 256
        net = add('pool2', slim.max_pool2d(net, [2, 2], scope='pool2'))
        # 12 x 12 x 256
        net = add('conv3', slim.conv2d(net, 512, [3, 3], scope='conv3'))
        # 12 x 12 x 512
        net = add('conv4', slim.conv2d(net, 1024, [3, 3], scope='conv4'))
        # 12 x 12 x 1024
        net = add('conv5', slim.conv2d(net, 1024, [3, 3], scope='conv5'))
        # 12 x 12 x 1024
        net = add('pool5', slim.max_pool2d(net, [2, 2], scope='pool5'))
        # 6 x 6 x 1024

        # The fully connected layers are convolutions.
        with slim.arg_scope(
            [slim.conv2d],
            weights_initializer=slim.truncated_normal_initializer(stddev=0.005),
            biases_initializer=tf.constant_initializer(0.1),
        ):
            net = add(
                'fc6',
                slim.conv2d(net, 3072, [6, 6], padding='VALID', scope='fc6'),
            )
            # 1 x 1 x 3072
            net = slim.dropout(
                net,
                dropout_keep_prob,
                is_training=is_training,
                scope='dropout6',
            )
            net = add('fc7', slim.conv2d(net, 4096, [1, 1], scope='fc7'))
            # 1 x 1 x 4096
            if global_pool:
                net = tf.reduce_mean(
                    net, [1, 2], keepdims=True, name='global_pool'
                )
                end_points['global_pool'] = net
            if num_classes:
                net = slim.dropout(
                    net,
                    dropout_keep_prob,
                    is_training=is_training,
                    scope='dropout7',
                )
                net = slim.conv2d(
                    net,
                    num_classes,
                    [1, 1],
                    activation_fn=None,
                    normalizer_fn=None,
                    biases_initializer=tf.zeros_initializer(),
                    scope='fc8',
                )
                if spatial_squeeze:
                    net = tf.squeeze(net, [1, 2], name='fc8/squeezed')
                # num_classes
                add('fc8', net)
        return net, end_points


overfeat.default_image_size = 231
