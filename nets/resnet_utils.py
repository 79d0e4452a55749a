"""What the ResNet v1 and v2 nets share: blocks as data, the stacking of
blocks with a chosen output stride (atrous convolution), and the arg scope.

A ResNet is a root (a 7x7 convolution and a max pool) and a list of blocks;
a block is a list of residual units with the same unit function, each given
as a dict of arguments (`depth`, `depth_bottleneck`, `stride`). So a ResNet
of any depth is a few lines of data:

    blocks = [
        Block('block1', bottleneck, [dict(depth=256, depth_bottleneck=64,
                                          stride=1)] * 2 +
                                    [dict(depth=256, depth_bottleneck=64,
                                          stride=2)]),
        ...
    ]
    net = stack_blocks_dense(net, blocks, output_stride=16)

The nets of the paper subsample in the *last* unit of a block, not the first
(which gives the same results with less memory), as TF-Slim does; their
variable names follow the `block<i>/unit_<j>/<unit scope>` pattern, so the
released model-zoo checkpoints load by name.

Papers:
  [1] He, Zhang, Ren, Sun. Deep Residual Learning for Image Recognition.
      arXiv:1512.03385, 2015.
  [2] He, Zhang, Ren, Sun. Identity Mappings in Deep Residual Networks.
      arXiv:1603.05027, 2016.
"""

import collections
import contextlib
import inspect

import tensorflow as tf

import slim

# The number of units in the four blocks of the ResNets of [1] and [2], by
# depth (the number of layers with weights: 3 per unit, the root's and the
# logits').
UNITS_PER_BLOCK = {
    50: (3, 4, 6, 3),
    101: (3, 4, 23, 3),
    152: (3, 8, 36, 3),
    200: (3, 24, 36, 3),
}


class Block(collections.namedtuple('Block', ['scope', 'unit_fn', 'args'])):
    """A block of residual units, as data.

    scope: the block's variable scope, e.g. 'block1'.
    unit_fn: the residual unit, `unit_fn(net, rate=..., **args[i])`, e.g.
      `resnet_v1.bottleneck`.
    args: one dict of keyword arguments per unit (for the bottleneck units:
      `depth`, `depth_bottleneck`, `stride`).
    """


def subsample(inputs, factor, scope=None):
    """Keeps every `factor`-th row and column of `inputs` (all if factor is 1).

    Args:
      inputs: a tensor [batch, height, width, channels].
      factor: the subsampling factor, a positive int.
      scope: the name of the 1x1 max pool that subsamples.

    Returns:
      `inputs` itself if factor is 1, else [batch, ceil(height / factor),
      ceil(width / factor), channels].
    """
    if factor == 1:
        return inputs
    return slim.max_pool2d(inputs, [1, 1], stride=factor, scope=scope)


def conv2d_same(inputs, num_outputs, kernel_size, stride, rate=1, scope=None):
    """A strided 2-D convolution that pads as a stride-1 'SAME' one would.

    With stride 1 this is `slim.conv2d(..., padding='SAME')`. With a larger
    stride, 'SAME' padding would pad an even-sized input only at the end; here
    the input is padded explicitly on both sides (by the kernel's effective
    extent, counting the atrous rate) and convolved with 'VALID' padding, so
    that

        conv2d_same(x, n, 3, stride=2)

    equals `subsample(slim.conv2d(x, n, 3, stride=1, padding='SAME'), 2)` for
    any input size: the output is aligned with the input's corners.

    Args:
      inputs: a tensor [batch, height, width, channels].
      num_outputs: the number of filters.
      kernel_size: the kernel's height and width, an int.
      stride: the stride, an int.
      rate: the atrous rate, an int.
      scope: the convolution's scope.

    Returns:
      The convolution's output [batch, ceil(height / stride),
      ceil(width / stride), num_outputs].
    """
    if stride == 1:
        return slim.conv2d(
            inputs,
            num_outputs,
            kernel_size,
            stride=1,
            rate=rate,
            padding='SAME',
            scope=scope,
        )
    extent = kernel_size + (kernel_size - 1) * (rate - 1)
    pad_before = (extent - 1) // 2
    pad_after = extent - 1 - pad_before
    inputs = tf.pad(
        inputs,
        [[0, 0], [pad_before, pad_after], [pad_before, pad_after], [0, 0]],
    )
    return slim.conv2d(
        inputs,
        num_outputs,
        kernel_size,
        stride=stride,
        rate=rate,
        padding='VALID',
        scope=scope,
    )


@slim.add_arg_scope
def stack_blocks_dense(
    net,
    blocks,
    output_stride=None,
    store_non_strided_activations=False,
    outputs_collections=None,
    end_points=None,
):
    """Applies the blocks' units in turn, at a chosen output stride.

    Opens the scopes `<block.scope>/unit_<j>` and calls each unit there.

    The output stride is the ratio of the input's resolution to the output's.
    With `output_stride=None` every unit keeps its stride; the output stride
    is then the product of all of them (8 for the four blocks of the ResNets,
    32 with their root). A smaller `output_stride` gives denser
    features, for dense prediction: once the product of the strides so far
    reaches it, the later units run with stride 1 and atrous convolution of
    the rate that keeps their receptive fields, the rate growing by each
    skipped stride (http://arxiv.org/abs/1606.00915).

    Args:
      net: a tensor [batch, height, width, channels].
      blocks: a list of `Block`s.
      output_stride: None for the nominal stride, or the stride to reach: the
        product of the unit strides up to some unit (with strides 1, 2, 1, 3,
        4, 1 that is one of 1, 2, 6, 24; None is then 24).
      store_non_strided_activations: if True, the last unit of each block runs
        with stride 1 and the block's output is subsampled after it is
        recorded, so the block's end point has the resolution before the
        stride (4x the work of that unit). The output of the stack is the same
        when batch norm uses its moving statistics.
      outputs_collections: accepted as TF-Slim's; this library records the
        end points in `end_points` instead.
      end_points: an optional dict; each block's output is added to it under
        the block's scope name (e.g. 'resnet_v1_50/block1'), and it is passed
        on as the `end_points` argument of the units whose function takes
        one (the bottleneck units add their own outputs, e.g.
        'resnet_v1_50/block1/unit_1/bottleneck_v1'); units written for
        TF-Slim, without it, run unchanged.

    Returns:
      The output of the last block, at `output_stride`.

    Raises:
      ValueError: if `output_stride` cannot be reached.
    """
    del outputs_collections
    # The stride of `net` relative to the stack's input, and the atrous rate of
    # the units that run past the output stride.
    current_stride = 1
    rate = 1

    def check_reachable():
        if output_stride is not None and current_stride > output_stride:
            raise _unreachable(output_stride, blocks)

    for block in blocks:
        unit_kwargs = (
            {'end_points': end_points}
            if end_points is not None and _takes_end_points(block.unit_fn)
            else {}
        )
        with slim.variable_scope(block.scope, 'block', [net]) as block_scope:
            block_stride = 1
            for i, unit in enumerate(block.args):
                if store_non_strided_activations and i == len(block.args) - 1:
                    # The block's stride moves from its last unit to after the block.
                    block_stride = unit.get('stride', 1)
                    unit = dict(unit, stride=1)
                with slim.variable_scope('unit_%d' % (i + 1), values=[net]):
                    if (
                        output_stride is not None
                        and current_stride == output_stride
                    ):
                        net = block.unit_fn(
                            net,
                            rate=rate,
                            **dict(unit, stride=1),
                            **unit_kwargs,
                        )
                        rate *= unit.get('stride', 1)
                    else:
                        net = block.unit_fn(net, rate=1, **unit, **unit_kwargs)
                        current_stride *= unit.get('stride', 1)
                        check_reachable()
            if end_points is not None:
                end_points[block_scope.name] = net
            if output_stride is not None and current_stride == output_stride:
                rate *= block_stride
            else:
                net = subsample(net, block_stride)
                current_stride *= block_stride
                check_reachable()

    if output_stride is not None and current_stride != output_stride:
        raise _unreachable(output_stride, blocks)
    return net


def resnet_arg_scope(
    weight_decay=0.0001,
    batch_norm_decay=0.997,
    batch_norm_epsilon=1e-5,
    batch_norm_scale=True,
    activation_fn=tf.nn.relu,
    use_batch_norm=True,
    batch_norm_updates_collections='update_ops',
):
    """Returns the arg scope the ResNets of the model zoo were trained under.

    He-initialised convolutions with an L2 penalty, each followed by batch
    norm (with `gamma`) and ReLU, and 'SAME'-padded max pools (so the root's
    pool aligns features with the image; the paper's code pads with 'VALID').
    The batch-norm defaults suit the released checkpoints, converted from
    https://github.com/KaimingHe/deep-residual-networks; training from scratch
    may want others.

    Args:
      weight_decay: the L2 penalty on the convolution weights.
      batch_norm_decay: the decay of the batch-norm moving averages.
      batch_norm_epsilon: added to the variance in batch norm.
      batch_norm_scale: whether batch norm has a learned `gamma`.
      activation_fn: the activation of the convolutions.
      use_batch_norm: whether the convolutions are batch-normalised (else they
        get biases). ResNet v2's pre-activation batch norms stay.
      batch_norm_updates_collections: TF-Slim's argument, passed on to
        `slim.batch_norm`, which updates its moving statistics in place when
        training whatever the value.

    Returns:
      An arg scope dict, to enter with `slim.arg_scope(...)`.
    """
    batch_norm_params = {
        'decay': batch_norm_decay,
        'epsilon': batch_norm_epsilon,
        'scale': batch_norm_scale,
        'updates_collections': batch_norm_updates_collections,
        'fused': None,
    }
    with slim.arg_scope(
        [slim.conv2d],
        weights_regularizer=slim.l2_regularizer(weight_decay),
        weights_initializer=slim.variance_scaling_initializer(),
        activation_fn=activation_fn,
        normalizer_fn=slim.batch_norm if use_batch_norm else None,
        normalizer_params=batch_norm_params,
    ):
        with slim.arg_scope([slim.batch_norm], **batch_norm_params):
            with slim.arg_scope([slim.max_pool2d], padding='SAME') as scope:
                return scope


def standard_blocks(block_fn, units_per_block, depth_fn=None):
    """The four blocks of the ResNets of [1] and [2], for `units_per_block`.

    Their bottlenecks are 64, 128, 256 and 512 channels deep (times 4 at the
    unit's output) and the last units of the first three blocks have stride
    2: with the root's stride 4, the nominal output stride is 32.

    Args:
      block_fn: `block_fn(scope, base_depth, num_units, stride)` returning a
        `Block`, e.g. `resnet_v1.resnet_v1_block`.
      units_per_block: the number of units of the four blocks, e.g.
        (3, 4, 6, 3) for ResNet-50.
      depth_fn: maps each block's nominal bottleneck depth to the one used;
        the identity by default.

    Returns:
      A list of four `Block`s, 'block1' ... 'block4'.
    """
    depth_fn = depth_fn or (lambda depth: depth)
    return [
        block_fn(
            'block%d' % (i + 1),
            base_depth=depth_fn(base_depth),
            num_units=num_units,
            stride=stride,
        )
        for i, (base_depth, num_units, stride) in enumerate(
            zip((64, 128, 256, 512), units_per_block, (2, 2, 2, 1))
        )
    ]


def bottleneck_block(unit_fn, scope, base_depth, num_units, stride):
    """A `Block` of `num_units` bottleneck units; the last one has `stride`.

    Each unit's bottleneck has `base_depth` channels and its output
    `4 * base_depth`.
    """
    unit = {'depth': base_depth * 4, 'depth_bottleneck': base_depth}
    return Block(
        scope,
        unit_fn,
        [dict(unit, stride=1) for _ in range(num_units - 1)]
        + [dict(unit, stride=stride)],
    )


def root_output_stride(output_stride):
    """The output stride the blocks must reach under the root block (stride 4).

    Raises:
      ValueError: if output_stride is not None or a multiple of 4.
    """
    if output_stride is None:
        return None
    if output_stride % 4 != 0:
        raise ValueError(
            'output_stride must be a multiple of 4 (the stride of the root block), '
            'got {!r}.'.format(output_stride)
        )
    return output_stride // 4


def add_end_point(end_points, name, value):
    """Adds `value` to `end_points` (unless it is None) as `name`.

    Returns:
      `value`, so that `net = add_end_point(end_points, name, layer(...))`.
    """
    if end_points is not None:
        end_points[name] = value
    return value


def batch_norm_mode(is_training):
    """An arg scope setting batch norm's `is_training`, or, if it is None, a
    context that leaves it to the enclosing arg scope."""
    if is_training is None:
        return contextlib.nullcontext()
    return slim.arg_scope([slim.batch_norm], is_training=is_training)


def classifier(
    net, end_points, scope_name, num_classes, global_pool, spatial_squeeze
):
    """The head of ResNet v1 and v2: global average pool and 1x1 logits.

    Adds 'global_pool', '<scope_name>/logits', '<scope_name>/spatial_squeeze'
    and 'predictions' to `end_points`, as far as they are built.

    Returns:
      (net, end_points): the logits, or without classes the (pooled)
      features.
    """
    if global_pool:
        net = tf.reduce_mean(net, [1, 2], keepdims=True, name='pool5')
        end_points['global_pool'] = net
        # 1 x 1 x channels
    if num_classes:
        net = slim.conv2d(
            net,
            num_classes,
            [1, 1],
            activation_fn=None,
            normalizer_fn=None,
            scope='logits',
        )
        end_points[scope_name + '/logits'] = net
        if spatial_squeeze:
            net = tf.squeeze(net, [1, 2], name='SpatialSqueeze')
            end_points[scope_name + '/spatial_squeeze'] = net
        # num_classes
        end_points['predictions'] = slim.softmax(net, scope='predictions')
    return net, end_points


def last_dimension(inputs, scope_name):
    """The static number of channels of `inputs`.

    Raises:
      ValueError: naming `scope_name`, if it is not known.
    """
    channels = inputs.shape[-1]
    if channels is None:
        raise ValueError(
            '{}: the number of channels of the inputs must be known (it decides '
            'the shortcut), got shape {}.'.format(scope_name, inputs.shape)
        )
    return channels


def _takes_end_points(unit_fn):
    try:
        parameters = inspect.signature(unit_fn).parameters.values()
    except (TypeError, ValueError):  # a builtin or C function
        return False
    return any(
        p.name == 'end_points' or p.kind == p.VAR_KEYWORD for p in parameters
    )


def _unreachable(output_stride, blocks):
    reachable = [1]
    for block in blocks:
        for unit in block.args:
            stride = reachable[-1] * unit.get('stride', 1)
            if stride != reachable[-1]:
                reachable.append(stride)
    return ValueError(
        'output_stride {!r} cannot be reached by the blocks: it must be None '
        'or one of {} (the products of their first unit strides; a net with '
        'the root block multiplies these by 4).'.format(
            output_stride, reachable
        )
    )
