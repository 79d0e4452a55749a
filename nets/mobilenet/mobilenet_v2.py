"""MobileNet v2, variable for variable research/slim's.

"MobileNetV2: Inverted Residuals and Linear Bottlenecks", Sandler, Howard,
Zhu, Zhmoginov and Chen, https://arxiv.org/abs/1801.04381.

The net is `V2_DEF`, data for the generic builder in `mobilenet.py`: a 3x3
convolution, 17 inverted residual blocks (`expanded_conv`, ...,
`expanded_conv_16`) and a 1x1 convolution to 1280 channels (`Conv_1`), then
the global pool and the logits. Variables are named as in the published
checkpoints (`mobilenet_v2_1.0_224.ckpt`, `mobilenet_v2_1.4_224.ckpt`, ...):
`MobilenetV2/Conv/weights`, `MobilenetV2/expanded_conv_1/expand/weights`,
`.../depthwise/depthwise_weights`, `.../project/BatchNorm/moving_mean`,
`MobilenetV2/Logits/Conv2d_1c_1x1/biases`.

    model = slim.Model(mobilenet_v2.mobilenet, num_classes=1001)
    with slim.arg_scope(mobilenet_v2.training_scope(is_training=False)):
      logits, end_points = model(images)

The width variants are the same function with other defaults:
`mobilenet_v2_140` (depth multiplier 1.4), `mobilenet_v2_050` and
`mobilenet_v2_035` (0.5 and 0.35, keeping the last layer's 1280 channels).
"""

import copy
import functools

import tensorflow as tf

import slim
from nets.mobilenet import conv_blocks as ops
from nets.mobilenet import mobilenet as lib

op = lib.op
expand_input = ops.expand_input_by_factor

# Shapes below for a 224 x 224 input.
V2_DEF = dict(
    defaults={
        # Batch norm's scale changes the variables, so it is part of the
        # architecture here, not of the training scope.
        (slim.batch_norm,): {'center': True, 'scale': True},
        (slim.conv2d, slim.fully_connected, slim.separable_conv2d): {
            'normalizer_fn': slim.batch_norm,
            'activation_fn': tf.nn.relu6,
        },
        (ops.expanded_conv,): {
            'expansion_size': expand_input(6),
            'split_expansion': 1,
            'normalizer_fn': slim.batch_norm,
            'residual': True,
        },
        (slim.conv2d, slim.separable_conv2d): {'padding': 'SAME'},
    },
    spec=[
        op(slim.conv2d, stride=2, num_outputs=32, kernel_size=[3, 3]),
        # 112 x 112 x 32; no expansion in the first block.
        op(
            ops.expanded_conv,
            expansion_size=expand_input(1, divisible_by=1),
            num_outputs=16,
        ),
        op(ops.expanded_conv, stride=2, num_outputs=24),  # 56 x 56
        op(ops.expanded_conv, stride=1, num_outputs=24),
        op(ops.expanded_conv, stride=2, num_outputs=32),  # 28 x 28
        op(ops.expanded_conv, stride=1, num_outputs=32),
        op(ops.expanded_conv, stride=1, num_outputs=32),
        op(ops.expanded_conv, stride=2, num_outputs=64),  # 14 x 14
        op(ops.expanded_conv, stride=1, num_outputs=64),
        op(ops.expanded_conv, stride=1, num_outputs=64),
        op(ops.expanded_conv, stride=1, num_outputs=64),
        op(ops.expanded_conv, stride=1, num_outputs=96),
        op(ops.expanded_conv, stride=1, num_outputs=96),
        op(ops.expanded_conv, stride=1, num_outputs=96),
        op(ops.expanded_conv, stride=2, num_outputs=160),  # 7 x 7
        op(ops.expanded_conv, stride=1, num_outputs=160),
        op(ops.expanded_conv, stride=1, num_outputs=160),
        op(ops.expanded_conv, stride=1, num_outputs=320),
        op(slim.conv2d, stride=1, kernel_size=[1, 1], num_outputs=1280),
    ],
)


@slim.add_arg_scope
def mobilenet(
    input_tensor,
    num_classes=1001,
    depth_multiplier=1.0,
    scope='MobilenetV2',
    conv_defs=None,
    finegrain_classification_mode=False,
    min_depth=None,
    divisible_by=None,
    activation_fn=None,
    **kwargs,
):
    """MobileNet v2 (inference mode unless built under `training_scope()`).

    Args:
      input_tensor: [batch, height, width, 3].
      num_classes: the number of classes; 0 or None returns the pooled
        features, [batch, 1, 1, 1280].
      depth_multiplier: scales the depth of every layer.
      scope: the variable scope.
      conv_defs: the conv def, `V2_DEF` by default.
      finegrain_classification_mode: keep the last layer's depth when
        `depth_multiplier` < 1 (better for ImageNet-size problems). Ignored
        when `final_endpoint` stops the net earlier.
      min_depth: if given, every layer has at least that many channels.
      divisible_by: if given, every layer's depth is a multiple of this.
      activation_fn: the activation instead of `tf.nn.relu6`.
      **kwargs: passed to `mobilenet.mobilenet`: `prediction_fn`, `reuse`,
        `is_training`, `base_only`, `final_endpoint`, `output_stride`,
        `use_explicit_padding`, `use_reduce_mean_for_pooling`.

    Returns:
      (logits, end points), see `mobilenet.mobilenet`.

    Raises:
      ValueError: for `multiplier=` (use `depth_multiplier`), a
        `depth_multiplier` that is not positive, and as
        `mobilenet.mobilenet`.
    """
    if conv_defs is None:
        conv_defs = V2_DEF
    if 'multiplier' in kwargs:
        raise ValueError(
            'mobilenet_v2.mobilenet: got multiplier=%r; use '
            'depth_multiplier= instead' % (kwargs['multiplier'],)
        )
    if not depth_multiplier > 0:
        raise ValueError(
            'mobilenet_v2.mobilenet: depth_multiplier must be greater '
            'than 0, got %r' % (depth_multiplier,)
        )
    if finegrain_classification_mode:
        conv_defs = copy.deepcopy(conv_defs)
        if depth_multiplier < 1:
            # Divided here, multiplied back by the builder: unchanged.
            conv_defs['spec'][-1].params['num_outputs'] /= depth_multiplier
    if activation_fn:
        conv_defs = copy.deepcopy(conv_defs)
        defaults = conv_defs['defaults']
        defaults[(slim.conv2d, slim.fully_connected, slim.separable_conv2d)][
            'activation_fn'
        ] = activation_fn
    # Only what is given: the arg scope may set these defaults too.
    depth_args = {}
    if min_depth is not None:
        depth_args['min_depth'] = min_depth
    if divisible_by is not None:
        depth_args['divisible_by'] = divisible_by
    with slim.arg_scope((lib.depth_multiplier,), **depth_args):
        return lib.mobilenet(
            input_tensor,
            num_classes=num_classes,
            conv_defs=conv_defs,
            scope=scope,
            multiplier=depth_multiplier,
            **kwargs,
        )


mobilenet.default_image_size = 224


def wrapped_partial(func, *args, **kwargs):
    """`functools.partial(func, ...)` that keeps `func`'s name, docstring and
    `default_image_size`."""
    partial_func = functools.partial(func, *args, **kwargs)
    functools.update_wrapper(partial_func, func)
    return partial_func


# The fine-grained variants keep the 1280-channel last layer below 1.0.
mobilenet_v2_140 = wrapped_partial(mobilenet, depth_multiplier=1.4)
mobilenet_v2_050 = wrapped_partial(
    mobilenet, depth_multiplier=0.50, finegrain_classification_mode=True
)
mobilenet_v2_035 = wrapped_partial(
    mobilenet, depth_multiplier=0.35, finegrain_classification_mode=True
)


@slim.add_arg_scope
def mobilenet_base(input_tensor, depth_multiplier=1.0, **kwargs):
    """MobileNet v2 without the pool and the logits: (the last layer's
    output, end points)."""
    return mobilenet(
        input_tensor,
        depth_multiplier=depth_multiplier,
        base_only=True,
        **kwargs,
    )


def training_scope(**kwargs):
    """MobileNet v2's arg scope: `mobilenet.training_scope(**kwargs)`
    (`is_training`, `weight_decay`, `stddev`, `dropout_keep_prob`,
    `bn_decay`)."""
    return lib.training_scope(**kwargs)


__all__ = ['training_scope', 'mobilenet_base', 'mobilenet', 'V2_DEF']
