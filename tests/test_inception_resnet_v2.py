"""Tests nets/inception_resnet_v2.py: names, shapes and numerics.

tf_slim 1.1.0 ships no Inception-ResNet-v2, so there is no ready oracle. The
golden file (tests/golden/inception_resnet_v2.json) is written from our net,
and these tests hold it to facts that do not come from our code:

- research/slim's inception_resnet_v2_test.py: the end points and their
  shapes at 299 x 299, with output_stride 8 and with align_feature_maps,
  and at 150 x 150 and 330 x 400, turned into the tests below;
- Keras's InceptionResNetV2 (keras.applications), an independent port of
  the same released checkpoint, without the auxiliary head: its documented
  size is 55,873,736 parameters (60,544 of them the batch-norm moving
  statistics) in 898 weight tensors for 1000 classes, and, built here with
  random weights, its layers take our variables one for one, in creation
  order (which fails on any other kernel shape), and must compute what our
  net computes, end point by end point;
- names quoted from the released checkpoint (`Repeat_2/block8_4/...`,
  `Block8`, `AuxLogits/Conv2d_2a_5x5`, ...).

The restore test saves our variables to a name-based file, as the released
one, and restores them by name with `slim.assign_from_checkpoint`.

Run as a script to rewrite the golden file from our net:
    python tests/test_inception_resnet_v2.py
"""

import inspect
import re

import numpy as np
import pytest
import tensorflow as tf

from net_oracle import assert_close, load_golden, variable_shapes, write_golden

# research/slim's inception_resnet_v2_test.py,
# testBuildAndCheckAllEndPointsUptoPreAuxLogits (batch 1), then the rest of
# the base (testBuildEndPoints) and the heads.
END_POINT_SHAPES_299 = {
    'Conv2d_1a_3x3': [1, 149, 149, 32],
    'Conv2d_2a_3x3': [1, 147, 147, 32],
    'Conv2d_2b_3x3': [1, 147, 147, 64],
    'MaxPool_3a_3x3': [1, 73, 73, 64],
    'Conv2d_3b_1x1': [1, 73, 73, 80],
    'Conv2d_4a_3x3': [1, 71, 71, 192],
    'MaxPool_5a_3x3': [1, 35, 35, 192],
    'Mixed_5b': [1, 35, 35, 320],
    'Mixed_6a': [1, 17, 17, 1088],
    'PreAuxLogits': [1, 17, 17, 1088],
    'Mixed_7a': [1, 8, 8, 2080],
    'Conv2d_7b_1x1': [1, 8, 8, 1536],
    'AuxLogits': [1, 1001],
    'global_pool': [1, 1, 1, 1536],
    'PreLogitsFlatten': [1, 1536],
    'Logits': [1, 1001],
    'Predictions': [1, 1001],
}

# ...WithAlignedFeatureMaps and ...WithOutputStrideEight.
ALIGNED_SHAPES_299 = {
    'Conv2d_1a_3x3': [1, 150, 150, 32],
    'Conv2d_2a_3x3': [1, 150, 150, 32],
    'Conv2d_2b_3x3': [1, 150, 150, 64],
    'MaxPool_3a_3x3': [1, 75, 75, 64],
    'Conv2d_3b_1x1': [1, 75, 75, 80],
    'Conv2d_4a_3x3': [1, 75, 75, 192],
    'MaxPool_5a_3x3': [1, 38, 38, 192],
    'Mixed_5b': [1, 38, 38, 320],
    'Mixed_6a': [1, 19, 19, 1088],
    'PreAuxLogits': [1, 19, 19, 1088],
}
STRIDE_8_SHAPES_299 = dict(
    END_POINT_SHAPES_299,
    Mixed_6a=[1, 33, 33, 1088],
    PreAuxLogits=[1, 33, 33, 1088],
)

# research/slim's testBuildBaseNetwork.
BASE_END_POINTS = [
    'Conv2d_1a_3x3',
    'Conv2d_2a_3x3',
    'Conv2d_2b_3x3',
    'MaxPool_3a_3x3',
    'Conv2d_3b_1x1',
    'Conv2d_4a_3x3',
    'MaxPool_5a_3x3',
    'Mixed_5b',
    'Mixed_6a',
    'PreAuxLogits',
    'Mixed_7a',
    'Conv2d_7b_1x1',
]

# Keras's documented InceptionResNetV2 (1000 classes, no auxiliary head).
KERAS_PARAMETERS = 55873736
KERAS_NON_TRAINABLE_PARAMETERS = 60544  # moving means and variances
KERAS_WEIGHT_TENSORS = 898

# Quoted from the released checkpoint.
PUBLISHED_NAMES = [
    'InceptionResnetV2/Conv2d_1a_3x3/weights',
    'InceptionResnetV2/Repeat/block35_10/Branch_2/Conv2d_0c_3x3/weights',
    'InceptionResnetV2/Repeat_1/block17_20/Conv2d_1x1/biases',
    'InceptionResnetV2/Repeat_2/block8_4/Branch_1/Conv2d_0c_3x1/weights',
    'InceptionResnetV2/Block8/Conv2d_1x1/weights',
    'InceptionResnetV2/AuxLogits/Conv2d_2a_5x5/weights',
    'InceptionResnetV2/AuxLogits/Logits/weights',
    'InceptionResnetV2/Logits/Logits/weights',
]


# ---------------------------------------------------------------- helpers


def _scoped(
    images,
    entry='inception_resnet_v2',
    arg_scope_kwargs=None,
    is_training=None,
    **kwargs,
):
    """Our classifier (or, with entry='inception_resnet_v2_base', the base)
    under its arg scope. Both name their variables alike, so one model can
    serve calls to either."""
    import slim
    from nets import inception_resnet_v2

    fn = getattr(inception_resnet_v2, entry)
    with slim.arg_scope(
        inception_resnet_v2.inception_resnet_v2_arg_scope(
            **(arg_scope_kwargs or {})
        )
    ):
        if is_training is None:
            return fn(images, **kwargs)
        if entry == 'inception_resnet_v2':
            return fn(images, is_training=is_training, **kwargs)
        with slim.arg_scope([slim.batch_norm], is_training=is_training):
            return fn(images, **kwargs)


def _images(height, width=None, batch=1, seed=1):
    rng = np.random.RandomState(seed)
    return rng.uniform(-1, 1, (batch, height, width or height, 3)).astype(
        np.float32
    )


def _randomize(model, seed=0):
    """Random batch-norm statistics, betas and biases (they start at 0 and 1),
    so that a restore or a port that lost or swapped them shows."""
    rng = np.random.RandomState(seed)
    for v in model.variables:
        shape = v.shape.as_list()
        if v.name.endswith('moving_variance:0'):
            v.assign(rng.uniform(0.5, 1.5, shape).astype(np.float32))
        elif v.name.endswith(('moving_mean:0', 'beta:0', 'biases:0')):
            v.assign(rng.uniform(-0.1, 0.1, shape).astype(np.float32))


def _save_name_based(values, prefix):
    """Writes {name: array} as a name-based checkpoint, laid out as the
    released one, with SaveV2: the op a TF1 `Saver` runs (building a TF1
    graph of 908 variables to run it would take ten times as long)."""
    tf.raw_ops.SaveV2(
        prefix=prefix,
        tensor_names=list(values),
        shape_and_slices=[''] * len(values),
        tensors=list(values.values()),
    )


def _size(shape):
    return int(np.prod(shape))


@pytest.fixture(scope='module')
def run_299():
    import slim

    images = _images(299)
    model = slim.Model(_scoped, is_training=False)
    model(images)
    _randomize(model)
    logits, end_points = model(images)
    return dict(
        images=images,
        model=model,
        logits=logits.numpy(),
        end_points=end_points,
        losses=[float(l) for l in model.losses],
    )


# ---------------------------------------------------------------- golden


def test_golden_is_our_net(run_299):
    golden = load_golden('inception_resnet_v2')
    assert len(golden) == 908
    assert variable_shapes(run_299['model']) == golden


def test_golden_has_keras_size():
    golden = load_golden('inception_resnet_v2')
    shared = {
        name: shape
        for name, shape in golden.items()
        if not name.startswith('InceptionResnetV2/AuxLogits/')
    }
    # Keras has no auxiliary head and 1000 classes where we have 1001.
    assert len(shared) == KERAS_WEIGHT_TENSORS
    assert sum(_size(s) for s in shared.values()) - (1536 + 1) == (
        KERAS_PARAMETERS
    )
    assert 2 * sum(
        _size(s) for name, s in shared.items() if name.endswith('/moving_mean')
    ) == (KERAS_NON_TRAINABLE_PARAMETERS)
    assert sum(_size(s) for s in golden.values()) == 59244594
    assert not [name for name in golden if name.endswith('/gamma')]


def test_golden_has_the_published_names():
    golden = load_golden('inception_resnet_v2')
    for name in PUBLISHED_NAMES:
        assert name in golden, name
    assert golden['InceptionResnetV2/AuxLogits/Conv2d_2a_5x5/weights'] == [
        5,
        5,
        128,
        768,
    ]
    assert golden['InceptionResnetV2/Logits/Logits/weights'] == [1536, 1001]
    # The residual units, as slim.repeat and the default scope name them.
    units = {
        m.group(1)
        for m in (
            re.match(r'InceptionResnetV2/((Repeat(_\d)?/)?[bB]lock\w+?)/', n)
            for n in golden
        )
        if m
    }
    assert units == (
        {'Repeat/block35_%d' % i for i in range(1, 11)}
        | {'Repeat_1/block17_%d' % i for i in range(1, 21)}
        | {'Repeat_2/block8_%d' % i for i in range(1, 10)}
        | {'Block8'}
    )
    # Every unit's linear projection has biases (no batch norm).
    assert (
        len(
            [
                n
                for n in golden
                if n.endswith('Conv2d_1x1/biases') and 'Branch' not in n
            ]
        )
        == 40
    )


# ---------------------------------------------------------------- numerics


def _keras_net(size, num_classes):
    import keras

    return keras.applications.InceptionResNetV2(
        weights=None,
        input_shape=(size, size, 3),
        classes=num_classes,
        classifier_activation=None,
    )


def _uid(layer_name, prefix):
    """The creation index in Keras's automatic names: conv2d, conv2d_1, ..."""
    return 0 if layer_name == prefix else int(layer_name[len(prefix) + 1 :])


def _copy_to_keras(model, keras_net):
    """Gives each Keras layer our variables, pairing layers in creation
    order; Keras refuses any value of another shape."""
    import keras

    layers = keras_net.layers
    convs = sorted(
        (
            l
            for l in layers
            if type(l) is keras.layers.Conv2D and l.name.startswith('conv2d')
        ),
        key=lambda l: _uid(l.name, 'conv2d'),
    )
    norms = sorted(
        (
            l
            for l in layers
            if type(l) is keras.layers.BatchNormalization
            and l.name.startswith('batch_normalization')
        ),
        key=lambda l: _uid(l.name, 'batch_normalization'),
    )
    convs, norms = iter(convs), iter(norms)
    value = lambda name: model.get_variable(name).numpy()  # noqa: E731
    paired = 0
    for v in model.variables:
        name = v.name[:-2]
        if not name.endswith('/weights') or '/AuxLogits/' in name:
            continue
        scope = name[: -len('/weights')]
        unit = re.match(
            r'InceptionResnetV2/(?:Repeat(?:_\d)?/(block\d+_\d+)|'
            r'(Block8))/Conv2d_1x1$',
            scope,
        )
        if unit:  # a residual unit's linear projection
            keras_name = (unit.group(1) or 'block8_10') + '_conv'
            keras_net.get_layer(keras_name).set_weights(
                [value(name), value(scope + '/biases')]
            )
        elif scope.endswith('/Logits/Logits'):
            keras_net.get_layer('predictions').set_weights(
                [value(name), value(scope + '/biases')]
            )
        else:
            if scope.endswith('/Conv2d_7b_1x1'):
                conv, norm = (
                    keras_net.get_layer('conv_7b'),
                    keras_net.get_layer('conv_7b_bn'),
                )
            else:
                conv, norm = next(convs), next(norms)
            conv.set_weights([value(name)])
            norm.set_weights(
                [
                    value(scope + '/BatchNorm/' + k)
                    for k in ('beta', 'moving_mean', 'moving_variance')
                ]
            )
        paired += 1
    assert next(convs, None) is None and next(norms, None) is None
    return paired


def test_matches_keras_inception_resnet_v2(run_299):
    import keras

    model = run_299['model']
    keras_net = _keras_net(139, 1001)
    assert len(keras_net.weights) == KERAS_WEIGHT_TENSORS
    # Every convolution and the logits layer, in order, shapes checked.
    assert _copy_to_keras(model, keras_net) == 244 + 1
    pairs = {
        'Mixed_5b': 'mixed_5b',
        'Mixed_6a': 'mixed_6a',
        'PreAuxLogits': 'block17_20_ac',
        'Mixed_7a': 'mixed_7a',
        'Conv2d_7b_1x1': 'conv_7b_ac',
        'Logits': 'predictions',
    }
    probe = keras.Model(
        keras_net.inputs,
        [keras_net.get_layer(k).output for k in pairs.values()],
    )
    images = _images(139, batch=2)
    theirs = probe([images])
    _, ours = model(images, create_aux_logits=False)
    for name, value in zip(pairs, theirs):
        assert_close(ours[name], value, name)


def test_restore_from_name_based_checkpoint(run_299, tmp_path):
    import slim

    model = run_299['model']
    saved = {v.name[:-2]: v.numpy() for v in model.variables}
    prefix = str(tmp_path / 'model.ckpt')
    _save_name_based(saved, prefix)
    reader = tf.train.load_checkpoint(prefix)
    assert reader.get_variable_to_shape_map() == load_golden(
        'inception_resnet_v2'
    )
    for v in model.variables:
        v.assign(tf.zeros_like(v))
    restored = slim.assign_from_checkpoint(
        slim.get_variables_to_restore(model), prefix
    )
    assert sorted(restored) == sorted(saved)
    for v in model.variables:
        np.testing.assert_array_equal(v.numpy(), saved[v.name[:-2]], v.name)
    logits, _ = model(run_299['images'])
    np.testing.assert_array_equal(logits.numpy(), run_299['logits'])


def test_end_point_shapes_at_299(run_299):
    assert {
        k: v.shape.as_list() for k, v in run_299['end_points'].items()
    } == END_POINT_SHAPES_299


def test_regularization_covers_weights_and_biases(run_299):
    golden = load_golden('inception_resnet_v2')
    # The arg scope puts an L2 penalty on the biases too (those of the
    # residual projections and of the two logits layers).
    assert (
        len(run_299['losses'])
        == sum(name.endswith(('/weights', '/biases')) for name in golden)
        == 290
    )
    assert all(loss > 0 for loss in run_299['losses'])


# The tests below reuse the 299 x 299 model where they can: the variables of
# the trunk and the logits do not depend on the input size, and creating
# 59 M of them again costs more than the tests themselves.


def test_smaller_and_larger_inputs_as_research_slim(run_299):
    model = run_299['model']
    count = len(model.variables)
    # testHalfSizeImages, without the auxiliary head (its kernel would be
    # 1 x 1 at this size, not the 5 x 5 of this model).
    logits, end_points = model(
        tf.zeros([2, 150, 150, 3]), create_aux_logits=False
    )
    assert logits.shape == (2, 1001)
    assert end_points['Conv2d_7b_1x1'].shape == (2, 3, 3, 1536)
    # testGlobalPool.
    logits, end_points = model(
        tf.zeros([1, 330, 400, 3]), create_aux_logits=False
    )
    assert end_points['Conv2d_7b_1x1'].shape == (1, 8, 11, 1536)
    assert end_points['global_pool'].shape == (1, 1, 1, 1536)
    # The smallest input without the auxiliary head.
    logits, end_points = model(
        tf.zeros([1, 75, 75, 3]), create_aux_logits=False
    )
    assert logits.shape == (1, 1001)
    assert 'AuxLogits' not in end_points
    assert len(model.variables) == count


def test_aligned_feature_maps_and_output_stride_8(run_299):
    model = run_299['model']
    count = len(model.variables)
    images = tf.constant(run_299['images'])
    base = dict(entry='inception_resnet_v2_base', final_endpoint='PreAuxLogits')
    _, end_points = model(images, align_feature_maps=True, **base)
    assert {k: v.shape.as_list() for k, v in end_points.items()} == (
        ALIGNED_SHAPES_299
    )
    _, end_points = model(images, output_stride=8, **base)
    assert {k: v.shape.as_list() for k, v in end_points.items()} == {
        k: STRIDE_8_SHAPES_299[k] for k in BASE_END_POINTS[:10]
    }
    # Same variables: output stride and alignment change strides, rates and
    # paddings only. Up to Mixed_6a the stride-8 net is the stride-16 one.
    assert len(model.variables) == count
    assert_close(
        end_points['Mixed_5b'], run_299['end_points']['Mixed_5b'], 'Mixed_5b'
    )


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
    assert end_points['Conv2d_7b_1x1'].shape == (2, 1, 2, 1536)
    assert_close(
        end_points['Conv2d_7b_1x1'],
        eager_points['Conv2d_7b_1x1'],
        'Conv2d_7b_1x1',
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
    from nets import inception_resnet_v2

    head = slim.Model(inception_resnet_v2._aux_logits, num_classes=3)
    with pytest.raises(ValueError, match='known input height and width'):
        tf.function(head, autograph=False).get_concrete_function(
            tf.TensorSpec([1, None, None, 1088])
        )


def test_activation_fn_of_the_units(run_299):
    model = run_299['model']
    # Large inputs, so that the sums of the units exceed relu6's range.
    images = tf.constant(_images(75, batch=2)) * 100.0
    relu_logits, _ = model(images, create_aux_logits=False)
    relu6_logits, _ = model(
        images, create_aux_logits=False, activation_fn=tf.nn.relu6
    )
    assert np.abs(relu6_logits - relu_logits).max() > 1e-3


# ---------------------------------------------------------------- arguments


def test_base_stops_at_every_final_endpoint():
    import slim
    from nets import inception_resnet_v2

    assert inception_resnet_v2.BASE_END_POINTS == tuple(BASE_END_POINTS)
    # research/slim's testBuildOnlyUptoFinalEndpoint. One model for all end
    # points, called with each in turn: a call that built past its end point
    # would create the variables of the next scopes.
    model = slim.Model(_scoped, entry='inception_resnet_v2_base')
    images = tf.zeros([1, 75, 75, 3])  # the smallest input reaching the end
    # The scopes first created by each end point ('Repeat' holds the Block35
    # units after Mixed_5b, 'Repeat_1' the Block17 ones that are PreAuxLogits).
    new_scopes = [
        {'Conv2d_1a_3x3'},
        {'Conv2d_2a_3x3'},
        {'Conv2d_2b_3x3'},
        set(),
        {'Conv2d_3b_1x1'},
        {'Conv2d_4a_3x3'},
        set(),
        {'Mixed_5b'},
        {'Repeat', 'Mixed_6a'},
        {'Repeat_1'},
        {'Mixed_7a'},
        {'Repeat_2', 'Block8', 'Conv2d_7b_1x1'},
    ]
    scopes = set()
    for index, final_endpoint in enumerate(BASE_END_POINTS):
        net, end_points = model(images, final_endpoint=final_endpoint)
        assert list(end_points) == BASE_END_POINTS[: index + 1]
        assert net is end_points[final_endpoint]
        assert net.shape[-1] == END_POINT_SHAPES_299[final_endpoint][-1]
        scopes |= new_scopes[index]
        assert {v.name.split('/')[1] for v in model.variables} == scopes, (
            final_endpoint
        )
    assert variable_shapes(model) == {
        name: shape
        for name, shape in load_golden('inception_resnet_v2').items()
        if name.split('/')[1] not in ('AuxLogits', 'Logits')
    }


@pytest.mark.parametrize(
    'kwargs, message',
    [
        (dict(final_endpoint='Mixed_8a'), "final_endpoint must be one of"),
        (dict(final_endpoint=None), "final_endpoint must be one of"),
        (dict(output_stride=32), "output_stride must be 8 or 16, got 32"),
        (
            dict(output_stride=8),
            "output_stride 8 is supported up to the "
            "'PreAuxLogits' end point only",
        ),
        (
            dict(output_stride=8, final_endpoint='Mixed_7a'),
            "final_endpoint='Mixed_7a'",
        ),
    ],
)
def test_bad_base_arguments_raise(kwargs, message):
    import slim

    model = slim.Model(_scoped, entry='inception_resnet_v2_base', **kwargs)
    with pytest.raises(ValueError, match=re.escape(message)):
        model(tf.zeros([1, 75, 75, 3]))
    assert not model.variables


@pytest.mark.parametrize('num_classes', [0, None])
def test_no_classes_returns_pooled_features(run_299, num_classes):
    # research/slim's testBuildNoClasses, at the smallest input.
    model = run_299['model']
    count = len(model.variables)
    net, end_points = model(tf.zeros([2, 75, 75, 3]), num_classes=num_classes)
    assert net.shape == (2, 1, 1, 1536)
    assert net is end_points['global_pool']
    assert not {'AuxLogits', 'PreLogitsFlatten', 'Logits', 'Predictions'} & set(
        end_points
    )
    assert len(model.variables) == count


def test_blocks_and_their_activation():
    import slim
    from nets import inception_resnet_v2

    def unit(net, block, activation_fn):
        return block(net, scale=100.0, activation_fn=activation_fn)

    for block, channels, scope in (
        (inception_resnet_v2.block35, 320, 'Block35'),
        (inception_resnet_v2.block17, 1088, 'Block17'),
        (inception_resnet_v2.block8, 2080, 'Block8'),
    ):
        net = tf.fill([2, 5, 5, channels], -1000.0)
        model = slim.Model(unit, block=block)
        linear = model(net, activation_fn=None).numpy()
        assert linear.shape == (2, 5, 5, channels)
        assert {v.name.split('/')[0] for v in model.variables} == {scope}
        # The input plus the scaled projection, which is large: far below and
        # above zero.
        assert linear.min() < -100 and linear.max() > 100
        np.testing.assert_array_equal(
            model(net, activation_fn=tf.nn.relu).numpy(), np.maximum(linear, 0)
        )
        # relu6 first clips the scaled projection to [-6, 6], so the sum stays
        # near the input, -1000: all zeros after relu6.
        assert (model(net, activation_fn=tf.nn.relu6).numpy() == 0).all()


def test_arg_scope_activation_regularizers_and_batch_norm_scale():
    import slim
    from nets import inception_resnet_v2

    def conv(images):
        with slim.arg_scope(
            inception_resnet_v2.inception_resnet_v2_arg_scope(
                activation_fn=tf.nn.relu6
            )
        ):
            return slim.conv2d(images, 8, 1, normalizer_fn=None)

    model = slim.Model(conv)
    net = model(tf.constant(_images(7)) * 1000.0)
    assert net.numpy().max() == 6.0
    assert len(model.losses) == 2  # weights and biases
    model = slim.Model(
        _scoped,
        entry='inception_resnet_v2_base',
        final_endpoint='Conv2d_2b_3x3',
        arg_scope_kwargs={'batch_norm_scale': True},
    )
    model(tf.zeros([1, 75, 75, 3]))
    gammas = {v.name for v in model.variables if v.name.endswith('/gamma:0')}
    means = {
        v.name for v in model.variables if v.name.endswith('/moving_mean:0')
    }
    assert len(gammas) == len(means) == 3
    assert {n.replace('moving_mean', 'gamma') for n in means} == gammas


def test_signature_and_defaults_are_research_slims():
    from nets import inception_resnet_v2 as net

    defaults = lambda fn: {  # noqa: E731
        k: p.default
        for k, p in inspect.signature(fn).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    assert defaults(net.inception_resnet_v2) == {
        'num_classes': 1001,
        'is_training': True,
        'dropout_keep_prob': 0.8,
        'reuse': None,
        'scope': 'InceptionResnetV2',
        'create_aux_logits': True,
        'activation_fn': tf.nn.relu,
    }
    assert defaults(net.inception_resnet_v2_base) == {
        'final_endpoint': 'Conv2d_7b_1x1',
        'output_stride': 16,
        'align_feature_maps': False,
        'scope': None,
        'activation_fn': tf.nn.relu,
    }
    assert defaults(net.inception_resnet_v2_arg_scope) == {
        'weight_decay': 0.00004,
        'batch_norm_decay': 0.9997,
        'batch_norm_epsilon': 0.001,
        'activation_fn': tf.nn.relu,
        'batch_norm_updates_collections': 'update_ops',
        'batch_norm_scale': False,
    }
    for block in (net.block35, net.block17, net.block8):
        assert defaults(block) == {
            'scale': 1.0,
            'activation_fn': tf.nn.relu,
            'scope': None,
            'reuse': None,
        }
    assert net.inception_resnet_v2.default_image_size == 299


if __name__ == '__main__':
    import conftest  # noqa: F401  (puts the work tree first on sys.path)
    import slim

    model = slim.Model(_scoped, num_classes=1001)
    model(tf.zeros([1, 299, 299, 3]))
    write_golden('inception_resnet_v2', variable_shapes(model))
