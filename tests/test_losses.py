"""Losses against TF-Slim 1.1.0's (graph mode)."""

import numpy as np
import pytest
import tensorflow as tf
import tf_slim

import slim

rng = np.random.RandomState(0)
LOGITS = rng.standard_normal([5, 4]).astype(np.float32)
LABELS = np.array([0, 3, 1, 1, 2])
ONEHOT = np.eye(4, dtype=np.float32)[LABELS]
WEIGHTS = np.array([1.0, 0.0, 2.0, 0.5, 1.0], np.float32)


def tf_slim_value(fn):
    with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
        return sess.run(fn())


@pytest.mark.parametrize('smoothing', [0.0, 0.1])
@pytest.mark.parametrize('weights', [1.0, 2.5, WEIGHTS])
def test_softmax_cross_entropy(smoothing, weights):
    expected = tf_slim_value(
        lambda: tf_slim.losses.softmax_cross_entropy(
            tf.constant(LOGITS),
            tf.constant(ONEHOT),
            weights=weights,
            label_smoothing=smoothing,
        )
    )
    got = slim.losses.softmax_cross_entropy(
        LOGITS, ONEHOT, weights=weights, label_smoothing=smoothing
    )
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize('weights', [1.0, WEIGHTS])
def test_sparse_softmax_cross_entropy(weights):
    expected = tf_slim_value(
        lambda: tf_slim.losses.sparse_softmax_cross_entropy(
            tf.constant(LOGITS), tf.constant(LABELS[:, None]), weights=weights
        )
    )
    got = slim.losses.sparse_softmax_cross_entropy(
        LOGITS, LABELS, weights=weights
    )
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6)


def test_losses_are_float32_for_low_precision_logits():
    got = slim.losses.softmax_cross_entropy(
        tf.cast(LOGITS, tf.bfloat16), ONEHOT
    )
    assert got.dtype == tf.float32


def test_all_zero_weights_give_zero():
    got = slim.losses.softmax_cross_entropy(LOGITS, ONEHOT, weights=0.0)
    assert got.numpy() == 0.0


def test_total_loss_adds_model_regularization():
    model = slim.Model(
        lambda x: slim.fully_connected(
            x,
            4,
            weights_regularizer=slim.l2_regularizer(0.5),
            activation_fn=None,
        )
    )
    logits = model(tf.constant(LOGITS))
    ce = slim.losses.softmax_cross_entropy(logits, ONEHOT)
    total = slim.losses.total_loss([ce], model.losses)
    w = model.variables[0].numpy()
    np.testing.assert_allclose(
        total.numpy(), ce.numpy() + 0.5 * np.sum(w**2) / 2, rtol=1e-5
    )
    with pytest.raises(ValueError, match='no losses'):
        slim.losses.total_loss([])


def test_bad_input():
    with pytest.raises(ValueError, match='shape'):
        slim.losses.softmax_cross_entropy(LOGITS, ONEHOT[:, :3])
    with pytest.raises(ValueError, match='label_smoothing'):
        slim.losses.softmax_cross_entropy(LOGITS, ONEHOT, label_smoothing=2)
