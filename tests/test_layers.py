"""Layer parity with TF-Slim 1.1.0: names, shapes, outputs, regularization
losses, batch-norm statistics and one SGD step; and the layers' errors."""

import functools

import numpy as np
import pytest
import tensorflow as tf

import slim
from slim_oracle import assert_parity, random_inputs, run_slim

X = random_inputs([2, 9, 9, 3])
X2D = random_inputs([4, 6], seed=1)
X3D = random_inputs([2, 5, 6], seed=2)
L2 = 0.01

LAYERS = {
    'conv2d': lambda lib, x: lib.conv2d(
        x, 4, [3, 3], weights_regularizer=lib.l2_regularizer(L2)
    ),
    'conv2d_stride_valid': lambda lib, x: lib.conv2d(
        x, 5, [3, 2], stride=2, padding='VALID', activation_fn=None
    ),
    'conv2d_rate': lambda lib, x: lib.conv2d(x, 3, 3, rate=2, scope='atrous'),
    'conv2d_bn': lambda lib, x: lib.conv2d(
        x,
        4,
        [3, 3],
        normalizer_fn=lib.batch_norm,
        normalizer_params={'is_training': True, 'decay': 0.9, 'scale': True},
    ),
    'convolution2d_no_bias': lambda lib, x: lib.convolution2d(
        x,
        4,
        [1, 1],
        biases_initializer=None,
        biases_regularizer=lib.l2_regularizer(L2),
    ),
    'conv2d_transpose_same': lambda lib, x: lib.conv2d_transpose(
        x, 4, [3, 3], stride=2
    ),
    'conv2d_transpose_valid': lambda lib, x: lib.conv2d_transpose(
        x,
        2,
        [4, 4],
        stride=2,
        padding='VALID',
        weights_regularizer=lib.l1_regularizer(L2),
    ),
    'separable_conv2d': lambda lib, x: lib.separable_conv2d(
        x,
        6,
        [3, 3],
        depth_multiplier=2,
        weights_regularizer=lib.l2_regularizer(L2),
    ),
    'separable_conv2d_depthwise_only': lambda lib, x: lib.separable_conv2d(
        x, None, [3, 3], depth_multiplier=2, stride=2
    ),
    'separable_conv2d_bn': lambda lib, x: lib.separable_conv2d(
        x, 4, 3, normalizer_fn=lib.batch_norm
    ),
    'fully_connected': lambda lib, x: lib.fully_connected(
        lib.flatten(x), 7, weights_regularizer=lib.l1_l2_regularizer(L2, L2)
    ),
    'fully_connected_bn': lambda lib, x: lib.fully_connected(
        lib.flatten(x),
        5,
        normalizer_fn=lib.batch_norm,
        normalizer_params={'is_training': True, 'decay': 0.5},
    ),
    'batch_norm_train': lambda lib, x: lib.batch_norm(
        x, decay=0.8, scale=True, is_training=True
    ),
    'batch_norm_infer': lambda lib, x: lib.batch_norm(
        x,
        is_training=False,
        param_initializers={
            'moving_mean': tf.constant_initializer(0.3),
            'moving_variance': tf.constant_initializer(2.0),
            'gamma': tf.constant_initializer(1.5),
        },
        scale=True,
    ),
    'batch_norm_unfused': lambda lib, x: lib.batch_norm(
        x,
        decay=0.7,
        fused=False,
        center=False,
        scale=True,
        activation_fn=tf.nn.relu,
    ),
    'batch_norm_regularized': lambda lib, x: lib.batch_norm(
        x,
        scale=True,
        param_regularizers={
            'beta': lib.l2_regularizer(L2),
            'gamma': lib.l2_regularizer(L2),
        },
    ),
    'max_pool2d': lambda lib, x: lib.max_pool2d(x, [3, 3]),
    'max_pool2d_same': lambda lib, x: lib.max_pool2d(
        x, 2, stride=1, padding='SAME'
    ),
    'avg_pool2d': lambda lib, x: lib.avg_pool2d(
        x, [2, 2], stride=2, padding='SAME'
    ),
    'dropout_eval': lambda lib, x: lib.dropout(x, 0.5, is_training=False),
    'bias_add': lambda lib, x: lib.bias_add(
        x,
        activation_fn=tf.nn.relu,
        initializer=tf.constant_initializer(0.2),
        regularizer=lib.l2_regularizer(L2),
    ),
    'layer_norm': lambda lib, x: lib.layer_norm(x),
    'layer_norm_last_axis': lambda lib, x: lib.layer_norm(
        x, begin_norm_axis=-1, center=False
    ),
    'softmax': lambda lib, x: lib.softmax(x),
    'flatten': lambda lib, x: lib.flatten(x),
    'repeat': lambda lib, x: lib.repeat(
        x, 3, lib.conv2d, 4, [3, 3], scope='conv3'
    ),
    'repeat_default_scope': lambda lib, x: lib.repeat(x, 2, lib.conv2d, 2, 1),
    'stack': lambda lib, x: lib.stack(
        lib.flatten(x), lib.fully_connected, [8, 6, 4], scope='fc'
    ),
    'stack_conv_tuples': lambda lib, x: lib.stack(
        x, lib.conv2d, [(4, [3, 3]), (2, [1, 1])], scope='convs'
    ),
    'default_names': lambda lib, x: lib.conv2d(
        lib.conv2d(lib.conv2d(x, 2, 1), 2, 1, scope='Conv_1'), 2, 1
    ),
}


@pytest.mark.parametrize('name', sorted(LAYERS))
def test_layer_parity_eager(name):
    assert_parity(LAYERS[name], [X])


@pytest.mark.parametrize(
    'name',
    [
        'conv2d_bn',
        'batch_norm_train',
        'batch_norm_unfused',
        'separable_conv2d',
        'fully_connected_bn',
        'conv2d_transpose_same',
        'bias_add',
        'layer_norm',
    ],
)
def test_layer_training_step_parity_traced(name):
    """One SGD step (gradients and in-place batch-norm updates) under
    tf.function gives TF-Slim's updated variables."""
    assert_parity(LAYERS[name], [X], step_lr=0.1, traced=True)


def test_rank2_and_rank3_layers():
    assert_parity(
        lambda lib, x: lib.batch_norm(x, decay=0.5, scale=True),
        [X2D],
        step_lr=0.1,
    )
    assert_parity(lambda lib, x: lib.fully_connected(x, 3), [X3D])
    assert_parity(lambda lib, x: lib.layer_norm(x, begin_norm_axis=2), [X3D])


def test_one_hot_encoding():
    labels = np.array([0, 2, 1], np.int32)
    assert_parity(
        lambda lib, y: lib.one_hot_encoding(y, 4, on_value=2.0), [labels]
    )


def _variable_scope(lib):
    return slim.variable_scope if lib is slim else tf.compat.v1.variable_scope


def small_net(lib, images, is_training=True):
    """Combines arg_scope, repeat, stack, default names, batch norm,
    separable conv, dropout and fully connected layers."""
    bn = {'is_training': is_training, 'decay': 0.9, 'scale': True}
    with lib.arg_scope(
        [lib.conv2d, lib.separable_conv2d],
        normalizer_fn=lib.batch_norm,
        normalizer_params=bn,
        weights_regularizer=lib.l2_regularizer(0.004),
    ):
        with lib.arg_scope(
            [lib.fully_connected], weights_regularizer=lib.l2_regularizer(0.002)
        ):
            with _variable_scope(lib)(None, 'Net', [images]):
                x = lib.repeat(images, 2, lib.conv2d, 4, [3, 3], scope='conv1')
                x = lib.max_pool2d(x, [2, 2], scope='pool1')
                x = lib.conv2d(x, 6, [1, 1])
                x = lib.conv2d(x, 6, [3, 3], stride=2)
                x = lib.separable_conv2d(x, 8, [3, 3], depth_multiplier=1)
                x = lib.dropout(x, keep_prob=1.0, is_training=is_training)
                x = lib.flatten(x)
                x = lib.stack(x, lib.fully_connected, [12, 10], scope='fc')
                x = lib.dropout(x, 0.5, is_training=False)
                return lib.fully_connected(
                    x, 5, activation_fn=None, scope='logits'
                )


@pytest.mark.parametrize('traced', [False, True])
def test_small_net_training_parity(traced):
    ref, got = assert_parity(small_net, [X], step_lr=0.05, traced=traced)
    assert 'Net/conv1/conv1_2/BatchNorm/moving_variance' in got.names
    assert 'Net/Conv_1/weights' in got.names
    assert 'Net/fc/fc_2/biases' in got.names
    # conv1_1, conv1_2, Conv, Conv_1, depthwise + pointwise, fc_1, fc_2, logits
    assert len(got.reg_losses) == 9


def test_small_net_inference_parity():
    assert_parity(functools.partial(small_net, is_training=False), [X])


def test_bfloat16_compute_keeps_float32_variables():
    ref, got = assert_parity(small_net, [X], step_lr=0.05)
    bf = run_slim(
        lambda lib, x: small_net(lib, tf.cast(x, tf.bfloat16)), [X], ref.initial
    )
    model = slim.Model(lambda x: small_net(slim, x))
    out = model(tf.cast(X, tf.bfloat16))
    assert out.dtype == tf.bfloat16
    assert all(v.dtype == tf.float32 for v in model.variables)
    # bfloat16 keeps ~3 significant digits.
    np.testing.assert_allclose(
        bf.outputs.astype(np.float32), ref.outputs, rtol=0.1, atol=0.1
    )
    for name in ref.names:
        if 'moving_' in name:
            np.testing.assert_allclose(
                bf.after[name], ref.after[name], rtol=0.05, atol=0.02
            )


def test_float16_compute():
    model = slim.Model(lambda x: small_net(slim, x))
    out = model(tf.cast(X, tf.float16))
    assert out.dtype == tf.float16
    assert all(v.dtype == tf.float32 for v in model.variables)
    assert all(l.dtype == tf.float32 for l in model.losses)


def test_dropout_training_scales_and_drops():
    model = slim.Model(lambda x: slim.dropout(x, keep_prob=0.25, seed=3))
    y = model(tf.ones([200, 50])).numpy()
    kept = y[y != 0]
    np.testing.assert_allclose(kept, 4.0)
    assert 0.2 < kept.size / y.size < 0.3


def test_batch_norm_is_training_tensor():
    x = tf.constant(X)
    model = slim.Model(lambda x, t: slim.batch_norm(x, is_training=t))
    fn = tf.function(model)
    train = fn(x, tf.constant(True)).numpy()
    infer = fn(x, tf.constant(False)).numpy()
    mean = model.get_variable('BatchNorm/moving_mean').numpy()
    assert np.abs(train.mean(axis=(0, 1, 2))).max() < 1e-4
    assert np.abs(mean).max() > 0
    assert not np.allclose(train, infer)


# ---------------------------------------------------------------------------
# Bad input


def depthwise_bn_net(images, is_training=False):
    params = {'is_training': is_training, 'scale': True}
    net = slim.separable_conv2d(
        images,
        None,
        [3, 3],
        depth_multiplier=2,
        normalizer_fn=slim.batch_norm,
        normalizer_params=params,
        activation_fn=tf.nn.relu6,
        scope='dw',
    )
    return net, {'dw': net}


def test_inference_folds_batch_norm_into_the_depthwise_convolution():
    model = slim.Model(depthwise_bn_net)
    x = tf.constant(random_inputs([2, 9, 9, 3], seed=3))
    model(x)
    rng = np.random.RandomState(0)
    for v in model.variables:
        if 'moving_variance' in v.name:
            v.assign(rng.uniform(0.5, 2, v.shape))
        elif 'weights' not in v.name:
            v.assign(
                rng.uniform(-0.5, 0.5, v.shape)
                + (1 if 'gamma' in v.name else 0)
            )
    eager = model(x, is_training=False)[0]  # eager: batch norm as written
    traced = tf.function(lambda x, t: model(x, is_training=t)[0])
    np.testing.assert_allclose(traced(x, False), eager, rtol=1e-5, atol=1e-6)
    graph = traced.get_concrete_function(x, False).graph
    consumed = [
        op.type
        for op in graph.get_operations()
        if any(t.consumers() for t in op.outputs)
    ]
    assert 'FusedBatchNormV3' not in consumed
    assert 'BiasAdd' in consumed  # what Grappler fuses with the convolution
    # Training normalizes by the batch and updates the statistics, as ever.
    training = traced.get_concrete_function(x, True).graph
    assert 'FusedBatchNormV3' in [op.type for op in training.get_operations()]
    # The convolution left unused is not counted.
    summary = slim.model_analyzer.summarize(
        slim.Model(depthwise_bn_net), [1, 9, 9, 3]
    )
    assert summary.multiply_adds == 9 * 9 * 6 * 3 * 3


def _build_error(fn, x):
    model = slim.Model(fn)
    with pytest.raises(ValueError) as e:
        model(tf.constant(x))
    return str(e.value)


def test_conv2d_rejects_rank3_input():
    msg = _build_error(lambda x: slim.conv2d(x, 4, 3, scope='c1'), X3D)
    assert 'c1' in msg and 'rank 3' in msg


def test_fully_connected_rejects_rank1_input():
    msg = _build_error(
        lambda x: slim.fully_connected(x, 4, scope='fc9'),
        np.ones([5], np.float32),
    )
    assert 'fc9' in msg and 'rank 1' in msg


@pytest.mark.parametrize('bad', [0, -3, 2.5, None])
def test_num_outputs_must_be_positive(bad):
    msg = _build_error(lambda x: slim.conv2d(x, bad, 3, scope='c2'), X)
    assert 'c2' in msg and 'num_outputs' in msg and repr(bad) in msg
    msg = _build_error(lambda x: slim.fully_connected(slim.flatten(x), bad), X)
    assert 'fully_connected' in msg and 'num_outputs' in msg


def test_kernel_size_of_wrong_length():
    msg = _build_error(lambda x: slim.conv2d(x, 4, [3, 3, 3], scope='c3'), X)
    assert 'c3' in msg and 'kernel_size' in msg and '[3, 3, 3]' in msg


def test_unknown_padding():
    msg = _build_error(
        lambda x: slim.conv2d(x, 4, 3, padding='FULL', scope='c4'), X
    )
    assert 'c4' in msg and "'FULL'" in msg and 'SAME' in msg
    msg = _build_error(lambda x: slim.max_pool2d(x, 2, padding='same!'), X)
    assert 'MaxPool2D' in msg and 'same!' in msg


def test_other_layer_errors():
    assert 'depth_multiplier' in _build_error(
        lambda x: slim.separable_conv2d(x, 4, 3, depth_multiplier=0), X
    )
    assert 'rank' in _build_error(lambda x: slim.batch_norm(x), [1.0, 2.0])
    assert 'stride' in _build_error(
        lambda x: slim.conv2d(x, 4, 3, stride=2, rate=2), X
    )
    assert 'keep_prob' in _build_error(lambda x: slim.dropout(x, 1.5), X)
    assert 'zero_debias' in _build_error(
        lambda x: slim.batch_norm(x, zero_debias_moving_mean=True), X
    )
    assert 'data_format' in _build_error(
        lambda x: slim.max_pool2d(x, 2, data_format='HWC'), X
    )
    with pytest.raises(ValueError, match='stack_args'):
        slim.Model(lambda x: slim.stack(x, slim.conv2d, 4))(tf.constant(X))


def test_layer_outside_a_model_says_what_to_do():
    with pytest.raises(RuntimeError, match='slim.Model'):
        slim.conv2d(tf.constant(X), 4, 3)


# ---------------------------------------------------------------------------
# 3-D layers and group norm

X5 = random_inputs([2, 5, 6, 7, 3], seed=4)
X5_NCDHW = random_inputs([2, 3, 5, 6, 7], seed=5)
X8 = random_inputs([2, 5, 4, 8], seed=6)
X8_NCHW = random_inputs([2, 8, 5, 4], seed=7)

LAYERS_3D_AND_GROUP_NORM = {
    'conv3d': (
        lambda lib, x: lib.conv3d(
            x, 4, [3, 3, 3], weights_regularizer=lib.l2_regularizer(L2)
        ),
        X5,
    ),
    'conv3d_stride_valid': (
        lambda lib, x: lib.conv3d(
            x,
            3,
            [2, 3, 2],
            stride=[1, 2, 2],
            padding='VALID',
            activation_fn=None,
            biases_regularizer=lib.l1_regularizer(L2),
        ),
        X5,
    ),
    'conv3d_rate': (
        lambda lib, x: lib.conv3d(x, 2, 3, rate=2, scope='atrous3d'),
        X5,
    ),
    'convolution3d_bn': (
        lambda lib, x: lib.convolution3d(
            x,
            4,
            1,
            normalizer_fn=lib.batch_norm,
            normalizer_params={'is_training': True, 'decay': 0.9},
        ),
        X5,
    ),
    'conv3d_default_names': (
        lambda lib, x: lib.conv3d(
            lib.conv3d(x, 2, 1), 2, 1, data_format='NDHWC'
        ),
        X5,
    ),
    'max_pool3d': (lambda lib, x: lib.max_pool3d(x, [2, 2, 2]), X5),
    'max_pool3d_same': (
        lambda lib, x: lib.max_pool3d(x, 3, stride=[1, 2, 1], padding='SAME'),
        X5,
    ),
    'avg_pool3d': (
        lambda lib, x: lib.avg_pool3d(x, 2, stride=1, padding='SAME'),
        X5,
    ),
    'max_pool3d_ncdhw': (
        lambda lib, x: lib.max_pool3d(x, 2, data_format='NCDHW'),
        X5_NCDHW,
    ),
    'avg_pool3d_ncdhw': (
        lambda lib, x: lib.avg_pool3d(
            x, [2, 3, 2], stride=1, padding='SAME', data_format='NCDHW'
        ),
        X5_NCDHW,
    ),
    'group_norm': (lambda lib, x: lib.group_norm(x, groups=4), X8),
    'group_norm_nchw': (
        lambda lib, x: lib.group_norm(
            x,
            groups=2,
            channels_axis=-3,
            reduction_axes=(-2, -1),
            center=False,
            activation_fn=tf.nn.relu,
        ),
        X8_NCHW,
    ),
    'group_norm_mean_close_to_zero': (
        lambda lib, x: lib.group_norm(
            x,
            groups=8,
            epsilon=1e-3,
            mean_close_to_zero=True,
            param_initializers={
                'gamma': tf.constant_initializer(1.5),
                'beta': tf.constant_initializer(0.2),
            },
        ),
        X8,
    ),
    'group_norm_3d': (
        lambda lib, x: lib.group_norm(
            x, groups=3, reduction_axes=(-4, -3, -2), scale=False, scope='gn'
        ),
        X5,
    ),
    'conv3d_group_norm': (
        lambda lib, x: lib.conv3d(
            x,
            4,
            3,
            normalizer_fn=lib.group_norm,
            normalizer_params={'groups': 2, 'reduction_axes': (-4, -3, -2)},
        ),
        X5,
    ),
}


@pytest.mark.parametrize('name', sorted(LAYERS_3D_AND_GROUP_NORM))
def test_3d_and_group_norm_parity(name):
    build, x = LAYERS_3D_AND_GROUP_NORM[name]
    assert_parity(build, [x], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    'name',
    [
        'conv3d',
        'convolution3d_bn',
        'group_norm',
        'conv3d_group_norm',
        'group_norm_nchw',
    ],
)
def test_3d_and_group_norm_training_step_parity_traced(name):
    build, x = LAYERS_3D_AND_GROUP_NORM[name]
    assert_parity(build, [x], step_lr=0.1, traced=True, rtol=1e-5, atol=1e-5)


def test_3d_and_group_norm_variable_names():
    ref, got = assert_parity(
        lambda lib, x: lib.group_norm(
            lib.conv3d(x, 4, 3, scope='c'),
            groups=2,
            reduction_axes=(-4, -3, -2),
        ),
        [X5],
    )
    assert got.names == [
        'c/weights',
        'c/biases',
        'GroupNorm/beta',
        'GroupNorm/gamma',
    ]
    assert got.shapes['c/weights'] == [3, 3, 3, 3, 4]


def test_3d_layer_errors():
    assert 'rank 4' in _build_error(lambda x: slim.conv3d(x, 4, 3), X)
    assert 'kernel_size' in _build_error(
        lambda x: slim.conv3d(x, 4, [3, 3]), X5
    )
    msg = _build_error(lambda x: slim.max_pool3d(x, 2, scope='p3'), X)
    assert 'p3' in msg and 'rank 4' in msg
    msg = _build_error(lambda x: slim.avg_pool3d(x, 2, data_format='NHWC'), X5)
    assert 'AvgPool3D' in msg and 'NCDHW' in msg and "'NHWC'" in msg
    assert 'stride' in _build_error(
        lambda x: slim.max_pool3d(x, 2, stride=[1, 2]), X5
    )


@pytest.mark.parametrize(
    'kwargs,words',
    [
        ({'groups': 3}, ['groups', '8 channels', '3']),
        ({'groups': 0}, ['groups', '0']),
        ({'groups': 16}, ['groups', '16']),
        ({'groups': 2, 'channels_axis': 4}, ['channels_axis', '4']),
        (
            {'groups': 2, 'reduction_axes': (-3, -1)},
            ['reduction_axes', 'channel'],
        ),
        ({'groups': 2, 'reduction_axes': (-5,)}, ['reduction_axes', '-5']),
    ],
)
def test_group_norm_errors(kwargs, words):
    msg = _build_error(lambda x: slim.group_norm(x, scope='gn', **kwargs), X8)
    assert 'gn' in msg
    for word in words:
        assert word in msg


def test_group_norm_unknown_dimensions():
    model = slim.Model(lambda x: slim.group_norm(x, groups=2, scope='gn'))
    with pytest.raises(ValueError, match='dimension 1 of the input'):
        model.build(tf.TensorSpec([2, None, 4, 8]))
    model = slim.Model(lambda x: slim.group_norm(x, groups=2))
    model.build(tf.TensorSpec([None, 5, 4, 8]))  # unknown batch is fine
    assert [v.shape.as_list() for v in model.variables] == [[8], [8]]


def test_group_norm_bfloat16_keeps_float32_variables():
    model = slim.Model(lambda x: slim.group_norm(x, groups=4))
    ref = model(tf.constant(X8)).numpy()
    out = model(tf.cast(X8, tf.bfloat16))
    assert out.dtype == tf.bfloat16
    assert all(v.dtype == tf.float32 for v in model.variables)
    np.testing.assert_allclose(
        out.numpy().astype(np.float32), ref, rtol=0.05, atol=0.05
    )
