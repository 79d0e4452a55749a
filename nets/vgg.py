"""The Oxford VGG nets A (11 layers), D (16) and E (19) of TF-Slim's model zoo.

"Very Deep Convolutional Networks For Large-Scale Image Recognition",
Simonyan and Zisserman, http://arxiv.org/abs/1409.1556.

The three nets differ only in how many 3x3 convolutions each of the five
blocks repeats, so one builder makes all of them from a list of block specs.
Entry points, arguments, end points and variable names are TF-Slim's
(research/slim), so the released `vgg_16.ckpt` and `vgg_19.ckpt` load by name
with `slim.assign_from_checkpoint`:

    model = slim.Model(vgg.vgg_16, num_classes=1000)
    with slim.arg_scope(vgg.vgg_arg_scope()):
      logits, end_points = model(images, is_training=False)

The fully connected layers are convolutions (fc6 a 7x7 one, fc7 and fc8 1x1),
so the net also runs fully convolutionally on larger images with
spatial_squeeze=False. The shape comments are for a 224 x 224 input.
"""

import collections

import tensorflow as tf

import slim

# One block of the trunk: `repeats` 3x3 convolutions of `channels` channels
# named `<name>/<name>_1` ... `<name>/<name>_<repeats>`, then a 2x2 max pool
# named `pool<i>`.
BlockSpec = collections.namedtuple('BlockSpec', ['name', 'repeats', 'channels'])


def _blocks(repeats):
    channels = (64, 128, 256, 512, 512)
    return tuple(
        BlockSpec('conv%d' % (i + 1), n, c)
        for i, (n, c) in enumerate(zip(repeats, channels))
    )


# The block specs of each variant, as in the paper's table 1.
VGG_A_BLOCKS = _blocks((1, 1, 2, 2, 2))
VGG_16_BLOCKS = _blocks((2, 2, 3, 3, 3))
VGG_19_BLOCKS = _blocks((2, 2, 4, 4, 4))


def vgg_arg_scope(weight_decay=0.0005):
    """The VGG arg scope: ReLU, an L2 penalty, zero biases, 'SAME' convs.

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
        with slim.arg_scope([slim.conv2d], padding='SAME') as scope:
            return scope


def vgg(
    inputs,
    blocks,
    num_classes=1000,
    is_training=True,
    dropout_keep_prob=0.5,
    spatial_squeeze=True,
    reuse=None,
    scope=None,
    fc_conv_padding='VALID',
    global_pool=False,
    default_scope='vgg',
):
    """Builds a VGG net from `blocks`, a sequence of `BlockSpec`s.

    `vgg_a`, `vgg_16` and `vgg_19` are this with their block specs; the other
    arguments are theirs.

    Returns:
      net: the logits, or the fc7 features (global-pooled if global_pool) when
        num_classes is 0 or None.
      end_points: a dict from end point name to tensor, for every convolution
        and pool of the trunk ('<scope>/conv1/conv1_1', ..., '<scope>/pool5'),
        then '<scope>/fc6', '<scope>/fc7', 'global_pool' (if global_pool) and
        '<scope>/fc8' (if num_classes).
    """
    with slim.variable_scope(scope, default_scope, [inputs], reuse=reuse) as sc:
        end_points = {}

        def add(name, net):
            end_points[sc.name + '/' + name] = net
            return net

        net = inputs
        # 224 x 224 x 3
        for i, block in enumerate(blocks):
            with slim.variable_scope(block.name):
                for j in range(block.repeats):
                    layer = '%s_%d' % (block.name, j + 1)
                    net = add(
                        block.name + '/' + layer,
                        slim.conv2d(net, block.channels, [3, 3], scope=layer),
                    )
            pool = 'pool%d' % (i + 1)
            net = add(pool, slim.max_pool2d(net, [2, 2], scope=pool))
        # 112 x 112 x 64, 56 x 56 x 128, 28 x 28 x 256, 14 x 14 x 512, then
        # 7 x 7 x 512 after the five blocks.

        # The fully connected layers are convolutions.
        net = add(
            'fc6',
            slim.conv2d(
                net, 4096, [7, 7], padding=fc_conv_padding, scope='fc6'
            ),
        )
        # 1 x 1 x 4096
        net = slim.dropout(
            net, dropout_keep_prob, is_training=is_training, scope='dropout6'
        )
        net = add('fc7', slim.conv2d(net, 4096, [1, 1], scope='fc7'))
        # 1 x 1 x 4096
        if global_pool:
            net = tf.reduce_mean(net, [1, 2], keepdims=True, name='global_pool')
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
                scope='fc8',
            )
            if spatial_squeeze:
                net = tf.squeeze(net, [1, 2], name='fc8/squeezed')
            # num_classes
            add('fc8', net)
        return net, end_points


def vgg_a(
    inputs,
    num_classes=1000,
    is_training=True,
    dropout_keep_prob=0.5,
    spatial_squeeze=True,
    reuse=None,
    scope='vgg_a',
    fc_conv_padding='VALID',
    global_pool=False,
):
    """VGG 11-layer net, configuration A.

    Args:
      inputs: a tensor of shape [batch_size, height, width, channels].
      num_classes: the number of classes. If 0 or None, fc8 is omitted and the
        fc7 features (after global pooling if global_pool) are returned.
      is_training: whether dropout drops.
      dropout_keep_prob: the fraction of fc6 and fc7 activations retained in
        training.
      spatial_squeeze: if True, logits have shape [B, C]; if False,
        [B, H, W, C] (H = W = 1 at 224 x 224 or with global_pool).
      reuse: whether the variables of `scope` are reused.
      scope: the variable scope.
      fc_conv_padding: the padding of fc6, a 7x7 convolution. 'VALID' gives
        (input / 32) - 6 outputs per side, 'SAME' input / 32: use 'SAME' to run
        the net fully convolutionally on any input size.
      global_pool: if True, fc7's output is averaged over the whole feature
        map, so any input size gives 1 x 1 logits (not part of the original
        net).

    Returns:
      net: the logits, or the features when num_classes is 0 or None.
      end_points: a dict from end point name to its tensor.
    """
    return vgg(
        inputs,
        VGG_A_BLOCKS,
        num_classes,
        is_training,
        dropout_keep_prob,
        spatial_squeeze,
        reuse,
        scope,
        fc_conv_padding,
        global_pool,
        default_scope='vgg_a',
    )


vgg_a.default_image_size = 224


def vgg_16(
    inputs,
    num_classes=1000,
    is_training=True,
    dropout_keep_prob=0.5,
    spatial_squeeze=True,
    reuse=None,
    scope='vgg_16',
    fc_conv_padding='VALID',
    global_pool=False,
):
    """VGG 16-layer net, configuration D; arguments and returns as `vgg_a`."""
    return vgg(
        inputs,
        VGG_16_BLOCKS,
        num_classes,
        is_training,
        dropout_keep_prob,
        spatial_squeeze,
        reuse,
        scope,
        fc_conv_padding,
        global_pool,
        default_scope='vgg_16',
    )


vgg_16.default_image_size = 224


def vgg_19(
    inputs,
    num_classes=1000,
    is_training=True,
    dropout_keep_prob=0.5,
    spatial_squeeze=True,
    reuse=None,
    scope='vgg_19',
    fc_conv_padding='VALID',
    global_pool=False,
):
    """VGG 19-layer net, configuration E; arguments and returns as `vgg_a`."""
    return vgg(
        inputs,
        VGG_19_BLOCKS,
        num_classes,
        is_training,
        dropout_keep_prob,
        spatial_squeeze,
        reuse,
        scope,
        fc_conv_padding,
        global_pool,
        default_scope='vgg_19',
    )


vgg_19.default_image_size = 224

# The paper's names for the configurations.
vgg_d = vgg_16
vgg_e = vgg_19
