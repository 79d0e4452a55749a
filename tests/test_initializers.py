"""Initializers: TF-Slim's variance-scaling meaning of factor, mode, uniform."""

import math

import numpy as np
import pytest
import tensorflow as tf
import tf_slim

import slim

SHAPE = [5, 5, 40, 60]
FAN_IN, FAN_OUT = 5 * 5 * 40, 5 * 5 * 60


def _sample(init, shape=SHAPE):
    return np.asarray(init(shape, dtype=tf.float32))


def _tf_slim_sample(make, shape=SHAPE):
    with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
        return sess.run(make()(shape, dtype=tf.float32))


@pytest.mark.parametrize(
    'factor,mode,uniform,n',
    [
        (2.0, 'FAN_IN', False, FAN_IN),
        (1.0, 'FAN_OUT', True, FAN_OUT),
        (1.0, 'FAN_AVG', True, (FAN_IN + FAN_OUT) / 2),
        (3.0, 'FAN_AVG', False, (FAN_IN + FAN_OUT) / 2),
    ],
)
def test_variance_scaling_matches_tf_slim_distribution(
    factor, mode, uniform, n
):
    ours = _sample(slim.variance_scaling_initializer(factor, mode, uniform))
    ref = _tf_slim_sample(
        lambda: tf_slim.variance_scaling_initializer(factor, mode, uniform)
    )
    assert ours.std() == pytest.approx(ref.std(), rel=0.03)
    assert ours.std() == pytest.approx(math.sqrt(factor / n), rel=0.06)
    bound = (
        math.sqrt(3 * factor / n)
        if uniform
        else 2 * math.sqrt(1.3 * factor / n)
    )
    assert np.abs(ours).max() <= bound + 1e-6
    assert np.abs(ref).max() <= bound + 1e-6


def test_xavier_is_fan_avg_uniform():
    ours = _sample(slim.xavier_initializer())
    limit = math.sqrt(6.0 / (FAN_IN + FAN_OUT))
    assert np.abs(ours).max() <= limit
    assert np.abs(ours).max() > 0.95 * limit
    normal = _sample(slim.xavier_initializer(uniform=False))
    assert normal.std() == pytest.approx(
        math.sqrt(2.0 / (FAN_IN + FAN_OUT)), rel=0.06
    )


def test_truncated_normal():
    sample = _sample(slim.truncated_normal_initializer(0.5, 0.1))
    assert sample.min() >= 0.3 and sample.max() <= 0.7
    assert sample.mean() == pytest.approx(0.5, abs=0.005)


def test_bad_mode_and_dtype():
    with pytest.raises(TypeError, match='FAN_IN'):
        slim.variance_scaling_initializer(mode='fan_in')
    with pytest.raises(TypeError, match='floating'):
        slim.variance_scaling_initializer(dtype=tf.int32)
