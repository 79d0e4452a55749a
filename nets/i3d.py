"""I3D, the inflated 3-D Inception-v1, variable for variable research/slim's.

"Quo Vadis, Action Recognition? A New Model and the Kinetics Dataset",
Carreira and Zisserman, https://arxiv.org/abs/1705.07750.

Inception-v1 with every 2-D kernel inflated to 3-D: the input is a clip
`[batch, frames, height, width, channels]`; the first convolution is
7x7x7, the 3x3 convolutions 3x3x3 (separable in space and time with
`i3d_arg_scope(separable_conv3d=True)`), and there is no gating. It is
`s3dg.s3dg_base` with those settings, and keeps Inception-v1's scope names
('InceptionV1/Conv2d_1a_7x7/weights', 7 x 7 x 7 x 3 x 64), as
research/slim does, so an image-trained Inception-v1 maps onto it by name:

    model = slim.Model(i3d.i3d, num_classes=400)
    with slim.arg_scope(i3d.i3d_arg_scope()):
      logits, end_points = model(clips, is_training=False)
"""

import slim
from nets import s3dg

BASE_END_POINTS = s3dg.BASE_END_POINTS


def i3d_arg_scope(
    weight_decay=1e-7,
    batch_norm_decay=0.999,
    batch_norm_epsilon=0.001,
    use_renorm=False,
    separable_conv3d=False,
):
    """Returns the arg scope I3D is trained under.

    As `s3dg.s3dg_arg_scope` (L2 penalty, ReLU, batch norm without `gamma`),
    with full 3-D convolutions unless `separable_conv3d`.

    Args:
      weight_decay: the L2 penalty on the convolutions' weights.
      batch_norm_decay: decay of the batch norm moving averages.
      batch_norm_epsilon: added to the variance in batch norm.
      use_renorm: batch renormalization; this library's batch norm does not
        have it, so True makes the net's first batch norm raise a ValueError.
      separable_conv3d: whether the 3x3x3 convolutions are split into 1x3x3
        and 3x1x1 (with `<scope>/temporal` variables).

    Returns:
      An arg scope dict, to enter with `slim.arg_scope(...)`.
    """
    return s3dg._arg_scope(
        weight_decay,
        batch_norm_decay,
        batch_norm_epsilon,
        renorm=use_renorm,
        separable=separable_conv3d,
    )


def i3d_base(inputs, final_endpoint='Mixed_5c', scope='InceptionV1'):
    """Builds the I3D trunk up to `final_endpoint`.

    Args:
      inputs: a 5-D tensor `[batch, frames, height, width, channels]`.
      final_endpoint: the end point to build up to, one of `BASE_END_POINTS`
        ('Conv2d_1a_7x7' ... 'Mixed_5c').
      scope: the variable scope.

    Returns:
      net: the tensor of `final_endpoint`.
      end_points: a dict from end point name to tensor, for every end point
        built.

    Raises:
      ValueError: if final_endpoint is not one of `BASE_END_POINTS`, or the
        inputs are not 5-D or have a size of 0.
    """
    return s3dg.s3dg_base(
        inputs, final_endpoint=final_endpoint, scope=scope, **_I3D_TRUNK
    )


def i3d(
    inputs,
    num_classes=1000,
    dropout_keep_prob=0.8,
    is_training=True,
    prediction_fn=slim.softmax,
    spatial_squeeze=True,
    reuse=None,
    scope='InceptionV1',
):
    """I3D classifier: the trunk, an average pool, dropout and 1x1x1 logits.

    Trained at 224 x 224 (`i3d.default_image_size`) on 64-frame clips. The
    final pool is 2x7x7 (smaller for a smaller Mixed_5c), stride 1; the
    logits are computed per remaining frame and averaged over time.

    Args:
      inputs: a 5-D tensor `[batch, frames, height, width, 3]`.
      num_classes: the number of classes.
      dropout_keep_prob: the fraction of activations kept before the logits.
      is_training: whether batch norm uses batch statistics (and updates its
        moving averages) and dropout drops.
      prediction_fn: maps the logits to 'Predictions'.
      spatial_squeeze: if True the logits are [batch, num_classes], else
        [batch, 1, 1, num_classes].
      reuse: whether the variables of `scope` are reused.
      scope: the variable scope.

    Returns:
      logits: [batch, num_classes] (see `spatial_squeeze`).
      end_points: the trunk's end points, 'Logits' and 'Predictions'.

    Raises:
      ValueError: for inputs that are not 5-D or have a size of 0; with
        spatial_squeeze, for an input larger than the pool covers (its logits
        are not 1 x 1).
    """
    with slim.variable_scope(
        scope, 'InceptionV1', [inputs], reuse=reuse
    ) as net_scope:
        with slim.arg_scope(
            [slim.batch_norm, slim.dropout], is_training=is_training
        ):
            net, end_points = i3d_base(inputs, scope=net_scope)
            logits = s3dg.logits_head(
                net, num_classes, dropout_keep_prob, spatial_squeeze
            )
            end_points['Logits'] = logits
            end_points['Predictions'] = prediction_fn(
                logits, scope='Predictions'
            )
    return logits, end_points


i3d.default_image_size = 224

# I3D's trunk in s3dg_base's terms: a 7-frame first kernel, 3-D from
# Conv2d_2c_3x3 on, no gating, full depth, channels last.
_I3D_TRUNK = dict(
    first_temporal_kernel_size=7,
    temporal_conv_startat='Conv2d_2c_3x3',
    gating_startat=None,
    min_depth=16,
    depth_multiplier=1.0,
    data_format='NDHWC',
)
