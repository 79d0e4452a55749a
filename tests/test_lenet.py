"""Tests nets/lenet.py against research/slim's LeNet rebuilt on tf_slim.

tf_slim 1.1.0 ships no LeNet, so `oracle_lenet` below is research/slim's
lenet.py and lenet_arg_scope, line for line, on tf_slim's layers in graph
mode. Its variables are the golden names; its weights, saved by a TF1 Saver
and restored by name into our net, must give the same end points.

Run as a script to rewrite tests/golden/lenet.json from the oracle:
    python tests/test_lenet.py
"""

import numpy as np
import pytest
import tensorflow as tf

from net_oracle import (
    RTOL,
    assert_close,
    load_golden,
    run_graph_net,
    variable_shapes,
    write_golden,
)


def oracle_lenet(
    images, ckpt_prefix=None, num_classes=10, weight_decay=0.0, seed=0
):
    """research/slim's LeNet on tf_slim, graph mode: (shapes, outputs, losses)."""
    import tf_slim

    def build(inputs):
        with tf_slim.arg_scope(
            [tf_slim.conv2d, tf_slim.fully_connected],
            weights_regularizer=tf_slim.l2_regularizer(weight_decay),
            weights_initializer=tf.compat.v1.truncated_normal_initializer(
                stddev=0.1
            ),
            activation_fn=tf.nn.relu,
        ):
            end_points = {}
            with tf.compat.v1.variable_scope('LeNet', 'LeNet', [inputs]):
                net = end_points['conv1'] = tf_slim.conv2d(
                    inputs, 32, [5, 5], scope='conv1'
                )
                net = end_points['pool1'] = tf_slim.max_pool2d(
                    net, [2, 2], 2, scope='pool1'
                )
                net = end_points['conv2'] = tf_slim.conv2d(
                    net, 64, [5, 5], scope='conv2'
                )
                net = end_points['pool2'] = tf_slim.max_pool2d(
                    net, [2, 2], 2, scope='pool2'
                )
                net = tf_slim.flatten(net)
                end_points['Flatten'] = net
                net = end_points['fc3'] = tf_slim.fully_connected(
                    net, 1024, scope='fc3'
                )
                net = end_points['dropout3'] = tf_slim.dropout(
                    net, 0.5, is_training=False, scope='dropout3'
                )
                logits = end_points['Logits'] = tf_slim.fully_connected(
                    net, num_classes, activation_fn=None, scope='fc4'
                )
            end_points['Predictions'] = tf_slim.softmax(
                logits, scope='Predictions'
            )
        return end_points

    return run_graph_net(build, images, ckpt_prefix, seed)


def _images(batch=4, seed=1):
    return (
        np.random.RandomState(seed)
        .uniform(0, 1, (batch, 28, 28, 1))
        .astype(np.float32)
    )


def _scoped_lenet(images, weight_decay=0.0, **kwargs):
    import slim
    from nets import lenet

    with slim.arg_scope(lenet.lenet_arg_scope(weight_decay=weight_decay)):
        return lenet.lenet(images, **kwargs)


def test_variables_match_oracle_and_golden():
    import slim

    golden = load_golden('lenet')
    shapes, _, _ = oracle_lenet(_images())
    model = slim.Model(_scoped_lenet)
    logits, _ = model(tf.constant(_images()))
    assert shapes == golden
    assert variable_shapes(model) == golden
    assert logits.shape == (4, 10)


def test_restored_weights_match_oracle(tmp_path):
    import slim

    images = _images()
    prefix = str(tmp_path / 'lenet.ckpt')
    _, theirs, their_losses = oracle_lenet(images, prefix, weight_decay=0.01)
    model = slim.Model(_scoped_lenet, weight_decay=0.01)
    model(tf.constant(images))
    slim.assign_from_checkpoint(slim.get_variables_to_restore(model), prefix)
    logits, ours = model(tf.constant(images))
    assert set(ours) == set(theirs)
    for name in theirs:
        assert_close(ours[name], theirs[name], name)
    assert_close(logits, theirs['Logits'], 'logits')
    np.testing.assert_allclose(
        float(tf.add_n(model.losses)), sum(their_losses), rtol=RTOL
    )


def test_weight_decay_losses_match_oracle():
    import slim

    images = _images()
    _, _, theirs = oracle_lenet(images, weight_decay=0.01)
    model = slim.Model(_scoped_lenet, weight_decay=0.01)
    model(tf.constant(images))
    # conv1, conv2, fc3, fc4 weights; zero decay (the default) gives none.
    assert len(model.losses) == len(theirs) == 4
    zero = slim.Model(_scoped_lenet)
    zero(tf.constant(images))
    assert not zero.losses


def test_arg_scope_initialisers():
    import slim

    model = slim.Model(_scoped_lenet)
    model(tf.constant(_images()))
    weights = {v.name: v.numpy() for v in model.variables}
    fc3 = weights['LeNet/fc3/weights:0']
    # truncated_normal(stddev=0.1): within two sigmas, std ~0.088.
    assert np.abs(fc3).max() <= 0.2 + 1e-6
    assert 0.08 < fc3.std() < 0.095
    assert not weights['LeNet/fc3/biases:0'].any()


@pytest.mark.parametrize('num_classes', [0, None])
def test_no_classes_returns_fc3(num_classes):
    import slim

    model = slim.Model(_scoped_lenet, num_classes=num_classes)
    net, end_points = model(tf.constant(_images()))
    assert net.shape == (4, 1024)
    assert 'Logits' not in end_points and 'dropout3' not in end_points
    assert not [v for v in model.variables if 'fc4' in v.name]


def test_dropout_only_in_training():
    import slim

    model = slim.Model(_scoped_lenet)
    images = tf.constant(_images())
    _, evaluation = model(images)
    _, training = model(images, is_training=True)
    np.testing.assert_array_equal(evaluation['dropout3'], evaluation['fc3'])
    dropped = (training['dropout3'].numpy() == 0) & (
        training['fc3'].numpy() != 0
    )
    assert dropped.any()


def test_end_points_and_default_image_size():
    import slim
    from nets import lenet

    model = slim.Model(_scoped_lenet)
    _, end_points = model(tf.constant(_images(batch=2)))
    assert list(end_points) == [
        'conv1',
        'pool1',
        'conv2',
        'pool2',
        'Flatten',
        'fc3',
        'dropout3',
        'Logits',
        'Predictions',
    ]
    assert end_points['pool2'].shape == (2, 7, 7, 64)
    assert lenet.lenet.default_image_size == 28


if __name__ == '__main__':
    import conftest  # noqa: F401  (the aliases tf_slim needs)

    write_golden('lenet', oracle_lenet(_images())[0])
