"""The kernels behind the convolution and pooling layers: the 1x1
convolution as a matrix product, and float32 kernels for half-precision
layers on CPUs without 16-bit arithmetic."""

import numpy as np
import pytest
import tensorflow as tf

import slim
from slim.layers import _kernels


@pytest.fixture
def kernel_mode():
    """Restores the default choice after a test that sets one."""
    yield slim.set_half_precision_kernels
    _kernels._global['mode'] = None
    _kernels._detected.clear()


def _random(shape, seed):
    return tf.constant(
        np.random.RandomState(seed).uniform(-1, 1, shape).astype(np.float32)
    )


@pytest.mark.parametrize('padding', ['SAME', 'VALID'])
def test_pointwise_convolution_equals_conv2d_for_any_batch_and_size(padding):
    x = _random([3, 5, 7, 6], 0)
    w = _random([1, 1, 6, 4], 1)

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 6])])
    def both(x):
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            ours = _kernels.conv2d(x, w, (1, 1), padding, (1, 1), 'NHWC')
            ref = tf.nn.conv2d(x, w, 1, padding)
        return (
            ours,
            ref,
            tape.gradient(ours, x),
            tape.gradient(ref, x),
            tf.shape(ours),
        )

    ours, ref, dx, dx_ref, shape = both(x)
    assert ours.shape.as_list() == [3, 5, 7, 4]
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-5, atol=1e-6)
    assert both.get_concrete_function().structured_outputs[
        0
    ].shape.as_list() == [None, None, None, 4]


@pytest.mark.parametrize(
    'is_training,kernel',
    [(True, 'MatMul'), (None, 'MatMul'), (False, 'Conv2D')],
)
def test_1x1_kernel_follows_the_calls_is_training(is_training, kernel):
    # Training runs the faster matrix product and its gradients; inference
    # keeps the Conv2D that Grappler fuses with batch norm and activation.
    def net(x, is_training):
        del is_training  # only the kernel choice reads it here
        return slim.conv2d(
            x,
            4,
            1,
            normalizer_fn=slim.batch_norm,
            normalizer_params={'is_training': False},
        )

    model = slim.Model(net)
    x = _random([2, 5, 5, 3], 0)
    # A tensor is_training is not known when tracing: the training kernel.
    flag = tf.constant(True) if is_training is None else is_training
    graph = (
        tf.function(lambda x: model(x, is_training=flag))
        .get_concrete_function(x)
        .graph
    )
    kinds = {op.type for op in graph.get_operations()}
    assert (
        kernel in kinds and ({'MatMul', 'Conv2D'} - {kernel}) & kinds == set()
    )
    eager = model(x, is_training=False)
    np.testing.assert_allclose(
        tf.function(lambda x: model(x, is_training=False))(x),
        eager,
        rtol=1e-5,
        atol=1e-6,
    )


@pytest.mark.parametrize(
    'kernel,padding,stride',
    [
        ((1, 1), 'SAME', 1),
        ((1, 1), 'VALID', 2),
        ((3, 3), 'SAME', 1),
        ((1, 7), 'SAME', 1),
        ((2, 2), 'SAME', 1),
        ((3, 3), 'VALID', 1),
        ((3, 3), 'SAME', 2),
    ],
)
def test_conv2d_gradients_equal_tensorflows(kernel, padding, stride):
    x = _random([2, 9, 8, 5], 0)
    w = _random(list(kernel) + [5, 4], 1)

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 5])])
    def both(x):
        with tf.GradientTape(persistent=True) as tape:
            tape.watch([x, w])
            ours = _kernels.conv2d(
                x, w, (stride, stride), padding, (1, 1), 'NHWC'
            )
            ref = tf.nn.conv2d(x, w, stride, padding)
            loss, ref_loss = (tf.reduce_sum(tf.sin(y)) for y in (ours, ref))
        return (
            ours,
            ref,
            tape.gradient(loss, [x, w]),
            tape.gradient(ref_loss, [x, w]),
        )

    ours, ref, grads, ref_grads = both(x)
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5)
    for g, r in zip(grads, ref_grads):
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('is_training', [True, False])
@pytest.mark.parametrize(
    'size,kernel,padding,stride,kind',
    [
        (7, 7, 'VALID', 1, 'MatMul'),
        (5, 5, 'VALID', 2, 'MatMul'),
        (1, 1, 'SAME', 1, 'MatMul'),
        (3, 3, 'SAME', 1, 'Conv2D'),
        (None, 7, 'VALID', 1, 'Conv2D'),
    ],
)
def test_a_kernel_spanning_its_input_is_a_matrix_product(
    is_training, size, kernel, padding, stride, kind
):
    # VGG's fully connected layers are convolutions over the whole map: as a
    # MatMul they run several times faster, in training and inference.
    side = 7 if size is None else size
    x = _random([2, side, side, 6], 0)
    w = _random([kernel, kernel, 6, 4], 1)

    def net(x, is_training):
        del is_training  # only the kernel choice reads it here
        return slim.conv2d(
            x,
            4,
            kernel,
            stride=stride,
            padding=padding,
            activation_fn=None,
            biases_initializer=None,
            weights_initializer=tf.constant_initializer(w.numpy()),
        )

    model = slim.Model(net)
    step = tf.function(
        lambda x: model(x, is_training=is_training),
        input_signature=[tf.TensorSpec([None, size, size, 6])],
    )
    kinds = {
        op.type for op in step.get_concrete_function().graph.get_operations()
    }
    assert kind in kinds and ({'MatMul', 'Conv2D'} - {kind}) & kinds == set()

    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        ours = step(x)
        ref = tf.nn.conv2d(x, w, stride, padding)
        loss, ref_loss = (tf.reduce_sum(tf.sin(y)) for y in (ours, ref))
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        tape.gradient(loss, x), tape.gradient(ref_loss, x), rtol=1e-5, atol=1e-5
    )


# Linear layers (and no max pooling) for the comparisons of gradients: a relu
# mask or a max that one rounding flips and another does not moves a whole
# gradient entry, which says nothing of the kernels.
LINEAR = {'activation_fn': None}
LAYERS = {
    'conv2d': lambda x: slim.conv2d(x, 4, [3, 3], stride=2, **LINEAR),
    'conv2d_atrous': lambda x: slim.conv2d(x, 4, 3, rate=2, **LINEAR),
    'conv2d_1x1': lambda x: slim.conv2d(x, 4, 1, **LINEAR),
    'avg_pool2d': lambda x: slim.avg_pool2d(
        slim.conv2d(x, 4, 3, **LINEAR), 3, stride=1, padding='SAME'
    ),
    'conv1d': lambda x: slim.conv1d(x[:, 0], 4, 3, **LINEAR),
    'conv2d_transpose': lambda x: slim.conv2d_transpose(
        x, 3, 3, stride=2, **LINEAR
    ),
    'separable_conv2d': lambda x: slim.separable_conv2d(
        x, 5, 3, depth_multiplier=2, **LINEAR
    ),
    'depthwise_conv2d': lambda x: slim.separable_conv2d(x, None, 3, **LINEAR),
}
CONV_OPS = (
    'Conv2DBackpropInput',
    'Conv2DBackpropFilter',
    'DepthwiseConv2dNativeBackpropInput',
    'DepthwiseConv2dNativeBackpropFilter',
    'Conv2D',
    'DepthwiseConv2dNative',
    'MatMul',
    'AvgPool',
    'AvgPoolGrad',
    'MaxPool',
    'MaxPoolGrad',
)


def _gradients(model, dtype):
    """The model's gradients for inputs in `dtype`, as float32 arrays, the
    dtypes of the convolution and pooling kernels that the traced step runs,
    and the dtype of the model's output."""
    x = tf.cast(_random([2, 8, 8, 3], 2), dtype)

    @tf.function(autograph=False)
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = model(x)
            y = tf.cast(out, tf.float32)
            loss = tf.reduce_sum(y * tf.cos(y))
        outputs.append(out.dtype)
        return tape.gradient(loss, [x] + model.trainable_variables)

    outputs = []
    grads = [g.numpy().astype(np.float32) for g in step(x)]
    graph = step.get_concrete_function(x).graph
    # The tape names the ops it adds for the backward pass gradient_tape/...
    kernels = {
        (
            'backward' if op.name.startswith('gradient_tape/') else 'forward',
            op.type,
            op.get_attr('T').name,
        )
        for op in graph.get_operations()
        if op.type in CONV_OPS
    }
    return grads, kernels, outputs[0]


def _relative_errors(got, ref):
    return [np.linalg.norm(g - r) / np.linalg.norm(r) for g, r in zip(got, ref)]


@pytest.mark.parametrize('name', sorted(LAYERS))
@pytest.mark.parametrize('dtype', [tf.bfloat16, tf.float16])
def test_half_precision_layers_run_float32_kernels(name, dtype, kernel_mode):
    tf.random.set_seed(0)
    model = slim.Model(LAYERS[name])
    ref, _, _ = _gradients(model, tf.float32)
    kernel_mode('native')
    native, native_kernels, _ = _gradients(model, dtype)
    kernel_mode('float32')
    got, kernels, out_dtype = _gradients(model, dtype)
    assert {t for _, _, t in native_kernels} == {dtype.name}, native_kernels
    assert {phase for phase, _, _ in kernels} == {'forward', 'backward'}
    assert {t for _, _, t in kernels} == {'float32'}, kernels
    # What leaves the layer is still in the half type.
    assert out_dtype == dtype
    assert all(v.dtype == tf.float32 for v in model.trainable_variables)
    # Measured against float32's gradients, they are as close as the
    # half-precision kernels' (the rounding of the activations to the half
    # type, and the bias sums in it, are what both differ by).
    for error, native_error in zip(
        _relative_errors(got, ref), _relative_errors(native, ref)
    ):
        assert error <= 1.2 * native_error + 1e-3


@pytest.mark.parametrize('dtype', [tf.bfloat16, tf.float16])
def test_max_pooling_runs_float32_kernels(dtype, kernel_mode):
    kernel_mode('float32')
    model = slim.Model(lambda x: slim.max_pool2d(slim.conv2d(x, 4, 3), 3))
    model(_random([2, 8, 8, 3], 0))
    _, kernels, out_dtype = _gradients(model, dtype)
    assert ('backward', 'MaxPoolGrad', 'float32') in kernels
    assert {t for _, _, t in kernels} == {'float32'}, kernels
    assert out_dtype == dtype


@pytest.mark.parametrize(
    'mode,compute', [('float32', 'float32'), ('native', 'bfloat16')]
)
def test_a_layer_computes_its_normalizer_and_activation_alike(
    mode, compute, kernel_mode
):
    # So that Grappler can fuse convolution, batch norm and relu.
    kernel_mode(mode)

    def net(x):
        with slim.arg_scope(
            [slim.conv2d, slim.fully_connected],
            normalizer_fn=slim.batch_norm,
            normalizer_params={'is_training': False},
        ):
            net = slim.conv2d(x, 4, 3)
            return slim.fully_connected(slim.flatten(net), 3)

    model = slim.Model(net)
    x = tf.cast(_random([2, 8, 8, 3], 0), tf.bfloat16)
    graph = tf.function(model).get_concrete_function(x).graph
    kinds = {
        op.type: op.get_attr('T').name
        for op in graph.get_operations()
        if op.type in ('Conv2D', 'MatMul', 'FusedBatchNormV3', 'Relu')
    }
    assert kinds == {
        'Conv2D': compute,
        'MatMul': compute,
        'FusedBatchNormV3': compute,
        'Relu': compute,
    }
    assert model(x).dtype == tf.bfloat16


@pytest.mark.parametrize(
    'name', ['conv2d', 'conv2d_transpose', 'separable_conv2d']
)
def test_float32_kernels_are_those_of_the_float32_op(name, kernel_mode):
    # The same half-precision inputs and upstream gradient, taken through
    # the op in float32: only the rounding to bfloat16 of the output and of
    # the input gradient differs.
    kernel_mode('float32')
    fns = {
        'conv2d': (lambda x, w: tf.nn.conv2d(x, w, 2, 'SAME'), [[3, 3, 3, 4]]),
        'conv2d_transpose': (
            lambda x, w: tf.nn.conv2d_transpose(x, w, [2, 16, 16, 4], 2),
            [[3, 3, 4, 3]],
        ),
        'separable_conv2d': (
            lambda x, dw, pw: tf.nn.separable_conv2d(
                x, dw, pw, [1, 1, 1, 1], 'SAME'
            ),
            [[3, 3, 3, 2], [1, 1, 6, 5]],
        ),
    }
    fn, shapes = fns[name]
    x = tf.cast(_random([2, 8, 8, 3], 3), tf.bfloat16)
    ws = [_random(shape, 4 + i) for i, shape in enumerate(shapes)]
    with tf.GradientTape() as tape:
        tape.watch([x] + ws)
        y = _kernels.apply(fn, x, *ws)
    assert y.dtype == tf.bfloat16
    dy = tf.cast(_random(y.shape, 9), tf.bfloat16)
    y_ref = tf.cast(fn(tf.cast(x, tf.float32), *ws), tf.bfloat16)
    np.testing.assert_array_equal(
        tf.cast(y, tf.float32), tf.cast(y_ref, tf.float32)
    )
    got = tape.gradient(y, [x] + ws, output_gradients=dy)
    assert got[0].dtype == tf.bfloat16
    assert all(g.dtype == tf.float32 for g in got[1:])
    x32 = tf.cast(x, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch([x32] + ws)
        y32 = fn(x32, *ws)
    ref = tape.gradient(
        y32, [x32] + ws, output_gradients=tf.cast(dy, tf.float32)
    )
    np.testing.assert_allclose(
        tf.cast(got[0], tf.float32), ref[0], rtol=1e-2, atol=1e-2
    )
    for g, r in zip(got[1:], ref[1:]):
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-5)


def test_native_half_precision_kernels(kernel_mode):
    kernel_mode('native')
    tf.random.set_seed(0)
    model = slim.Model(LAYERS['conv2d'])
    ref, _, _ = _gradients(model, tf.float32)
    got, kernels, _ = _gradients(model, tf.bfloat16)
    assert {t for _, _, t in kernels} == {'bfloat16'}, kernels
    assert max(_relative_errors(got, ref)) < 0.02


def test_auto_mode_follows_the_hardware(kernel_mode, monkeypatch):
    kernel_mode('auto')
    monkeypatch.setattr(tf.config, 'list_physical_devices', lambda kind: [])
    monkeypatch.setattr(_kernels, '_cpu_flags', lambda: {'avx2', 'fma'})
    _kernels._detected.clear()
    assert slim.half_precision_kernels(tf.bfloat16) == 'float32'
    monkeypatch.setattr(_kernels, '_cpu_flags', lambda: {'amx_bf16'})
    _kernels._detected.clear()
    assert slim.half_precision_kernels(tf.bfloat16) == 'native'
    assert slim.half_precision_kernels(tf.float16) == 'float32'
    monkeypatch.setattr(
        tf.config, 'list_physical_devices', lambda kind: ['a GPU']
    )
    _kernels._detected.clear()
    assert slim.half_precision_kernels(tf.float16) == 'native'


def test_environment_variable_sets_the_default(kernel_mode, monkeypatch):
    monkeypatch.setenv(_kernels.ENV_VAR, 'native')
    assert slim.half_precision_kernels(tf.bfloat16) == 'native'
    kernel_mode('float32')  # the call wins over the environment
    assert slim.half_precision_kernels(tf.bfloat16) == 'float32'


def test_bad_modes_say_what_is_allowed(kernel_mode, monkeypatch):
    with pytest.raises(
        ValueError,
        match=r"mode must be one of 'auto', "
        r"'float32', 'native', got 'fast'",
    ):
        kernel_mode('fast')
    monkeypatch.setenv(_kernels.ENV_VAR, 'bf16')
    with pytest.raises(
        ValueError,
        match='SLIM_HALF_PRECISION_KERNELS must be one of .*, got \'bf16\'',
    ):
        slim.half_precision_kernels(tf.bfloat16)
