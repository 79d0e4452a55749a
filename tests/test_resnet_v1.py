"""Tests nets/resnet_v1.py against TF-Slim 1.1.0's ResNet v1 (the oracle).

The oracle runs in graph mode with random weights (batch norm statistics and
betas randomised too, so that they matter), saves them with a TF1 Saver, and
our net restores that checkpoint by name with `slim.assign_from_checkpoint`;
then every end point must agree. ResNet-50 runs at full width on 64 x 64
images, and at depth multiplier 1/8 (built by the oracle from TF-Slim's
blocks of the scaled depths) with atrous output stride 8 and no global pool.
The other variants (training mode, no classes, no root block, dense
features) run on the generic builder with one unit per block: building a
TF-Slim graph costs about 0.2 s per layer. The deeper nets are checked for
their variable names and shapes only (tests/golden).

Run as a script to rewrite tests/golden/resnet_v1_*.json from the oracle:
    python tests/test_resnet_v1.py
"""

import numpy as np
import pytest
import tensorflow as tf

from net_oracle import RTOL, assert_close, load_golden, variable_shapes
from resnet_oracle import assert_matches, base_depths, images, oracle, restored

DEPTHS = (50, 101, 152, 200)
# The released checkpoints have 1000 classes (no background class).
PUBLISHED_CLASSES = 1000
TINY = 0.125  # a depth multiplier that makes ResNet-50 cheap
# A generic ResNet v1 of one unit per block, for the cheap variants.
SMALL_UNITS = (1, 1, 1, 1)
SMALL = (8, 16, 32, 64)


def _net(depth):
    from nets import resnet_v1

    return getattr(resnet_v1, 'resnet_v1_%d' % depth)


def _scoped(fn):
    def net(images, **kwargs):
        import slim
        from nets import resnet_v1

        with slim.arg_scope(resnet_v1.resnet_arg_scope()):
            return fn(images, **kwargs)

    net.__name__ = fn.__name__
    return net


def _model(depth=50, **kwargs):
    import slim

    return slim.Model(_scoped(_net(depth)), **kwargs)


def _model_of(fn, **kwargs):
    import slim

    return slim.Model(_scoped(fn), **kwargs)


def _small_net(images, scope='small', **kwargs):
    """The generic ResNet v1 of blocks of `SMALL_UNITS` and `SMALL` depths."""
    from nets import resnet_v1

    blocks = [
        resnet_v1.resnet_v1_block('block%d' % (i + 1), d, n, s)
        for i, (d, n, s) in enumerate(zip(SMALL, SMALL_UNITS, (2, 2, 2, 1)))
    ]
    return resnet_v1.resnet_v1(images, blocks, scope=scope, **kwargs)


def _small_model(**kwargs):
    return _model_of(_small_net, **kwargs)


@pytest.fixture(scope='module')
def full_50(tmp_path_factory):
    inputs = images(64)
    prefix = str(tmp_path_factory.mktemp('resnet_v1_50') / 'model.ckpt')
    theirs = oracle(
        'v1',
        inputs,
        prefix,
        num_classes=PUBLISHED_CLASSES,
        scope='resnet_v1_50',
    )
    model = _model(num_classes=PUBLISHED_CLASSES, is_training=False)
    net, ours = restored(model, inputs, prefix)
    return dict(
        inputs=inputs,
        prefix=prefix,
        theirs=theirs,
        model=model,
        net=net,
        ours=ours,
    )


# ---------------------------------------------------------------- ResNet-50


def test_variables_match_oracle_and_golden(full_50):
    golden = load_golden('resnet_v1_50')
    # 53 convolutions with batch norm (weights, beta, gamma, mean, variance)
    # and the logits' weights and biases.
    assert len(golden) == 53 * 5 + 2
    assert variable_shapes(full_50['model']) == golden
    assert full_50['theirs'].shapes == golden
    # The checkpoint holds the randomised statistics, not the initial ones.
    reader = tf.train.load_checkpoint(full_50['prefix'])
    assert (
        reader.get_tensor(
            'resnet_v1_50/block4/unit_3/bottleneck_v1/conv3/'
            'BatchNorm/moving_variance'
        ).std()
        > 0.1
    )


def test_published_checkpoint_names():
    # The layout of the model zoo's resnet_v1_50.ckpt (2016-08-28).
    golden = load_golden('resnet_v1_50')
    assert golden['resnet_v1_50/conv1/weights'] == [7, 7, 3, 64]
    assert golden['resnet_v1_50/conv1/BatchNorm/gamma'] == [64]
    unit = 'resnet_v1_50/block1/unit_1/bottleneck_v1/'
    assert golden[unit + 'shortcut/weights'] == [1, 1, 64, 256]
    assert golden[unit + 'shortcut/BatchNorm/moving_mean'] == [256]
    assert golden[unit + 'conv2/weights'] == [3, 3, 64, 64]
    assert golden['resnet_v1_50/block4/unit_3/bottleneck_v1/conv3/weights'] == [
        1,
        1,
        512,
        2048,
    ]
    assert golden['resnet_v1_50/logits/weights'] == [1, 1, 2048, 1000]
    assert golden['resnet_v1_50/logits/biases'] == [1000]


def test_end_points_and_logits_match_oracle(full_50):
    assert_matches(
        full_50['net'],
        full_50['ours'],
        full_50['theirs'],
        'resnet_v1_50',
        PUBLISHED_CLASSES,
        global_pool=True,
        spatial_squeeze=True,
    )
    ours = full_50['ours']
    assert full_50['net'].shape == (2, 1000)
    assert ours['resnet_v1_50/conv1'].shape == (2, 32, 32, 64)
    assert ours['resnet_v1_50/block1'].shape == (2, 8, 8, 256)
    assert ours['resnet_v1_50/block3'].shape == (2, 2, 2, 1024)
    assert ours['resnet_v1_50/block4'].shape == (2, 2, 2, 2048)
    assert ours['global_pool'].shape == (2, 1, 1, 2048)


def test_regularization_losses_match_oracle(full_50):
    model = full_50['model']
    assert len(model.losses) == sum(
        name.endswith('weights') for name in full_50['theirs'].shapes
    )
    np.testing.assert_allclose(
        float(model.regularization_loss()),
        full_50['theirs'].reg_loss,
        rtol=RTOL,
    )


# ---------------------------------------------------------------- deeper nets


@pytest.mark.parametrize('depth', DEPTHS[1:])
def test_deeper_goldens_have_one_bottleneck_per_unit(depth):
    # tests/test_zoo.py builds every registered net against its golden; here
    # the golden itself is checked against the block layout of each depth.
    golden = load_golden('resnet_v1_%d' % depth)
    units = sum(
        {101: (3, 4, 23, 3), 152: (3, 8, 36, 3), 200: (3, 24, 36, 3)}[depth]
    )
    assert len(golden) == (3 * units + 4 + 1) * 5 + 2


# ---------------------------------------------------------------- variants


def test_depth_multiplier_and_atrous_logits_match_oracle(tmp_path):
    # research/slim's depth multiplier scales the bottleneck depths of the
    # blocks; atrous at output stride 8, fully convolutional logits.
    inputs = images(64)
    prefix = str(tmp_path / 'model.ckpt')
    theirs = oracle(
        'v1',
        inputs,
        prefix,
        depths=base_depths(TINY),
        num_classes=10,
        global_pool=False,
        output_stride=8,
        scope='resnet_v1_50',
    )
    model = _model(
        depth_multiplier=TINY,
        num_classes=10,
        global_pool=False,
        output_stride=8,
        spatial_squeeze=False,
        is_training=False,
    )
    net, ours = restored(model, inputs, prefix)
    assert variable_shapes(model) == theirs.shapes
    assert_matches(
        net,
        ours,
        theirs,
        'resnet_v1_50',
        10,
        global_pool=False,
        spatial_squeeze=False,
    )
    assert ours['resnet_v1_50/block2'].shape == (2, 8, 8, 64)
    assert ours['resnet_v1_50/block4'].shape == (2, 8, 8, 256)
    assert net.shape == (2, 8, 8, 10)


def test_training_mode_matches_oracle_and_updates_statistics(tmp_path):
    # Pooled features (no classes) with batch statistics, on one-unit blocks.
    inputs = images(64)
    prefix = str(tmp_path / 'model.ckpt')
    theirs = oracle(
        'v1',
        inputs,
        prefix,
        units=SMALL_UNITS,
        depths=SMALL,
        is_training=True,
        scope='small',
    )
    model = _small_model(is_training=False)
    model(inputs)
    import slim

    slim.assign_from_checkpoint(slim.get_variables_to_restore(model), prefix)
    before = {v.name[:-2]: v.numpy() for v in model.variables}
    net, ours = model(inputs, is_training=True)
    assert_matches(
        net.numpy(),
        {k: v.numpy() for k, v in ours.items()},
        theirs,
        'small',
        None,
        global_pool=True,
        spatial_squeeze=True,
    )
    assert net.shape == (2, 1, 1, 256)
    # The root's and each unit's four batch norms (all project).
    assert len(theirs.statistics) == 2 * (1 + 4 * 4)
    for name, value in theirs.statistics.items():
        assert not np.allclose(value, before[name]), name
        assert_close(model.get_variable(name).numpy(), value, name)


def test_dense_features_without_root_block_match_oracle(tmp_path):
    # Straight on the image, fully convolutional, atrous after block2.
    inputs = images(17)
    prefix = str(tmp_path / 'model.ckpt')
    theirs = oracle(
        'v1',
        inputs,
        prefix,
        units=SMALL_UNITS,
        depths=SMALL,
        global_pool=False,
        include_root_block=False,
        output_stride=4,
        scope='small',
    )
    model = _small_model(
        global_pool=False,
        include_root_block=False,
        output_stride=4,
        is_training=False,
    )
    net, ours = restored(model, inputs, prefix)
    assert variable_shapes(model) == theirs.shapes
    assert 'small/conv1' not in ours
    assert_matches(
        net,
        ours,
        theirs,
        'small',
        None,
        global_pool=False,
        spatial_squeeze=True,
    )
    assert net.shape == (2, 5, 5, 256)


# ---------------------------------------------------------------- behaviour


@pytest.mark.parametrize('output_stride', [None, 16])
def test_non_strided_activations_subsample_to_the_strided_ones(output_stride):
    # Moving a block's stride after it changes nothing but the resolution of
    # its end point, with batch norm's moving statistics: a stride-s
    # `conv2d_same` is a stride-1 convolution subsampled.
    model = _small_model(
        num_classes=10, is_training=False, output_stride=output_stride
    )
    inputs = tf.constant(images(64))
    logits, strided = model(inputs)
    logits_dense, dense = model(inputs, store_non_strided_activations=True)
    assert list(dense) == list(strided)
    assert_close(logits_dense, logits, 'logits')
    block_strides = {None: (2, 2, 2, 1), 16: (2, 2, 1, 1)}[output_stride]
    for i, stride in enumerate(block_strides):
        name = 'small/block%d' % (i + 1)
        assert dense[name].shape[1] == strided[name].shape[1] * stride
        assert_close(dense[name][:, ::stride, ::stride], strided[name], name)


def test_traced_call_with_unknown_size_matches_eager():
    model = _small_model(num_classes=10, is_training=False)
    inputs = images(64)
    eager, _ = model(inputs)
    count = len(model.variables)
    # Without AutoGraph: the net has no tensor-dependent Python control flow,
    # and converting the DSL costs seconds per trace.
    traced = tf.function(
        lambda x: model(x)[0],
        autograph=False,
        input_signature=[tf.TensorSpec([None, None, None, 3])],
    )
    assert_close(traced(inputs), eager, 'traced logits')
    other = images(48, height=80)
    assert traced(other).shape == (2, 10)
    assert_close(traced(other), model(other)[0], 'traced logits, 80 x 48')
    assert len(model.variables) == count


def test_bounded_activations():
    import slim
    from nets import resnet_v1

    inputs = tf.constant(images(32) * 50)
    # With the moving statistics (0 and 1 here) the activations grow with
    # the inputs.
    plain = _small_model(num_classes=10, is_training=False)
    _, plain_points = plain(inputs)
    units = [k for k in plain_points if k.endswith('bottleneck_v1')]
    assert max(float(tf.reduce_max(plain_points[k])) for k in units) > 6

    def bounded_net(images, **kwargs):
        with slim.arg_scope(
            [resnet_v1.bottleneck], use_bounded_activations=True
        ):
            return _small_net(images, **kwargs)

    bounded = _model_of(bounded_net, num_classes=10, is_training=False)
    _, points = bounded(inputs)
    for name in units:
        assert 0 <= float(tf.reduce_min(points[name]))
        assert float(tf.reduce_max(points[name])) <= 6
    assert variable_shapes(bounded) == variable_shapes(plain)


def test_is_training_none_leaves_batch_norm_to_the_arg_scope():
    import slim

    def net(images, **kwargs):
        with slim.arg_scope([slim.batch_norm], is_training=False):
            return _small_net(images, **kwargs)

    model = _model_of(net, num_classes=10)
    inputs = tf.constant(images(32))
    outer, _ = model(inputs, is_training=None)
    assert_close(outer, model(inputs, is_training=False)[0], 'inference')
    assert not np.allclose(outer, model(inputs, is_training=True)[0])


def test_bfloat16_inputs_compute_in_bfloat16():
    model = _small_model(num_classes=10, is_training=False)
    inputs = tf.constant(images(64))
    logits32, _ = model(inputs)
    logits16, end_points = model(tf.cast(inputs, tf.bfloat16))
    assert logits16.dtype == tf.bfloat16
    assert end_points['small/block4'].dtype == tf.bfloat16
    assert all(v.dtype == tf.float32 for v in model.variables)
    error = np.abs(tf.cast(logits16, tf.float32) - logits32).max()
    assert error <= 0.05 * np.abs(logits32).max()


@pytest.mark.parametrize('num_classes', [0, None])
def test_no_classes_returns_pooled_features(num_classes):
    model = _small_model(num_classes=num_classes)
    net, end_points = model(tf.constant(images(32)))
    assert net.shape == (2, 1, 1, 256)
    assert list(end_points)[-1] == 'global_pool'
    assert not [v for v in model.variables if '/logits/' in v.name]


def test_depth_multiplier_floors_at_min_base_depth():
    model = _model(depth_multiplier=0.005, min_base_depth=4, num_classes=3)
    model(tf.constant(images(32, batch=1)))
    shapes = variable_shapes(model)
    # Every bottleneck is 4 deep, every unit's output 16.
    assert shapes['resnet_v1_50/block4/unit_3/bottleneck_v1/conv2/weights'] == [
        3,
        3,
        4,
        4,
    ]
    assert shapes['resnet_v1_50/logits/weights'] == [1, 1, 16, 3]


@pytest.mark.parametrize('multiplier', [0, -1])
def test_depth_multiplier_not_positive_raises(multiplier):
    model = _model(depth_multiplier=multiplier)
    with pytest.raises(ValueError, match='depth_multiplier') as error:
        model(tf.zeros([1, 32, 32, 3]))
    assert repr(multiplier) in str(error.value)


@pytest.mark.parametrize(
    'output_stride, message',
    [
        (6, 'multiple of 4'),
        (12, 'cannot be reached'),
        (64, 'cannot be reached'),
    ],
)
def test_bad_output_stride_raises(output_stride, message):
    model = _small_model(output_stride=output_stride)
    with pytest.raises(ValueError, match=message):
        model(tf.zeros([1, 32, 32, 3]))


def test_bottleneck_needs_known_channels():
    import slim
    from nets import resnet_v1

    model = slim.Model(lambda x: resnet_v1.bottleneck(x, 8, 2, 1))
    with pytest.raises(ValueError, match='bottleneck_v1.*channels'):
        model.build(tf.TensorSpec([1, 4, 4, None]))


def test_blocks_are_tf_slims():
    from tf_slim.nets import resnet_v1 as tf_slim_resnet_v1
    from nets import resnet_v1

    ours = resnet_v1.resnet_v1_block(
        'block2', base_depth=128, num_units=4, stride=2
    )
    theirs = tf_slim_resnet_v1.resnet_v1_block(
        'block2', base_depth=128, num_units=4, stride=2
    )
    assert ours.scope == 'block2' and ours.unit_fn is resnet_v1.bottleneck
    assert ours.args == theirs.args


def test_entry_points():
    from nets import resnet_utils, resnet_v1

    assert resnet_v1.resnet_arg_scope is resnet_utils.resnet_arg_scope
    assert resnet_v1.resnet_v1.default_image_size == 224
    for depth in DEPTHS:
        assert _net(depth).default_image_size == 224


if __name__ == '__main__':
    import conftest  # noqa: F401  (the aliases tf_slim needs)
    import resnet_oracle

    resnet_oracle.write_goldens('v1', DEPTHS, PUBLISHED_CLASSES)
