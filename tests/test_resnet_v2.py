"""Tests nets/resnet_v2.py against TF-Slim 1.1.0's ResNet v2 (the oracle).

The oracle runs in graph mode with random weights (batch norm statistics,
betas and biases randomised too, so that they matter), saves them with a TF1
Saver, and our net restores that checkpoint by name with
`slim.assign_from_checkpoint`; then every end point must agree. ResNet-50
runs at full width on 64 x 64 images; the variants (atrous output strides,
no global pool, no classes, training mode, no root block) run on the generic
builder with one small unit per block (building a TF-Slim graph costs about
0.2 s per layer). The deeper nets are checked for their variable names and
shapes only (tests/golden).

Run as a script to rewrite tests/golden/resnet_v2_*.json from the oracle:
    python tests/test_resnet_v2.py
"""

import numpy as np
import pytest
import tensorflow as tf

from net_oracle import RTOL, assert_close, load_golden, variable_shapes
from resnet_oracle import assert_matches, images, oracle, restored

DEPTHS = (50, 101, 152, 200)
# The released checkpoints have 1001 classes (class 0: background).
PUBLISHED_CLASSES = 1001
# A generic ResNet v2 of one unit per block, for the cheap variants.
SMALL_UNITS = (1, 1, 1, 1)
SMALL = (8, 16, 32, 64)


def _net(depth):
    from nets import resnet_v2

    return getattr(resnet_v2, 'resnet_v2_%d' % depth)


def _scoped(fn):
    def net(images, **kwargs):
        import slim
        from nets import resnet_v2

        with slim.arg_scope(resnet_v2.resnet_arg_scope()):
            return fn(images, **kwargs)

    net.__name__ = fn.__name__
    return net


def _model(depth=50, **kwargs):
    import slim

    return slim.Model(_scoped(_net(depth)), **kwargs)


def _small_net(images, scope='small', **kwargs):
    """The generic ResNet v2 of blocks of `SMALL_UNITS` and `SMALL` depths."""
    from nets import resnet_v2

    blocks = [
        resnet_v2.resnet_v2_block('block%d' % (i + 1), d, n, s)
        for i, (d, n, s) in enumerate(zip(SMALL, SMALL_UNITS, (2, 2, 2, 1)))
    ]
    return resnet_v2.resnet_v2(images, blocks, scope=scope, **kwargs)


def _small_model(**kwargs):
    import slim

    return slim.Model(_scoped(_small_net), **kwargs)


@pytest.fixture(scope='module')
def full_50(tmp_path_factory):
    inputs = images(64)
    prefix = str(tmp_path_factory.mktemp('resnet_v2_50') / 'model.ckpt')
    theirs = oracle(
        'v2',
        inputs,
        prefix,
        num_classes=PUBLISHED_CLASSES,
        scope='resnet_v2_50',
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
    golden = load_golden('resnet_v2_50')
    # The root convolution (weights, biases), per unit a pre-activation batch
    # norm (beta, gamma, mean, variance), two convolutions with batch norm
    # and one with biases, four projection shortcuts with biases, the
    # post-norm and the logits.
    assert len(golden) == 2 + 16 * (4 + 2 * 5 + 2) + 4 * 2 + 4 + 2
    assert variable_shapes(full_50['model']) == golden
    assert full_50['theirs'].shapes == golden
    reader = tf.train.load_checkpoint(full_50['prefix'])
    assert (
        reader.get_tensor('resnet_v2_50/postnorm/moving_variance').std() > 0.1
    )


def test_published_checkpoint_names():
    # The layout of the model zoo's resnet_v2_50.ckpt (2017-04-14).
    golden = load_golden('resnet_v2_50')
    assert golden['resnet_v2_50/conv1/weights'] == [7, 7, 3, 64]
    assert golden['resnet_v2_50/conv1/biases'] == [64]
    assert 'resnet_v2_50/conv1/BatchNorm/gamma' not in golden
    unit = 'resnet_v2_50/block1/unit_1/bottleneck_v2/'
    assert golden[unit + 'preact/gamma'] == [64]
    assert golden[unit + 'preact/moving_mean'] == [64]
    assert golden[unit + 'shortcut/weights'] == [1, 1, 64, 256]
    assert golden[unit + 'shortcut/biases'] == [256]
    assert golden[unit + 'conv2/BatchNorm/beta'] == [64]
    assert golden[unit + 'conv3/biases'] == [256]
    assert golden['resnet_v2_50/postnorm/gamma'] == [2048]
    assert golden['resnet_v2_50/logits/weights'] == [1, 1, 2048, 1001]
    assert golden['resnet_v2_50/logits/biases'] == [1001]


def test_end_points_and_logits_match_oracle(full_50):
    assert_matches(
        full_50['net'],
        full_50['ours'],
        full_50['theirs'],
        'resnet_v2_50',
        PUBLISHED_CLASSES,
        global_pool=True,
        spatial_squeeze=True,
    )
    ours = full_50['ours']
    assert full_50['net'].shape == (2, 1001)
    assert ours['resnet_v2_50/conv1'].shape == (2, 32, 32, 64)
    assert ours['resnet_v2_50/block1'].shape == (2, 8, 8, 256)
    assert ours['resnet_v2_50/block4'].shape == (2, 2, 2, 2048)
    assert ours['global_pool'].shape == (2, 1, 1, 2048)
    # The root convolution is linear: the first unit normalises it.
    assert ours['resnet_v2_50/conv1'].min() < 0


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
    golden = load_golden('resnet_v2_%d' % depth)
    units = sum(
        {101: (3, 4, 23, 3), 152: (3, 8, 36, 3), 200: (3, 24, 36, 3)}[depth]
    )
    assert len(golden) == 2 + units * 16 + 4 * 2 + 4 + 2


# ---------------------------------------------------------------- variants


def test_atrous_logits_match_oracle(tmp_path):
    # Output stride 8, fully convolutional logits.
    inputs = images(64)
    prefix = str(tmp_path / 'model.ckpt')
    theirs = oracle(
        'v2',
        inputs,
        prefix,
        units=SMALL_UNITS,
        depths=SMALL,
        num_classes=10,
        global_pool=False,
        output_stride=8,
        scope='small',
    )
    model = _small_model(
        num_classes=10,
        global_pool=False,
        output_stride=8,
        spatial_squeeze=False,
        is_training=False,
    )
    net, ours = restored(model, inputs, prefix)
    assert variable_shapes(model) == theirs.shapes
    assert_matches(
        net, ours, theirs, 'small', 10, global_pool=False, spatial_squeeze=False
    )
    assert ours['small/block2'].shape == (2, 8, 8, 64)
    assert ours['small/block4'].shape == (2, 8, 8, 256)
    assert net.shape == (2, 8, 8, 10)


def test_training_mode_matches_oracle_and_updates_statistics(tmp_path):
    # Pooled features (no classes) with batch statistics.
    import slim

    inputs = images(64)
    prefix = str(tmp_path / 'model.ckpt')
    theirs = oracle(
        'v2',
        inputs,
        prefix,
        units=SMALL_UNITS,
        depths=SMALL,
        is_training=True,
        scope='small',
    )
    model = _small_model(is_training=False)
    model(inputs)
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
    # Each unit's three batch norms and the post-norm.
    assert len(theirs.statistics) == 2 * (4 * 3 + 1)
    for name, value in theirs.statistics.items():
        assert not np.allclose(value, before[name]), name
        assert_close(model.get_variable(name).numpy(), value, name)


def test_dense_features_without_root_block_match_oracle(tmp_path):
    # Straight on the image, fully convolutional, atrous after block2.
    inputs = images(17)
    prefix = str(tmp_path / 'model.ckpt')
    theirs = oracle(
        'v2',
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


def test_is_training_none_leaves_batch_norm_to_the_arg_scope():
    import slim

    def net(images, **kwargs):
        with slim.arg_scope([slim.batch_norm], is_training=False):
            return _small_net(images, **kwargs)

    model = slim.Model(_scoped(net), num_classes=10)
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
    # After the post-norm's ReLU.
    assert float(tf.reduce_min(net)) >= 0
    assert list(end_points)[-1] == 'global_pool'
    assert not [v for v in model.variables if '/logits/' in v.name]


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
    from nets import resnet_v2

    model = slim.Model(lambda x: resnet_v2.bottleneck(x, 8, 2, 1))
    with pytest.raises(ValueError, match='bottleneck_v2.*channels'):
        model.build(tf.TensorSpec([1, 4, 4, None]))


def test_blocks_are_tf_slims():
    from tf_slim.nets import resnet_v2 as tf_slim_resnet_v2
    from nets import resnet_v2

    ours = resnet_v2.resnet_v2_block(
        'block3', base_depth=256, num_units=6, stride=2
    )
    theirs = tf_slim_resnet_v2.resnet_v2_block(
        'block3', base_depth=256, num_units=6, stride=2
    )
    assert ours.scope == 'block3' and ours.unit_fn is resnet_v2.bottleneck
    assert ours.args == theirs.args


def test_entry_points():
    from nets import resnet_utils, resnet_v2

    assert resnet_v2.resnet_arg_scope is resnet_utils.resnet_arg_scope
    assert resnet_v2.resnet_v2.default_image_size == 224
    for depth in DEPTHS:
        assert _net(depth).default_image_size == 224


if __name__ == '__main__':
    import conftest  # noqa: F401  (the aliases tf_slim needs)
    import resnet_oracle

    resnet_oracle.write_goldens('v2', DEPTHS, PUBLISHED_CLASSES)
