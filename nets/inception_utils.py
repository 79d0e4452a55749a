"""The arg scope shared by the Inception family of nets.

Every Inception net of the TF-Slim model zoo is trained under the same
defaults: He-style (variance scaling) initialised convolutions, an L2 weight
penalty on conv and fully connected weights, and batch norm after each
convolution. Keeping that in one function keeps checkpoints of the family
interchangeable with TF-Slim's, which were trained under exactly this scope.

Usage:

    with slim.arg_scope(inception_utils.inception_arg_scope()):
      logits, end_points = inception_v3.inception_v3(images, num_classes)
"""
import tensorflow as tf

import slim


def inception_arg_scope(weight_decay=0.00004,
                        use_batch_norm=True,
                        batch_norm_decay=0.9997,
                        batch_norm_epsilon=0.001,
                        activation_fn=tf.nn.relu,
                        batch_norm_scale=False):
  """Returns the default arg scope of the Inception models.

  Args:
    weight_decay: the L2 penalty on conv and fully connected weights.
    use_batch_norm: if True, batch norm follows every convolution.
    batch_norm_decay: decay of the batch norm moving averages.
    batch_norm_epsilon: small float added to the variance to avoid dividing
      by zero in batch norm.
    activation_fn: the activation of the convolutions.
    batch_norm_scale: if True, batch norm has a learned `gamma`. TF-Slim's
      released Inception checkpoints have none, hence the default False.

  Returns:
    An arg scope dict, to enter with `slim.arg_scope(...)`.
  """
  batch_norm_params = {
      'decay': batch_norm_decay,
      'epsilon': batch_norm_epsilon,
      'scale': batch_norm_scale,
  }
  if use_batch_norm:
    normalizer_fn = slim.batch_norm
    normalizer_params = batch_norm_params
  else:
    normalizer_fn = None
    normalizer_params = {}
  with slim.arg_scope([slim.conv2d, slim.fully_connected],
                      weights_regularizer=slim.l2_regularizer(weight_decay)):
    with slim.arg_scope(
        [slim.conv2d],
        weights_initializer=slim.variance_scaling_initializer(),
        activation_fn=activation_fn,
        normalizer_fn=normalizer_fn,
        normalizer_params=normalizer_params) as scope:
      return scope
