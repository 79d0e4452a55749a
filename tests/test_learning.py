"""slim.learning.train and its helpers: steps, optimizers, schedules, devices,
resume, NaN, moving averages, summaries; on a tiny net and an easy problem."""

import glob

import numpy as np
import pytest
import tensorflow as tf

import slim
from slim import learning
from slim import moving_averages
from slim import summaries
from slim import training_utils

NUM_CLASSES = 3


def tiny_net(images, num_classes=NUM_CLASSES, is_training=True):
    del is_training  # no dropout or batch norm: replicas are exact
    with slim.arg_scope(
        [slim.conv2d, slim.fully_connected],
        weights_regularizer=slim.l2_regularizer(1e-4),
    ):
        with slim.variable_scope('Tiny'):
            net = slim.conv2d(images, 4, [3, 3], scope='conv1')
            net = slim.flatten(net)
            logits = slim.fully_connected(
                net, num_classes, activation_fn=None, scope='logits'
            )
    return logits, {'conv1': net, 'Logits': logits}


def easy_data(n=96, seed=0):
    """Images whose class sets the mean of one channel: easy to learn."""
    rng = np.random.RandomState(seed)
    labels = rng.randint(0, NUM_CLASSES, n)
    images = rng.normal(0, 0.3, (n, 6, 6, 3)).astype(np.float32)
    images[np.arange(n), :, :, labels] += 1.0
    return images, labels.astype(np.int64)


def easy_dataset(batch=16, n=96):
    images, labels = easy_data(n)
    return (
        tf.data.Dataset.from_tensor_slices((images, labels))
        .repeat()
        .batch(batch, drop_remainder=True)
    )


def model_values(model):
    return {v.name: v.numpy().copy() for v in model.variables}


def run(
    tmp_path,
    optimizer=lambda: tf.keras.optimizers.SGD(0.1),
    steps=30,
    name='run',
    **kwargs,
):
    model = kwargs.pop('model', None) or slim.Model(tiny_net)
    result = learning.train(
        model,
        kwargs.pop('dataset', None) or easy_dataset(),
        optimizer,
        str(tmp_path / name),
        number_of_steps=steps,
        log_every_n_steps=0,
        **kwargs,
    )
    return model, result


def falls(history):
    return np.mean(history[-3:]) < 0.7 * np.mean(history[:3])


def test_trains_saves_and_resumes(tmp_path):
    model, result = run(tmp_path, steps=20)
    assert result.global_step == 20 and len(result.loss_history) == 20
    assert falls(result.loss_history)
    assert result.checkpoint_path.endswith('ckpt-20')
    _, again = run(tmp_path, steps=30)
    assert again.global_step == 30 and len(again.loss_history) == 10
    reader = tf.train.load_checkpoint(again.checkpoint_path)
    assert reader.get_tensor('global_step/.ATTRIBUTES/VARIABLE_VALUE') == 30


# Rates at which each optimizer fell on 40 of 40 seeds; adadelta at 1.0
# diverged on 2 of 60.
@pytest.mark.parametrize(
    'name,rate',
    [
        ('adadelta', 0.3),
        ('adagrad', 0.1),
        ('adam', 0.5),
        ('ftrl', 1.0),
        ('momentum', 0.05),
        ('rmsprop', 0.1),
        ('sgd', 0.1),
    ],
)
def test_each_optimizer_lowers_the_loss(tmp_path, name, rate):
    tf.random.set_seed(0)
    _, result = run(
        tmp_path, lambda: training_utils.make_optimizer(name, rate), steps=25
    )
    assert falls(result.loss_history), (name, result.loss_history)


def test_a_net_naming_current_step_gets_the_optimizer_step(tmp_path):
    seen = []

    def stepped_net(
        images, num_classes=NUM_CLASSES, is_training=True, current_step=None
    ):
        # Recorded when the step runs, so a value frozen at trace time
        # would repeat.
        seen.append(current_step)
        logits, end_points = tiny_net(images, num_classes, is_training)
        step = tf.cast(0 if current_step is None else current_step, tf.float32)
        return logits + 0.0 * step, dict(end_points, step=step)

    model = slim.Model(stepped_net)
    steps = []
    original = learning._make_step

    def recording_make_step(model, strategy, optimizer, *args):
        run_step = original(model, strategy, optimizer, *args)
        steps.append(optimizer)
        return run_step

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(learning, '_make_step', recording_make_step)
        run(tmp_path, steps=3, model=model, call_kwargs={'is_training': True})
    optimizer = steps[0]
    # The build ran without a step; the traced training call got the
    # optimizer's step variable itself.
    assert seen[0] is None
    assert any(s is optimizer.iterations for s in seen[1:])
    assert int(optimizer.iterations.numpy()) == 3
    # Nets that do not name it are called as before (tiny_net would raise).
    run(tmp_path, steps=1, name='plain', call_kwargs={'is_training': True})


@pytest.mark.parametrize('decay_type', ['fixed', 'exponential', 'polynomial'])
def test_each_schedule_runs_and_lowers_the_loss(tmp_path, decay_type):
    schedule = training_utils.learning_rate_schedule(
        decay_type, 0.2, 10, 0.5, 0.01
    )
    model, result = run(
        tmp_path, lambda: tf.keras.optimizers.SGD(schedule), steps=25
    )
    assert falls(result.loss_history)
    value = (
        (lambda s: float(schedule(s)))
        if callable(schedule)
        else (lambda s: schedule)
    )
    expected = {
        'fixed': [0.2, 0.2, 0.2],
        'exponential': [0.2, 0.1, 0.05],
        'polynomial': [0.2, 0.2 - 0.19 / 2, 0.01],
    }[decay_type]
    np.testing.assert_allclose(
        [value(0), value(10 if decay_type == 'exponential' else 5), value(20)],
        expected,
        rtol=1e-5,
    )


def test_two_clones_give_the_weights_of_one_device(tmp_path):
    images, labels = easy_data(16)
    data = tf.data.Dataset.from_tensors((images, labels)).repeat()
    init = slim.Model(tiny_net)
    init(tf.constant(images))
    start = model_values(init)

    def weights_after_a_step(strategy, name):
        model = slim.Model(tiny_net)
        with strategy.scope():
            model.build(tf.TensorSpec([None, 6, 6, 3]))
        for v in model.variables:
            v.assign(start[v.name])
        learning.train(
            model,
            data,
            lambda: tf.keras.optimizers.SGD(0.5),
            str(tmp_path / name),
            number_of_steps=2,
            strategy=strategy,
            log_every_n_steps=0,
        )
        return model_values(model)

    one = weights_after_a_step(tf.distribute.get_strategy(), 'one')
    two = weights_after_a_step(
        tf.distribute.MirroredStrategy(['/cpu:0', '/cpu:1']), 'two'
    )
    for name in one:
        assert not np.allclose(one[name], start[name]), name
        np.testing.assert_allclose(two[name], one[name], rtol=1e-5, atol=1e-6)


def test_resume_restores_the_optimizer_state(tmp_path):
    images, labels = easy_data(16)
    data = tf.data.Dataset.from_tensors((images, labels)).repeat()
    init = slim.Model(tiny_net)
    init(tf.constant(images))
    start = model_values(init)

    def model_from_start():
        model = slim.Model(tiny_net)
        model(tf.constant(images))
        for v in model.variables:
            v.assign(start[v.name])
        return model

    def momentum():
        return tf.keras.optimizers.SGD(0.1, momentum=0.9)

    straight, _ = run(
        tmp_path,
        momentum,
        steps=10,
        name='straight',
        model=model_from_start(),
        dataset=data,
    )
    run(
        tmp_path,
        momentum,
        steps=5,
        name='resumed',
        model=model_from_start(),
        dataset=data,
    )
    # A new process would build everything anew: so do new objects here.
    resumed, result = run(
        tmp_path,
        momentum,
        steps=10,
        name='resumed',
        model=slim.Model(tiny_net),
        dataset=data,
    )
    assert len(result.loss_history) == 5
    for name, value in model_values(straight).items():
        np.testing.assert_allclose(
            model_values(resumed)[name], value, rtol=1e-5, atol=1e-6
        )


def poisoned_data(
    n=48,
    bad_batch=2,
    labels_scale=None,
    nan_labels=False,
    nan_images=False,
    nan_gradients=False,
):
    """Batches of 16 of the easy problem with float one-hot labels plus a
    poison column; batch `bad_batch` (0-based) carries the chosen fault."""
    images, labels = easy_data(n)
    onehot = np.eye(NUM_CLASSES + 1, dtype=np.float32)[labels]
    bad = slice(16 * bad_batch, 16 * (bad_batch + 1))
    if labels_scale:
        onehot[bad, :NUM_CLASSES] *= labels_scale
    if nan_labels:
        onehot[bad, 0] = np.nan
    if nan_images:
        images[bad] = np.nan
    if nan_gradients:
        onehot[bad, NUM_CLASSES] = 1.0
    return tf.data.Dataset.from_tensor_slices((images, onehot)).batch(16)


def poison_loss(outputs, labels):
    """Cross entropy; where the poison column is 1, a term whose value is 0
    but whose gradient is NaN (sqrt'(0) * 0)."""
    logits = outputs[0]
    poison = labels[:, NUM_CLASSES:]
    ce = tf.compat.v1.losses.softmax_cross_entropy(
        labels[:, :NUM_CLASSES],
        logits,
        reduction=tf.compat.v1.losses.Reduction.MEAN,
    )
    zero_with_nan_grad = tf.reduce_sum(
        tf.sqrt(tf.square(logits * 0.0) * poison + (1.0 - poison))
        - 1.0
        + poison
    )
    return ce + 1e-3 * zero_with_nan_grad


def checkpoint_numbers(directory):
    return sorted(
        int(p[: -len('.index')].rsplit('-', 1)[1])
        for p in glob.glob(str(directory) + '/ckpt-*.index')
    )


def test_nan_loss_sets_aside_the_checkpoint_that_gave_it(tmp_path):
    # NaN labels make the loss NaN on every CPU, whatever the kernels do.
    with pytest.raises(
        FloatingPointError,
        match=(
            r'At step 3 the loss is nan; training stopped\. Moved ckpt-2, '
            r'whose weights were not shown to give a loss within bound, to '
            r'.*diverged/.*\. The last good checkpoint is .*ckpt-1, which a '
            r'restart resumes from'
        ),
    ):
        run(
            tmp_path,
            dataset=poisoned_data(nan_labels=True),
            loss_fn=poison_loss,
            save_interval_steps=1,
        )
    train_dir = tmp_path / 'run'
    assert tf.train.latest_checkpoint(str(train_dir)).endswith('ckpt-1')
    assert checkpoint_numbers(train_dir) == [1]
    moved = glob.glob(str(train_dir / 'diverged' / '*' / 'ckpt-2.index'))
    assert len(moved) == 1  # set aside, not deleted
    assert glob.glob(moved[0][: -len('index')] + 'data-*')


def test_nan_images_are_caught_whatever_the_kernels(tmp_path):
    # oneDNN's ReLU maps NaN to 0, so NaN images can give a finite loss:
    # the inputs are checked themselves.
    with pytest.raises(
        FloatingPointError,
        match=(
            r'At step 3 the input images hold NaN or infinite values; .*'
            r'Moved ckpt-2.*last good checkpoint is .*ckpt-1'
        ),
    ):
        run(
            tmp_path,
            dataset=poisoned_data(nan_images=True),
            loss_fn=poison_loss,
            save_interval_steps=1,
        )
    assert checkpoint_numbers(tmp_path / 'run') == [1]


def test_nan_gradients_with_a_finite_loss_stop_the_run(tmp_path):
    with pytest.raises(
        FloatingPointError,
        match=(
            r'At step 3 the gradients hold NaN or infinite values \(the loss '
            r'is [0-9.]+\); training stopped\. The last good checkpoint is '
            r'.*ckpt-2,'
        ),
    ) as raised:
        run(
            tmp_path,
            dataset=poisoned_data(nan_gradients=True),
            loss_fn=poison_loss,
            save_interval_steps=1,
        )
    assert 'Moved' not in str(raised.value)  # ckpt-2 gave a good loss
    train_dir = str(tmp_path / 'run')
    assert checkpoint_numbers(train_dir) == [1, 2]
    model = slim.Model(tiny_net)
    model(tf.zeros([1, 6, 6, 3]))
    slim.assign_from_checkpoint(model.variables, train_dir)
    assert all(np.isfinite(v.numpy()).all() for v in model.variables)


def test_loss_above_the_bound_stops_and_a_restart_resumes_from_good(tmp_path):
    # Finite but huge: labels scaled 1000x in the third batch.
    with pytest.raises(
        FloatingPointError,
        match=(
            r'At step 3 the loss is [0-9.e+]+, above loss_upper_bound=100; '
            r'training stopped\. Moved ckpt-2'
        ),
    ):
        run(
            tmp_path,
            dataset=poisoned_data(labels_scale=1000.0),
            loss_fn=poison_loss,
            save_interval_steps=1,
            loss_upper_bound=100,
        )
    # The same run without the bound goes on: 0 turns it off.
    run(
        tmp_path,
        dataset=poisoned_data(labels_scale=1000.0),
        name='free',
        loss_fn=poison_loss,
        save_interval_steps=1,
        loss_upper_bound=0,
        steps=3,
    )
    # A plain restart resumes from the good checkpoint, nothing to move.
    model, result = run(
        tmp_path, dataset=poisoned_data().repeat(), loss_fn=poison_loss, steps=4
    )
    assert len(result.loss_history) == 3  # steps 2, 3 and 4
    assert result.global_step == 4


def test_an_empty_dataset_trains_and_saves_nothing(tmp_path):
    images, labels = easy_data(8)
    data = tf.data.Dataset.from_tensor_slices((images, labels)).batch(
        16, drop_remainder=True
    )
    with pytest.raises(
        ValueError,
        match=r'dataset: it ended before the first '
        r'step \(at step 0\); nothing was trained or saved',
    ):
        run(tmp_path, dataset=data)
    assert tf.train.latest_checkpoint(str(tmp_path / 'run')) is None


def test_trainable_variables_only_change(tmp_path):
    model = slim.Model(tiny_net)
    model(tf.zeros([1, 6, 6, 3]))
    before = model_values(model)
    run(
        tmp_path,
        model=model,
        steps=5,
        variables_to_train=lambda m: training_utils.variables_to_train(
            m, ['Tiny/logits']
        ),
    )
    after = model_values(model)
    for name in before:
        changed = not np.array_equal(before[name], after[name])
        assert changed == name.startswith('Tiny/logits'), name
    with pytest.raises(
        ValueError, match="trainable_scopes='Nope' selects none"
    ):
        training_utils.variables_to_train(model, ['Nope'])


def test_moving_averages_follow_tf_slims_formula(tmp_path):
    model, result = run(tmp_path, steps=3, moving_average_decay=0.5)
    reader = tf.train.load_checkpoint(result.checkpoint_path)
    names = [
        k
        for k, _ in tf.train.list_variables(result.checkpoint_path)
        if 'ExponentialMovingAverage' in k
    ]
    assert len(names) == len(model.variables)
    # decay = min(0.5, (1 + step) / (10 + step)) = 0.5 here from step 0 on
    var = tf.Variable([0.0])
    averages = moving_averages.MovingAverages([var], 0.5)
    var.assign([4.0])
    averages.apply(tf.constant(0))
    # At step 0 the decay is min(0.5, 1 / 10) = 0.1: 0 - 0.9 * (0 - 4) = 3.6.
    np.testing.assert_allclose(
        averages.averages[moving_averages.average_name(var)].numpy(),
        [3.6],
        rtol=1e-6,
    )
    assert reader.get_tensor('global_step/.ATTRIBUTES/VARIABLE_VALUE') == 3
    with pytest.raises(ValueError, match='moving_average_decay'):
        moving_averages.MovingAverages([var], 1.5)


@pytest.mark.parametrize('dtype', ['bfloat16', 'float16'])
def test_mixed_precision_trains(tmp_path, dtype):
    model, result = run(tmp_path, steps=25, compute_dtype=dtype)
    assert falls(result.loss_history)
    assert all(v.dtype == tf.float32 for v in model.variables)


def test_label_smoothing_changes_the_targets():
    logits = tf.constant([[2.0, 0.0, -1.0]])
    labels = tf.constant([0])
    plain = learning.classification_loss()(logits, labels)
    smooth = learning.classification_loss(0.3)((logits, {}), labels)
    log_p = tf.nn.log_softmax(logits)[0].numpy()
    target = np.array([0.7 + 0.1, 0.1, 0.1])
    np.testing.assert_allclose(
        float(plain['softmax_cross_entropy_loss']), -log_p[0], rtol=1e-6
    )
    np.testing.assert_allclose(
        float(smooth['softmax_cross_entropy_loss']),
        -(target * log_p).sum(),
        rtol=1e-6,
    )
    aux = learning.classification_loss()(
        (logits, {'AuxLogits': logits}), labels
    )
    np.testing.assert_allclose(
        float(aux['aux_loss']), 0.4 * -log_p[0], rtol=1e-6
    )


def test_summaries_are_written(tmp_path):
    run(tmp_path, steps=3)
    tags = {}
    for path in glob.glob(str(tmp_path / 'run' / 'events.out.tfevents.*')):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                tags[value.tag] = value.metadata.plugin_data.plugin_name
    for tag, plugin in [
        ('total_loss', 'scalars'),
        ('learning_rate', 'scalars'),
        ('losses/softmax_cross_entropy_loss', 'scalars'),
        ('losses/regularization_loss', 'scalars'),
        ('images', 'images'),
        ('Tiny/conv1/weights', 'histograms'),
        ('activations/conv1', 'histograms'),
        ('sparsity/conv1', 'scalars'),
    ]:
        assert tags.get(tag) == plugin, (tag, sorted(tags))


def summary_values(directory):
    """`{tag: [(step, value)]}` of the scalars in the event files."""
    found = {}
    for path in glob.glob(str(directory) + '/events.out.tfevents.*'):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == 'scalars':
                    found.setdefault(value.tag, []).append(
                        (event.step, float(tf.make_ndarray(value.tensor)))
                    )
    return found


def test_summaries_every_n_steps_record_the_steps_losses(tmp_path):
    _, result = run(
        tmp_path, steps=7, save_summaries_steps=3, save_summaries_secs=0
    )
    losses = summary_values(tmp_path / 'run')['total_loss']
    # The first step, then every third: the loss of the step written.
    assert [step for step, _ in losses] == [1, 3, 6]
    np.testing.assert_allclose(
        [v for _, v in losses],
        [result.loss_history[s - 1] for s in (1, 3, 6)],
        rtol=1e-6,
    )
    run(
        tmp_path,
        steps=3,
        name='off',
        save_summaries_steps=0,
        save_summaries_secs=0,
    )
    assert summary_values(tmp_path / 'off') == {}


def test_histogram_buckets():
    buckets = summaries._buckets(tf.constant([0.0, 1.0, 1.0, 3.0]), 3).numpy()
    np.testing.assert_allclose(buckets, [[0, 1, 1], [1, 2, 2], [2, 3, 1]])
    np.testing.assert_allclose(
        summaries._buckets(tf.constant([2.0]), 3), [[2, 3, 1]]
    )
    # The traced form TrainSummaries uses on variables, on a matrix.
    values = np.random.RandomState(0).normal(size=(40, 25)).astype(np.float32)
    counts, edges = np.histogram(values, bins=30)
    buckets = summaries._variable_buckets(values).numpy()
    np.testing.assert_allclose(buckets[:, 0], edges[:-1], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(buckets[:, 2], counts)


def test_bad_arguments(tmp_path):
    model = slim.Model(tiny_net)
    with pytest.raises(ValueError, match='compute_dtype'):
        learning.train(
            model,
            easy_dataset(),
            tf.keras.optimizers.SGD,
            str(tmp_path),
            compute_dtype='int8',
        )
    with pytest.raises(ValueError, match='number_of_steps'):
        learning.train(
            model,
            easy_dataset(),
            tf.keras.optimizers.SGD,
            str(tmp_path),
            number_of_steps=-1,
        )
    assert not model.built  # rejected before any work


def test_resume_checks_the_net_and_starts_new_averages(tmp_path):
    run(tmp_path, steps=2)

    def other_net(images, is_training=True):
        with slim.variable_scope('Other'):
            return slim.fully_connected(
                slim.flatten(images),
                NUM_CLASSES,
                activation_fn=None,
                scope='logits',
            )

    with pytest.raises(
        ValueError,
        match=r'holds a checkpoint of another net: '
        r'2 of the 2 variables are missing \(e\.g\. Other/',
    ):
        run(tmp_path, steps=3, model=slim.Model(other_net))
    model, result = run(tmp_path, steps=3, moving_average_decay=0.5)
    reader = tf.train.load_checkpoint(result.checkpoint_path)
    weights = model.get_variable('Tiny/logits/weights').numpy()
    shadow = reader.get_tensor(
        'ema/_vars/Tiny.Slogits.Sweights.SExponentialMovingAverage/'
        '.ATTRIBUTES/VARIABLE_VALUE'
    )
    # Started from the weights at step 2 (not from zeros), one step behind.
    assert np.abs(shadow - weights).max() < np.abs(weights).max() * 0.5
    assert np.abs(shadow).max() > 0.5 * np.abs(weights).max()
