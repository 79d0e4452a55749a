"""Tests nets/nets_factory.py: the registry and the models it returns."""

import numpy as np
import pytest
import tensorflow as tf

import slim
from nets import cifarnet
from nets import inception_v3
from nets import lenet
from nets import nets_factory
from net_oracle import VARIANTS


# research/slim's nets_factory names: the registry holds only these.
TF_SLIM_NAMES = {
    'alexnet_v2',
    'cifarnet',
    'overfeat',
    'vgg_a',
    'vgg_16',
    'vgg_19',
    'inception_v1',
    'inception_v2',
    'inception_v3',
    'inception_v4',
    'inception_resnet_v2',
    'i3d',
    's3dg',
    'lenet',
    'resnet_v1_50',
    'resnet_v1_101',
    'resnet_v1_152',
    'resnet_v1_200',
    'resnet_v2_50',
    'resnet_v2_101',
    'resnet_v2_152',
    'resnet_v2_200',
    'mobilenet_v1',
    'mobilenet_v1_075',
    'mobilenet_v1_050',
    'mobilenet_v1_025',
    'mobilenet_v2',
    'mobilenet_v2_140',
    'mobilenet_v2_035',
    'mobilenet_v3_small',
    'mobilenet_v3_large',
    'mobilenet_v3_small_minimalistic',
    'mobilenet_v3_large_minimalistic',
    'mobilenet_edgetpu',
    'mobilenet_edgetpu_075',
    'nasnet_cifar',
    'nasnet_mobile',
    'nasnet_large',
    'pnasnet_large',
    'pnasnet_mobile',
}


def test_list_networks():
    assert len(TF_SLIM_NAMES) == 40
    names = nets_factory.list_networks()
    assert names == sorted(names)
    assert set(names) <= TF_SLIM_NAMES
    assert {
        'cifarnet',
        'inception_v3',
        'lenet',
        'resnet_v1_50',
        'resnet_v2_200',
    } <= set(names)


@pytest.mark.parametrize(
    'name,channels,num_variables', [('lenet', 1, 8), ('cifarnet', 3, 10)]
)
def test_small_nets_build_with_their_scope(name, channels, num_variables):
    model = nets_factory.get_network_fn(name, num_classes=5, weight_decay=0.01)
    assert isinstance(model, slim.Model)
    size = model.default_image_size
    logits, end_points = model(tf.zeros([3, size, size, channels]))
    assert logits.shape == (3, 5)
    assert end_points['Predictions'].shape == (3, 5)
    assert len(model.variables) == num_variables
    # The net's own arg scope is applied inside: its regularised layers.
    assert len(model.losses) == {'lenet': 4, 'cifarnet': 2}[name]


def test_default_image_sizes():
    for name, size in (('lenet', 28), ('cifarnet', 32), ('inception_v3', 299)):
        model = nets_factory.get_network_fn(name, num_classes=10)
        assert model.default_image_size == size
        assert model.network_name == name
        assert nets_factory.get_network_spec(name).default_image_size == size


def test_inception_v3_gets_its_arg_scope_and_weight_decay():
    model = nets_factory.get_network_fn(
        'inception_v3', num_classes=4, weight_decay=0.00004
    )
    logits, end_points = model(
        tf.zeros([1, 107, 107, 3]), depth_multiplier=0.25
    )
    assert logits.shape == (1, 4)
    names = [v.name for v in model.variables]
    assert 'InceptionV3/Conv2d_1a_3x3/BatchNorm/moving_mean:0' in names
    assert 'InceptionV3/AuxLogits/Conv2d_2b_1x1/weights:0' in names
    assert len(model.losses) == sum(n.endswith('weights:0') for n in names)


def test_is_training_default_and_override():
    model = nets_factory.get_network_fn(
        'lenet', num_classes=10, is_training=False
    )
    images = tf.random.uniform([2, 28, 28, 1])
    _, evaluation = model(images)
    np.testing.assert_array_equal(evaluation['dropout3'], evaluation['fc3'])
    _, training = model(images, is_training=True)
    assert not np.array_equal(training['dropout3'], training['fc3'])


def test_traced_calls_reuse_variables():
    model = nets_factory.get_network_fn('cifarnet', num_classes=10)
    images = tf.random.uniform([2, 32, 32, 3])
    eager, _ = model(images)
    count = len(model.variables)
    traced, _ = tf.function(model)(images)
    assert len(model.variables) == count
    np.testing.assert_allclose(traced, eager, rtol=1e-5, atol=1e-6)


def test_unknown_name_lists_known_names():
    with pytest.raises(ValueError, match='name') as error:
        nets_factory.get_network_fn('resnet_v9', num_classes=10)
    message = str(error.value)
    assert "'resnet_v9'" in message
    for name in nets_factory.list_networks():
        assert name in message


def test_register_model_as_decorator():
    def tiny_arg_scope(weight_decay=0.0):
        with slim.arg_scope(
            [slim.fully_connected],
            weights_regularizer=slim.l2_regularizer(weight_decay),
        ) as scope:
            return scope

    @nets_factory.register_model(
        name='tiny_test_net', arg_scope=tiny_arg_scope, default_image_size=8
    )
    def tiny(images, num_classes=10, is_training=False, scope='Tiny'):
        with slim.variable_scope(scope, 'Tiny', [images]):
            logits = slim.fully_connected(
                slim.flatten(images),
                num_classes,
                activation_fn=None,
                scope='logits',
            )
        return logits, {'Logits': logits}

    try:
        assert 'tiny_test_net' in nets_factory.list_networks()
        model = nets_factory.get_network_fn(
            'tiny_test_net', num_classes=3, weight_decay=0.1
        )
        logits, _ = model(tf.zeros([2, 8, 8, 1]))
        assert logits.shape == (2, 3)
        assert [v.name for v in model.variables] == [
            'Tiny/logits/weights:0',
            'Tiny/logits/biases:0',
        ]
        assert len(model.losses) == 1
        assert tiny.__name__ == 'tiny'  # registering does not wrap the net
    finally:
        nets_factory._REGISTRY.pop('tiny_test_net', None)


def test_register_model_errors():
    with pytest.raises(ValueError, match="'lenet' is already registered"):
        nets_factory.register_model(
            lenet.lenet, arg_scope=lenet.lenet_arg_scope
        )

    def sizeless(images, num_classes=10, is_training=False):
        return images, {}

    with pytest.raises(ValueError, match='default_image_size'):
        nets_factory.register_model(sizeless, arg_scope=lenet.lenet_arg_scope)
    assert 'sizeless' not in nets_factory.list_networks()


def test_registered_functions_are_the_modules():
    assert nets_factory.get_network_spec('inception_v3').fn is (
        inception_v3.inception_v3
    )
    assert nets_factory.get_network_spec('cifarnet').arg_scope is (
        cifarnet.cifarnet_arg_scope
    )


def _builds_at(name, size):
    """Whether net `name` builds for a size x size input (a cheap graph build;
    a video net gets its registered number of frames of that size)."""
    frames = nets_factory.get_network_spec(name).num_frames
    try:
        with tf.Graph().as_default():
            model = nets_factory.get_network_fn(name, num_classes=10)
            model(
                tf.compat.v1.placeholder(
                    tf.float32,
                    [1] + ([frames] if frames else []) + [size, size, 3],
                )
            )
        return True
    except ValueError:
        return False


# A family's variants share its first member's stem, so its smallest size.
@pytest.mark.parametrize(
    'name',
    [
        n
        for n in nets_factory.list_networks()
        if nets_factory.get_network_spec(n).min_image_size and n not in VARIANTS
    ],
)
def test_min_image_size_is_the_smallest_that_builds(name):
    smallest = nets_factory.get_network_spec(name).min_image_size
    assert _builds_at(name, smallest)
    assert not _builds_at(name, smallest - 1)
