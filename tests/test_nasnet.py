"""Tests nets/nasnet/nasnet.py and nasnet_utils.py: NASNet-A CIFAR, mobile
and large.

Facts that do not come from our code (see nasnet_checks.py):
- TF1's naming and TF-Slim's layers: our net file run on tf_slim in a graph
  creates the golden's variables and, restored from its checkpoint, gives our
  end points;
- research/slim's nasnet_test.py: the end points and their shapes;
- research/slim's README: 5.3 M parameters (mobile), 88.9 M (large);
- research/slim's drop-path schedule ('v3': by depth and by step).
"""

import inspect

import numpy as np
import pytest
import tensorflow as tf

import nasnet_checks
from net_oracle import RTOL, assert_close, load_golden, random_images

# research/slim's nasnet_test.py, testAllEndPointsShapes*Model (batch 5);
# 'global_pool' added as research/slim's later net returns it.
MOBILE_SHAPES_224 = dict(
    {
        'Stem': [28, 28, 88],
        'Reduction_Cell_0': [14, 14, 352],
        'Reduction_Cell_1': [7, 7, 704],
        'global_pool': [1056],
    },
    **{'Cell_%d' % i: [28, 28, 264] for i in range(4)},
    **{'Cell_%d' % i: [14, 14, 528] for i in range(4, 8)},
    **{'Cell_%d' % i: [7, 7, 1056] for i in range(8, 12)},
)
LARGE_SHAPES_331 = dict(
    {
        'Stem': [42, 42, 336],
        'Reduction_Cell_0': [21, 21, 1344],
        'Reduction_Cell_1': [11, 11, 2688],
        'global_pool': [4032],
    },
    **{'Cell_%d' % i: [42, 42, 1008] for i in range(6)},
    **{'Cell_%d' % i: [21, 21, 2016] for i in range(6, 12)},
    **{'Cell_%d' % i: [11, 11, 4032] for i in range(12, 18)},
)
CIFAR_SHAPES_32 = dict(
    {
        'Stem': [32, 32, 96],
        'Reduction_Cell_0': [16, 16, 256],
        'Reduction_Cell_1': [8, 8, 512],
        'global_pool': [768],
    },
    **{'Cell_%d' % i: [32, 32, 192] for i in range(6)},
    **{'Cell_%d' % i: [16, 16, 384] for i in range(6, 12)},
    **{'Cell_%d' % i: [8, 8, 768] for i in range(12, 18)},
)

# research/slim's README (1001 classes), in millions.
PUBLISHED_MILLIONS = {'nasnet_mobile': 5.3, 'nasnet_large': 88.9}


def _with_logits(shapes, classes, batch=5):
    out = {k: [batch] + v for k, v in shapes.items()}
    out.update(
        {k: [batch, classes] for k in ('AuxLogits', 'Logits', 'Predictions')}
    )
    return out


# ---------------------------------------------------------------- oracle


@pytest.fixture(scope='module')
def mobile_32(tmp_path_factory):
    images = random_images(32, batch=2)
    prefix = str(tmp_path_factory.mktemp('nasnet_mobile') / 'model.ckpt')
    return nasnet_checks.oracle_and_ours(
        'nasnet_mobile', images, prefix, is_training=False
    )


def test_mobile_golden_is_tf1s_names_and_restores(mobile_32):
    shapes, _, _, model, _, restored = mobile_32
    golden = load_golden('nasnet_mobile')
    assert shapes == golden
    assert nasnet_checks.variable_shapes(model) == golden
    assert sorted(restored) == sorted(golden)
    # Names quoted from research/slim (its pnasnet_test.py, README).
    assert golden['final_layer/FC/weights'] == [1056, 1001]
    assert golden[
        'cell_0/comb_iter_0/left/separable_5x5_1/depthwise_weights'
    ] == [5, 5, 44, 1]
    assert 'cell_stem_0/1x1/weights' in golden


def test_mobile_matches_tf_slim(mobile_32):
    _, theirs, losses, model, ours, _ = mobile_32
    nasnet_checks.assert_end_points_match(ours, theirs)
    # The arg scope regularises weights only: convolutions (depthwise and
    # pointwise) and the logits.
    assert len(model.losses) == len(losses)
    np.testing.assert_allclose(
        sum(float(l) for l in model.losses), sum(losses), rtol=RTOL
    )


def test_cifar_training_with_aux_head_matches_tf_slim(tmp_path):
    # Six cells instead of 18 (same code, a third of the time); training mode:
    # batch statistics, the auxiliary head (after cell 3) and drop path at
    # step 0, where its keep probability is 1.
    from nets.nasnet import nasnet

    config = nasnet.cifar_config().replace(num_cells=6)
    images = random_images(32, batch=3)
    shapes, theirs, _, model, ours, restored = nasnet_checks.oracle_and_ours(
        'nasnet_cifar',
        images,
        str(tmp_path / 'model.ckpt'),
        is_training=True,
        config=config,
        current_step=0,
    )
    assert sorted(restored) == sorted(shapes)
    # Cell 3 is 16 x 16; the 5x5 pool of stride 3 leaves 4 x 4.
    assert shapes['aux_3/aux_logits/Conv/weights'] == [4, 4, 128, 768]
    assert theirs['AuxLogits'].shape == (3, 10)
    nasnet_checks.assert_end_points_match(ours, theirs)
    # research/slim's CIFAR shapes per stage (its 18 cells are 3 stages of 6,
    # here of 2).
    stage = {0: 0, 1: 0, 2: 1, 3: 1, 4: 2, 5: 2}
    expected = {
        'Cell_%d' % i: CIFAR_SHAPES_32['Cell_%d' % (6 * s)]
        for i, s in stage.items()
    }
    expected.update(
        {
            k: CIFAR_SHAPES_32[k]
            for k in (
                'Stem',
                'Reduction_Cell_0',
                'Reduction_Cell_1',
                'global_pool',
            )
        }
    )
    assert {
        k: list(v.shape[1:]) for k, v in ours.items() if k in expected
    } == expected


# ---------------------------------------------------------------- goldens


def test_end_point_shapes_and_aux_golden_mobile():
    shapes, end_points = nasnet_checks.graph_variables(
        'nasnet_mobile', 224, batch=5, is_training=True, num_classes=1000
    )
    assert end_points == _with_logits(MOBILE_SHAPES_224, 1000)
    golden = dict(load_golden('nasnet_mobile'))
    golden.update(load_golden('nasnet_mobile_aux_head'))
    golden['final_layer/FC/weights'] = [1056, 1000]
    golden['final_layer/FC/biases'] = [1000]
    golden['aux_7/aux_logits/FC/weights'] = [768, 1000]
    golden['aux_7/aux_logits/FC/biases'] = [1000]
    assert shapes == golden


def test_end_point_shapes_and_aux_golden_large():
    # 89 M variables created in a graph, none initialised: names and shapes
    # only.
    shapes, end_points = nasnet_checks.graph_variables(
        'nasnet_large', 331, batch=5, is_training=True
    )
    assert end_points == _with_logits(LARGE_SHAPES_331, 1001)
    golden = dict(load_golden('nasnet_large'))
    golden.update(load_golden('nasnet_large_aux_head'))
    assert shapes == golden
    assert golden['aux_11/aux_logits/Conv/weights'] == [6, 6, 128, 768]


@pytest.mark.parametrize('name', sorted(PUBLISHED_MILLIONS))
def test_goldens_have_the_published_size(name):
    # The README counts the net without its auxiliary head (which training
    # adds: 2.4 M for mobile, 4.6 M for large, most in its 4x4 or 6x6
    # convolution); batch-norm statistics are not parameters.
    count = nasnet_checks.parameter_count(name)
    assert abs(count / 1e6 - PUBLISHED_MILLIONS[name]) <= (
        0.02 * PUBLISHED_MILLIONS[name]
    )
    assert nasnet_checks.parameter_count(name, with_aux_head=True) > count


# ---------------------------------------------------------------- drop path


def test_keep_probability_follows_research_slims_schedule():
    from nets.nasnet import nasnet_utils

    # NASNet-A large: keep 0.7, 18 + 2 + 2 cells, 250000 steps.
    schedule = nasnet_utils.DropPath(0.7, 22, 250000)
    for cell_num, step, expected in [
        (0, 0, 1.0),
        (21, 0, 1.0),
        (21, 125000, 1 - 0.5 * 0.3),
        (21, 250000, 0.7),
        (21, 10**6, 0.7),  # the ramp ends at total_training_steps
        (10, 125000, 1 - 0.5 * (11 / 22) * 0.3),
    ]:
        keep = nasnet_utils.drop_path_keep_prob(
            schedule, cell_num, tf.constant(step, tf.int64)
        )
        assert float(keep) == pytest.approx(expected, rel=1e-6), (
            cell_num,
            step,
        )
    # No step given: the ramp is over.
    assert nasnet_utils.drop_path_keep_prob(schedule, 21) == pytest.approx(0.7)


def test_drop_path_zeroes_whole_examples_and_rescales():
    from nets.nasnet import nasnet_utils

    net = tf.ones([200, 2, 2, 3])
    out = nasnet_utils.drop_path(net, 0.8).numpy()
    per_example = out.reshape(200, -1)
    # Each example is all 0 or all 1 / 0.8.
    assert set(np.unique(per_example.min(1))) <= {0.0, np.float32(1 / 0.8)}
    assert np.all(per_example.min(1) == per_example.max(1))
    assert 0.6 < np.mean(per_example[:, 0] > 0) < 0.95
    assert nasnet_utils.drop_path(net, 0.8, is_training=False) is net


def test_training_step_reaches_the_net_eager_and_traced():
    import slim
    from nets.nasnet import nasnet, nasnet_utils

    # drop path made deterministic (a multiplication by the keep
    # probability), so eager and traced calls can be compared at each step.
    config = nasnet.cifar_config().replace(
        num_cells=3,
        num_conv_filters=4,
        total_training_steps=100,
        use_aux_head=0,
    )
    model = slim.Model(
        nasnet_checks.scoped('nasnet_cifar'), config=config, is_training=True
    )
    images = tf.constant(random_images(8, batch=2))
    step = tf.Variable(0, dtype=tf.int64)
    traced = tf.function(
        lambda x: model(x, current_step=step)[0], autograph=False
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            nasnet_utils,
            'drop_path',
            lambda net, keep_prob, is_training=True: net * keep_prob,
        )
        results = []
        for value in (0, 50, 100, 400):
            step.assign(value)
            eager, _ = model(images, current_step=step)
            assert_close(traced(images), eager, 'logits at step %d' % value)
            results.append(eager.numpy())
    # The keep probability moves until the ramp ends (step 100).
    assert not np.allclose(results[0], results[1])
    assert not np.allclose(results[1], results[2])
    np.testing.assert_allclose(results[2], results[3], rtol=1e-6)
    # One trace served every step: the step is read when the call runs.
    assert traced.experimental_get_tracing_count() == 1


def test_no_drop_path_when_evaluating():
    import slim
    from nets.nasnet import nasnet, nasnet_utils

    config = nasnet.cifar_config().replace(num_cells=3, num_conv_filters=4)
    model = slim.Model(nasnet_checks.scoped('nasnet_cifar'), config=config)
    calls = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            nasnet_utils, 'drop_path', lambda *args, **kwargs: calls.append(1)
        )
        model(tf.zeros([1, 8, 8, 3]), is_training=False)
    assert not calls


# ---------------------------------------------------------------- arguments


def test_final_endpoint_stops_the_build():
    import slim

    model = slim.Model(nasnet_checks.scoped('nasnet_mobile'))
    images = tf.zeros([1, 32, 32, 3])
    net, end_points = model(images, final_endpoint='Reduction_Cell_0')
    assert list(end_points) == ['Stem'] + ['Cell_%d' % i for i in range(4)] + [
        'Reduction_Cell_0'
    ]
    assert net is end_points['Reduction_Cell_0']
    scopes = {v.name.split('/')[0] for v in model.variables}
    assert scopes == {
        'conv0',
        'conv0_bn',
        'cell_stem_0',
        'cell_stem_1',
        'cell_0',
        'cell_1',
        'cell_2',
        'cell_3',
        'reduction_cell_0',
    }
    net, end_points = model(images, final_endpoint='Stem')
    assert list(end_points) == ['Stem'] and net.shape == (1, 4, 4, 88)


def test_no_classes_gives_the_pooled_features():
    import slim

    config_fn = nasnet_checks.module('nasnet_cifar').cifar_config
    model = slim.Model(
        nasnet_checks.scoped('nasnet_cifar'),
        num_classes=None,
        config=config_fn().replace(num_cells=3),
    )
    net, end_points = model(tf.zeros([2, 8, 8, 3]), is_training=True)
    # 6 states of 4 x 32 filters after two reductions.
    assert net.shape == (2, 768) and net is end_points['global_pool']
    assert not {'AuxLogits', 'Logits', 'Predictions'} & set(end_points)
    assert not [v for v in model.variables if 'FC' in v.name]


@pytest.mark.parametrize(
    'kwargs,match',
    [
        ({'final_endpoint': 'Cell_12'}, "final_endpoint .*'Cell_12'"),
        ({'final_endpoint': 'AuxLogits'}, 'final_endpoint'),
        ({'config': {'num_cells': 3}}, 'config must be a nasnet_utils.Config'),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    import slim

    model = slim.Model(nasnet_checks.scoped('nasnet_mobile'))
    error = TypeError if 'config' in kwargs else ValueError
    with pytest.raises(error, match=match):
        model(tf.zeros([1, 32, 32, 3]), **kwargs)
    assert not model.variables


def test_bad_config_and_images_raise():
    import slim
    from nets.nasnet import nasnet

    model = slim.Model(nasnet_checks.scoped('nasnet_mobile'))
    bad = nasnet.mobile_imagenet_config()
    bad.set_hparam('data_format', 'NCHW')
    with pytest.raises(ValueError, match="data_format must be 'NHWC'"):
        model(tf.zeros([1, 32, 32, 3]), config=bad)
    with pytest.raises(ValueError, match="drop_path_keep_prob .*1.5"):
        model(
            tf.zeros([1, 32, 32, 3]),
            config=bad.replace(data_format='NHWC', drop_path_keep_prob=1.5),
        )
    with pytest.raises(ValueError, match='at least 3x3'):
        model(tf.zeros([1, 2, 2, 3]))
    with pytest.raises(ValueError, match='images must have shape'):
        model(tf.zeros([32, 32, 3]))
    with pytest.raises(ValueError, match="set_hparam: name .*'num_cell'"):
        bad.set_hparam('num_cell', 3)
    assert not model.variables


def test_aux_head_needs_known_sizes():
    import slim

    model = slim.Model(nasnet_checks.scoped('nasnet_mobile'), is_training=True)
    fn = tf.function(model, autograph=False)
    with pytest.raises(ValueError, match='use_aux_head=0'):
        fn.get_concrete_function(tf.TensorSpec([1, None, None, 3]))


def test_configs_and_signatures_are_research_slims():
    from nets.nasnet import nasnet

    assert nasnet.cifar_config().values() == dict(
        stem_multiplier=3.0,
        drop_path_keep_prob=0.6,
        num_cells=18,
        use_aux_head=1,
        num_conv_filters=32,
        dense_dropout_keep_prob=1.0,
        filter_scaling_rate=2.0,
        num_reduction_layers=2,
        data_format='NHWC',
        skip_reduction_layer_input=0,
        total_training_steps=937500,
        use_bounded_activation=False,
    )
    large = nasnet.large_imagenet_config()
    assert (
        large.num_conv_filters,
        large.drop_path_keep_prob,
        large.skip_reduction_layer_input,
        large.total_training_steps,
    ) == (168, 0.7, 1, 250000)
    mobile = nasnet.mobile_imagenet_config()
    assert (
        mobile.num_conv_filters,
        mobile.num_cells,
        mobile.stem_multiplier,
        mobile.drop_path_keep_prob,
    ) == (44, 12, 1.0, 1.0)
    for fn, size in (
        (nasnet.build_nasnet_cifar, 32),
        (nasnet.build_nasnet_mobile, 224),
        (nasnet.build_nasnet_large, 331),
    ):
        assert fn.default_image_size == size
        assert list(inspect.signature(fn).parameters) == [
            'images',
            'num_classes',
            'is_training',
            'final_endpoint',
            'config',
            'current_step',
        ]
    defaults = {
        fn: inspect.signature(fn).parameters
        for fn in (
            nasnet.nasnet_cifar_arg_scope,
            nasnet.nasnet_mobile_arg_scope,
            nasnet.nasnet_large_arg_scope,
        )
    }
    assert [
        [p.default for p in params.values()] for params in defaults.values()
    ] == [[5e-4, 0.9, 1e-5], [4e-5, 0.9997, 1e-3], [5e-5, 0.9997, 1e-3]]


if __name__ == '__main__':
    import conftest  # noqa: F401

    nasnet_checks.write_goldens()
