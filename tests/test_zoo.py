"""Every registered net, through nets_factory: golden variable names and
shapes (the checkpoint format), parameters and multiply-adds against the
figures research/slim publishes, unknown input sizes, eager equals compiled.

Names and shapes are read from a graph-mode build (variables are created
without running their initializers, so even VGG costs little); numerics run
eagerly at small inputs. Each net's own test file checks it against TF-Slim.
"""

import numpy as np
import pytest
import tensorflow as tf

from net_oracle import VARIANTS, golden_path, load_golden
from nets import nets_factory
from nets import published

NETS = nets_factory.list_networks()

# Nets that need a known input size: a head that flattens into a fully
# connected layer, or an auxiliary head whose kernel is the feature map's
# size (research/slim's Inception-v4 and Inception-ResNet-v2).
NEEDS_KNOWN_SIZE = {'lenet', 'cifarnet', 'inception_v4', 'inception_resnet_v2'}

REPRESENTATIVES = [n for n in NETS if n not in VARIANTS]

# Nets whose own test module compares eager and tf.function calls already
# (against TF-Slim's values, too): the check here would only repeat it.
TRACED_IN_OWN_TESTS = {
    'alexnet_v2',
    'overfeat',
    'vgg_16',
    'inception_v1',
    'inception_v2',
    'inception_v3',
    'inception_v4',
    'inception_resnet_v2',
    'resnet_v1_50',
    'resnet_v2_50',
    'mobilenet_v1',
    'i3d',
    's3dg',
    'mobilenet_v2',
    'mobilenet_v3_small',
    'nasnet_cifar',
    'pnasnet_mobile',
}

# Class counts of the golden files of nets without a published checkpoint.
GOLDEN_CLASSES = {
    'lenet': 10,
    'cifarnet': 10,
    'alexnet_v2': 1000,
    'overfeat': 1000,
    'i3d': 1000,
    's3dg': 1000,
    'nasnet_cifar': 10,
}
CHANNELS = {'lenet': 1}  # LeNet's golden is MNIST's, gray


def _classes(name):
    return (
        nets_factory.get_network_spec(name).num_classes or GOLDEN_CLASSES[name]
    )


def _input_shape(name, batch, size):
    """The input shape of net `name`: images, or frames of a video net."""
    spec = nets_factory.get_network_spec(name)
    frames = [spec.num_frames] if spec.num_frames else []
    return [batch] + frames + [size, size, CHANNELS.get(name, 3)]


def _graph_build(name, shape, **kwargs):
    """{variable name: shape} and end-point names of a graph-mode build."""
    with tf.Graph().as_default():
        model = nets_factory.get_network_fn(name, _classes(name))
        _, end_points = model(
            tf.compat.v1.placeholder(tf.float32, shape), **kwargs
        )
        return (
            {v.op.name: v.shape.as_list() for v in model.variables},
            list(end_points),
        )


@pytest.mark.parametrize('name', NETS)
def test_variables_equal_the_golden_file_and_costs_the_published(name):
    import os

    assert os.path.exists(golden_path(name)), (
        'tests/golden/%s.json is missing: write it from the net\'s oracle '
        '(python tests/test_<net module>.py, which calls '
        'net_oracle.write_golden)' % name
    )
    summary = nets_factory.summarize(
        name, _classes(name), channels=CHANNELS.get(name, 3)
    )
    assert dict(summary.variable_shapes) == load_golden(name)
    assert summary.rows and summary.multiply_adds > 0, name
    # research/slim's figures are for its checkpoints: 1001 classes.
    record = published.published(name)
    if record and (record.parameters or record.multiply_adds):
        assert _classes(name) == 1001
        parameters, multiply_adds = published.DEFINITION_FIGURES.get(
            name, (record.parameters, record.multiply_adds)
        )
        if parameters:
            assert published.matches(summary.parameters, parameters), (
                summary.parameters,
                parameters,
            )
        if multiply_adds:
            assert published.matches(summary.multiply_adds, multiply_adds), (
                summary.multiply_adds,
                multiply_adds,
            )


@pytest.mark.parametrize('name', REPRESENTATIVES)
def test_unknown_height_and_width(name):
    shape = _input_shape(name, None, None)
    if name in NEEDS_KNOWN_SIZE:
        with pytest.raises(ValueError):
            _graph_build(name, shape)
    else:
        shapes, _ = _graph_build(name, shape)
        assert shapes == load_golden(name)


@pytest.mark.parametrize(
    'name', [n for n in REPRESENTATIVES if n not in TRACED_IN_OWN_TESTS]
)
def test_eager_equals_compiled_at_a_small_size(name):
    spec = nets_factory.get_network_spec(name)
    size = max(spec.min_image_size or 1, 64)
    model = nets_factory.get_network_fn(name, _classes(name))
    images = tf.constant(
        np.random.RandomState(0)
        .uniform(-1, 1, _input_shape(name, 2, size))
        .astype(np.float32)
    )
    eager, eager_points = model(images)
    compiled, compiled_points = tf.function(model, autograph=False)(images)
    np.testing.assert_allclose(
        compiled.numpy(), eager.numpy(), rtol=1e-4, atol=1e-5
    )
    assert list(compiled_points) == list(eager_points)
    assert eager.shape[0] == 2 and eager.shape[-1] == _classes(name)
