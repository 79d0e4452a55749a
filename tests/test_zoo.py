"""Every registered net, through nets_factory: golden variable names and
shapes (the checkpoint format), unknown input sizes, eager equals compiled.

Names and shapes are read from a graph-mode build (variables are created
without running their initializers, so even VGG costs little); numerics run
eagerly at small inputs. Each net's own test file checks it against TF-Slim.
"""
import numpy as np
import pytest
import tensorflow as tf

from net_oracle import golden_path, load_golden
from nets import nets_factory

NETS = nets_factory.list_networks()

# Nets that need a known input size: a head that flattens into a fully
# connected layer, or an auxiliary head whose kernel is the feature map's
# size (research/slim's Inception-v4 and Inception-ResNet-v2).
NEEDS_KNOWN_SIZE = {'lenet', 'cifarnet', 'inception_v4', 'inception_resnet_v2'}

# Deeper or wider variants of a family: same code as the first member, so
# the slower checks run on that one only.
VARIANTS = {'resnet_v1_101', 'resnet_v1_152', 'resnet_v1_200',
            'resnet_v2_101', 'resnet_v2_152', 'resnet_v2_200',
            'vgg_a', 'vgg_19', 'nasnet_large', 'pnasnet_large'}
REPRESENTATIVES = [n for n in NETS if n not in VARIANTS]

# Nets whose own test module compares eager and tf.function calls already
# (against TF-Slim's values, too): the check here would only repeat it.
TRACED_IN_OWN_TESTS = {
    'alexnet_v2', 'overfeat', 'vgg_16', 'inception_v1', 'inception_v2',
    'inception_v3', 'inception_v4', 'inception_resnet_v2', 'resnet_v1_50',
    'resnet_v2_50', 'nasnet_cifar', 'pnasnet_mobile'}

# Class counts of the golden files of nets without a published checkpoint.
GOLDEN_CLASSES = {'lenet': 10, 'cifarnet': 10, 'alexnet_v2': 1000,
                  'overfeat': 1000, 'nasnet_cifar': 10}
CHANNELS = {'lenet': 1}  # LeNet's golden is MNIST's, gray


def _classes(name):
  return (nets_factory.get_network_spec(name).num_classes or
          GOLDEN_CLASSES[name])


def _input_shape(name, batch, size):
  """The input shape of net `name`: images, or frames of a video net."""
  spec = nets_factory.get_network_spec(name)
  frames = [spec.num_frames] if spec.num_frames else []
  return [batch] + frames + [size, size, CHANNELS.get(name, 3)]


def _graph_build(name, shape, **kwargs):
  """{variable name: shape} and end-point names of a graph-mode build."""
  with tf.Graph().as_default():
    model = nets_factory.get_network_fn(name, _classes(name))
    _, end_points = model(tf.compat.v1.placeholder(tf.float32, shape),
                          **kwargs)
    return ({v.op.name: v.shape.as_list() for v in model.variables},
            list(end_points))


@pytest.mark.parametrize('name', NETS)
def test_variables_equal_the_golden_file(name):
  import os
  assert os.path.exists(golden_path(name)), (
      'tests/golden/%s.json is missing: write it from the net\'s oracle '
      '(python tests/test_<net module>.py, which calls '
      'net_oracle.write_golden)' % name)
  size = nets_factory.get_network_spec(name).default_image_size
  shapes, end_points = _graph_build(name, _input_shape(name, 1, size))
  assert shapes == load_golden(name)
  assert end_points, name


@pytest.mark.parametrize('name', REPRESENTATIVES)
def test_unknown_height_and_width(name):
  shape = _input_shape(name, None, None)
  if name in NEEDS_KNOWN_SIZE:
    with pytest.raises(ValueError):
      _graph_build(name, shape)
  else:
    shapes, _ = _graph_build(name, shape)
    assert shapes == load_golden(name)


@pytest.mark.parametrize('name', [n for n in REPRESENTATIVES
                                  if n not in TRACED_IN_OWN_TESTS])
def test_eager_equals_compiled_at_a_small_size(name):
  spec = nets_factory.get_network_spec(name)
  size = max(spec.min_image_size or 1, 64)
  model = nets_factory.get_network_fn(name, _classes(name))
  images = tf.constant(np.random.RandomState(0).uniform(
      -1, 1, _input_shape(name, 2, size)).astype(np.float32))
  eager, eager_points = model(images)
  compiled, compiled_points = tf.function(model, autograph=False)(images)
  np.testing.assert_allclose(compiled.numpy(), eager.numpy(), rtol=1e-4,
                             atol=1e-5)
  assert list(compiled_points) == list(eager_points)
  assert eager.shape[0] == 2 and eager.shape[-1] == _classes(name)
