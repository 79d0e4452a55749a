"""The layer functions, split by family and re-exported here."""

from slim.layers._kernels import (
    half_precision_kernels,
    set_half_precision_kernels,
)
from slim.layers.conv import (
    conv1d,
    conv2d,
    conv2d_transpose,
    conv3d,
    convolution,
    convolution1d,
    convolution2d,
    convolution2d_transpose,
    convolution3d,
    separable_conv2d,
    separable_convolution2d,
)
from slim.layers.core import (
    bias_add,
    dropout,
    flatten,
    fully_connected,
    linear,
    one_hot_encoding,
    repeat,
    softmax,
    stack,
)
from slim.layers.norm import batch_norm, group_norm, layer_norm
from slim.layers.pool import avg_pool2d, avg_pool3d, max_pool2d, max_pool3d
