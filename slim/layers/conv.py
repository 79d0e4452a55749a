"""Convolutions: `conv1d`, `conv2d`, `conv3d` (`convolution`),
`conv2d_transpose`, `separable_conv2d`.

Variable names, shapes and defaults are TF-Slim's: `<scope>/weights`
`[kh, kw, in, out]` (`[kd, kh, kw, in, out]` in 3-D) and `<scope>/biases`,
the biases left out when a `normalizer_fn` is given.
"""

import tensorflow as tf

from slim import initializers
from slim import scopes
from slim import utils
from slim import variables
from slim.layers import _kernels
from slim.layers import _utils as u

__all__ = [
    'convolution',
    'convolution1d',
    'convolution2d',
    'convolution3d',
    'conv1d',
    'conv2d',
    'conv3d',
    'convolution2d_transpose',
    'conv2d_transpose',
    'separable_convolution2d',
    'separable_conv2d',
]

_RANK_FORMATS = {3: ('NWC', 'NCW'), 4: ('NHWC', 'NCHW'), 5: ('NDHWC', 'NCDHW')}


@scopes.add_arg_scope
def convolution(
    inputs,
    num_outputs,
    kernel_size,
    stride=1,
    padding='SAME',
    data_format=None,
    rate=1,
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
    conv_dims=None,
):
    """An N-D convolution (1, 2 or 3 spatial dimensions, from the input rank).

    Args:
      inputs: `[batch, ..., channels]` (or channels first, by `data_format`).
      num_outputs: the number of filters, a positive int.
      kernel_size, stride, rate: an int, or a list with one value per spatial
        dimension. `rate` > 1 is an atrous convolution (then stride must be 1).
      padding: 'SAME' or 'VALID'.
      data_format: None (channels last) or e.g. 'NHWC' / 'NCHW'.
      activation_fn: applied last; None for a linear layer.
      normalizer_fn, normalizer_params: e.g. `slim.batch_norm` and its
        arguments; replaces the biases.
      weights_initializer, weights_regularizer, biases_initializer,
      biases_regularizer: as TF-Slim; `biases_initializer=None` drops biases.
      reuse: share the variables of the same scope within a call.
      trainable: whether the variables are trained.
      scope: the variable scope; default `Conv`, made unique.
      outputs_collections: collection name(s) of the running model call to
        add the output to, aliased by the scope's full name (`slim.utils`).
      variables_collections: TF1 graph collections; accepted and ignored.
      conv_dims: if given, the input must have rank `conv_dims + 2`.

    Returns:
      The output tensor, in the input's dtype.

    Raises:
      ValueError: naming the layer's scope, for an input of the wrong rank, a
        `num_outputs` that is not a positive int, a `kernel_size`, `stride` or
        `rate` of the wrong length, an unknown padding or data format, or a
        stride and a rate both above 1.
    """
    del variables_collections
    with scopes.variable_scope(scope, 'Conv', [inputs], reuse=reuse) as sc:
        name = sc.name
        inputs = u.convert(inputs, name)
        if conv_dims is not None:
            u.check_rank(
                inputs,
                (conv_dims + 2,),
                name,
                'an input of rank %d ([batch, %s, channels])'
                % (conv_dims + 2, ', '.join(['size'] * conv_dims)),
            )
        rank = u.check_rank(
            inputs, (3, 4, 5), name, 'an input of rank 3, 4 or 5'
        )
        spatial = rank - 2
        data_format = data_format or _RANK_FORMATS[rank][0]
        u.check_data_format(data_format, name, _RANK_FORMATS[rank])
        num_outputs = u.check_num_outputs(num_outputs, name)
        kernel = u.tuple_of(kernel_size, spatial, name, 'kernel_size')
        strides = u.tuple_of(stride, spatial, name, 'stride')
        rates = u.tuple_of(rate, spatial, name, 'rate')
        padding = u.check_padding(padding, name)
        if max(strides) > 1 and max(rates) > 1:
            raise ValueError(
                '%s: stride %r and rate %r cannot both be above 1'
                % (name, stride, rate)
            )
        inputs, out_dtype = _kernels.compute_in(inputs)
        dtype = inputs.dtype
        vdtype = u.variable_dtype(dtype)
        channels = u.channels_of(inputs, data_format, name)
        weights = variables.model_variable(
            'weights',
            shape=kernel + (channels, num_outputs),
            dtype=vdtype,
            initializer=weights_initializer,
            regularizer=weights_regularizer,
            trainable=trainable,
        )
        if rank == 4:
            outputs = _kernels.conv2d(
                inputs, weights, strides, padding, rates, data_format
            )
        else:
            outputs = _kernels.apply(
                lambda x, w: tf.nn.convolution(
                    x,
                    w,
                    strides=strides,
                    padding=padding,
                    dilations=rates,
                    data_format=data_format,
                ),
                inputs,
                weights,
            )
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
                channels_first=data_format.startswith('NC'),
            ),
            out_dtype,
        )
        return utils.collect_named_outputs(outputs_collections, name, outputs)


def _fixed_rank(conv_dims, doc_name):
    def layer(
        inputs,
        num_outputs,
        kernel_size,
        stride=1,
        padding='SAME',
        data_format=None,
        rate=1,
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
        return convolution.__wrapped__(
            inputs,
            num_outputs,
            kernel_size,
            stride,
            padding,
            data_format,
            rate,
            activation_fn,
            normalizer_fn,
            normalizer_params,
            weights_initializer,
            weights_regularizer,
            biases_initializer,
            biases_regularizer,
            reuse,
            variables_collections,
            outputs_collections,
            trainable,
            scope,
            conv_dims=conv_dims,
        )

    layer.__name__ = layer.__qualname__ = doc_name
    layer.__doc__ = (
        'A %d-D convolution; see `convolution` for the arguments.' % conv_dims
    )
    return scopes.add_arg_scope(layer)


convolution1d = _fixed_rank(1, 'convolution1d')
convolution2d = _fixed_rank(2, 'convolution2d')
convolution3d = _fixed_rank(3, 'convolution3d')
conv1d = convolution1d
conv2d = convolution2d
conv3d = convolution3d


@scopes.add_arg_scope
def convolution2d_transpose(
    inputs,
    num_outputs,
    kernel_size,
    stride=1,
    padding='SAME',
    data_format='NHWC',
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
    """A transposed 2-D convolution ("deconvolution"), TF-Slim's.

    The weights have shape `[kh, kw, num_outputs, in_channels]`. With 'SAME'
    the output is `input * stride`; with 'VALID' it is
    `input * stride + max(kernel - stride, 0)`.

    Raises:
      ValueError: naming the scope, as `convolution` does.
    """
    del variables_collections
    with scopes.variable_scope(
        scope, 'Conv2d_transpose', [inputs], reuse=reuse
    ) as sc:
        name = sc.name
        u.check_data_format(data_format, name)
        inputs = u.convert(inputs, name)
        u.check_rank(
            inputs,
            (4,),
            name,
            'a rank-4 input [batch, height, width, channels]',
        )
        num_outputs = u.check_num_outputs(num_outputs, name)
        kernel = u.tuple_of(kernel_size, 2, name, 'kernel_size')
        strides = u.tuple_of(stride, 2, name, 'stride')
        padding = u.check_padding(padding, name)
        inputs, out_dtype = _kernels.compute_in(inputs)
        dtype = inputs.dtype
        vdtype = u.variable_dtype(dtype)
        channels = u.channels_of(inputs, data_format, name)
        weights = variables.model_variable(
            'weights',
            shape=kernel + (num_outputs, channels),
            dtype=vdtype,
            initializer=weights_initializer,
            regularizer=weights_regularizer,
            trainable=trainable,
        )
        nchw = data_format == 'NCHW'
        dyn = tf.shape(inputs)
        h_axis, w_axis = (2, 3) if nchw else (1, 2)
        sizes = []
        for axis, k, s in (
            (h_axis, kernel[0], strides[0]),
            (w_axis, kernel[1], strides[1]),
        ):
            size = inputs.shape[axis]
            size = dyn[axis] if size is None else size
            sizes.append(
                size * s if padding == 'SAME' else size * s + max(k - s, 0)
            )
        out_shape = (
            [dyn[0], num_outputs] + sizes
            if nchw
            else [dyn[0]] + sizes + [num_outputs]
        )
        out_shape = tf.stack(out_shape)
        outputs = _kernels.apply(
            lambda x, w: tf.nn.conv2d_transpose(
                x,
                w,
                out_shape,
                strides=(1, 1) + strides if nchw else (1,) + strides + (1,),
                padding=padding,
                data_format=data_format,
            ),
            inputs,
            weights,
        )
        static = [inputs.shape[0]] + [
            s if isinstance(s, int) else None for s in sizes
        ]
        outputs.set_shape(
            [static[0], num_outputs] + static[1:]
            if nchw
            else static + [num_outputs]
        )
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
                channels_first=data_format.startswith('NC'),
            ),
            out_dtype,
        )
        return utils.collect_named_outputs(outputs_collections, name, outputs)


conv2d_transpose = convolution2d_transpose


@scopes.add_arg_scope
def separable_convolution2d(
    inputs,
    num_outputs,
    kernel_size,
    depth_multiplier=1,
    stride=1,
    padding='SAME',
    data_format='NHWC',
    rate=1,
    activation_fn=tf.nn.relu,
    normalizer_fn=None,
    normalizer_params=None,
    weights_initializer=initializers.xavier_initializer(),
    pointwise_initializer=None,
    weights_regularizer=None,
    biases_initializer=tf.zeros_initializer(),
    biases_regularizer=None,
    reuse=None,
    variables_collections=None,
    outputs_collections=None,
    trainable=True,
    scope=None,
):
    """A depthwise convolution, followed by a 1x1 one unless `num_outputs` is None.

    Variables: `depthwise_weights` `[kh, kw, in, depth_multiplier]`, then
    `pointwise_weights` `[1, 1, in * depth_multiplier, num_outputs]` (only
    when `num_outputs` is given), then `biases` (unless a `normalizer_fn`).

    Raises:
      ValueError: naming the scope, as `convolution` does, and for a
        `depth_multiplier` that is not a positive int.
    """
    del variables_collections
    with scopes.variable_scope(
        scope, 'SeparableConv2d', [inputs], reuse=reuse
    ) as sc:
        name = sc.name
        u.check_data_format(data_format, name)
        inputs = u.convert(inputs, name)
        u.check_rank(
            inputs,
            (4,),
            name,
            'a rank-4 input [batch, height, width, channels]',
        )
        num_outputs = u.check_num_outputs(num_outputs, name, allow_none=True)
        if (
            isinstance(depth_multiplier, bool)
            or not isinstance(depth_multiplier, int)
            or depth_multiplier <= 0
        ):
            raise ValueError(
                '%s: depth_multiplier must be a positive int, got '
                '%r' % (name, depth_multiplier)
            )
        kernel = u.tuple_of(kernel_size, 2, name, 'kernel_size')
        strides = u.tuple_of(stride, 2, name, 'stride')
        rates = u.tuple_of(rate, 2, name, 'rate')
        padding = u.check_padding(padding, name)
        if max(strides) > 1 and max(rates) > 1:
            raise ValueError(
                '%s: stride %r and rate %r cannot both be above 1'
                % (name, stride, rate)
            )
        inputs, out_dtype = _kernels.compute_in(inputs)
        dtype = inputs.dtype
        vdtype = u.variable_dtype(dtype)
        channels = u.channels_of(inputs, data_format, name)
        nchw = data_format == 'NCHW'
        strides4 = (1, 1) + strides if nchw else (1,) + strides + (1,)
        depthwise = variables.model_variable(
            'depthwise_weights',
            shape=kernel + (channels, depth_multiplier),
            dtype=vdtype,
            initializer=weights_initializer,
            regularizer=weights_regularizer,
            trainable=trainable,
        )
        if num_outputs is not None:
            pointwise = variables.model_variable(
                'pointwise_weights',
                shape=(1, 1, channels * depth_multiplier, num_outputs),
                dtype=vdtype,
                initializer=pointwise_initializer or weights_initializer,
                regularizer=weights_regularizer,
                trainable=trainable,
            )
            outputs = _kernels.apply(
                lambda x, dw, pw: tf.nn.separable_conv2d(
                    x,
                    dw,
                    pw,
                    strides4,
                    padding,
                    dilations=rates,
                    data_format=data_format,
                ),
                inputs,
                depthwise,
                pointwise,
            )
        else:
            num_outputs = channels * depth_multiplier
            outputs = _kernels.apply(
                lambda x, dw: tf.nn.depthwise_conv2d(
                    x,
                    dw,
                    strides4,
                    padding,
                    dilations=rates,
                    data_format=data_format,
                ),
                inputs,
                depthwise,
            )
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
                channels_first=data_format.startswith('NC'),
            ),
            out_dtype,
        )
        return utils.collect_named_outputs(outputs_collections, name, outputs)


separable_conv2d = separable_convolution2d
