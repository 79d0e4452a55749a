"""The oracle of test_i3d.py and test_s3dg.py: our video net files
(nets/i3d_utils.py, nets/s3dg.py, nets/i3d.py) run on TF-Slim 1.1.0's layers
and TF1's variable scopes, in a TF1 graph.

Patching `slim` in our modules (as test_inception_v4.py does) is not enough
here: `conv3d_spatiotemporal` and `inception_block_v1_3d` are decorated with
`slim.add_arg_scope` when the file is imported, and TF-Slim's `arg_scope`
takes only functions decorated by its own. So the three files are executed
again, as fresh modules whose `import slim` gives TF-Slim.
"""

import contextlib
import functools
import importlib.util
import os
import sys
from unittest import mock

import numpy as np
import tensorflow as tf

from net_oracle import run_graph_net

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULES = ('i3d_utils', 's3dg', 'i3d')  # in import order


class _TFSlimWithScopes:
    """TF-Slim 1.1.0's API plus what our files take from `slim` beyond it:
    TF1's `variable_scope` and `truncated_normal_initializer`."""

    variable_scope = staticmethod(tf.compat.v1.variable_scope)
    truncated_normal_initializer = staticmethod(
        tf.compat.v1.truncated_normal_initializer
    )

    def __getattr__(self, name):
        import tf_slim

        return getattr(tf_slim, name)


@functools.lru_cache(maxsize=None)
def modules_on_tf_slim():
    """{name: module} for 'i3d_utils', 's3dg', 'i3d': our files executed with
    `slim` being TF-Slim, each importing the others' fresh copies."""
    import tf_slim  # noqa: F401  (imported before `slim` is swapped)
    import nets

    loaded = {}
    saved = sys.modules.get('slim')
    sys.modules['slim'] = _TFSlimWithScopes()
    try:
        for name in MODULES:
            spec = importlib.util.spec_from_file_location(
                'tf_slim_run_' + name, os.path.join(ROOT, 'nets', name + '.py')
            )
            module = importlib.util.module_from_spec(spec)
            # `from nets import i3d_utils` takes the package's attribute.
            with contextlib.ExitStack() as stack:
                for other, fresh in loaded.items():
                    stack.enter_context(
                        mock.patch.object(nets, other, fresh, create=True)
                    )
                spec.loader.exec_module(module)
            loaded[name] = module
    finally:
        if saved is None:
            sys.modules.pop('slim', None)
        else:
            sys.modules['slim'] = saved
    return loaded


def _build(net_name, arg_scope_kwargs, kwargs):
    import tf_slim

    module = modules_on_tf_slim()[net_name]
    arg_scope = getattr(module, net_name + '_arg_scope')(
        **(arg_scope_kwargs or {})
    )

    def build(inputs):
        with tf_slim.arg_scope(arg_scope):
            logits, end_points = getattr(module, net_name)(inputs, **kwargs)
        return dict(end_points, logits=logits)

    return build


def run_on_tf_slim(
    net_name, clip, ckpt_prefix=None, seed=0, arg_scope_kwargs=None, **kwargs
):
    """Our net `net_name` ('i3d' or 's3dg') on TF-Slim in a TF1 graph, random
    weights and batch-norm statistics, saved to `ckpt_prefix` if given:
    ({variable: shape}, {end point: value, 'logits': value}, [losses])."""
    return run_graph_net(
        _build(net_name, arg_scope_kwargs, kwargs),
        clip,
        ckpt_prefix,
        seed,
        randomize_statistics=True,
    )


def variables_on_tf_slim(net_name, shape, arg_scope_kwargs=None, **kwargs):
    """{variable: shape} of our net on TF-Slim, built (not run) in a TF1
    graph for an input of `shape`."""
    with tf.Graph().as_default():
        _build(net_name, arg_scope_kwargs, kwargs)(
            tf.compat.v1.placeholder(tf.float32, shape)
        )
        return {
            v.op.name: v.shape.as_list()
            for v in tf.compat.v1.global_variables()
        }


def random_clip(frames, height, width=None, batch=1, seed=1):
    """`batch` clips of frames x height x width x 3, uniform in [-1, 1)."""
    rng = np.random.RandomState(seed)
    return rng.uniform(
        -1, 1, (batch, frames, height, width or height, 3)
    ).astype(np.float32)


def run_restored(net_name, scoped_net, tmp_path_factory, frames=8, size=64):
    """Our net (`scoped_net`, the net under its arg scope) restored from the
    checkpoint of its TF-Slim run, both in inference mode on 2 clips of
    `frames` x `size` x `size`.

    Our variables are created by an eager call (creating them in the first
    trace of the compiled model would cost twice as much).

    Returns:
      A dict: 'shapes', 'theirs', 'losses' as `run_on_tf_slim`'s; 'model';
      'restored' (the names read from the checkpoint); 'outputs', {'eager' or
      'compiled': {end point: value, 'logits': value}}; 'our_losses', the
      regularization losses of the eager call.
    """
    import slim

    clip = random_clip(frames, size, batch=2)
    prefix = str(tmp_path_factory.mktemp(net_name) / 'model.ckpt')
    shapes, theirs, losses = run_on_tf_slim(
        net_name, clip, prefix, is_training=False
    )
    model = slim.Model(scoped_net, is_training=False)
    model(clip)
    restored = slim.assign_from_checkpoint(
        slim.get_variables_to_restore(model), prefix
    )
    outputs = {}
    for how, call in (
        ('eager', model),
        ('compiled', tf.function(model, autograph=False)),
    ):
        logits, end_points = call(tf.constant(clip))
        outputs[how] = dict(
            {k: v.numpy() for k, v in end_points.items()}, logits=logits.numpy()
        )
        if how == 'eager':
            our_losses = [float(loss) for loss in model.losses]
    return dict(
        shapes=shapes,
        theirs=theirs,
        losses=losses,
        model=model,
        restored=restored,
        outputs=outputs,
        our_losses=our_losses,
    )
