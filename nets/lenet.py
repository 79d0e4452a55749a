"""LeNet, as TF-Slim's model zoo (research/slim) defines it.

A small convolutional net for 28 x 28 digits (MNIST): two 5x5 conv + 2x2 max
pool stages, a 1024-unit fully connected layer, dropout and the logits. Its
variables (`LeNet/conv1/weights`, ..., `LeNet/fc4/biases`) are TF-Slim's.
"""

import tensorflow as tf

import slim


def lenet(
    images,
    num_classes=10,
    is_training=False,
    dropout_keep_prob=0.5,
    prediction_fn=slim.softmax,
    scope='LeNet',
):
    """Builds LeNet.

    The logits are unbounded; `end_points['Predictions']` holds
    `prediction_fn(logits)` (the softmax by default).

    Args:
      images: a tensor of shape [batch_size, height, width, channels].
      num_classes: the number of classes. If 0 or None, the logits layer is
        omitted and the fc3 features (before dropout) are returned instead.
      is_training: whether dropout drops.
      dropout_keep_prob: the fraction of the fc3 activations retained.
      prediction_fn: turns logits into `end_points['Predictions']`.
      scope: the variable scope.

    Returns:
      net: the logits [batch_size, num_classes], or the fc3 features
        [batch_size, 1024] if num_classes is 0 or None.
      end_points: a dict from 'conv1', 'pool1', 'conv2', 'pool2', 'Flatten',
        'fc3', 'dropout3', 'Logits', 'Predictions' to the tensors.
    """
    end_points = {}
    with slim.variable_scope(scope, 'LeNet', [images]):
        # 28 x 28 x 1
        net = end_points['conv1'] = slim.conv2d(
            images, 32, [5, 5], scope='conv1'
        )
        # 28 x 28 x 32
        net = end_points['pool1'] = slim.max_pool2d(
            net, [2, 2], 2, scope='pool1'
        )
        # 14 x 14 x 32
        net = end_points['conv2'] = slim.conv2d(net, 64, [5, 5], scope='conv2')
        # 14 x 14 x 64
        net = end_points['pool2'] = slim.max_pool2d(
            net, [2, 2], 2, scope='pool2'
        )
        # 7 x 7 x 64
        net = end_points['Flatten'] = slim.flatten(net)
        # 3136
        net = end_points['fc3'] = slim.fully_connected(net, 1024, scope='fc3')
        # 1024
        if not num_classes:
            return net, end_points
        net = end_points['dropout3'] = slim.dropout(
            net, dropout_keep_prob, is_training=is_training, scope='dropout3'
        )
        logits = end_points['Logits'] = slim.fully_connected(
            net, num_classes, activation_fn=None, scope='fc4'
        )
    if prediction_fn:
        end_points['Predictions'] = prediction_fn(logits, scope='Predictions')
    return logits, end_points


lenet.default_image_size = 28


def lenet_arg_scope(weight_decay=0.0):
    """Returns LeNet's arg scope.

    Args:
      weight_decay: the L2 penalty on conv and fully connected weights.

    Returns:
      An arg scope dict, to enter with `slim.arg_scope(...)`.
    """
    with slim.arg_scope(
        [slim.conv2d, slim.fully_connected],
        weights_regularizer=slim.l2_regularizer(weight_decay),
        weights_initializer=slim.truncated_normal_initializer(stddev=0.1),
        activation_fn=tf.nn.relu,
    ) as scope:
        return scope
