"""What test_nasnet.py and test_pnasnet.py share: the nets by factory name,
our net files run on TF-Slim 1.1.0 in a TF1 graph (the numerical oracle),
and the golden files.

tf_slim ships no NASNet, so the oracle is our own net files with `slim`
replaced by TF-Slim 1.1.0's layers and TF1's `variable_scope` (as
test_inception_v4.py does): it must create the same variables as our DSL,
and, restored by name from its TF1 checkpoint, give the same end points.
The goldens are further held to research/slim's end-point shapes (its
nasnet_test.py and pnasnet_test.py) and the published parameter counts;
before they were written they were compared once, offline, with
research/slim's own nasnet.py and pnasnet.py run on tf_slim.

Run as a script to rewrite the golden files from our nets:
    python tests/nasnet_checks.py
"""

import contextlib
from unittest import mock

import numpy as np
import tensorflow as tf

from net_oracle import (
    assert_close,
    load_golden,
    run_graph_net,
    variable_shapes,
    write_golden,
)

# Factory name: (module, build function, arg scope function, golden classes).
NETS = {
    'nasnet_cifar': (
        'nasnet',
        'build_nasnet_cifar',
        'nasnet_cifar_arg_scope',
        10,
    ),
    'nasnet_mobile': (
        'nasnet',
        'build_nasnet_mobile',
        'nasnet_mobile_arg_scope',
        1001,
    ),
    'nasnet_large': (
        'nasnet',
        'build_nasnet_large',
        'nasnet_large_arg_scope',
        1001,
    ),
    'pnasnet_mobile': (
        'pnasnet',
        'build_pnasnet_mobile',
        'pnasnet_mobile_arg_scope',
        1001,
    ),
    'pnasnet_large': (
        'pnasnet',
        'build_pnasnet_large',
        'pnasnet_large_arg_scope',
        1001,
    ),
}


def module(name):
    from nets.nasnet import nasnet, pnasnet

    return {'nasnet': nasnet, 'pnasnet': pnasnet}[NETS[name][0]]


def scoped(name):
    """`fn(images, **kwargs)`: the net `name` under its arg scope, with its
    golden class count unless given."""
    _, build, scope, classes = NETS[name]

    def fn(images, num_classes=classes, **kwargs):
        net_module = module(name)
        # The module's own `slim`: TF-Slim's under `on_tf_slim`.
        with net_module.slim.arg_scope(getattr(net_module, scope)()):
            return getattr(net_module, build)(images, num_classes, **kwargs)

    return fn


def aux_golden_name(name):
    return name + '_aux_head'


def graph_variables(name, size, batch=1, **kwargs):
    """({variable: shape}, {end point: static shape}) of a graph-mode build
    (no initializer runs)."""
    import slim

    with tf.Graph().as_default():
        model = slim.Model(scoped(name))
        _, end_points = model(
            tf.compat.v1.placeholder(tf.float32, [batch, size, size, 3]),
            **kwargs,
        )
        return (
            variable_shapes(model),
            {k: v.shape.as_list() for k, v in end_points.items()},
        )


class _TFSlimWithScopes:
    """TF-Slim 1.1.0's API plus TF1's `variable_scope`, under the name `slim`:
    what our net files see when run by `on_tf_slim`."""

    variable_scope = staticmethod(tf.compat.v1.variable_scope)

    def __getattr__(self, attr):
        import tf_slim

        return getattr(tf_slim, attr)


@contextlib.contextmanager
def on_tf_slim():
    """Runs our net files on TF-Slim's layers and TF1's scopes (graph mode)."""
    from nets.nasnet import nasnet, nasnet_utils, pnasnet

    shim = _TFSlimWithScopes()
    with (
        mock.patch.object(nasnet, 'slim', shim),
        mock.patch.object(nasnet_utils, 'slim', shim),
        mock.patch.object(pnasnet, 'slim', shim),
    ):
        yield


def oracle_and_ours(name, images, ckpt_prefix, **kwargs):
    """Net `name` on TF-Slim in a TF1 graph (random weights and statistics,
    saved to `ckpt_prefix`), then ours restored from that checkpoint, both
    called with `kwargs`.

    Returns:
      (TF1 {variable: shape}, TF1 {end point: value}, TF1 regularization
      losses, our model, our {end point: value}, names restored).
    """
    import slim

    fn = scoped(name)

    def build(inputs):
        with on_tf_slim():
            logits, end_points = fn(inputs, **kwargs)
        return dict(end_points, logits=logits)

    shapes, theirs, losses = run_graph_net(
        build, images, ckpt_prefix, randomize_statistics=True
    )
    model = slim.Model(fn, **kwargs)
    model(images)
    restored = slim.assign_from_checkpoint(
        slim.get_variables_to_restore(model), ckpt_prefix
    )
    logits, end_points = model(images)
    ours = {k: v.numpy() for k, v in end_points.items()}
    ours['logits'] = logits.numpy()
    return shapes, theirs, losses, model, ours, restored


def assert_end_points_match(ours, theirs):
    assert set(ours) == set(theirs)
    for key, value in theirs.items():
        assert_close(ours[key], value, key)


def parameter_count(name, with_aux_head=False):
    """Trainable parameters of the golden: weights, biases, batch-norm gamma
    and beta (the moving statistics are not parameters)."""
    shapes = dict(load_golden(name))
    if with_aux_head:
        shapes.update(load_golden(aux_golden_name(name)))
    return sum(
        int(np.prod(s))
        for k, s in shapes.items()
        if not k.endswith(('/moving_mean', '/moving_variance'))
    )


def write_goldens():
    """Our nets as the factory builds them at their default size: for
    evaluation (`<name>.json`, what test_zoo checks) and the auxiliary head a
    training build adds (`<name>_aux_head.json`)."""
    from nets import nets_factory

    for name in NETS:
        size = nets_factory.get_network_spec(name).default_image_size
        evaluation, _ = graph_variables(name, size, is_training=False)
        training, _ = graph_variables(name, size, is_training=True)
        assert set(evaluation) <= set(training)
        write_golden(name, evaluation)
        write_golden(
            aux_golden_name(name),
            {k: v for k, v in training.items() if k not in evaluation},
        )


if __name__ == '__main__':
    import conftest  # noqa: F401  (puts the work tree first on sys.path)

    write_goldens()
