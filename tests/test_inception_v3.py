"""Tests nets/inception_v3.py against TF-Slim 1.1.0's Inception-v3 (the oracle).

The oracle runs in graph mode with random weights (batch norm statistics and
biases randomised too, so that they matter), saves them with a TF1
`tf.compat.v1.train.Saver`, and our net restores that checkpoint by name with
`slim.assign_from_checkpoint`; then every end point must agree. One oracle
graph per configuration is shared by the module (299 x 299 is heavy on two
cores).

Run as a script to rewrite tests/golden/inception_v3.json from the oracle:
    python tests/test_inception_v3.py
"""

import numpy as np
import pytest
import tensorflow as tf

from net_oracle import (
    RTOL,
    assert_close,
    load_golden,
    random_statistics,
    variable_shapes,
    write_golden,
)


# ---------------------------------------------------------------- the oracle


def oracle_inception_v3(
    images, ckpt_prefix, num_classes=1001, depth_multiplier=1.0, seed=0
):
    """Builds, randomises, saves and runs TF-Slim's Inception-v3 in a graph.

    Returns:
      shapes: {variable name: shape} of every global variable.
      outputs: {end point: value} plus 'logits', for `images`.
      reg_loss: the sum of the regularization losses of the graph.
    """
    import tf_slim
    from tf_slim.nets import inception_v3 as tf_slim_inception_v3

    with tf.Graph().as_default():
        tf.compat.v1.set_random_seed(seed)
        inputs = tf.compat.v1.placeholder(tf.float32, images.shape)
        with tf_slim.arg_scope(tf_slim_inception_v3.inception_v3_arg_scope()):
            logits, end_points = tf_slim_inception_v3.inception_v3(
                inputs,
                num_classes,
                is_training=False,
                depth_multiplier=depth_multiplier,
            )
        variables = tf.compat.v1.global_variables()
        reg_loss = tf.add_n(
            tf.compat.v1.get_collection(
                tf.compat.v1.GraphKeys.REGULARIZATION_LOSSES
            )
        )
        with tf.compat.v1.Session() as sess:
            # One run initialises everything, feeding random statistics in place
            # of the initial values (a `load` per variable takes seconds).
            sess.run(
                tf.compat.v1.global_variables_initializer(),
                random_statistics(variables, np.random.RandomState(seed)),
            )
            if ckpt_prefix:
                tf.compat.v1.train.Saver(variables).save(
                    sess, ckpt_prefix, write_meta_graph=False
                )
            outputs, reg_loss = sess.run(
                (dict(end_points, logits=logits), reg_loss), {inputs: images}
            )
    shapes = {v.op.name: v.shape.as_list() for v in variables}
    return shapes, outputs, float(reg_loss)


# ---------------------------------------------------------------- our side


def _scoped_inception_v3(images, **kwargs):
    import slim
    from nets import inception_v3

    with slim.arg_scope(inception_v3.inception_v3_arg_scope()):
        return inception_v3.inception_v3(images, **kwargs)


def _restored_model(images, ckpt_prefix, **kwargs):
    """Builds our Inception-v3, restores `ckpt_prefix`, returns model+outputs."""
    import slim

    model = slim.Model(_scoped_inception_v3, is_training=False, **kwargs)
    model(images)
    slim.assign_from_checkpoint(
        slim.get_variables_to_restore(model), ckpt_prefix
    )
    logits, end_points = model(images)
    outputs = {k: v.numpy() for k, v in end_points.items()}
    outputs['logits'] = logits.numpy()
    return model, outputs


def _assert_end_points_match(ours, theirs):
    # Ours are research/slim's: TF-Slim 1.1.0's plus the pooled features.
    assert set(ours) - set(theirs) <= {'AvgPool_1a', 'global_pool'}
    for name, value in theirs.items():
        assert_close(ours[name], value, name)


def _images(size, batch=1, seed=1):
    rng = np.random.RandomState(seed)
    return rng.uniform(-1, 1, (batch, size, size, 3)).astype(np.float32)


@pytest.fixture(scope='module')
def run_299(tmp_path_factory):
    images = _images(299)
    prefix = str(tmp_path_factory.mktemp('inception_v3') / 'model.ckpt')
    shapes, theirs, reg_loss = oracle_inception_v3(images, prefix)
    model, ours = _restored_model(images, prefix, num_classes=1001)
    return dict(
        images=images,
        prefix=prefix,
        shapes=shapes,
        theirs=theirs,
        reg_loss=reg_loss,
        model=model,
        ours=ours,
    )


# ---------------------------------------------------------------- tests


def test_variables_match_oracle_and_golden(run_299):
    golden = load_golden('inception_v3')
    ours = variable_shapes(run_299['model'])
    assert len(golden) == 388
    assert ours == golden
    assert run_299['shapes'] == golden
    assert all(v.name.endswith(':0') for v in run_299['model'].variables)
    # The checkpoint holds the randomised statistics, not the initial values.
    reader = tf.train.load_checkpoint(run_299['prefix'])
    variance = reader.get_tensor(
        'InceptionV3/Mixed_7c/Branch_0/Conv2d_0a_1x1/BatchNorm/moving_variance'
    )
    assert variance.std() > 0.1


def test_restored_299_matches_oracle(run_299):
    _assert_end_points_match(run_299['ours'], run_299['theirs'])
    assert run_299['ours']['Logits'].shape == (1, 1001)
    assert run_299['ours']['AvgPool_1a'].shape == (1, 1, 1, 2048)


def test_regularization_losses_match_oracle(run_299):
    model = run_299['model']
    # One L2 term per convolution, as TF-Slim's REGULARIZATION_LOSSES.
    assert len(model.losses) == sum(
        name.endswith('weights') for name in run_299['shapes']
    )
    np.testing.assert_allclose(
        float(tf.add_n(model.losses)), run_299['reg_loss'], rtol=RTOL
    )


def test_traced_call_matches_eager(run_299):
    model = run_299['model']
    count = len(model.variables)
    logits, _ = tf.function(model)(tf.constant(run_299['images']))
    assert len(model.variables) == count
    assert_close(logits, run_299['theirs']['logits'], 'traced logits')


def test_small_input_with_global_pool_matches_oracle(tmp_path):
    # At 160 x 160 Mixed_7c is 3 x 3, so TF-Slim's reduced 3 x 3 average pool
    # and our global pool are the same mean; the aux head's kernel shrinks to
    # 2 x 2.
    images = _images(160, batch=2)
    prefix = str(tmp_path / 'model.ckpt')
    shapes, theirs, _ = oracle_inception_v3(images, prefix)
    model, ours = _restored_model(
        images, prefix, num_classes=1001, global_pool=True
    )
    assert variable_shapes(model) == shapes
    assert 'InceptionV3/AuxLogits/Conv2d_2a_2x2/weights' in shapes
    _assert_end_points_match(ours, theirs)
    assert ours['global_pool'].shape == (2, 1, 1, 2048)


def test_depth_multiplier_half_matches_oracle(tmp_path):
    images = _images(224)
    prefix = str(tmp_path / 'model.ckpt')
    shapes, theirs, _ = oracle_inception_v3(
        images, prefix, depth_multiplier=0.5
    )
    model, ours = _restored_model(
        images, prefix, num_classes=1001, depth_multiplier=0.5
    )
    assert variable_shapes(model) == shapes
    assert shapes['InceptionV3/Mixed_7c/Branch_0/Conv2d_0a_1x1/weights'] == [
        1,
        1,
        1024,
        160,
    ]
    _assert_end_points_match(ours, theirs)
    assert ours['Mixed_7c'].shape == (1, 5, 5, 1024)


def test_fine_tuning_restore_excludes_the_heads(run_299):
    import slim

    excluded = ['InceptionV3/Logits', 'InceptionV3/AuxLogits']
    # The trunk's variables do not depend on the input size, so a small input
    # is enough to build the 5-class model.
    model = slim.Model(_scoped_inception_v3, num_classes=5, is_training=False)
    model(tf.constant(_images(107)))
    heads_before = {
        v.name: v.numpy()
        for v in model.variables
        if v.name.startswith(tuple(excluded))
    }
    to_restore = slim.get_variables_to_restore(model, exclude=excluded)
    slim.assign_from_checkpoint(to_restore, run_299['prefix'])

    reader = tf.train.load_checkpoint(run_299['prefix'])
    restored_names = {v.name[:-2] for v in to_restore}
    assert restored_names == {
        name
        for name in run_299['shapes']
        if not name.startswith(tuple(excluded))
    }
    for v in model.variables:
        name = v.name[:-2]
        if name in restored_names:
            np.testing.assert_array_equal(
                v.numpy(), reader.get_tensor(name), err_msg=name
            )
        else:
            np.testing.assert_array_equal(v.numpy(), heads_before[v.name])
    assert variable_shapes(model)[
        'InceptionV3/Logits/Conv2d_1c_1x1/weights'
    ] == [1, 1, 2048, 5]


@pytest.mark.parametrize(
    'final_endpoint', ['Conv2d_1a_3x3', 'Mixed_5b', 'Mixed_6a']
)
def test_base_stops_at_final_endpoint(final_endpoint):
    import slim
    from nets import inception_v3

    model = slim.Model(
        inception_v3.inception_v3_base, final_endpoint=final_endpoint
    )
    with slim.arg_scope(inception_v3.inception_v3_arg_scope()):
        net, end_points = model(tf.constant(_images(107)))
    built = inception_v3.BASE_END_POINTS[
        : inception_v3.BASE_END_POINTS.index(final_endpoint) + 1
    ]
    assert list(end_points) == list(built)
    assert net is end_points[final_endpoint]
    scopes = {v.name.split('/')[1] for v in model.variables}
    assert scopes <= set(built)
    assert all(v.name.startswith('InceptionV3/') for v in model.variables)


def test_base_shapes_at_299(run_299):
    expected = {
        'Conv2d_1a_3x3': (149, 149, 32),
        'Conv2d_2a_3x3': (147, 147, 32),
        'Conv2d_2b_3x3': (147, 147, 64),
        'MaxPool_3a_3x3': (73, 73, 64),
        'Conv2d_3b_1x1': (73, 73, 80),
        'Conv2d_4a_3x3': (71, 71, 192),
        'MaxPool_5a_3x3': (35, 35, 192),
        'Mixed_5b': (35, 35, 256),
        'Mixed_5c': (35, 35, 288),
        'Mixed_5d': (35, 35, 288),
        'Mixed_6a': (17, 17, 768),
        'Mixed_6b': (17, 17, 768),
        'Mixed_6c': (17, 17, 768),
        'Mixed_6d': (17, 17, 768),
        'Mixed_6e': (17, 17, 768),
        'Mixed_7a': (8, 8, 1280),
        'Mixed_7b': (8, 8, 2048),
        'Mixed_7c': (8, 8, 2048),
    }
    for name, shape in expected.items():
        assert run_299['ours'][name].shape == (1,) + shape, name


@pytest.mark.parametrize('bad', ['Mixed_8a', 'mixed_7c', ['Mixed_7c'], None])
def test_bad_final_endpoint_raises(bad):
    import slim
    from nets import inception_v3

    model = slim.Model(inception_v3.inception_v3_base, final_endpoint=bad)
    with pytest.raises(ValueError, match='final_endpoint') as error:
        model(tf.zeros([1, 107, 107, 3]))
    assert 'Mixed_7c' in str(error.value) and repr(bad) in str(error.value)


@pytest.mark.parametrize('multiplier', [0, -0.5])
@pytest.mark.parametrize('entry', ['inception_v3', 'inception_v3_base'])
def test_depth_multiplier_not_positive_raises(entry, multiplier):
    import slim
    from nets import inception_v3

    model = slim.Model(
        getattr(inception_v3, entry), depth_multiplier=multiplier
    )
    with pytest.raises(ValueError, match='depth_multiplier') as error:
        model(tf.zeros([1, 107, 107, 3]))
    assert repr(multiplier) in str(error.value)


def test_input_too_small_for_the_aux_head():
    import slim

    model = slim.Model(
        _scoped_inception_v3, num_classes=3, depth_multiplier=0.1
    )
    with pytest.raises(ValueError, match='create_aux_logits=False'):
        model(tf.zeros([1, 106, 106, 3]))
    model = slim.Model(
        _scoped_inception_v3,
        num_classes=3,
        depth_multiplier=0.1,
        create_aux_logits=False,
    )
    logits, _ = model(tf.zeros([1, 75, 75, 3]))
    assert logits.shape == (1, 3)


@pytest.mark.parametrize('num_classes', [0, None])
def test_no_classes_returns_pooled_features(num_classes):
    import slim

    model = slim.Model(
        _scoped_inception_v3,
        num_classes=num_classes,
        depth_multiplier=0.25,
        is_training=False,
    )
    net, end_points = model(tf.constant(_images(128)))
    assert net.shape == (1, 1, 1, 512)
    assert not {'AuxLogits', 'PreLogits', 'Logits', 'Predictions'} & set(
        end_points
    )
    assert not [
        v
        for v in model.variables
        if '/Logits/' in v.name or '/AuxLogits/' in v.name
    ]


def test_global_pool_gives_one_by_one_at_any_size():
    import slim

    model = slim.Model(
        _scoped_inception_v3,
        num_classes=7,
        global_pool=True,
        depth_multiplier=0.25,
        create_aux_logits=False,
    )
    logits, end_points = model(tf.zeros([1, 400, 330, 3]))
    assert logits.shape == (1, 7)
    assert end_points['global_pool'].shape == (1, 1, 1, 512)
    assert 'AuxLogits' not in end_points


def test_spatial_squeeze_false_keeps_dims():
    import slim

    model = slim.Model(
        _scoped_inception_v3,
        num_classes=3,
        spatial_squeeze=False,
        depth_multiplier=0.25,
    )
    logits, end_points = model(tf.zeros([2, 107, 107, 3]))
    assert logits.shape == (2, 1, 1, 3)
    assert end_points['AuxLogits'].shape == (2, 1, 1, 3)
    assert end_points['Predictions'].shape == (2, 1, 1, 3)


def test_arg_scope_without_batch_norm_uses_biases():
    import slim
    from nets import inception_v3

    def net(images):
        with slim.arg_scope(
            inception_v3.inception_v3_arg_scope(use_batch_norm=False)
        ):
            return inception_v3.inception_v3_base(
                images, final_endpoint='Mixed_5b', depth_multiplier=0.25
            )

    model = slim.Model(net)
    model(tf.zeros([1, 107, 107, 3]))
    names = [v.name for v in model.variables]
    assert not [n for n in names if 'BatchNorm' in n]
    assert 'InceptionV3/Conv2d_1a_3x3/biases:0' in names


def test_bfloat16_inputs_compute_in_bfloat16():
    import slim

    model = slim.Model(
        _scoped_inception_v3,
        num_classes=10,
        depth_multiplier=0.25,
        is_training=False,
    )
    images = tf.constant(_images(128))
    logits32, _ = model(images)
    logits16, end_points = model(tf.cast(images, tf.bfloat16))
    assert logits16.dtype == tf.bfloat16
    assert end_points['Mixed_7c'].dtype == tf.bfloat16
    assert all(v.dtype == tf.float32 for v in model.variables)
    error = np.abs(tf.cast(logits16, tf.float32) - logits32).max()
    assert error <= 0.05 * np.abs(logits32).max()


def test_default_image_size():
    from nets import inception_v3

    assert inception_v3.inception_v3.default_image_size == 299


if __name__ == '__main__':
    import conftest  # noqa: F401  (the aliases tf_slim needs)

    write_golden('inception_v3', oracle_inception_v3(_images(299), None)[0])
