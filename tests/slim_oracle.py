"""Runs the same net-building function with TF-Slim 1.1.0 (graph mode) and with
`slim` (eager or traced), for parity tests.

A build function takes the library as its first argument, `build(lib, *inputs)`,
so one definition serves both: `lambda lib, x: lib.conv2d(x, 4, [3, 3])`.
"""

import collections

import numpy as np
import tensorflow as tf
import tf_slim

import slim

Run = collections.namedtuple(
    'Run', ['outputs', 'names', 'shapes', 'initial', 'after', 'reg_losses']
)


def _loss(out):
    # A loss whose gradient reaches every output element differently.
    out = tf.cast(out, tf.float32)
    return tf.reduce_sum(tf.sin(out) * tf.cos(out * 0.5))


def run_tf_slim(build, inputs, step_lr=None):
    """Builds with tf_slim in a graph; one SGD step (and the batch-norm
    updates) when `step_lr` is given, else runs the update ops only."""
    with tf.Graph().as_default():
        tf.compat.v1.set_random_seed(1)
        ins = [tf.constant(a) for a in inputs]
        out = build(tf_slim, *ins)
        variables = tf.compat.v1.global_variables()
        reg = tf.compat.v1.losses.get_regularization_losses()
        updates = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)
        step = None
        if step_lr is not None:
            loss = _loss(out) + (tf.add_n(reg) if reg else 0.0)
            opt = tf.compat.v1.train.GradientDescentOptimizer(step_lr)
            with tf.control_dependencies(updates):
                step = opt.minimize(loss)
        elif updates:
            step = tf.group(*updates)
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            initial = collections.OrderedDict(
                (v.op.name, sess.run(v)) for v in variables
            )
            outputs, reg_values = sess.run([out, reg])
            after = None
            if step is not None:
                sess.run(step)
                after = {v.op.name: sess.run(v) for v in variables}
    return Run(
        outputs,
        list(initial),
        {k: list(v.shape) for k, v in initial.items()},
        initial,
        after,
        sorted(float(r) for r in reg_values),
    )


def run_slim(build, inputs, weights, step_lr=None, traced=False):
    """Builds with slim, copies `weights` in by name, then runs once (with an
    SGD step when `step_lr` is given)."""
    model = slim.Model(lambda *xs: build(slim, *xs))
    ins = [tf.constant(a) for a in inputs]
    model(*ins)
    names = [v.name[:-2] for v in model.variables]
    shapes = {v.name[:-2]: v.shape.as_list() for v in model.variables}
    for v in model.variables:
        if v.name[:-2] in weights:
            v.assign(weights[v.name[:-2]])

    def forward_and_step():
        if step_lr is None:
            return model(*ins), model.losses
        with tf.GradientTape() as tape:
            out = model(*ins)
            reg = model.losses
            loss = _loss(out) + (tf.add_n(reg) if reg else 0.0)
        grads = tape.gradient(loss, model.trainable_variables)
        for v, g in zip(model.trainable_variables, grads):
            v.assign_sub(step_lr * g)
        return out, reg

    fn = tf.function(forward_and_step) if traced else forward_and_step
    outputs, reg = fn()
    after = {v.name[:-2]: v.numpy() for v in model.variables}
    return Run(
        np.asarray(outputs),
        names,
        shapes,
        None,
        after,
        sorted(float(r) for r in reg),
    )


def assert_parity(
    build, inputs, step_lr=None, traced=False, rtol=1e-4, atol=1e-4
):
    """Same names, shapes, outputs, regularization losses and updated
    variables in both libraries."""
    ref = run_tf_slim(build, inputs, step_lr)
    got = run_slim(build, inputs, ref.initial, step_lr, traced)
    assert got.names == ref.names
    assert got.shapes == ref.shapes
    np.testing.assert_allclose(got.outputs, ref.outputs, rtol=rtol, atol=atol)
    np.testing.assert_allclose(
        got.reg_losses, ref.reg_losses, rtol=1e-5, atol=1e-7
    )
    if ref.after is not None:
        for name in ref.names:
            np.testing.assert_allclose(
                got.after[name],
                ref.after[name],
                rtol=rtol,
                atol=atol,
                err_msg=name,
            )
    return ref, got


def random_inputs(shape, seed=0, dtype=np.float32):
    return np.random.RandomState(seed).standard_normal(shape).astype(dtype)
