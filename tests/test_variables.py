"""The variable store, variable queries and restoring TF-Slim checkpoints."""

import os

import numpy as np
import pytest
import tensorflow as tf
import tf_slim

import slim


def net(lib, x, num_classes=3):
    with lib.arg_scope([lib.conv2d], normalizer_fn=lib.batch_norm):
        x = lib.conv2d(x, 4, [3, 3], scope='conv1')
        x = lib.conv2d(x, 4, [3, 3], scope='conv2')
    x = lib.flatten(x)
    return lib.fully_connected(
        x, num_classes, activation_fn=None, scope='Logits'
    )


def scoped_net(lib, x, num_classes=3):
    vs = slim.variable_scope if lib is slim else tf.compat.v1.variable_scope
    with vs('Net'):
        return net(lib, x, num_classes)


X = np.random.RandomState(0).standard_normal([2, 6, 6, 3]).astype(np.float32)


@pytest.fixture(scope='module')
def tf_slim_checkpoint(tmp_path_factory):
    """A checkpoint written by TF-Slim in graph mode, with its values."""
    path = str(tmp_path_factory.mktemp('ckpt') / 'model.ckpt')
    with tf.Graph().as_default():
        out = scoped_net(tf_slim, tf.constant(X))
        step = tf.compat.v1.train.get_or_create_global_step()
        saver = tf.compat.v1.train.Saver()
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            # Non-trivial batch-norm statistics.
            for v in tf_slim.get_variables(suffix='moving_variance'):
                sess.run(v.assign(v + 0.5))
            values = {
                v.op.name: sess.run(v) for v in tf.compat.v1.global_variables()
            }
            logits = sess.run(out)
            saver.save(sess, path)
    del step
    return path, values, logits


def build(num_classes=3):
    model = slim.Model(lambda x: scoped_net(slim, x, num_classes))
    model(tf.constant(X))
    return model


def test_restore_tf_slim_checkpoint_by_name(tf_slim_checkpoint):
    path, values, logits = tf_slim_checkpoint
    model = build()
    restored = slim.assign_from_checkpoint(
        slim.get_variables_to_restore(model), path
    )
    assert sorted(restored) == sorted(k for k in values if k != 'global_step')
    for v in model.variables:
        np.testing.assert_array_equal(v.numpy(), values[v.name[:-2]])
    out = model(tf.constant(X))
    np.testing.assert_allclose(out.numpy(), logits, rtol=1e-5, atol=1e-5)


def test_restore_from_directory_and_dict(tf_slim_checkpoint):
    path, values, _ = tf_slim_checkpoint
    model = build()
    w = model.get_variable('Net/conv1/weights')
    slim.assign_from_checkpoint({'Net/conv1/weights': w}, os.path.dirname(path))
    np.testing.assert_array_equal(w.numpy(), values['Net/conv1/weights'])


def test_fine_tuning_restore_excludes_logits(tf_slim_checkpoint):
    path, values, _ = tf_slim_checkpoint
    model = build(num_classes=5)
    to_restore = slim.get_variables_to_restore(model, exclude=['Net/Logits'])
    assert all(not v.name.startswith('Net/Logits') for v in to_restore)
    slim.assign_from_checkpoint(to_restore, path)
    for v in to_restore:
        np.testing.assert_array_equal(v.numpy(), values[v.name[:-2]])
    with pytest.raises(ValueError) as e:
        slim.assign_from_checkpoint(model.variables, path)
    assert 'Net/Logits/weights' in str(e.value) and '[5]' in str(e.value)


def test_missing_names_are_listed_or_skipped(tf_slim_checkpoint, tmp_path):
    path, values, _ = tf_slim_checkpoint
    model = slim.Model(lambda x: net(slim, x))  # no 'Net' scope
    model(tf.constant(X))
    with pytest.raises(ValueError) as e:
        slim.assign_from_checkpoint(model.variables, path)
    msg = str(e.value)
    assert 'conv1/weights' in msg and 'Logits/biases' in msg
    assert 'ignore_missing_vars' in msg
    assert (
        slim.assign_from_checkpoint(
            model.variables, path, ignore_missing_vars=True
        )
        == []
    )
    with pytest.raises(ValueError, match='does not exist'):
        slim.assign_from_checkpoint(model.variables, str(tmp_path / 'nope'))
    with pytest.raises(ValueError, match='no checkpoint'):
        slim.assign_from_checkpoint(model.variables, str(tmp_path))


def test_restore_our_own_object_checkpoint(tmp_path):
    model = build()
    for v in model.variables:
        v.assign(tf.random.normal(v.shape))
    saved = {v.name: v.numpy() for v in model.variables}
    path = tf.train.Checkpoint(model=model).save(str(tmp_path / 'ckpt'))
    other = build()
    slim.assign_from_checkpoint(other.variables, path)
    for v in other.variables:
        np.testing.assert_array_equal(v.numpy(), saved[v.name])


def test_queries_match_tf_slim_collections():
    with tf.Graph().as_default():
        scoped_net(tf_slim, tf.constant(X))
        tf_slim.variable('counter', shape=[], trainable=False)
        expected = {
            'all': [v.op.name for v in tf_slim.get_variables()],
            'model': [v.op.name for v in tf_slim.get_model_variables()],
            'trainable': [v.op.name for v in tf_slim.get_trainable_variables()],
            'scope': [v.op.name for v in tf_slim.get_variables('Net/conv2')],
            'suffix': [
                v.op.name for v in tf_slim.get_variables(suffix='weights')
            ],
            'by_name': [
                v.op.name for v in tf_slim.get_variables_by_name('beta')
            ],
            'restore': [
                v.op.name
                for v in tf_slim.get_variables_to_restore(
                    include=['Net/conv1', 'Net/Logits'],
                    exclude=['Net/Logits/biases'],
                )
            ],
        }

    def with_counter(x):
        out = scoped_net(slim, x)
        slim.variable('counter', shape=[], trainable=False)
        return out

    model = slim.Model(with_counter)
    model(tf.constant(X))

    def names(vs):
        return [v.name[:-2] for v in vs]

    assert names(slim.get_variables(model)) == expected['all']
    assert names(slim.get_model_variables(model)) == expected['model']
    assert names(slim.get_trainable_variables(model)) == expected['trainable']
    assert names(slim.get_variables(model, 'Net/conv2')) == expected['scope']
    assert (
        names(slim.get_variables(model, suffix='weights')) == expected['suffix']
    )
    assert (
        names(slim.get_variables_by_name(model, 'beta')) == expected['by_name']
    )
    assert (
        names(
            slim.get_variables_to_restore(
                model,
                include=['Net/conv1', 'Net/Logits'],
                exclude=['Net/Logits/biases'],
            )
        )
        == expected['restore']
    )
    assert slim.get_unique_variable(model, 'counter').shape == []
    with pytest.raises(ValueError, match='no variable'):
        slim.get_unique_variable(model, 'Net/none')


def test_shape_conflict_names_variable_and_both_shapes():
    def fn(x, n):
        return slim.fully_connected(x, n, scope='fc')

    model = slim.Model(fn)
    model(tf.ones([2, 3]), 4)
    with pytest.raises(ValueError) as e:
        model(tf.ones([2, 3]), 5)
    msg = str(e.value)
    assert 'fc/weights' in msg and '[3, 4]' in msg and '[3, 5]' in msg


def test_same_scope_twice_in_a_call_needs_reuse():
    def twice(x, reuse):
        slim.fully_connected(x, 3, scope='fc')
        return slim.fully_connected(x, 3, scope='fc', reuse=reuse)

    with pytest.raises(ValueError, match='reuse'):
        slim.Model(twice)(tf.ones([2, 3]), None)
    model = slim.Model(twice)
    model(tf.ones([2, 3]), True)
    assert len(model.variables) == 2


def test_reuse_of_missing_variable_is_an_error():
    model = slim.Model(
        lambda x: slim.fully_connected(x, 3, reuse=True, scope='fc')
    )
    with pytest.raises(ValueError, match='does not exist'):
        model(tf.ones([2, 3]))


def test_model_variable_outside_model():
    with pytest.raises(RuntimeError, match='slim.Model'):
        slim.model_variable('w', shape=[2])


def test_a_model_called_inside_another_keeps_its_own_collections():
    inner = slim.Model(
        lambda x: (
            slim.fully_connected(x, 3, scope='inner', outputs_collections='c'),
            slim.utils.convert_collection_to_dict('c'),
        )[1]
    )

    def outer(x):
        slim.fully_connected(x, 3, scope='outer', outputs_collections='c')
        inner_points = inner(x)
        return inner_points, slim.utils.convert_collection_to_dict('c')

    inner_points, outer_points = slim.Model(outer)(tf.ones([2, 3]))
    assert list(inner_points) == ['inner']
    assert list(outer_points) == ['outer']
