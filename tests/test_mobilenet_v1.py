"""Tests nets/mobilenet_v1.py: names, shapes and numerics of the four widths.

tf_slim 1.1.0 ships no MobileNet, so there is no ready oracle. The golden
files (tests/golden/mobilenet_v1*.json, 1001 classes) are written from our
net, and these tests hold them to facts that do not come from our code:

- TF1's own naming: our net file, run on TF-Slim 1.1.0's layers and
  `tf.compat.v1.variable_scope` in a graph (`_on_tf_slim`), must create the
  same variables. That run is also the numerical oracle for our layers: its
  weights, saved by a TF1 `Saver`, restore by name into our net with
  `slim.assign_from_checkpoint`, and every end point must agree, eagerly and
  under tf.function;
- research/slim's mobilenet_v1_test.py: the end points and their shapes
  (224 x 224, output strides 16 and 8, explicit padding, the 0.75 net at
  128 x 128, half-size and 250 x 300 inputs), the base's 3,217,920
  parameters, turned into the tests below;
- the published sizes of research/slim's MobileNet v1 table: 4.24, 2.59,
  1.34 and 0.47 million parameters for the widths 1.0, 0.75, 0.5 and 0.25
  (trainable: weights, batch-norm gamma and beta, the 1001-class logits);
- names and shapes of the released mobilenet_v1_1.0_224.ckpt, as listed by
  ports that load it.

Run as a script to rewrite the golden files from our net:
    python tests/test_mobilenet_v1.py
"""

import contextlib
import functools
import inspect
from unittest import mock

import numpy as np
import pytest
import tensorflow as tf

from net_oracle import (
    assert_close,
    load_golden,
    random_images,
    run_graph_net,
    variable_shapes,
    write_golden,
)

WIDTHS = {
    'mobilenet_v1': 1.0,
    'mobilenet_v1_075': 0.75,
    'mobilenet_v1_050': 0.5,
    'mobilenet_v1_025': 0.25,
}

# research/slim's nets/mobilenet_v1.md, "Million Parameters" at 224.
PUBLISHED_MILLIONS = {
    'mobilenet_v1': 4.24,
    'mobilenet_v1_075': 2.59,
    'mobilenet_v1_050': 1.34,
    'mobilenet_v1_025': 0.47,
}

# research/slim's testModelHasExpectedNumberOfParameters: the base at width
# 1.0 under arg_scope(normalizer_fn=batch_norm) (beta and the two moving
# statistics, no gamma).
BASE_PARAMETERS = 3217920

# Names and shapes in the released mobilenet_v1_1.0_224.ckpt, as the ports
# that read it list them.
PUBLISHED_VARIABLES = {
    'MobilenetV1/Conv2d_0/weights': [3, 3, 3, 32],
    'MobilenetV1/Conv2d_0/BatchNorm/gamma': [32],
    'MobilenetV1/Conv2d_1_depthwise/depthwise_weights': [3, 3, 32, 1],
    'MobilenetV1/Conv2d_1_pointwise/weights': [1, 1, 32, 64],
    'MobilenetV1/Conv2d_1_pointwise/BatchNorm/moving_mean': [64],
    'MobilenetV1/Conv2d_13_depthwise/depthwise_weights': [3, 3, 1024, 1],
    'MobilenetV1/Conv2d_13_pointwise/weights': [1, 1, 1024, 1024],
    'MobilenetV1/Conv2d_13_pointwise/BatchNorm/moving_variance': [1024],
    'MobilenetV1/Logits/Conv2d_1c_1x1/weights': [1, 1, 1024, 1001],
    'MobilenetV1/Logits/Conv2d_1c_1x1/biases': [1001],
}

# research/slim's testBuildBaseNetwork: the base's end points, in order.
BASE_END_POINTS = ['Conv2d_0'] + [
    'Conv2d_%d_%s' % (i, kind)
    for i in range(1, 14)
    for kind in ('depthwise', 'pointwise')
]


def _shapes(stride_8, stride_16, stride_32, multiplier=1, batch=1):
    """research/slim's end point shape tables: the map sizes of the
    blocks at strides 2, 4, 8 and of the later ones, by output stride."""

    def d(channels):
        return int(channels * multiplier)

    sizes = [stride_8 * 4, stride_8 * 2, stride_8, stride_16, stride_32]
    layout = [  # (end point, map size index, channels)
        ('Conv2d_0', 0, 32),
        ('Conv2d_1_depthwise', 0, 32),
        ('Conv2d_1_pointwise', 0, 64),
        ('Conv2d_2_depthwise', 1, 64),
        ('Conv2d_2_pointwise', 1, 128),
        ('Conv2d_3_depthwise', 1, 128),
        ('Conv2d_3_pointwise', 1, 128),
        ('Conv2d_4_depthwise', 2, 128),
        ('Conv2d_4_pointwise', 2, 256),
        ('Conv2d_5_depthwise', 2, 256),
        ('Conv2d_5_pointwise', 2, 256),
        ('Conv2d_6_depthwise', 3, 256),
    ]
    layout += [
        ('Conv2d_%d_%s' % (i, kind), 3, 512)
        for i in range(6, 12)
        for kind in ('depthwise', 'pointwise')
    ][1:]
    layout += [
        ('Conv2d_12_depthwise', 4, 512),
        ('Conv2d_12_pointwise', 4, 1024),
        ('Conv2d_13_depthwise', 4, 1024),
        ('Conv2d_13_pointwise', 4, 1024),
    ]
    return {
        name: [batch, sizes[index], sizes[index], d(channels)]
        for name, index, channels in layout
    }


# research/slim's testBuildAndCheckAllEndPointsUptoConv2d_13 and the output
# stride 16 and 8 variants, at 224 x 224, with and without explicit padding;
# testBuildAndCheckAllEndPointsApproximateFaceNet: width 0.75 at 128 x 128.
END_POINT_SHAPES = {
    'stride_32': _shapes(28, 14, 7),
    'stride_16': _shapes(28, 14, 14),
    'stride_8': _shapes(28, 28, 28),
    'facenet': _shapes(16, 8, 4, multiplier=0.75),
}


def test_the_shape_tables_are_research_slims():
    # Spot checks of the tables above against research/slim's literal lists.
    # (research/slim's batch of 5 is 1 here.)
    tables = END_POINT_SHAPES
    assert tables['stride_32']['Conv2d_6_depthwise'] == [1, 14, 14, 256]
    assert tables['stride_32']['Conv2d_11_pointwise'] == [1, 14, 14, 512]
    assert tables['stride_32']['Conv2d_12_depthwise'] == [1, 7, 7, 512]
    assert tables['stride_16']['Conv2d_13_pointwise'] == [1, 14, 14, 1024]
    assert tables['stride_8']['Conv2d_6_depthwise'] == [1, 28, 28, 256]
    assert tables['stride_8']['Conv2d_5_pointwise'] == [1, 28, 28, 256]
    assert tables['facenet']['Conv2d_0'] == [1, 64, 64, 24]
    assert tables['facenet']['Conv2d_12_pointwise'] == [1, 4, 4, 768]
    for table in END_POINT_SHAPES.values():
        assert list(table) == BASE_END_POINTS


# ---------------------------------------------------------------- helpers


class _TFSlimWithScopes:
    """TF-Slim 1.1.0's API plus TF1's `variable_scope` and initializer, under
    the name `slim`: what our net file sees when run by `_on_tf_slim`."""

    variable_scope = staticmethod(tf.compat.v1.variable_scope)
    truncated_normal_initializer = staticmethod(
        tf.compat.v1.truncated_normal_initializer
    )

    def __getattr__(self, name):
        import tf_slim

        return getattr(tf_slim, name)


@contextlib.contextmanager
def _on_tf_slim():
    """Runs our net file on TF-Slim's layers and TF1's scopes (graph mode)."""
    from nets import inception_utils, mobilenet_v1

    shim = _TFSlimWithScopes()
    with (
        mock.patch.object(mobilenet_v1, 'slim', shim),
        mock.patch.object(inception_utils, 'slim', shim),
    ):
        yield


def _random_gammas(getter, name, *args, **kwargs):
    """A TF1 custom getter: batch-norm gammas start random instead of 1, so a
    restore that lost them would show (net_oracle randomises the rest)."""
    if name.endswith('/gamma'):
        kwargs['initializer'] = tf.compat.v1.random_uniform_initializer(
            0.5, 1.5
        )
    return getter(name, *args, **kwargs)


def _tf_slim_arg_scope():
    import tf_slim
    from nets import mobilenet_v1

    # The defaults bound at import are our slim's; TF-Slim's batch norm here.
    return tf_slim.arg_scope(
        mobilenet_v1.mobilenet_v1_arg_scope(
            is_training=False, normalizer_fn=tf_slim.batch_norm
        )
    )


def oracle_mobilenet_v1(name, images, ckpt_prefix, seed=0, base_variants=False):
    """Our net file on TF-Slim in a TF1 graph, random weights and statistics,
    1001 classes: ({variable: shape}, {end point: value}, [regularization
    losses]). With `base_variants`, the base is built twice more on the same
    variables, at output stride 8 with explicit padding ('os8') and at output
    stride 16 ('os16')."""
    import tf_slim
    from nets import mobilenet_v1

    depth_multiplier = WIDTHS[name]

    def build(inputs):
        outputs = {}
        with _on_tf_slim(), _tf_slim_arg_scope():
            with tf.compat.v1.variable_scope('', custom_getter=_random_gammas):
                logits, end_points = getattr(mobilenet_v1, name)(
                    inputs,
                    num_classes=1001,
                    is_training=False,
                    prediction_fn=tf_slim.softmax,
                )
            outputs.update(end_points, logits=logits)
            if base_variants:
                with tf.compat.v1.variable_scope(
                    tf.compat.v1.get_variable_scope(), reuse=True
                ):
                    outputs['os8'] = mobilenet_v1.mobilenet_v1_base(
                        inputs,
                        depth_multiplier=depth_multiplier,
                        output_stride=8,
                        use_explicit_padding=True,
                        scope='MobilenetV1',
                    )[1]
                    outputs['os16'] = mobilenet_v1.mobilenet_v1_base(
                        inputs,
                        depth_multiplier=depth_multiplier,
                        output_stride=16,
                        scope='MobilenetV1',
                    )[1]
        return outputs

    return run_graph_net(
        build, images, ckpt_prefix, seed, randomize_statistics=True
    )


def _scoped(name, images, arg_scope_kwargs=None, **kwargs):
    import slim
    from nets import mobilenet_v1

    with slim.arg_scope(
        mobilenet_v1.mobilenet_v1_arg_scope(**(arg_scope_kwargs or {}))
    ):
        return getattr(mobilenet_v1, name)(images, **kwargs)


def _scoped_base(images, arg_scope_kwargs=None, **kwargs):
    import slim
    from nets import mobilenet_v1

    with slim.arg_scope(
        mobilenet_v1.mobilenet_v1_arg_scope(**(arg_scope_kwargs or {}))
    ):
        return mobilenet_v1.mobilenet_v1_base(images, **kwargs)


def _thinned(shape, multiplier):
    """research/slim's depth rule, max(int(channels * multiplier), 8), on a
    width-1.0 variable shape; the RGB input and the 1001 classes stay."""

    def thin(dim):
        return dim if dim in (3, 1001) else max(int(dim * multiplier), 8)

    if len(shape) == 4 and shape[-1] == 1:  # depthwise [3, 3, channels, 1]
        return shape[:2] + [thin(shape[2]), 1]
    return (
        shape[:-2] + [thin(d) for d in shape[-2:]]
        if len(shape) == 4
        else [thin(shape[0])]
    )


def _size(shape):
    return int(np.prod(shape))


# ---------------------------------------------------------------- oracle

# The widths 1.0 and 0.25 run against TF-Slim in full (the same code builds
# every width; the TF1 graph costs seconds a net); the 0.75 and 0.5 goldens
# are held to the 1.0 golden by research/slim's depth rule and to the
# published sizes.


def _restore(name, tmp_path_factory):
    """A width's TF1 oracle run at 96 x 96 and our model restored from it."""
    import slim

    images = random_images(96, batch=2)
    prefix = str(tmp_path_factory.mktemp(name) / 'model.ckpt')
    shapes, theirs, losses = oracle_mobilenet_v1(
        name, images, prefix, base_variants=name == 'mobilenet_v1_025'
    )
    model = slim.Model(
        functools.partial(_scoped, name), num_classes=1001, is_training=False
    )
    model(images)
    names = slim.assign_from_checkpoint(
        slim.get_variables_to_restore(model), prefix
    )
    logits, end_points = model(images)
    return dict(
        name=name,
        images=images,
        prefix=prefix,
        shapes=shapes,
        theirs=theirs,
        losses=losses,
        model=model,
        restored=names,
        logits=logits,
        end_points=end_points,
        our_losses=[float(l) for l in model.losses],
    )


@pytest.fixture(scope='module')
def wide(tmp_path_factory):
    return _restore('mobilenet_v1', tmp_path_factory)


@pytest.fixture(scope='module')
def narrow(tmp_path_factory):
    """The 0.25 net; its TF1 run also holds the base at output strides 8
    (explicit padding) and 16."""
    return _restore('mobilenet_v1_025', tmp_path_factory)


@pytest.fixture(params=['wide', 'narrow'])
def restored(request):
    return request.getfixturevalue(request.param)


def test_golden_is_tf1s_variables(restored):
    golden = load_golden(restored['name'])
    # 27 convolutions with weights and 4 batch-norm variables each, and the
    # logits' weights and biases.
    assert len(golden) == 27 * 5 + 2
    assert restored['shapes'] == golden
    assert variable_shapes(restored['model']) == golden
    # Every variable was restored from the TF1 Saver's name-based file.
    assert sorted(restored['restored']) == sorted(golden)


def test_restored_matches_tf_slim_eager_and_compiled(restored):
    model, images = restored['model'], restored['images']
    theirs = {
        k: v for k, v in restored['theirs'].items() if k not in ('os8', 'os16')
    }
    ours = dict(restored['end_points'], logits=restored['logits'])
    assert list(ours) == list(theirs)
    for key, value in theirs.items():
        assert_close(ours[key], value, key)
    if restored['name'] == 'mobilenet_v1':
        logits, end_points = tf.function(model, autograph=False)(images)
        for key, value in dict(end_points, logits=logits).items():
            assert_close(value, theirs[key], 'compiled ' + key)
    assert ours['AvgPool_1a'].shape == (
        2,
        1,
        1,
        int(1024 * WIDTHS[restored['name']]),
    )
    # Random statistics and gammas: a restore that dropped them would not
    # match.
    reader = tf.train.load_checkpoint(restored['prefix'])
    for kind in ('gamma', 'moving_variance'):
        assert (
            reader.get_tensor(
                'MobilenetV1/Conv2d_13_depthwise/BatchNorm/' + kind
            ).std()
            > 0.1
        )


def test_regularization_losses_match_tf_slim(restored):
    ours = restored['our_losses']
    # The arg scope puts an L2 penalty on the full convolutions' weights only:
    # Conv2d_0, the 13 pointwise ones and the logits.
    assert len(ours) == len(restored['losses']) == 15
    np.testing.assert_allclose(sum(ours), sum(restored['losses']), rtol=1e-5)


def test_output_stride_and_explicit_padding_match_tf_slim(narrow):
    # Atrous depthwise convolutions (rates 2 and 4) and hand padding, on the
    # narrowest width's variables.
    import slim

    restored = narrow
    model = slim.Model(
        _scoped_base,
        depth_multiplier=0.25,
        arg_scope_kwargs={'is_training': False},
    )
    images = restored['images']
    model(images, final_endpoint='Conv2d_13_pointwise')
    slim.assign_from_checkpoint(
        slim.get_variables_to_restore(model), restored['prefix']
    )
    _, os8 = model(images, output_stride=8, use_explicit_padding=True)
    _, os16 = model(images, output_stride=16)
    theirs = restored['theirs']
    for key in BASE_END_POINTS:
        assert_close(os8[key], theirs['os8'][key], 'os8/' + key)
        assert_close(os16[key], theirs['os16'][key], 'os16/' + key)
    assert os8['Conv2d_13_pointwise'].shape == (2, 12, 12, 256)
    assert os16['Conv2d_13_pointwise'].shape == (2, 6, 6, 256)


# ---------------------------------------------------------------- golden


def test_golden_widths_follow_research_slims_depth_rule():
    wide = load_golden('mobilenet_v1')
    for name, multiplier in WIDTHS.items():
        golden = load_golden(name)
        assert {k: _thinned(v, multiplier) for k, v in wide.items()} == golden
    assert wide['MobilenetV1/Conv2d_13_pointwise/weights'] == [1, 1, 1024, 1024]
    assert load_golden('mobilenet_v1_025')['MobilenetV1/Conv2d_0/weights'] == [
        3,
        3,
        3,
        8,
    ]


@pytest.mark.parametrize('name', sorted(WIDTHS))
def test_golden_has_the_published_size(name):
    golden = load_golden(name)
    # Trainable parameters: weights, gamma and beta, the logits' biases.
    count = sum(
        _size(shape) for key, shape in golden.items() if '/moving_' not in key
    )
    assert abs(count / (PUBLISHED_MILLIONS[name] * 1e6) - 1) < 0.01, count


def test_golden_has_the_published_names_and_base_size():
    golden = load_golden('mobilenet_v1')
    for name, shape in PUBLISHED_VARIABLES.items():
        assert golden.get(name) == shape, name
    assert {name.split('/')[1] for name in golden} == set(BASE_END_POINTS) | {
        'Logits'
    }
    # research/slim's base count: no gamma, no logits.
    assert sum(
        _size(shape)
        for key, shape in golden.items()
        if '/Logits/' not in key and not key.endswith('/gamma')
    ) == (BASE_PARAMETERS)


# ---------------------------------------------------------------- shapes


@pytest.fixture(scope='module')
def base_model():
    """The width-1.0 base, its variables made at 32 x 32."""
    import slim

    model = slim.Model(_scoped_base, arg_scope_kwargs={'is_training': False})
    model(tf.zeros([1, 32, 32, 3]))
    return model


@pytest.mark.parametrize(
    'table,kwargs',
    [
        ('stride_32', {}),
        ('stride_32', {'use_explicit_padding': True}),
        ('stride_16', {'output_stride': 16}),
        ('stride_16', {'output_stride': 16, 'use_explicit_padding': True}),
        ('stride_8', {'output_stride': 8}),
        ('stride_8', {'output_stride': 8, 'use_explicit_padding': True}),
    ],
)
def test_base_end_point_shapes_at_224(base_model, table, kwargs):
    count = len(base_model.variables)
    net, end_points = base_model(tf.zeros([1, 224, 224, 3]), **kwargs)
    assert {k: v.shape.as_list() for k, v in end_points.items()} == (
        END_POINT_SHAPES[table]
    )
    assert list(end_points) == BASE_END_POINTS
    assert net is end_points['Conv2d_13_pointwise']
    # Neither atrous convolution nor padding changes a variable.
    assert len(base_model.variables) == count == 27 * 5


def test_base_end_point_shapes_of_the_075_net_at_128():
    import slim

    model = slim.Model(_scoped_base, depth_multiplier=0.75)
    for kwargs in ({}, {'use_explicit_padding': True}):
        _, end_points = model(tf.zeros([1, 128, 128, 3]), **kwargs)
        assert {k: v.shape.as_list() for k, v in end_points.items()} == (
            END_POINT_SHAPES['facenet']
        ), kwargs


def test_classifier_shapes_as_research_slim(wide):
    restored = wide
    model = restored['model']
    count = len(model.variables)
    # testBuildClassificationNetwork, at 1001 classes.
    end_points = restored['end_points']
    assert list(end_points)[-3:] == ['AvgPool_1a', 'Logits', 'Predictions']
    assert end_points['Predictions'].shape == (2, 1001)
    # testBuildPreLogitsNetwork.
    net, end_points = model(tf.zeros([2, 224, 224, 3]), num_classes=None)
    assert net.shape == (2, 1, 1, 1024)
    assert net is end_points['AvgPool_1a']
    assert not {'Logits', 'Predictions'} & set(end_points)
    # testHalfSizeImages: the pool shrinks to the 4 x 4 map.
    logits, end_points = model(tf.zeros([2, 112, 112, 3]))
    assert logits.shape == (2, 1001)
    assert end_points['Conv2d_13_pointwise'].shape == (2, 4, 4, 1024)
    # testLogitsNotSqueezed.
    logits, _ = model(tf.zeros([1, 224, 224, 3]), spatial_squeeze=False)
    assert logits.shape == (1, 1, 1, 1001)
    assert len(model.variables) == count


def test_custom_conv_defs_and_min_depth():
    import slim
    from nets import mobilenet_v1

    # testBuildCustomNetworkUsingConvDefs.
    conv_defs = [
        mobilenet_v1.Conv(kernel=[3, 3], stride=2, depth=32),
        mobilenet_v1.DepthSepConv(kernel=[3, 3], stride=1, depth=64),
        mobilenet_v1.DepthSepConv(kernel=[3, 3], stride=2, depth=128),
        mobilenet_v1.DepthSepConv(kernel=[3, 3], stride=1, depth=512),
    ]
    model = slim.Model(
        _scoped_base, conv_defs=conv_defs, final_endpoint='Conv2d_3_pointwise'
    )
    net, end_points = model(tf.zeros([1, 224, 224, 3]))
    assert net.shape == (1, 56, 56, 512)
    assert list(end_points) == BASE_END_POINTS[:7]
    # min_depth binds below it: at 0.125, 32 and 64 channels would be 4 and 8.
    model = slim.Model(
        _scoped_base,
        depth_multiplier=0.125,
        final_endpoint='Conv2d_2_pointwise',
    )
    _, end_points = model(tf.zeros([1, 32, 32, 3]))
    assert [end_points[k].shape[-1] for k in BASE_END_POINTS[:5]] == [
        8,
        8,
        8,
        8,
        16,
    ]


def test_depth_multiplier_scales_every_layer(narrow, base_model):
    # testBuildEndPointsWithDepthMultiplierLessThanOne, with the 0.25 net.
    _, plain = base_model(tf.zeros([2, 96, 96, 3]))
    for key in BASE_END_POINTS:
        thin, full = narrow['end_points'][key].shape, plain[key].shape
        assert thin[:3] == full[:3] and thin[3] * 4 == full[3], key


def test_global_pool_with_unknown_size_matches_eager(narrow):
    # testGlobalPoolUnknownImageShape, eager and traced on the restored 0.25
    # net.
    model = narrow['model']
    count = len(model.variables)
    images = tf.constant(random_images(250, 300))
    logits, end_points = model(images, global_pool=True)
    assert end_points['Conv2d_13_pointwise'].shape == (1, 8, 10, 256)
    assert end_points['global_pool'].shape == (1, 1, 1, 256)
    assert 'AvgPool_1a' not in end_points
    fn = tf.function(
        lambda x: model(x, global_pool=True),
        autograph=False,
        input_signature=[tf.TensorSpec([1, None, None, 3])],
    )
    assert fn.get_concrete_function().structured_outputs[0].shape.as_list() == [
        1,
        1001,
    ]
    traced_logits, traced_points = fn(images)
    assert len(model.variables) == count
    assert_close(
        traced_points['global_pool'], end_points['global_pool'], 'global_pool'
    )
    assert_close(traced_logits, logits, 'logits')
    # Without it, the 7 x 7 window (stride 2) pools an 8 x 8 map (256 x 256
    # input) to 1 x 1, a 9 x 9 one (257 x 257) to 2 x 2: no squeeze.
    assert model(tf.zeros([1, 256, 256, 3]))[0].shape == (1, 1001)
    with pytest.raises(tf.errors.InvalidArgumentError, match='squeeze'):
        model(tf.zeros([1, 257, 257, 3]))


def test_base_stops_at_every_final_endpoint():
    import slim
    from nets import mobilenet_v1

    assert mobilenet_v1.end_point_names() == BASE_END_POINTS
    # testBuildOnlyUptoFinalEndpoint. One model for all end points, called
    # with each in turn: a call that built past its end point would create
    # the variables of the next scopes.
    model = slim.Model(_scoped_base, depth_multiplier=0.25)
    images = tf.zeros([1, 32, 32, 3])
    for index, final_endpoint in enumerate(BASE_END_POINTS):
        net, end_points = model(images, final_endpoint=final_endpoint)
        assert list(end_points) == BASE_END_POINTS[: index + 1]
        assert net is end_points[final_endpoint]
        scopes = {v.name.split('/')[1] for v in model.variables}
        assert scopes == set(BASE_END_POINTS[: index + 1]), final_endpoint
    assert all(v.name.startswith('MobilenetV1/') for v in model.variables)


# ---------------------------------------------------------------- arguments


@pytest.mark.parametrize('multiplier', [0.0, -0.1])
def test_depth_multiplier_must_be_positive(multiplier):
    import slim

    # testRaiseValueErrorWithInvalidDepthMultiplier.
    model = slim.Model(
        functools.partial(_scoped, 'mobilenet_v1'), depth_multiplier=multiplier
    )
    with pytest.raises(ValueError, match='depth_multiplier') as error:
        model(tf.zeros([1, 32, 32, 3]))
    assert repr(multiplier) in str(error.value)
    assert 'greater than zero' in str(error.value)
    assert not model.variables


@pytest.mark.parametrize(
    'kwargs,match',
    [
        ({'final_endpoint': 'Conv2d_14_pointwise'}, "'Conv2d_14_pointwise'"),
        ({'final_endpoint': 'Conv2d_1'}, "'Conv2d_1'"),
        (
            {'output_stride': 4},
            'output_stride must be None, 8, 16 or 32, got 4',
        ),
        ({'output_stride': 64}, 'got 64'),
    ],
)
def test_bad_base_arguments_raise_before_building(kwargs, match):
    import slim

    model = slim.Model(_scoped_base, **kwargs)
    with pytest.raises(ValueError, match=match) as error:
        model(tf.zeros([1, 32, 32, 3]))
    if 'final_endpoint' in kwargs:
        assert 'Conv2d_13_pointwise' in str(error.value)
    assert not model.variables


def test_bad_conv_defs_and_inputs_raise():
    import slim
    from nets import mobilenet_v1

    model = slim.Model(
        _scoped_base,
        conv_defs=[
            mobilenet_v1.Conv([3, 3], 2, 32),
            ('DepthSepConv', [3, 3], 1, 64),
        ],
    )
    with pytest.raises(TypeError, match=r'conv_defs\[1\] must be a '):
        model(tf.zeros([1, 32, 32, 3]))
    assert not model.variables
    model = slim.Model(functools.partial(_scoped, 'mobilenet_v1'))
    with pytest.raises(ValueError, match='inputs must have rank 4') as error:
        model(tf.zeros([32, 32, 3]))
    assert '(32, 32, 3)' in str(error.value)
    with pytest.raises(ValueError, match='at least 1 x 1') as error:
        model(tf.zeros([1, 0, 0, 3]))
    assert '(1, 0, 0, 3)' in str(error.value)
    assert not model.variables


def test_train_and_eval_share_variables_with_reuse():
    import slim
    from nets import mobilenet_v1

    # research/slim's testTrainEvalWithReuse: two nets in one call, the
    # second reusing the first's variables.
    def train_and_eval(images):
        with slim.arg_scope(mobilenet_v1.mobilenet_v1_arg_scope()):
            mobilenet_v1.mobilenet_v1_025(images, 10)
            count = len(model.variables)
            logits, _ = mobilenet_v1.mobilenet_v1_025(
                images[:1], 10, is_training=False, reuse=True
            )
            return logits, count

    model = slim.Model(train_and_eval)
    logits, count = model(tf.zeros([2, 32, 32, 3]))
    assert logits.shape == (1, 10)
    assert len(model.variables) == count == 137


def test_arg_scope_options():
    import slim
    from nets import mobilenet_v1

    key = slim.scopes.arg_scope_func_key(slim.batch_norm)
    # testBatchNormScopeDoesNotHaveIsTrainingWhenItsSetToNone and ...Has...
    assert (
        'is_training'
        not in mobilenet_v1.mobilenet_v1_arg_scope(is_training=None)[key]
    )
    for value in (True, False):
        assert (
            mobilenet_v1.mobilenet_v1_arg_scope(is_training=value)[key][
                'is_training'
            ]
            is value
        )
    # regularize_depthwise adds the depthwise penalties (Conv2d_1_depthwise
    # here) to those of the full convolutions.
    model = slim.Model(
        _scoped_base,
        final_endpoint='Conv2d_1_pointwise',
        arg_scope_kwargs={'regularize_depthwise': True},
    )
    model(tf.zeros([1, 8, 8, 3]))
    assert len(model.losses) == 3
    # Without a normalizer the convolutions get biases instead.
    model = slim.Model(
        _scoped_base,
        final_endpoint='Conv2d_1_pointwise',
        arg_scope_kwargs={'normalizer_fn': None},
    )
    model(tf.zeros([1, 8, 8, 3]))
    assert [v.name for v in model.variables] == [
        'MobilenetV1/%s/%s:0' % (scope, name)
        for scope, name in (
            ('Conv2d_0', 'weights'),
            ('Conv2d_0', 'biases'),
            ('Conv2d_1_depthwise', 'depthwise_weights'),
            ('Conv2d_1_depthwise', 'biases'),
            ('Conv2d_1_pointwise', 'weights'),
            ('Conv2d_1_pointwise', 'biases'),
        )
    ]
    assert len(model.losses) == 2


def test_signature_defaults_and_variants_are_research_slims():
    from nets import mobilenet_v1
    import slim

    params = inspect.signature(mobilenet_v1.mobilenet_v1).parameters
    assert {k: p.default for k, p in params.items() if k != 'inputs'} == {
        'num_classes': 1000,
        'dropout_keep_prob': 0.999,
        'is_training': True,
        'min_depth': 8,
        'depth_multiplier': 1.0,
        'conv_defs': None,
        'prediction_fn': slim.softmax,
        'spatial_squeeze': True,
        'reuse': None,
        'scope': 'MobilenetV1',
        'global_pool': False,
    }
    params = inspect.signature(mobilenet_v1.mobilenet_v1_base).parameters
    assert {k: p.default for k, p in params.items() if k != 'inputs'} == {
        'final_endpoint': 'Conv2d_13_pointwise',
        'min_depth': 8,
        'depth_multiplier': 1.0,
        'conv_defs': None,
        'output_stride': None,
        'use_explicit_padding': False,
        'scope': None,
    }
    params = inspect.signature(mobilenet_v1.mobilenet_v1_arg_scope).parameters
    assert {k: p.default for k, p in params.items()} == {
        'is_training': True,
        'weight_decay': 0.00004,
        'stddev': 0.09,
        'regularize_depthwise': False,
        'batch_norm_decay': 0.9997,
        'batch_norm_epsilon': 0.001,
        'batch_norm_updates_collections': 'update_ops',
        'normalizer_fn': slim.batch_norm,
    }
    assert len(mobilenet_v1.MOBILENETV1_CONV_DEFS) == 14
    for name, multiplier in WIDTHS.items():
        fn = getattr(mobilenet_v1, name)
        assert fn.__name__ == name
        assert fn.default_image_size == 224
        if multiplier != 1.0:
            assert fn.func is mobilenet_v1.mobilenet_v1
            assert fn.keywords == {'depth_multiplier': multiplier}


def test_registered_with_inception_preprocessing_and_1001_classes():
    from nets import mobilenet_v1, nets_factory

    for name in WIDTHS:
        spec = nets_factory.get_network_spec(name)
        assert spec.fn is getattr(mobilenet_v1, name)
        assert spec.arg_scope is mobilenet_v1.mobilenet_v1_arg_scope
        assert (
            spec.default_image_size,
            spec.min_image_size,
            spec.preprocessing,
            spec.num_classes,
        ) == (224, 1, 'inception', 1001)


if __name__ == '__main__':
    import conftest  # noqa: F401  (puts the work tree first on sys.path)
    import slim

    for _name in WIDTHS:
        _model = slim.Model(functools.partial(_scoped, _name), num_classes=1001)
        _model(tf.zeros([1, 32, 32, 3]))
        write_golden(_name, variable_shapes(_model))
