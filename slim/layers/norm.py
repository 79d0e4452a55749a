"""Normalization: `batch_norm`, `layer_norm` and `group_norm`, with TF-Slim's
variables.

`batch_norm` updates `moving_mean` and `moving_variance` in place when
training (there is no UPDATE_OPS collection to run). Under a distribution
strategy the two statistics are sync-on-read variables averaged over
replicas, as Keras keeps them. Rank-2, rank-4 and (channels-last) rank-5
inputs use the fused kernel, whose batch variance (and so the moving
variance) carries Bessel's correction, exactly as TF-Slim's; other ranks,
`fused=False` and `batch_weights` use plain moments, as TF-Slim's.

At inference inside a traced function, batch norm of a float32 depthwise
convolution's output is folded into that convolution (scaled weights and a
bias, which Grappler fuses with the activation); the variables are the same
and the result equal within float rounding.
"""

import tensorflow as tf

from slim import scopes
from slim import utils
from slim import variables
from slim.layers import _utils as u

__all__ = ['batch_norm', 'layer_norm', 'group_norm']


@scopes.add_arg_scope
def batch_norm(
    inputs,
    decay=0.999,
    center=True,
    scale=False,
    epsilon=0.001,
    activation_fn=None,
    param_initializers=None,
    param_regularizers=None,
    updates_collections='update_ops',
    is_training=True,
    reuse=None,
    variables_collections=None,
    outputs_collections=None,
    trainable=True,
    batch_weights=None,
    fused=None,
    data_format='NHWC',
    zero_debias_moving_mean=False,
    scope=None,
    renorm=False,
    renorm_clipping=None,
    renorm_decay=0.99,
    adjustment=None,
):
    """Batch normalization (Ioffe & Szegedy), TF-Slim's.

    Args:
      inputs: a tensor of rank 2 or more, batch first.
      decay: the moving averages' decay, `moving = moving * decay +
        batch * (1 - decay)`.
      center, scale: whether to add `beta` and multiply by `gamma`.
      epsilon: added to the variance.
      activation_fn: applied to the output; None for none.
      param_initializers: dict of initializers for 'beta', 'gamma',
        'moving_mean', 'moving_variance'.
      param_regularizers: dict of regularizers for 'beta' and 'gamma'.
      updates_collections: the moving statistics are always updated in place
        when training; the value only decides, as in TF-Slim, the order in
        which beta and gamma are created.
      is_training: a bool or a boolean tensor: batch statistics (and updates
        of the moving ones) when true, the moving statistics otherwise.
      reuse, trainable, scope: as for the other layers; default scope
        `BatchNorm`.
      batch_weights: optional `[batch]` weights for weighted moments (then the
        unfused path is used).
      fused: None or True to use the fused kernel for inputs of rank 2, 4
        and 5, False for plain moments.
      data_format: 'NHWC' or 'NCHW'.
      outputs_collections: collection name(s) of the running model call to
        add the output to, aliased by the scope's full name (`slim.utils`).
      variables_collections: ignored (TF1 collections).
      zero_debias_moving_mean, renorm, renorm_clipping, renorm_decay,
        adjustment: not supported; a true value raises.

    Returns:
      The normalized tensor, in the input's dtype (statistics in float32).

    Raises:
      ValueError: naming the scope, for an unknown data format, an input of
        unknown rank, rank below 2 or unknown channels, or an unsupported
        option.
    """
    del variables_collections
    del renorm_clipping, renorm_decay
    with scopes.variable_scope(scope, 'BatchNorm', [inputs], reuse=reuse) as sc:
        name = sc.name
        u.check_data_format(data_format, name)
        for option, value in (
            ('zero_debias_moving_mean', zero_debias_moving_mean),
            ('renorm', renorm),
            ('adjustment', adjustment),
        ):
            if value:
                raise ValueError(
                    '%s: batch_norm option %s=%r is not supported '
                    'by this library' % (name, option, value)
                )
        inputs = u.convert(inputs, name)
        rank = inputs.shape.rank
        if rank is None or rank < 2:
            raise ValueError(
                '%s: batch_norm expects an input of rank 2 or '
                'more, got rank %s (shape %s)' % (name, rank, inputs.shape)
            )
        if data_format == 'NCHW' and rank != 4:
            raise ValueError(
                '%s: data_format NCHW needs a rank-4 input, got '
                'rank %d' % (name, rank)
            )
        channels = u.channels_of(inputs, data_format, name)
        fuse = fused in (None, True) and batch_weights is None
        # TF-Slim hands the default case to Keras's layer, which makes gamma
        # before beta; its own code paths make beta first.
        keras_path = (
            batch_weights is None
            and updates_collections == 'update_ops'
            and not (fuse and rank == 2)
        )
        params = _make_params(
            channels,
            center,
            scale,
            param_initializers,
            param_regularizers,
            trainable,
            gamma_first=keras_path,
        )
        beta, gamma, moving_mean, moving_variance = params
        training = u.static_bool(is_training)
        folded = None
        if training is False and fuse and rank == 4 and data_format == 'NHWC':
            folded = _fold_into_depthwise(
                inputs, beta, gamma, moving_mean, moving_variance, epsilon
            )
        if folded is not None:
            outputs = folded
        elif fuse and rank in (2, 4, 5):
            # As TF-Slim, a [batch, C] input goes through the fused kernel as
            # [batch, 1, 1, C], and (by Keras) a [batch, d, h, w, C] one as
            # 5-D; here as [batch, d * h, w, C], the same moments. So their
            # moving variance is Bessel-corrected too.
            if rank == 2:
                x = tf.reshape(inputs, [-1, 1, 1, channels])
            elif rank == 5:
                dims = tf.shape(inputs)
                x = tf.reshape(
                    inputs,
                    tf.stack([dims[0], dims[1] * dims[2], dims[3], channels]),
                )
            else:
                x = inputs
            outputs = _fused(
                x,
                beta,
                gamma,
                moving_mean,
                moving_variance,
                is_training,
                training,
                decay,
                epsilon,
                data_format if rank == 4 else 'NHWC',
            )
            if rank != 4:
                outputs = tf.reshape(outputs, tf.shape(inputs))
                outputs.set_shape(inputs.shape)
        else:
            outputs = _unfused(
                inputs,
                beta,
                gamma,
                moving_mean,
                moving_variance,
                is_training,
                training,
                decay,
                epsilon,
                data_format,
                batch_weights,
            )
        outputs = u.apply_activation(outputs, activation_fn)
        return utils.collect_named_outputs(outputs_collections, name, outputs)


def _make_params(
    channels, center, scale, initializers, regularizers, trainable, gamma_first
):
    initializers = initializers or {}
    regularizers = regularizers or {}
    made = {}
    for param, wanted, default in (
        ('gamma', scale, tf.ones_initializer()),
        ('beta', center, tf.zeros_initializer()),
    )[:: 1 if gamma_first else -1]:
        if wanted:
            made[param] = variables.model_variable(
                param,
                shape=[channels],
                dtype=tf.float32,
                initializer=initializers.get(param, default),
                regularizer=regularizers.get(param),
                trainable=trainable,
            )
    beta, gamma = made.get('beta'), made.get('gamma')
    moving_mean = variables.model_variable(
        'moving_mean',
        shape=[channels],
        dtype=tf.float32,
        initializer=initializers.get('moving_mean', tf.zeros_initializer()),
        trainable=False,
        synchronization=tf.VariableSynchronization.ON_READ,
        aggregation=tf.VariableAggregation.MEAN,
    )
    moving_variance = variables.model_variable(
        'moving_variance',
        shape=[channels],
        dtype=tf.float32,
        initializer=initializers.get('moving_variance', tf.ones_initializer()),
        trainable=False,
        synchronization=tf.VariableSynchronization.ON_READ,
        aggregation=tf.VariableAggregation.MEAN,
    )
    return beta, gamma, moving_mean, moving_variance


def _fold_into_depthwise(
    inputs, beta, gamma, moving_mean, moving_variance, epsilon
):
    """Inference batch norm of a depthwise convolution's output, folded into
    it: the convolution again with its weights times `gamma / sqrt(var +
    eps)`, plus a bias. Grappler fuses a depthwise convolution with a bias
    and ReLU, but not with batch norm, which otherwise takes a quarter of
    MobileNet v1's inference time. The first convolution is left unused (a
    function does not run it). None where it does not apply: eagerly, or an
    input that is not a float32 NHWC depthwise convolution."""
    op = getattr(inputs, 'op', None)
    if (
        tf.executing_eagerly()
        or op is None
        or op.type != 'DepthwiseConv2dNative'
        or op.get_attr('data_format') != b'NHWC'
        or inputs.dtype != tf.float32
    ):
        return None
    images, weights = op.inputs
    height, width, channels, multiplier = weights.shape.as_list()
    if None in (height, width, channels, multiplier):
        return None
    scale = tf.math.rsqrt(moving_variance.read_value() + epsilon)
    if gamma is not None:
        scale *= gamma
    bias = -moving_mean.read_value() * scale
    if beta is not None:
        bias += beta
    outputs = tf.raw_ops.DepthwiseConv2dNative(
        input=images,
        filter=weights * tf.reshape(scale, [1, 1, channels, multiplier]),
        strides=op.get_attr('strides'),
        padding=op.get_attr('padding'),
        explicit_paddings=op.get_attr('explicit_paddings'),
        data_format='NHWC',
        dilations=op.get_attr('dilations'),
    )
    return tf.nn.bias_add(outputs, bias)


def _update(moving, value, decay):
    return moving.assign_sub((moving - value) * (1.0 - decay))


def _fused(
    inputs,
    beta,
    gamma,
    moving_mean,
    moving_variance,
    is_training,
    training,
    decay,
    epsilon,
    data_format,
):
    channels = moving_mean.shape[0]
    offset = beta if beta is not None else tf.zeros([channels], tf.float32)
    factor = gamma if gamma is not None else tf.ones([channels], tf.float32)

    def _train():
        y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            inputs,
            factor,
            offset,
            epsilon=epsilon,
            data_format=data_format,
            is_training=True,
        )
        with tf.control_dependencies(
            [
                _update(moving_mean, mean, decay),
                _update(moving_variance, variance, decay),
            ]
        ):
            return tf.identity(y)

    def _infer():
        y, _, _ = tf.compat.v1.nn.fused_batch_norm(
            inputs,
            factor,
            offset,
            mean=moving_mean.read_value(),
            variance=moving_variance.read_value(),
            epsilon=epsilon,
            data_format=data_format,
            is_training=False,
        )
        return y

    if training is None:
        return tf.cond(tf.cast(is_training, tf.bool), _train, _infer)
    return _train() if training else _infer()


def _unfused(
    inputs,
    beta,
    gamma,
    moving_mean,
    moving_variance,
    is_training,
    training,
    decay,
    epsilon,
    data_format,
    batch_weights,
):
    rank = inputs.shape.rank
    dtype = inputs.dtype
    x = tf.cast(inputs, tf.float32)
    if data_format == 'NCHW':
        axes = [0, 2, 3]
        shape = [1, -1, 1, 1]
    else:
        axes = list(range(rank - 1))
        shape = [-1]

    def _bcast(t):
        return None if t is None else tf.reshape(t, shape)

    def _normalize(mean, variance):
        y = tf.nn.batch_normalization(
            x,
            _bcast(mean),
            _bcast(variance),
            _bcast(beta),
            _bcast(gamma),
            epsilon,
        )
        return tf.cast(y, dtype)

    def _train():
        if batch_weights is None:
            mean, variance = tf.nn.moments(x, axes)
        else:
            w = tf.reshape(
                tf.cast(batch_weights, tf.float32), [-1] + [1] * (rank - 1)
            )
            mean, variance = tf.nn.weighted_moments(x, axes, w)
        with tf.control_dependencies(
            [
                _update(moving_mean, mean, decay),
                _update(moving_variance, variance, decay),
            ]
        ):
            return tf.identity(_normalize(mean, variance))

    def _infer():
        return _normalize(
            moving_mean.read_value(), moving_variance.read_value()
        )

    if training is None:
        return tf.cond(tf.cast(is_training, tf.bool), _train, _infer)
    return _train() if training else _infer()


@scopes.add_arg_scope
def layer_norm(
    inputs,
    center=True,
    scale=True,
    activation_fn=None,
    reuse=None,
    variables_collections=None,
    outputs_collections=None,
    trainable=True,
    begin_norm_axis=1,
    begin_params_axis=-1,
    scope=None,
):
    """Layer normalization (Ba et al.), TF-Slim's: moments over
    `begin_norm_axis:`, `beta`/`gamma` of shape `inputs.shape[begin_params_axis:]`.

    Raises:
      ValueError: for an unknown rank, axes beyond the rank, or a parameter
        shape that is not fully defined.
    """
    del variables_collections
    with scopes.variable_scope(scope, 'LayerNorm', [inputs], reuse=reuse) as sc:
        name = sc.name
        inputs = u.convert(inputs, name)
        rank = inputs.shape.rank
        if rank is None:
            raise ValueError('%s: the input rank must be known' % name)
        if begin_norm_axis < 0:
            begin_norm_axis = rank + begin_norm_axis
        if begin_params_axis >= rank or begin_norm_axis >= rank:
            raise ValueError(
                '%s: begin_params_axis (%d) and begin_norm_axis '
                '(%d) must be < rank(inputs) (%d)'
                % (name, begin_params_axis, begin_norm_axis, rank)
            )
        params_shape = inputs.shape[begin_params_axis:]
        if not params_shape.is_fully_defined():
            raise ValueError(
                '%s: inputs.shape[%d:] must be fully defined, got '
                '%s' % (name, begin_params_axis, inputs.shape)
            )
        dtype = inputs.dtype
        vdtype = u.variable_dtype(dtype)
        beta = gamma = None
        if center:
            beta = variables.model_variable(
                'beta',
                shape=params_shape,
                dtype=vdtype,
                initializer=tf.zeros_initializer(),
                trainable=trainable,
            )
        if scale:
            gamma = variables.model_variable(
                'gamma',
                shape=params_shape,
                dtype=vdtype,
                initializer=tf.ones_initializer(),
                trainable=trainable,
            )
        x = tf.cast(inputs, tf.float32)
        mean, variance = tf.nn.moments(
            x, list(range(begin_norm_axis, rank)), keepdims=True
        )
        eps = 1e-12 if dtype != tf.float16 else 1e-3
        outputs = tf.nn.batch_normalization(x, mean, variance, beta, gamma, eps)
        outputs = u.apply_activation(tf.cast(outputs, dtype), activation_fn)
        return utils.collect_named_outputs(outputs_collections, name, outputs)


@scopes.add_arg_scope
def group_norm(
    inputs,
    groups=32,
    channels_axis=-1,
    reduction_axes=(-3, -2),
    center=True,
    scale=True,
    epsilon=1e-6,
    activation_fn=None,
    param_initializers=None,
    reuse=None,
    variables_collections=None,
    outputs_collections=None,
    trainable=True,
    scope=None,
    mean_close_to_zero=False,
):
    """Group normalization (Wu & He), TF-Slim's.

    The channels are split into `groups`; each group is normalized with the
    moments over its channels and the `reduction_axes`, per example, then
    scaled by `gamma` and shifted by `beta` (both `[channels]`).

    Args:
      inputs: a tensor whose channel and reduction dimensions are known.
      groups: the number of groups, a positive int that divides the channels.
      channels_axis: the channel axis; e.g. -1 for NHWC, -3 for NCHW.
      reduction_axes: the other axes of the moments; e.g. (-3, -2) for NHWC,
        (-2, -1) for NCHW. None of them may be `channels_axis`.
      center, scale: whether to add `beta` and multiply by `gamma`.
      epsilon: added to the variance.
      activation_fn: applied to the output; None for none.
      param_initializers: dict of initializers for 'beta' and 'gamma'.
      reuse, trainable, scope: as for the other layers; default scope
        `GroupNorm`.
      outputs_collections: collection name(s) of the running model call to
        add the output to, aliased by the scope's full name (`slim.utils`).
      variables_collections: ignored (TF1 collections).
      mean_close_to_zero: compute the variance from sums of squares in one
        pass (`tf.nn.sufficient_statistics`), better when the mean is near
        zero, instead of `tf.nn.moments`.

    Returns:
      The normalized tensor, in the input's dtype (computed in float32 for
      16-bit inputs).

    Raises:
      ValueError: naming the scope, for an input of unknown rank, an axis out
        of range, a reduction axis equal to `channels_axis`, an unknown
        channel or reduction dimension, or `groups` that is not a positive
        int dividing the channels.
    """
    del variables_collections
    with scopes.variable_scope(scope, 'GroupNorm', [inputs], reuse=reuse) as sc:
        name = sc.name
        inputs = u.convert(inputs, name)
        rank = inputs.shape.rank
        if rank is None:
            raise ValueError(
                '%s: group_norm needs an input of known rank, '
                'got shape %s' % (name, inputs.shape)
            )
        channels_axis = _axis(channels_axis, rank, name, 'channels_axis')
        channels = inputs.shape[channels_axis]
        if channels is None:
            raise ValueError(
                '%s: the channel dimension (axis %d) of the '
                'input must be known, got shape %s'
                % (name, channels_axis, inputs.shape)
            )
        axes = [_axis(a, rank, name, 'reduction_axes') for a in reduction_axes]
        for a in axes:
            if a == channels_axis:
                raise ValueError(
                    '%s: reduction_axes %r include the channel '
                    'axis %d; they must be other axes'
                    % (name, tuple(reduction_axes), channels_axis)
                )
            if inputs.shape[a] is None:
                raise ValueError(
                    '%s: dimension %d of the input (a reduction '
                    'axis) must be known, got shape %s'
                    % (name, a, inputs.shape)
                )
        if (
            isinstance(groups, bool)
            or not isinstance(groups, int)
            or groups <= 0
            or channels % groups
        ):
            raise ValueError(
                '%s: groups must be a positive int that divides '
                'the %d channels, got %r' % (name, channels, groups)
            )
        dtype = inputs.dtype
        per_group = channels // groups
        # [..., channels, ...] -> [..., groups, per_group, ...]
        dynamic = tf.shape(inputs)
        sizes = [
            inputs.shape[i] if inputs.shape[i] is not None else dynamic[i]
            for i in range(rank)
        ]
        grouped_shape = (
            sizes[:channels_axis]
            + [groups, per_group]
            + sizes[channels_axis + 1 :]
        )
        x = tf.reshape(
            tf.cast(inputs, tf.float32)
            if dtype in (tf.float16, tf.bfloat16)
            else inputs,
            grouped_shape,
        )
        moments_axes = [channels_axis + 1] + [
            a + 1 if a > channels_axis else a for a in axes
        ]
        broadcast = (
            [1] * channels_axis
            + [groups, per_group]
            + [1] * (rank - channels_axis - 1)
        )

        initializers = param_initializers or {}
        vdtype = u.variable_dtype(dtype)
        beta = gamma = None
        if center:
            beta = variables.model_variable(
                'beta',
                shape=[channels],
                dtype=vdtype,
                initializer=initializers.get('beta', tf.zeros_initializer()),
                trainable=trainable,
            )
            beta = tf.reshape(tf.cast(beta, x.dtype), broadcast)
        if scale:
            gamma = variables.model_variable(
                'gamma',
                shape=[channels],
                dtype=vdtype,
                initializer=initializers.get('gamma', tf.ones_initializer()),
                trainable=trainable,
            )
            gamma = tf.reshape(tf.cast(gamma, x.dtype), broadcast)

        if mean_close_to_zero:
            count, mean_sum, squares_sum, _ = tf.nn.sufficient_statistics(
                x, moments_axes, keepdims=True
            )
            mean, variance = tf.nn.normalize_moments(
                count, mean_sum, squares_sum, shift=None
            )
        else:
            mean, variance = tf.nn.moments(x, moments_axes, keepdims=True)
        gain = tf.math.rsqrt(variance + epsilon)
        offset = -mean * gain
        if gamma is not None:
            gain *= gamma
            offset *= gamma
        if beta is not None:
            offset += beta
        outputs = tf.reshape(x * gain + offset, sizes)
        outputs = u.apply_activation(tf.cast(outputs, dtype), activation_fn)
        return utils.collect_named_outputs(outputs_collections, name, outputs)


def _axis(axis, rank, name, argument):
    if (
        isinstance(axis, bool)
        or not isinstance(axis, int)
        or not -rank <= axis < rank
    ):
        raise ValueError(
            '%s: %s must hold axes in [-%d, %d) for an input of '
            'rank %d, got %r' % (name, argument, rank, rank, rank, axis)
        )
    return axis % rank
