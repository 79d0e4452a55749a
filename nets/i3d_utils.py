"""The 3-D building blocks shared by I3D and S3D-G (research/slim's i3d_utils).

Both nets are Inception-v1 inflated to video: every layer works on
`[batch, frames, height, width, channels]` and keeps Inception-v1's scope
names, so that the variables line up with research/slim's i3d.py and
s3dg.py and an image-trained Inception-v1 maps onto them by name.

- `conv3d_spatiotemporal`: a full k_t x k_h x k_w convolution, or (with
  `separable=True`) a 1 x k_h x k_w spatial one followed by a k_t x 1 x 1
  temporal one in `<scope>/temporal`, as S3D does.
- `inception_block_v1_3d`: Inception-v1's four-branch block in 3-D, with
  optional self-gating of each branch.
- `center_initializer`: starts a temporal convolution as the identity.
- `reduced_kernel_size_3d`: shrinks the final pool to a small feature map.
"""

import numpy as np
import tensorflow as tf

import slim

__all__ = [
    'center_initializer',
    'conv3d_spatiotemporal',
    'inception_block_v1_3d',
    'reduced_kernel_size_3d',
]


def center_initializer():
    """Returns an initializer that makes a temporal convolution the identity.

    The kernel `[k_t, 1, 1, channels, channels]` is zero except for a 1 at
    the temporal centre from each channel to itself, so a freshly inserted
    temporal layer passes its input through (research/slim: critical for the
    convergence of separable I3D).

    The returned `init(shape, dtype=tf.float32, partition_info=None)` raises
    ValueError, naming the shape, unless the dtype is float32 or bfloat16, the
    shape is 5-D with spatial sizes 1, equal input and output channels and an
    odd temporal size.
    """

    def _initializer(shape, dtype=tf.float32, partition_info=None):
        del partition_info
        dtype = tf.as_dtype(dtype)
        if dtype not in (tf.float32, tf.bfloat16):
            raise ValueError(
                'center_initializer: dtype must be float32 or '
                'bfloat16, got {}.'.format(dtype.name)
            )
        shape = [int(d) for d in shape]
        if len(shape) != 5:
            raise ValueError(
                'center_initializer: shape must be 5-D [time, 1, 1, '
                'channels, channels], got {}.'.format(shape)
            )
        time, height, width, channels_in, channels_out = shape
        if height != 1 or width != 1:
            raise ValueError(
                'center_initializer: the spatial kernel must be 1 x 1 '
                '(a temporal convolution), got shape {}.'.format(shape)
            )
        if channels_in != channels_out:
            raise ValueError(
                'center_initializer: input and output channels must '
                'be equal, got shape {}.'.format(shape)
            )
        if time % 2 == 0:
            raise ValueError(
                'center_initializer: the temporal kernel size must be '
                'odd (it has a centre), got shape {}.'.format(shape)
            )
        kernel = np.zeros(shape, np.float32)
        kernel[time // 2, 0, 0] = np.eye(channels_in, dtype=np.float32)
        return tf.constant(kernel, dtype=dtype)

    return _initializer


@slim.add_arg_scope
def conv3d_spatiotemporal(
    inputs,
    num_outputs,
    kernel_size,
    stride=1,
    padding='SAME',
    activation_fn=None,
    normalizer_fn=None,
    normalizer_params=None,
    weights_regularizer=None,
    separable=False,
    data_format='NDHWC',
    scope=None,
):
    """A 3-D convolution, full or split into a spatial and a temporal one.

    With `separable=False`, or a temporal kernel size of 1, this is one
    `slim.conv3d` in `scope`. Otherwise it is a `[1, k_h, k_w]` convolution
    in `scope` (with the normalizer) followed by a `[k_t, 1, 1]` one in
    `<scope>/temporal` (with biases and the activation, started as the
    identity by `center_initializer`); the strides split the same way.

    The arguments given here are passed on explicitly, so they override what
    an arg scope of `slim.conv3d` says; what is not given here (the weights'
    initializer; the temporal part's regularizer) comes from that scope.

    Args:
      inputs: a 5-D tensor `[batch, frames, height, width, channels]`
        ('NDHWC') or `[batch, channels, frames, height, width]` ('NCDHW').
      num_outputs: the number of filters.
      kernel_size: `[k_t, k_h, k_w]`.
      stride: an int, or `[s_t, s_h, s_w]`.
      padding: 'SAME' or 'VALID'.
      activation_fn, normalizer_fn, normalizer_params, weights_regularizer:
        as `slim.conv3d`'s.
      separable: whether to split the convolution in space and time.
      data_format: 'NDHWC' or 'NCDHW'.
      scope: the variable scope; a separable convolution needs one (its
        temporal part is `<scope>/temporal`).

    Returns:
      The output tensor.

    Raises:
      ValueError: if `kernel_size` or a list `stride` does not have 3 values,
        or a separable convolution has no scope.
    """
    kernel_size = _three('kernel_size', kernel_size)
    common = dict(
        padding=padding, activation_fn=activation_fn, data_format=data_format
    )
    if not separable or kernel_size[0] == 1:
        return slim.conv3d(
            inputs,
            num_outputs,
            kernel_size,
            stride=stride,
            normalizer_fn=normalizer_fn,
            normalizer_params=normalizer_params,
            weights_regularizer=weights_regularizer,
            scope=scope,
            **common,
        )
    if not scope:
        raise ValueError(
            'conv3d_spatiotemporal: a separable convolution needs a scope (its '
            'temporal part is named <scope>/temporal), got scope={!r}.'.format(
                scope
            )
        )
    if isinstance(stride, (list, tuple)):
        stride_t, stride_h, stride_w = _three('stride', stride)
    else:
        stride_t = stride_h = stride_w = stride
    net = slim.conv3d(
        inputs,
        num_outputs,
        [1] + kernel_size[1:],
        stride=[1, stride_h, stride_w],
        normalizer_fn=normalizer_fn,
        normalizer_params=normalizer_params,
        weights_regularizer=weights_regularizer,
        scope=scope,
        **common,
    )
    return slim.conv3d(
        net,
        num_outputs,
        [kernel_size[0], 1, 1],
        stride=[stride_t, 1, 1],
        normalizer_fn=None,
        weights_initializer=center_initializer(),
        scope=scope + '/temporal',
        **common,
    )


@slim.add_arg_scope
def inception_block_v1_3d(
    inputs,
    num_outputs_0_0a,
    num_outputs_1_0a,
    num_outputs_1_0b,
    num_outputs_2_0a,
    num_outputs_2_0b,
    num_outputs_3_0b,
    temporal_kernel_size=3,
    self_gating_fn=None,
    data_format='NDHWC',
    scope=None,
):
    """Inception-v1's block in 3-D: four branches concatenated on channels.

    Branch_0 is a 1x1x1 convolution; Branch_1 and Branch_2 a 1x1x1 then a
    `[temporal_kernel_size, 3, 3]` `conv3d_spatiotemporal` (separable if the
    arg scope says so); Branch_3 a 3x3x3 max pool then a 1x1x1 convolution.
    Strides and padding come from the arg scope (1 and 'SAME' in the nets).
    S3D-G gates each branch's output with `self_gating_fn`.

    Args:
      inputs: a 5-D tensor.
      num_outputs_0_0a: filters of Branch_0/Conv2d_0a_1x1.
      num_outputs_1_0a, num_outputs_1_0b: filters of Branch_1/Conv2d_0a_1x1
        and Branch_1/Conv2d_0b_3x3.
      num_outputs_2_0a, num_outputs_2_0b: the same for Branch_2.
      num_outputs_3_0b: filters of Branch_3/Conv2d_0b_1x1.
      temporal_kernel_size: the temporal size of the 3x3 convolutions' kernels
        (1 makes them 2-D).
      self_gating_fn: None, or `fn(inputs, scope=...)` applied to each
        branch's output.
      data_format: 'NDHWC' or 'NCDHW'.
      scope: the variable scope (research/slim passes the end point's name).

    Returns:
      The block's output: `num_outputs_0_0a + num_outputs_1_0b +
      num_outputs_2_0b + num_outputs_3_0b` channels.
    """
    gate = self_gating_fn or (lambda net, scope: net)
    three_by_three = [temporal_kernel_size, 3, 3]
    with slim.variable_scope(scope, 'InceptionBlock3d', [inputs]):
        with slim.arg_scope([slim.conv3d], data_format=data_format):
            with slim.variable_scope('Branch_0'):
                branch_0 = slim.conv3d(
                    inputs, num_outputs_0_0a, [1, 1, 1], scope='Conv2d_0a_1x1'
                )
                branch_0 = gate(branch_0, scope='Conv2d_0a_1x1')
            with slim.variable_scope('Branch_1'):
                branch_1 = slim.conv3d(
                    inputs, num_outputs_1_0a, [1, 1, 1], scope='Conv2d_0a_1x1'
                )
                branch_1 = conv3d_spatiotemporal(
                    branch_1,
                    num_outputs_1_0b,
                    three_by_three,
                    data_format=data_format,
                    scope='Conv2d_0b_3x3',
                )
                branch_1 = gate(branch_1, scope='Conv2d_0b_3x3')
            with slim.variable_scope('Branch_2'):
                branch_2 = slim.conv3d(
                    inputs, num_outputs_2_0a, [1, 1, 1], scope='Conv2d_0a_1x1'
                )
                branch_2 = conv3d_spatiotemporal(
                    branch_2,
                    num_outputs_2_0b,
                    three_by_three,
                    data_format=data_format,
                    scope='Conv2d_0b_3x3',
                )
                branch_2 = gate(branch_2, scope='Conv2d_0b_3x3')
            with slim.variable_scope('Branch_3'):
                branch_3 = slim.max_pool3d(
                    inputs,
                    [3, 3, 3],
                    data_format=data_format,
                    scope='MaxPool_0a_3x3',
                )
                branch_3 = slim.conv3d(
                    branch_3, num_outputs_3_0b, [1, 1, 1], scope='Conv2d_0b_1x1'
                )
                branch_3 = gate(branch_3, scope='Conv2d_0b_1x1')
        return tf.concat(
            [branch_0, branch_1, branch_2, branch_3], data_format.index('C')
        )


def reduced_kernel_size_3d(input_tensor, kernel_size):
    """Shrinks `[k_t, k_h, k_w]` to the static frames, height and width of a
    `[batch, frames, height, width, channels]` input.

    So the final pool still fits the smaller map of a shorter or smaller
    clip. If any of the three sizes is unknown, the kernel is returned as it
    is, assuming the input is large enough (as research/slim).

    Raises:
      ValueError: if `kernel_size` does not have 3 values or the input is not
        5-D.
    """
    kernel_size = _three('kernel_size', kernel_size)
    shape = input_tensor.shape
    if shape.rank != 5:
        raise ValueError(
            'reduced_kernel_size_3d: the input must be 5-D [batch, '
            'frames, height, width, channels], got shape {}.'.format(shape)
        )
    sizes = shape.as_list()[1:4]
    if None in sizes:
        return kernel_size
    return [min(size, k) for size, k in zip(sizes, kernel_size)]


def _three(name, values):
    values = list(values)
    if len(values) != 3:
        raise ValueError(
            '{} must have 3 values [time, height, width], got {!r}.'.format(
                name, values
            )
        )
    return values
