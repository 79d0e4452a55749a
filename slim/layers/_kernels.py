"""How the weighted and pooling layers compute, where TF's plain op is slow.

Nothing here changes what a layer computes (beyond rounding); it changes
which kernels run:

- In a training call, a 1x1 convolution with stride 1 is a matrix product
  over the pixels: TF's `MatMul` and its gradients are 1.3-1.8x faster on a
  CPU than `Conv2D`'s for Inception's 1x1 shapes (measured on an AVX2 EPYC,
  with TF's default kernels; with oneDNN's the two are alike). In a call with
  `is_training=False` it stays a `Conv2D`, which Grappler fuses with the
  batch norm, bias and activation that follow (a `MatMul` it does not).
- A convolution whose kernel spans its whole input (one output pixel: the
  fully connected layers TF-Slim's nets write as convolutions) is a matrix
  product on the flattened input, in every call: for VGG's fc6 (7x7x512 to
  4096) `Conv2D` took 9x a `MatMul`'s time forward and 4.5x with gradients,
  its fc7 6.6x (oneDNN's kernels, batch 8, AVX2 EPYC).
- On a CPU without native 16-bit float arithmetic (no AVX512-BF16, AVX512-FP16
  or AMX), TensorFlow's bfloat16 and float16 kernels convert every element
  and its convolution gradients fall back to generic code 15-25x slower than
  float32's. There the convolution, fully connected and pooling layers
  compute in float32 (kernel, biases or normalizer, activation) on the
  half-precision activations and round their outputs back: what flows
  between layers stays in the half type, and the results are at least as
  precise.
  The halved memory traffic between layers is kept; the 16-bit arithmetic
  this CPU lacks is not emulated. `set_half_precision_kernels` overrides the
  choice.
"""

import os

import tensorflow as tf

from slim import calls

__all__ = ['set_half_precision_kernels', 'half_precision_kernels']

_MODES = ('auto', 'float32', 'native')
ENV_VAR = 'SLIM_HALF_PRECISION_KERNELS'
_HALF = (tf.bfloat16, tf.float16)
# CPU flags (as /proc/cpuinfo spells them) under which oneDNN has native
# kernels for the type.
_NATIVE_FLAGS = {
    tf.bfloat16: ('avx512_bf16', 'amx_bf16'),
    tf.float16: ('avx512_fp16', 'amx_fp16'),
}

_global = {'mode': None}
_detected = {}


def _check_mode(mode, argument):
    if mode not in _MODES:
        raise ValueError(
            '%s must be one of %s, got %r'
            % (argument, ', '.join(repr(m) for m in _MODES), mode)
        )
    return mode


def set_half_precision_kernels(mode):
    """Chooses the kernels of the bfloat16/float16 convolution and pooling
    layers.

    Args:
      mode: 'float32' runs float32 kernels on the half-precision inputs and
        rounds the outputs to the half type; 'native' runs TF's
        half-precision kernels; 'auto' (the default) picks 'native' where a
        GPU is visible or the CPU has native kernels for the type, else
        'float32'. The environment variable SLIM_HALF_PRECISION_KERNELS sets
        the default.

    It takes effect for the layers built (or traced) after the call.

    Raises:
      ValueError: for another mode.
    """
    _global['mode'] = _check_mode(mode, 'mode')


def half_precision_kernels(dtype):
    """'float32' or 'native': the kernels a layer computing in `dtype` runs
    now."""
    mode = _global['mode'] or _check_mode(
        os.environ.get(ENV_VAR, 'auto'), 'the environment variable ' + ENV_VAR
    )
    if mode != 'auto':
        return mode
    dtype = tf.as_dtype(dtype)
    if dtype not in _detected:
        native = bool(tf.config.list_physical_devices('GPU')) or any(
            flag in _cpu_flags() for flag in _NATIVE_FLAGS[dtype]
        )
        _detected[dtype] = 'native' if native else 'float32'
    return _detected[dtype]


def compute_in(inputs):
    """`(inputs, dtype)`: the inputs in the dtype a weighted layer computes
    in, and the dtype it hands its outputs on in (the inputs' own).

    Float32 for a half-precision input where `half_precision_kernels` says
    'float32', so that the layer's kernels, its normalizer and activation run
    (and fuse) in float32; else the inputs' dtype.
    """
    dtype = inputs.dtype
    if dtype in _HALF and half_precision_kernels(dtype) == 'float32':
        return tf.cast(inputs, tf.float32), dtype
    return inputs, dtype


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
    """A 2-D convolution of a rank-4 input by a kernel of any float dtype.

    Args:
      inputs: `[batch, h, w, c]` (or `[batch, c, h, w]`).
      weights: the kernel `[kh, kw, c, out]` variable or tensor; it is cast
        to the inputs' dtype.
      strides, dilations: two ints each; padding: 'SAME' or 'VALID'.
    """
    if (
        data_format == 'NHWC'
        and tuple(dilations) == (1, 1)
        and _covers_input(inputs, weights, padding)
    ):
        return apply(_full_extent, inputs, weights)
    if (
        data_format == 'NHWC'
        and tuple(weights.shape[:2]) == (1, 1)
        and tuple(strides) == (1, 1)
        and tuple(dilations) == (1, 1)
        and calls.call_is_training() is not False
    ):
        return apply(_pointwise, inputs, weights)

    def conv(x, w):
        return tf.nn.convolution(
            x,
            w,
            strides=strides,
            padding=padding,
            dilations=dilations,
            data_format=data_format,
        )

    return apply(conv, inputs, weights)


def apply(fn, inputs, *weights):
    """`fn(inputs, *weights)` in the inputs' dtype, the weights (if any) cast
    to it; for a half-precision input where `half_precision_kernels` says
    'float32', computed in float32 and rounded to the half type (so its
    gradients run in float32 too)."""
    dtype = inputs.dtype
    if dtype not in _HALF or half_precision_kernels(dtype) == 'native':
        return fn(inputs, *[tf.cast(w, dtype) for w in weights])
    outputs = fn(
        tf.cast(inputs, tf.float32), *[tf.cast(w, tf.float32) for w in weights]
    )
    return tf.cast(outputs, dtype)


def _covers_input(inputs, weights, padding):
    """Whether the kernel spans the whole (static) input, so that the
    convolution has one output pixel: VGG's, AlexNet's and OverFeat's fully
    connected layers, and every layer after a global pool."""
    kernel = tuple(weights.shape[:2])
    if tuple(inputs.shape[1:3]) != kernel:
        return False
    return padding == 'VALID' or kernel == (1, 1)


def _full_extent(inputs, weights):
    height, width, channels, outputs = weights.shape
    size = height * width * channels
    flat = tf.matmul(
        tf.reshape(inputs, [-1, size]), tf.reshape(weights, [size, outputs])
    )
    return tf.reshape(flat, [-1, 1, 1, outputs])


def _pointwise(inputs, weights):
    channels, outputs = weights.shape[2], weights.shape[3]
    flat = tf.matmul(
        tf.reshape(inputs, [-1, channels]),
        tf.reshape(weights, [channels, outputs]),
    )
    shape = tf.concat([tf.shape(inputs)[:3], [outputs]], 0)
    result = tf.reshape(flat, shape)
    result.set_shape(inputs.shape[:3].concatenate([outputs]))
    return result
