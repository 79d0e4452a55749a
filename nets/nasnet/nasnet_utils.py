"""What NASNet-A and PNASNet-5 share: their configuration, the cell, factorized
reduction and drop path.

A cell is data, a `CellSpec`: five combinations, each applying one operation
to a "left" and one to a "right" hidden state and adding the results. Hidden
states 0 and 1 are the cell's inputs (the previous cell's output after a 1x1
convolution, and the one before it, matched to that); each combination
appends a new state. The states no combination used are concatenated into the
cell's output. `build_cell` runs any such spec; NASNet-A's normal and
reduction cells and PNASNet-5's cell are three specs of it.

Variable names are research/slim's (`cell_0/comb_iter_0/left/separable_5x5_1/
depthwise_weights`, `cell_0/beginning_bn/gamma`, ...), so its checkpoints load
by name.

One deliberate difference: research/slim decides whether a hidden state must
be reduced (strided) to match another by comparing their widths, so the net
needs known sizes, and below a certain input size (where a stride-2 layer no
longer halves a 1-pixel map) it silently builds other variables. Here each
state knows whether it has passed the cell's stride, which gives the same
layers at every size where research/slim's net is the published one, and the
same variables at any size, known or not.
"""

import collections
import dataclasses
import re

import tensorflow as tf

import slim

# research/slim clips the outputs of bounded cells to [-6, 6], the range of
# most activations, so that they quantize well.
CLIP_BY_VALUE_CAP = 6


@dataclasses.dataclass
class Config:
    """The hyper-parameters of a NASNet-A or PNASNet-5 net.

    research/slim kept them in contrib's `HParams`; this keeps its field names
    and its `set_hparam`, so code that tunes a config ports unchanged.

    Attributes:
      stem_multiplier: scales the 32 filters of the ImageNet stem's first
        convolution (the CIFAR stem's are `num_conv_filters * stem_multiplier`).
      drop_path_keep_prob: the keep probability of drop path for the last cell
        at the end of the schedule; 1.0 turns drop path off.
      num_cells: the number of normal cells (reduction cells included, for
        PNASNet, which has no separate ones).
      use_aux_head: 1 to build the auxiliary classifier when training.
      num_conv_filters: the filters of each operation in the first cells; they
        double (`filter_scaling_rate`) at each reduction.
      dense_dropout_keep_prob: the keep probability of the dropout before the
        logits.
      filter_scaling_rate: the filter multiplier at each reduction.
      num_reduction_layers: the number of reductions within the cells.
      data_format: 'NHWC' (the only format built here).
      skip_reduction_layer_input: 1 to feed the cell after a reduction the
        output from before the reduction as its second input.
      total_training_steps: the steps over which drop path ramps up.
      use_bounded_activation: ReLU6 and clipping instead of ReLU, for
        quantization.
    """

    stem_multiplier: float = 3.0
    drop_path_keep_prob: float = 1.0
    num_cells: int = 18
    use_aux_head: int = 1
    num_conv_filters: int = 32
    dense_dropout_keep_prob: float = 1.0
    filter_scaling_rate: float = 2.0
    num_reduction_layers: int = 2
    data_format: str = 'NHWC'
    skip_reduction_layer_input: int = 0
    total_training_steps: int = 937500
    use_bounded_activation: bool = False

    def set_hparam(self, name, value):
        """Sets field `name` to `value`, as `HParams.set_hparam` did.

        Raises:
          ValueError: if `name` is not a field of the config.
        """
        if name not in self.values():
            raise ValueError(
                'set_hparam: name must be one of {}, got {!r}.'.format(
                    sorted(self.values()), name
                )
            )
        setattr(self, name, value)

    def values(self):
        """The fields as a dict, as `HParams.values()`."""
        return dataclasses.asdict(self)

    def replace(self, **changes):
        """A copy with `changes` applied."""
        return dataclasses.replace(self, **changes)


def check_config(config, default):
    """Returns a copy of `config` (or of `default()` if None), validated.

    Raises:
      TypeError: if `config` is not a `Config`.
      ValueError: if a field is out of range.
    """
    if config is None:
        return default()
    if not isinstance(config, Config):
        raise TypeError(
            'config must be a nasnet_utils.Config (or None for the '
            'net\'s default), got {!r}.'.format(config)
        )
    config = config.replace()
    if config.data_format != 'NHWC':
        raise ValueError(
            "config.data_format must be 'NHWC', got {!r}.".format(
                config.data_format
            )
        )
    for name in ('num_cells', 'num_conv_filters', 'total_training_steps'):
        value = getattr(config, name)
        if not isinstance(value, int) or value < 1:
            raise ValueError(
                'config.{} must be a positive int, got {!r}.'.format(
                    name, value
                )
            )
    for name in ('drop_path_keep_prob', 'dense_dropout_keep_prob'):
        value = getattr(config, name)
        if not 0 < value <= 1:
            raise ValueError(
                'config.{} must be in (0, 1], got {!r}.'.format(name, value)
            )
    return config


CellSpec = collections.namedtuple(
    'CellSpec', ['operations', 'hiddenstate_indices', 'used_hiddenstates']
)
CellSpec.__doc__ = """A cell as data.

  operations: ten operation names, a (left, right) pair per combination:
    'separable_KxK_N' (N stacked ReLU-separable-conv-batch-norm layers),
    'avg_pool_KxK', 'max_pool_KxK' or 'none' (the identity).
  hiddenstate_indices: ten hidden-state indices, the inputs of those
    operations.
  used_hiddenstates: seven flags, 1 for a state left out of the output
    concatenation.
"""

# research/slim's NasNetANormalCell and NasNetAReductionCell.
NASNET_A_NORMAL = CellSpec(
    operations=(
        'separable_5x5_2',
        'separable_3x3_2',
        'separable_5x5_2',
        'separable_3x3_2',
        'avg_pool_3x3',
        'none',
        'avg_pool_3x3',
        'avg_pool_3x3',
        'separable_3x3_2',
        'none',
    ),
    hiddenstate_indices=(0, 1, 1, 1, 0, 1, 1, 1, 0, 0),
    used_hiddenstates=(1, 0, 0, 0, 0, 0, 0),
)
NASNET_A_REDUCTION = CellSpec(
    operations=(
        'separable_5x5_2',
        'separable_7x7_2',
        'max_pool_3x3',
        'separable_7x7_2',
        'avg_pool_3x3',
        'separable_5x5_2',
        'none',
        'avg_pool_3x3',
        'separable_3x3_2',
        'max_pool_3x3',
    ),
    hiddenstate_indices=(0, 1, 0, 1, 0, 1, 3, 2, 2, 0),
    used_hiddenstates=(1, 1, 1, 0, 0, 0, 0),
)

DropPath = collections.namedtuple(
    'DropPath', ['keep_prob', 'total_num_cells', 'total_training_steps']
)
DropPath.__doc__ = """Drop path's schedule: the configured keep probability,
the cell count it is spread over and the steps it ramps up over."""


def calc_reduction_layers(num_cells, num_reduction_layers):
    """The cell indices before which reductions go: evenly spaced, as
    research/slim places them (18 cells, 2 reductions: [6, 12])."""
    return [
        int(float(k) / (num_reduction_layers + 1) * num_cells)
        for k in range(1, num_reduction_layers + 1)
    ]


def global_avg_pool(net):
    """Averages away height and width: [batch, channels]."""
    return tf.reduce_mean(net, [1, 2])


def factorized_reduction(net, output_filters, stride):
    """Matches `net` to `output_filters` channels and, with stride 2, halves
    it without dropping pixels: two 1x1 convolutions on the even and on the
    odd pixels, concatenated (the second path takes the odd filter)."""
    if stride == 1:
        net = slim.conv2d(net, output_filters, 1, scope='path_conv')
        return slim.batch_norm(net, scope='path_bn')
    strides = [1, stride, stride, 1]
    path1 = tf.nn.avg_pool2d(net, 1, strides, 'VALID')
    path1 = slim.conv2d(path1, output_filters // 2, 1, scope='path1_conv')
    # Shifted by one pixel: pad bottom and right, drop the top row and left
    # column.
    path2 = tf.pad(net, [[0, 0], [0, 1], [0, 1], [0, 0]])[:, 1:, 1:, :]
    path2 = tf.nn.avg_pool2d(path2, 1, strides, 'VALID')
    path2 = slim.conv2d(
        path2, output_filters // 2 + output_filters % 2, 1, scope='path2_conv'
    )
    net = tf.concat([path1, path2], 3)
    return slim.batch_norm(net, scope='final_path_bn')


def drop_path_keep_prob(schedule, cell_num, current_step=None):
    """The keep probability of drop path in cell `cell_num` at `current_step`.

    research/slim's 'v3' schedule: the configured drop rate grows linearly with
    the cell's depth, `(cell_num + 1) / total_num_cells`, and with training,
    `min(1, current_step / total_training_steps)`. With `current_step` None the
    ramp is taken as finished (research/slim read the global step there, which
    TF2 has not).

    Returns:
      A float, or a float32 scalar tensor when `current_step` is a tensor or
      variable.
    """
    layer_ratio = (cell_num + 1) / float(schedule.total_num_cells)
    keep_prob = 1 - layer_ratio * (1 - schedule.keep_prob)
    if current_step is None:
        return keep_prob
    step = tf.cast(current_step, tf.float32)
    ratio = tf.minimum(1.0, step / float(schedule.total_training_steps))
    return 1 - ratio * (1 - keep_prob)


def drop_path(net, keep_prob, is_training=True):
    """Zeroes whole examples of `net` with probability 1 - `keep_prob` and
    scales the rest by 1 / `keep_prob` when training; the identity otherwise."""
    if not is_training:
        return net
    noise_shape = [tf.shape(net)[0], 1, 1, 1]
    keep_prob = tf.cast(keep_prob, net.dtype)
    mask = tf.floor(keep_prob + tf.random.uniform(noise_shape, dtype=net.dtype))
    return net / keep_prob * mask


def build_cell(
    net,
    prev_layer,
    spec,
    filter_size,
    scope,
    stride=1,
    prev_layer_is_larger=False,
    cell_num=-1,
    is_training=False,
    drop_path_schedule=None,
    current_step=None,
    use_bounded_activation=False,
):
    """Runs the cell `spec` on `net` and `prev_layer` (or `net` if None).

    Args:
      net: the previous cell's output, [batch, height, width, channels].
      prev_layer: the output before that, or None.
      spec: a `CellSpec`.
      filter_size: the filters of each operation.
      scope: the cell's variable scope, e.g. 'cell_3'.
      stride: 2 for a reduction cell: the operations on the inputs stride.
      prev_layer_is_larger: whether `prev_layer` comes from before a
        reduction, so it is halved to match `net`.
      cell_num: the cell's position, for drop path's depth ratio.
      is_training: drop path only applies when training.
      drop_path_schedule: a `DropPath`, or None for no drop path.
      current_step: the training step, for drop path's ramp.
      use_bounded_activation: ReLU6 and clipping instead of ReLU.

    Returns:
      The concatenation of the unused hidden states.
    """
    act = tf.nn.relu6 if use_bounded_activation else tf.nn.relu
    ctx = _CellContext(
        filter_size,
        cell_num,
        is_training,
        drop_path_schedule,
        current_step,
        use_bounded_activation,
        act,
    )
    with slim.variable_scope(scope):
        if prev_layer is None:
            prev_layer = net
        elif prev_layer_is_larger:
            prev_layer = factorized_reduction(act(prev_layer), filter_size, 2)
        elif _channels(prev_layer) != filter_size:
            prev_layer = slim.conv2d(
                act(prev_layer), filter_size, 1, scope='prev_1x1'
            )
            prev_layer = slim.batch_norm(prev_layer, scope='prev_bn')
        net = slim.conv2d(act(net), filter_size, 1, scope='1x1')
        net = slim.batch_norm(net, scope='beginning_bn')
        # Each state with whether it has passed the cell's stride.
        states = [(net, False), (prev_layer, False)]
        for i in range(5):
            with slim.variable_scope('comb_iter_{}'.format(i)):
                combined = []
                for side, j in (('left', 2 * i), ('right', 2 * i + 1)):
                    index = spec.hiddenstate_indices[j]
                    state, strided = states[index]
                    op_stride = stride if index < 2 else 1
                    with slim.variable_scope(side):
                        combined.append(
                            _apply_operation(
                                ctx, state, spec.operations[j], op_stride
                            )
                        )
                    strided = strided or op_stride > 1
                h = combined[0] + combined[1]
                if use_bounded_activation:
                    h = tf.nn.relu6(h)
                states.append((h, strided))
        with slim.variable_scope('cell_output'):
            return _combine_unused_states(states, spec.used_hiddenstates)


_CellContext = collections.namedtuple(
    '_CellContext',
    [
        'filter_size',
        'cell_num',
        'is_training',
        'schedule',
        'current_step',
        'bounded',
        'act',
    ],
)


def _channels(net):
    return int(net.shape[-1])


def _apply_operation(ctx, net, operation, stride):
    input_filters = _channels(net)
    if operation.startswith('separable'):
        net = _stacked_separable_conv(
            net, operation, ctx.filter_size, stride, ctx.act
        )
        if ctx.bounded:
            net = tf.clip_by_value(net, -CLIP_BY_VALUE_CAP, CLIP_BY_VALUE_CAP)
    elif operation == 'none':
        if ctx.bounded:
            net = tf.nn.relu6(net)
        if stride > 1 or input_filters != ctx.filter_size:
            if not ctx.bounded:
                net = tf.nn.relu(net)
            net = slim.conv2d(
                net, ctx.filter_size, 1, stride=stride, scope='1x1'
            )
            net = slim.batch_norm(net, scope='bn_1')
            if ctx.bounded:
                net = tf.clip_by_value(
                    net, -CLIP_BY_VALUE_CAP, CLIP_BY_VALUE_CAP
                )
    elif operation.startswith(('avg_pool', 'max_pool')):
        size = _kernel_size(operation)
        if ctx.bounded:
            net = tf.nn.relu6(net)
        pool = (
            slim.avg_pool2d if operation.startswith('avg') else slim.max_pool2d
        )
        net = pool(net, size, stride=stride, padding='SAME')
        if input_filters != ctx.filter_size:
            net = slim.conv2d(net, ctx.filter_size, 1, scope='1x1')
            net = slim.batch_norm(net, scope='bn_1')
        if ctx.bounded:
            net = tf.clip_by_value(net, -CLIP_BY_VALUE_CAP, CLIP_BY_VALUE_CAP)
    else:
        raise ValueError(
            'operation must be separable_KxK_N, avg_pool_KxK, '
            'max_pool_KxK or none, got {!r}.'.format(operation)
        )
    if (
        operation != 'none'
        and ctx.is_training
        and ctx.schedule is not None
        and ctx.schedule.keep_prob < 1
    ):
        keep_prob = drop_path_keep_prob(
            ctx.schedule, ctx.cell_num, ctx.current_step
        )
        net = drop_path(net, keep_prob, is_training=True)
    return net


def _kernel_size(operation):
    """'separable_5x5_2' -> 5, 'avg_pool_3x3' -> 3."""
    shape = [
        part for part in operation.split('_') if re.fullmatch(r'\d+x\d+', part)
    ][0]
    height, width = shape.split('x')
    if height != width:
        raise ValueError(
            'operation {!r}: only square kernels are supported.'.format(
                operation
            )
        )
    return int(height)


def _stacked_separable_conv(net, operation, filter_size, stride, act):
    """'separable_KxK_N': N x (activation, separable conv, batch norm); only
    the first layer strides."""
    kernel = _kernel_size(operation)
    last = operation.split('_')[-1]
    num_layers = int(last) if last.isdigit() else 1
    for layer in range(1, num_layers + 1):
        net = slim.separable_conv2d(
            act(net),
            filter_size,
            kernel,
            depth_multiplier=1,
            stride=stride,
            scope='separable_{0}x{0}_{1}'.format(kernel, layer),
        )
        net = slim.batch_norm(
            net, scope='bn_sep_{0}x{0}_{1}'.format(kernel, layer)
        )
        stride = 1
    return net


def _combine_unused_states(states, used_hiddenstates):
    """Concatenates the unused states, first matching each to the last
    state's resolution and channels."""
    final, final_strided = states[-1]
    final_filters = _channels(final)
    outputs = []
    for index, ((state, strided), used) in enumerate(
        zip(states, used_hiddenstates)
    ):
        if used:
            continue
        if strided != final_strided or _channels(state) != final_filters:
            with slim.variable_scope('reduction_{}'.format(index)):
                state = factorized_reduction(
                    state, final_filters, 2 if strided != final_strided else 1
                )
        outputs.append(state)
    return tf.concat(outputs, 3)
