"""Tests nets/mobilenet/ (the builder, the blocks) and MobileNet v2.

The golden files (tests/golden/mobilenet_v2*.json) are written from our net
and held to facts that do not come from our code:

- TF-Slim's layers and TF1's naming: our net files, run on TF-Slim 1.1.0 in
  a TF1 graph (`mobilenet_oracle.on_tf_slim`), create the same variables;
  that run's checkpoint restores by name into our net, whose end points
  (names, order, values) then match, eagerly and under `tf.function`;
- research/slim's mobilenet_v2_test.py: end points and their sizes, output
  strides, the depth arithmetic of `divisible_by` and `min_depth`;
- the published parameter counts (3.47 M, 6.06 M, 1.66 M).

Run as a script to rewrite the golden files from our net:
    python tests/test_mobilenet_v2.py
"""

import inspect

import numpy as np
import pytest
import tensorflow as tf

from mobilenet_oracle import (
    FILES,
    PUBLISHED_MILLIONS,
    assert_matches_oracle,
    load_golden,
    on_tf_slim,
    port_to_tf_slim,
    read_source,
    restored_comparison,
    weights_and_biases,
    write_goldens,
)
from net_oracle import RTOL

NAMES = ['mobilenet_v2', 'mobilenet_v2_140', 'mobilenet_v2_035']

__all__ = ['on_tf_slim']  # the fixture, imported for pytest


@pytest.fixture(scope='module')
def run_224(on_tf_slim, tmp_path_factory):
    return restored_comparison(
        'mobilenet_v2', 224, tmp_path_factory.mktemp('mobilenet_v2'), on_tf_slim
    )


# ---------------------------------------------------------------- oracle


def test_the_oracle_changes_imports_only():
    for name in FILES:
        source = read_source(name)
        changed = [
            (a, b)
            for a, b in zip(
                source.split('\n'), port_to_tf_slim(source).split('\n')
            )
            if a != b
        ]
        assert changed, name
        for before, after in changed:
            assert before.startswith(
                ('import slim', 'from nets.mobilenet import')
            )
            assert after.startswith(('import ', 'from '))


def test_restored_mobilenet_v2_matches_tf_slim(run_224):
    assert_matches_oracle(run_224, 'mobilenet_v2')
    # 72 end points: 19 layers, 17 'output', 17 'depthwise_output', 16
    # 'expansion_output' (the first block does not expand), the head's 3.
    assert len(run_224['keys']) == 72


def test_regularization_losses_match_tf_slim(run_224):
    # The training scope penalises the convolution weights (35 convolutions
    # and the logits), not the depthwise ones.
    ours, theirs = run_224['our_losses'], run_224['losses']
    assert len(ours) == len(theirs) == 36
    np.testing.assert_allclose(sum(ours), sum(theirs), rtol=RTOL)


# ---------------------------------------------------------------- facts


@pytest.mark.parametrize('name', NAMES)
def test_golden_has_the_published_size(name):
    golden = load_golden(name)
    count = weights_and_biases(golden)
    # Published to the digits shown: 3.47 M is 3,472,041 here.
    assert round(count / 1e6, 2) == PUBLISHED_MILLIONS[name]
    assert len(golden) == 262
    assert golden['MobilenetV2/Logits/Conv2d_1c_1x1/biases'] == [1001]


def test_golden_has_the_checkpoints_names():
    golden = load_golden('mobilenet_v2')
    # Quoted from mobilenet_v2_1.0_224.ckpt's variable list.
    for name, shape in {
        'MobilenetV2/Conv/weights': [3, 3, 3, 32],
        'MobilenetV2/Conv/BatchNorm/gamma': [32],
        'MobilenetV2/expanded_conv/depthwise/depthwise_weights': [3, 3, 32, 1],
        'MobilenetV2/expanded_conv/project/weights': [1, 1, 32, 16],
        'MobilenetV2/expanded_conv_1/expand/weights': [1, 1, 16, 96],
        'MobilenetV2/expanded_conv_16/project/BatchNorm/moving_mean': [320],
        'MobilenetV2/Conv_1/weights': [1, 1, 320, 1280],
        'MobilenetV2/Logits/Conv2d_1c_1x1/weights': [1, 1, 1280, 1001],
    }.items():
        assert golden.get(name) == shape, name
    assert 'MobilenetV2/expanded_conv/expand/weights' not in golden
    # The 1.4 net widens every layer, the 0.35 one keeps the last at 1280.
    assert load_golden('mobilenet_v2_140')['MobilenetV2/Conv_1/weights'] == [
        1,
        1,
        448,
        1792,
    ]
    assert load_golden('mobilenet_v2_035')['MobilenetV2/Conv_1/weights'] == [
        1,
        1,
        112,
        1280,
    ]


def test_end_points_as_research_slim(run_224):
    model = run_224['model']
    _, end_points = model(tf.zeros([1, 224, 224, 3]))
    # testCreation: the depthwise outputs are exposed.
    for i in range(2, 17):
        assert 'layer_%d/depthwise_output' % i in end_points
    assert end_points['layer_5/expansion_output'].shape == (1, 56, 56, 144)
    assert end_points['layer_5/depthwise_output'].shape == (1, 28, 28, 144)
    assert end_points['layer_5/output'].shape == (1, 28, 28, 32)
    assert end_points['layer_19'].shape == (1, 7, 7, 1280)
    assert end_points['global_pool'].shape == (1, 1, 1, 1280)
    assert end_points['Predictions'].shape == (1, 1001)
    # testImageSizes.
    for size, out in [(192, 6), (160, 5), (128, 4), (96, 3)]:
        _, end_points = model(tf.zeros([1, size, size, 3]))
        assert end_points['layer_18/output'].shape[1:3] == (out, out)


def test_output_stride_and_explicit_padding(run_224):
    # testWithOutputStride8/16(AndExplicitPadding): dilation instead of
    # stride past the target, same variables.
    model = run_224['model']
    count = len(model.variables)
    images = tf.zeros([1, 224, 224, 3])
    for stride, explicit, size in [(16, False, 14), (8, True, 28)]:
        net, end_points = model(
            images,
            base_only=True,
            output_stride=stride,
            use_explicit_padding=explicit,
        )
        assert net.shape[1:3] == (size, size)
        assert 'Logits' not in end_points
    assert len(model.variables) == count


def test_no_classes_gives_the_pooled_features(run_224):
    # testCreationNoClasses.
    model = run_224['model']
    count = len(model.variables)
    for num_classes in (None, 0):
        net, end_points = model(
            tf.zeros([2, 96, 96, 3]), num_classes=num_classes
        )
        assert net is end_points['global_pool']
        assert net.shape == (2, 1, 1, 1280)
        assert 'Logits' not in end_points
    assert len(model.variables) == count


def test_final_endpoint_stops_the_base():
    import slim
    from nets.mobilenet import mobilenet_v2

    model = slim.Model(mobilenet_v2.mobilenet_base)
    net, end_points = model(tf.zeros([1, 32, 32, 3]), final_endpoint='layer_3')
    assert net is end_points['layer_3']
    assert list(end_points) == [
        'layer_1',
        'layer_2',
        'layer_3',
        'layer_2/depthwise_output',
        'layer_2/output',
        'layer_3/expansion_output',
        'layer_3/depthwise_output',
        'layer_3/output',
    ]
    assert {v.name.split('/')[1] for v in model.variables} == {
        'Conv',
        'expanded_conv',
        'expanded_conv_1',
    }


def test_depths_as_research_slim():
    # testDivisibleBy: the depths of the (non-depthwise) convolutions.
    import slim
    from nets.mobilenet import mobilenet_v2

    with tf.Graph().as_default():
        model = slim.Model(
            mobilenet_v2.mobilenet, divisible_by=16, min_depth=32
        )
        model(tf.compat.v1.placeholder(tf.float32, [1, 224, 224, 16]))
        depths = {
            v.shape[-1]
            for v in model.variables
            if v.name.endswith('/weights:0')
        }
    assert depths == {32, 64, 96, 160, 192, 320, 384, 576, 960, 1280, 1001}


def test_split_expansion_and_v1_separable_blocks():
    import slim
    from nets.mobilenet import conv_blocks

    def blocks(images):
        # testWithSplits, on one block: the expansion in two groups.
        net = conv_blocks.expanded_conv(
            images, 16, split_expansion=2, normalizer_fn=slim.batch_norm
        )
        return conv_blocks.split_separable_conv2d(net, 24, scope='Conv2d_1')

    model = slim.Model(blocks)
    net = model(tf.zeros([1, 8, 8, 16]))
    assert net.shape == (1, 8, 8, 24)
    shapes = {
        v.name[:-2]: v.shape.as_list()
        for v in model.variables
        if v.name.endswith('weights:0')
    }
    assert shapes == {
        'expanded_conv/expand_part_0/weights': [1, 1, 8, 48],
        'expanded_conv/expand_part_1/weights': [1, 1, 8, 48],
        'expanded_conv/depthwise/depthwise_weights': [3, 3, 96, 1],
        'expanded_conv/project/weights': [1, 1, 96, 16],
        # MobileNet v1's checkpoint names.
        'Conv2d_1_depthwise/depthwise_weights': [3, 3, 16, 1],
        'Conv2d_1_pointwise/weights': [1, 1, 16, 24],
    }


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    'kwargs,match',
    [
        (
            {'final_endpoint': 'layer_20'},
            r"final_endpoint .*'layer_19', got "
            r"'layer_20'",
        ),
        (
            {'depth_multiplier': 0},
            r'depth_multiplier must be greater than 0, '
            r'got 0',
        ),
        (
            {'output_stride': 3},
            r'output_stride must be None, 1 or a multiple of '
            r'2, got 3',
        ),
        ({'multiplier': 0.5}, r'got multiplier=0.5; use depth_multiplier='),
    ],
)
def test_bad_arguments_are_one_clear_line(kwargs, match):
    import slim
    from nets.mobilenet import mobilenet_v2

    model = slim.Model(mobilenet_v2.mobilenet)
    with pytest.raises(ValueError, match=match) as error:
        model(tf.zeros([1, 32, 32, 3]), **kwargs)
    assert '\n' not in str(error.value)
    assert not model.variables


@pytest.mark.parametrize(
    'shape,match',
    [
        ([32, 32, 3], r'inputs must have rank 4 .* got shape \(32, 32, 3\)'),
        (
            [1, 0, 32, 3],
            r'inputs must be at least 1 x 1, got shape '
            r'\(1, 0, 32, 3\)',
        ),
    ],
)
def test_bad_inputs_are_refused(shape, match):
    import slim
    from nets.mobilenet import mobilenet_v2

    model = slim.Model(mobilenet_v2.mobilenet)
    with pytest.raises(ValueError, match=match):
        model(tf.zeros(shape))
    assert not model.variables


def test_unknown_depthwise_location_is_refused():
    import slim
    from nets.mobilenet import conv_blocks

    model = slim.Model(
        conv_blocks.expanded_conv, num_outputs=8, depthwise_location='middle'
    )
    with pytest.raises(TypeError, match=r"depthwise_location .* got 'middle'"):
        model(tf.zeros([1, 4, 4, 8]))


# ---------------------------------------------------------------- API


def test_signatures_and_defaults_are_research_slims():
    from nets.mobilenet import mobilenet, mobilenet_v2

    def defaults(fn):
        return {
            k: p.default
            for k, p in inspect.signature(fn).parameters.items()
            if p.default is not p.empty
        }

    assert defaults(mobilenet_v2.mobilenet) == {
        'num_classes': 1001,
        'depth_multiplier': 1.0,
        'scope': 'MobilenetV2',
        'conv_defs': None,
        'finegrain_classification_mode': False,
        'min_depth': None,
        'divisible_by': None,
        'activation_fn': None,
    }
    assert defaults(mobilenet.mobilenet_base) == {
        'multiplier': 1.0,
        'final_endpoint': None,
        'output_stride': None,
        'use_explicit_padding': False,
        'scope': None,
        'is_training': False,
    }
    assert defaults(mobilenet.training_scope) == {
        'is_training': True,
        'weight_decay': 0.00004,
        'stddev': 0.09,
        'dropout_keep_prob': 0.8,
        'bn_decay': 0.997,
    }
    assert mobilenet_v2.mobilenet.default_image_size == 224
    assert mobilenet_v2.mobilenet_v2_140.keywords == {'depth_multiplier': 1.4}
    assert mobilenet_v2.mobilenet_v2_035.keywords == {
        'depth_multiplier': 0.35,
        'finegrain_classification_mode': True,
    }
    assert mobilenet_v2.mobilenet_v2_035.default_image_size == 224


def test_training_scope_sets_training_and_weight_decay():
    import slim
    from nets.mobilenet import mobilenet

    scope = mobilenet.training_scope(is_training=None)
    assert (
        'is_training'
        not in scope[slim.scopes.arg_scope_func_key(slim.batch_norm)]
    )
    for is_training in (True, False):
        scope = mobilenet.training_scope(is_training=is_training)
        batch_norm = scope[slim.scopes.arg_scope_func_key(slim.batch_norm)]
        assert batch_norm == {'decay': 0.997, 'is_training': is_training}
    dropout = scope[slim.scopes.arg_scope_func_key(slim.dropout)]
    assert dropout == {'is_training': False, 'keep_prob': 0.8}


if __name__ == '__main__':
    import conftest  # noqa: F401  (puts the work tree first on sys.path)

    write_goldens(NAMES)
