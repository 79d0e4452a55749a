"""Pooling: `max_pool2d`, `avg_pool2d`, `max_pool3d`, `avg_pool3d`, with
TF-Slim's defaults (stride 2, 'VALID').

Pooling layers have no variables; as in TF-Slim they open a name scope (not a
variable scope), and their outputs are collected under its name
(`Net/pool1`, or `Net/MaxPool2D_1` for a second unnamed one).
"""

import tensorflow as tf

from slim import scopes
from slim import utils
from slim.layers import _kernels
from slim.layers import _utils as u

__all__ = ['max_pool2d', 'avg_pool2d', 'max_pool3d', 'avg_pool3d']

_DATA_FORMATS_3D = ('NDHWC', 'NCDHW')


@scopes.add_arg_scope
def max_pool2d(
    inputs,
    kernel_size,
    stride=2,
    padding='VALID',
    data_format='NHWC',
    outputs_collections=None,
    scope=None,
):
    """2-D max pooling.

    Args:
      inputs: `[batch, height, width, channels]` ('NHWC'), or
        `[batch, channels, height, width]` ('NCHW').
      kernel_size, stride: an int, or a list of 2.
      padding: 'VALID' or 'SAME'.
      data_format: 'NHWC' or 'NCHW' (TensorFlow's CPU kernels take NHWC only).
      outputs_collections: collection name(s) of the running model call to
        add the output to, aliased by the name scope (`slim.utils`).
      scope: the name scope; default `MaxPool2D`, made unique.

    Raises:
      ValueError: for a non-rank-4 input, a bad kernel size or stride, an
        unknown padding or data format.
    """
    return _pool(
        tf.nn.max_pool2d,
        'MaxPool2D',
        2,
        u.DATA_FORMATS_2D,
        inputs,
        kernel_size,
        stride,
        padding,
        data_format,
        outputs_collections,
        scope,
    )


@scopes.add_arg_scope
def avg_pool2d(
    inputs,
    kernel_size,
    stride=2,
    padding='VALID',
    data_format='NHWC',
    outputs_collections=None,
    scope=None,
):
    """2-D average pooling (with 'SAME', padding is not counted).

    Arguments as `max_pool2d`'s; the default scope is `AvgPool2D`.

    Raises:
      ValueError: as `max_pool2d`.
    """
    return _pool(
        tf.nn.avg_pool2d,
        'AvgPool2D',
        2,
        u.DATA_FORMATS_2D,
        inputs,
        kernel_size,
        stride,
        padding,
        data_format,
        outputs_collections,
        scope,
    )


@scopes.add_arg_scope
def max_pool3d(
    inputs,
    kernel_size,
    stride=2,
    padding='VALID',
    data_format='NDHWC',
    outputs_collections=None,
    scope=None,
):
    """3-D max pooling.

    Args:
      inputs: `[batch, depth, height, width, channels]` ('NDHWC'), or
        `[batch, channels, depth, height, width]` ('NCDHW').
      kernel_size, stride: an int, or a list of 3.
      padding: 'VALID' or 'SAME'.
      data_format: 'NDHWC' or 'NCDHW' (transposed to NDHWC and back, as
        TF-Slim does).
      outputs_collections, scope: as `max_pool2d`'s; the default scope is
        `MaxPool3D`.

    Raises:
      ValueError: for a non-rank-5 input, a bad kernel size or stride, an
        unknown padding or data format.
    """
    return _pool(
        tf.nn.max_pool3d,
        'MaxPool3D',
        3,
        _DATA_FORMATS_3D,
        inputs,
        kernel_size,
        stride,
        padding,
        data_format,
        outputs_collections,
        scope,
    )


@scopes.add_arg_scope
def avg_pool3d(
    inputs,
    kernel_size,
    stride=2,
    padding='VALID',
    data_format='NDHWC',
    outputs_collections=None,
    scope=None,
):
    """3-D average pooling (with 'SAME', padding is not counted).

    Arguments as `max_pool3d`'s; the default scope is `AvgPool3D`.

    Raises:
      ValueError: as `max_pool3d`.
    """
    return _pool(
        tf.nn.avg_pool3d,
        'AvgPool3D',
        3,
        _DATA_FORMATS_3D,
        inputs,
        kernel_size,
        stride,
        padding,
        data_format,
        outputs_collections,
        scope,
    )


def _pool(
    op,
    default_name,
    spatial,
    data_formats,
    inputs,
    kernel_size,
    stride,
    padding,
    data_format,
    outputs_collections,
    scope,
):
    with scopes.name_scope(scope, default_name, [inputs]) as sc:
        name = sc[:-1]
        u.check_data_format(data_format, name, data_formats)
        inputs = u.convert(inputs, name)
        u.check_rank(
            inputs,
            (spatial + 2,),
            name,
            'a rank-%d input [batch, %s, channels]'
            % (spatial + 2, ', '.join(('depth', 'height', 'width')[-spatial:])),
        )
        kernel = u.tuple_of(kernel_size, spatial, name, 'kernel_size')
        strides = u.tuple_of(stride, spatial, name, 'stride')
        padding = u.check_padding(padding, name)
        if data_format == 'NCDHW':
            # As TF-Slim's (Keras's) 3-D pooling: channels last and back,
            # since TensorFlow's CPU kernels take NDHWC only.
            def pool(x):
                y = op(
                    tf.transpose(x, [0, 2, 3, 4, 1]),
                    ksize=kernel,
                    strides=strides,
                    padding=padding,
                    data_format='NDHWC',
                )
                return tf.transpose(y, [0, 4, 1, 2, 3])
        else:

            def pool(x):
                return op(
                    x,
                    ksize=kernel,
                    strides=strides,
                    padding=padding,
                    data_format=data_format,
                )

        outputs = _kernels.apply(pool, inputs)
        return utils.collect_named_outputs(outputs_collections, sc, outputs)
