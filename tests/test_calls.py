"""`slim.calls`: what one call of a model owns, on its own thread."""

import threading

import pytest
import tensorflow as tf

import slim
from slim import calls


def test_a_model_call_is_current_only_while_its_net_runs():
    seen = []

    def net(x, is_training=True):
        call = calls.current()
        seen.append((call.model, call.is_training, calls.call_is_training()))
        return slim.fully_connected(x, 2, scope='fc')

    model = slim.Model(net)
    assert calls.current() is None and calls.call_is_training() is None
    model(tf.ones([1, 3]), is_training=False)
    model(tf.ones([1, 3]), is_training=tf.constant(True))
    assert seen == [(model, False, False), (model, None, None)]
    assert calls.current() is None
    with pytest.raises(RuntimeError, match='outside a model'):
        calls.current_or_raise('model_variable')


def test_each_call_names_afresh_and_an_inner_model_has_its_own_call():
    names = []

    def inner_net(x):
        names.append(calls.current().names.scope.name)
        return slim.fully_connected(x, 2)

    inner = slim.Model(inner_net)

    def outer_net(x):
        with slim.variable_scope('Outer'):
            y = slim.fully_connected(x, 2)  # fully_connected/...
            outer_call = calls.current()
            y = inner(y)
            assert calls.current() is outer_call
            return slim.fully_connected(y, 2)  # fully_connected_1/...

    outer = slim.Model(outer_net)
    outer(tf.ones([1, 3]))
    outer(tf.ones([1, 3]))  # the same names again, not fully_connected_2
    assert names == ['', '']  # the inner call starts at the top
    assert [v.name for v in outer.variables] == [
        'Outer/fully_connected/weights:0',
        'Outer/fully_connected/biases:0',
        'Outer/fully_connected_1/weights:0',
        'Outer/fully_connected_1/biases:0',
    ]
    assert [v.name for v in inner.variables] == [
        'fully_connected/weights:0',
        'fully_connected/biases:0',
    ]


def test_calls_on_two_threads_do_not_see_each_other():
    barrier = threading.Barrier(2)
    seen = {}

    def net(x, tag=None):
        if tag is not None:
            barrier.wait(timeout=30)  # both calls are running now
            seen[tag] = calls.current()
            barrier.wait(timeout=30)
        return slim.fully_connected(x, 2, scope='fc')

    model = slim.Model(net)
    model.build(tf.TensorSpec([1, 3]))
    threads = [
        threading.Thread(
            target=model, args=(tf.ones([1, 3]),), kwargs={'tag': t}
        )
        for t in 'ab'
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert seen['a'] is not seen['b']
    assert seen['a'].model is seen['b'].model is model
