"""Tests nets/inception_v4.py: names, shapes and numerics.

tf_slim 1.1.0 ships no Inception-v4, so there is no ready oracle. The golden
file (tests/golden/inception_v4.json) is written from our net, and these
tests hold it to facts that do not come from our code:

- research/slim's inception_v4_test.py: the end points and their shapes at
  299 x 299 (and at 150 x 150 and 350 x 400), turned into the tests below;
- the published size of the net: 42,679,816 parameters for the 1000-class
  net without the auxiliary head, as counted by the PyTorch port of the
  released checkpoint (Cadene's pretrainedmodels, timm; conv weights, two
  parameters per batch-norm channel, the logits layer);
- names and shapes quoted from listings of the released checkpoint
  (`InceptionV4/AuxLogits/Aux_logits`, `.../Conv2d_2a` 5 x 5 x 128 x 768,
  ...);
- TF1's own naming: our net file, run on TF-Slim 1.1.0's layers and
  `tf.compat.v1.variable_scope` in a graph (`_on_tf_slim`), must create the
  same variables. That run is also the numerical oracle for our layers: its
  weights, saved by a TF1 `Saver`, restore by name into our net with
  `slim.assign_from_checkpoint`, and every end point must agree.

Run as a script to rewrite the golden file from our net:
    python tests/test_inception_v4.py
"""

import contextlib
import inspect
from unittest import mock

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

# research/slim's inception_v4_test.py, testAllEndPointsShapes (batch 1).
END_POINT_SHAPES_299 = {
    'Conv2d_1a_3x3': [1, 149, 149, 32],
    'Conv2d_2a_3x3': [1, 147, 147, 32],
    'Conv2d_2b_3x3': [1, 147, 147, 64],
    'Mixed_3a': [1, 73, 73, 160],
    'Mixed_4a': [1, 71, 71, 192],
    'Mixed_5a': [1, 35, 35, 384],
    'Mixed_5b': [1, 35, 35, 384],
    'Mixed_5c': [1, 35, 35, 384],
    'Mixed_5d': [1, 35, 35, 384],
    'Mixed_5e': [1, 35, 35, 384],
    'Mixed_6a': [1, 17, 17, 1024],
    'Mixed_6b': [1, 17, 17, 1024],
    'Mixed_6c': [1, 17, 17, 1024],
    'Mixed_6d': [1, 17, 17, 1024],
    'Mixed_6e': [1, 17, 17, 1024],
    'Mixed_6f': [1, 17, 17, 1024],
    'Mixed_6g': [1, 17, 17, 1024],
    'Mixed_6h': [1, 17, 17, 1024],
    'Mixed_7a': [1, 8, 8, 1536],
    'Mixed_7b': [1, 8, 8, 1536],
    'Mixed_7c': [1, 8, 8, 1536],
    'Mixed_7d': [1, 8, 8, 1536],
    'AuxLogits': [1, 1001],
    'global_pool': [1, 1, 1, 1536],
    'PreLogitsFlatten': [1, 1536],
    'Logits': [1, 1001],
    'Predictions': [1, 1001],
}

# research/slim's testBuildBaseNetwork: the end points of the base, in order.
BASE_END_POINTS = [
    'Conv2d_1a_3x3',
    'Conv2d_2a_3x3',
    'Conv2d_2b_3x3',
    'Mixed_3a',
    'Mixed_4a',
    'Mixed_5a',
    'Mixed_5b',
    'Mixed_5c',
    'Mixed_5d',
    'Mixed_5e',
    'Mixed_6a',
    'Mixed_6b',
    'Mixed_6c',
    'Mixed_6d',
    'Mixed_6e',
    'Mixed_6f',
    'Mixed_6g',
    'Mixed_6h',
    'Mixed_7a',
    'Mixed_7b',
    'Mixed_7c',
    'Mixed_7d',
]

# The PyTorch port of the released checkpoint (1000 classes, no auxiliary
# head): conv weights + batch-norm gamma and beta + logits = 42,679,816.
PUBLISHED_PARAMETERS_1000_CLASSES_NO_AUX = 42679816

# Quoted from listings of the released inception_v4.ckpt.
PUBLISHED_VARIABLES = {
    'InceptionV4/AuxLogits/Conv2d_1b_1x1/weights': [1, 1, 1024, 128],
    'InceptionV4/AuxLogits/Conv2d_2a/weights': [5, 5, 128, 768],
    'InceptionV4/AuxLogits/Conv2d_2a/BatchNorm/moving_variance': [768],
    'InceptionV4/AuxLogits/Aux_logits/weights': [768, 1001],
    'InceptionV4/AuxLogits/Aux_logits/biases': [1001],
    'InceptionV4/Logits/Logits/weights': [1536, 1001],
    'InceptionV4/Logits/Logits/biases': [1001],
    'InceptionV4/Mixed_7d/Branch_2/Conv2d_0e_3x1/weights': [3, 1, 512, 256],
    'InceptionV4/Mixed_7d/Branch_3/Conv2d_0b_1x1/weights': [1, 1, 1536, 256],
}


# ---------------------------------------------------------------- helpers


class _TFSlimWithScopes:
    """TF-Slim 1.1.0's API plus TF1's `variable_scope`, under the name `slim`:
    what our net files see when run by `_on_tf_slim`."""

    variable_scope = staticmethod(tf.compat.v1.variable_scope)

    def __getattr__(self, name):
        import tf_slim

        return getattr(tf_slim, name)


@contextlib.contextmanager
def _on_tf_slim():
    """Runs our net files on TF-Slim's layers and TF1's scopes (graph mode)."""
    from nets import inception_utils, inception_v4

    shim = _TFSlimWithScopes()
    with (
        mock.patch.object(inception_v4, 'slim', shim),
        mock.patch.object(inception_utils, 'slim', shim),
    ):
        yield


def oracle_inception_v4(images, ckpt_prefix=None, seed=0, **kwargs):
    """Our net file on TF-Slim in a TF1 graph, random weights and statistics:
    ({variable: shape}, {end point: value}, [regularization losses])."""
    import tf_slim
    from nets import inception_v4

    def build(inputs):
        with _on_tf_slim():
            with tf_slim.arg_scope(inception_v4.inception_v4_arg_scope()):
                logits, end_points = inception_v4.inception_v4(
                    inputs, is_training=False, **kwargs
                )
        return dict(end_points, logits=logits)

    return run_graph_net(
        build, images, ckpt_prefix, seed, randomize_statistics=True
    )


def _scoped_inception_v4(images, arg_scope_kwargs=None, **kwargs):
    import slim
    from nets import inception_v4

    with slim.arg_scope(
        inception_v4.inception_v4_arg_scope(**(arg_scope_kwargs or {}))
    ):
        return inception_v4.inception_v4(images, **kwargs)


def _scoped_base(images, arg_scope_kwargs=None, **kwargs):
    import slim
    from nets import inception_v4

    with slim.arg_scope(
        inception_v4.inception_v4_arg_scope(**(arg_scope_kwargs or {}))
    ):
        return inception_v4.inception_v4_base(images, **kwargs)


def _images(height, width=None, batch=1, seed=1):
    rng = np.random.RandomState(seed)
    return rng.uniform(-1, 1, (batch, height, width or height, 3)).astype(
        np.float32
    )


def _size(shape):
    return int(np.prod(shape))


@pytest.fixture(scope='module')
def run_299(tmp_path_factory):
    import slim

    images = _images(299)
    prefix = str(tmp_path_factory.mktemp('inception_v4') / 'model.ckpt')
    shapes, theirs, losses = oracle_inception_v4(images, prefix)
    model = slim.Model(_scoped_inception_v4, is_training=False)
    model(images)
    restored = slim.assign_from_checkpoint(
        slim.get_variables_to_restore(model), prefix
    )
    logits, end_points = model(images)
    ours = {k: v.numpy() for k, v in end_points.items()}
    ours['logits'] = logits.numpy()
    return dict(
        images=images,
        prefix=prefix,
        shapes=shapes,
        theirs=theirs,
        losses=losses,
        model=model,
        ours=ours,
        restored=restored,
        our_losses=[float(l) for l in model.losses],
    )


# ---------------------------------------------------------------- golden


def test_golden_is_our_net_and_tf1s_names(run_299):
    golden = load_golden('inception_v4')
    assert len(golden) == 608
    assert variable_shapes(run_299['model']) == golden
    assert run_299['shapes'] == golden
    # Every variable was restored from the TF1 Saver's name-based file.
    assert sorted(run_299['restored']) == sorted(golden)


def test_golden_has_the_published_size():
    golden = load_golden('inception_v4')
    # As the PyTorch port counts: no auxiliary head, 1000 classes, and two
    # parameters per batch-norm channel where we hold three (beta and the two
    # moving statistics).
    count = sum(
        _size(shape)
        for name, shape in golden.items()
        if not name.startswith('InceptionV4/AuxLogits/')
        and not name.endswith('/moving_variance')
    )
    count -= 1536 + 1  # the 1001st class: one weight column and one bias
    assert count == PUBLISHED_PARAMETERS_1000_CLASSES_NO_AUX
    assert sum(_size(s) for s in golden.values()) == 46074066
    assert not [name for name in golden if name.endswith('/gamma')]


def test_golden_has_the_published_names():
    golden = load_golden('inception_v4')
    for name, shape in PUBLISHED_VARIABLES.items():
        assert golden.get(name) == shape, name
    # 149 convolutions in the trunk and 2 in the auxiliary head, each with
    # batch norm, and the two logits layers.
    assert sum(name.endswith('/moving_mean') for name in golden) == 151
    assert sum(name.endswith('/weights') for name in golden) == 153
    assert sum(name.endswith('/biases') for name in golden) == 2
    scopes = {name.split('/')[1] for name in golden}
    assert scopes == set(BASE_END_POINTS) | {'AuxLogits', 'Logits'}


# ---------------------------------------------------------------- numerics


def test_restored_299_matches_tf_slim(run_299):
    ours, theirs = run_299['ours'], run_299['theirs']
    assert set(ours) == set(theirs)
    for name, value in theirs.items():
        assert_close(ours[name], value, name)
    # Random statistics: a restore that dropped them would not match.
    reader = tf.train.load_checkpoint(run_299['prefix'])
    assert (
        reader.get_tensor(
            'InceptionV4/Mixed_7d/Branch_0/Conv2d_0a_1x1/BatchNorm/moving_variance'
        ).std()
        > 0.1
    )


def test_end_point_shapes_at_299(run_299):
    assert {
        k: list(v.shape) for k, v in run_299['ours'].items() if k != 'logits'
    } == END_POINT_SHAPES_299


def test_regularization_losses_match_tf_slim(run_299):
    ours = run_299['our_losses']
    # The Inception arg scope puts an L2 penalty on weights only.
    assert len(ours) == len(run_299['losses']) == 153
    np.testing.assert_allclose(sum(ours), sum(run_299['losses']), rtol=RTOL)


# The tests below reuse the restored 299 x 299 model where they can: the
# variables of the trunk and the logits do not depend on the input size, and
# creating 46 M of them again costs more than the tests themselves.


def test_smaller_inputs_as_research_slim(run_299):
    model = run_299['model']
    # testHalfSizeImages, without the auxiliary head (its kernel would be
    # 1 x 1 at this size, not the 5 x 5 of this model).
    logits, end_points = model(
        tf.zeros([2, 150, 150, 3]), create_aux_logits=False
    )
    assert logits.shape == (2, 1001)
    assert end_points['Mixed_7d'].shape == (2, 3, 3, 1536)
    # testGlobalPool: the final pool covers the whole map.
    logits, end_points = model(
        tf.zeros([1, 350, 400, 3]), create_aux_logits=False
    )
    assert logits.shape == (1, 1001)
    assert end_points['Mixed_7d'].shape == (1, 9, 11, 1536)
    assert end_points['global_pool'].shape == (1, 1, 1, 1536)
    # The smallest input without the auxiliary head (Mixed_7d is 1 x 1).
    logits, end_points = model(
        tf.zeros([1, 75, 75, 3]), create_aux_logits=False
    )
    assert logits.shape == (1, 1001)
    assert 'AuxLogits' not in end_points


def test_traced_unknown_size_matches_eager(run_299):
    # testGlobalPoolUnknownImageShape: height and width unknown when traced,
    # so the features are averaged by reduce_mean; the result must equal the
    # eager call's fixed pool over the same map.
    model = run_299['model']
    count = len(model.variables)
    images = tf.constant(_images(91, 123, batch=2))
    eager_logits, eager_points = model(images, create_aux_logits=False)
    fn = tf.function(
        lambda x: model(x, create_aux_logits=False),
        autograph=False,
        input_signature=[tf.TensorSpec([None, None, None, 3])],
    )
    assert fn.get_concrete_function().structured_outputs[0].shape.as_list() == [
        None,
        1001,
    ]
    logits, end_points = fn(images)
    assert len(model.variables) == count
    assert end_points['Mixed_7d'].shape == (2, 1, 2, 1536)
    assert_close(end_points['Mixed_7d'], eager_points['Mixed_7d'], 'Mixed_7d')
    assert_close(
        end_points['global_pool'], eager_points['global_pool'], 'global_pool'
    )
    assert_close(logits, eager_logits, 'logits')


def test_aux_head_needs_a_large_enough_known_input(run_299):
    model = run_299['model']
    count = len(model.variables)
    with pytest.raises(ValueError, match='create_aux_logits=False') as error:
        model(tf.zeros([1, 106, 106, 3]))
    assert '107x107' in str(error.value) and '4x4' in str(error.value)
    assert len(model.variables) == count
    # Unknown height and width, as in a trace with an open input signature
    # (on the head alone, to keep the test quick).
    import slim
    from nets import inception_v4

    head = slim.Model(inception_v4._aux_logits, num_classes=3)
    with pytest.raises(ValueError, match='known input height and width'):
        tf.function(head, autograph=False).get_concrete_function(
            tf.TensorSpec([1, None, None, 1024])
        )


# ---------------------------------------------------------------- arguments


def test_base_stops_at_every_final_endpoint():
    import slim
    from nets import inception_v4

    assert inception_v4.BASE_END_POINTS == tuple(BASE_END_POINTS)
    # research/slim's testBuildOnlyUpToFinalEndpoint. One model for all end
    # points, called with each in turn: a call that built past its end point
    # would create the variables of the next scopes.
    model = slim.Model(_scoped_base)
    images = tf.zeros([1, 75, 75, 3])  # the smallest input reaching Mixed_7d
    for index, final_endpoint in enumerate(BASE_END_POINTS):
        net, end_points = model(images, final_endpoint=final_endpoint)
        assert list(end_points) == BASE_END_POINTS[: index + 1]
        assert net is end_points[final_endpoint]
        assert net.shape[-1] == END_POINT_SHAPES_299[final_endpoint][-1]
        scopes = {v.name.split('/')[1] for v in model.variables}
        assert scopes == set(BASE_END_POINTS[: index + 1]), final_endpoint
    assert all(v.name.startswith('InceptionV4/') for v in model.variables)
    assert variable_shapes(model) == {
        name: shape
        for name, shape in load_golden('inception_v4').items()
        if name.split('/')[1] in BASE_END_POINTS
    }


@pytest.mark.parametrize('bad', ['Mixed_8a', 'mixed_7d', None])
def test_bad_final_endpoint_raises(bad):
    import slim

    model = slim.Model(_scoped_base, final_endpoint=bad)
    with pytest.raises(ValueError, match='final_endpoint') as error:
        model(tf.zeros([1, 75, 75, 3]))
    assert 'Mixed_7d' in str(error.value) and repr(bad) in str(error.value)
    assert not model.variables


def test_no_classes_and_no_aux_logits():
    import slim

    # research/slim's testBuildPreLogitsNetwork and testBuildWithoutAuxLogits,
    # at the smallest input.
    model = slim.Model(_scoped_inception_v4, num_classes=None)
    images = tf.zeros([2, 75, 75, 3])
    net, end_points = model(images)
    assert net.shape == (2, 1, 1, 1536)
    assert net is end_points['global_pool']
    assert not {'AuxLogits', 'PreLogitsFlatten', 'Logits', 'Predictions'} & set(
        end_points
    )
    count = len(model.variables)
    net, _ = model(images, num_classes=0)
    assert net.shape == (2, 1, 1, 1536)
    assert len(model.variables) == count
    assert not [
        v
        for v in model.variables
        if '/Logits/' in v.name or '/AuxLogits/' in v.name
    ]
    # Adding classes without the auxiliary head adds the logits layer only.
    logits, end_points = model(
        images, num_classes=1000, create_aux_logits=False
    )
    assert logits.shape == (2, 1000)
    assert 'AuxLogits' not in end_points
    assert len(model.variables) == count + 2
    assert model.get_variable('InceptionV4/Logits/Logits/weights').shape == (
        1536,
        1000,
    )


def test_train_and_eval_share_variables_with_reuse():
    import slim
    from nets import inception_v4

    # research/slim's testTrainEvalWithReuse: two nets in one call, the
    # second reusing the first's variables.
    def train_and_eval(images):
        with slim.arg_scope(inception_v4.inception_v4_arg_scope()):
            inception_v4.inception_v4(images, 10, create_aux_logits=False)
            count = len(model.variables)
            logits, _ = inception_v4.inception_v4(
                images[:1],
                10,
                is_training=False,
                reuse=True,
                create_aux_logits=False,
            )
            return logits, count

    model = slim.Model(train_and_eval)
    logits, count = model(tf.zeros([2, 75, 75, 3]))
    assert logits.shape == (1, 10)
    assert len(model.variables) == count == 608 - 10  # no AuxLogits


def test_arg_scope_batch_norm_scale():
    import slim

    # research/slim's testBatchNormScale (the default, no gamma, is the
    # golden file's), on the stem.
    model = slim.Model(
        _scoped_base,
        final_endpoint='Mixed_5a',
        arg_scope_kwargs={'batch_norm_scale': True},
    )
    model(tf.zeros([1, 75, 75, 3]))
    gammas = {v.name for v in model.variables if v.name.endswith('/gamma:0')}
    means = {
        v.name for v in model.variables if v.name.endswith('/moving_mean:0')
    }
    assert len(gammas) == len(means) == 11
    assert {n.replace('moving_mean', 'gamma') for n in means} == gammas


def test_blocks_keep_their_default_scopes():
    import slim
    from nets import inception_v4

    def blocks(images):
        net = inception_v4.block_inception_a(images)
        net = inception_v4.block_reduction_a(net)
        net = inception_v4.block_inception_b(net)
        net = inception_v4.block_reduction_b(net)
        return inception_v4.block_inception_c(net)

    model = slim.Model(blocks)
    net = model(tf.zeros([1, 35, 35, 384]))
    # Each block's channel count, and the reductions' 35 -> 17 -> 8.
    assert net.shape == (1, 8, 8, 1536)
    assert {v.name.split('/')[0] for v in model.variables} == {
        'BlockInceptionA',
        'BlockReductionA',
        'BlockInceptionB',
        'BlockReductionB',
        'BlockInceptionC',
    }


def test_signature_and_defaults_are_research_slims():
    from nets import inception_v4

    params = inspect.signature(inception_v4.inception_v4).parameters
    assert {k: p.default for k, p in params.items() if k != 'inputs'} == {
        'num_classes': 1001,
        'is_training': True,
        'dropout_keep_prob': 0.8,
        'reuse': None,
        'scope': 'InceptionV4',
        'create_aux_logits': True,
    }
    params = inspect.signature(inception_v4.inception_v4_base).parameters
    assert {k: p.default for k, p in params.items() if k != 'inputs'} == {
        'final_endpoint': 'Mixed_7d',
        'scope': None,
    }
    assert inception_v4.inception_v4.default_image_size == 299


if __name__ == '__main__':
    import conftest  # noqa: F401  (puts the work tree first on sys.path)
    import slim

    model = slim.Model(_scoped_inception_v4, num_classes=1001)
    model(tf.zeros([1, 299, 299, 3]))
    write_golden('inception_v4', variable_shapes(model))
