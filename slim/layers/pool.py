"""Pooling: `max_pool2d` and `avg_pool2d`, TF-Slim's defaults (stride 2, VALID)."""
import tensorflow as tf

from slim import scopes
from slim.layers import _kernels
from slim.layers import _utils as u

__all__ = ['max_pool2d', 'avg_pool2d']


@scopes.add_arg_scope
def max_pool2d(inputs, kernel_size, stride=2, padding='VALID',
               data_format='NHWC', outputs_collections=None, scope=None):
    """2-D max pooling.

    Raises:
      ValueError: for a non-rank-4 input, a bad kernel size or stride, an
        unknown padding or data format.
    """
    return _pool(tf.nn.max_pool2d, 'MaxPool2D', inputs, kernel_size, stride,
                 padding, data_format, scope)


@scopes.add_arg_scope
def avg_pool2d(inputs, kernel_size, stride=2, padding='VALID',
               data_format='NHWC', outputs_collections=None, scope=None):
    """2-D average pooling (with 'SAME', padding is not counted).

    Raises:
      ValueError: as `max_pool2d`.
    """
    return _pool(tf.nn.avg_pool2d, 'AvgPool2D', inputs, kernel_size, stride,
                 padding, data_format, scope)


def _pool(op, default_name, inputs, kernel_size, stride, padding, data_format,
          scope):
    name = (u.layer_name('') + '/' if u.layer_name('') else '') + (
        scope or default_name)
    u.check_data_format(data_format, name)
    with tf.name_scope(scope or default_name):
        inputs = u.convert(inputs, name)
        u.check_rank(inputs, (4,), name,
                     'a rank-4 input [batch, height, width, channels]')
        kernel = u.tuple_of(kernel_size, 2, name, 'kernel_size')
        strides = u.tuple_of(stride, 2, name, 'stride')
        padding = u.check_padding(padding, name)
        return _kernels.apply(
            lambda x: op(x, ksize=kernel, strides=strides, padding=padding,
                         data_format=data_format), inputs)
