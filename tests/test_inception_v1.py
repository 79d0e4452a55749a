"""Tests nets/inception_v1.py against TF-Slim 1.1.0's Inception-v1 (the oracle).

The oracle runs in graph mode with random weights (batch norm statistics and
biases randomised too), saves them with a TF1 Saver, and our net restores
that checkpoint by name; then every end point must agree. TF-Slim 1.1.0's
inception_v1 is research/slim's without the later global_pool,
num_classes=None and include_root_block; the oracle graph adds research/
slim's global pool head on tf_slim layers that reuse the oracle's
variables, and include_root_block=False is checked by starting our net from
the oracle's own MaxPool_3a_3x3.

Run as a script to rewrite tests/golden/inception_v1.json from the oracle:
    python tests/test_inception_v1.py
"""

import numpy as np
import pytest
import tensorflow as tf

from net_oracle import (
    RTOL,
    assert_close,
    load_golden,
    random_images,
    run_graph_net,
    variable_shapes,
    write_golden,
)

NUM_CLASSES = 1001  # the released inception_v1.ckpt, with a background class


# ---------------------------------------------------------------- the oracle


def oracle_graph(num_classes=NUM_CLASSES):
    """TF-Slim's inception_v1 for 224 x 224 inputs, built and never run.

    Returns:
      ({variable name: shape}, [end point names, in TF-Slim's order]).
    """
    import tf_slim
    from tf_slim.nets import inception_v1

    with tf.Graph().as_default():
        inputs = tf.compat.v1.placeholder(tf.float32, [1, 224, 224, 3])
        with tf_slim.arg_scope(inception_v1.inception_v1_arg_scope()):
            _, end_points = inception_v1.inception_v1(
                inputs, num_classes, is_training=False
            )
        shapes = {
            v.op.name: v.shape.as_list()
            for v in tf.compat.v1.global_variables()
        }
    return shapes, list(end_points)


def oracle_inception_v1(images, large_images, ckpt_prefix):
    """TF-Slim's inception_v1 on two inputs, its weights saved to `ckpt_prefix`.

    Returns:
      shapes: {variable name: shape}.
      outputs: {'default': end points and 'logits' for `images`;
        'large': end points for `large_images` with spatial_squeeze=False;
        'global_pool': research/slim's global_pool head on 'large'}.
      losses: the values of the graph's regularization losses.
    """
    import tf_slim
    from tf_slim.nets import inception_v1

    def build(inputs):
        with tf_slim.arg_scope(inception_v1.inception_v1_arg_scope()):
            logits, default = inception_v1.inception_v1(
                inputs, NUM_CLASSES, is_training=False
            )
            _, large = inception_v1.inception_v1(
                tf.constant(large_images),
                NUM_CLASSES,
                is_training=False,
                spatial_squeeze=False,
                reuse=True,
            )
            # research/slim's global_pool: Mixed_5c averaged, then the logits
            # (inference mode, so without the dropout).
            pooled = tf.reduce_mean(large['Mixed_5c'], [1, 2], keepdims=True)
            with tf.compat.v1.variable_scope('InceptionV1/Logits', reuse=True):
                pooled_logits = tf.squeeze(
                    tf_slim.conv2d(
                        pooled,
                        NUM_CLASSES,
                        [1, 1],
                        activation_fn=None,
                        normalizer_fn=None,
                        scope='Conv2d_0c_1x1',
                    ),
                    [1, 2],
                )
        return {
            'default': dict(default, logits=logits),
            'large': large,
            'global_pool': {'global_pool': pooled, 'logits': pooled_logits},
        }

    return run_graph_net(build, images, ckpt_prefix, randomize_statistics=True)


# ---------------------------------------------------------------- our side


def _model(fn_name='inception_v1', **kwargs):
    """Our `fn_name` under its arg scope as a slim.Model in inference mode."""
    import slim
    from nets import inception_v1

    def net(images, **call_kwargs):
        with slim.arg_scope(inception_v1.inception_v1_arg_scope()):
            # The base takes no is_training; batch norm's default is training.
            with slim.arg_scope([slim.batch_norm], is_training=False):
                return getattr(inception_v1, fn_name)(images, **call_kwargs)

    if fn_name == 'inception_v1':
        kwargs.setdefault('is_training', False)
    return slim.Model(net, **kwargs)


def _assert_end_points_match(ours, theirs, extra=()):
    # Ours are research/slim's: TF-Slim 1.1.0's plus the pooled features.
    assert [k for k in ours if k not in extra] == list(theirs)
    for name, value in theirs.items():
        assert_close(ours[name], value, name)


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    import slim

    images, large = random_images(224, batch=2), random_images(256, seed=2)
    prefix = str(tmp_path_factory.mktemp('inception_v1') / 'model.ckpt')
    shapes, theirs, losses = oracle_inception_v1(images, large, prefix)
    model = _model(num_classes=NUM_CLASSES)
    # An eager call builds the variables faster than model.build's traces.
    model(tf.constant(images))
    slim.assign_from_checkpoint(slim.get_variables_to_restore(model), prefix)
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
    """Our inception_v1_base with the oracle's weights."""
    import slim

    model = _model('inception_v1_base')
    model(tf.zeros([1, 32, 32, 3]))
    slim.assign_from_checkpoint(
        slim.get_variables_to_restore(model), run['prefix']
    )
    return model


# ---------------------------------------------------------------- tests


def test_variables_and_end_points_match_oracle_and_golden(run):
    golden = load_golden('inception_v1')
    assert len(golden) == 230
    assert run['shapes'] == golden
    assert variable_shapes(run['model']) == golden
    # Mixed_5b's second 3x3 keeps the irregular name it was trained with.
    assert golden['InceptionV1/Mixed_5b/Branch_2/Conv2d_0a_3x3/weights'] == [
        3,
        3,
        32,
        128,
    ]
    their_keys = list(run['theirs']['default'])[:-1]  # less 'logits'
    ours = list(run['ours'])[:-1]
    assert [k for k in ours if k != 'AvgPool_0a_7x7'] == their_keys
    assert ours.index('AvgPool_0a_7x7') == their_keys.index('Logits')
    reader = tf.train.load_checkpoint(run['prefix'])
    assert (
        reader.get_tensor(
            'InceptionV1/Mixed_5c/Branch_3/Conv2d_0b_1x1/BatchNorm/moving_variance'
        ).std()
        > 0.1
    )


def test_restored_224_matches_oracle(run):
    theirs = dict(run['theirs']['default'])
    their_logits = theirs.pop('logits')
    ours = dict(run['ours'])
    logits = ours.pop('logits')
    _assert_end_points_match(ours, theirs, extra=['AvgPool_0a_7x7'])
    assert_close(logits, their_logits, 'logits')
    assert logits.shape == (2, NUM_CLASSES)
    # The 7 x 7 pool of the 7 x 7 Mixed_5c is its mean.
    assert_close(
        ours['AvgPool_0a_7x7'],
        theirs['Mixed_5c'].mean(axis=(1, 2), keepdims=True),
        'AvgPool_0a_7x7',
    )


def test_base_shapes_at_224(run):
    expected = {
        'Conv2d_1a_7x7': (112, 112, 64),
        'MaxPool_2a_3x3': (56, 56, 64),
        'Conv2d_2b_1x1': (56, 56, 64),
        'Conv2d_2c_3x3': (56, 56, 192),
        'MaxPool_3a_3x3': (28, 28, 192),
        'Mixed_3b': (28, 28, 256),
        'Mixed_3c': (28, 28, 480),
        'MaxPool_4a_3x3': (14, 14, 480),
        'Mixed_4b': (14, 14, 512),
        'Mixed_4c': (14, 14, 512),
        'Mixed_4d': (14, 14, 512),
        'Mixed_4e': (14, 14, 528),
        'Mixed_4f': (14, 14, 832),
        'MaxPool_5a_2x2': (7, 7, 832),
        'Mixed_5b': (7, 7, 832),
        'Mixed_5c': (7, 7, 1024),
    }
    for name, shape in expected.items():
        assert run['theirs']['default'][name].shape == (2,) + shape, name


def test_regularization_losses_match_oracle(run):
    model = run['model']
    model(tf.constant(run['images']))
    # One L2 term per convolution, as TF-Slim's REGULARIZATION_LOSSES.
    assert len(model.losses) == len(run['losses']) == 58
    np.testing.assert_allclose(
        float(tf.add_n(model.losses)), sum(run['losses']), rtol=RTOL
    )


def test_traced_with_unknown_size_matches_oracle(run):
    model = run['model']
    count = len(model.variables)
    traced = tf.function(
        lambda images: model(images, spatial_squeeze=False),
        input_signature=[tf.TensorSpec([None, None, None, 3])],
        autograph=False,
    )  # no control flow to convert; conversion is slow
    # At 256 x 256 Mixed_5c is 8 x 8, so the 7 x 7 pool leaves 2 x 2 logits.
    logits, ours = traced(tf.constant(run['large']))
    assert len(model.variables) == count
    assert logits.shape == (1, 2, 2, NUM_CLASSES)
    _assert_end_points_match(
        ours, run['theirs']['large'], extra=['AvgPool_0a_7x7']
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
        ours, base, extra=['global_pool', 'Logits', 'Predictions']
    )
    assert_close(
        ours['global_pool'], theirs['global_pool']['global_pool'], 'global_pool'
    )
    assert_close(logits, theirs['global_pool']['logits'], 'logits')
    assert logits.shape == (1, NUM_CLASSES)


def test_global_pool_takes_small_inputs_the_fixed_pool_refuses(run):
    small = tf.zeros([1, 160, 192, 3])
    with pytest.raises(ValueError, match='global_pool=True') as error:
        run['model'](small)
    assert '5x6' in str(error.value)
    logits, end_points = run['model'](small, global_pool=True)
    assert logits.shape == (1, NUM_CLASSES)
    assert end_points['global_pool'].shape == (1, 1, 1, 1024)


@pytest.mark.parametrize('num_classes', [0, None])
def test_no_classes_returns_pooled_features(run, num_classes):
    theirs = run['theirs']['default']
    net, ours = run['model'](
        tf.constant(run['images']), num_classes=num_classes
    )
    assert net is ours['AvgPool_0a_7x7']
    assert list(ours) == list(theirs)[:-3] + ['AvgPool_0a_7x7']
    assert_close(
        net,
        theirs['Mixed_5c'].mean(axis=(1, 2), keepdims=True),
        'pooled features',
    )


def test_no_classes_builds_no_logits_layer():
    model = _model(num_classes=None, global_pool=True)
    model(tf.zeros([1, 32, 32, 3]))
    assert len(model.variables) == 228
    assert not [v for v in model.variables if '/Logits/' in v.name]


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
        'MaxPool_4a_3x3',
        'Mixed_4b',
        'Mixed_4c',
        'Mixed_4d',
        'Mixed_4e',
        'Mixed_4f',
        'MaxPool_5a_2x2',
        'Mixed_5b',
        'Mixed_5c',
    ],
)
def test_base_stops_at_final_endpoint(run, base, final_endpoint):
    from nets import inception_v1

    built = inception_v1.BASE_END_POINTS[
        : inception_v1.BASE_END_POINTS.index(final_endpoint) + 1
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
    'final_endpoint', ['Conv2d_2c_3x3', 'MaxPool_4a_3x3', 'Mixed_4e']
)
def test_base_makes_the_variables_up_to_final_endpoint(run, final_endpoint):
    from nets import inception_v1

    built = inception_v1.BASE_END_POINTS[
        : inception_v1.BASE_END_POINTS.index(final_endpoint) + 1
    ]
    model = _model('inception_v1_base', final_endpoint=final_endpoint)
    model(tf.zeros([1, 32, 32, 3]))
    assert variable_shapes(model) == {
        name: shape
        for name, shape in run['shapes'].items()
        if name.split('/')[1] in built
    }


def test_base_without_root_block_matches_oracle_from_its_pool(run, base):
    # Our Mixed_3b onwards, fed the oracle's MaxPool_3a_3x3, gives the
    # oracle's end points.
    from nets import inception_v1

    theirs = run['theirs']['default']
    net, ours = base(
        tf.constant(theirs['MaxPool_3a_3x3']), include_root_block=False
    )
    assert list(ours) == list(inception_v1.BASE_END_POINTS[5:])
    for name in ours:
        assert_close(ours[name], theirs[name], name)
    model = _model('inception_v1_base', include_root_block=False)
    model(tf.zeros([1, 4, 4, 192]))
    assert not [
        v
        for v in model.variables
        if '/Conv2d_' in v.name and '/Mixed_' not in v.name
    ]
    assert len(model.variables) == 230 - 2 - 3 * 4


@pytest.mark.parametrize(
    'bad,include_root_block',
    [
        ('Mixed_6a', True),
        ('mixed_5c', True),
        (['Mixed_5c'], True),
        (None, True),
        ('Conv2d_2c_3x3', False),
    ],
)
def test_bad_final_endpoint_raises(bad, include_root_block):
    model = _model(
        'inception_v1_base',
        final_endpoint=bad,
        include_root_block=include_root_block,
    )
    with pytest.raises(ValueError, match='final_endpoint') as error:
        model(tf.zeros([1, 32, 32, 3]))
    assert repr(bad) in str(error.value) and 'Mixed_5c' in str(error.value)
    assert ('Conv2d_1a_7x7' in str(error.value)) == include_root_block


def test_arg_scope_without_batch_norm_uses_biases():
    import slim
    from nets import inception_v1

    def net(images):
        with slim.arg_scope(
            inception_v1.inception_v1_arg_scope(use_batch_norm=False)
        ):
            return inception_v1.inception_v1_base(
                images, final_endpoint='Mixed_3b'
            )

    model = slim.Model(net)
    model(tf.zeros([1, 32, 32, 3]))
    names = [v.name for v in model.variables]
    assert not [n for n in names if 'BatchNorm' in n]
    assert 'InceptionV1/Conv2d_1a_7x7/biases:0' in names


def test_default_image_size():
    from nets import inception_v1

    assert inception_v1.inception_v1.default_image_size == 224


if __name__ == '__main__':
    import conftest  # noqa: F401  (the aliases tf_slim needs)

    write_golden('inception_v1', oracle_graph()[0])
