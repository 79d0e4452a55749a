"""slim.Model: variable ownership, tf.function, distribution, checkpoints."""

import threading

import keras
import numpy as np
import pytest
import tensorflow as tf

import slim
from slim import model as model_module


def net(x, is_training=True, use_bn=False):
    bn = {'is_training': is_training, 'decay': 0.5}
    with slim.arg_scope(
        [slim.conv2d],
        normalizer_fn=slim.batch_norm if use_bn else None,
        normalizer_params=bn,
        weights_regularizer=slim.l2_regularizer(0.01),
    ):
        with slim.variable_scope('Net'):
            x = slim.repeat(x, 2, slim.conv2d, 4, [3, 3], scope='conv1')
            x = slim.flatten(x)
            return slim.fully_connected(
                x, 3, activation_fn=None, scope='logits'
            )


X = np.random.RandomState(0).rand(4, 5, 5, 2).astype(np.float32)
Y = np.array([0, 1, 2, 1])


def test_names_and_ownership():
    model = slim.Model(net)
    assert model.variables == [] and not model.built
    model(tf.constant(X))
    assert [v.name for v in model.variables] == [
        'Net/conv1/conv1_1/weights:0',
        'Net/conv1/conv1_1/biases:0',
        'Net/conv1/conv1_2/weights:0',
        'Net/conv1/conv1_2/biases:0',
        'Net/logits/weights:0',
        'Net/logits/biases:0',
    ]
    assert len(model.losses) == 2
    assert len(slim.Model(net).variables) == 0  # models do not share


def test_accepts_argument_reads_the_net_signature():
    import functools

    def stepped(images, is_training=True, *, current_step=None, **kwargs):
        return images

    @functools.wraps(stepped)
    def wrapper(images, **kwargs):
        return stepped(images, **kwargs)

    assert slim.Model(stepped).accepts_argument('current_step')
    assert slim.Model(stepped).accepts_argument('is_training')
    assert slim.Model(wrapper).accepts_argument('current_step')
    # Only named arguments count: **kwargs would swallow anything.
    assert not slim.Model(stepped).accepts_argument('kwargs')
    assert not slim.Model(net).accepts_argument('current_step')
    assert not slim.Model(lambda x, **kw: x).accepts_argument('current_step')


def test_default_kwargs_and_call_kwargs():
    model = slim.Model(net, use_bn=True, is_training=False)
    model(tf.constant(X))
    assert any('moving_mean' in v.name for v in model.variables)
    before = (
        model.get_variable('Net/conv1/conv1_1/BatchNorm/moving_mean')
        .numpy()
        .copy()
    )
    model(tf.constant(X))
    np.testing.assert_array_equal(
        model.get_variable('Net/conv1/conv1_1/BatchNorm/moving_mean'), before
    )
    model(tf.constant(X), is_training=True)
    assert not np.array_equal(
        model.get_variable('Net/conv1/conv1_1/BatchNorm/moving_mean'), before
    )
    with pytest.raises(KeyError, match='no variable'):
        model.get_variable('nope')


def test_traced_calls_create_nothing_after_the_first_and_retrace():
    model = slim.Model(net, use_bn=True)
    traced = tf.function(model)
    out = traced(tf.constant(X))
    count = len(model.variables)
    ids = [id(v) for v in model.variables]
    traces = traced.experimental_get_tracing_count()
    traced(tf.constant(X))
    assert traced.experimental_get_tracing_count() == traces
    out3 = traced(tf.constant(X[:3]))  # a new batch size retraces
    assert traced.experimental_get_tracing_count() == traces + 1
    assert out.shape == (4, 3) and out3.shape == (3, 3)
    # Two convs of weights + beta + moving mean and variance, then the logits.
    assert [id(v) for v in model.variables] == ids and count == 2 * 4 + 2
    eager = model(tf.constant(X[:3]), is_training=False)
    assert eager.shape == (3, 3) and len(model.variables) == count


def test_build_from_spec_creates_without_running():
    model = slim.Model(net).build(tf.TensorSpec([None, 5, 5, 2]))
    assert len(model.variables) == 6
    assert model(tf.constant(X)).shape == (4, 3)


def test_losses_belong_to_the_calling_thread():
    def scaled(x, scale):
        with slim.arg_scope(
            [slim.conv2d], weights_regularizer=slim.l2_regularizer(scale)
        ):
            return slim.conv2d(x, 4, [3, 3], scope='conv')

    model = slim.Model(scaled)
    both_called = threading.Barrier(2)
    results = {}

    def run(scale):
        model(tf.constant(X), scale=scale)
        # Both threads have called before either reads: losses kept in one
        # shared place would show one thread the other's.
        both_called.wait()
        results[scale] = [float(l) for l in model.losses]

    threads = [threading.Thread(target=run, args=(s,)) for s in (1.0, 2.0)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results[1.0]) == len(results[2.0]) == 1
    assert results[2.0][0] == pytest.approx(2 * results[1.0][0])
    assert model.losses == []  # this thread made no call


def test_checkpoint_tracks_variables(tmp_path):
    model = slim.Model(net)
    model(tf.constant(X))
    path = tf.train.Checkpoint(model=model).save(str(tmp_path / 'c'))
    original = [v.numpy() for v in model.variables]
    for v in model.variables:
        v.assign(tf.zeros_like(v))
    tf.train.Checkpoint(model=model).restore(path).assert_consumed()
    for v, o in zip(model.variables, original):
        np.testing.assert_array_equal(v.numpy(), o)


def _train_step(model, optimizer, strategy, global_batch):
    @tf.function
    def step(x, y):
        def replica_fn(x, y):
            with tf.GradientTape() as tape:
                logits = model(x)
                per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(
                    y, logits
                )
                loss = (
                    tf.reduce_sum(per_example) / global_batch
                    + model.regularization_loss()
                    / strategy.num_replicas_in_sync
                )
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return loss

        return strategy.run(replica_fn, args=(x, y))

    return step


def _one_step(strategy, use_bn, initial=None):
    with strategy.scope():
        model = slim.Model(net, use_bn=use_bn)
        model.build(tf.TensorSpec([None, 5, 5, 2]))
        if initial is not None:
            for v in model.variables:
                v.assign(initial[v.name])
        optimizer = keras.optimizers.SGD(0.5, momentum=0.9)
        optimizer.build(model.trainable_variables)
    data = tf.data.Dataset.from_tensor_slices((X, Y)).batch(len(X))
    step = _train_step(model, optimizer, strategy, len(X))
    for x, y in strategy.experimental_distribute_dataset(data):
        step(x, y)
    return {v.name: v.numpy() for v in model.variables}


@pytest.mark.parametrize('use_bn', [False, True])
def test_mirrored_strategy_step_equals_single_device(use_bn):
    single = tf.distribute.OneDeviceStrategy('/cpu:0')
    # Collective all-reduce keys clash between strategies made in one process
    # (other test modules make theirs); reducing to one device avoids them.
    mirrored = tf.distribute.MirroredStrategy(
        ['/cpu:0', '/cpu:1'],
        cross_device_ops=tf.distribute.ReductionToOneDevice(),
    )
    reference = slim.Model(net, use_bn=use_bn).build(
        tf.TensorSpec([None, 5, 5, 2])
    )
    initial = {v.name: v.numpy() + 0.1 for v in reference.variables}
    one = _one_step(single, use_bn, initial)
    two = _one_step(mirrored, use_bn, initial)
    assert one.keys() == two.keys()
    for name in one:
        if use_bn and name != 'Net/conv1/conv1_1/BatchNorm/moving_mean:0':
            # Each replica normalizes with its own half-batch statistics, as
            # TF-Slim's clones did, so only the first layer's moving mean (the
            # mean of the two half-batch means) is the single device's.
            continue
        np.testing.assert_allclose(
            two[name], one[name], rtol=1e-5, atol=1e-6, err_msg=name
        )
    if use_bn:
        assert 'Net/conv1/conv1_1/BatchNorm/moving_mean:0' in one


def test_variables_cannot_be_created_inside_strategy_run():
    strategy = tf.distribute.MirroredStrategy(['/cpu:0', '/cpu:1'])
    with strategy.scope():
        model = slim.Model(net)
    with pytest.raises(RuntimeError, match='strategy.scope'):
        strategy.run(tf.function(model), args=(tf.constant(X),))


def test_model_needs_a_callable():
    with pytest.raises(TypeError, match='callable'):
        slim.Model(3)


def test_net_runs_as_plain_python_under_tf_function():
    """As in TF-Slim's graph mode, AutoGraph does not convert the net (nor
    the layers): a Python `if` on a tensor is an error, not a `tf.cond`."""

    def net(x):
        if tf.reduce_sum(x) > 0:
            return slim.conv2d(x, 2, 1)
        return x

    model = slim.Model(net)
    model(tf.constant(X))  # eagerly the condition is a Python bool

    @tf.function
    def step(x):
        return model(x)

    with pytest.raises(TypeError, match='tf.Tensor'):
        step(tf.constant(X))


AWKWARD_NAMES = [
    'a.Sb',
    'a..b',
    'x/.S/y',
    'end.',
    '.S',
    'S',
    '..S.',
    'a/b.c',
    'Net/conv.1/weights',
    'Net/S/.',
    'dots...and/slashes',
]


@pytest.mark.parametrize('name', AWKWARD_NAMES + ['a//b/', '/'])
def test_object_key_codec_round_trips(name):
    key = model_module.object_key('model/_vars/', name)
    assert model_module.parse_object_key(key) == ('model/_vars/', name)
    assert model_module.parse_object_key(
        model_module.object_key('_vars/', name)
    ) == ('_vars/', name)


def test_object_key_codec_matches_tf_train_checkpoint(tmp_path):
    # The keys TF writes for a Model whose variables have awkward names are
    # the codec's, and restoring by those names reads the right values.
    def awkward(_):
        for i, name in enumerate(AWKWARD_NAMES):
            slim.model_variable(name, [1], initializer=float(i))
        return tf.constant(0.0)

    model = slim.Model(awkward)
    model(X)
    prefix = tf.train.Checkpoint(model=model).save(str(tmp_path / 'ckpt'))
    keys = {k for k, _ in tf.train.list_variables(prefix)}
    for name in AWKWARD_NAMES:
        assert model_module.object_key('model/_vars/', name) in keys, name
    fresh = slim.Model(awkward)
    fresh(X)
    for var in fresh.variables:
        var.assign([-1.0])
    restored = slim.assign_from_checkpoint(fresh.variables, prefix)
    assert sorted(restored) == sorted(AWKWARD_NAMES)
    assert [float(fresh.get_variable(n)[0]) for n in AWKWARD_NAMES] == [
        float(i) for i in range(len(AWKWARD_NAMES))
    ]
    from slim import training_utils

    assert (
        training_utils.check_checkpoint_fits(fresh.variables, prefix) == prefix
    )


def test_object_key_codec_rejects_unknown_escapes():
    with pytest.raises(ValueError, match=r"unknown escape '\.x'"):
        model_module.parse_object_key(
            'model/_vars/a.xb/.ATTRIBUTES/VARIABLE_VALUE'
        )
