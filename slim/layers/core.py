"""Dense and shape layers: `fully_connected`, `bias_add`, `dropout`, `flatten`,
`one_hot_encoding`, `softmax`, and the combinators `repeat` and `stack`."""

import functools

import tensorflow as tf

from slim import initializers
from slim import scopes
from slim import utils
from slim import variables
from slim.layers import _kernels
from slim.layers import _utils as u

__all__ = [
    'fully_connected',
    'linear',
    'bias_add',
    'dropout',
    'flatten',
    'one_hot_encoding',
    'softmax',
    'repeat',
    'stack',
]


@scopes.add_arg_scope
def fully_connected(
    inputs,
    num_outputs,
    activation_fn=tf.nn.relu,
    normalizer_fn=None,
    normalizer_params=None,
    weights_initializer=initializers.xavier_initializer(),
    weights_regularizer=None,
    biases_initializer=tf.zeros_initializer(),
    biases_regularizer=None,
    reuse=None,
    variables_collections=None,
    outputs_collections=None,
    trainable=True,
    scope=None,
):
    """A dense layer over the last dimension: `weights` `[in, out]`, `biases`.

    Inputs of rank above 2 are multiplied along their last dimension, as
    TF-Slim does. Arguments as `conv2d`'s; the default scope is
    `fully_connected`.

    Raises:
      ValueError: naming the scope, for an input of rank below 2, an unknown
        last dimension, or a `num_outputs` that is not a positive int.
    """
    del variables_collections
    with scopes.variable_scope(
        scope, 'fully_connected', [inputs], reuse=reuse
    ) as sc:
        name = sc.name
        inputs = u.convert(inputs, name)
        rank = inputs.shape.rank
        if rank is None or rank < 2:
            raise ValueError(
                '%s: expected an input of rank 2 or more '
                '([batch, ..., features]), got rank %s (shape %s)'
                % (name, rank, inputs.shape)
            )
        num_outputs = u.check_num_outputs(num_outputs, name)
        num_inputs = inputs.shape[-1]
        if num_inputs is None:
            raise ValueError(
                '%s: the last dimension of the input must be '
                'known, got shape %s' % (name, inputs.shape)
            )
        inputs, out_dtype = _kernels.compute_in(inputs)
        dtype = inputs.dtype
        vdtype = u.variable_dtype(dtype)
        weights = variables.model_variable(
            'weights',
            shape=[int(num_inputs), num_outputs],
            dtype=vdtype,
            initializer=weights_initializer,
            regularizer=weights_regularizer,
            trainable=trainable,
        )
        w = u.read(weights, dtype)
        if rank == 2:
            outputs = tf.matmul(inputs, w)
        else:
            outputs = tf.tensordot(inputs, w, [[rank - 1], [0]])
            outputs.set_shape(inputs.shape[:-1].concatenate([num_outputs]))
        outputs = tf.cast(
            u.finish(
                outputs,
                num_outputs,
                normalizer_fn,
                normalizer_params,
                biases_initializer,
                biases_regularizer,
                trainable,
                activation_fn,
            ),
            out_dtype,
        )
        return utils.collect_named_outputs(outputs_collections, name, outputs)


linear = functools.partial(fully_connected, activation_fn=None)


@scopes.add_arg_scope
def bias_add(
    inputs,
    activation_fn=None,
    initializer=tf.zeros_initializer(),
    regularizer=None,
    reuse=None,
    variables_collections=None,
    outputs_collections=None,
    trainable=True,
    data_format='NHWC',
    scope=None,
):
    """Adds a `biases` variable over the channel dimension.

    Raises:
      ValueError: for an unknown data format, an unknown rank or channel
        dimension, or NCHW with an input that is not rank 4.
    """
    del variables_collections
    with scopes.variable_scope(scope, 'BiasAdd', [inputs], reuse=reuse) as sc:
        name = sc.name
        u.check_data_format(data_format, name)
        inputs = u.convert(inputs, name)
        rank = inputs.shape.rank
        if rank is None:
            raise ValueError('%s: the input rank must be known' % name)
        if data_format == 'NCHW' and rank != 4:
            raise ValueError(
                '%s: data_format NCHW needs a rank-4 input, got '
                'rank %d' % (name, rank)
            )
        channels = u.channels_of(inputs, data_format, name)
        dtype = inputs.dtype
        biases = variables.model_variable(
            'biases',
            shape=[channels],
            dtype=u.variable_dtype(dtype),
            initializer=initializer,
            regularizer=regularizer,
            trainable=trainable,
        )
        outputs = tf.nn.bias_add(
            inputs,
            u.read(biases, dtype),
            data_format='NC...' if data_format == 'NCHW' else None,
        )
        outputs = u.apply_activation(outputs, activation_fn)
        return utils.collect_named_outputs(outputs_collections, name, outputs)


@scopes.add_arg_scope
def dropout(
    inputs,
    keep_prob=0.5,
    noise_shape=None,
    is_training=True,
    outputs_collections=None,
    scope=None,
    seed=None,
):
    """Keeps each element with probability `keep_prob` (scaled by 1/keep_prob)
    when training; the identity otherwise.

    Raises:
      ValueError: if `keep_prob` is not in (0, 1].
    """
    with scopes.variable_scope(scope, 'Dropout', [inputs]) as sc:
        if not isinstance(keep_prob, tf.Tensor) and not 0 < keep_prob <= 1:
            raise ValueError(
                '%s: keep_prob must be in (0, 1], got %r' % (sc.name, keep_prob)
            )
        inputs = u.convert(inputs, sc.name)

        def _drop():
            return tf.nn.dropout(
                inputs, rate=1 - keep_prob, noise_shape=noise_shape, seed=seed
            )

        if not isinstance(keep_prob, tf.Tensor) and keep_prob == 1:
            outputs = tf.identity(inputs)
        else:
            outputs = u.smart_cond(
                is_training, _drop, lambda: tf.identity(inputs)
            )
        return utils.collect_named_outputs(
            outputs_collections, sc.name, outputs
        )


@scopes.add_arg_scope
def flatten(inputs, outputs_collections=None, scope=None):
    """Flattens all but the first (batch) dimension: `[batch, k]`.

    Raises:
      ValueError: if the input has rank below 2.
    """
    with scopes.name_scope(scope, 'Flatten', [inputs]) as sc:
        name = sc[:-1]
        inputs = u.convert(inputs, name)
        rank = inputs.shape.rank
        if rank is None or rank < 2:
            raise ValueError(
                '%s: flatten expects an input of rank 2 or more, '
                'got rank %s (shape %s)' % (name, rank, inputs.shape)
            )
        inner = inputs.shape[1:]
        if inner.is_fully_defined():
            k = int(inner.num_elements())
            outputs = tf.reshape(inputs, [-1, k])
            outputs.set_shape([inputs.shape[0], k])
        else:
            outputs = tf.reshape(inputs, [tf.shape(inputs)[0], -1])
        return utils.collect_named_outputs(outputs_collections, sc, outputs)


@scopes.add_arg_scope
def one_hot_encoding(
    labels,
    num_classes,
    on_value=1.0,
    off_value=0.0,
    outputs_collections=None,
    scope=None,
):
    """One-hot float vectors of `num_classes` for integer labels."""
    with scopes.name_scope(scope, 'OneHotEncoding', [labels]) as sc:
        labels = tf.convert_to_tensor(labels)
        if labels.dtype == tf.int32:
            labels = tf.cast(labels, tf.int64)
        outputs = tf.one_hot(
            labels, num_classes, on_value=on_value, off_value=off_value
        )
        return utils.collect_named_outputs(outputs_collections, sc, outputs)


@scopes.add_arg_scope
def softmax(logits, scope=None):
    """Softmax over the last dimension, for logits of any rank >= 2."""
    with scopes.variable_scope(scope, 'softmax', [logits]):
        logits = tf.convert_to_tensor(logits)
        return tf.nn.softmax(logits, axis=-1)


def repeat(inputs, repetitions, layer, *args, **kwargs):
    """Applies `layer` `repetitions` times, as TF-Slim names it.

    `repeat(x, 3, slim.conv2d, 64, [3, 3], scope='conv1')` makes
    `conv1/conv1_1`, `conv1/conv1_2`, `conv1/conv1_3`.
    """
    scope = kwargs.pop('scope', None)
    with scopes.variable_scope(scope, 'Repeat', [inputs]):
        inputs = tf.convert_to_tensor(inputs)
        scope = scope or _layer_name(layer, 'repeat')
        outputs = inputs
        for i in range(repetitions):
            kwargs['scope'] = '%s_%d' % (scope, i + 1)
            outputs = layer(outputs, *args, **kwargs)
        return outputs


def stack(inputs, layer, stack_args, **kwargs):
    """Applies `layer` once per entry of `stack_args`, as TF-Slim names it.

    `stack(x, slim.fully_connected, [32, 64], scope='fc')` makes `fc/fc_1`
    (32 outputs) and `fc/fc_2` (64).

    Raises:
      ValueError: if `stack_args` is not a list or tuple.
    """
    scope = kwargs.pop('scope', None)
    if not isinstance(stack_args, (list, tuple)):
        raise ValueError(
            'stack: stack_args must be a list or tuple, got %r' % (stack_args,)
        )
    with scopes.variable_scope(scope, 'Stack', [inputs]):
        inputs = tf.convert_to_tensor(inputs)
        scope = scope or _layer_name(layer, 'stack')
        outputs = inputs
        for i, layer_args in enumerate(stack_args):
            kwargs['scope'] = '%s_%d' % (scope, i + 1)
            if not isinstance(layer_args, (list, tuple)):
                layer_args = [layer_args]
            outputs = layer(outputs, *layer_args, **kwargs)
        return outputs


def _layer_name(layer, default):
    if hasattr(layer, '__name__'):
        return layer.__name__
    if hasattr(layer, 'func') and hasattr(layer.func, '__name__'):
        return layer.func.__name__
    return default
