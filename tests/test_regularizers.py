"""Regularizers against TF-Slim 1.1.0's values."""

import numpy as np
import pytest
import tensorflow as tf
import tf_slim

import slim

W = np.random.RandomState(0).standard_normal([4, 3]).astype(np.float32)


def _tf_slim(reg):
    with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
        return sess.run(reg(tf.constant(W)))


@pytest.mark.parametrize(
    'name,args',
    [
        ('l1_regularizer', (0.3,)),
        ('l2_regularizer', (0.3,)),
        ('l1_l2_regularizer', (0.2, 0.7)),
    ],
)
def test_values_match_tf_slim(name, args):
    expected = _tf_slim(getattr(tf_slim, name)(*args))
    got = getattr(slim, name)(*args)(tf.constant(W))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6)


def test_l2_is_half_sum_of_squares():
    got = slim.l2_regularizer(0.3)(tf.constant(W)).numpy()
    assert got == pytest.approx(0.3 * np.sum(W**2) / 2, rel=1e-6)


def test_zero_scale_adds_nothing():
    assert slim.l2_regularizer(0.0)(tf.constant(W)) is None
    model = slim.Model(
        lambda x: slim.fully_connected(
            x, 2, weights_regularizer=slim.l2_regularizer(0.0)
        )
    )
    model(tf.constant(W))
    assert model.losses == []


@pytest.mark.parametrize('bad', [-0.1, 'big', None])
def test_bad_scale(bad):
    with pytest.raises(ValueError, match='scale'):
        slim.l2_regularizer(bad)
    with pytest.raises(ValueError, match='scale'):
        slim.l1_regularizer(bad)
