"""ResNet v1, variable for variable the nets of TF-Slim's model zoo.

  [1] He, Zhang, Ren, Sun. Deep Residual Learning for Image Recognition.
      arXiv:1512.03385, 2015.
  [2] He, Zhang, Ren, Sun. Identity Mappings in Deep Residual Networks.
      arXiv:1603.05027, 2016.

The residual units are the bottleneck units of [1] (Fig. 1a of [2]): batch
norm *after* every convolution, projection shortcuts only where the depth
grows. These are the nets of MSRA's ImageNet and COCO 2016 entries.

The entry points, their arguments, the end points and every variable name and
shape are research/slim's, so the released `resnet_v1_50.ckpt` ... (1000
classes) load by name with `slim.assign_from_checkpoint`:

    model = slim.Model(resnet_v1.resnet_v1_50, num_classes=1000)
    with slim.arg_scope(resnet_v1.resnet_arg_scope()):
      logits, end_points = model(images, is_training=False)

For dense prediction (e.g. segmentation into 21 classes), fully
convolutional at output stride 16:

    with slim.arg_scope(resnet_v1.resnet_arg_scope()):
      net, end_points = resnet_v1.resnet_v1_101(
          images, 21, is_training=False, global_pool=False, output_stride=16)

The shape comments are for a 224 x 224 input at the nominal output stride.
"""

import tensorflow as tf

import slim
from nets import resnet_utils

resnet_arg_scope = resnet_utils.resnet_arg_scope


@slim.add_arg_scope
def bottleneck(
    inputs,
    depth,
    depth_bottleneck,
    stride,
    rate=1,
    outputs_collections=None,
    scope=None,
    use_bounded_activations=False,
    end_points=None,
):
    """The bottleneck residual unit of [1]: 1x1, 3x3 and 1x1 convolutions.

    Batch norm follows each convolution (from the arg scope). The shortcut is
    the input, subsampled, when the depth does not change, and a strided 1x1
    projection otherwise. Between two blocks, the stride is in the last unit
    of the first.

    Args:
      inputs: a tensor [batch, height, width, channels].
      depth: the depth of the unit's output.
      depth_bottleneck: the depth of the 1x1 and 3x3 bottleneck convolutions.
      stride: the unit's stride, applied by its 3x3 convolution and its
        shortcut.
      rate: the atrous rate of the 3x3 convolution.
      outputs_collections: accepted as TF-Slim's; the end points are recorded
        in `end_points`.
      scope: the unit's scope; 'bottleneck_v1' by default.
      use_bounded_activations: if True, ReLU6 replaces the ReLUs after the
        shortcut's projection and the sum, and the residual is clipped to
        [-6, 6]; bounded activations quantize better.
      end_points: an optional dict to which the outputs of the convolutions
        and of the unit are added under their scope names.

    Returns:
      The unit's output [batch, height / stride, width / stride, depth].

    Raises:
      ValueError: if the inputs' number of channels is not known.
    """
    del outputs_collections
    with slim.variable_scope(scope, 'bottleneck_v1', [inputs]) as sc:
        depth_in = resnet_utils.last_dimension(inputs, sc.name)
        if depth == depth_in:
            shortcut = resnet_utils.subsample(inputs, stride, 'shortcut')
        else:
            shortcut = resnet_utils.add_end_point(
                end_points,
                sc.name + '/shortcut',
                slim.conv2d(
                    inputs,
                    depth,
                    [1, 1],
                    stride=stride,
                    activation_fn=(
                        tf.nn.relu6 if use_bounded_activations else None
                    ),
                    scope='shortcut',
                ),
            )
        residual = resnet_utils.add_end_point(
            end_points,
            sc.name + '/conv1',
            slim.conv2d(
                inputs, depth_bottleneck, [1, 1], stride=1, scope='conv1'
            ),
        )
        residual = resnet_utils.add_end_point(
            end_points,
            sc.name + '/conv2',
            resnet_utils.conv2d_same(
                residual, depth_bottleneck, 3, stride, rate=rate, scope='conv2'
            ),
        )
        residual = resnet_utils.add_end_point(
            end_points,
            sc.name + '/conv3',
            slim.conv2d(
                residual,
                depth,
                [1, 1],
                stride=1,
                activation_fn=None,
                scope='conv3',
            ),
        )
        if use_bounded_activations:
            residual = tf.clip_by_value(residual, -6.0, 6.0)
            output = tf.nn.relu6(shortcut + residual)
        else:
            output = tf.nn.relu(shortcut + residual)
        return resnet_utils.add_end_point(end_points, sc.name, output)


def resnet_v1(
    inputs,
    blocks,
    num_classes=None,
    is_training=True,
    global_pool=True,
    output_stride=None,
    include_root_block=True,
    spatial_squeeze=True,
    store_non_strided_activations=False,
    reuse=None,
    scope=None,
):
    """A ResNet v1 of any blocks: the root, the blocks and the classifier.

    Classifiers are trained on 224 x 224 images, whose last block is 7 x 7 at
    the nominal output stride of 32. For dense prediction, run the net fully
    convolutionally (`global_pool=False`), preferably on inputs of a multiple
    of 32 plus 1 pixels (e.g. 321 x 321): the output is then
    [(height - 1) / output_stride + 1, (width - 1) / output_stride + 1] with
    its corners on the input's corners. `output_stride=16` gives denser
    features at a small cost (http://arxiv.org/abs/1606.00915).

    Args:
      inputs: a tensor [batch, height, width, channels].
      blocks: a list of `resnet_utils.Block`s, e.g. from `resnet_v1_block`.
      num_classes: the number of classes; if 0 or None, the net ends with the
        last block (after the global pool if `global_pool`) and has no logits
        layer.
      is_training: whether batch norm uses batch statistics and updates its
        moving ones. If None, batch norm's `is_training` is left to the
        enclosing arg scope.
      global_pool: if True, the last block is averaged over height and width
        before the logits (classification); if False the net stays fully
        convolutional (dense prediction).
      output_stride: None for the nominal stride (32 with the root block), or
        the stride to reach with atrous convolution (a multiple of 4 with the
        root block); see `resnet_utils.stack_blocks_dense`.
      include_root_block: whether to start with the 7x7 convolution of stride
        2 and the 3x3 max pool of stride 2.
      spatial_squeeze: if True (and num_classes), logits are [batch,
        num_classes]; else [batch, 1, 1, num_classes] with the global pool (or
        the spatial size of the last block without it).
      store_non_strided_activations: if True, each block's end point is
        computed before the block's last stride, at 4x the cost of its last
        unit; see `resnet_utils.stack_blocks_dense`.
      reuse: whether the variables of `scope` are reused.
      scope: the variable scope; 'resnet_v1' by default.

    Returns:
      net: the logits [batch, num_classes] (or [batch, height_out, width_out,
        num_classes] without spatial squeeze); if num_classes is 0 or None,
        the output of the last block [batch, height_out, width_out, channels],
        where height_out = width_out = 1 with `global_pool`.
      end_points: a dict from end point name to tensor, in the order they are
        built: the root's '<scope>/conv1', each unit's '.../shortcut' (where
        projected), '.../conv1', '.../conv2', '.../conv3' and its own output
        '<scope>/block1/unit_1/bottleneck_v1', each block's '<scope>/block1',
        then 'global_pool', '<scope>/logits', '<scope>/spatial_squeeze' and
        'predictions' as built.

    Raises:
      ValueError: if `output_stride` is not None and cannot be reached (with
        the root block: is not a multiple of 4).
    """
    with slim.variable_scope(scope, 'resnet_v1', [inputs], reuse=reuse) as sc:
        end_points = {}
        with resnet_utils.batch_norm_mode(is_training):
            net = inputs
            if include_root_block:
                output_stride = resnet_utils.root_output_stride(output_stride)
                # 224 x 224 x 3
                net = resnet_utils.add_end_point(
                    end_points,
                    sc.name + '/conv1',
                    resnet_utils.conv2d_same(
                        net, 64, 7, stride=2, scope='conv1'
                    ),
                )
                # 112 x 112 x 64
                net = slim.max_pool2d(net, [3, 3], stride=2, scope='pool1')
                # 56 x 56 x 64
            net = resnet_utils.stack_blocks_dense(
                net,
                blocks,
                output_stride,
                store_non_strided_activations=store_non_strided_activations,
                end_points=end_points,
            )
            # With the standard blocks (each stride in a block's last unit):
            # block1 28 x 28 x 256, block2 14 x 14 x 512, block3 7 x 7 x 1024,
            # block4 7 x 7 x 2048
            return resnet_utils.classifier(
                net,
                end_points,
                sc.name,
                num_classes,
                global_pool,
                spatial_squeeze,
            )


resnet_v1.default_image_size = 224


def resnet_v1_block(scope, base_depth, num_units, stride):
    """A block of `num_units` v1 bottleneck units, the last with `stride`.

    Each unit's bottleneck is `base_depth` deep and its output
    `4 * base_depth`.

    Returns:
      A `resnet_utils.Block`.
    """
    return resnet_utils.bottleneck_block(
        bottleneck, scope, base_depth, num_units, stride
    )


def resnet_v1_50(
    inputs,
    num_classes=None,
    is_training=True,
    global_pool=True,
    output_stride=None,
    spatial_squeeze=True,
    store_non_strided_activations=False,
    min_base_depth=8,
    depth_multiplier=1,
    reuse=None,
    scope='resnet_v1_50',
):
    """ResNet-50 of [1]: 3, 4, 6 and 3 units. Arguments as `resnet_v1`'s, and

    depth_multiplier: multiplies the depth of every unit; the bottlenecks stay
      at least `min_base_depth` deep.
    """
    return _resnet_v1_of_depth(
        50,
        inputs,
        num_classes,
        is_training,
        global_pool,
        output_stride,
        spatial_squeeze,
        store_non_strided_activations,
        min_base_depth,
        depth_multiplier,
        reuse,
        scope,
    )


def resnet_v1_101(
    inputs,
    num_classes=None,
    is_training=True,
    global_pool=True,
    output_stride=None,
    spatial_squeeze=True,
    store_non_strided_activations=False,
    min_base_depth=8,
    depth_multiplier=1,
    reuse=None,
    scope='resnet_v1_101',
):
    """ResNet-101 of [1]: 3, 4, 23 and 3 units. Arguments as `resnet_v1_50`'s."""
    return _resnet_v1_of_depth(
        101,
        inputs,
        num_classes,
        is_training,
        global_pool,
        output_stride,
        spatial_squeeze,
        store_non_strided_activations,
        min_base_depth,
        depth_multiplier,
        reuse,
        scope,
    )


def resnet_v1_152(
    inputs,
    num_classes=None,
    is_training=True,
    global_pool=True,
    output_stride=None,
    spatial_squeeze=True,
    store_non_strided_activations=False,
    min_base_depth=8,
    depth_multiplier=1,
    reuse=None,
    scope='resnet_v1_152',
):
    """ResNet-152 of [1]: 3, 8, 36 and 3 units. Arguments as `resnet_v1_50`'s."""
    return _resnet_v1_of_depth(
        152,
        inputs,
        num_classes,
        is_training,
        global_pool,
        output_stride,
        spatial_squeeze,
        store_non_strided_activations,
        min_base_depth,
        depth_multiplier,
        reuse,
        scope,
    )


def resnet_v1_200(
    inputs,
    num_classes=None,
    is_training=True,
    global_pool=True,
    output_stride=None,
    spatial_squeeze=True,
    store_non_strided_activations=False,
    min_base_depth=8,
    depth_multiplier=1,
    reuse=None,
    scope='resnet_v1_200',
):
    """ResNet-200 of [2]: 3, 24, 36 and 3 units. Arguments as `resnet_v1_50`'s."""
    return _resnet_v1_of_depth(
        200,
        inputs,
        num_classes,
        is_training,
        global_pool,
        output_stride,
        spatial_squeeze,
        store_non_strided_activations,
        min_base_depth,
        depth_multiplier,
        reuse,
        scope,
    )


for _fn in (resnet_v1_50, resnet_v1_101, resnet_v1_152, resnet_v1_200):
    _fn.default_image_size = resnet_v1.default_image_size
del _fn


def _resnet_v1_of_depth(
    depth,
    inputs,
    num_classes,
    is_training,
    global_pool,
    output_stride,
    spatial_squeeze,
    store_non_strided_activations,
    min_base_depth,
    depth_multiplier,
    reuse,
    scope,
):
    if not depth_multiplier > 0:
        raise ValueError(
            'depth_multiplier must be greater than zero (it multiplies the depth '
            'of every unit), got {!r}.'.format(depth_multiplier)
        )
    blocks = resnet_utils.standard_blocks(
        resnet_v1_block,
        resnet_utils.UNITS_PER_BLOCK[depth],
        lambda d: max(int(d * depth_multiplier), min_base_depth),
    )
    return resnet_v1(
        inputs,
        blocks,
        num_classes,
        is_training,
        global_pool=global_pool,
        output_stride=output_stride,
        include_root_block=True,
        spatial_squeeze=spatial_squeeze,
        store_non_strided_activations=store_non_strided_activations,
        reuse=reuse,
        scope=scope,
    )
