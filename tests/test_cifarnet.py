"""Tests nets/cifarnet.py against research/slim's CifarNet rebuilt on tf_slim.

tf_slim 1.1.0 ships no CifarNet, so `oracle_cifarnet` below is research/slim's
cifarnet.py and cifarnet_arg_scope, line for line, on tf_slim's layers in
graph mode. Its variables are the golden names; its weights, saved by a TF1
Saver and restored by name into our net, must give the same end points.

Run as a script to rewrite tests/golden/cifarnet.json from the oracle:
    python tests/test_cifarnet.py
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


def oracle_cifarnet(
    images, ckpt_prefix=None, num_classes=10, weight_decay=0.004, seed=0
):
    """research/slim's CifarNet on tf_slim, graph mode: (shapes, outputs, losses)."""
    import tf_slim

    trunc_normal = lambda stddev: tf.compat.v1.truncated_normal_initializer(  # noqa: E731
        stddev=stddev
    )

    def build(inputs):
        with tf_slim.arg_scope(
            [tf_slim.conv2d],
            weights_initializer=tf.compat.v1.truncated_normal_initializer(
                stddev=5e-2
            ),
            activation_fn=tf.nn.relu,
        ):
            with tf_slim.arg_scope(
                [tf_slim.fully_connected],
                biases_initializer=tf.compat.v1.constant_initializer(0.1),
                weights_initializer=trunc_normal(0.04),
                weights_regularizer=tf_slim.l2_regularizer(weight_decay),
                activation_fn=tf.nn.relu,
            ):
                end_points = {}
                with tf.compat.v1.variable_scope(
                    'CifarNet', 'CifarNet', [inputs]
                ):
                    net = tf_slim.conv2d(inputs, 64, [5, 5], scope='conv1')
                    end_points['conv1'] = net
                    net = tf_slim.max_pool2d(net, [2, 2], 2, scope='pool1')
                    end_points['pool1'] = net
                    net = tf.nn.lrn(
                        net,
                        4,
                        bias=1.0,
                        alpha=0.001 / 9.0,
                        beta=0.75,
                        name='norm1',
                    )
                    net = tf_slim.conv2d(net, 64, [5, 5], scope='conv2')
                    end_points['conv2'] = net
                    net = tf.nn.lrn(
                        net,
                        4,
                        bias=1.0,
                        alpha=0.001 / 9.0,
                        beta=0.75,
                        name='norm2',
                    )
                    net = tf_slim.max_pool2d(net, [2, 2], 2, scope='pool2')
                    end_points['pool2'] = net
                    net = tf_slim.flatten(net)
                    end_points['Flatten'] = net
                    net = tf_slim.fully_connected(net, 384, scope='fc3')
                    end_points['fc3'] = net
                    net = tf_slim.dropout(
                        net, 0.5, is_training=False, scope='dropout3'
                    )
                    net = tf_slim.fully_connected(net, 192, scope='fc4')
                    end_points['fc4'] = net
                    logits = tf_slim.fully_connected(
                        net,
                        num_classes,
                        biases_initializer=tf.compat.v1.zeros_initializer(),
                        weights_initializer=trunc_normal(1 / 192.0),
                        weights_regularizer=None,
                        activation_fn=None,
                        scope='logits',
                    )
                    end_points['Logits'] = logits
                    end_points['Predictions'] = tf_slim.softmax(
                        logits, scope='Predictions'
                    )
        return end_points

    return run_graph_net(build, images, ckpt_prefix, seed)


def _images(batch=4, seed=1):
    return (
        np.random.RandomState(seed)
        .uniform(0, 1, (batch, 32, 32, 3))
        .astype(np.float32)
    )


def _scoped_cifarnet(images, weight_decay=0.004, **kwargs):
    import slim
    from nets import cifarnet

    with slim.arg_scope(cifarnet.cifarnet_arg_scope(weight_decay=weight_decay)):
        return cifarnet.cifarnet(images, **kwargs)


def test_variables_match_oracle_and_golden():
    import slim

    golden = load_golden('cifarnet')
    shapes, _, _ = oracle_cifarnet(_images())
    model = slim.Model(_scoped_cifarnet)
    logits, _ = model(tf.constant(_images()))
    assert shapes == golden
    assert variable_shapes(model) == golden
    assert logits.shape == (4, 10)


def test_restored_weights_match_oracle(tmp_path):
    import slim

    images = _images()
    prefix = str(tmp_path / 'cifarnet.ckpt')
    _, theirs, their_losses = oracle_cifarnet(images, prefix)
    model = slim.Model(_scoped_cifarnet)
    model(tf.constant(images))
    slim.assign_from_checkpoint(slim.get_variables_to_restore(model), prefix)
    logits, ours = model(tf.constant(images))
    assert set(ours) == set(theirs)
    for name in theirs:
        assert_close(ours[name], theirs[name], name)
    assert_close(logits, theirs['Logits'], 'logits')
    # fc3 and fc4 are decayed; the convolutions and the logits are not.
    assert len(model.losses) == len(their_losses) == 2
    np.testing.assert_allclose(
        float(tf.add_n(model.losses)), sum(their_losses), rtol=RTOL
    )


def test_arg_scope_initialisers():
    import slim

    model = slim.Model(_scoped_cifarnet)
    model(tf.constant(_images()))
    weights = {v.name[:-2]: v.numpy() for v in model.variables}
    for name in ('fc3', 'fc4'):
        np.testing.assert_array_equal(
            weights['CifarNet/%s/biases' % name], np.float32(0.1)
        )
    assert not weights['CifarNet/logits/biases'].any()
    assert not weights['CifarNet/conv1/biases'].any()
    # Truncated normals: |w| <= 2 stddev.
    for name, stddev in (('conv1', 5e-2), ('fc3', 0.04), ('logits', 1 / 192.0)):
        assert np.abs(weights['CifarNet/%s/weights' % name]).max() <= (
            2 * stddev + 1e-6
        ), name


@pytest.mark.parametrize('num_classes', [0, None])
def test_no_classes_returns_fc4(num_classes):
    import slim

    model = slim.Model(_scoped_cifarnet, num_classes=num_classes)
    net, end_points = model(tf.constant(_images()))
    assert net.shape == (4, 192)
    assert 'Logits' not in end_points
    assert not [v for v in model.variables if 'logits' in v.name]


def test_end_points_and_default_image_size():
    import slim
    from nets import cifarnet

    model = slim.Model(_scoped_cifarnet)
    _, end_points = model(tf.constant(_images(batch=2)))
    assert list(end_points) == [
        'conv1',
        'pool1',
        'conv2',
        'pool2',
        'Flatten',
        'fc3',
        'fc4',
        'Logits',
        'Predictions',
    ]
    assert end_points['pool2'].shape == (2, 8, 8, 64)
    assert cifarnet.cifarnet.default_image_size == 32


def test_bfloat16_inputs():
    import slim

    model = slim.Model(_scoped_cifarnet)
    images = tf.constant(_images())
    logits32, _ = model(images)
    # No bfloat16 LRN kernel on CPU: the net normalises in float32 for it.
    logits16, end_points = model(tf.cast(images, tf.bfloat16))
    assert logits16.dtype == end_points['pool2'].dtype == tf.bfloat16
    error = np.abs(tf.cast(logits16, tf.float32) - logits32).max()
    assert error <= 0.05 * np.abs(logits32).max()


if __name__ == '__main__':
    import conftest  # noqa: F401  (the aliases tf_slim needs)

    write_golden('cifarnet', oracle_cifarnet(_images())[0])
