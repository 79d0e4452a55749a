"""The kernels behind the convolution and pooling layers: the 1x1
convolution as a matrix product, and half-precision layers with float32
gradients."""
import numpy as np
import pytest
import tensorflow as tf

import slim
from slim.layers import _kernels


@pytest.fixture
def gradient_mode():
    """Restores the default choice after a test that sets one."""
    yield slim.set_half_precision_gradients
    _kernels._global['mode'] = None
    _kernels._detected.clear()


def _random(shape, seed):
    return tf.constant(np.random.RandomState(seed).uniform(
        -1, 1, shape).astype(np.float32))


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
        return (ours, ref, tape.gradient(ours, x), tape.gradient(ref, x),
                tf.shape(ours))

    ours, ref, dx, dx_ref, shape = both(x)
    assert ours.shape.as_list() == [3, 5, 7, 4]
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-5, atol=1e-6)
    assert both.get_concrete_function().structured_outputs[0].shape.as_list(
    ) == [None, None, None, 4]


LAYERS = {
    'conv2d': lambda x: slim.conv2d(x, 4, [3, 3], stride=2),
    'conv2d_atrous': lambda x: slim.conv2d(x, 4, 3, rate=2),
    'conv2d_1x1': lambda x: slim.conv2d(x, 4, 1),
    'avg_pool2d': lambda x: slim.avg_pool2d(slim.conv2d(x, 4, 3), 3, stride=1,
                                            padding='SAME'),
    'max_pool2d': lambda x: slim.max_pool2d(slim.conv2d(x, 4, 1), 3),
    'conv1d': lambda x: slim.conv1d(x[:, 0], 4, 3),
    'conv2d_transpose': lambda x: slim.conv2d_transpose(x, 3, 3, stride=2),
    'separable_conv2d': lambda x: slim.separable_conv2d(x, 5, 3,
                                                        depth_multiplier=2),
    'depthwise_conv2d': lambda x: slim.separable_conv2d(x, None, 3),
}
CONV_OPS = ('Conv2DBackpropInput', 'Conv2DBackpropFilter',
                'DepthwiseConv2dNativeBackpropInput',
                'DepthwiseConv2dNativeBackpropFilter', 'Conv2D',
                'DepthwiseConv2dNative', 'MatMul', 'AvgPool', 'AvgPoolGrad',
                'MaxPool', 'MaxPoolGrad')


def _gradients(model, dtype):
    """The model's gradients for inputs in `dtype`, as float32 arrays, and
    the dtypes of the convolution kernels that the traced step runs."""
    x = tf.cast(_random([2, 8, 8, 3], 2), dtype)

    @tf.function(autograph=False)
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.cast(model(x), tf.float32)
            loss = tf.reduce_sum(y * tf.cos(y))
        return tape.gradient(loss, [x] + model.trainable_variables)

    grads = [g.numpy().astype(np.float32) for g in step(x)]
    graph = step.get_concrete_function(x).graph
    # The tape names the ops it adds for the backward pass gradient_tape/...
    kernels = {('backward' if op.name.startswith('gradient_tape/')
                else 'forward', op.type, op.get_attr('T').name)
               for op in graph.get_operations() if op.type in CONV_OPS}
    return grads, kernels


def _relative_errors(got, ref):
    return [np.linalg.norm(g - r) / np.linalg.norm(r) for g, r in zip(got, ref)]


@pytest.mark.parametrize('name', sorted(LAYERS))
@pytest.mark.parametrize('dtype', [tf.bfloat16, tf.float16])
def test_half_precision_gradients_in_float32(name, dtype, gradient_mode):
    tf.random.set_seed(0)
    model = slim.Model(LAYERS[name])
    ref, _ = _gradients(model, tf.float32)
    gradient_mode('native')
    native, _ = _gradients(model, dtype)
    gradient_mode('float32')
    got, kernels = _gradients(model, dtype)
    backward = {t for phase, _, t in kernels if phase == 'backward'}
    assert backward == {'float32'}, kernels
    # The forward pass still runs in the half type.
    assert ('forward', dtype.name) in {(p, t) for p, _, t in kernels}, kernels
    assert all(v.dtype == tf.float32 for v in model.trainable_variables)
    # Measured against float32's gradients, they are as close as the
    # half-precision kernels' (the forward pass in the half type, its relu
    # masks and bias sums, is what both differ by).
    for error, native_error in zip(_relative_errors(got, ref),
                                   _relative_errors(native, ref)):
        assert error <= 1.2 * native_error + 1e-3
        assert error < (0.3 if dtype == tf.bfloat16 else 0.15)


@pytest.mark.parametrize('name', ['conv2d', 'conv2d_transpose',
                                  'separable_conv2d'])
def test_float32_gradients_are_those_of_the_float32_op(name, gradient_mode):
    # The same half-precision inputs and upstream gradient, taken through
    # the op in float32: only the rounding of the input gradient differs.
    gradient_mode('float32')
    fns = {
        'conv2d': (lambda x, w: tf.nn.conv2d(x, w, 2, 'SAME'),
                   [[3, 3, 3, 4]]),
        'conv2d_transpose': (lambda x, w: tf.nn.conv2d_transpose(
            x, w, [2, 16, 16, 4], 2), [[3, 3, 4, 3]]),
        'separable_conv2d': (lambda x, dw, pw: tf.nn.separable_conv2d(
            x, dw, pw, [1, 1, 1, 1], 'SAME'), [[3, 3, 3, 2], [1, 1, 6, 5]]),
    }
    fn, shapes = fns[name]
    x = tf.cast(_random([2, 8, 8, 3], 3), tf.bfloat16)
    ws = [_random(shape, 4 + i) for i, shape in enumerate(shapes)]
    with tf.GradientTape() as tape:
        tape.watch([x] + ws)
        y = _kernels.apply(fn, x, *ws)
    assert y.dtype == tf.bfloat16
    dy = tf.cast(_random(y.shape, 9), tf.bfloat16)
    got = tape.gradient(y, [x] + ws, output_gradients=dy)
    assert got[0].dtype == tf.bfloat16
    assert all(g.dtype == tf.float32 for g in got[1:])
    x32 = tf.cast(x, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch([x32] + ws)
        y32 = fn(x32, *ws)
    ref = tape.gradient(y32, [x32] + ws,
                        output_gradients=tf.cast(dy, tf.float32))
    np.testing.assert_allclose(tf.cast(got[0], tf.float32), ref[0],
                               rtol=1e-2, atol=1e-2)
    for g, r in zip(got[1:], ref[1:]):
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-5)


def test_native_half_precision_gradients(gradient_mode):
    gradient_mode('native')
    tf.random.set_seed(0)
    model = slim.Model(LAYERS['conv2d'])
    ref, _ = _gradients(model, tf.float32)
    got, kernels = _gradients(model, tf.bfloat16)
    assert {t for phase, _, t in kernels if phase == 'backward'} == {
        'bfloat16'}, kernels
    assert max(_relative_errors(got, ref)) < 0.3


def test_auto_mode_follows_the_hardware(gradient_mode, monkeypatch):
    gradient_mode('auto')
    monkeypatch.setattr(tf.config, 'list_physical_devices', lambda kind: [])
    monkeypatch.setattr(_kernels, '_cpu_flags', lambda: {'avx2', 'fma'})
    _kernels._detected.clear()
    assert slim.half_precision_gradients(tf.bfloat16) == 'float32'
    monkeypatch.setattr(_kernels, '_cpu_flags', lambda: {'amx_bf16'})
    _kernels._detected.clear()
    assert slim.half_precision_gradients(tf.bfloat16) == 'native'
    assert slim.half_precision_gradients(tf.float16) == 'float32'
    monkeypatch.setattr(tf.config, 'list_physical_devices',
                        lambda kind: ['a GPU'])
    _kernels._detected.clear()
    assert slim.half_precision_gradients(tf.float16) == 'native'


def test_environment_variable_sets_the_default(gradient_mode, monkeypatch):
    monkeypatch.setenv(_kernels.ENV_VAR, 'native')
    assert slim.half_precision_gradients(tf.bfloat16) == 'native'
    gradient_mode('float32')  # the call wins over the environment
    assert slim.half_precision_gradients(tf.bfloat16) == 'float32'


def test_bad_modes_say_what_is_allowed(gradient_mode, monkeypatch):
    with pytest.raises(ValueError, match=r"mode must be one of 'auto', "
                       r"'float32', 'native', got 'fast'"):
        gradient_mode('fast')
    monkeypatch.setenv(_kernels.ENV_VAR, 'bf16')
    with pytest.raises(ValueError, match='SLIM_HALF_PRECISION_GRADIENTS '
                       "must be one of .*, got 'bf16'"):
        slim.half_precision_gradients(tf.bfloat16)
