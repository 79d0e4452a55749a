"""slim: TF-Slim's layer DSL on TensorFlow 2, eager and compiled.

```python
import slim

def net(images, is_training=True):
    with slim.arg_scope([slim.conv2d], normalizer_fn=slim.batch_norm,
                        normalizer_params={'is_training': is_training}):
        x = slim.repeat(images, 2, slim.conv2d, 32, [3, 3], scope='conv1')
        x = slim.max_pool2d(x, [2, 2], scope='pool1')
        x = slim.flatten(x)
        return slim.fully_connected(x, 10, activation_fn=None, scope='logits')

model = slim.Model(net)
logits = model(images)            # variables `conv1/conv1_1/weights`, ...
```
"""

from slim import initializers, losses, regularizers, utils
from slim.errors import ArgumentError
from slim.model import Model
from slim import (
    evaluation,
    learning,
    metrics,
    model_analyzer,
    moving_averages,
    summaries,
    training_utils,
)
from slim.initializers import (
    constant_initializer,
    ones_initializer,
    truncated_normal_initializer,
    variance_scaling_initializer,
    xavier_initializer,
    zeros_initializer,
)
from slim.layers import (
    avg_pool2d,
    avg_pool3d,
    batch_norm,
    bias_add,
    conv1d,
    conv2d,
    conv2d_transpose,
    conv3d,
    convolution,
    convolution1d,
    convolution2d,
    convolution2d_transpose,
    convolution3d,
    dropout,
    flatten,
    fully_connected,
    group_norm,
    half_precision_kernels,
    layer_norm,
    linear,
    max_pool2d,
    max_pool3d,
    one_hot_encoding,
    repeat,
    separable_conv2d,
    separable_convolution2d,
    set_half_precision_kernels,
    softmax,
    stack,
)
from slim.regularizers import (
    l1_l2_regularizer,
    l1_regularizer,
    l2_regularizer,
    sum_regularizer,
)
from slim.scopes import (
    add_arg_scope,
    arg_scope,
    arg_scoped_arguments,
    current_arg_scope,
    has_arg_scope,
    variable_scope,
)
from slim.variables import (
    assign_from_checkpoint,
    get_model_variables,
    get_trainable_variables,
    get_unique_variable,
    get_variables,
    get_variables_by_name,
    get_variables_by_suffix,
    get_variables_to_restore,
    model_variable,
    variable,
)

__version__ = '0.1.0'
