"""Tests nets/s3dg.py and the blocks of nets/i3d_utils.py: names, shapes and
numerics.

tf_slim 1.1.0 ships no S3D-G, so there is no ready oracle. The golden file
(tests/golden/s3dg.json) is written from our net, and these tests hold it to
facts that do not come from our code:

- research/slim's s3dg_test.py: the end points and their shapes for 64
  frames of 224 x 224, and the end points built up to each final end point
  without gating;
- TF1's naming: our net files, run on TF-Slim 1.1.0's layers and
  `tf.compat.v1.variable_scope` in a graph (tests/video_oracle.py), must
  create the same variables; its weights, saved by a TF1 `Saver`, restore by
  name into our net, and every end point must agree, called eagerly and
  under `tf.function`;
- the paper's gating, `x * sigmoid(W mean(x))`, and research/slim's way of
  computing it (a pool over the whole map, tiled back), written here with
  TensorFlow's ops.

research/slim's own s3dg.py, run once offline under tf_slim 1.1.0, gave the
same 305 variables (10,148,408 values with the batch-norm statistics, for
1000 classes) and logits within 1e-7 of ours from one checkpoint.

Run as a script to rewrite the golden file from our net:
    python tests/test_s3dg.py
"""

import inspect

import numpy as np
import pytest
import tensorflow as tf

from net_oracle import (
    RTOL,
    assert_close,
    load_golden,
    variable_shapes,
    write_golden,
)
from video_oracle import run_restored

# research/slim's s3dg_test.py, testBuildAndCheckAllEndPointsUptoMixed5c:
# batch 5, 64 frames of 224 x 224.
END_POINT_SHAPES = {
    'Conv2d_1a_7x7': [5, 32, 112, 112, 64],
    'MaxPool_2a_3x3': [5, 32, 56, 56, 64],
    'Conv2d_2b_1x1': [5, 32, 56, 56, 64],
    'Conv2d_2c_3x3': [5, 32, 56, 56, 192],
    'MaxPool_3a_3x3': [5, 32, 28, 28, 192],
    'Mixed_3b': [5, 32, 28, 28, 256],
    'Mixed_3c': [5, 32, 28, 28, 480],
    'MaxPool_4a_3x3': [5, 16, 14, 14, 480],
    'Mixed_4b': [5, 16, 14, 14, 512],
    'Mixed_4c': [5, 16, 14, 14, 512],
    'Mixed_4d': [5, 16, 14, 14, 512],
    'Mixed_4e': [5, 16, 14, 14, 528],
    'Mixed_4f': [5, 16, 14, 14, 832],
    'MaxPool_5a_2x2': [5, 8, 7, 7, 832],
    'Mixed_5b': [5, 8, 7, 7, 832],
    'Mixed_5c': [5, 8, 7, 7, 1024],
}
BASE_END_POINTS = list(END_POINT_SHAPES)
BLOCKS = [name for name in BASE_END_POINTS if name.startswith('Mixed')]
# The branch convolutions a block gates (research/slim's self_gating_fn
# scopes).
GATED_BRANCHES = [
    'Branch_0/Conv2d_0a_1x1',
    'Branch_1/Conv2d_0b_3x3',
    'Branch_2/Conv2d_0b_3x3',
    'Branch_3/Conv2d_0b_1x1',
]


def _scoped_s3dg(clips, arg_scope_kwargs=None, **kwargs):
    import slim
    from nets import s3dg

    with slim.arg_scope(s3dg.s3dg_arg_scope(**(arg_scope_kwargs or {}))):
        return s3dg.s3dg(clips, **kwargs)


def _scoped_base(clips, **kwargs):
    import slim
    from nets import s3dg

    with slim.arg_scope(s3dg.s3dg_arg_scope()):
        return s3dg.s3dg_base(clips, **kwargs)


@pytest.fixture(scope='module')
def run_small(tmp_path_factory):
    """Our net and its TF-Slim run on the same weights: 2 clips of 8 frames of
    64 x 64, inference mode."""
    return run_restored('s3dg', _scoped_s3dg, tmp_path_factory)


def test_golden_is_our_net_and_tf1s_names(run_small):
    golden = load_golden('s3dg')
    assert len(golden) == 305
    assert variable_shapes(run_small['model']) == golden
    assert run_small['shapes'] == golden
    assert sorted(run_small['restored']) == sorted(golden)


def test_golden_is_i3ds_separated_and_gated():
    # research/slim builds both with one trunk: S3D-G is I3D with a 3-frame
    # first kernel, the 19 3x3x3 convolutions split into 1x3x3 and 3x1x1
    # (with biases), and a channels x channels gating map on Conv2d_2c_3x3 and
    # on each branch of the 9 blocks.
    expected = dict(load_golden('i3d'))
    expected['InceptionV1/Conv2d_1a_7x7/weights'][0] = 3
    for name, shape in list(expected.items()):
        if name.endswith('Conv2d_2c_3x3/weights') or name.endswith(
            'Conv2d_0b_3x3/weights'
        ):
            scope = name[: -len('/weights')]
            channels = shape[-1]
            expected[name] = [1] + shape[1:]
            expected[scope + '/temporal/weights'] = [
                3,
                1,
                1,
                channels,
                channels,
            ]
            expected[scope + '/temporal/biases'] = [channels]
    gated = ['InceptionV1/Conv2d_2c_3x3'] + [
        'InceptionV1/%s/%s' % (block, branch)
        for block in BLOCKS
        for branch in GATED_BRANCHES
    ]
    for scope in gated:
        channels = expected[scope + '/weights'][-1]
        expected[scope + '/self_gating/transformer_W/weights'] = [
            1,
            1,
            1,
            channels,
            channels,
        ]
    assert len(gated) == 37
    assert load_golden('s3dg') == expected


@pytest.mark.parametrize('how', ['eager', 'compiled'])
def test_restored_matches_tf_slim(run_small, how):
    ours, theirs = run_small['outputs'][how], run_small['theirs']
    assert (
        set(ours)
        == set(theirs)
        == set(END_POINT_SHAPES) | {'Logits', 'Predictions', 'logits'}
    )
    for name, value in theirs.items():
        assert_close(ours[name], value, name)
    assert ours['logits'].shape == (2, 1000)


def test_regularization_losses_match_tf_slim(run_small):
    ours = run_small['our_losses']
    # An L2 penalty on every convolution's weights: the temporal halves' and
    # the gating maps' included.
    assert len(ours) == len(run_small['losses']) == 114
    np.testing.assert_allclose(sum(ours), sum(run_small['losses']), rtol=RTOL)


def test_end_point_shapes_as_research_slim():
    from nets import nets_factory

    # testBuildClassificationNetwork and testBuildAndCheckAllEndPointsUptoMixed5c:
    # shapes only, so a graph build.
    with tf.Graph().as_default():
        model = nets_factory.get_network_fn('s3dg', 1000)
        logits, end_points = model(
            tf.compat.v1.placeholder(tf.float32, [5, 64, 224, 224, 3])
        )
        assert logits.shape == (5, 1000)
        assert end_points['Predictions'].shape == (5, 1000)
        assert {
            k: v.shape.as_list()
            for k, v in end_points.items()
            if k not in ('Logits', 'Predictions')
        } == END_POINT_SHAPES


def test_base_stops_at_final_endpoints_without_gating():
    import slim
    from nets import s3dg

    assert s3dg.BASE_END_POINTS == tuple(BASE_END_POINTS)
    # research/slim's testBuildOnlyUptoFinalEndpointNoGating, for the end
    # points of the first half. One model for all: a call that built past its
    # end point would create the variables of the next scopes.
    model = slim.Model(_scoped_base, gating_startat=None)
    clips = tf.zeros([1, 4, 32, 32, 3])
    for final_endpoint in (
        'Conv2d_1a_7x7',
        'MaxPool_2a_3x3',
        'Conv2d_2c_3x3',
        'Mixed_3b',
        'MaxPool_4a_3x3',
    ):
        index = BASE_END_POINTS.index(final_endpoint)
        net, end_points = model(clips, final_endpoint=final_endpoint)
        assert list(end_points) == BASE_END_POINTS[: index + 1]
        assert net is end_points[final_endpoint]
        assert net.shape[-1] == END_POINT_SHAPES[final_endpoint][-1]
        scopes = {v.name.split('/')[1] for v in model.variables}
        assert scopes == {
            name
            for name in BASE_END_POINTS[: index + 1]
            if not name.startswith('MaxPool')
        }, final_endpoint
    assert not [v for v in model.variables if 'self_gating' in v.name]


def test_temporal_convolutions_and_gating_start_where_asked():
    import slim

    model = slim.Model(
        _scoped_base,
        final_endpoint='Mixed_3c',
        temporal_conv_startat='Mixed_3b',
        gating_startat='Mixed_3c',
        first_temporal_kernel_size=1,
    )
    model(tf.zeros([1, 2, 16, 16, 3]))
    shapes = variable_shapes(model)
    # Before Mixed_3b the 3x3 convolution is 2-D (1x3x3, not split); from it
    # on they are separable; only Mixed_3c is gated.
    assert shapes['InceptionV1/Conv2d_1a_7x7/weights'] == [1, 7, 7, 3, 64]
    assert shapes['InceptionV1/Conv2d_2c_3x3/weights'] == [1, 3, 3, 64, 192]
    assert 'InceptionV1/Conv2d_2c_3x3/temporal/weights' not in shapes
    assert shapes[
        'InceptionV1/Mixed_3b/Branch_1/Conv2d_0b_3x3/temporal/weights'
    ] == [3, 1, 1, 128, 128]
    gates = sorted(
        n.split('/self_gating')[0] for n in shapes if 'self_gating' in n
    )
    assert gates == sorted(
        'InceptionV1/Mixed_3c/' + branch for branch in GATED_BRANCHES
    )


def test_depth_multiplier_and_min_depth():
    import slim

    model = slim.Model(
        _scoped_base,
        final_endpoint='Mixed_3b',
        depth_multiplier=0.5,
        min_depth=16,
    )
    net, end_points = model(tf.zeros([1, 2, 16, 16, 3]))
    # Mixed_3b: 64, 128, 32, 32 filters halved, but none below 16.
    assert net.shape[-1] == 32 + 64 + 16 + 16
    assert end_points['Conv2d_2c_3x3'].shape[-1] == 96
    assert (
        model.get_variable(
            'InceptionV1/Mixed_3b/Branch_2/Conv2d_0a_1x1/weights'
        ).shape[-1]
        == 16
    )


@pytest.mark.parametrize(
    'kwargs,message',
    [
        (
            {'final_endpoint': 'Mixed_6a'},
            r"final_endpoint must be one of \[.*'Mixed_5c'\], got 'Mixed_6a'",
        ),
        (
            {'first_temporal_kernel_size': 2},
            'first_temporal_kernel_size must be one of 1, 3, 5, 7, got 2',
        ),
        (
            {'gating_startat': 'MaxPool_3a_3x3'},
            r"gating_startat must be None or one of \['Conv2d_2c_3x3', .*\], got "
            r"'MaxPool_3a_3x3'",
        ),
        (
            {'temporal_conv_startat': 'mixed_3b'},
            "temporal_conv_startat must be None or one of .*, got 'mixed_3b'",
        ),
        (
            {'data_format': 'NHWC'},
            r"data_format must be one of \['NDHWC', 'NCDHW'\], got 'NHWC'",
        ),
        ({'data_format': 'NCDHW'}, "data_format='NCDHW' is not supported"),
        (
            {'depth_multiplier': 0},
            'depth_multiplier must be greater than zero .*, got 0',
        ),
    ],
)
def test_bad_arguments_are_refused_before_building(kwargs, message):
    import slim

    for fn in (_scoped_s3dg, _scoped_base):
        model = slim.Model(fn, **kwargs)
        with pytest.raises(ValueError, match=message):
            model(tf.zeros([1, 2, 16, 16, 3]))
        assert not model.variables


def test_images_and_empty_clips_are_refused_before_building():
    import slim
    from nets import i3d

    for fn in (_scoped_s3dg, i3d.i3d):
        model = slim.Model(fn)
        with pytest.raises(
            ValueError,
            match=r'inputs must be clips of rank 5 '
            r'\[batch, frames, height, width, channels\], got '
            r'shape \(2, 32, 32, 3\): this is a video net',
        ):
            model(tf.zeros([2, 32, 32, 3]))
        with pytest.raises(
            ValueError,
            match=r'at least 1 frame of 1 x 1, got '
            r'shape \(1, 8, 0, 0, 3\)',
        ):
            model(tf.zeros([1, 8, 0, 0, 3]))
        assert not model.variables


def test_self_gating_is_the_papers_and_research_slims():
    import slim
    from nets import s3dg

    rng = np.random.RandomState(0)
    x = tf.constant(rng.uniform(-1, 1, [2, 3, 5, 5, 4]).astype(np.float32))
    model = slim.Model(s3dg.self_gating, scope='Gate')
    gated = model(x)
    weights = model.get_variable('Gate/self_gating/transformer_W/weights')
    assert weights.shape == (1, 1, 1, 4, 4)
    assert [v.name for v in model.variables] == [weights.name]  # no biases
    w = tf.reshape(weights, [4, 4])
    # The paper: x * sigmoid(W mean(x)), the mean over frames and positions.
    mean = tf.reduce_mean(x, [1, 2, 3])
    expected = x * tf.sigmoid(tf.matmul(mean, w))[:, None, None, None, :]
    assert_close(gated, expected, 'gated')
    # research/slim: a pool over the whole map, tiled back.
    pooled = tf.nn.avg_pool3d(x, [1, 3, 5, 5, 1], [1] * 5, 'VALID')
    tiled = tf.tile(
        tf.nn.conv3d(pooled, weights, [1] * 5, 'VALID'), [1, 3, 5, 5, 1]
    )
    assert_close(gated, tf.sigmoid(tiled) * x, 'gated')
    # Other shapes than research/slim's square ones, and unknown sizes.
    y = tf.constant(rng.uniform(-1, 1, [1, 2, 3, 7, 4]).astype(np.float32))
    traced = tf.function(model, autograph=False).get_concrete_function(
        tf.TensorSpec([None, None, None, None, 4])
    )
    mean = tf.reduce_mean(y, [1, 2, 3])
    assert_close(
        traced(y),
        y * tf.sigmoid(tf.matmul(mean, w))[:, None, None, None, :],
        'traced',
    )


def test_conv3d_spatiotemporal_splits_kernel_and_stride():
    import slim
    from nets import i3d_utils

    model = slim.Model(
        i3d_utils.conv3d_spatiotemporal,
        num_outputs=4,
        kernel_size=[3, 3, 3],
        stride=[2, 1, 2],
        separable=True,
        scope='Conv',
    )
    out = model(tf.ones([1, 6, 6, 6, 2]))
    assert out.shape == (1, 3, 6, 3, 4)
    assert variable_shapes(model) == {
        'Conv/weights': [1, 3, 3, 2, 4],
        'Conv/biases': [4],
        'Conv/temporal/weights': [3, 1, 1, 4, 4],
        'Conv/temporal/biases': [4],
    }
    # Not separable, or a temporal size of 1: one convolution.
    model = slim.Model(
        i3d_utils.conv3d_spatiotemporal,
        num_outputs=4,
        kernel_size=[1, 3, 3],
        stride=2,
        separable=True,
        scope='Conv',
    )
    assert model(tf.ones([1, 6, 6, 6, 2])).shape == (1, 3, 3, 3, 4)
    assert variable_shapes(model) == {
        'Conv/weights': [1, 3, 3, 2, 4],
        'Conv/biases': [4],
    }
    with pytest.raises(ValueError, match='needs a scope'):
        slim.Model(
            i3d_utils.conv3d_spatiotemporal,
            num_outputs=4,
            kernel_size=[3, 3, 3],
            separable=True,
        )(tf.ones([1, 3, 3, 3, 2]))
    with pytest.raises(ValueError, match=r'kernel_size must have 3 values'):
        slim.Model(
            i3d_utils.conv3d_spatiotemporal, num_outputs=4, kernel_size=[3, 3]
        )(tf.ones([1, 3, 3, 3, 2]))


def test_signature_and_defaults_are_research_slims():
    import slim
    from nets import s3dg

    params = inspect.signature(s3dg.s3dg).parameters
    assert {k: p.default for k, p in params.items() if k != 'inputs'} == {
        'num_classes': 1000,
        'first_temporal_kernel_size': 3,
        'temporal_conv_startat': 'Conv2d_2c_3x3',
        'gating_startat': 'Conv2d_2c_3x3',
        'final_endpoint': 'Mixed_5c',
        'min_depth': 16,
        'depth_multiplier': 1.0,
        'dropout_keep_prob': 0.8,
        'is_training': True,
        'prediction_fn': slim.softmax,
        'spatial_squeeze': True,
        'reuse': None,
        'data_format': 'NDHWC',
        'scope': 'InceptionV1',
    }
    params = inspect.signature(s3dg.s3dg_base).parameters
    assert {k: p.default for k, p in params.items() if k != 'inputs'} == {
        'first_temporal_kernel_size': 3,
        'temporal_conv_startat': 'Conv2d_2c_3x3',
        'gating_startat': 'Conv2d_2c_3x3',
        'final_endpoint': 'Mixed_5c',
        'min_depth': 16,
        'depth_multiplier': 1.0,
        'data_format': 'NDHWC',
        'scope': 'InceptionV1',
    }
    params = inspect.signature(s3dg.s3dg_arg_scope).parameters
    assert {k: p.default for k, p in params.items()} == {
        'weight_decay': 1e-7,
        'batch_norm_decay': 0.999,
        'batch_norm_epsilon': 0.001,
    }
    assert s3dg.s3dg.default_image_size == 224


if __name__ == '__main__':
    import conftest  # noqa: F401  (puts the work tree first on sys.path)
    import slim

    model = slim.Model(_scoped_s3dg, num_classes=1000)
    model(tf.zeros([1, 1, 8, 8, 3]))  # the variables fit any input size
    write_golden('s3dg', variable_shapes(model))
