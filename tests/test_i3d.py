"""Tests nets/i3d.py: names, shapes and numerics.

tf_slim 1.1.0 ships no I3D, so there is no ready oracle. The golden file
(tests/golden/i3d.json) is written from our net, and these tests hold it to
facts that do not come from our code:

- research/slim's i3d_test.py: the end points and their shapes for 64
  frames of 224 x 224, of 112 x 112, and 10 frames (testBuildBaseNetwork,
  testBuildAndCheckAllEndPointsUptoMixed5c, testHalfSizeImages,
  testTenFrames);
- TF1's naming: our net files, run on TF-Slim 1.1.0's layers and
  `tf.compat.v1.variable_scope` in a graph (tests/video_oracle.py), must
  create the same variables. That run is also the numerical oracle for our
  layers: its weights, saved by a TF1 `Saver`, restore by name into our net
  with `slim.assign_from_checkpoint`, and every end point must agree, called
  eagerly and under `tf.function`.

research/slim's own i3d.py, run once offline under tf_slim 1.1.0, gave the
same 230 variables (13,319,544 values with the batch-norm statistics, for
1000 classes) and logits within 1e-7 of ours from one checkpoint.

Run as a script to rewrite the golden file from our net:
    python tests/test_i3d.py
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

# research/slim's i3d_test.py, testBuildAndCheckAllEndPointsUptoMixed5c:
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

# The 3x3 convolutions, which separable_conv3d=True splits in two.
THREE_BY_THREE = ['InceptionV1/Conv2d_2c_3x3'] + [
    'InceptionV1/%s/Branch_%d/Conv2d_0b_3x3' % (block, branch)
    for block in (
        'Mixed_3b',
        'Mixed_3c',
        'Mixed_4b',
        'Mixed_4c',
        'Mixed_4d',
        'Mixed_4e',
        'Mixed_4f',
        'Mixed_5b',
        'Mixed_5c',
    )
    for branch in (1, 2)
]


def _scoped_i3d(clips, arg_scope_kwargs=None, **kwargs):
    import slim
    from nets import i3d

    with slim.arg_scope(i3d.i3d_arg_scope(**(arg_scope_kwargs or {}))):
        return i3d.i3d(clips, **kwargs)


@pytest.fixture(scope='module')
def run_small(tmp_path_factory):
    """Our net and its TF-Slim run on the same weights: 2 clips of 8 frames of
    64 x 64, inference mode."""
    return run_restored('i3d', _scoped_i3d, tmp_path_factory)


def test_golden_is_our_net_and_tf1s_names(run_small):
    golden = load_golden('i3d')
    assert len(golden) == 230
    # The variables do not depend on the input size: the golden file's are
    # those of 64 x 224 x 224 clips.
    assert variable_shapes(run_small['model']) == golden
    assert run_small['shapes'] == golden
    assert sorted(run_small['restored']) == sorted(golden)
    # Inception-v1's names, inflated: 7x7x7 first kernel, 3x3x3 ones after.
    assert golden['InceptionV1/Conv2d_1a_7x7/weights'] == [7, 7, 7, 3, 64]
    assert golden['InceptionV1/Mixed_5c/Branch_1/Conv2d_0b_3x3/weights'] == [
        3,
        3,
        3,
        192,
        384,
    ]
    assert golden['InceptionV1/Logits/Conv2d_0c_1x1/weights'] == [
        1,
        1,
        1,
        1024,
        1000,
    ]


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
    # An L2 penalty on every convolution's weights, the logits' included.
    assert len(ours) == len(run_small['losses']) == 58
    np.testing.assert_allclose(sum(ours), sum(run_small['losses']), rtol=RTOL)


def test_end_point_shapes_as_research_slim():
    from nets import nets_factory

    # testBuildClassificationNetwork and testBuildAndCheckAllEndPointsUptoMixed5c:
    # shapes only, so a graph build.
    with tf.Graph().as_default():
        model = nets_factory.get_network_fn('i3d', 1000)
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
        assert variable_shapes(model) == load_golden('i3d')


def test_base_stops_at_a_final_endpoint():
    import slim
    from nets import i3d

    # research/slim's testBuildOnlyUptoFinalEndpoint, for one end point (the
    # trunk is S3D-G's, whose tests try five).
    model = slim.Model(i3d.i3d_base, final_endpoint='MaxPool_3a_3x3')
    net, end_points = model(tf.zeros([1, 4, 32, 32, 3]))
    assert list(end_points) == list(END_POINT_SHAPES)[:5]
    assert net is end_points['MaxPool_3a_3x3']
    assert net.shape == (1, 2, 4, 4, 192)
    assert {v.name.split('/')[1] for v in model.variables} == {
        'Conv2d_1a_7x7',
        'Conv2d_2b_1x1',
        'Conv2d_2c_3x3',
    }
    assert i3d.BASE_END_POINTS == tuple(END_POINT_SHAPES)
    with pytest.raises(ValueError, match="final_endpoint .*got 'Mixed_6a'"):
        slim.Model(i3d.i3d_base, final_endpoint='Mixed_6a')(
            tf.zeros([1, 4, 16, 16, 3])
        )


def test_separable_conv3d_splits_the_3x3x3_convolutions():
    import slim
    from nets import i3d

    def trunk(clips):
        with slim.arg_scope(i3d.i3d_arg_scope(separable_conv3d=True)):
            return i3d.i3d_base(clips, final_endpoint='Mixed_3c')

    model = slim.Model(trunk)
    model(tf.zeros([1, 2, 8, 8, 3]))
    # Each 3x3x3 convolution becomes 1x3x3 (with batch norm), then 3x1x1 in
    # <scope>/temporal with biases; the rest is as the golden file.
    expected = {
        name: shape
        for name, shape in load_golden('i3d').items()
        if name.split('/')[1] in i3d.BASE_END_POINTS[:7]
    }
    split = [
        scope
        for scope in THREE_BY_THREE
        if scope.split('/')[1] in ('Conv2d_2c_3x3', 'Mixed_3b', 'Mixed_3c')
    ]
    assert len(split) == 5
    for scope in split:
        kt, kh, kw, channels_in, channels = expected[scope + '/weights']
        assert (kt, kh, kw) == (3, 3, 3)
        expected[scope + '/weights'] = [1, 3, 3, channels_in, channels]
        expected[scope + '/temporal/weights'] = [3, 1, 1, channels, channels]
        expected[scope + '/temporal/biases'] = [channels]
    assert variable_shapes(model) == expected
    # The temporal kernels start as the identity (center_initializer).
    temporal = model.get_variable(
        'InceptionV1/Mixed_3c/Branch_2/Conv2d_0b_3x3/temporal/weights'
    ).numpy()
    np.testing.assert_array_equal(temporal[1, 0, 0], np.eye(96))
    np.testing.assert_array_equal(temporal[[0, 2]], 0)


def test_center_initializer_refuses_kernels_without_a_centre():
    from nets import i3d_utils

    init = i3d_utils.center_initializer()
    assert init([5, 1, 1, 2, 2]).numpy()[2, 0, 0].tolist() == [[1, 0], [0, 1]]
    for shape, what in (
        ([4, 1, 1, 2, 2], 'odd'),
        ([3, 3, 1, 2, 2], '1 x 1'),
        ([3, 1, 1, 2, 3], 'channels'),
        ([3, 2, 2], '5-D'),
    ):
        with pytest.raises(ValueError, match=what) as error:
            init(shape)
        assert str(shape) in str(error.value)
    with pytest.raises(ValueError, match='float32 or bfloat16, got float16'):
        init([3, 1, 1, 2, 2], dtype=tf.float16)


def test_logits_head_squeezes_only_a_1x1_map():
    import slim
    from nets import s3dg

    # The head of I3D and S3D-G, on Mixed_5c maps: 8 x 7 x 7 (224 x 224
    # inputs), 2 x 2 x 2 (a small clip: the pool shrinks to it) and 8 x 8 x 8
    # (256 x 256: the 7 x 7 pool leaves 2 x 2 logits).
    head = slim.Model(
        s3dg.logits_head,
        num_classes=7,
        dropout_keep_prob=0.8,
        spatial_squeeze=True,
    )
    assert head(tf.zeros([2, 8, 7, 7, 16])).shape == (2, 7)
    assert head(tf.zeros([2, 2, 2, 2, 16])).shape == (2, 7)
    assert head(tf.zeros([2, 8, 7, 7, 16]), spatial_squeeze=False).shape == (
        2,
        1,
        1,
        7,
    )
    with pytest.raises(
        ValueError,
        match='spatial_squeeze=True needs logits of 1 x 1, got 2 x 2',
    ):
        head(tf.zeros([1, 8, 8, 8, 16]))
    assert head(tf.zeros([1, 8, 8, 8, 16]), spatial_squeeze=False).shape == (
        1,
        2,
        2,
        7,
    )
    assert [v.name for v in head.variables] == [
        'Logits/Conv2d_0c_1x1/weights:0',
        'Logits/Conv2d_0c_1x1/biases:0',
    ]


def test_renorm_is_refused_by_name():
    import slim

    model = slim.Model(_scoped_i3d, arg_scope_kwargs={'use_renorm': True})
    with pytest.raises(ValueError, match='renorm=True is not supported'):
        model(tf.zeros([1, 1, 8, 8, 3]))


def test_signature_and_defaults_are_research_slims():
    import slim
    from nets import i3d

    params = inspect.signature(i3d.i3d).parameters
    assert {k: p.default for k, p in params.items() if k != 'inputs'} == {
        'num_classes': 1000,
        'dropout_keep_prob': 0.8,
        'is_training': True,
        'prediction_fn': slim.softmax,
        'spatial_squeeze': True,
        'reuse': None,
        'scope': 'InceptionV1',
    }
    params = inspect.signature(i3d.i3d_base).parameters
    assert {k: p.default for k, p in params.items() if k != 'inputs'} == {
        'final_endpoint': 'Mixed_5c',
        'scope': 'InceptionV1',
    }
    params = inspect.signature(i3d.i3d_arg_scope).parameters
    assert {k: p.default for k, p in params.items()} == {
        'weight_decay': 1e-7,
        'batch_norm_decay': 0.999,
        'batch_norm_epsilon': 0.001,
        'use_renorm': False,
        'separable_conv3d': False,
    }
    assert i3d.i3d.default_image_size == 224


if __name__ == '__main__':
    import conftest  # noqa: F401  (puts the work tree first on sys.path)
    import slim

    model = slim.Model(_scoped_i3d, num_classes=1000)
    model(tf.zeros([1, 1, 8, 8, 3]))  # the variables fit any input size
    write_golden('i3d', variable_shapes(model))
