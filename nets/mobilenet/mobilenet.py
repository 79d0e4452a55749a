"""The generic MobileNet builder: a conv def (data) in, layers out.

A conv def is a dict:

    dict(defaults={(slim.conv2d, ...): {'activation_fn': tf.nn.relu6}, ...},
         overrides={...},                       # optional, applied last
         spec=[op(slim.conv2d, stride=2, num_outputs=32, kernel_size=[3, 3]),
               op(conv_blocks.expanded_conv, num_outputs=16), ...])

`mobilenet_base` builds the spec's layers in order, under the defaults as
arg scopes, scaling every `num_outputs` by the depth multiplier, replacing
strides by dilation past `output_stride`; `mobilenet` adds the global pool
and the 1x1 logits convolution (`Logits/Conv2d_1c_1x1`, research/slim's
legacy name).

End points are research/slim's: `layer_1` ... `layer_n` (each spec op's
output), then `layer_<i>/<name>` for every named output a layer's block
collected (`layer_5/expansion_output`, `layer_5/depthwise_output`,
`layer_5/output`), then `global_pool`, `Logits` and `Predictions`.
"""

import collections
import contextlib
import copy

import tensorflow as tf

import slim
from nets.mobilenet import conv_blocks


@slim.add_arg_scope
def apply_activation(x, name=None, activation_fn=None):
    """`activation_fn(x, name=name)`, or `x` without an activation."""
    return activation_fn(x, name=name) if activation_fn else x


@slim.add_arg_scope
def depth_multiplier(
    output_params, multiplier, divisible_by=8, min_depth=8, **unused_kwargs
):
    """Scales `output_params['num_outputs']` (if any) in place by
    `multiplier`, rounded to a multiple of `divisible_by`, at least
    `min_depth`. The default `multiplier_func` of `op`; `divisible_by` and
    `min_depth` may come from an arg scope."""
    if 'num_outputs' not in output_params:
        return
    output_params['num_outputs'] = conv_blocks._make_divisible(
        output_params['num_outputs'] * multiplier, divisible_by, min_depth
    )


_Op = collections.namedtuple('Op', ['op', 'params', 'multiplier_func'])


def op(opfunc, multiplier_func=depth_multiplier, **params):
    """One layer of a conv def: `opfunc(net, **params)`, its `num_outputs`
    scaled by `multiplier_func(params, multiplier)` first.

    `multiplier_transform=` is accepted for `multiplier_func`, as research/slim
    accepts it."""
    multiplier = params.pop('multiplier_transform', multiplier_func)
    return _Op(opfunc, params=params, multiplier_func=multiplier)


def safe_arg_scope(funcs, **kwargs):
    """`slim.arg_scope(funcs, **kwargs)` without the None arguments (None
    meaning "keep what the outer scopes say"); a scope that sets nothing if
    all are None."""
    given = {name: value for name, value in kwargs.items() if value is not None}
    if given:
        return slim.arg_scope(funcs, **given)
    return contextlib.nullcontext()


@slim.add_arg_scope
def mobilenet_base(
    inputs,
    conv_defs,
    multiplier=1.0,
    final_endpoint=None,
    output_stride=None,
    use_explicit_padding=False,
    scope=None,
    is_training=False,
):
    """Builds the layers of `conv_defs` from `inputs` up to `final_endpoint`.

    Inference mode by default; `training_scope()` sets up training.

    Args:
      inputs: [batch, height, width, channels].
      conv_defs: the conv def (see the module's docstring).
      multiplier: the depth multiplier of every layer's `num_outputs`, > 0.
      final_endpoint: the last layer to build, 'layer_<i>'; all by default.
      output_stride: the largest ratio of input to output size; past it,
        strides become dilation rates (atrous convolution). None, 1 or an
        even number.
      use_explicit_padding: pad inputs explicitly and convolve with 'VALID',
        giving 'SAME' output sizes.
      scope: the variable scope (a name or a scope), 'Mobilenet' by default.
      is_training: batch norm's mode; None leaves it to the arg scope.

    Returns:
      (the last layer's output, end points: `layer_<i>` and
      `layer_<i>/<named output>`).

    Raises:
      ValueError: if `multiplier` is not positive, `output_stride` is not None,
        1 or even, or `final_endpoint` is not a layer of the spec.
    """
    if multiplier <= 0:
        raise ValueError(
            'mobilenet_base: multiplier must be greater than 0, '
            'got %r' % (multiplier,)
        )
    spec = conv_defs['spec']
    layer_names = ['layer_%d' % (i + 1) for i in range(len(spec))]
    if final_endpoint is not None and final_endpoint not in layer_names:
        raise ValueError(
            "mobilenet_base: final_endpoint must be None or one of 'layer_1' ... "
            "'%s', got %r" % (layer_names[-1], final_endpoint)
        )
    if output_stride is not None and (
        output_stride == 0 or (output_stride > 1 and output_stride % 2)
    ):
        raise ValueError(
            'mobilenet_base: output_stride must be None, 1 or a '
            'multiple of 2, got %r' % (output_stride,)
        )

    inputs = tf.convert_to_tensor(inputs)
    defaults = conv_defs.get('defaults', {})
    overrides = conv_defs.get('overrides', {})
    if use_explicit_padding:
        overrides = copy.deepcopy(overrides)
        overrides[(slim.conv2d, slim.separable_conv2d)] = {'padding': 'VALID'}

    with (
        slim.variable_scope(scope, default_name='Mobilenet') as sc,
        safe_arg_scope([slim.batch_norm], is_training=is_training),
        _arg_scopes(defaults),
        _arg_scopes(overrides),
    ):
        # The blocks give their named outputs to this collection; it is read
        # and emptied after every layer, so each layer gets its own.
        collection = sc.name + '/_mobilenet_named_outputs'
        current_stride = 1
        rate = 1
        net = inputs
        end_points = {}
        named_outputs = []
        for i, opdef in enumerate(spec):
            params = dict(opdef.params)
            opdef.multiplier_func(params, multiplier)
            stride = params.get('stride', 1)
            if output_stride is not None and current_stride == output_stride:
                # At the target stride: this layer and the later ones keep the
                # resolution and dilate instead.
                layer_stride = 1
                layer_rate = rate
                rate *= stride
            else:
                layer_stride = stride
                layer_rate = 1
                current_stride *= stride
            params['stride'] = layer_stride
            # No dilation for 1x1 kernels; a missing kernel_size means 3x3.
            if layer_rate > 1 and tuple(params.get('kernel_size', [])) != (
                1,
                1,
            ):
                params['rate'] = layer_rate
            if use_explicit_padding:
                if 'kernel_size' in params:
                    net = conv_blocks.fixed_padding(
                        net, params['kernel_size'], layer_rate
                    )
                else:
                    params['use_explicit_padding'] = True

            end_point = layer_names[i]
            with slim.arg_scope(
                [conv_blocks.expanded_conv], outputs_collections=collection
            ):
                net = opdef.op(net, **params)
            end_points[end_point] = net
            for alias, tensor in slim.utils.convert_collection_to_dict(
                collection, clear_collection=True
            ).items():
                name = alias.rsplit('/', 1)[-1]
                if name.endswith('output'):
                    named_outputs.append((end_point + '/' + name, tensor))
            if end_point == final_endpoint:
                break
        end_points.update(named_outputs)
        return net, end_points


@slim.add_arg_scope
def mobilenet(
    inputs,
    num_classes=1001,
    prediction_fn=slim.softmax,
    reuse=None,
    scope='Mobilenet',
    base_only=False,
    use_reduce_mean_for_pooling=False,
    **mobilenet_args,
):
    """A MobileNet classifier: `mobilenet_base`, global pool, 1x1 logits.

    Inference mode by default; `training_scope()` sets up training.

    Args:
      inputs: [batch, height, width, channels].
      num_classes: the number of classes; 0 or None returns the pooled
        features (before dropout) instead of logits.
      prediction_fn: turns the logits into 'Predictions' (None: no
        predictions).
      reuse: whether to reuse the variables of `scope`.
      scope: the variable scope.
      base_only: stop after the base (no pool, no logits).
      use_reduce_mean_for_pooling: pool with `reduce_mean` instead of an
        average pool.
      **mobilenet_args: passed to `mobilenet_base`: `conv_defs`,
        `multiplier`, `final_endpoint`, `output_stride`,
        `use_explicit_padding`, `is_training`.

    Returns:
      (logits [batch, num_classes] or the features [batch, 1, 1, depth],
      end points).

    Raises:
      ValueError: if `inputs` is not of rank 4 or is empty (height or width
        0), and as `mobilenet_base`.
    """
    is_training = mobilenet_args.get('is_training', False)
    inputs = tf.convert_to_tensor(inputs)
    if inputs.shape.rank != 4:
        raise ValueError(
            'mobilenet: inputs must have rank 4 [batch, height, '
            'width, channels], got shape %s' % (inputs.shape,)
        )
    # An empty image would flow through the 'SAME' convolutions unnoticed.
    if any(
        size is not None and size < 1 for size in inputs.shape.as_list()[1:3]
    ):
        raise ValueError(
            'mobilenet: inputs must be at least 1 x 1, got shape %s'
            % (inputs.shape,)
        )
    with slim.variable_scope(scope, 'Mobilenet', reuse=reuse) as sc:
        inputs = tf.identity(inputs, 'input')
        net, end_points = mobilenet_base(inputs, scope=sc, **mobilenet_args)
        if base_only:
            return net, end_points
        net = tf.identity(net, name='embedding')
        with slim.variable_scope('Logits'):
            net = global_pool(net, use_reduce_mean_for_pooling)
            end_points['global_pool'] = net
            if not num_classes:
                return net, end_points
            net = slim.dropout(net, scope='Dropout', is_training=is_training)
            # 1 x 1 x num_classes; 'Conv2d_1c_1x1' is the checkpoints' name.
            logits = slim.conv2d(
                net,
                num_classes,
                [1, 1],
                activation_fn=None,
                normalizer_fn=None,
                biases_initializer=tf.zeros_initializer(),
                scope='Conv2d_1c_1x1',
            )
            logits = tf.squeeze(logits, [1, 2])
            logits = tf.identity(logits, name='output')
        end_points['Logits'] = logits
        if prediction_fn:
            end_points['Predictions'] = prediction_fn(logits, 'Predictions')
    return logits, end_points


def global_pool(
    input_tensor, use_reduce_mean_for_pooling=False, pool_op=tf.nn.avg_pool2d
):
    """Averages each channel over height and width: [batch, 1, 1, depth].

    An average pool over the whole map (better supported on accelerators than
    a mean), or `reduce_mean` if asked or if the map's size is not known when
    the net is built (a pool's kernel must be).
    """
    height, width = input_tensor.shape.as_list()[1:3]
    if use_reduce_mean_for_pooling or height is None or width is None:
        return tf.reduce_mean(
            input_tensor, [1, 2], keepdims=True, name='ReduceMean'
        )
    return pool_op(
        input_tensor,
        ksize=[1, height, width, 1],
        strides=[1, 1, 1, 1],
        padding='VALID',
    )


def training_scope(
    is_training=True,
    weight_decay=0.00004,
    stddev=0.09,
    dropout_keep_prob=0.8,
    bn_decay=0.997,
):
    """The arg scope MobileNets are trained under.

    Args:
      is_training: the mode of batch norm and dropout (and of `mobilenet` and
        `mobilenet_base`); None leaves it to the call.
      weight_decay: the L2 penalty on convolution weights (not the depthwise
        ones).
      stddev: the truncated-normal initializer's deviation; below 0, Xavier.
      dropout_keep_prob: dropout's keep probability; None leaves it alone.
      bn_decay: batch norm's moving-average decay; None leaves it alone.

    Returns:
      The arg scope, a dict to enter with `slim.arg_scope`.
    """
    # Only what does not change the inference graph belongs here; the rest
    # (batch norm's scale, the activations) is in the conv defs.
    if stddev < 0:
        weights_initializer = slim.initializers.xavier_initializer()
    else:
        weights_initializer = slim.truncated_normal_initializer(stddev=stddev)
    with (
        slim.arg_scope(
            [slim.conv2d, slim.fully_connected, slim.separable_conv2d],
            weights_initializer=weights_initializer,
            normalizer_fn=slim.batch_norm,
        ),
        slim.arg_scope([mobilenet_base, mobilenet], is_training=is_training),
        safe_arg_scope(
            [slim.batch_norm], decay=bn_decay, is_training=is_training
        ),
        safe_arg_scope(
            [slim.dropout], is_training=is_training, keep_prob=dropout_keep_prob
        ),
        slim.arg_scope(
            [slim.conv2d], weights_regularizer=slim.l2_regularizer(weight_decay)
        ),
        slim.arg_scope([slim.separable_conv2d], weights_regularizer=None) as sc,
    ):
        return sc


@contextlib.contextmanager
def _arg_scopes(defaults):
    """Enters `slim.arg_scope(funcs, **kwargs)` for each item of `defaults`
    ({funcs: kwargs} or a list of pairs), in order."""
    items = list(defaults.items()) if hasattr(defaults, 'items') else defaults
    with contextlib.ExitStack() as stack:
        for funcs, kwargs in items:
            stack.enter_context(slim.arg_scope(funcs, **kwargs))
        yield
