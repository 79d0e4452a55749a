"""Inception-v1 (GoogLeNet), variable for variable the net of TF-Slim's zoo.

"Going deeper with convolutions", Szegedy, Liu, Jia, Sermanet, Reed,
Anguelov, Erhan, Vanhoucke and Rabinovich, http://arxiv.org/abs/1409.4842.
As TF-Slim's, the net has batch norm after every convolution (the paper has
none) and no auxiliary heads.

The entry points, their arguments, the end points and every variable name and
shape are TF-Slim's (research/slim), so the released `inception_v1.ckpt`
(1001 classes) loads by name with `slim.assign_from_checkpoint`:

    model = slim.Model(inception_v1.inception_v1, num_classes=1001)
    with slim.arg_scope(inception_v1.inception_v1_arg_scope()):
      logits, end_points = model(images, is_training=False)

The shape comments are for a 224 x 224 input.
"""

import collections

import tensorflow as tf

import slim
from nets import inception_utils

# The end points of `inception_v1_base`, in the order they are built; any of
# them is a valid `final_endpoint`.
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

# The end points of the root block, left out with include_root_block=False.
ROOT_END_POINTS = BASE_END_POINTS[:5]

# The channels of an Inception module's branches: a 1x1 convolution; a 1x1
# then a 3x3; a 1x1 then another 3x3 (a 5x5 in the paper); a 3x3 max pool
# then a 1x1. The module outputs their concatenation.
ModuleSpec = collections.namedtuple(
    'ModuleSpec',
    [
        'branch_0',
        'branch_1_1x1',
        'branch_1_3x3',
        'branch_2_1x1',
        'branch_2_3x3',
        'branch_3',
    ],
)

MODULES = {
    'Mixed_3b': ModuleSpec(64, 96, 128, 16, 32, 32),
    'Mixed_3c': ModuleSpec(128, 128, 192, 32, 96, 64),
    'Mixed_4b': ModuleSpec(192, 96, 208, 16, 48, 64),
    'Mixed_4c': ModuleSpec(160, 112, 224, 24, 64, 64),
    'Mixed_4d': ModuleSpec(128, 128, 256, 24, 64, 64),
    'Mixed_4e': ModuleSpec(112, 144, 288, 32, 64, 64),
    'Mixed_4f': ModuleSpec(256, 160, 320, 32, 128, 128),
    'Mixed_5b': ModuleSpec(256, 160, 320, 32, 128, 128),
    'Mixed_5c': ModuleSpec(384, 192, 384, 48, 128, 128),
}

inception_v1_arg_scope = inception_utils.inception_arg_scope


def inception_v1_base(
    inputs,
    final_endpoint='Mixed_5c',
    include_root_block=True,
    scope='InceptionV1',
):
    """Builds Inception-v1 from the inputs up to `final_endpoint`.

    Args:
      inputs: a tensor of shape [batch_size, height, width, channels].
      final_endpoint: the end point to build the net up to, one of
        `BASE_END_POINTS` ('Conv2d_1a_7x7' ... 'Mixed_5c'), but not one of
        `ROOT_END_POINTS` when include_root_block is False.
      include_root_block: if True, the convolutions and pools before the first
        Inception module ('Conv2d_1a_7x7' ... 'MaxPool_3a_3x3') are built; if
        False, `inputs` goes straight into 'Mixed_3b'.
      scope: the variable scope.

    Returns:
      net: the tensor of `final_endpoint`.
      end_points: a dict from end point name to its tensor, for every end point
        built.

    Raises:
      ValueError: if final_endpoint is not a valid end point.
    """
    _check_final_endpoint(final_endpoint, include_root_block)
    with slim.variable_scope(scope, 'InceptionV1', [inputs]):
        return _base(inputs, final_endpoint, include_root_block)


def inception_v1(
    inputs,
    num_classes=1000,
    is_training=True,
    dropout_keep_prob=0.8,
    prediction_fn=slim.softmax,
    spatial_squeeze=True,
    reuse=None,
    scope='InceptionV1',
    global_pool=False,
):
    """Inception-v1 classifier: the base, an average pool and the logits.

    With the default arguments this is the net trained at 224 x 224
    (`inception_v1.default_image_size`); the fixed 7 x 7 pool needs inputs of
    at least 193 x 193 (global_pool=True takes any input down to 1 x 1).

    Args:
      inputs: a tensor of shape [batch_size, height, width, channels].
      num_classes: the number of classes. If 0 or None, the logits layer is
        omitted and the pooled features (before dropout) are returned instead
        of logits.
      is_training: whether batch norm uses batch statistics (and updates its
        moving averages) and dropout drops.
      dropout_keep_prob: the fraction of the pre-logits activations retained.
      prediction_fn: turns logits into `end_points['Predictions']`.
      spatial_squeeze: if True, logits have shape [B, C]; if False,
        [B, 1, 1, C].
      reuse: whether the variables of `scope` are reused.
      scope: the variable scope.
      global_pool: if True, the features are averaged over the whole feature
        map (any input size gives 1 x 1); if False, by a fixed 7 x 7 window.

    Returns:
      logits: the pre-softmax activations, [batch_size, num_classes], or the
        pooled features [batch_size, 1, 1, 1024] when num_classes is 0 or None.
      end_points: a dict from end point name to its tensor: the base's, then
        'AvgPool_0a_7x7' (or 'global_pool'), 'Logits' and 'Predictions'.

    Raises:
      ValueError: if the input is too small for the 7 x 7 pool.
    """
    with slim.variable_scope(scope, 'InceptionV1', [inputs], reuse=reuse):
        with slim.arg_scope(
            [slim.batch_norm, slim.dropout], is_training=is_training
        ):
            net, end_points = _base(inputs, 'Mixed_5c', include_root_block=True)
            with slim.variable_scope('Logits'):
                if global_pool:
                    net = tf.reduce_mean(
                        net, [1, 2], keepdims=True, name='global_pool'
                    )
                    end_points['global_pool'] = net
                else:
                    _check_pool_fits(net, 7)
                    net = slim.avg_pool2d(
                        net, [7, 7], stride=1, scope='AvgPool_0a_7x7'
                    )
                    end_points['AvgPool_0a_7x7'] = net
                if not num_classes:
                    return net, end_points
                # 1 x 1 x 1024
                net = slim.dropout(net, dropout_keep_prob, scope='Dropout_0b')
                logits = slim.conv2d(
                    net,
                    num_classes,
                    [1, 1],
                    activation_fn=None,
                    normalizer_fn=None,
                    scope='Conv2d_0c_1x1',
                )
                if spatial_squeeze:
                    logits = tf.squeeze(logits, [1, 2], name='SpatialSqueeze')
                # num_classes
                end_points['Logits'] = logits
                end_points['Predictions'] = prediction_fn(
                    logits, scope='Predictions'
                )
    return logits, end_points


inception_v1.default_image_size = 224


def _check_final_endpoint(final_endpoint, include_root_block):
    valid = (
        BASE_END_POINTS
        if include_root_block
        else BASE_END_POINTS[len(ROOT_END_POINTS) :]
    )
    inception_utils.check_final_endpoint(final_endpoint, valid)


def _check_pool_fits(net, size):
    height, width = net.shape[1:3]
    if (height is not None and height < size) or (
        width is not None and width < size
    ):
        raise ValueError(
            'inputs are too small for the {0}x{0} average pool: Mixed_5c is '
            '{1}x{2} (inputs of at least 193x193 give 7x7); pass larger inputs '
            'or global_pool=True.'.format(size, height, width)
        )


def _base(inputs, final_endpoint, include_root_block):
    """Builds the end points up to `final_endpoint` in the current scope.

    Shared by `inception_v1_base` and `inception_v1`, each of which opens the
    'InceptionV1' scope itself.
    """
    end_points = {}

    def reached(end_point, net):
        end_points[end_point] = net
        return end_point == final_endpoint

    with slim.arg_scope(
        [slim.conv2d, slim.fully_connected],
        weights_initializer=slim.truncated_normal_initializer(stddev=0.01),
    ):
        with slim.arg_scope(
            [slim.conv2d, slim.max_pool2d], stride=1, padding='SAME'
        ):
            net = inputs
            if include_root_block:
                # 224 x 224 x 3
                net = slim.conv2d(
                    net, 64, [7, 7], stride=2, scope='Conv2d_1a_7x7'
                )
                if reached('Conv2d_1a_7x7', net):
                    return net, end_points
                # 112 x 112 x 64
                net = slim.max_pool2d(
                    net, [3, 3], stride=2, scope='MaxPool_2a_3x3'
                )
                if reached('MaxPool_2a_3x3', net):
                    return net, end_points
                # 56 x 56 x 64
                net = slim.conv2d(net, 64, [1, 1], scope='Conv2d_2b_1x1')
                if reached('Conv2d_2b_1x1', net):
                    return net, end_points
                # 56 x 56 x 64
                net = slim.conv2d(net, 192, [3, 3], scope='Conv2d_2c_3x3')
                if reached('Conv2d_2c_3x3', net):
                    return net, end_points
                # 56 x 56 x 192
                net = slim.max_pool2d(
                    net, [3, 3], stride=2, scope='MaxPool_3a_3x3'
                )
                if reached('MaxPool_3a_3x3', net):
                    return net, end_points
            # 28 x 28 x 192
            for end_point in ('Mixed_3b', 'Mixed_3c'):
                net = _module(net, end_point)
                if reached(end_point, net):
                    return net, end_points
            # 28 x 28 x 256, then 28 x 28 x 480
            net = slim.max_pool2d(net, [3, 3], stride=2, scope='MaxPool_4a_3x3')
            if reached('MaxPool_4a_3x3', net):
                return net, end_points
            # 14 x 14 x 480
            for end_point in (
                'Mixed_4b',
                'Mixed_4c',
                'Mixed_4d',
                'Mixed_4e',
                'Mixed_4f',
            ):
                net = _module(net, end_point)
                if reached(end_point, net):
                    return net, end_points
            # 14 x 14 x 512, 512, 512, 528, then 14 x 14 x 832
            net = slim.max_pool2d(net, [2, 2], stride=2, scope='MaxPool_5a_2x2')
            if reached('MaxPool_5a_2x2', net):
                return net, end_points
            # 7 x 7 x 832
            for end_point in ('Mixed_5b', 'Mixed_5c'):
                net = _module(net, end_point)
                if reached(end_point, net):
                    return net, end_points
            # 7 x 7 x 832, then 7 x 7 x 1024
    return net, end_points


def _module(net, end_point):
    """An Inception module with the channels of `MODULES[end_point]`."""
    spec = MODULES[end_point]
    # Mixed_5b's second 3x3 was named irregularly when the net was trained.
    branch_2_3x3 = (
        'Conv2d_0a_3x3' if end_point == 'Mixed_5b' else ('Conv2d_0b_3x3')
    )
    with slim.variable_scope(end_point):
        with slim.variable_scope('Branch_0'):
            branch_0 = slim.conv2d(
                net, spec.branch_0, [1, 1], scope='Conv2d_0a_1x1'
            )
        with slim.variable_scope('Branch_1'):
            branch_1 = slim.conv2d(
                net, spec.branch_1_1x1, [1, 1], scope='Conv2d_0a_1x1'
            )
            branch_1 = slim.conv2d(
                branch_1, spec.branch_1_3x3, [3, 3], scope='Conv2d_0b_3x3'
            )
        with slim.variable_scope('Branch_2'):
            branch_2 = slim.conv2d(
                net, spec.branch_2_1x1, [1, 1], scope='Conv2d_0a_1x1'
            )
            branch_2 = slim.conv2d(
                branch_2, spec.branch_2_3x3, [3, 3], scope=branch_2_3x3
            )
        with slim.variable_scope('Branch_3'):
            branch_3 = slim.max_pool2d(net, [3, 3], scope='MaxPool_0a_3x3')
            branch_3 = slim.conv2d(
                branch_3, spec.branch_3, [1, 1], scope='Conv2d_0b_1x1'
            )
        return tf.concat([branch_0, branch_1, branch_2, branch_3], 3)
