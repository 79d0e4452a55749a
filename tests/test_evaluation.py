"""slim.metrics and slim.evaluation: values, checkpoints of both kinds,
moving averages, and following a directory of checkpoints."""

import glob
import threading
import time

import numpy as np
import pytest
import tensorflow as tf

import slim
from slim import evaluation
from slim import learning
from slim import metrics
from slim import moving_averages
from tests.test_learning import easy_data, easy_dataset, tiny_net


def eval_data(n=48):
    images, labels = easy_data(n, seed=1)
    return tf.data.Dataset.from_tensor_slices((images, labels)).batch(20)


def trained(tmp_path, steps=20, **kwargs):
    model = slim.Model(tiny_net)
    result = learning.train(
        model,
        easy_dataset(),
        lambda: tf.keras.optimizers.SGD(0.1),
        str(tmp_path / 'train'),
        number_of_steps=steps,
        log_every_n_steps=0,
        **kwargs,
    )
    return model, result


def event_tags(directory):
    tags = {}
    for path in glob.glob(str(directory) + '/events.out.tfevents.*'):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                tags.setdefault(value.tag, []).append(
                    (event.step, float(tf.make_ndarray(value.tensor)))
                )
    return tags


def test_metrics_match_numpy():
    rng = np.random.RandomState(0)
    logits = rng.normal(size=(50, 8)).astype(np.float32)
    labels = rng.randint(0, 8, 50)
    top1 = (logits.argmax(1) == labels).mean()
    rank = (logits > logits[np.arange(50), labels][:, None]).sum(1)
    top5 = (rank < 5).mean()
    np.testing.assert_allclose(float(metrics.accuracy(labels, logits)), top1)
    np.testing.assert_allclose(
        float(metrics.recall_at_k(labels, logits, 5)), top5
    )
    streaming = metrics.classification_metrics()
    for start in range(0, 50, 15):  # uneven batches: 15, 15, 15, 5
        for metric in streaming.values():
            metric.update(
                labels[start : start + 15], logits[start : start + 15]
            )
    np.testing.assert_allclose(
        float(streaming['Accuracy'].result()), top1, rtol=1e-6
    )
    np.testing.assert_allclose(
        float(streaming['Recall_5'].result()), top5, rtol=1e-6
    )
    streaming['Accuracy'].reset()
    assert float(streaming['Accuracy'].result()) == 0.0
    with pytest.raises(ValueError, match='k must be a positive int'):
        metrics.RecallAtK(0)


def test_evaluate_once_restores_and_writes_summaries(tmp_path):
    model, result = trained(tmp_path)
    expected = float(
        metrics.accuracy(
            np.concatenate([y for _, y in eval_data()]),
            tf.concat([model(x)[0] for x, _ in eval_data()], 0),
        )
    )
    fresh = slim.Model(tiny_net)
    values = evaluation.evaluate_once(
        fresh,
        eval_data(),
        str(tmp_path / 'train'),
        eval_dir=str(tmp_path / 'eval'),
    )
    assert values['global_step'] == 20
    np.testing.assert_allclose(values['Accuracy'], expected, rtol=1e-6)
    assert values['Accuracy'] > 0.8 and values['Recall_5'] == 1.0
    tags = event_tags(tmp_path / 'eval')
    assert tags['eval/Accuracy'] == [(20, pytest.approx(values['Accuracy']))]
    assert 'eval/Recall_5' in tags
    with pytest.raises(ValueError, match='holds no checkpoint'):
        evaluation.evaluate_once(fresh, eval_data(), str(tmp_path / 'eval'))


def test_evaluate_with_moving_averages_reads_the_shadows(tmp_path):
    _, result = trained(tmp_path, steps=10, moving_average_decay=0.9)
    reader = tf.train.load_checkpoint(result.checkpoint_path)
    model = slim.Model(tiny_net)
    evaluation.evaluate_once(
        model, eval_data(), result.checkpoint_path, moving_average_decay=0.9
    )
    raw = slim.Model(tiny_net)
    evaluation.evaluate_once(raw, eval_data(), result.checkpoint_path)
    names = dict(tf.train.list_variables(result.checkpoint_path))
    for var, raw_var in zip(model.variables, raw.variables):
        key = [
            k
            for k in names
            if k.startswith('ema/')
            and moving_averages.average_name(var).replace('/', '.S') in k
        ][0]
        np.testing.assert_allclose(var.numpy(), reader.get_tensor(key))
        assert not np.allclose(var.numpy(), raw_var.numpy())


def test_evaluate_a_tf1_name_based_checkpoint(tmp_path):
    model = slim.Model(tiny_net)
    model(tf.zeros([1, 6, 6, 3]))
    values = {
        v.name[:-2]: np.random.RandomState(3)
        .normal(size=v.shape)
        .astype(np.float32)
        for v in model.variables
    }
    with tf.Graph().as_default():
        tf1_vars = [
            tf.compat.v1.get_variable(name, initializer=value)
            for name, value in values.items()
        ]
        step = tf.compat.v1.train.get_or_create_global_step()
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            sess.run(step.assign(7))
            path = tf.compat.v1.train.Saver(tf1_vars + [step]).save(
                sess, str(tmp_path / 'model.ckpt')
            )
    result = evaluation.evaluate_once(slim.Model(tiny_net), eval_data(), path)
    assert result['global_step'] == 7
    for var in model.variables:
        var.assign(values[var.name[:-2]])
    logits = tf.concat([model(x)[0] for x, _ in eval_data()], 0)
    labels = np.concatenate([y for _, y in eval_data()])
    np.testing.assert_allclose(
        result['Accuracy'], float(metrics.accuracy(labels, logits))
    )


def test_evaluation_loop_follows_new_checkpoints_and_stops_at_timeout(tmp_path):
    model, _ = trained(tmp_path, steps=2)
    train_dir = str(tmp_path / 'train')

    def train_more():
        time.sleep(1.5)
        trained(tmp_path, steps=4)

    writer = threading.Thread(target=train_more)
    writer.start()
    start = time.time()
    results = evaluation.evaluation_loop(
        slim.Model(tiny_net),
        eval_data(),
        train_dir,
        eval_dir=str(tmp_path / 'eval'),
        eval_interval_secs=0.5,
        timeout=6,
    )
    writer.join()
    assert [r['global_step'] for r in results] == [2, 4]
    assert time.time() - start < 40
    # One event file per evaluation; glob order is arbitrary.
    steps = sorted(s for s, _ in event_tags(tmp_path / 'eval')['eval/Accuracy'])
    assert steps == [2, 4]
