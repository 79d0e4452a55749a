"""Tests of the preprocessing styles and their factory.

The expected values are computed independently in each test (numpy crops,
TF-Slim's resize kernel, the means) rather than taken from this code's output.
"""

import numpy as np
import pytest
import tensorflow as tf

from preprocessing import cifarnet_preprocessing
from preprocessing import inception_preprocessing
from preprocessing import lenet_preprocessing
from preprocessing import preprocessing_factory
from preprocessing import random_ops
from preprocessing import vgg_preprocessing

# Every net name of TF-Slim's research/slim nets_factory (image nets) and the
# style TF-Slim's preprocessing_factory gives it; the last three are our additions.
TF_SLIM_STYLES = {
    'cifarnet': 'cifarnet',
    'lenet': 'lenet',
    'inception_v1': 'inception',
    'inception_v2': 'inception',
    'inception_v3': 'inception',
    'inception_v4': 'inception',
    'inception_resnet_v2': 'inception',
    'mobilenet_v1': 'inception',
    'mobilenet_v2': 'inception',
    'mobilenet_v2_035': 'inception',
    'mobilenet_v2_140': 'inception',
    'mobilenet_v3_small': 'inception',
    'mobilenet_v3_large': 'inception',
    'mobilenet_v3_small_minimalistic': 'inception',
    'mobilenet_v3_large_minimalistic': 'inception',
    'mobilenet_edgetpu': 'inception',
    'mobilenet_edgetpu_075': 'inception',
    'nasnet_mobile': 'inception',
    'nasnet_large': 'inception',
    'pnasnet_mobile': 'inception',
    'pnasnet_large': 'inception',
    'vgg_a': 'vgg',
    'vgg_16': 'vgg',
    'vgg_19': 'vgg',
    'resnet_v1_50': 'vgg',
    'resnet_v1_101': 'vgg',
    'resnet_v1_152': 'vgg',
    'resnet_v1_200': 'vgg',
    'resnet_v2_50': 'vgg',
    'resnet_v2_101': 'vgg',
    'resnet_v2_152': 'vgg',
    'resnet_v2_200': 'vgg',
    'alexnet_v2': 'vgg',
    'overfeat': 'vgg',
    'nasnet_cifar': 'cifarnet',
    'mobilenet_v1_075': 'inception',
    'mobilenet_v1_050': 'inception',
    'mobilenet_v1_025': 'inception',
}
MODULES = {
    'inception': inception_preprocessing,
    'vgg': vgg_preprocessing,
    'cifarnet': cifarnet_preprocessing,
    'lenet': lenet_preprocessing,
}


def _image(height=350, width=400, seed=0):
    return (
        np.random.RandomState(seed)
        .randint(0, 256, (height, width, 3))
        .astype(np.uint8)
    )


def _tf_slim_central_crop(image, fraction):
    # The arithmetic of tf.image.central_crop, written out in numpy.
    height, width = image.shape[:2]
    top = int((height - height * fraction) / 2)
    left = int((width - width * fraction) / 2)
    return image[top : height - top, left : width - left]


def _resize_bilinear_v1(image, height, width):
    return tf.compat.v1.image.resize_bilinear(
        image[np.newaxis], [height, width], align_corners=False
    )[0].numpy()


def test_factory_maps_every_registered_net_to_its_tf_slim_style():
    from nets import nets_factory

    for name in _image_nets():
        assert name in TF_SLIM_STYLES, name
        assert (
            preprocessing_factory.style_of(name)
            is MODULES[TF_SLIM_STYLES[name]]
        ), name
    # research/slim names no preprocessing for its video nets (i3d, s3dg).
    for name in set(nets_factory.list_networks()) - set(_image_nets()):
        assert name not in TF_SLIM_STYLES, name
        assert preprocessing_factory.style_of(name) is None, name
    # Only styles and registered image nets are known.
    assert preprocessing_factory.list_preprocessings() == sorted(
        set(MODULES) | set(_image_nets())
    )
    for style, module in MODULES.items():
        assert preprocessing_factory.style_of(style) is module


def test_factory_passes_is_training_and_kwargs():
    image = _image()
    fn = preprocessing_factory.get_preprocessing(
        'inception_v3', is_training=True
    )
    direct = inception_preprocessing.preprocess_image(
        image, 64, 64, is_training=True, seed=5
    )
    np.testing.assert_array_equal(fn(image, 64, 64, seed=5), direct)
    gray = preprocessing_factory.get_preprocessing(
        'resnet_v1_50', use_grayscale=True
    )
    assert gray(image, 224, 224).shape == (224, 224, 1)


def test_factory_unknown_name_lists_the_valid_ones():
    with pytest.raises(
        ValueError, match=r"name='resnet_v9'.*inception_v3.*resnet_v1_50.*vgg"
    ):
        preprocessing_factory.get_preprocessing('resnet_v9')


def test_factory_refuses_non_bool_flags():
    with pytest.raises(TypeError, match='is_training'):
        preprocessing_factory.get_preprocessing('lenet', is_training='yes')


def test_inception_eval_is_central_crop_bilinear_resize_and_scaling():
    image = _image()
    expected = _tf_slim_central_crop(image.astype(np.float32) / 255.0, 0.875)
    expected = (_resize_bilinear_v1(expected, 299, 299) - 0.5) * 2.0
    fn = preprocessing_factory.get_preprocessing(
        'inception_v3', is_training=False
    )
    np.testing.assert_allclose(
        fn(tf.constant(image), 299, 299), expected, atol=1e-5
    )
    # The kernel TF-Slim used differs from TF2's default resize, so it matters.
    crop = _tf_slim_central_crop(image.astype(np.float32) / 255.0, 0.875)
    tf2 = (tf.image.resize(crop, [299, 299]).numpy() - 0.5) * 2.0
    assert np.abs(tf2 - expected).max() > 1e-3


def test_inception_train_shape_range_and_seed():
    image = tf.constant(_image())
    fn = preprocessing_factory.get_preprocessing(
        'inception_v3', is_training=True
    )
    outputs = [fn(image, 299, 299, seed=seed).numpy() for seed in (1, 1, 2, 3)]
    for output in outputs:
        assert output.shape == (299, 299, 3) and output.dtype == np.float32
        assert output.min() >= -1.0 and output.max() <= 1.0
    np.testing.assert_array_equal(outputs[0], outputs[1])
    assert np.abs(outputs[0] - outputs[2]).max() > 0.1
    assert np.abs(outputs[2] - outputs[3]).max() > 0.1


def test_inception_train_slow_mode_and_without_seed():
    image = tf.constant(_image(120, 100))
    slow = inception_preprocessing.preprocess_image(
        image, 64, 48, is_training=True, fast_mode=False, seed=[3, 4]
    )
    assert slow.shape == (64, 48, 3)
    assert (
        -1.0 <= float(tf.reduce_min(slow)) and float(tf.reduce_max(slow)) <= 1.0
    )
    tf.random.set_seed(7)
    first = inception_preprocessing.preprocess_image(
        image, 32, 32, is_training=True
    )
    second = inception_preprocessing.preprocess_image(
        image, 32, 32, is_training=True
    )
    assert (
        np.abs(first - second).max() > 0
    )  # fresh randomness when no seed is given


def test_inception_train_works_in_a_tf_data_pipeline():
    fn = preprocessing_factory.get_preprocessing('inception', is_training=True)
    ds = (
        tf.data.Dataset.from_tensors(_image(60, 80))
        .repeat(3)
        .map(lambda x: fn(x, 40, 40), num_parallel_calls=2)
    )
    assert [tuple(x.shape) for x in ds] == [(40, 40, 3)] * 3


def test_distort_color_refuses_unknown_ordering():
    with pytest.raises(ValueError, match='color_ordering=4'):
        inception_preprocessing.distort_color(
            tf.zeros([4, 4, 3]), color_ordering=4
        )


def test_split_seed_refuses_bad_shape():
    with pytest.raises(ValueError, match='shape'):
        random_ops.split_seed([1, 2, 3], 2)


def test_vgg_means_are_subtracted():
    value = 200
    image = np.full((300, 260, 3), value, np.uint8)
    for is_training in (False, True):
        fn = preprocessing_factory.get_preprocessing(
            'resnet_v1_50', is_training=is_training
        )
        output = fn(image, 224, 224, seed=1).numpy()
        assert output.shape == (224, 224, 3)
        np.testing.assert_allclose(output[..., 0], value - 123.68, atol=1e-3)
        np.testing.assert_allclose(output[..., 1], value - 116.78, atol=1e-3)
        np.testing.assert_allclose(output[..., 2], value - 103.94, atol=1e-3)


def test_vgg_eval_is_aspect_preserving_resize_to_256_and_central_crop():
    image = _image(350, 400)
    # Smaller side 350 -> 256; the other side truncated as TF-Slim computes it.
    new_width = int(np.float32(400) * (np.float32(256) / np.float32(350)))
    resized = _resize_bilinear_v1(image.astype(np.float32), 256, new_width)
    top, left = (256 - 224) // 2, (new_width - 224) // 2
    expected = resized[top : top + 224, left : left + 224] - np.array(
        [123.68, 116.78, 103.94]
    )
    fn = preprocessing_factory.get_preprocessing('resnet_v1_50')
    np.testing.assert_allclose(fn(image, 224, 224), expected, atol=1e-3)


def test_vgg_train_resize_side_lies_in_256_512():
    # A crop of 256x256 from an image resized to smaller side 256..512 always fits.
    fn = preprocessing_factory.get_preprocessing('vgg', is_training=True)
    outputs = [fn(_image(300, 300), 256, 256, seed=s).numpy() for s in range(3)]
    assert all(o.shape == (256, 256, 3) for o in outputs)
    assert np.abs(outputs[0] - outputs[1]).max() > 1.0


def test_vgg_crop_larger_than_image_is_an_error():
    fn = preprocessing_factory.get_preprocessing('resnet_v1_50')
    with pytest.raises(tf.errors.InvalidArgumentError, match='crop is larger'):
        fn(_image(), 299, 299)


def test_cifarnet_eval_is_crop_and_standardization():
    image = _image(40, 36)
    fn = preprocessing_factory.get_preprocessing('cifarnet')
    output = fn(image, 32, 32).numpy()
    crop = image[4:36, 2:34].astype(np.float64)
    expected = (crop - crop.mean()) / max(crop.std(), 1.0 / np.sqrt(crop.size))
    np.testing.assert_allclose(output, expected, atol=1e-4)


def test_cifarnet_train_shape_standardized_and_seeded():
    fn = preprocessing_factory.get_preprocessing('cifarnet', is_training=True)
    image = _image(32, 32)
    first, again, other = (fn(image, 32, 32, seed=s).numpy() for s in (1, 1, 2))
    assert first.shape == (32, 32, 3)
    assert abs(first.mean()) < 1e-4 and abs(first.std() - 1.0) < 1e-3
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - other).max() > 0.1


def test_lenet_scales_as_tf_slim():
    image = _image(28, 28)
    for is_training in (False, True):
        fn = preprocessing_factory.get_preprocessing(
            'lenet', is_training=is_training
        )
        np.testing.assert_allclose(
            fn(image, 28, 28), (image.astype(np.float32) - 128.0) / 128.0
        )
    padded = preprocessing_factory.get_preprocessing('lenet')(
        image, 32, 32
    ).numpy()
    assert padded.shape == (32, 32, 3)
    np.testing.assert_allclose(padded[0, 0], -1.0)  # zero padding maps to -1


def test_every_image_net_of_our_nets_factory_has_a_preprocessing():
    missing = [
        name
        for name in _image_nets()
        if preprocessing_factory.style_of(name) is None
    ]
    assert not missing


def _image_nets():
    """The registered nets that take images (not clips of frames)."""
    from nets import nets_factory

    return [
        name
        for name in nets_factory.list_networks()
        if not nets_factory.get_network_spec(name).num_frames
    ]
