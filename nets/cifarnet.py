"""CifarNet, as TF-Slim's model zoo (research/slim) defines it.

A variant of the CIFAR-10 net of the TensorFlow tutorial for 32 x 32 colour
images: two 5x5 conv stages with max pooling and local response
normalisation, fully connected layers of 384 and 192 units and the logits.
Its variables (`CifarNet/conv1/weights`, ..., `CifarNet/logits/biases`) are
TF-Slim's.
"""

import tensorflow as tf

import slim


def cifarnet(
    images,
    num_classes=10,
    is_training=False,
    dropout_keep_prob=0.5,
    prediction_fn=slim.softmax,
    scope='CifarNet',
):
    """Builds CifarNet.

    The logits are unbounded; `end_points['Predictions']` holds
    `prediction_fn(logits)` (the softmax by default).

    Args:
      images: a tensor of shape [batch_size, height, width, channels].
      num_classes: the number of classes. If 0 or None, the logits layer is
        omitted and the fc4 features are returned instead.
      is_training: whether dropout drops.
      dropout_keep_prob: the fraction of the fc3 activations retained.
      prediction_fn: turns logits into `end_points['Predictions']`.
      scope: the variable scope.

    Returns:
      net: the logits [batch_size, num_classes], or the fc4 features
        [batch_size, 192] if num_classes is 0 or None.
      end_points: a dict from 'conv1', 'pool1', 'conv2', 'pool2', 'Flatten',
        'fc3', 'fc4', 'Logits', 'Predictions' to the tensors.
    """
    end_points = {}
    with slim.variable_scope(scope, 'CifarNet', [images]):
        # 32 x 32 x 3
        net = end_points['conv1'] = slim.conv2d(
            images, 64, [5, 5], scope='conv1'
        )
        # 32 x 32 x 64
        net = end_points['pool1'] = slim.max_pool2d(
            net, [2, 2], 2, scope='pool1'
        )
        # 16 x 16 x 64
        net = _lrn(net, name='norm1')
        net = end_points['conv2'] = slim.conv2d(net, 64, [5, 5], scope='conv2')
        # 16 x 16 x 64
        net = _lrn(net, name='norm2')
        net = end_points['pool2'] = slim.max_pool2d(
            net, [2, 2], 2, scope='pool2'
        )
        # 8 x 8 x 64
        net = end_points['Flatten'] = slim.flatten(net)
        # 4096
        net = end_points['fc3'] = slim.fully_connected(net, 384, scope='fc3')
        net = slim.dropout(
            net, dropout_keep_prob, is_training=is_training, scope='dropout3'
        )
        net = end_points['fc4'] = slim.fully_connected(net, 192, scope='fc4')
        if not num_classes:
            return net, end_points
        # The logits are linear, start at zero bias and are not weight-decayed,
        # whatever the arg scope says.
        logits = end_points['Logits'] = slim.fully_connected(
            net,
            num_classes,
            biases_initializer=tf.zeros_initializer(),
            weights_initializer=slim.truncated_normal_initializer(
                stddev=1 / 192.0
            ),
            weights_regularizer=None,
            activation_fn=None,
            scope='logits',
        )
        if prediction_fn:
            end_points['Predictions'] = prediction_fn(
                logits, scope='Predictions'
            )
    return logits, end_points


cifarnet.default_image_size = 32


def cifarnet_arg_scope(weight_decay=0.004):
    """Returns CifarNet's arg scope.

    Args:
      weight_decay: the L2 penalty on the fully connected weights (the
        convolutions are not decayed, as in TF-Slim).

    Returns:
      An arg scope dict, to enter with `slim.arg_scope(...)`.
    """
    with slim.arg_scope(
        [slim.conv2d],
        weights_initializer=slim.truncated_normal_initializer(stddev=5e-2),
        activation_fn=tf.nn.relu,
    ):
        with slim.arg_scope(
            [slim.fully_connected],
            biases_initializer=tf.constant_initializer(0.1),
            weights_initializer=slim.truncated_normal_initializer(stddev=0.04),
            weights_regularizer=slim.l2_regularizer(weight_decay),
            activation_fn=tf.nn.relu,
        ) as scope:
            return scope


def _lrn(net, name):
    """Local response normalisation with CifarNet's constants.

    TensorFlow has no bfloat16 LRN kernel on CPU, so bfloat16 (mixed
    precision) activations are normalised in float32 and cast back.
    """
    dtype = net.dtype
    if dtype == tf.bfloat16:
        net = tf.cast(net, tf.float32)
    net = tf.nn.local_response_normalization(
        net, depth_radius=4, bias=1.0, alpha=0.001 / 9.0, beta=0.75, name=name
    )
    return tf.cast(net, dtype)
