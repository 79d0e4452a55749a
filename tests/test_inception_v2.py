"""Tests nets/inception_v2.py against TF-Slim 1.1.0's Inception-v2 (the oracle).

The oracle runs in graph mode with random weights (batch norm statistics and
biases randomised too), saves them with a TF1 Saver, and our net restores
that checkpoint by name; then every end point must agree. TF-Slim 1.1.0's
inception_v2 is research/slim's without the later global_pool,
num_classes=None, use_separable_conv, data_format and include_root_block.
The oracle graph adds research/slim's global pool head and its normal
(not separable) first convolution on tf_slim layers, and
include_root_block=False is checked by starting our net from the oracle's
own MaxPool_3a_3x3.

Run as a script to rewrite tests/golden/inception_v2.json from the oracle:
    python tests/test_inception_v2.py
"""

import numpy as np
import pytest
import tensorflow as tf

from net_oracle import (
    RTOL,
    assert_close,
    load_golden,
    run_graph_net,
    variable_shapes,
    write_golden,
)

NUM_CLASSES = 1001  # the released inception_v2.ckpt, with a background class

# research/slim's normal first convolution, which the oracle adds beside
# TF-Slim's separable one.
NORMAL_STEM = (
    'InceptionV2/Conv2d_1a_7x7/weights',
    'InceptionV2/Conv2d_1a_7x7/BatchNorm/beta',
    'InceptionV2/Conv2d_1a_7x7/BatchNorm/moving_mean',
    'InceptionV2/Conv2d_1a_7x7/BatchNorm/moving_variance',
)


# ---------------------------------------------------------------- the oracle


def oracle_graph(num_classes=NUM_CLASSES):
    """TF-Slim's inception_v2 for 224 x 224 inputs, built and never run:
    {variable name: shape}."""
    import tf_slim
    from tf_slim.nets import inception_v2

    with tf.Graph().as_default():
        inputs = tf.compat.v1.placeholder(tf.float32, [1, 224, 224, 3])
        with tf_slim.arg_scope(inception_v2.inception_v2_arg_scope()):
            inception_v2.inception_v2(inputs, num_classes, is_training=False)
        return {
            v.op.name: v.shape.as_list()
            for v in tf.compat.v1.global_variables()
        }


def oracle_inception_v2(images, large_images, ckpt_prefix):
    """TF-Slim's inception_v2 on two inputs, its weights saved to `ckpt_prefix`.

    Returns:
      shapes: {variable name: shape}, with `NORMAL_STEM`.
      outputs: {'default': end points and 'logits' for `images`;
        'large': end points for `large_images` with spatial_squeeze=False;
        'global_pool': research/slim's global_pool head on 'large';
        'normal_stem': research/slim's use_separable_conv=False first layer
        on `images`}.
      losses: the values of the graph's regularization losses.
    """
    import tf_slim
    from tf_slim.nets import inception_v2

    def build(inputs):
        with tf_slim.arg_scope(inception_v2.inception_v2_arg_scope()):
            logits, default = inception_v2.inception_v2(
                inputs, NUM_CLASSES, is_training=False
            )
            _, large = inception_v2.inception_v2(
                tf.constant(large_images),
                NUM_CLASSES,
                is_training=False,
                spatial_squeeze=False,
                reuse=True,
            )
            # research/slim's global_pool: Mixed_5c averaged, then the logits
            # (inference mode, so without the dropout).
            pooled = tf.reduce_mean(large['Mixed_5c'], [1, 2], keepdims=True)
            with tf.compat.v1.variable_scope('InceptionV2/Logits', reuse=True):
                pooled_logits = tf.squeeze(
                    tf_slim.conv2d(
                        pooled,
                        NUM_CLASSES,
                        [1, 1],
                        activation_fn=None,
                        normalizer_fn=None,
                        scope='Conv2d_1c_1x1',
                    ),
                    [1, 2],
                )
            # research/slim's use_separable_conv=False: a normal convolution
            # (under the arg scope, so with batch norm) as the first layer.
            with (
                tf.compat.v1.variable_scope('InceptionV2'),
                tf_slim.arg_scope([tf_slim.batch_norm], is_training=False),
            ):
                normal_stem = tf_slim.conv2d(
                    inputs,
                    64,
                    [7, 7],
                    stride=2,
                    padding='SAME',
                    weights_initializer=tf.compat.v1.truncated_normal_initializer(
                        stddev=1.0
                    ),
                    scope='Conv2d_1a_7x7',
                )
        return {
            'default': dict(default, logits=logits),
            'large': large,
            'global_pool': {'global_pool': pooled, 'logits': pooled_logits},
            'normal_stem': normal_stem,
        }

    return run_graph_net(build, images, ckpt_prefix, randomize_statistics=True)


def oracle_small(images, ckpt_prefix, depth_multiplier):
    """TF-Slim's inception_v2 with `depth_multiplier`, run on `images`."""
    import tf_slim
    from tf_slim.nets import inception_v2

    def build(inputs):
        with tf_slim.arg_scope(inception_v2.inception_v2_arg_scope()):
            logits, end_points = inception_v2.inception_v2(
                inputs,
                NUM_CLASSES,
                is_training=False,
                depth_multiplier=depth_multiplier,
            )
        return dict(end_points, logits=logits)

    return run_graph_net(build, images, ckpt_prefix, randomize_statistics=True)


# ---------------------------------------------------------------- our side


def _model(fn_name='inception_v2', **kwargs):
    """Our `fn_name` under its arg scope as a slim.Model in inference mode."""
    import slim
    from nets import inception_v2

    def net(images, **call_kwargs):
        with slim.arg_scope(inception_v2.inception_v2_arg_scope()):
            # The base takes no is_training; batch norm's default is training.
            with slim.arg_scope([slim.batch_norm], is_training=False):
                return getattr(inception_v2, fn_name)(images, **call_kwargs)

    if fn_name == 'inception_v2':
        kwargs.setdefault('is_training', False)
    return slim.Model(net, **kwargs)


def _images(size, batch=1, seed=1):
    rng = np.random.RandomState(seed)
    return rng.uniform(-1, 1, (batch, size, size, 3)).astype(np.float32)


def _restored(model, images, prefix):
    import slim

    model(tf.constant(images[:1]))  # an eager call builds faster than build()
    slim.assign_from_checkpoint(slim.get_variables_to_restore(model), prefix)
    return model


def _assert_end_points_match(ours, theirs, extra=()):
    # Ours are research/slim's: TF-Slim 1.1.0's plus the pooled features.
    assert [k for k in ours if k not in extra] == list(theirs)
    for name, value in theirs.items():
        assert_close(ours[name], value, name)


def _base_shapes(shapes):
    return {
        name: shape for name, shape in shapes.items() if '/Logits/' not in name
    }


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    images, large = _images(224, batch=2), _images(288, seed=2)
    prefix = str(tmp_path_factory.mktemp('inception_v2') / 'model.ckpt')
    shapes, theirs, losses = oracle_inception_v2(images, large, prefix)
    model = _restored(_model(num_classes=NUM_CLASSES), images, prefix)
    logits, ours = model(tf.constant(images))
    return dict(
        images=images,
        large=large,
        prefix=prefix,
        shapes=shapes,
        theirs=theirs,
        losses=losses,
        model=model,
        ours=dict(ours, logits=logits),
    )


@pytest.fixture(scope='module')
def base(run):
    """Our inception_v2_base with the oracle's weights."""
    return _restored(_model('inception_v2_base'), run['images'], run['prefix'])


# ---------------------------------------------------------------- tests


def test_variables_and_end_points_match_oracle_and_golden(run):
    golden = load_golden('inception_v2')
    assert len(golden) == 277
    assert {
        k: v for k, v in run['shapes'].items() if k not in NORMAL_STEM
    } == golden
    assert variable_shapes(run['model']) == golden
    # The separable first layer is not under the arg scope's batch norm.
    assert golden['InceptionV2/Conv2d_1a_7x7/depthwise_weights'] == [7, 7, 3, 8]
    assert golden['InceptionV2/Conv2d_1a_7x7/pointwise_weights'] == [
        1,
        1,
        24,
        64,
    ]
    assert golden['InceptionV2/Conv2d_1a_7x7/biases'] == [64]
    # TF-Slim's own test counts 10,173,112 values in the base.
    assert sum(np.prod(shape) for shape in _base_shapes(golden).values()) == (
        10173112
    )
    their_keys = list(run['theirs']['default'])[:-1]  # less 'logits'
    ours = list(run['ours'])[:-1]
    assert [k for k in ours if k not in ('AvgPool_1a', 'PreLogits')] == (
        their_keys
    )
    assert ours[-4:] == ['AvgPool_1a', 'PreLogits', 'Logits', 'Predictions']
    reader = tf.train.load_checkpoint(run['prefix'])
    assert (
        reader.get_tensor(
            'InceptionV2/Mixed_5c/Branch_3/Conv2d_0b_1x1/BatchNorm/moving_variance'
        ).std()
        > 0.1
    )


def test_restored_224_matches_oracle(run):
    theirs = dict(run['theirs']['default'])
    their_logits = theirs.pop('logits')
    ours = dict(run['ours'])
    logits = ours.pop('logits')
    _assert_end_points_match(ours, theirs, extra=['AvgPool_1a', 'PreLogits'])
    assert_close(logits, their_logits, 'logits')
    assert logits.shape == (2, NUM_CLASSES)
    # The 7 x 7 pool of the 7 x 7 Mixed_5c is its mean; dropout is off.
    pooled = theirs['Mixed_5c'].mean(axis=(1, 2), keepdims=True)
    assert_close(ours['AvgPool_1a'], pooled, 'AvgPool_1a')
    assert_close(ours['PreLogits'], pooled, 'PreLogits')


def test_base_shapes_at_224(run):
    expected = {
        'Conv2d_1a_7x7': (112, 112, 64),
        'MaxPool_2a_3x3': (56, 56, 64),
        'Conv2d_2b_1x1': (56, 56, 64),
        'Conv2d_2c_3x3': (56, 56, 192),
        'MaxPool_3a_3x3': (28, 28, 192),
        'Mixed_3b': (28, 28, 256),
        'Mixed_3c': (28, 28, 320),
        'Mixed_4a': (14, 14, 576),
        'Mixed_4b': (14, 14, 576),
        'Mixed_4c': (14, 14, 576),
        'Mixed_4d': (14, 14, 576),
        'Mixed_4e': (14, 14, 576),
        'Mixed_5a': (7, 7, 1024),
        'Mixed_5b': (7, 7, 1024),
        'Mixed_5c': (7, 7, 1024),
    }
    for name, shape in expected.items():
        assert run['ours'][name].shape == (2,) + shape, name


def test_regularization_losses_match_oracle(run):
    model = run['model']
    model(tf.constant(run['images']))
    # One L2 term per convolution but the separable one (the arg scope is
    # conv2d's), as TF-Slim's REGULARIZATION_LOSSES less the last, the normal
    # first layer's.
    their_losses = run['losses'][:-1]
    assert len(model.losses) == len(their_losses) == 69
    np.testing.assert_allclose(
        float(tf.add_n(model.losses)), sum(their_losses), rtol=RTOL
    )


def test_traced_with_unknown_size_matches_oracle(run):
    model = run['model']
    count = len(model.variables)
    traced = tf.function(
        lambda images: model(images, spatial_squeeze=False),
        input_signature=[tf.TensorSpec([None, None, None, 3])],
        autograph=False,
    )  # no control flow to convert; conversion is slow
    # An unknown size keeps the 7 x 7 pool (stride 2), which leaves 2 x 2
    # logits of the 9 x 9 Mixed_5c at 288 x 288, as TF-Slim's.
    logits, ours = traced(tf.constant(run['large']))
    assert len(model.variables) == count
    assert logits.shape == (1, 2, 2, NUM_CLASSES)
    _assert_end_points_match(
        ours, run['theirs']['large'], extra=['AvgPool_1a', 'PreLogits']
    )
    logits, _ = traced(tf.constant(run['images']))
    assert_close(
        tf.squeeze(logits, [1, 2]),
        run['theirs']['default']['logits'],
        'traced logits',
    )


def test_global_pool_matches_research_slim_head(run):
    theirs = run['theirs']
    logits, ours = run['model'](tf.constant(run['large']), global_pool=True)
    base = {
        k: v
        for k, v in theirs['large'].items()
        if k not in ('Logits', 'Predictions')
    }
    _assert_end_points_match(
        ours, base, extra=['global_pool', 'PreLogits', 'Logits', 'Predictions']
    )
    assert_close(
        ours['global_pool'], theirs['global_pool']['global_pool'], 'global_pool'
    )
    assert_close(logits, theirs['global_pool']['logits'], 'logits')
    assert logits.shape == (1, NUM_CLASSES)


@pytest.mark.parametrize('num_classes', [0, None])
def test_no_classes_returns_pooled_features(run, num_classes):
    theirs = run['theirs']['default']
    net, ours = run['model'](
        tf.constant(run['images']), num_classes=num_classes
    )
    assert net is ours['AvgPool_1a']
    assert list(ours) == list(theirs)[:-3] + ['AvgPool_1a']
    assert_close(
        net,
        theirs['Mixed_5c'].mean(axis=(1, 2), keepdims=True),
        'pooled features',
    )


def test_no_classes_builds_no_logits_layer():
    model = _model(num_classes=None)
    model(tf.zeros([1, 32, 32, 3]))
    assert len(model.variables) == 275
    assert not [v for v in model.variables if '/Logits/' in v.name]


def test_small_input_with_depth_multiplier_matches_oracle(tmp_path):
    # At 128 x 128 Mixed_5c is 4 x 4 and the final pool shrinks to 4 x 4;
    # a quarter of the channels makes min_depth bind (32 -> 16, not 8) and
    # the separable layer's depthwise multiplier 5 (int(16 / 3)).
    images = _images(128, batch=2, seed=3)
    prefix = str(tmp_path / 'model.ckpt')
    shapes, theirs, _ = oracle_small(images, prefix, depth_multiplier=0.25)
    model = _restored(
        _model(num_classes=NUM_CLASSES, depth_multiplier=0.25), images, prefix
    )
    logits, ours = model(tf.constant(images))
    assert variable_shapes(model) == shapes
    assert shapes['InceptionV2/Conv2d_1a_7x7/depthwise_weights'] == [7, 7, 3, 5]
    assert shapes['InceptionV2/Mixed_3b/Branch_3/Conv2d_0b_1x1/weights'] == [
        1,
        1,
        48,
        16,
    ]
    their_logits = theirs.pop('logits')
    _assert_end_points_match(ours, theirs, extra=['AvgPool_1a', 'PreLogits'])
    assert_close(logits, their_logits, 'logits')
    assert ours['Mixed_5c'].shape == (2, 4, 4, 256)


@pytest.mark.parametrize(
    'final_endpoint',
    [
        'Conv2d_1a_7x7',
        'MaxPool_2a_3x3',
        'Conv2d_2b_1x1',
        'Conv2d_2c_3x3',
        'MaxPool_3a_3x3',
        'Mixed_3b',
        'Mixed_3c',
        'Mixed_4a',
        'Mixed_4b',
        'Mixed_4c',
        'Mixed_4d',
        'Mixed_4e',
        'Mixed_5a',
        'Mixed_5b',
        'Mixed_5c',
    ],
)
def test_base_stops_at_final_endpoint(run, base, final_endpoint):
    from nets import inception_v2

    built = inception_v2.BASE_END_POINTS[
        : inception_v2.BASE_END_POINTS.index(final_endpoint) + 1
    ]
    # The first image is enough.
    net, end_points = base(
        tf.constant(run['images'][:1]), final_endpoint=final_endpoint
    )
    assert list(end_points) == list(built)
    assert net is end_points[final_endpoint]
    assert_close(
        net, run['theirs']['default'][final_endpoint][:1], final_endpoint
    )


@pytest.mark.parametrize(
    'final_endpoint', ['Conv2d_2c_3x3', 'Mixed_4a', 'Mixed_4e']
)
def test_base_makes_the_variables_up_to_final_endpoint(final_endpoint):
    from nets import inception_v2

    built = inception_v2.BASE_END_POINTS[
        : inception_v2.BASE_END_POINTS.index(final_endpoint) + 1
    ]
    model = _model('inception_v2_base', final_endpoint=final_endpoint)
    model(tf.zeros([1, 32, 32, 3]))
    assert variable_shapes(model) == {
        name: shape
        for name, shape in load_golden('inception_v2').items()
        if name.split('/')[1] in built
    }


def test_base_without_root_block_matches_oracle_from_its_pool(run, base):
    # Our Mixed_3b onwards, fed the oracle's MaxPool_3a_3x3, gives the
    # oracle's end points.
    from nets import inception_v2

    theirs = run['theirs']['default']
    _, ours = base(
        tf.constant(theirs['MaxPool_3a_3x3']), include_root_block=False
    )
    assert list(ours) == list(inception_v2.BASE_END_POINTS[5:])
    for name in ours:
        assert_close(ours[name], theirs[name], name)
    model = _model('inception_v2_base', include_root_block=False)
    model(tf.zeros([1, 4, 4, 192]))
    assert variable_shapes(model) == {
        name: shape
        for name, shape in _base_shapes(load_golden('inception_v2')).items()
        if name.split('/')[1].startswith('Mixed_')
    }


def _normal_stem_shapes(shapes):
    """The base's {name: shape} with research/slim's normal first layer."""
    base = {
        k: v
        for k, v in _base_shapes(load_golden('inception_v2')).items()
        if '/Conv2d_1a_7x7/' not in k
    }
    return dict(base, **{k: shapes[k] for k in NORMAL_STEM})


def test_normal_first_layer_matches_research_slim(run):
    import slim

    model = _model(
        'inception_v2_base',
        use_separable_conv=False,
        final_endpoint='Conv2d_1a_7x7',
    )
    model(tf.zeros([1, 32, 32, 3]))
    assert list(variable_shapes(model)) == list(NORMAL_STEM)
    slim.assign_from_checkpoint(model.variables, run['prefix'])
    net, _ = model(tf.constant(run['images']))
    assert_close(net, run['theirs']['normal_stem'], 'Conv2d_1a_7x7')
    model = _model('inception_v2_base', use_separable_conv=False)
    model(tf.zeros([1, 32, 32, 3]))
    assert variable_shapes(model) == _normal_stem_shapes(run['shapes'])


def test_nchw_has_the_same_variables_and_transposed_end_points(run):
    # TensorFlow has no NCHW max pool on CPUs, so the net is traced, not run.
    model = _model(
        'inception_v2_base', use_separable_conv=False, data_format='NCHW'
    )
    _, end_points = (
        tf.function(model, autograph=False)
        .get_concrete_function(tf.TensorSpec([2, 3, 224, 224]))
        .structured_outputs
    )
    assert variable_shapes(model) == _normal_stem_shapes(run['shapes'])
    assert list(end_points) == list(run['ours'])[:15]
    for name, end_point in end_points.items():
        batch, height, width, channels = run['ours'][name].shape
        assert end_point.shape == (batch, channels, height, width), name


@pytest.mark.parametrize(
    'kwargs,match',
    [
        (dict(data_format='NCWH'), "'NCWH'"),
        (dict(data_format='NCHW'), 'use_separable_conv=False'),
        (dict(final_endpoint='Mixed_6a'), "'Mixed_6a'"),
        (
            dict(final_endpoint='MaxPool_3a_3x3', include_root_block=False),
            "'MaxPool_3a_3x3'",
        ),
        (dict(depth_multiplier=0), 'depth_multiplier'),
        (dict(depth_multiplier=-0.5), 'depth_multiplier'),
    ],
)
def test_bad_base_arguments_raise(kwargs, match):
    model = _model('inception_v2_base', **kwargs)
    with pytest.raises(ValueError, match=match):
        model(tf.zeros([1, 32, 32, 3]))


def test_classifier_refuses_bad_depth_multiplier():
    model = _model(depth_multiplier=0.0)
    with pytest.raises(ValueError, match='got 0.0'):
        model(tf.zeros([1, 32, 32, 3]))


def test_default_image_size():
    from nets import inception_v2

    assert inception_v2.inception_v2.default_image_size == 224


if __name__ == '__main__':
    import conftest  # noqa: F401  (the aliases tf_slim needs)

    write_golden('inception_v2', oracle_graph())
