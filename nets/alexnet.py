"""AlexNet version 2, variable for variable the net of TF-Slim's model zoo.

The net of "One weird trick for parallelizing convolutional neural networks",
Krizhevsky, 2014 (http://arxiv.org/abs/1404.5997): the one-GPU AlexNet
without local response normalisation, its fully connected layers written as
convolutions. Entry points, arguments, end points and variable names are
TF-Slim's (research/slim):

    model = slim.Model(alexnet.alexnet_v2, num_classes=1000)
    with slim.arg_scope(alexnet.alexnet_v2_arg_scope()):
      logits, end_points = model(images, is_training=False)

Being convolutional throughout, the net runs on images larger than 224 x 224
with spatial_squeeze=False (a map of logits) or global_pool=True (one
prediction). The shape comments are for a 224 x 224 input.
"""

import tensorflow as tf

import slim


def alexnet_v2_arg_scope(weight_decay=0.0005):
    """The AlexNet arg scope: ReLU, an L2 penalty, biases starting at 0.1.

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
        biases_initializer=tf.constant_initializer(0.1),
        weights_regularizer=slim.l2_regularizer(weight_decay),
    ):
        with slim.arg_scope([slim.conv2d], padding='SAME'):
            with slim.arg_scope([slim.max_pool2d], padding='VALID') as scope:
                return scope


def alexnet_v2(
    inputs,
    num_classes=1000,
    is_training=True,
    dropout_keep_prob=0.5,
    spatial_squeeze=True,
    scope='alexnet_v2',
    global_pool=False,
):
    """AlexNet version 2.

    Args:
      inputs: a tensor of shape [batch_size, height, width, channels].
      num_classes: the number of classes. If 0 or None, fc8 is omitted and the
        fc7 features (after global pooling if global_pool) are returned.
      is_training: whether dropout drops.
      dropout_keep_prob: the fraction of fc6 and fc7 activations retained in
        training.
      spatial_squeeze: if True, logits have shape [B, C]; if False,
        [B, H, W, C] (H = W = 1 at 224 x 224 or with global_pool).
      scope: the variable scope.
      global_pool: if True, fc7's output is averaged over the whole feature
        map, so any input of at least 195 x 195 gives 1 x 1 logits.

    Returns:
      net: the logits, or the features when num_classes is 0 or None.
      end_points: a dict from end point name to tensor: '<scope>/conv1',
        '<scope>/pool1', ..., '<scope>/pool5', '<scope>/fc6', '<scope>/fc7',
        then 'global_pool' (if global_pool) and '<scope>/fc8' (if
        num_classes).
    """
    with slim.variable_scope(scope, 'alexnet_v2', [inputs]) as sc:
        end_points = {}

        def add(name, net):
            end_points[sc.name + '/' + name] = net
            return net

        # 224 x 224 x 3
        net = add(
            'conv1',
            slim.conv2d(
                inputs, 64, [11, 11], 4, padding='VALID', scope='conv1'
            ),
        )
        # 54 x 54 x 64
        net = add('pool1', slim.max_pool2d(net, [3, 3], 2, scope='pool1'))
        # 26 x 26 x 64
        net = add('conv2', slim.conv2d(net, 192, [5, 5], scope='conv2'))
        # 26 x 26 x 192
        net = add('pool2', slim.max_pool2d(net, [3, 3], 2, scope='pool2'))
        # 12 x 12 x 192
        net = add('conv3', slim.conv2d(net, 384, [3, 3], scope='conv3'))
        # 12 x 12 x 384
        net = add('conv4', slim.conv2d(net, 384, [3, 3], scope='conv4'))
        # 12 x 12 x 384
        net = add('conv5', slim.conv2d(net, 256, [3, 3], scope='conv5'))
        # 12 x 12 x 256
        net = add('pool5', slim.max_pool2d(net, [3, 3], 2, scope='pool5'))
        # 5 x 5 x 256

        # The fully connected layers are convolutions.
        with slim.arg_scope(
            [slim.conv2d],
            weights_initializer=slim.truncated_normal_initializer(stddev=0.005),
            biases_initializer=tf.constant_initializer(0.1),
        ):
            net = add(
                'fc6',
                slim.conv2d(net, 4096, [5, 5], padding='VALID', scope='fc6'),
            )
            # 1 x 1 x 4096
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


alexnet_v2.default_image_size = 224
