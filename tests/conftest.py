"""Test set-up shared by every test module.

Two logical CPU devices are configured before TensorFlow initialises its
devices, so that distribution tests can run MirroredStrategy on this CPU-only
machine. TF-Slim 1.1.0, the oracle, needs two aliases on TensorFlow 2.21
before it is imported (see DESIGN.md).
"""

import os
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

_cpus = tf.config.list_physical_devices('CPU')
try:
    tf.config.set_logical_device_configuration(
        _cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2
    )
except RuntimeError:  # devices already initialised by an earlier import
    pass

import tf_keras  # noqa: E402
import tf_keras.src.legacy_tf_layers  # noqa: E402,F401
from tensorflow.python.framework import ops as _tf_ops  # noqa: E402

sys.modules['tf_keras.legacy_tf_layers'] = tf_keras.src.legacy_tf_layers
_tf_ops.Tensor = tf.Tensor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


@pytest.fixture(autouse=True)
def _seeded_randomness():
    """Each test starts from the same random state whichever worker runs
    it and whatever ran before it, so a result never depends on test order."""
    tf.random.set_seed(0)
    np.random.seed(0)
    yield
