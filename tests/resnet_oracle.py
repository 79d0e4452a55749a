"""What the ResNet tests share: TF-Slim 1.1.0's ResNets (the oracle) built in
a TF1 graph, and the comparison of their end points with ours.

TF-Slim 1.1.0 predates research/slim's last ResNet changes, which ours
follow: the end points 'global_pool' and '<scope>/spatial_squeeze', squeezed
logits by default (1.1.0 returns [batch, 1, 1, classes]) and, for ResNet v1,
`depth_multiplier` and `min_base_depth`, which only scale the bottleneck
depths of the four blocks. The oracle therefore builds the nets with TF-Slim's
generic `resnet_v1`/`resnet_v2` from TF-Slim's own blocks of the scaled
depths (research/slim's variant functions do exactly this), and
`expected_keys` adds research/slim's end points to the oracle's.
"""

import collections

import numpy as np
import tensorflow as tf

from net_oracle import assert_close, random_statistics, write_golden

# The nominal bottleneck depths and strides of the four blocks.
BASE_DEPTHS = (64, 128, 256, 512)
STRIDES = (2, 2, 2, 1)

Oracle = collections.namedtuple(
    'Oracle', ['shapes', 'outputs', 'keys', 'reg_loss', 'statistics']
)
Oracle.__doc__ = """What the oracle computed.

  shapes: {variable name: shape} of every global variable.
  outputs: {end point: value}, and 'net', the tensor the net returned.
  keys: the end point names in TF-Slim's order.
  reg_loss: the sum of the regularization losses.
  statistics: {name: value} of every moving mean and variance after the
    run (updated by the batch norm update ops when training).
"""


def images(size, batch=2, seed=1, height=None):
    rng = np.random.RandomState(seed)
    return rng.uniform(-1, 1, (batch, height or size, size, 3)).astype(
        np.float32
    )


def base_depths(depth_multiplier=1, min_base_depth=8):
    """research/slim's bottleneck depths of the four blocks."""
    return tuple(
        max(int(d * depth_multiplier), min_base_depth) for d in BASE_DEPTHS
    )


def oracle(
    family,
    inputs,
    ckpt_prefix=None,
    units=(3, 4, 6, 3),
    depths=BASE_DEPTHS,
    num_classes=None,
    is_training=False,
    global_pool=True,
    output_stride=None,
    include_root_block=True,
    scope=None,
    weight_decay=0.0001,
    seed=0,
):
    """Builds TF-Slim's ResNet `family` ('v1' or 'v2') of the given blocks in
    a graph, randomises its statistics, saves it to `ckpt_prefix` (if given)
    and runs it on `inputs`, with the batch norm update ops when training.

    Returns:
      An `Oracle`.
    """
    import tf_slim
    from tf_slim.nets import resnet_v1, resnet_v2

    module = resnet_v1 if family == 'v1' else resnet_v2
    block_fn = getattr(module, 'resnet_%s_block' % family)
    blocks = [
        block_fn('block%d' % (i + 1), base_depth=d, num_units=n, stride=s)
        for i, (d, n, s) in enumerate(zip(depths, units, STRIDES))
    ]
    with tf.Graph().as_default():
        tf.compat.v1.set_random_seed(seed)
        placeholder = tf.compat.v1.placeholder(tf.float32, inputs.shape)
        with tf_slim.arg_scope(
            module.resnet_arg_scope(weight_decay=weight_decay)
        ):
            net, end_points = getattr(module, 'resnet_' + family)(
                placeholder,
                blocks,
                num_classes,
                is_training=is_training,
                global_pool=global_pool,
                output_stride=output_stride,
                include_root_block=include_root_block,
                scope=scope,
            )
        variables = tf.compat.v1.global_variables()
        statistics = {
            v.op.name: v
            for v in variables
            if v.op.name.endswith(('moving_mean', 'moving_variance'))
        }
        losses = tf.compat.v1.get_collection(
            tf.compat.v1.GraphKeys.REGULARIZATION_LOSSES
        )
        updates = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)
        with tf.compat.v1.Session() as sess:
            sess.run(
                tf.compat.v1.global_variables_initializer(),
                random_statistics(variables, np.random.RandomState(seed)),
            )
            if ckpt_prefix:
                tf.compat.v1.train.Saver(variables).save(
                    sess, ckpt_prefix, write_meta_graph=False
                )
            outputs, reg_loss, _ = sess.run(
                (
                    dict(end_points, net=net),
                    tf.add_n(losses) if losses else 0.0,
                    updates if is_training else [],
                ),
                {placeholder: inputs},
            )
            statistics = sess.run(statistics)
    return Oracle(
        {v.op.name: v.shape.as_list() for v in variables},
        outputs,
        list(end_points),
        float(reg_loss),
        statistics,
    )


def restored(model, inputs, ckpt_prefix, **kwargs):
    """Builds `model` on `inputs`, restores `ckpt_prefix` into it by name and
    runs it again: returns (net, end_points) as numpy values."""
    import slim

    model(inputs, **kwargs)
    slim.assign_from_checkpoint(
        slim.get_variables_to_restore(model), ckpt_prefix
    )
    net, end_points = model(inputs, **kwargs)
    return net.numpy(), {k: v.numpy() for k, v in end_points.items()}


def expected_keys(
    theirs, scope, num_classes, global_pool, spatial_squeeze=True
):
    """TF-Slim 1.1.0's end point names with research/slim's added, in
    research/slim's order: the trunk's, then 'global_pool', the logits,
    'spatial_squeeze' and 'predictions' as built."""
    head = (scope + '/logits', 'predictions')
    keys = [k for k in theirs if k not in head]
    if global_pool:
        keys.append('global_pool')
    if num_classes:
        keys.append(scope + '/logits')
        if spatial_squeeze:
            keys.append(scope + '/spatial_squeeze')
        keys.append('predictions')
    return keys


def assert_matches(
    ours_net, ours, theirs, scope, num_classes, global_pool, spatial_squeeze
):
    """Our end points (names, order and values) and output against the
    oracle's; research/slim's additions against what they must equal."""
    assert list(ours) == expected_keys(
        theirs.keys, scope, num_classes, global_pool, spatial_squeeze
    )
    for name in theirs.keys:
        value = ours[name]
        if name == 'predictions' and spatial_squeeze:
            value = value.reshape(theirs.outputs[name].shape)
        assert_close(value, theirs.outputs[name], name)
    net = theirs.outputs['net']
    if num_classes:
        assert_close(ours[scope + '/logits'], net, 'logits')
        if spatial_squeeze:
            net = net[:, 0, 0]
            assert_close(
                ours[scope + '/spatial_squeeze'], net, 'spatial_squeeze'
            )
    elif global_pool:
        assert_close(ours['global_pool'], net, 'global_pool')
    assert_close(ours_net, net, 'the returned net')


def write_goldens(family, depths, num_classes):
    """Rewrites tests/golden/resnet_<family>_<depth>.json from TF-Slim's nets
    (the published class count, 224 x 224), for each depth."""
    import importlib
    import tf_slim

    module = importlib.import_module('tf_slim.nets.resnet_' + family)
    for depth in depths:
        name = 'resnet_%s_%d' % (family, depth)
        with tf.Graph().as_default():
            with tf_slim.arg_scope(module.resnet_arg_scope()):
                getattr(module, name)(
                    tf.compat.v1.placeholder(tf.float32, [1, 224, 224, 3]),
                    num_classes,
                    is_training=False,
                )
            write_golden(
                name,
                {
                    v.op.name: v.shape.as_list()
                    for v in tf.compat.v1.global_variables()
                },
            )
