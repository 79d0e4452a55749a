"""What the net tests share: running a TF-Slim net in a TF1 graph (the
oracle), comparing our end points with its, and the golden variable files."""

import contextlib
import json
import os

import numpy as np
import pytest
import tensorflow as tf

RTOL = 1e-4

# Deeper or wider variants of a family: same code as the first member, so
# the slower checks run on that one only.
VARIANTS = {
    'resnet_v1_101',
    'resnet_v1_152',
    'resnet_v1_200',
    'resnet_v2_101',
    'resnet_v2_152',
    'resnet_v2_200',
    'vgg_a',
    'vgg_19',
    'mobilenet_v1_075',
    'mobilenet_v1_050',
    'mobilenet_v1_025',
    'mobilenet_v2_140',
    'mobilenet_v2_035',
    'mobilenet_v3_large',
    'mobilenet_v3_small_minimalistic',
    'mobilenet_v3_large_minimalistic',
    'mobilenet_edgetpu',
    'mobilenet_edgetpu_075',
    'nasnet_large',
    'pnasnet_large',
}
GOLDEN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'golden')


def run_graph_net(
    build, images, ckpt_prefix=None, seed=0, randomize_statistics=False
):
    """Builds `build(inputs)` (it returns the end points) in a TF1 graph,
    initialises it with `seed`, saves it to `ckpt_prefix` with a TF1 Saver if
    given, and runs it on `images`. With `randomize_statistics`, batch-norm
    statistics, betas and biases start random instead of 0 and 1, so that a
    checkpoint that loses or swaps them shows in the outputs.

    Returns:
      ({variable name: shape}, {end point: value}, [regularization losses]).
    """
    with tf.Graph().as_default():
        tf.compat.v1.set_random_seed(seed)
        inputs = tf.compat.v1.placeholder(tf.float32, images.shape)
        end_points = build(inputs)
        variables = tf.compat.v1.global_variables()
        losses = tf.compat.v1.get_collection(
            tf.compat.v1.GraphKeys.REGULARIZATION_LOSSES
        )
        with tf.compat.v1.Session() as sess:
            sess.run(
                tf.compat.v1.global_variables_initializer(),
                random_statistics(variables, np.random.RandomState(seed))
                if randomize_statistics
                else None,
            )
            if ckpt_prefix:
                tf.compat.v1.train.Saver(variables).save(
                    sess, ckpt_prefix, write_meta_graph=False
                )
            outputs, losses = sess.run((end_points, losses), {inputs: images})
    return {v.op.name: v.shape.as_list() for v in variables}, outputs, losses


def he_uniform_weights(getter, name, *args, **kwargs):
    """A TF1 custom getter: weights start He-uniform instead of truncated
    normal, whose TF kernel takes seconds for the large fully connected layers
    (AlexNet's fc6 has 26M values, OverFeat's 113M). Only the forward pass of
    given weights is compared, so their start is immaterial."""
    shape = kwargs.get('shape')
    if name.endswith('/weights') and shape is not None:
        limit = (6.0 / np.prod(shape[:-1])) ** 0.5
        kwargs['initializer'] = tf.compat.v1.random_uniform_initializer(
            -limit, limit
        )
    return getter(name, *args, **kwargs)


@contextlib.contextmanager
def zero_start():
    """Our weights start at zero while a model to be restored is built: its
    truncated-normal start (TF's kernel) takes seconds for large layers such
    as AlexNet's or OverFeat's fc6 and fc7, and the checkpoint overwrites it."""
    import slim

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            slim,
            'truncated_normal_initializer',
            lambda *args, **kwargs: tf.zeros_initializer(),
        )
        with slim.arg_scope(
            [slim.conv2d], weights_initializer=tf.zeros_initializer()
        ):
            yield


def random_images(height, width=None, batch=1, seed=1):
    """`batch` images of height x width (square if no width), uniform in
    [-1, 1), from a RandomState seeded with `seed`."""
    rng = np.random.RandomState(seed)
    return rng.uniform(-1, 1, (batch, height, width or height, 3)).astype(
        np.float32
    )


def random_statistics(variables, rng):
    """A feed dict giving batch norm statistics, betas and biases random
    initial values (one initializer run; a `load` per variable takes seconds)."""
    feed = {}
    for v in variables:
        shape = v.shape.as_list()
        if v.op.name.endswith('moving_variance'):
            feed[v.initial_value] = rng.uniform(0.5, 1.5, shape).astype(
                np.float32
            )
        elif v.op.name.endswith(('moving_mean', 'beta', 'biases')):
            feed[v.initial_value] = rng.uniform(-0.1, 0.1, shape).astype(
                np.float32
            )
    return feed


def variable_shapes(model):
    """{name: shape} of a slim.Model's variables, named as TF-Slim's."""
    return {v.name[:-2]: v.shape.as_list() for v in model.variables}


def relative_error(ours, theirs):
    """max|ours - theirs| / max|theirs|, in float64."""
    ours = np.asarray(ours, np.float64)
    theirs = np.asarray(theirs, np.float64)
    return np.abs(ours - theirs).max() / max(np.abs(theirs).max(), 1e-30)


def assert_close(ours, theirs, what, rtol=RTOL):
    """max|ours - theirs| <= rtol * max|theirs|, and the same shapes."""
    assert np.shape(ours) == np.shape(theirs), (
        what,
        np.shape(ours),
        np.shape(theirs),
    )
    error = relative_error(ours, theirs)
    assert error <= rtol, (
        '{}: max|ours - tf_slim| / max|tf_slim| = {:.2e} > {}'.format(
            what, error, rtol
        )
    )


def golden_path(net_name):
    return os.path.join(GOLDEN_DIR, net_name + '.json')


def load_golden(net_name):
    with open(golden_path(net_name)) as f:
        return json.load(f)


def write_golden(net_name, shapes):
    """Rewrites tests/golden/<net_name>.json, one variable a line, sorted."""
    path = golden_path(net_name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(
            '{\n'
            + ',\n'.join(
                ' {}: {}'.format(json.dumps(k), json.dumps(shapes[k]))
                for k in sorted(shapes)
            )
            + '\n}\n'
        )
    print('wrote', len(shapes), 'variables to', path)
