"""slim.training_utils: what the train driver's flags become (strategy,
schedule, optimizer, scopes) and the fine-tuning checks, without training.
Training with them is in test_learning.py and the driver tests."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import slim
from slim import training_utils
from slim.errors import ArgumentError


def two_layer_net(images, num_classes=3, is_training=True):
    del is_training
    with slim.variable_scope('Net'):
        net = slim.conv2d(
            images, 4, [3, 3], scope='conv1', normalizer_fn=slim.batch_norm
        )
        net = slim.flatten(net)
        logits = slim.fully_connected(
            net, num_classes, activation_fn=None, scope='logits'
        )
    return logits, {}


@pytest.fixture
def model():
    m = slim.Model(two_layer_net)
    m(tf.zeros([1, 4, 4, 3]))
    return m


def names(variables):
    return sorted(v.name.split(':')[0] for v in variables)


# --- the strategy


@pytest.mark.parametrize(
    'config,count',
    [
        (None, 1),
        ('', 1),
        ('{}', 1),
        ('{"cluster": {"worker": ["a:1", "b:2"]}}', 2),
        ('{"cluster": {"chief": ["a:1"], "worker": ["b:2", "c:3"]}}', 3),
    ],
)
def test_num_workers_counts_the_chief_and_workers_of_tf_config(
    monkeypatch, config, count
):
    if config is None:
        monkeypatch.delenv('TF_CONFIG', raising=False)
    else:
        monkeypatch.setenv('TF_CONFIG', config)
    assert training_utils.num_workers() == count


def test_a_tf_config_that_is_not_json_is_named(monkeypatch):
    monkeypatch.setenv('TF_CONFIG', '{cluster: nope')
    with pytest.raises(
        ArgumentError,
        match=r"^TF_CONFIG='\{cluster: nope' "
        r'is not valid JSON$',
    ):
        training_utils.num_workers()


def test_strategies_for_clones(monkeypatch):
    monkeypatch.delenv('TF_CONFIG', raising=False)
    assert training_utils.make_strategy() is tf.distribute.get_strategy()
    one = training_utils.make_strategy(1, clone_on_cpu=True)
    assert isinstance(one, tf.distribute.OneDeviceStrategy)
    # conftest configured two logical CPUs.
    two = training_utils.make_strategy(2, clone_on_cpu=True)
    assert isinstance(two, tf.distribute.MirroredStrategy)
    assert two.num_replicas_in_sync == 2


@pytest.mark.parametrize('clones', [0, -1, 1.5, True, '2'])
def test_num_clones_must_be_a_positive_integer(clones):
    with pytest.raises(
        ValueError,
        match=r'num_clones=.*: expected a positive '
        r'integer',
    ):
        training_utils.make_strategy(clones)


def test_clones_on_gpus_that_are_not_there_say_so():
    if tf.config.list_logical_devices('GPU'):
        pytest.skip('this machine has GPUs')
    with pytest.raises(
        ArgumentError,
        match='num_clones=2 needs 2 GPUs, found 0; pass clone_on_cpu',
    ):
        training_utils.make_strategy(2)


def test_clones_on_cpu_under_a_multi_worker_config_are_refused(monkeypatch):
    monkeypatch.setenv(
        'TF_CONFIG',
        json.dumps(
            {
                'cluster': {'worker': ['a:1', 'b:2']},
                'task': {'type': 'worker', 'index': 0},
            }
        ),
    )
    with pytest.raises(
        ValueError,
        match='num_clones=2 with clone_on_cpu under a multi-worker TF_CONFIG',
    ):
        training_utils.make_strategy(2, clone_on_cpu=True)


def test_more_cpu_devices_than_configured_is_one_line():
    # conftest made two before TensorFlow started; more cannot be added.
    training_utils.configure_cpu_devices(2)
    with pytest.raises(
        ArgumentError,
        match='count=3: 3 logical CPU devices '
        'are needed, but TensorFlow was initialized with 2',
    ):
        training_utils.configure_cpu_devices(3)


# --- the learning rate and the optimizer


def test_decay_steps_count_epochs_of_the_global_batch():
    # 1500 examples, 2 clones x 32: an epoch is 23 steps, 2 epochs 46.
    assert training_utils.decay_steps(1500, 64, 2.0) == 46
    assert training_utils.decay_steps(10, 64, 1.0) == 1


@pytest.mark.parametrize(
    'decay_type,steps,expected',
    [
        ('fixed', [0, 5, 20], [0.2, 0.2, 0.2]),
        # Staircase: constant within a period of 10 steps, then halved.
        ('exponential', [0, 9, 10, 20], [0.2, 0.2, 0.1, 0.05]),
        # Linear to the end rate over 10 steps, then constant.
        ('polynomial', [0, 5, 10, 20], [0.2, 0.105, 0.01, 0.01]),
    ],
)
def test_learning_rate_schedules_are_tf_slims(decay_type, steps, expected):
    schedule = training_utils.learning_rate_schedule(
        decay_type, 0.2, 10, 0.5, 0.01
    )
    values = [
        float(schedule(s)) if callable(schedule) else schedule for s in steps
    ]
    np.testing.assert_allclose(values, expected, rtol=1e-5)


def test_unknown_optimizer_and_schedule():
    with pytest.raises(
        ArgumentError,
        match="^name='nope' is not a known optimizer; allowed: adadelta",
    ):
        training_utils.make_optimizer('nope', 0.1)
    with pytest.raises(ArgumentError, match="^decay_type='nope'.*allowed"):
        training_utils.learning_rate_schedule('nope', 0.1, 10)


def test_optimizers_take_the_driver_flags():
    adam = training_utils.make_optimizer(
        'adam', 0.1, adam_beta1=0.8, adam_beta2=0.99, opt_epsilon=1e-3
    )
    assert (adam.beta_1, adam.beta_2, adam.epsilon) == (0.8, 0.99, 1e-3)
    rmsprop = training_utils.make_optimizer(
        'rmsprop', 0.1, rmsprop_momentum=0.5, rmsprop_decay=0.8
    )
    assert (rmsprop.momentum, rmsprop.rho) == (0.5, 0.8)
    momentum = training_utils.make_optimizer('momentum', 0.1, momentum=0.7)
    assert momentum.momentum == 0.7
    assert training_utils.make_optimizer('sgd', 0.1).momentum == 0.0
    ftrl = training_utils.make_optimizer('ftrl', 0.1, ftrl_l1=0.2)
    assert ftrl.get_config()['l1_regularization_strength'] == 0.2
    # TF-Slim's defaults differ from Keras's (adadelta epsilon 1.0).
    assert training_utils.make_optimizer('adadelta', 1.0).epsilon == 1.0


# --- scopes and fine-tuning


def test_split_scopes():
    assert training_utils.split_scopes(None) == []
    assert training_utils.split_scopes('') == []
    assert training_utils.split_scopes(' a, b/c ,,') == ['a', 'b/c']


def test_variables_to_restore_are_model_variables_minus_the_excluded(model):
    optimizer = tf.keras.optimizers.SGD(0.1, momentum=0.9)
    optimizer.build(model.trainable_variables)  # slots must not come along
    restored = names(training_utils.variables_to_restore(model, ['Net/logits']))
    assert restored == [
        'Net/conv1/BatchNorm/beta',
        'Net/conv1/BatchNorm/moving_mean',
        'Net/conv1/BatchNorm/moving_variance',
        'Net/conv1/weights',
    ]


def test_variables_to_train_and_unmatched_scopes(model):
    assert names(training_utils.variables_to_train(model)) == names(
        model.trainable_variables
    )
    assert names(training_utils.variables_to_train(model, ['Net/logits'])) == [
        'Net/logits/biases',
        'Net/logits/weights',
    ]
    with pytest.raises(
        ValueError,
        match="trainable_scopes='Nope' selects none "
        "of the 4 trainable variables",
    ):
        training_utils.variables_to_train(model, ['Nope'])
    assert training_utils.unmatched_scopes(
        model, ['Net/logits', 'Net/Logits', 'Net/conv']
    ) == ['Net/Logits']


def _save_tf1_style(path, values):
    """A checkpoint keyed by variable names, as TF-Slim wrote them."""
    with tf.Graph().as_default():
        variables = [
            tf.compat.v1.Variable(v, name=n) for n, v in values.items()
        ]
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            tf.compat.v1.train.Saver(variables).save(session, path)
    return path


def test_check_checkpoint_fits_names_what_does_not_fit(model, tmp_path):
    values = {v.name.split(':')[0]: v.numpy() for v in model.variables}
    full = _save_tf1_style(str(tmp_path / 'full' / 'model.ckpt'), values)
    assert training_utils.check_checkpoint_fits(model.variables, full) == full
    # A directory resolves to its newest checkpoint.
    assert (
        training_utils.check_checkpoint_fits(
            model.variables, str(tmp_path / 'full')
        )
        == full
    )

    partial = dict(values)
    del partial['Net/logits/weights']
    partial['Net/logits/biases'] = np.zeros([7], np.float32)
    path = _save_tf1_style(str(tmp_path / 'partial' / 'model.ckpt'), partial)
    with pytest.raises(ValueError) as error:
        training_utils.check_checkpoint_fits(model.variables, path)
    message = str(error.value)
    assert '\n' not in message
    assert message.startswith(
        'checkpoint_path=%r does not fit the net: ' % path
    )
    assert '1 with another shape (e.g. Net/logits/biases [7] vs [3])' in message
    assert '1 missing (e.g. Net/logits/weights)' in message
    # Missing variables may be allowed; a wrong shape never is.
    with pytest.raises(ValueError, match='1 with another shape'):
        training_utils.check_checkpoint_fits(
            model.variables, path, ignore_missing_vars=True
        )


def test_a_file_that_is_not_a_checkpoint_is_named(model, tmp_path):
    path = str(tmp_path / 'notes.txt')
    with open(path, 'w') as f:
        f.write('not a checkpoint')
    with pytest.raises(
        ValueError,
        match=r"checkpoint_path='.*notes.txt' "
        r"cannot be read as a checkpoint",
    ):
        training_utils.check_checkpoint_fits(model.variables, path)


def test_make_init_fn_restores_all_but_the_excluded(model, tmp_path):
    values = {
        v.name.split(':')[0]: np.full(v.shape, 0.5, np.float32)
        for v in model.variables
    }
    path = _save_tf1_style(str(tmp_path / 'model.ckpt'), values)
    before = {v.name: v.numpy().copy() for v in model.variables}
    training_utils.make_init_fn(path, exclude_scopes=['Net/logits'])(model)
    for v in model.variables:
        if v.name.startswith('Net/logits'):
            np.testing.assert_array_equal(v.numpy(), before[v.name])
        else:
            np.testing.assert_array_equal(v.numpy(), 0.5)


# --- memory


def test_build_and_measure_counts_the_per_example_activations():
    model = slim.Model(two_layer_net)
    per_example = training_utils.build_and_measure(
        model, tf.TensorSpec([None, 4, 4, 3], tf.float32)
    )
    assert model.variables  # built
    # At least the input, the 4x4x4 convolution and the logits, in float32.
    assert per_example >= (4 * 4 * 3 + 4 * 4 * 4 + 3) * 4
    bigger = training_utils.build_and_measure(
        slim.Model(two_layer_net), tf.TensorSpec([None, 8, 8, 3], tf.float32)
    )
    assert 3.5 < bigger / per_example < 4.5  # four times the pixels


def test_available_memory_is_positive_or_unknown():
    memory = training_utils.available_memory()
    assert memory is None or memory > 0
    if os.path.exists('/proc/meminfo'):
        assert memory > 0


def test_multi_worker_training_tolerates_slow_workers():
    # In a process of its own: the coordination service is configured once.
    script = (
        'from slim import training_utils\n'
        'from tensorflow.python.eager import context\n'
        'training_utils._tolerate_slow_workers()\n'
        'print(context.context().coordination_service)\n'
    )
    config = {
        'cluster': {'worker': ['localhost:1', 'localhost:2']},
        'task': {'type': 'worker', 'index': 1},
    }
    env = dict(
        os.environ, TF_CONFIG=json.dumps(config), TF_CPP_MIN_LOG_LEVEL='2'
    )
    done = subprocess.run(
        [sys.executable, '-c', script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (
        'heartbeat_timeout_in_ms: %d' % (training_utils.HEARTBEAT_TIMEOUT_MS)
        in done.stdout
    )
    assert 'service_leader: "/job:worker/replica:0/task:0"' in done.stdout
    assert 'num_tasks: 2' in done.stdout
