"""Tests nets/vgg.py against TF-Slim 1.1.0's VGG nets (the oracle).

TF-Slim 1.1.0's vgg_a, vgg_16 and vgg_19 are research/slim's without the
later arguments fc_conv_padding, global_pool and num_classes=None. For those
the oracle graph adds research/slim's few extra lines (its fc head) on
tf_slim layers that reuse the oracle's variables.

VGG's fc6 alone holds 102M weights, so the tests keep the costly parts to one
oracle graph of vgg_16 (its weights saved once and restored by name into one
model of ours, built with zero initial values since the checkpoint overwrites
them), and check vgg_a and vgg_19 by their variables and, at 32 x 32, by
their convolutional trunk.

Run as a script to rewrite tests/golden/{vgg_a,vgg_16,vgg_19}.json from the
oracle:
    python tests/test_vgg.py
"""

import re

import numpy as np
import pytest
import tensorflow as tf

from net_oracle import (
    RTOL,
    assert_close,
    load_golden,
    random_images,
    random_statistics,
    run_graph_net,
    variable_shapes,
    write_golden,
)

NET_NAMES = ('vgg_a', 'vgg_16', 'vgg_19')
NUM_CLASSES = 1000  # the released vgg_16.ckpt and vgg_19.ckpt


# ---------------------------------------------------------------- the oracle


def _tf_slim_net(name):
    from tf_slim.nets import vgg as tf_slim_vgg

    return getattr(tf_slim_vgg, name), tf_slim_vgg.vgg_arg_scope


def oracle_graph(name, num_classes=NUM_CLASSES):
    """Builds TF-Slim's net for 224 x 224 inputs without running anything.

    Returns:
      ({variable name: shape}, [end point names, in TF-Slim's order]).
    """
    import tf_slim

    fn, arg_scope = _tf_slim_net(name)
    with tf.Graph().as_default():
        inputs = tf.compat.v1.placeholder(tf.float32, [1, 224, 224, 3])
        with tf_slim.arg_scope(arg_scope()):
            _, end_points = fn(inputs, num_classes, is_training=False)
        shapes = {
            v.op.name: v.shape.as_list()
            for v in tf.compat.v1.global_variables()
        }
    return shapes, list(end_points)


def _research_slim_head(
    pool5,
    num_classes,
    fc_conv_padding='VALID',
    global_pool=False,
    spatial_squeeze=True,
    scope='vgg_16',
):
    """research/slim's fc6..fc8 (with its fc_conv_padding and global_pool), on
    tf_slim layers reusing the variables of `scope`; inference mode, so the
    dropouts are left out. Returns the end points it adds."""
    import tf_slim

    _, arg_scope = _tf_slim_net(scope)
    end_points = {}
    with tf_slim.arg_scope(arg_scope()):
        with tf.compat.v1.variable_scope(scope, reuse=True):
            net = tf_slim.conv2d(
                pool5, 4096, [7, 7], padding=fc_conv_padding, scope='fc6'
            )
            end_points[scope + '/fc6'] = net
            net = tf_slim.conv2d(net, 4096, [1, 1], scope='fc7')
            end_points[scope + '/fc7'] = net
            if global_pool:
                net = tf.reduce_mean(net, [1, 2], keepdims=True)
                end_points['global_pool'] = net
            net = tf_slim.conv2d(
                net,
                num_classes,
                [1, 1],
                activation_fn=None,
                normalizer_fn=None,
                scope='fc8',
            )
            if spatial_squeeze:
                net = tf.squeeze(net, [1, 2])
            end_points[scope + '/fc8'] = net
    return end_points


def _own_keys(end_points, name):
    # A second tower of TF-Slim's net names its pools by its own name scope
    # ('vgg_16_1/pool1'); its convolutions by the shared variable scope.
    return {
        re.sub('^%s_\\d+/' % name, name + '/', k): v
        for k, v in end_points.items()
    }


def oracle_vgg_16(images, large_images, small_images, ckpt_prefix):
    """TF-Slim's vgg_16 on three inputs, its weights saved to `ckpt_prefix`.

    Returns:
      shapes: {variable name: shape}.
      outputs: {'default': end points and 'logits' for `images`;
        'large': end points for `large_images`, spatial_squeeze=False;
        'global_pool': research/slim's global_pool head on 'large';
        'same': research/slim's fc_conv_padding='SAME' head (spatial_squeeze
        False) on `small_images`, with the trunk's end points}.
      losses: the values of the graph's regularization losses.
    """
    import tf_slim

    fn, arg_scope = _tf_slim_net('vgg_16')

    def build(inputs):
        with tf_slim.arg_scope(arg_scope()):
            logits, default = fn(inputs, NUM_CLASSES, is_training=False)
            with tf.compat.v1.variable_scope(
                tf.compat.v1.get_variable_scope(), reuse=True
            ):
                _, large = fn(
                    tf.constant(large_images),
                    NUM_CLASSES,
                    is_training=False,
                    spatial_squeeze=False,
                )
                # An input of unknown size lets the graph build on an image too
                # small for fc6's VALID padding; only the trunk of it is run.
                small = tf.compat.v1.placeholder_with_default(
                    tf.constant(small_images), [None, None, None, 3]
                )
                _, trunk = fn(
                    small, NUM_CLASSES, is_training=False, spatial_squeeze=False
                )
        large = _own_keys(large, 'vgg_16')
        trunk = {
            k: v
            for k, v in _own_keys(trunk, 'vgg_16').items()
            if '/fc' not in k
        }
        return {
            'default': dict(default, logits=logits),
            'large': large,
            'global_pool': _research_slim_head(
                large['vgg_16/pool5'], NUM_CLASSES, global_pool=True
            ),
            'same': dict(
                trunk,
                **_research_slim_head(
                    trunk['vgg_16/pool5'],
                    NUM_CLASSES,
                    fc_conv_padding='SAME',
                    spatial_squeeze=False,
                ),
            ),
        }

    return run_graph_net(build, images, ckpt_prefix, randomize_statistics=True)


def oracle_trunk(name, images, ckpt_prefix, seed=0):
    """Runs the convolutions and pools of TF-Slim's net on `images` (of any
    size down to 32 x 32), with only those variables initialised (randomly)
    and saved to `ckpt_prefix`. Returns {end point: value} of the trunk."""
    import tf_slim

    fn, arg_scope = _tf_slim_net(name)
    with tf.Graph().as_default():
        tf.compat.v1.set_random_seed(seed)
        inputs = tf.compat.v1.placeholder(tf.float32, [None, None, None, 3])
        with tf_slim.arg_scope(arg_scope()):
            _, end_points = fn(
                inputs, NUM_CLASSES, is_training=False, spatial_squeeze=False
            )
        trunk = [
            v for v in tf.compat.v1.global_variables() if '/fc' not in v.op.name
        ]
        fetches = {k: v for k, v in end_points.items() if '/fc' not in k}
        with tf.compat.v1.Session() as sess:
            sess.run(
                tf.compat.v1.variables_initializer(trunk),
                random_statistics(trunk, np.random.RandomState(seed)),
            )
            tf.compat.v1.train.Saver(trunk).save(
                sess, ckpt_prefix, write_meta_graph=False
            )
            return sess.run(fetches, {inputs: images})


# ---------------------------------------------------------------- our side


def _model(name, zero_init=False, **kwargs):
    """Our net `name` under vgg_arg_scope as a slim.Model in inference mode.

    zero_init: start the convolutions at zero instead of random values, for
      models whose weights a checkpoint overwrites (random init of 130M
      weights takes seconds).
    """
    import slim
    from nets import vgg

    def net(images, **call_kwargs):
        with slim.arg_scope(vgg.vgg_arg_scope()):
            if zero_init:
                with slim.arg_scope(
                    [slim.conv2d], weights_initializer=tf.zeros_initializer()
                ):
                    return getattr(vgg, name)(images, **call_kwargs)
            return getattr(vgg, name)(images, **call_kwargs)

    return slim.Model(net, is_training=False, **kwargs)


def _assert_end_points_match(ours, theirs, keys=None):
    assert list(ours) == list(keys if keys is not None else theirs)
    for name, value in theirs.items():
        assert_close(ours[name], value, name)


@pytest.fixture(scope='module')
def run_16(tmp_path_factory):
    import slim

    images = random_images(224)
    large, small = random_images(256, 288, seed=2), random_images(64, seed=3)
    prefix = str(tmp_path_factory.mktemp('vgg_16') / 'model.ckpt')
    shapes, theirs, losses = oracle_vgg_16(images, large, small, prefix)
    model = _model('vgg_16', zero_init=True, num_classes=NUM_CLASSES)
    model.build(tf.TensorSpec([1, 224, 224, 3]))
    slim.assign_from_checkpoint(slim.get_variables_to_restore(model), prefix)
    return dict(
        images=images,
        large=large,
        small=small,
        prefix=prefix,
        shapes=shapes,
        theirs=theirs,
        losses=losses,
        model=model,
    )


# ---------------------------------------------------------------- tests


@pytest.mark.parametrize(
    'name,count', [('vgg_a', 22), ('vgg_16', 32), ('vgg_19', 38)]
)
def test_variables_and_end_points_match_oracle_and_golden(name, count):
    shapes, their_keys = oracle_graph(name)
    golden = load_golden(name)
    assert len(golden) == count
    assert shapes == golden
    model = _model(name, zero_init=True, num_classes=NUM_CLASSES)
    end_point_keys = []

    def trace(images):
        _, end_points = model(images)
        end_point_keys[:] = end_points  # the last trace's
        return 0

    tf.function(trace, autograph=False).get_concrete_function(
        tf.TensorSpec([1, 224, 224, 3])
    )
    assert variable_shapes(model) == golden
    assert end_point_keys == their_keys
    assert [v.name[:-2] for v in model.variables][-2:] == [
        name + '/fc8/weights',
        name + '/fc8/biases',
    ]


def test_restored_vgg_16_matches_oracle(run_16):
    theirs = dict(run_16['theirs']['default'])
    their_logits = theirs.pop('logits')
    logits, ours = run_16['model'](tf.constant(run_16['images']))
    _assert_end_points_match(ours, theirs)
    assert_close(logits, their_logits, 'logits')
    assert logits.shape == (1, NUM_CLASSES)
    assert ours['vgg_16/pool5'].shape == (1, 7, 7, 512)
    # The checkpoint held every variable, with random biases.
    reader = tf.train.load_checkpoint(run_16['prefix'])
    assert set(reader.get_variable_to_shape_map()) == set(run_16['shapes'])
    biases = reader.get_tensor('vgg_16/conv5/conv5_3/biases')
    assert biases.std() > 0.01
    np.testing.assert_array_equal(
        run_16['model'].get_variable('vgg_16/conv5/conv5_3/biases').numpy(),
        biases,
    )


def test_regularization_losses_match_oracle(run_16):
    model = run_16['model']
    model(tf.constant(run_16['images']))
    assert len(model.losses) == len(run_16['losses']) == 16
    np.testing.assert_allclose(
        float(tf.add_n(model.losses)), sum(run_16['losses']), rtol=RTOL
    )


def test_traced_with_unknown_size_runs_fully_convolutionally(run_16):
    model = run_16['model']
    count = len(model.variables)
    # No autograph: the net has no tensor-dependent control flow, and
    # converting the layers costs seconds.
    traced = tf.function(
        lambda images: model(images, spatial_squeeze=False),
        input_signature=[tf.TensorSpec([None, None, None, 3])],
        autograph=False,
    )
    logits, ours = traced(tf.constant(run_16['large']))
    assert len(model.variables) == count
    assert logits.shape == (1, 2, 3, NUM_CLASSES)
    _assert_end_points_match(ours, run_16['theirs']['large'])
    # The same concrete function at the default size gives the eager logits.
    logits, _ = traced(tf.constant(run_16['images']))
    assert_close(
        tf.squeeze(logits, [1, 2]),
        run_16['theirs']['default']['logits'],
        'traced logits',
    )


def test_global_pool_matches_research_slim_head(run_16):
    theirs = run_16['theirs']
    logits, ours = run_16['model'](
        tf.constant(run_16['large']), global_pool=True
    )
    assert logits.shape == (1, NUM_CLASSES)
    keys = list(theirs['large'])
    keys.insert(keys.index('vgg_16/fc8'), 'global_pool')
    assert list(ours) == keys
    assert_close(
        ours['global_pool'], theirs['global_pool']['global_pool'], 'global_pool'
    )
    assert_close(logits, theirs['global_pool']['vgg_16/fc8'], 'logits')


def test_fc_conv_padding_same_matches_research_slim_head(run_16):
    # At 64 x 64 pool5 is 2 x 2; fc6 'SAME' keeps it (VALID could not run).
    logits, ours = run_16['model'](
        tf.constant(run_16['small']),
        fc_conv_padding='SAME',
        spatial_squeeze=False,
    )
    theirs = run_16['theirs']['same']
    assert logits.shape == (1, 2, 2, NUM_CLASSES)
    _assert_end_points_match(ours, theirs, keys=run_16['theirs']['large'])


@pytest.mark.parametrize('num_classes', [0, None])
def test_no_classes_returns_fc7(run_16, num_classes):
    theirs = dict(run_16['theirs']['default'])
    del theirs['logits'], theirs['vgg_16/fc8']
    net, ours = run_16['model'](
        tf.constant(run_16['images']), num_classes=num_classes
    )
    _assert_end_points_match(ours, theirs)
    assert net is ours['vgg_16/fc7']
    assert net.shape == (1, 1, 1, 4096)


def test_no_classes_builds_no_fc8():
    model = _model('vgg_a', zero_init=True, num_classes=None, global_pool=True)
    model.build(tf.TensorSpec([2, 224, 256, 3]))
    names = [v.name for v in model.variables]
    assert len(names) == 20 and not [n for n in names if '/fc8/' in n]


@pytest.mark.parametrize('name', ['vgg_a', 'vgg_19'])
def test_trunk_matches_oracle_at_32(name, tmp_path):
    import slim

    images = random_images(32, batch=2)
    prefix = str(tmp_path / 'model.ckpt')
    theirs = oracle_trunk(name, images, prefix)
    # fc6 'SAME' lets our net run at 32 x 32; only the trunk is compared.
    model = _model(
        name, zero_init=True, num_classes=NUM_CLASSES, fc_conv_padding='SAME'
    )
    model.build(tf.TensorSpec([2, 32, 32, 3]))
    restored = slim.assign_from_checkpoint(
        slim.get_variables_to_restore(
            model, exclude=[name + '/fc6', name + '/fc7', name + '/fc8']
        ),
        prefix,
    )
    assert len(restored) == 2 * (8 if name == 'vgg_a' else 16)
    logits, ours = model(tf.constant(images))
    assert logits.shape == (2, NUM_CLASSES)
    assert list(ours)[: len(theirs)] == list(theirs)
    for key, value in theirs.items():
        assert_close(ours[key], value, key)
    assert ours[name + '/pool5'].shape == (2, 1, 1, 512)


def test_bad_fc_conv_padding_raises():
    model = _model('vgg_a', zero_init=True, fc_conv_padding='FULL')
    with pytest.raises(ValueError, match='FULL'):
        model.build(tf.TensorSpec([1, 224, 224, 3]))


def test_aliases_and_default_image_size():
    from nets import vgg

    assert vgg.vgg_d is vgg.vgg_16 and vgg.vgg_e is vgg.vgg_19
    for name in NET_NAMES:
        assert getattr(vgg, name).default_image_size == 224


if __name__ == '__main__':
    import conftest  # noqa: F401  (the aliases tf_slim needs)

    for net_name in NET_NAMES:
        write_golden(net_name, oracle_graph(net_name)[0])
