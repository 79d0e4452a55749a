"""MobileNet v3 (large, small, minimalistic) and MobileNet EdgeTPU, variable
for variable research/slim's.

"Searching for MobileNetV3", Howard, Sandler, Chu, Chen, Chen, Tan, Wang,
Zhu, Pang, Vasudevan, Le and Adam, https://arxiv.org/abs/1905.02244.

Each net is a conv def for the generic builder in `mobilenet.py`:
`V3_LARGE`, `V3_SMALL` (inverted residual blocks, some with
squeeze-and-excite, hard swish in the deeper half, then a 1x1 convolution,
a 7x7 average pool and a 1x1 convolution without batch norm before the
logits), `V3_LARGE_MINIMALISTIC`, `V3_SMALL_MINIMALISTIC` (no
squeeze-and-excite, no hard swish, 3x3 kernels only) and `V3_EDGETPU`
(fused 3x3 expansions instead of depthwise convolutions in the early
blocks, ReLU throughout). Variables are named as in the published
checkpoints: `MobilenetV3/Conv/weights`,
`MobilenetV3/expanded_conv_3/squeeze_excite/Conv/biases`,
`MobilenetV3/Conv_2/weights`, `MobilenetEdgeTPU/expanded_conv_1/expand/...`.

The entry points are one function, `mobilenet`, and its variants with other
defaults: `large`, `small`, `large_minimalistic`, `small_minimalistic`,
`edge_tpu` and `edge_tpu_075`.
"""

import copy
import functools

import tensorflow as tf

import slim
from nets.mobilenet import conv_blocks as ops
from nets.mobilenet import mobilenet as lib

op = lib.op
expand_input = ops.expand_input_by_factor


def hard_swish(x):
    """`x * relu6(x + 3) / 6`, the paper's h-swish."""
    with tf.name_scope('hard_swish'):
        return x * tf.nn.relu6(x + 3.0) * (1.0 / 6.0)


def hard_sigmoid_gate(x):
    """`relu6(x + 3) * 0.16667`: the squeeze-and-excite gate of the
    checkpoints (0.16667, not 1/6)."""
    return tf.nn.relu6(x + 3.0) * 0.16667


# Squeeze-and-excite as v3 uses it: a quarter of the channels, ReLU inside,
# a hard sigmoid gate.
squeeze_excite = functools.partial(
    ops.squeeze_excite,
    squeeze_factor=4,
    inner_activation_fn=tf.nn.relu,
    gating_fn=hard_sigmoid_gate,
)


def _se4(expansion_tensor, input_tensor):
    """`squeeze_excite` as an `expansion_transform` of `expanded_conv`."""
    del input_tensor
    return squeeze_excite(expansion_tensor)


def reduce_to_1x1(input_tensor, default_size=7, **kwargs):
    """An average pool over the whole map if it is a known square, else
    `default_size` x `default_size` (research/slim's behaviour: a 7x7 pool of
    the 224 x 224 training size)."""
    # The builder asks for explicit padding when the op has no kernel_size;
    # a 'VALID' pool needs none.
    kwargs.pop('use_explicit_padding', None)
    height, width = input_tensor.shape.as_list()[1:3]
    if height is not None and width == height:
        kernel_size = [height, height]
    else:
        kernel_size = [default_size, default_size]
    return slim.avg_pool2d(input_tensor, kernel_size=kernel_size, **kwargs)


def mbv3_op(ef, n, k, s=1, act=tf.nn.relu, se=None, **kwargs):
    """One v3 block: an `expanded_conv` op.

    Args:
      ef: the expansion factor.
      n: the output depth.
      k: the depthwise kernel size.
      s: the stride.
      act: the activation of the expansion and depthwise convolutions.
      se: the squeeze-and-excite transform, or None.
      **kwargs: passed to `expanded_conv`.

    Returns:
      The op, for a conv def's spec.
    """
    return op(
        ops.expanded_conv,
        expansion_size=expand_input(ef),
        kernel_size=(k, k),
        stride=s,
        num_outputs=n,
        inner_activation_fn=act,
        expansion_transform=se,
        **kwargs,
    )


def mbv3_fused(ef, n, k, s=1, **kwargs):
    """One EdgeTPU fused block: a k x k (strided) expansion convolution, no
    depthwise convolution, then the projection.

    Args:
      ef: the expansion factor.
      n: the output depth.
      k: the expansion's kernel size.
      s: the stride.
      **kwargs: passed to `mbv3_op`.

    Returns:
      The op, for a conv def's spec.
    """
    expansion_fn = functools.partial(slim.conv2d, kernel_size=k, stride=s)
    return mbv3_op(
        ef,
        n,
        k=1,
        s=s,
        depthwise_location=None,
        expansion_fn=expansion_fn,
        **kwargs,
    )


mbv3_op_se = functools.partial(mbv3_op, se=_se4)

DEFAULTS = {
    (ops.expanded_conv,): dict(normalizer_fn=slim.batch_norm, residual=True),
    (slim.conv2d, slim.fully_connected, slim.separable_conv2d): {
        'normalizer_fn': slim.batch_norm,
        'activation_fn': tf.nn.relu,
    },
    (slim.batch_norm,): {'center': True, 'scale': True},
}

DEFAULTS_GROUP_NORM = {
    (ops.expanded_conv,): dict(normalizer_fn=slim.group_norm, residual=True),
    (slim.conv2d, slim.fully_connected, slim.separable_conv2d): {
        'normalizer_fn': slim.group_norm,
        'activation_fn': tf.nn.relu,
    },
    (slim.group_norm,): {'groups': 8},
}

# Sizes in the comments for a 224 x 224 input.
V3_LARGE = dict(
    defaults=dict(DEFAULTS),
    spec=[
        op(
            slim.conv2d,
            stride=2,
            num_outputs=16,
            kernel_size=(3, 3),
            activation_fn=hard_swish,
        ),  # 112 x 112
        mbv3_op(ef=1, n=16, k=3),
        mbv3_op(ef=4, n=24, k=3, s=2),  # 56 x 56
        mbv3_op(ef=3, n=24, k=3, s=1),
        mbv3_op_se(ef=3, n=40, k=5, s=2),  # 28 x 28
        mbv3_op_se(ef=3, n=40, k=5, s=1),
        mbv3_op_se(ef=3, n=40, k=5, s=1),
        mbv3_op(ef=6, n=80, k=3, s=2, act=hard_swish),  # 14 x 14
        mbv3_op(ef=2.5, n=80, k=3, s=1, act=hard_swish),
        mbv3_op(ef=184 / 80.0, n=80, k=3, s=1, act=hard_swish),
        mbv3_op(ef=184 / 80.0, n=80, k=3, s=1, act=hard_swish),
        mbv3_op_se(ef=6, n=112, k=3, s=1, act=hard_swish),
        mbv3_op_se(ef=6, n=112, k=3, s=1, act=hard_swish),
        mbv3_op_se(ef=6, n=160, k=5, s=2, act=hard_swish),  # 7 x 7
        mbv3_op_se(ef=6, n=160, k=5, s=1, act=hard_swish),
        mbv3_op_se(ef=6, n=160, k=5, s=1, act=hard_swish),
        op(
            slim.conv2d,
            stride=1,
            kernel_size=[1, 1],
            num_outputs=960,
            activation_fn=hard_swish,
        ),
        op(reduce_to_1x1, default_size=7, stride=1, padding='VALID'),
        op(
            slim.conv2d,
            stride=1,
            kernel_size=[1, 1],
            num_outputs=1280,
            normalizer_fn=None,
            activation_fn=hard_swish,
        ),  # 1 x 1
    ],
)

V3_LARGE_MINIMALISTIC = dict(
    defaults=dict(DEFAULTS),
    spec=[
        op(slim.conv2d, stride=2, num_outputs=16, kernel_size=(3, 3)),
        mbv3_op(ef=1, n=16, k=3),
        mbv3_op(ef=4, n=24, k=3, s=2),
        mbv3_op(ef=3, n=24, k=3, s=1),
        mbv3_op(ef=3, n=40, k=3, s=2),
        mbv3_op(ef=3, n=40, k=3, s=1),
        mbv3_op(ef=3, n=40, k=3, s=1),
        mbv3_op(ef=6, n=80, k=3, s=2),
        mbv3_op(ef=2.5, n=80, k=3, s=1),
        mbv3_op(ef=184 / 80.0, n=80, k=3, s=1),
        mbv3_op(ef=184 / 80.0, n=80, k=3, s=1),
        mbv3_op(ef=6, n=112, k=3, s=1),
        mbv3_op(ef=6, n=112, k=3, s=1),
        mbv3_op(ef=6, n=160, k=3, s=2),
        mbv3_op(ef=6, n=160, k=3, s=1),
        mbv3_op(ef=6, n=160, k=3, s=1),
        op(slim.conv2d, stride=1, kernel_size=[1, 1], num_outputs=960),
        op(reduce_to_1x1, default_size=7, stride=1, padding='VALID'),
        op(
            slim.conv2d,
            stride=1,
            kernel_size=[1, 1],
            num_outputs=1280,
            normalizer_fn=None,
        ),
    ],
)

V3_SMALL = dict(
    defaults=dict(DEFAULTS),
    spec=[
        op(
            slim.conv2d,
            stride=2,
            num_outputs=16,
            kernel_size=(3, 3),
            activation_fn=hard_swish,
        ),  # 112 x 112
        mbv3_op_se(ef=1, n=16, k=3, s=2),  # 56 x 56
        mbv3_op(ef=72.0 / 16, n=24, k=3, s=2),  # 28 x 28
        mbv3_op(ef=88.0 / 24, n=24, k=3, s=1),
        mbv3_op_se(ef=4, n=40, k=5, s=2, act=hard_swish),  # 14 x 14
        mbv3_op_se(ef=6, n=40, k=5, s=1, act=hard_swish),
        mbv3_op_se(ef=6, n=40, k=5, s=1, act=hard_swish),
        mbv3_op_se(ef=3, n=48, k=5, s=1, act=hard_swish),
        mbv3_op_se(ef=3, n=48, k=5, s=1, act=hard_swish),
        mbv3_op_se(ef=6, n=96, k=5, s=2, act=hard_swish),  # 7 x 7
        mbv3_op_se(ef=6, n=96, k=5, s=1, act=hard_swish),
        mbv3_op_se(ef=6, n=96, k=5, s=1, act=hard_swish),
        op(
            slim.conv2d,
            stride=1,
            kernel_size=[1, 1],
            num_outputs=576,
            activation_fn=hard_swish,
        ),
        op(reduce_to_1x1, default_size=7, stride=1, padding='VALID'),
        op(
            slim.conv2d,
            stride=1,
            kernel_size=[1, 1],
            num_outputs=1024,
            normalizer_fn=None,
            activation_fn=hard_swish,
        ),  # 1 x 1
    ],
)

V3_SMALL_MINIMALISTIC = dict(
    defaults=dict(DEFAULTS),
    spec=[
        op(slim.conv2d, stride=2, num_outputs=16, kernel_size=(3, 3)),
        mbv3_op(ef=1, n=16, k=3, s=2),
        mbv3_op(ef=72.0 / 16, n=24, k=3, s=2),
        mbv3_op(ef=88.0 / 24, n=24, k=3, s=1),
        mbv3_op(ef=4, n=40, k=3, s=2),
        mbv3_op(ef=6, n=40, k=3, s=1),
        mbv3_op(ef=6, n=40, k=3, s=1),
        mbv3_op(ef=3, n=48, k=3, s=1),
        mbv3_op(ef=3, n=48, k=3, s=1),
        mbv3_op(ef=6, n=96, k=3, s=2),
        mbv3_op(ef=6, n=96, k=3, s=1),
        mbv3_op(ef=6, n=96, k=3, s=1),
        op(slim.conv2d, stride=1, kernel_size=[1, 1], num_outputs=576),
        op(reduce_to_1x1, default_size=7, stride=1, padding='VALID'),
        op(
            slim.conv2d,
            stride=1,
            kernel_size=[1, 1],
            num_outputs=1024,
            normalizer_fn=None,
        ),
    ],
)

# Fused convolutions instead of depthwise ones in the early blocks, which
# the EdgeTPU runs faster; no pool-and-convolve head.
V3_EDGETPU = dict(
    defaults=dict(DEFAULTS),
    spec=[
        op(slim.conv2d, stride=2, num_outputs=32, kernel_size=(3, 3)),
        mbv3_fused(k=3, s=1, ef=1, n=16),  # 112 x 112
        mbv3_fused(k=3, s=2, ef=8, n=32),  # 56 x 56
        mbv3_fused(k=3, s=1, ef=4, n=32),
        mbv3_fused(k=3, s=1, ef=4, n=32),
        mbv3_fused(k=3, s=1, ef=4, n=32),
        mbv3_fused(k=3, s=2, ef=8, n=48),  # 28 x 28
        mbv3_fused(k=3, s=1, ef=4, n=48),
        mbv3_fused(k=3, s=1, ef=4, n=48),
        mbv3_fused(k=3, s=1, ef=4, n=48),
        mbv3_op(k=3, s=2, ef=8, n=96),  # 14 x 14
        mbv3_op(k=3, s=1, ef=4, n=96),
        mbv3_op(k=3, s=1, ef=4, n=96),
        mbv3_op(k=3, s=1, ef=4, n=96),
        mbv3_op(k=3, s=1, ef=8, n=96, residual=False),
        mbv3_op(k=3, s=1, ef=4, n=96),
        mbv3_op(k=3, s=1, ef=4, n=96),
        mbv3_op(k=3, s=1, ef=4, n=96),
        mbv3_op(k=5, s=2, ef=8, n=160),  # 7 x 7
        mbv3_op(k=5, s=1, ef=4, n=160),
        mbv3_op(k=5, s=1, ef=4, n=160),
        mbv3_op(k=5, s=1, ef=4, n=160),
        mbv3_op(k=3, s=1, ef=8, n=192),
        op(slim.conv2d, stride=1, num_outputs=1280, kernel_size=(1, 1)),
    ],
)


@slim.add_arg_scope
def mobilenet(
    input_tensor,
    num_classes=1001,
    depth_multiplier=1.0,
    scope='MobilenetV3',
    conv_defs=None,
    finegrain_classification_mode=False,
    use_groupnorm=False,
    **kwargs,
):
    """MobileNet v3 (large by default).

    Inference mode is created by default; build under `training_scope()` to
    train.

    Args:
      input_tensor: [batch, height, width, 3].
      num_classes: the number of classes; 0 or None returns the pooled
        features.
      depth_multiplier: scales the depth of every layer.
      scope: the variable scope.
      conv_defs: the conv def: `V3_LARGE` (the default), `V3_SMALL`, ...
      finegrain_classification_mode: do not scale the last layer's depth.
        Ignored when `final_endpoint` stops the net earlier.
      use_groupnorm: group norm (`groups=`, 8 by default, in `kwargs`)
        instead of batch norm.
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
        conv_defs = V3_LARGE
    if 'multiplier' in kwargs:
        raise ValueError(
            'mobilenet_v3.mobilenet: got multiplier=%r; use '
            'depth_multiplier= instead' % (kwargs['multiplier'],)
        )
    if not depth_multiplier > 0:
        raise ValueError(
            'mobilenet_v3.mobilenet: depth_multiplier must be greater '
            'than 0, got %r' % (depth_multiplier,)
        )
    if use_groupnorm:
        conv_defs = copy.deepcopy(conv_defs)
        conv_defs['defaults'] = dict(DEFAULTS_GROUP_NORM)
        conv_defs['defaults'][(slim.group_norm,)] = {
            'groups': kwargs.pop('groups', 8)
        }
    if finegrain_classification_mode:
        conv_defs = copy.deepcopy(conv_defs)
        conv_defs['spec'][-1] = conv_defs['spec'][-1]._replace(
            multiplier_func=lambda params, multiplier: params
        )
    return lib.mobilenet(
        input_tensor,
        num_classes=num_classes,
        conv_defs=conv_defs,
        scope=scope,
        multiplier=depth_multiplier,
        **kwargs,
    )


mobilenet.default_image_size = 224
training_scope = lib.training_scope


@slim.add_arg_scope
def mobilenet_base(input_tensor, depth_multiplier=1.0, **kwargs):
    """MobileNet v3 without the pool and the logits: (the last layer's
    output, end points)."""
    return mobilenet(
        input_tensor,
        depth_multiplier=depth_multiplier,
        base_only=True,
        **kwargs,
    )


def wrapped_partial(func, new_defaults=None, **kwargs):
    """`func` with the fixed arguments `kwargs` and the overridable defaults
    `new_defaults`, keeping `func`'s name, docstring and
    `default_image_size`."""
    new_defaults = dict(new_defaults or {})

    def func_wrapper(*f_args, **f_kwargs):
        new_kwargs = dict(new_defaults)
        new_kwargs.update(f_kwargs)
        return func(*f_args, **new_kwargs)

    functools.update_wrapper(func_wrapper, func)
    partial_func = functools.partial(func_wrapper, **kwargs)
    functools.update_wrapper(partial_func, func)
    return partial_func


large = wrapped_partial(mobilenet, conv_defs=V3_LARGE)
small = wrapped_partial(mobilenet, conv_defs=V3_SMALL)
edge_tpu = wrapped_partial(
    mobilenet, new_defaults={'scope': 'MobilenetEdgeTPU'}, conv_defs=V3_EDGETPU
)
edge_tpu_075 = wrapped_partial(
    mobilenet,
    new_defaults={'scope': 'MobilenetEdgeTPU'},
    conv_defs=V3_EDGETPU,
    depth_multiplier=0.75,
    finegrain_classification_mode=True,
)
# Without squeeze-and-excite, hard swish or 5x5 kernels: friendly to most
# hardware.
large_minimalistic = wrapped_partial(mobilenet, conv_defs=V3_LARGE_MINIMALISTIC)
small_minimalistic = wrapped_partial(mobilenet, conv_defs=V3_SMALL_MINIMALISTIC)


__all__ = [
    'training_scope',
    'mobilenet',
    'mobilenet_base',
    'V3_LARGE',
    'V3_SMALL',
    'V3_LARGE_MINIMALISTIC',
    'V3_SMALL_MINIMALISTIC',
    'V3_EDGETPU',
    'large',
    'small',
    'large_minimalistic',
    'small_minimalistic',
    'edge_tpu',
    'edge_tpu_075',
]
