"""Tests nets/nasnet/pnasnet.py: PNASNet-5 mobile and large, on NASNet's cell
implementation.

Facts that do not come from our code (see nasnet_checks.py): our net file
on tf_slim in a TF1 graph (names, numerics), research/slim's
pnasnet_test.py (end points, shapes, absent layers, the auxiliary head
switch, bounded activations) and research/slim's README (5.1 M parameters
mobile, 86.1 M large).
"""

import inspect

import numpy as np
import pytest
import tensorflow as tf

import nasnet_checks
from net_oracle import load_golden, random_images

# research/slim's pnasnet_test.py, testAllEndPointsShapes*Model (batch 5).
MOBILE_SHAPES_224 = dict(
    {'Stem': [28, 28, 135], 'global_pool': [1080]},
    **{'Cell_%d' % i: [28, 28, 270] for i in range(3)},
    **{'Cell_%d' % i: [14, 14, 540] for i in range(3, 6)},
    **{'Cell_%d' % i: [7, 7, 1080] for i in range(6, 9)},
)
LARGE_SHAPES_331 = dict(
    {'Stem': [42, 42, 540], 'global_pool': [4320]},
    **{'Cell_%d' % i: [42, 42, 1080] for i in range(4)},
    **{'Cell_%d' % i: [21, 21, 2160] for i in range(4, 8)},
    **{'Cell_%d' % i: [11, 11, 4320] for i in range(8, 12)},
)

PUBLISHED_MILLIONS = {'pnasnet_mobile': 5.1, 'pnasnet_large': 86.1}


def _with_logits(shapes, classes, batch=5):
    out = {k: [batch] + v for k, v in shapes.items()}
    out.update(
        {k: [batch, classes] for k in ('AuxLogits', 'Logits', 'Predictions')}
    )
    return out


@pytest.fixture(scope='module')
def mobile_32(tmp_path_factory):
    images = random_images(32, batch=2)
    prefix = str(tmp_path_factory.mktemp('pnasnet_mobile') / 'model.ckpt')
    return nasnet_checks.oracle_and_ours(
        'pnasnet_mobile', images, prefix, is_training=False
    )


def test_mobile_golden_is_tf1s_names_and_restores(mobile_32):
    shapes, _, _, model, _, restored = mobile_32
    golden = load_golden('pnasnet_mobile')
    assert shapes == golden
    assert nasnet_checks.variable_shapes(model) == golden
    assert sorted(restored) == sorted(golden)
    # research/slim's testBuildNonExistingLayerMobileModel.
    assert 'cell_stem_0/1x1/weights' in golden
    assert 'cell_stem_1/comb_iter_0/right/1x1/weights' not in golden
    # 27 filters in cell_stem_1: the odd one goes to the second path.
    assert golden['cell_stem_1/path1_conv/weights'] == [1, 1, 32, 13]
    assert golden['cell_stem_1/path2_conv/weights'] == [1, 1, 32, 14]


def test_mobile_matches_tf_slim(mobile_32):
    _, theirs, _, _, ours, _ = mobile_32
    nasnet_checks.assert_end_points_match(ours, theirs)


def test_large_training_with_fewer_cells_matches_tf_slim(tmp_path):
    # The large config (skip_reduction_layer_input, drop path 0.6) on 4 cells
    # of 24 filters, training at step 0 (keep probability 1): batch
    # statistics and the auxiliary head after cell 1. The dense dropout (random)
    # is off.
    from nets.nasnet import pnasnet

    config = pnasnet.large_imagenet_config().replace(
        num_cells=4, num_conv_filters=24, dense_dropout_keep_prob=1.0
    )
    images = random_images(96, batch=2)
    shapes, theirs, _, _, ours, restored = nasnet_checks.oracle_and_ours(
        'pnasnet_large',
        images,
        str(tmp_path / 'model.ckpt'),
        is_training=True,
        config=config,
        current_step=0,
    )
    assert sorted(restored) == sorted(shapes)
    assert 'aux_1/aux_logits/FC/weights' in shapes
    nasnet_checks.assert_end_points_match(ours, theirs)


def test_end_point_shapes_and_aux_golden_mobile():
    shapes, end_points = nasnet_checks.graph_variables(
        'pnasnet_mobile', 224, batch=5, is_training=True
    )
    assert end_points == _with_logits(MOBILE_SHAPES_224, 1001)
    assert len(end_points) == 14
    golden = dict(load_golden('pnasnet_mobile'))
    golden.update(load_golden('pnasnet_mobile_aux_head'))
    assert shapes == golden


def test_end_point_shapes_and_aux_golden_large():
    shapes, end_points = nasnet_checks.graph_variables(
        'pnasnet_large', 331, batch=5, is_training=True
    )
    assert end_points == _with_logits(LARGE_SHAPES_331, 1001)
    assert len(end_points) == 17
    golden = dict(load_golden('pnasnet_large'))
    golden.update(load_golden('pnasnet_large_aux_head'))
    assert shapes == golden
    # research/slim's testBuildNonExistingLayerLargeModel.
    assert 'cell_stem_1/comb_iter_0/right/1x1/weights' not in golden


@pytest.mark.parametrize('name', sorted(PUBLISHED_MILLIONS))
def test_goldens_have_the_published_size(name):
    # Without the auxiliary head, batch-norm statistics not counted.
    count = nasnet_checks.parameter_count(name)
    assert abs(count / 1e6 - PUBLISHED_MILLIONS[name]) <= (
        0.02 * PUBLISHED_MILLIONS[name]
    )


def test_no_aux_head_and_bounded_activations():
    import slim
    from nets.nasnet import pnasnet

    # research/slim's testNoAuxHead* and testUseBoundedAcitvation*, on a
    # smaller net.
    small = pnasnet.mobile_imagenet_config().replace(
        num_cells=3, num_conv_filters=8
    )
    for use_aux_head in (0, 1):
        model = slim.Model(
            nasnet_checks.scoped('pnasnet_mobile'),
            is_training=True,
            config=small.replace(use_aux_head=use_aux_head),
        )
        _, end_points = model(tf.zeros([1, 96, 96, 3]))
        assert ('AuxLogits' in end_points) == bool(use_aux_head)
    for bounded in (False, True):
        with tf.Graph().as_default() as graph:
            model = slim.Model(
                nasnet_checks.scoped('pnasnet_mobile'),
                config=small.replace(use_bounded_activation=bounded),
            )
            model(tf.compat.v1.placeholder(tf.float32, [1, 96, 96, 3]))
            relus = {
                node.op
                for node in graph.as_graph_def().node
                if node.op.startswith('Relu')
            }
        assert relus == ({'Relu6'} if bounded else {'Relu'})


def test_prelogits_and_final_endpoint():
    import slim

    model = slim.Model(nasnet_checks.scoped('pnasnet_mobile'), num_classes=None)
    net, end_points = model(tf.zeros([2, 32, 32, 3]))
    # research/slim's testBuildPreLogitsMobileModel.
    assert net.shape == (2, 1080) and net is end_points['global_pool']
    assert not {'AuxLogits', 'Predictions'} & set(end_points)
    net, end_points = model(tf.zeros([2, 32, 32, 3]), final_endpoint='Cell_3')
    assert list(end_points) == ['Stem', 'Cell_0', 'Cell_1', 'Cell_2', 'Cell_3']
    assert net.shape == (2, 2, 2, 540)
    with pytest.raises(ValueError, match="'Reduction_Cell_0'"):
        model(tf.zeros([2, 32, 32, 3]), final_endpoint='Reduction_Cell_0')


def test_eager_equals_traced_at_an_unknown_size():
    import slim
    from nets.nasnet import pnasnet

    config = pnasnet.mobile_imagenet_config().replace(
        num_cells=3, num_conv_filters=8
    )
    model = slim.Model(
        nasnet_checks.scoped('pnasnet_mobile'), config=config, is_training=False
    )
    images = tf.constant(random_images(45, 37, batch=2))
    eager, _ = model(images)
    traced = tf.function(
        model,
        autograph=False,
        input_signature=[tf.TensorSpec([None, None, None, 3])],
    )
    np.testing.assert_allclose(traced(images)[0], eager, rtol=1e-4, atol=1e-6)


def test_configs_and_signatures_are_research_slims():
    from nets.nasnet import pnasnet

    large, mobile = (
        pnasnet.large_imagenet_config(),
        pnasnet.mobile_imagenet_config(),
    )
    assert (
        large.num_cells,
        large.num_conv_filters,
        large.drop_path_keep_prob,
        large.stem_multiplier,
    ) == (12, 216, 0.6, 3.0)
    assert (
        mobile.num_cells,
        mobile.num_conv_filters,
        mobile.drop_path_keep_prob,
        mobile.stem_multiplier,
    ) == (9, 54, 1.0, 1.0)
    assert (
        large.skip_reduction_layer_input
        == mobile.skip_reduction_layer_input
        == 1
    )
    assert pnasnet.build_pnasnet_large.default_image_size == 331
    assert pnasnet.build_pnasnet_mobile.default_image_size == 224
    for fn in (pnasnet.build_pnasnet_large, pnasnet.build_pnasnet_mobile):
        assert list(inspect.signature(fn).parameters) == [
            'images',
            'num_classes',
            'is_training',
            'final_endpoint',
            'config',
            'current_step',
        ]
    for fn in (
        pnasnet.pnasnet_large_arg_scope,
        pnasnet.pnasnet_mobile_arg_scope,
    ):
        assert [
            p.default for p in inspect.signature(fn).parameters.values()
        ] == [4e-5, 0.9997, 0.001]
