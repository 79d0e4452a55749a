"""What a net costs: parameters and multiply-adds, in total and per end point.

TF-Slim's `model_analyzer` printed the sizes of variables. `summarize` also
counts multiply-adds, the measure research/slim publishes for its nets, and
splits both over the net's end points:

    model = nets_factory.get_network_fn('mobilenet_v2', num_classes=1001)
    summary = slim.model_analyzer.summarize(model, [1, 224, 224, 3])
    print(summary.format())
    summary.parameters, summary.multiply_adds     # 3.5 M, 300 M

The net is built once in a graph, without running anything. Multiply-adds
count convolutions (regular, depthwise, atrous, 3-D) and matrix products
(fully connected layers, 1 x 1 convolutions run as products); element-wise
work (biases, batch norm, activations, pooling) is left out, as in the
published figures.
"""

import collections

import numpy as np
import tensorflow as tf

from slim.model import Model

__all__ = [
    'analyze_vars',
    'multiply_adds',
    'summarize',
    'EndPointCost',
    'ModelSummary',
]

OTHER = '(other)'


def analyze_vars(variables, print_info=False):
    """TF-Slim's `analyze_vars`: the total size and bytes of `variables`.

    Args:
        variables: a list of variables.
        print_info: print one line per variable, as TF-Slim did.

    Returns:
        (total number of values, total bytes).
    """
    total_size = total_bytes = 0
    if print_info:
        print('---------')
        print('Variables: name (type shape) [size]')
        print('---------')
    for var in variables:
        size = int(np.prod(var.shape.as_list())) if var.shape.rank else 1
        nbytes = size * var.dtype.size
        total_size += size
        total_bytes += nbytes
        if print_info:
            print(
                '%s (%s %s) [%d, bytes: %d]'
                % (var.name, var.dtype.name, var.shape.as_list(), size, nbytes)
            )
    if print_info:
        print('Total size of variables: %d' % total_size)
        print('Total bytes of variables: %d' % total_bytes)
    return total_size, total_bytes


def _elements(shape):
    dims = shape.as_list() if shape.rank is not None else None
    if dims is None or None in dims:
        return None
    return int(np.prod(dims))


def multiply_adds(op):
    """The multiply-adds of one graph operation, 0 if it does none.

    Returns None for a convolution or product whose shapes are not all known.
    """
    kind = op.type
    if kind in (
        'Conv2D',
        'Conv3D',
        'DepthwiseConv2dNative',
        'MatMul',
        'BatchMatMul',
        'BatchMatMulV2',
        'BatchMatMulV3',
    ):
        outputs = _elements(op.outputs[0].shape)
        if outputs is None:
            return None
        if kind in ('Conv2D', 'Conv3D'):
            # Each output value sums kernel size x input channels products
            # (the filter's own input depth, so grouped convolutions count
            # right); dilation does not change the count.
            per_output = op.inputs[1].shape.as_list()[:-1]
        elif kind == 'DepthwiseConv2dNative':
            per_output = op.inputs[1].shape.as_list()[:2]
        else:
            a_shape = op.inputs[0].shape.as_list()
            transposed = (
                op.get_attr('transpose_a')
                if kind == 'MatMul'
                else op.get_attr('adj_x')
            )
            per_output = [a_shape[-2] if transposed else a_shape[-1]]
        if None in per_output:
            return None
        return outputs * int(np.prod(per_output))
    return 0


EndPointCost = collections.namedtuple(
    'EndPointCost', ['name', 'shape', 'parameters', 'multiply_adds']
)
EndPointCost.__doc__ = """One row of a summary: an end point and what its
layers add (those not already counted under an earlier end point).

  name: the end point's key, or '(other)' for work no end point uses.
  shape: its output shape (batch included), or None.
  parameters: the values of the trainable variables first used there.
  multiply_adds: per example.
"""


class ModelSummary(
    collections.namedtuple(
        'ModelSummary',
        [
            'rows',
            'parameters',
            'multiply_adds',
            'non_trainable',
            'input_shape',
            'variable_shapes',
        ],
    )
):
    """The summary of a net: `rows` (EndPointCost per end point, in the
    net's order), total trainable `parameters`, total `multiply_adds` per
    example, the `non_trainable` values (batch-norm statistics, ...), the
    `input_shape` it was built at and `variable_shapes`, {variable name:
    shape} in creation order (the names a checkpoint of it holds)."""

    __slots__ = ()

    def format(self, title=None):
        """The summary as a text table."""
        lines = []
        if title:
            lines.append(title)
        width = max([len(r.name) for r in self.rows] + [9])
        header = '%-*s  %-20s %14s %16s' % (
            width,
            'end point',
            'output',
            'parameters',
            'multiply-adds',
        )
        lines += [header, '-' * len(header)]
        for row in self.rows:
            shape = 'x'.join(str(d) for d in row.shape) if row.shape else ''
            macs = (
                '?'
                if row.multiply_adds is None
                else '{:,}'.format(row.multiply_adds)
            )
            lines.append(
                '%-*s  %-20s %14s %16s'
                % (width, row.name, shape, '{:,}'.format(row.parameters), macs)
            )
        lines.append('-' * len(header))
        total_macs = (
            '?'
            if self.multiply_adds is None
            else '{:,}'.format(self.multiply_adds)
        )
        lines.append(
            '%-*s  %-20s %14s %16s'
            % (
                width,
                'total',
                'x'.join(str(d) for d in self.input_shape),
                '{:,}'.format(self.parameters),
                total_macs,
            )
        )
        lines.append(
            '(%s trainable parameters, %s multiply-adds per example;'
            ' %s non-trainable values)'
            % (
                human(self.parameters),
                human(self.multiply_adds),
                human(self.non_trainable),
            )
        )
        return '\n'.join(lines)


def human(count):
    """1234567 -> '1.23 M'; None -> '?'."""
    if count is None:
        return '?'
    for scale, suffix in ((1e9, ' B'), (1e6, ' M'), (1e3, ' k')):
        if count >= scale:
            return '%.3g%s' % (count / scale, suffix)
    return str(count)


def _claim(end_points, graph):
    """{op name: end point}: each op goes to the first end point (in the
    net's order) that depends on it."""
    owner = {}
    for key, tensor in end_points.items():
        if not isinstance(tensor, tf.Tensor) or tensor.graph is not graph:
            continue
        stack = [tensor.op]
        while stack:
            op = stack.pop()
            if op.name in owner:
                continue
            owner[op.name] = key
            stack.extend(t.op for t in op.inputs)
            stack.extend(op.control_inputs)
    return owner


def summarize(model, input_shape, **call_kwargs):
    """Builds `model` on an input of `input_shape` in a new graph and counts.

    Args:
        model: a `slim.Model` (what `nets_factory.get_network_fn` returns)
            or a net function `fn(inputs, **kw) -> (logits, end_points)`,
            which is wrapped in one. A model that already holds variables
            is not changed: it is rebuilt from its function.
        input_shape: the input's full shape, e.g. [1, 224, 224, 3]; the
            multiply-adds are per example whatever the batch size.
        **call_kwargs: passed to the call, after the model's defaults.

    Returns:
        A `ModelSummary`.

    Raises:
        ValueError: if `input_shape` is not fully known.
    """
    dims = list(input_shape)
    if not dims or any(d is None or int(d) <= 0 for d in dims):
        raise ValueError(
            'input_shape must be fully known and positive, got '
            '%r.' % (input_shape,)
        )
    if isinstance(model, Model):
        fn, defaults = model.fn, dict(model.default_kwargs)
    else:
        fn, defaults = model, {}
    defaults.update(call_kwargs)
    graph = tf.Graph()
    with graph.as_default():
        built = Model(fn, **defaults)
        inputs = tf.compat.v1.placeholder(tf.float32, dims)
        outputs = built(inputs)
        end_points = (
            outputs[1]
            if isinstance(outputs, tuple)
            and len(outputs) == 2
            and isinstance(outputs[1], dict)
            else {'output': outputs}
        )
        owner = _claim(end_points, graph)
        macs = collections.OrderedDict((k, 0) for k in end_points)
        macs[OTHER] = 0
        for op in graph.get_operations():
            if (
                op.outputs
                and not any(t.consumers() for t in op.outputs)
                and op.name not in owner
            ):
                continue  # nothing reads it: a function does not run it
            count = multiply_adds(op)
            key = owner.get(op.name, OTHER)
            if count is None or macs[key] is None:
                macs[key] = None
            else:
                macs[key] += count
        params = collections.OrderedDict((k, 0) for k in macs)
        for var in built.trainable_variables:
            key = owner.get(var.handle.op.name, OTHER)
            params[key] += _elements(var.shape) or 0
        rows = []
        for key in macs:
            if key == OTHER and not macs[key] and not params[key]:
                continue
            tensor = end_points.get(key)
            shape = (
                tensor.shape.as_list()
                if isinstance(tensor, tf.Tensor)
                and tensor.shape.rank is not None
                else None
            )
            per_example = (
                None if macs[key] is None else macs[key] // int(dims[0])
            )
            rows.append(EndPointCost(key, shape, params[key], per_example))
        total_params = sum(
            _elements(v.shape) or 0 for v in built.trainable_variables
        )
        non_trainable = sum(
            _elements(v.shape) or 0 for v in built.variables if not v.trainable
        )
        shapes = collections.OrderedDict(
            (v.op.name, v.shape.as_list()) for v in built.variables
        )
    total_macs = (
        None
        if any(r.multiply_adds is None for r in rows)
        else sum(r.multiply_adds for r in rows)
    )
    return ModelSummary(
        rows, total_params, total_macs, non_trainable, dims, shapes
    )
