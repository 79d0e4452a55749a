"""Tests nets/overfeat.py against TF-Slim 1.1.0's overfeat (the oracle).

TF-Slim 1.1.0's overfeat is research/slim's without the later global_pool
and num_classes=None. For global_pool the oracle graph adds research/slim's
few extra lines (a mean of fc7, then fc8) on tf_slim layers that reuse the
oracle's variables.

The oracle's weights (biases randomised too) are saved by a TF1 Saver and
restored by name into our net; then every end point must agree, at 231 x 231
and fully convolutionally on a larger image.

Run as a script to rewrite tests/golden/overfeat.json from the oracle:
    python tests/test_overfeat.py
"""
import contextlib
import re

import numpy as np
import pytest
import tensorflow as tf

from net_oracle import (RTOL, assert_close, load_golden, run_graph_net,
                        variable_shapes, write_golden)

# research/slim has no published OverFeat checkpoint; 1000 is the net's
# default and ImageNet's class count without a background class.
NUM_CLASSES = 1000


# ---------------------------------------------------------------- the oracle

def _he_uniform_weights(getter, name, *args, **kwargs):
  """A TF1 custom getter: weights start He-uniform instead of truncated
  normal, whose TF kernel takes seconds for fc6's 113M values here. Only the
  forward pass of given weights is compared, so their start is immaterial."""
  shape = kwargs.get('shape')
  if name.endswith('/weights') and shape is not None:
    limit = (6.0 / np.prod(shape[:-1])) ** 0.5
    kwargs['initializer'] = tf.compat.v1.random_uniform_initializer(
        -limit, limit)
  return getter(name, *args, **kwargs)


def oracle_graph(num_classes=NUM_CLASSES):
  """TF-Slim's overfeat for 231 x 231 inputs, built and never run.

  Returns:
    ({variable name: shape}, [end point names, in TF-Slim's order]).
  """
  import tf_slim
  from tf_slim.nets import overfeat
  with tf.Graph().as_default():
    inputs = tf.compat.v1.placeholder(tf.float32, [1, 231, 231, 3])
    with tf_slim.arg_scope(overfeat.overfeat_arg_scope()):
      _, end_points = overfeat.overfeat(inputs, num_classes,
                                         is_training=False)
    shapes = {v.op.name: v.shape.as_list()
              for v in tf.compat.v1.global_variables()}
  return shapes, list(end_points)


def oracle_overfeat(images, large_images, ckpt_prefix):
  """TF-Slim's overfeat on two inputs, its weights saved to `ckpt_prefix`.

  Returns:
    shapes: {variable name: shape}.
    outputs: {'default': end points and 'logits' for `images`;
      'large': end points for `large_images` with spatial_squeeze=False;
      'global_pool': research/slim's global_pool head on 'large'}.
    losses: the values of the graph's regularization losses.
  """
  import tf_slim
  from tf_slim.nets import overfeat

  def build(inputs):
    with tf_slim.arg_scope(overfeat.overfeat_arg_scope()), \
        tf.compat.v1.variable_scope(tf.compat.v1.get_variable_scope(),
                                    custom_getter=_he_uniform_weights):
      logits, default = overfeat.overfeat(inputs, NUM_CLASSES,
                                           is_training=False)
      # TF-Slim's overfeat collects its end points in a graph collection
      # named after the variable scope, which a second tower shares.
      tf.compat.v1.get_default_graph().clear_collection(
          'overfeat_end_points')
      with tf.compat.v1.variable_scope(tf.compat.v1.get_variable_scope(),
                                       reuse=True):
        # A second tower shares the variables; its pools are named by its
        # own name scope ('overfeat_1/pool1'), renamed back here.
        _, large = overfeat.overfeat(tf.constant(large_images), NUM_CLASSES,
                                      is_training=False,
                                      spatial_squeeze=False)
      large = {re.sub(r'^overfeat_\d+/', 'overfeat/', k): v
               for k, v in large.items()}
      # research/slim's global_pool: fc7 averaged, then fc8 (inference
      # mode, so without dropout7).
      pooled = tf.reduce_mean(large['overfeat/fc7'], [1, 2], keepdims=True)
      with tf.compat.v1.variable_scope('overfeat', reuse=True):
        pooled_logits = tf.squeeze(tf_slim.conv2d(
            pooled, NUM_CLASSES, [1, 1], activation_fn=None,
            normalizer_fn=None, scope='fc8'), [1, 2])
    return {'default': dict(default, logits=logits), 'large': large,
            'global_pool': {'global_pool': pooled, 'logits': pooled_logits}}

  return run_graph_net(build, images, ckpt_prefix, randomize_statistics=True)


# ---------------------------------------------------------------- our side

def _model(**kwargs):
  import slim
  from nets import overfeat

  def net(images, **call_kwargs):
    with slim.arg_scope(overfeat.overfeat_arg_scope()):
      return overfeat.overfeat(images, **call_kwargs)

  return slim.Model(net, is_training=False, **kwargs)


@contextlib.contextmanager
def _zero_start():
  """Our weights start at zero while a model to be restored is built: its
  truncated-normal start (TF's kernel) takes seconds for fc6 and fc7 here,
  and the checkpoint overwrites it."""
  import slim
  with pytest.MonkeyPatch.context() as patch:
    patch.setattr(slim, 'truncated_normal_initializer',
                  lambda *args, **kwargs: tf.zeros_initializer())
    with slim.arg_scope([slim.conv2d],
                        weights_initializer=tf.zeros_initializer()):
      yield


def _images(height, width=None, batch=1, seed=1):
  rng = np.random.RandomState(seed)
  return rng.uniform(-1, 1, (batch, height, width or height, 3)).astype(
      np.float32)


def _assert_end_points_match(ours, theirs):
  assert list(ours) == list(theirs)
  for name, value in theirs.items():
    assert_close(ours[name], value, name)


@pytest.fixture(scope='module')
def run(tmp_path_factory):
  import slim
  images, large = _images(231, batch=2), _images(263, 295, seed=2)
  prefix = str(tmp_path_factory.mktemp('overfeat') / 'model.ckpt')
  shapes, theirs, losses = oracle_overfeat(images, large, prefix)
  model = _model(num_classes=NUM_CLASSES)
  with _zero_start():
    model.build(tf.TensorSpec(images.shape))
  slim.assign_from_checkpoint(slim.get_variables_to_restore(model), prefix)
  return dict(images=images, large=large, prefix=prefix, shapes=shapes,
              theirs=theirs, losses=losses, model=model)


# ---------------------------------------------------------------- tests

def test_variables_and_end_points_match_oracle_and_golden(run):
  shapes, their_keys = oracle_graph()
  golden = load_golden('overfeat')
  assert len(golden) == 16
  assert shapes == golden == run['shapes']
  assert variable_shapes(run['model']) == golden
  _, ours = run['model'](tf.constant(run['images']))
  assert list(ours) == their_keys
  # The checkpoint holds the randomised biases, not the initial 0.1.
  reader = tf.train.load_checkpoint(run['prefix'])
  assert reader.get_tensor('overfeat/conv3/biases').std() > 0.01


def test_restored_231_matches_oracle(run):
  theirs = dict(run['theirs']['default'])
  their_logits = theirs.pop('logits')
  logits, ours = run['model'](tf.constant(run['images']))
  _assert_end_points_match(ours, theirs)
  assert_close(logits, their_logits, 'logits')
  assert logits.shape == (2, NUM_CLASSES)
  expected = {'conv1': (56, 56, 64), 'pool1': (28, 28, 64),
              'conv2': (24, 24, 256), 'pool2': (12, 12, 256),
              'conv3': (12, 12, 512), 'conv4': (12, 12, 1024),
              'conv5': (12, 12, 1024), 'pool5': (6, 6, 1024),
              'fc6': (1, 1, 3072), 'fc7': (1, 1, 4096)}
  for name, shape in expected.items():
    assert ours['overfeat/' + name].shape == (2,) + shape, name


def test_regularization_losses_match_oracle(run):
  model = run['model']
  model(tf.constant(run['images']))
  assert len(model.losses) == len(run['losses']) == 8
  np.testing.assert_allclose(float(tf.add_n(model.losses)),
                             sum(run['losses']), rtol=RTOL)


def test_traced_with_unknown_size_runs_fully_convolutionally(run):
  model = run['model']
  count = len(model.variables)
  traced = tf.function(
      lambda images: model(images, spatial_squeeze=False),
      input_signature=[tf.TensorSpec([None, None, None, 3])],
      autograph=False)  # no control flow to convert; conversion is slow
  logits, ours = traced(tf.constant(run['large']))
  assert len(model.variables) == count
  assert logits.shape == (1, 2, 3, NUM_CLASSES)
  _assert_end_points_match(ours, run['theirs']['large'])
  # The same concrete function at 231 x 231 gives the oracle's logits.
  logits, _ = traced(tf.constant(run['images']))
  assert_close(tf.squeeze(logits, [1, 2]),
               run['theirs']['default']['logits'], 'traced logits')


def test_global_pool_matches_research_slim_head(run):
  theirs = run['theirs']
  logits, ours = run['model'](tf.constant(run['large']), global_pool=True)
  assert logits.shape == (1, NUM_CLASSES)
  keys = list(theirs['large'])
  keys.insert(keys.index('overfeat/fc8'), 'global_pool')
  assert list(ours) == keys
  assert_close(ours['global_pool'], theirs['global_pool']['global_pool'],
               'global_pool')
  assert_close(logits, theirs['global_pool']['logits'], 'logits')


@pytest.mark.parametrize('num_classes', [0, None])
def test_no_classes_returns_fc7(run, num_classes):
  theirs = dict(run['theirs']['default'])
  del theirs['logits'], theirs['overfeat/fc8']
  net, ours = run['model'](tf.constant(run['images']),
                           num_classes=num_classes)
  _assert_end_points_match(ours, theirs)
  assert net is ours['overfeat/fc7']


def test_no_classes_builds_no_fc8():
  model = _model(num_classes=None)
  with _zero_start():
    model.build(tf.TensorSpec([1, 231, 231, 3]))
  assert len(model.variables) == 14
  assert not [v for v in model.variables if '/fc8/' in v.name]


def test_training_mode_drops_out(run):
  images = tf.constant(run['images'])
  _, eval_points = run['model'](images)
  _, train_points = run['model'](images, is_training=True)
  # dropout6 sits between fc6 and fc7: fc6 agrees, fc7 does not.
  assert_close(train_points['overfeat/fc6'], eval_points['overfeat/fc6'],
               'fc6')
  assert not np.allclose(train_points['overfeat/fc7'],
                         eval_points['overfeat/fc7'])


def test_default_image_size():
  from nets import overfeat
  assert overfeat.overfeat.default_image_size == 231


if __name__ == '__main__':
  import conftest  # noqa: F401  (the aliases tf_slim needs)
  write_golden('overfeat', oracle_graph()[0])
