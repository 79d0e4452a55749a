"""Checks and small helpers shared by the layer modules."""

import tensorflow as tf

from slim import variables

DATA_FORMATS_2D = ('NHWC', 'NCHW')


def variable_dtype(compute_dtype):
    """Variables stay float32 when a net computes in a 16-bit float type."""
    compute_dtype = tf.as_dtype(compute_dtype)
    if compute_dtype in (tf.float16, tf.bfloat16):
        return tf.float32
    return compute_dtype


def read(var, dtype):
    """A variable's value in the compute dtype."""
    if var is None:
        return None
    if var.dtype != dtype:
        return tf.cast(var, dtype)
    return var


def convert(inputs, layer, argument='inputs'):
    try:
        return tf.convert_to_tensor(inputs)
    except (TypeError, ValueError) as e:
        raise TypeError(
            '%s: %s must be a tensor, got %r (%s)'
            % (layer, argument, inputs, e)
        ) from None


def check_rank(inputs, allowed, layer, expected):
    rank = inputs.shape.rank
    if rank is None or rank not in allowed:
        raise ValueError(
            '%s: expected %s, got a tensor of rank %s (shape %s)'
            % (layer, expected, rank, inputs.shape)
        )
    return rank


def check_num_outputs(num_outputs, layer, allow_none=False):
    if num_outputs is None and allow_none:
        return None
    if (
        isinstance(num_outputs, bool)
        or not isinstance(num_outputs, (int,))
        and not hasattr(num_outputs, '__index__')
    ):
        raise ValueError(
            '%s: num_outputs must be a positive integer, got %r'
            % (layer, num_outputs)
        )
    if int(num_outputs) <= 0:
        raise ValueError(
            '%s: num_outputs must be a positive integer, got %r'
            % (layer, num_outputs)
        )
    return int(num_outputs)


def tuple_of(value, n, layer, argument):
    """An int or a length-n list of positive ints, as an n-tuple."""
    if isinstance(value, bool):
        raise ValueError(
            '%s: %s must be an int or a list of %d ints, got %r'
            % (layer, argument, n, value)
        )
    original = value
    if isinstance(value, int) or hasattr(value, '__index__'):
        value = (int(value),) * n
    else:
        try:
            value = tuple(int(v) for v in value)
        except (TypeError, ValueError):
            raise ValueError(
                '%s: %s must be an int or a list of %d ints, '
                'got %r' % (layer, argument, n, value)
            ) from None
        if len(value) != n:
            raise ValueError(
                '%s: %s must be an int or a list of %d ints, got '
                '%r of length %d' % (layer, argument, n, original, len(value))
            )
    if any(v <= 0 for v in value):
        raise ValueError(
            '%s: %s must be positive, got %r' % (layer, argument, original)
        )
    return value


def check_padding(padding, layer):
    if not isinstance(padding, str) or padding.upper() not in ('SAME', 'VALID'):
        raise ValueError(
            "%s: padding must be 'SAME' or 'VALID', got %r" % (layer, padding)
        )
    return padding.upper()


def check_data_format(data_format, layer, allowed=DATA_FORMATS_2D):
    if data_format not in allowed:
        raise ValueError(
            '%s: data_format must be one of %s, got %r'
            % (layer, list(allowed), data_format)
        )
    return data_format


def static_bool(value):
    """A Python bool for a constant `is_training`, None for a tensor."""
    if isinstance(value, bool):
        return value
    static = tf.get_static_value(value)
    return None if static is None else bool(static)


def smart_cond(pred, true_fn, false_fn):
    static = static_bool(pred)
    if static is None:
        return tf.cond(tf.cast(pred, tf.bool), true_fn, false_fn)
    return true_fn() if static else false_fn()


def apply_activation(outputs, activation_fn):
    return activation_fn(outputs) if activation_fn is not None else outputs


def channels_of(inputs, data_format, layer):
    axis = 1 if data_format.startswith('NC') else -1
    channels = inputs.shape[axis]
    if channels is None:
        raise ValueError(
            '%s: the channel dimension of the input must be known, '
            'got shape %s' % (layer, inputs.shape)
        )
    return int(channels)


def finish(
    outputs,
    num_outputs,
    normalizer_fn,
    normalizer_params,
    biases_initializer,
    biases_regularizer,
    trainable,
    activation_fn,
    channels_first=False,
):
    """TF-Slim's common tail of a weighted layer: `biases` (left out when a
    `normalizer_fn` is given or `biases_initializer` is None), or the
    normalizer, then the activation."""
    dtype = outputs.dtype
    if not normalizer_fn and biases_initializer is not None:
        biases = variables.model_variable(
            'biases',
            shape=[num_outputs],
            dtype=variable_dtype(dtype),
            initializer=biases_initializer,
            regularizer=biases_regularizer,
            trainable=trainable,
        )
        outputs = tf.nn.bias_add(
            outputs,
            read(biases, dtype),
            data_format='NC...' if channels_first else None,
        )
    if normalizer_fn is not None:
        outputs = normalizer_fn(outputs, **(normalizer_params or {}))
    return apply_activation(outputs, activation_fn)
