"""How the convolution layers compute, where TF's plain op is slow.

Nothing here changes what a layer computes; it changes which kernels run:

- A 1x1 convolution with stride 1 is a matrix product over the pixels.
  TF's `MatMul` and its gradients are 1.3-1.8x faster on a CPU than
  `Conv2D`'s for Inception's 1x1 shapes (measured on an AVX2 EPYC).
- On a CPU without native 16-bit float arithmetic (no AVX512-BF16, AVX512-FP16
  or AMX), TensorFlow's bfloat16 and float16 convolution gradients fall back
  to generic code 15-25x slower than float32's (average pooling's and
  matrix products' are slower too). There the backward pass of the
  convolution and pooling layers runs in float32: the forward pass stays in
  the inputs' dtype and the gradients come out at least as precise.
  `set_half_precision_gradients` overrides the choice.
"""
import os
import tensorflow as tf

__all__ = ['set_half_precision_gradients',
           'half_precision_gradients']

_MODES = ('auto', 'float32', 'native')
ENV_VAR = 'SLIM_HALF_PRECISION_GRADIENTS'
_HALF = (tf.bfloat16, tf.float16)
# CPU flags (as /proc/cpuinfo spells them) under which oneDNN has native
# kernels for the type.
_NATIVE_FLAGS = {tf.bfloat16: ('avx512_bf16', 'amx_bf16'),
                 tf.float16: ('avx512_fp16', 'amx_fp16')}

_global = {'mode': None}
_detected = {}


def _check_mode(mode, argument):
    if mode not in _MODES:
        raise ValueError('%s must be one of %s, got %r' % (
            argument, ', '.join(repr(m) for m in _MODES), mode))
    return mode


def set_half_precision_gradients(mode):
    """Chooses how bfloat16/float16 convolution and pooling layers get their
    gradients.

    Args:
      mode: 'float32' computes them in float32 (the forward pass stays in the
        half type); 'native' uses TF's half-precision gradient kernels;
        'auto' (the default) picks 'native' where a GPU is visible or the CPU
        has native kernels for the type, else 'float32'. The environment
        variable SLIM_HALF_PRECISION_GRADIENTS sets the default.

    It takes effect for the layers built (or traced) after the call.

    Raises:
      ValueError: for another mode.
    """
    _global['mode'] = _check_mode(mode, 'mode')


def half_precision_gradients(dtype):
    """'float32' or 'native': how a layer computing in `dtype` gets its
    gradients now."""
    mode = _global['mode'] or _check_mode(
        os.environ.get(ENV_VAR, 'auto'), 'the environment variable ' + ENV_VAR)
    if mode != 'auto':
        return mode
    dtype = tf.as_dtype(dtype)
    if dtype not in _detected:
        native = bool(tf.config.list_physical_devices('GPU')) or any(
            flag in _cpu_flags() for flag in _NATIVE_FLAGS[dtype])
        _detected[dtype] = 'native' if native else 'float32'
    return _detected[dtype]


def _cpu_flags():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('flags'):
                    return set(line.split(':', 1)[1].split())
    except OSError:
        pass
    return set()


def conv2d(inputs, weights, strides, padding, dilations, data_format):
    """A 2-D convolution of a rank-4 input by a float32 (or input-dtype) kernel.

    Args:
      inputs: `[batch, h, w, c]` (or `[batch, c, h, w]`).
      weights: the kernel `[kh, kw, c, out]` variable or tensor; it is cast
        to the inputs' dtype.
      strides, dilations: two ints each; padding: 'SAME' or 'VALID'.
    """
    if (data_format == 'NHWC' and tuple(weights.shape[:2]) == (1, 1) and
            tuple(strides) == (1, 1) and tuple(dilations) == (1, 1)):
        return apply(_pointwise, inputs, weights)

    def conv(x, w):
        return tf.nn.convolution(x, w, strides=strides, padding=padding,
                                 dilations=dilations, data_format=data_format)

    return apply(conv, inputs, weights)


def apply(fn, inputs, *weights):
    """`fn(inputs, *weights)` in the inputs' dtype, the weights (if any) cast
    to it.

    For a half-precision input where `half_precision_gradients` says
    'float32', the gradient is that of `fn` recomputed in float32. In a
    `tf.function` the recomputed forward result is unused and pruned, so
    only the float32 gradient kernels run.
    """
    dtype = inputs.dtype
    weights = [tf.convert_to_tensor(w) for w in weights]
    if dtype not in _HALF or half_precision_gradients(dtype) == 'native':
        return fn(inputs, *[tf.cast(w, dtype) for w in weights])

    @tf.custom_gradient
    def op(x, *ws):
        y = fn(x, *[tf.cast(w, dtype) for w in ws])

        def grad(dy):
            x32 = tf.cast(x, tf.float32)
            ws32 = [tf.cast(w, tf.float32) for w in ws]
            with tf.GradientTape() as tape:
                tape.watch([x32] + ws32)
                y32 = fn(x32, *ws32)
            grads = tape.gradient(y32, [x32] + ws32,
                                  output_gradients=tf.cast(dy, tf.float32))
            return [tf.cast(grads[0], dtype)] + [
                tf.cast(g, w.dtype) for g, w in zip(grads[1:], ws)]

        return y, grad

    return op(inputs, *weights)


def _pointwise(inputs, weights):
    channels, outputs = weights.shape[2], weights.shape[3]
    flat = tf.matmul(tf.reshape(inputs, [-1, channels]),
                     tf.reshape(weights, [channels, outputs]))
    shape = tf.concat([tf.shape(inputs)[:3], [outputs]], 0)
    result = tf.reshape(flat, shape)
    result.set_shape(inputs.shape[:3].concatenate([outputs]))
    return result

