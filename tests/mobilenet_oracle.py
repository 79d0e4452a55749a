"""What the MobileNet tests share: our `nets/mobilenet/` files run on TF-Slim
1.1.0's layers in a TF1 graph (the oracle), our nets on this library, and
the published figures.

TF-Slim ships no MobileNet. The oracle is our own net files with their
imports pointed at TF-Slim: `load_on_tf_slim` copies them into a package
where `import slim` imports TF-Slim (plus TF1's `variable_scope`, the
`utils` over graph collections and TF1's truncated-normal initializer, as
research/slim used them) and `from nets.mobilenet import` imports the
copies. Only those import lines change, so the copies' functions are
decorated by TF-Slim's `add_arg_scope` and their conv defs hold TF-Slim's
layers. What the oracle checks is ours: the layers, the scopes, the
per-call collections that replace research/slim's graph walk, and the
checkpoint restore by name.
"""

import importlib
import math
import os
import re
import sys

import pytest
import tensorflow as tf

from net_oracle import (
    assert_close,
    load_golden,
    random_images,
    run_graph_net,
    variable_shapes,
    write_golden,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NET_DIR = os.path.join(ROOT, 'nets', 'mobilenet')
PACKAGE = 'mobilenet_on_tf_slim'
SHIM = 'slim_on_tf_slim'
FILES = ['conv_blocks', 'mobilenet', 'mobilenet_v2', 'mobilenet_v3']

_SHIM_SOURCE = '''"""TF-Slim 1.1.0 under the name `slim`, with TF1's scopes."""
import tensorflow as tf
import tf_slim
from tf_slim.layers import utils  # noqa: F401  (collections of the graph)

variable_scope = tf.compat.v1.variable_scope
truncated_normal_initializer = tf.compat.v1.truncated_normal_initializer


def __getattr__(name):
  return getattr(tf_slim, name)
'''

# The published parameter counts (research/slim's READMEs, 1001 classes), in
# millions, and how many decimals they are given with. They count the
# convolution weights and biases, not batch norm's parameters: MobileNet v2
# 1.0 has exactly 3,472,041 of those (3.47 M) and 34,112 beta and gamma
# values besides, which would make 3.51 M.
PUBLISHED_MILLIONS = {
    'mobilenet_v2': 3.47,
    'mobilenet_v2_140': 6.06,
    'mobilenet_v2_035': 1.66,
    'mobilenet_v3_large': 5.4,
    'mobilenet_v3_small': 2.9,
    'mobilenet_v3_large_minimalistic': 3.9,
    'mobilenet_v3_small_minimalistic': 2.0,
    'mobilenet_edgetpu': 4.0,
    'mobilenet_edgetpu_075': 2.9,
}

# research/slim's nets_factory: name -> (module, function).
FACTORY_FUNCTIONS = {
    'mobilenet_v2': ('mobilenet_v2', 'mobilenet'),
    'mobilenet_v2_140': ('mobilenet_v2', 'mobilenet_v2_140'),
    'mobilenet_v2_035': ('mobilenet_v2', 'mobilenet_v2_035'),
    'mobilenet_v3_small': ('mobilenet_v3', 'small'),
    'mobilenet_v3_large': ('mobilenet_v3', 'large'),
    'mobilenet_v3_small_minimalistic': ('mobilenet_v3', 'small_minimalistic'),
    'mobilenet_v3_large_minimalistic': ('mobilenet_v3', 'large_minimalistic'),
    'mobilenet_edgetpu': ('mobilenet_v3', 'edge_tpu'),
    'mobilenet_edgetpu_075': ('mobilenet_v3', 'edge_tpu_075'),
}


def port_to_tf_slim(source):
    """The import edits that run one of our files on TF-Slim; nothing else
    changes (`test_the_oracle_changes_imports_only` checks it)."""
    source = re.sub(
        r'^import slim$', 'import %s as slim' % SHIM, source, flags=re.M
    )
    return re.sub(
        r'^from nets\.mobilenet import ',
        'from %s import ' % PACKAGE,
        source,
        flags=re.M,
    )


def read_source(name):
    with open(os.path.join(NET_DIR, name + '.py')) as f:
        return f.read()


@pytest.fixture(scope='session')
def on_tf_slim(tmp_path_factory):
    """{file: module} of our MobileNet files on TF-Slim."""
    import tf_slim  # noqa: F401  (after conftest's aliases)

    root = tmp_path_factory.mktemp('mobilenet_on_tf_slim')
    (root / (SHIM + '.py')).write_text(_SHIM_SOURCE)
    package = root / PACKAGE
    package.mkdir()
    (package / '__init__.py').write_text('')
    for name in FILES:
        (package / (name + '.py')).write_text(
            port_to_tf_slim(read_source(name))
        )
    sys.path.insert(0, str(root))
    try:
        yield {
            name: importlib.import_module(PACKAGE + '.' + name)
            for name in FILES
        }
    finally:
        sys.path.remove(str(root))
        for key in [
            k for k in sys.modules if k.split('.')[0] in (PACKAGE, SHIM)
        ]:
            del sys.modules[key]


def factory_function(modules, name):
    module, function = FACTORY_FUNCTIONS[name]
    return getattr(modules[module], function)


def oracle_run(modules, name, images, ckpt_prefix=None, **kwargs):
    """Net `name` of the TF-Slim copies in a TF1 graph under its training
    scope (inference mode), random weights and batch-norm statistics:
    ({variable: shape}, {end point: value, 'logits': value}, [losses],
    [end point names in order])."""
    net = factory_function(modules, name)
    scope = modules['mobilenet'].training_scope
    keys = []

    def build(inputs):
        import tf_slim

        with tf_slim.arg_scope(scope(is_training=False)):
            logits, end_points = net(inputs, **kwargs)
        keys.extend(end_points)
        return dict(end_points, logits=logits)

    shapes, outputs, losses = run_graph_net(
        build, images, ckpt_prefix, randomize_statistics=True
    )
    return shapes, outputs, losses, keys


def our_model(name):
    """Net `name` of this library from our factory, in inference mode, with
    the training scope's default weight decay (as the oracle's)."""
    from nets import nets_factory

    return nets_factory.get_network_fn(
        name, num_classes=1001, weight_decay=0.00004
    )


def restored_comparison(name, size, tmp_path, modules, batch=2, **kwargs):
    """Runs the oracle on random images, restores its checkpoint into our net
    and runs ours eagerly and traced. Returns a dict of both sides."""
    import slim

    images = random_images(size, batch=batch)
    prefix = str(tmp_path / (name + '.ckpt'))
    shapes, theirs, losses, keys = oracle_run(
        modules, name, images, prefix, **kwargs
    )
    model = our_model(name)
    model(images[:1], **kwargs)
    restored = slim.assign_from_checkpoint(
        slim.get_variables_to_restore(model), prefix
    )
    logits, end_points = model(images, **kwargs)
    our_losses = [float(l) for l in model.losses]
    eager = dict(
        {k: v.numpy() for k, v in end_points.items()}, logits=logits.numpy()
    )
    traced_logits, traced_points = tf.function(
        lambda x: model(x, **kwargs), autograph=False
    )(tf.constant(images))
    traced = dict(
        {k: v.numpy() for k, v in traced_points.items()},
        logits=traced_logits.numpy(),
    )
    return dict(
        images=images,
        prefix=prefix,
        shapes=shapes,
        theirs=theirs,
        losses=losses,
        keys=keys,
        model=model,
        restored=restored,
        eager=eager,
        eager_keys=list(end_points),
        traced=traced,
        traced_keys=list(traced_points),
        our_losses=our_losses,
    )


def assert_matches_oracle(run, name):
    """Every variable restored, end points in the oracle's order, and their
    values equal to the oracle's eagerly and traced."""
    golden = load_golden(name)
    assert run['shapes'] == golden
    assert variable_shapes(run['model']) == golden
    assert sorted(run['restored']) == sorted(golden)
    keys = run['keys'] + ['logits']
    assert run['eager_keys'] + ['logits'] == keys
    assert run['traced_keys'] + ['logits'] == keys
    for key in keys:
        assert_close(run['eager'][key], run['theirs'][key], 'eager ' + key)
        assert_close(run['traced'][key], run['theirs'][key], 'traced ' + key)
    # Random statistics: a restore that dropped them would not match.
    variance = sorted(n for n in golden if n.endswith('moving_variance'))[-1]
    assert (
        tf.train.load_checkpoint(run['prefix']).get_tensor(variance).std() > 0.1
    )


def weights_and_biases(golden):
    """The published way of counting: convolution weights and biases."""
    return sum(
        math.prod(shape)
        for name, shape in golden.items()
        if name.rsplit('/', 1)[-1] in ('weights', 'biases', 'depthwise_weights')
    )


def write_goldens(names):
    """Writes tests/golden/<name>.json for each name from our net (1001
    classes, 224 x 224, graph mode)."""
    from nets import nets_factory

    for name in names:
        with tf.Graph().as_default():
            model = nets_factory.get_network_fn(name, 1001)
            model(tf.compat.v1.placeholder(tf.float32, [1, 224, 224, 3]))
            write_golden(name, variable_shapes(model))
