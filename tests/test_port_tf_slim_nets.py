"""The port promise, tested: TF-Slim's own net files run on this library after
changing their imports.

The files are the ones the installed `tf-slim` package ships
(`tf_slim/nets/*.py`), read at test time. `port_source` makes the promised
edits and no others (`test_only_imports_change` checks the lines it changes):

1. An import of a `tf_slim` module imports its counterpart here:
   `tf_slim` -> `slim`; `tf_slim.layers`, `tf_slim.layers.layers` ->
   `slim.layers`; `tf_slim.layers.initializers`, `.regularizers`, `.utils` ->
   `slim.initializers`, `slim.regularizers`, `slim.utils`;
   `tf_slim.ops.arg_scope` -> `slim.scopes`; `tf_slim.nets.<net>` -> the
   ported `<net>` module.
2. TF1's variable scopes become `slim.variable_scope`: the import
   `from tensorflow.python.ops import variable_scope` becomes
   `from slim import scopes as variable_scope` (so `variable_scope.
   variable_scope(...)` is slim's), and a call `tf.compat.v1.variable_scope(`
   (or `tf.variable_scope(`) becomes `slim.variable_scope(`.

Each ported net runs in a `slim.Model`, eagerly and under `tf.function`, and
must match the same file under TF-Slim in a TF1 graph: variable names and
shapes, end-point names (in TF-Slim's order), regularization losses, and
every end point's value, after TF-Slim's checkpoint (random weights, random
batch-norm statistics) is restored by name with `slim.assign_from_checkpoint`.
Inputs are the smallest each net takes; one net per file, the ResNets as
two-block variants of the files' own generators (see `NETS`).
"""

import importlib
import os
import re
import sys

import numpy as np
import pytest
import tensorflow as tf

import slim
from net_oracle import RTOL, assert_close, run_graph_net, variable_shapes

PACKAGE = 'ported_tf_slim_nets'
NET_FILES = [
    'alexnet',
    'overfeat',
    'vgg',
    'inception_v1',
    'inception_v2',
    'inception_v3',
    'resnet_utils',
    'resnet_v1',
    'resnet_v2',
]

# tf_slim module -> this library's module (longest prefix wins).
MODULE_MAP = {
    'tf_slim': 'slim',
    'tf_slim.layers': 'slim.layers',
    'tf_slim.layers.layers': 'slim.layers',
    'tf_slim.layers.initializers': 'slim.initializers',
    'tf_slim.layers.regularizers': 'slim.regularizers',
    'tf_slim.layers.utils': 'slim.utils',
    'tf_slim.ops.arg_scope': 'slim.scopes',
    'tf_slim.nets': PACKAGE,
}
VARIABLE_SCOPE_IMPORT = 'from tensorflow.python.ops import variable_scope'
VARIABLE_SCOPE_CALL = re.compile(r'\btf\.(?:compat\.v1\.)?variable_scope\(')

_FROM_IMPORT = re.compile(r'^(\s*)from\s+([\w.]+)\s+import\s+(.+?)\s*$')
_IMPORT = re.compile(r'^(\s*)import\s+([\w.]+)(?:\s+as\s+(\w+))?\s*$')


# ---------------------------------------------------------------- the edits


def port_source(source):
    """The promised edits of a TF-Slim net file's source (see the module's
    docstring); everything else is left as it is."""
    lines = []
    for line in source.split('\n'):
        if line.strip() == VARIABLE_SCOPE_IMPORT:
            line = line.replace(
                VARIABLE_SCOPE_IMPORT,
                'from slim import scopes as variable_scope',
            )
        else:
            line = _port_import(line)
        lines.append(VARIABLE_SCOPE_CALL.sub('slim.variable_scope(', line))
    return '\n'.join(lines)


def _map_module(dotted):
    parts = dotted.split('.')
    for n in range(len(parts), 0, -1):
        prefix = '.'.join(parts[:n])
        if prefix in MODULE_MAP:
            return '.'.join([MODULE_MAP[prefix]] + parts[n:])
    return None


def _port_import(line):
    m = _IMPORT.match(line)
    if m:
        indent, module, alias = m.groups()
        target = _map_module(module)
        if target is None:
            return line
        alias = alias or module.split('.')[0]
        if alias == target:
            return '%simport %s' % (indent, target)
        return '%simport %s as %s' % (indent, target, alias)
    m = _FROM_IMPORT.match(line)
    if not m or _map_module(m.group(2)) is None:
        return line
    indent, module, names = m.groups()
    ported = []
    for item in names.split(','):
        name, _, alias = item.strip().partition(' as ')
        target = _map_module(module + '.' + name.strip())
        parent, _, leaf = target.rpartition('.')
        ported.append(
            '%sfrom %s import %s%s'
            % (
                indent,
                parent,
                leaf,
                ' as ' + (alias.strip() or name.strip())
                if leaf != (alias.strip() or name.strip())
                else '',
            )
        )
    return '\n'.join(ported)


def _tf_slim_nets_dir():
    import tf_slim

    return os.path.join(os.path.dirname(tf_slim.__file__), 'nets')


def _read(name):
    with open(os.path.join(_tf_slim_nets_dir(), name + '.py')) as f:
        return f.read()


@pytest.fixture(scope='module')
def ported(tmp_path_factory):
    """{file name: the ported module}, imported from a package of the
    rewritten files."""
    root = tmp_path_factory.mktemp('ported')
    package = root / PACKAGE
    package.mkdir()
    (package / '__init__.py').write_text('')
    for name in NET_FILES:
        (package / (name + '.py')).write_text(port_source(_read(name)))
    sys.path.insert(0, str(root))
    try:
        yield {
            name: importlib.import_module(PACKAGE + '.' + name)
            for name in NET_FILES
        }
    finally:
        sys.path.remove(str(root))
        for key in [k for k in sys.modules if k.split('.')[0] == PACKAGE]:
            del sys.modules[key]


@pytest.mark.parametrize('name', NET_FILES)
def test_only_imports_change(name):
    """`port_source` works line by line; every line it changes is an import,
    or a `tf.compat.v1.variable_scope(` call that becomes
    `slim.variable_scope(` (the calls `variable_scope.variable_scope(...)`
    stay as written)."""
    source = _read(name)
    changed = [
        (line, port_source(line))
        for line in source.split('\n')
        if port_source(line) != line
    ]
    assert changed, 'nothing to port in %s?' % name
    for before, after in changed:
        if VARIABLE_SCOPE_CALL.sub('slim.variable_scope(', before) == after:
            continue
        for line in [before] + after.split('\n'):
            assert line.strip().startswith(('import ', 'from ')), line
    ported_source = port_source(source)
    assert not re.search(r'^\s*(from|import)\s+tf_slim\b', ported_source, re.M)
    assert 'tensorflow.python.ops import variable_scope' not in ported_source


def test_port_source_rules():
    assert port_source('import tf_slim as slim') == 'import slim'
    assert port_source('import tf_slim') == 'import slim as tf_slim'
    assert (
        port_source('from tf_slim.layers import layers as layers_lib')
        == 'from slim import layers as layers_lib'
    )
    assert (
        port_source('from tf_slim.ops.arg_scope import arg_scope')
        == 'from slim.scopes import arg_scope'
    )
    assert (
        port_source('from tf_slim.nets import resnet_utils')
        == 'from %s import resnet_utils' % PACKAGE
    )
    assert (
        port_source('  with tf.compat.v1.variable_scope(scope, "a"):')
        == '  with slim.variable_scope(scope, "a"):'
    )
    assert (
        port_source('from tf_slim.layers import utils, layers as L')
        == 'from slim import utils\nfrom slim import layers as L'
    )
    assert (
        port_source(VARIABLE_SCOPE_IMPORT)
        == 'from slim import scopes as variable_scope'
    )
    assert port_source('import numpy as np') == 'import numpy as np'


# ---------------------------------------------------------------- the nets

NUM_CLASSES = 7


def _call(function, **kwargs):
    """The net `function` of a (TF-Slim or ported) module."""

    def net(module, images):
        return getattr(module, function)(
            images, num_classes=NUM_CLASSES, is_training=False, **kwargs
        )

    return net


def _small_resnet(version):
    """A ResNet of two blocks of two units from the file's own generator and
    block helper (`resnet_v1` and `resnet_v1_block`), as TF-Slim's tests
    build them: every function of the file but the fixed-depth wrappers, at
    a quarter of ResNet-50's layers (the oracle's graph costs per layer)."""

    def net(module, images):
        block = getattr(module, 'resnet_%s_block' % version)
        blocks = [
            block('block1', base_depth=8, num_units=2, stride=2),
            block('block2', base_depth=16, num_units=2, stride=1),
        ]
        return getattr(module, 'resnet_' + version)(
            images,
            blocks,
            NUM_CLASSES,
            is_training=False,
            scope='resnet_%s_small' % version,
        )

    return net


# name: (file, net(module, images), arg scope function, image size, batch).
# Sizes are the smallest each net takes: its fixed final pooling or
# fully connected layer needs 195 (AlexNet), 231 (OverFeat), 224 (VGG), 193
# (Inception-v1) and 107 (Inception-v3's auxiliary head).
NETS = {
    'alexnet_v2': (
        'alexnet',
        _call('alexnet_v2'),
        'alexnet_v2_arg_scope',
        195,
        2,
    ),
    'overfeat': ('overfeat', _call('overfeat'), 'overfeat_arg_scope', 231, 1),
    'vgg_a': ('vgg', _call('vgg_a'), 'vgg_arg_scope', 224, 1),
    'inception_v1': (
        'inception_v1',
        _call('inception_v1'),
        'inception_v1_arg_scope',
        193,
        1,
    ),
    'inception_v2': (
        'inception_v2',
        _call('inception_v2', spatial_squeeze=False),
        'inception_v2_arg_scope',
        64,
        2,
    ),
    'inception_v3': (
        'inception_v3',
        _call('inception_v3'),
        'inception_v3_arg_scope',
        107,
        2,
    ),
    'resnet_v1_small': (
        'resnet_v1',
        _small_resnet('v1'),
        'resnet_arg_scope',
        64,
        2,
    ),
    'resnet_v2_small': (
        'resnet_v2',
        _small_resnet('v2'),
        'resnet_arg_scope',
        64,
        2,
    ),
}


def _net_fn(module, net, arg_scope, lib):
    def fn(images):
        with lib.arg_scope(getattr(module, arg_scope)()):
            logits, end_points = net(module, images)
        return dict(end_points, logits=logits)

    return fn


@pytest.mark.parametrize('net', sorted(NETS))
def test_ported_net_matches_tf_slim(net, ported, tmp_path):
    import tf_slim

    file, build, arg_scope, size, batch = NETS[net]
    images = (
        np.random.RandomState(1)
        .uniform(-1, 1, [batch, size, size, 3])
        .astype(np.float32)
    )
    ckpt = str(tmp_path / 'tf_slim.ckpt')
    tf_slim_module = importlib.import_module('tf_slim.nets.' + file)
    shapes, theirs, their_losses = run_graph_net(
        _net_fn(tf_slim_module, build, arg_scope, tf_slim),
        images,
        ckpt_prefix=ckpt,
        randomize_statistics=True,
    )

    model = slim.Model(_net_fn(ported[file], build, arg_scope, slim))
    model(tf.constant(images))
    assert variable_shapes(model) == shapes
    slim.assign_from_checkpoint(model.variables, ckpt)
    eager = model(tf.constant(images))
    eager_losses = model.losses
    traced = tf.function(model)(tf.constant(images))
    for ours in (eager, traced):
        assert list(ours) == list(theirs)
        for key in theirs:
            assert_close(
                ours[key], theirs[key], '%s %s' % (net, key), rtol=RTOL
            )
    np.testing.assert_allclose(
        sorted(float(l) for l in eager_losses), sorted(their_losses), rtol=1e-5
    )
