"""The convolution blocks MobileNet v2 and v3 are made of.

`expanded_conv` is the inverted residual ("bottleneck") block: an optional
1x1 expansion, a depthwise convolution, an optional transform of the
expansion (v3's squeeze-and-excite) and a linear 1x1 projection, with a
residual connection when shapes allow. Its variables are `expand/...`,
`depthwise/depthwise_weights`, `project/...` under `expanded_conv[_n]`, as in
research/slim's checkpoints.

The block's named tensors (`expansion_output`, `depthwise_output`, `output`)
are what research/slim's builder finds by walking the TF1 graph; here they go
to the block's `outputs_collections` (per model call, `slim.utils`), so the
builder finds them eagerly and under `tf.function` alike.
"""

import contextlib
import functools

import tensorflow as tf

import slim


def expand_input_by_factor(n, divisible_by=8):
    """An `expansion_size` for `expanded_conv`: `n` times the input depth,
    rounded to a multiple of `divisible_by`."""
    return lambda num_inputs, **_: _make_divisible(num_inputs * n, divisible_by)


def split_conv(
    input_tensor, num_outputs, num_ways, scope, divisible_by=8, **kwargs
):
    """A 1x1 convolution split into `num_ways` groups, the i-th input group
    feeding only the i-th output group (`scope_part_i`); a plain `scope` 1x1
    convolution when a group would have fewer than `divisible_by` channels.

    Args:
      input_tensor: [batch, height, width, channels].
      num_outputs: the output depth.
      num_ways: the number of groups.
      scope: the scope of the convolution (the prefix of the groups').
      divisible_by: every group's depth is a multiple of this.
      **kwargs: passed to `slim.conv2d`.

    Returns:
      The output tensor, `num_outputs` deep.
    """
    depth = input_tensor.shape.as_list()[3]
    if (
        num_ways == 1
        or min(depth // num_ways, num_outputs // num_ways) < divisible_by
    ):
        return slim.conv2d(
            input_tensor, num_outputs, [1, 1], scope=scope, **kwargs
        )
    outputs = []
    input_splits = _split_divisible(depth, num_ways, divisible_by=divisible_by)
    output_splits = _split_divisible(
        num_outputs, num_ways, divisible_by=divisible_by
    )
    inputs = tf.split(input_tensor, input_splits, axis=3, name='split_' + scope)
    part_scope = scope
    for i, (part, size) in enumerate(zip(inputs, output_splits)):
        part_scope = '%s_part_%d' % (scope, i)
        part = slim.conv2d(part, size, [1, 1], scope=part_scope, **kwargs)
        outputs.append(tf.identity(part, part_scope + '_output'))
    return tf.concat(outputs, 3, name=part_scope + '_concat')


@slim.add_arg_scope
def expanded_conv(
    input_tensor,
    num_outputs,
    expansion_size=expand_input_by_factor(6),
    stride=1,
    rate=1,
    kernel_size=(3, 3),
    residual=True,
    normalizer_fn=None,
    split_projection=1,
    split_expansion=1,
    split_divisible_by=8,
    expansion_transform=None,
    depthwise_location='expansion',
    depthwise_channel_multiplier=1,
    endpoints=None,
    use_explicit_padding=False,
    padding='SAME',
    inner_activation_fn=None,
    depthwise_activation_fn=None,
    project_activation_fn=tf.identity,
    depthwise_fn=slim.separable_conv2d,
    expansion_fn=split_conv,
    projection_fn=split_conv,
    outputs_collections=None,
    scope=None,
):
    """The inverted residual block: expansion (1x1), depthwise (kernel_size),
    projection (1x1).

    Args:
      input_tensor: [batch, height, width, channels].
      num_outputs: the depth of the projection, the block's output.
      expansion_size: the expansion's depth, or a callable
        `f(num_inputs=depth)` giving it; no expansion unless it is larger than
        the input depth.
      stride: the depthwise convolution's stride.
      rate: the depthwise convolution's dilation rate.
      kernel_size: the depthwise convolution's kernel.
      residual: add the input to the output when stride is 1 and the depths
        match; or a callable `f(input_tensor=, output_tensor=)` doing the sum.
      normalizer_fn: the normalizer of every convolution (batch norm).
      split_projection: the number of groups of the projection.
      split_expansion: the number of groups of the expansion.
      split_divisible_by: the channel multiple of every group.
      expansion_transform: a callable `f(expansion_tensor=, input_tensor=)`
        applied after the depthwise convolution (v3's squeeze-and-excite).
      depthwise_location: where the depthwise convolution goes: 'expansion'
        (after the expansion), 'input', 'output' or None (none at all).
      depthwise_channel_multiplier: the depthwise convolution's channel
        multiplier.
      endpoints: an optional dict that receives 'expansion_output',
        'depthwise_output' and 'projection_output'.
      use_explicit_padding: pad the depthwise input explicitly and convolve
        with 'VALID', giving the 'SAME' output size.
      padding: the depthwise padding without `use_explicit_padding`.
      inner_activation_fn: the activation of the expansion and depthwise
        convolutions; None keeps the arg scope's.
      depthwise_activation_fn: the depthwise activation, overriding
        `inner_activation_fn`.
      project_activation_fn: the projection's activation (linear).
      depthwise_fn: the depthwise convolution function.
      expansion_fn: the expansion function; a custom one ignores
        `split_expansion` and `split_divisible_by`.
      projection_fn: the projection function; a custom one ignores
        `split_projection` and `split_divisible_by`.
      outputs_collections: collections (per model call) that receive the
        named outputs 'expansion_output', 'depthwise_output' and 'output',
        aliased '<block scope>/<name>'.
      scope: the variable scope; 'expanded_conv' made unique by default.

    Returns:
      The output tensor, `num_outputs` deep.

    Raises:
      TypeError: for an unknown `depthwise_location`, or
        `use_explicit_padding` with a `padding` other than 'SAME'.
    """
    conv_defaults = {}
    depthwise_defaults = {}
    if inner_activation_fn is not None:
        conv_defaults['activation_fn'] = inner_activation_fn
        depthwise_defaults['activation_fn'] = inner_activation_fn
    if depthwise_activation_fn is not None:
        depthwise_defaults['activation_fn'] = depthwise_activation_fn
    with (
        slim.variable_scope(scope, default_name='expanded_conv') as sc,
        slim.arg_scope((slim.conv2d,), **conv_defaults),
        slim.arg_scope((slim.separable_conv2d,), **depthwise_defaults),
    ):

        def named_output(net, name):
            # research/slim names these tensors in the graph; here they are
            # collected in the model call, aliased by the same names.
            net = tf.identity(net, name=name)
            slim.utils.collect_named_outputs(
                outputs_collections, sc.name + '/' + name, net
            )
            return net

        prev_depth = input_tensor.shape.as_list()[3]
        if depthwise_location not in (None, 'input', 'output', 'expansion'):
            raise TypeError(
                "expanded_conv: depthwise_location must be None, 'input', "
                "'output' or 'expansion', got %r" % (depthwise_location,)
            )
        if use_explicit_padding:
            if padding != 'SAME':
                raise TypeError(
                    "expanded_conv: use_explicit_padding works with padding='SAME' "
                    'only, got padding=%r' % (padding,)
                )
            padding = 'VALID'
        depthwise_func = functools.partial(
            depthwise_fn,
            num_outputs=None,
            kernel_size=kernel_size,
            depth_multiplier=depthwise_channel_multiplier,
            stride=stride,
            rate=rate,
            normalizer_fn=normalizer_fn,
            padding=padding,
            scope='depthwise',
        )

        def depthwise(net, **kwargs):
            if use_explicit_padding:
                net = fixed_padding(net, kernel_size, rate)
            net = named_output(
                depthwise_func(net, **kwargs), 'depthwise_output'
            )
            if endpoints is not None:
                endpoints['depthwise_output'] = net
            return net

        input_tensor = tf.identity(input_tensor, 'input')
        net = input_tensor
        if depthwise_location == 'input':
            net = depthwise(net, activation_fn=None)

        if callable(expansion_size):
            inner_size = expansion_size(num_inputs=prev_depth)
        else:
            inner_size = expansion_size
        if inner_size > net.shape[3]:
            if expansion_fn == split_conv:
                expansion_fn = functools.partial(
                    expansion_fn,
                    num_ways=split_expansion,
                    divisible_by=split_divisible_by,
                    stride=1,
                )
            net = expansion_fn(
                net, inner_size, scope='expand', normalizer_fn=normalizer_fn
            )
            net = named_output(net, 'expansion_output')
            if endpoints is not None:
                endpoints['expansion_output'] = net

        if depthwise_location == 'expansion':
            net = depthwise(net)
        if expansion_transform:
            net = expansion_transform(
                expansion_tensor=net, input_tensor=input_tensor
            )

        # Unlike the expansion, the projection is always there: it gives the
        # block its output depth.
        if projection_fn == split_conv:
            projection_fn = functools.partial(
                projection_fn,
                num_ways=split_projection,
                divisible_by=split_divisible_by,
                stride=1,
            )
        net = projection_fn(
            net,
            num_outputs,
            scope='project',
            normalizer_fn=normalizer_fn,
            activation_fn=project_activation_fn,
        )
        if endpoints is not None:
            endpoints['projection_output'] = net
        if depthwise_location == 'output':
            net = depthwise(net, activation_fn=None)

        if callable(residual):
            net = residual(input_tensor=input_tensor, output_tensor=net)
        elif (
            residual
            and stride == 1
            and net.shape.as_list()[3] == input_tensor.shape.as_list()[3]
        ):
            # The stride test also keeps unknown spatial sizes from being added.
            net += input_tensor
        return named_output(net, 'output')


@slim.add_arg_scope
def squeeze_excite(
    input_tensor,
    divisible_by=8,
    squeeze_factor=3,
    inner_activation_fn=tf.nn.relu,
    gating_fn=tf.sigmoid,
    squeeze_input_tensor=None,
    pool=None,
):
    """Squeeze-and-excite (MobileNet v3): the input scaled channel-wise by a
    gate computed from its spatial mean through two 1x1 convolutions
    (`squeeze_excite/Conv`, `squeeze_excite/Conv_1`, both with biases).

    Args:
      input_tensor: the tensor to gate, [batch, height, width, channels].
      divisible_by: the squeezed depth is a multiple of this.
      squeeze_factor: the squeezed depth is the input depth over this.
      inner_activation_fn: the activation of the squeeze convolution.
      gating_fn: the activation of the excite convolution, the gate.
      squeeze_input_tensor: compute the gate from this tensor instead of
        `input_tensor`.
      pool: if given, the gate is computed on `pool` x `pool` average pools
        (stride `pool`) and resized bilinearly to the input's size, instead of
        on the global mean.

    Returns:
      `input_tensor * gate`.
    """
    with slim.variable_scope('squeeze_excite'):
        if squeeze_input_tensor is None:
            squeeze_input_tensor = input_tensor
        input_size = input_tensor.shape.as_list()[1:3]
        pool_height, pool_width = squeeze_input_tensor.shape.as_list()[1:3]
        stride = 1
        if pool is not None and pool_height >= pool:
            pool_height, pool_width, stride = pool, pool, pool
        input_channels = squeeze_input_tensor.shape.as_list()[3]
        output_channels = input_tensor.shape.as_list()[3]
        squeeze_channels = _make_divisible(
            input_channels / squeeze_factor, divisor=divisible_by
        )
        if pool is None:
            # The global mean works for unknown spatial sizes too.
            pooled = tf.reduce_mean(
                squeeze_input_tensor, axis=[1, 2], keepdims=True
            )
        else:
            pooled = tf.nn.avg_pool2d(
                squeeze_input_tensor,
                (1, pool_height, pool_width, 1),
                strides=(1, stride, stride, 1),
                padding='VALID',
            )
        squeeze = slim.conv2d(
            pooled,
            kernel_size=(1, 1),
            num_outputs=squeeze_channels,
            normalizer_fn=None,
            activation_fn=inner_activation_fn,
        )
        excite = slim.conv2d(
            squeeze,
            num_outputs=output_channels,
            kernel_size=[1, 1],
            normalizer_fn=None,
            activation_fn=gating_fn,
        )
        if pool is not None:
            # Bilinear with aligned corners: the resize that has TPU gradients.
            excite = tf.compat.v1.image.resize_bilinear(
                excite, input_size, align_corners=True
            )
        return input_tensor * excite


@slim.add_arg_scope
def split_separable_conv2d(
    input_tensor,
    num_outputs,
    scope=None,
    normalizer_fn=None,
    stride=1,
    rate=1,
    endpoints=None,
    use_explicit_padding=False,
):
    """A MobileNet-v1 separable convolution: a 3x3 depthwise convolution with
    its normalizer and activation, then a 1x1 convolution with theirs.

    Args:
      input_tensor: [batch, height, width, channels].
      num_outputs: the depth of the 1x1 convolution.
      scope: if given, the layers are `<scope>_depthwise` and
        `<scope>_pointwise` (v1's checkpoint names); otherwise `depthwise` and
        `pointwise` under a unique `separable[_n]` scope.
      normalizer_fn: the normalizer of both convolutions.
      stride: the depthwise stride.
      rate: the depthwise dilation rate.
      endpoints: an optional dict that receives both outputs by scope.
      use_explicit_padding: pad explicitly and convolve with 'VALID'.

    Returns:
      The output tensor.
    """
    with _v1_compatible_scope_naming(scope) as prefix:
        depthwise_scope = prefix + 'depthwise'
        endpoints = endpoints if endpoints is not None else {}
        kernel_size = [3, 3]
        padding = 'SAME'
        if use_explicit_padding:
            padding = 'VALID'
            input_tensor = fixed_padding(input_tensor, kernel_size, rate)
        net = slim.separable_conv2d(
            input_tensor,
            None,
            kernel_size,
            depth_multiplier=1,
            stride=stride,
            rate=rate,
            normalizer_fn=normalizer_fn,
            padding=padding,
            scope=depthwise_scope,
        )
        endpoints[depthwise_scope] = net
        pointwise_scope = prefix + 'pointwise'
        net = slim.conv2d(
            net,
            num_outputs,
            [1, 1],
            stride=1,
            normalizer_fn=normalizer_fn,
            scope=pointwise_scope,
        )
        endpoints[pointwise_scope] = net
    return net


def fixed_padding(inputs, kernel_size, rate=1):
    """Pads height and width so that a 'VALID' convolution of `kernel_size`
    (dilated by `rate`) gives the size a 'SAME' one would, whatever the input
    size."""
    effective = [
        kernel_size[0] + (kernel_size[0] - 1) * (rate - 1),
        kernel_size[0] + (kernel_size[0] - 1) * (rate - 1),
    ]
    pad_total = [effective[0] - 1, effective[1] - 1]
    pad_begin = [pad_total[0] // 2, pad_total[1] // 2]
    pad_end = [pad_total[0] - pad_begin[0], pad_total[1] - pad_begin[1]]
    return tf.pad(
        inputs,
        [
            [0, 0],
            [pad_begin[0], pad_end[0]],
            [pad_begin[1], pad_end[1]],
            [0, 0],
        ],
    )


def _make_divisible(v, divisor, min_value=None):
    """`v` rounded to the nearest multiple of `divisor` (at least `min_value`,
    `divisor` by default), never more than 10% below `v`."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return int(new_v)


def _split_divisible(num, num_ways, divisible_by=8):
    """`num` split `num_ways` as evenly as possible in multiples of
    `divisible_by`."""
    if num % divisible_by or num / num_ways < divisible_by:
        raise ValueError(
            'split_conv: cannot split %d channels %d ways in multiples of %d'
            % (num, num_ways, divisible_by)
        )
    base = num // num_ways // divisible_by * divisible_by
    result = []
    accumulated = 0
    for i in range(num_ways):
        r = base
        # Rounding down, then catching up with the exact share of the total.
        while accumulated + r < num * (i + 1) / num_ways:
            r += divisible_by
        result.append(r)
        accumulated += r
    return result


@contextlib.contextmanager
def _v1_compatible_scope_naming(scope):
    if scope is None:
        with slim.variable_scope(None, default_name='separable'):
            yield ''
    else:
        # `<scope>_depthwise`, `<scope>_pointwise`: v1's numbered checkpoint
        # scopes.
        yield scope + '_'
