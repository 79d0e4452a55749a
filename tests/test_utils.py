"""slim.utils and `outputs_collections`: TF-Slim's named outputs over the
collections of the running model call, checked against tf_slim 1.1.0 in a
graph (aliases, end-point keys and order, values); collections per call and
per thread; and TF-Slim's small helpers."""

import collections
import threading

import numpy as np
import pytest
import tensorflow as tf
import tf_slim

import slim
from slim_oracle import random_inputs

X = random_inputs([2, 8, 8, 3])
X3D = random_inputs([2, 6, 6, 6, 2], seed=3)


def _variable_scope(lib):
    return slim.variable_scope if lib is slim else tf.compat.v1.variable_scope


def collecting_net(lib, images):
    """Every kind of collecting layer, named and default-named, a repeat
    and a stack, and a pool named like a variable scope."""
    with _variable_scope(lib)(None, 'Net', [images]) as sc:
        collection = sc.original_name_scope + '_end_points'
        with lib.arg_scope(
            [
                lib.conv2d,
                lib.fully_connected,
                lib.max_pool2d,
                lib.avg_pool2d,
                lib.dropout,
                lib.flatten,
                lib.bias_add,
                lib.batch_norm,
                lib.layer_norm,
                lib.separable_conv2d,
                lib.conv2d_transpose,
            ],
            outputs_collections=collection,
        ):
            x = lib.repeat(images, 2, lib.conv2d, 4, [3, 3], scope='conv1')
            x = lib.max_pool2d(x, [2, 2], scope='pool1')
            x = lib.conv2d(x, 4, 1, normalizer_fn=lib.batch_norm)
            x = lib.conv2d(
                x, 4, 1, normalizer_fn=lib.batch_norm, activation_fn=None
            )
            x = lib.max_pool2d(x, 2, stride=1, padding='SAME')
            x = lib.max_pool2d(x, 2, stride=1, padding='SAME')
            x = lib.avg_pool2d(x, 2, stride=1, padding='SAME', scope='conv1')
            x = lib.separable_conv2d(x, 4, 3)
            x = lib.conv2d_transpose(x, 3, 3)
            x = lib.bias_add(x)
            x = lib.layer_norm(x)
            x = lib.dropout(x, 0.5, is_training=False, scope='drop')
            x = lib.flatten(x)
            x = lib.stack(x, lib.fully_connected, [6, 5], scope='fc')
            logits = lib.fully_connected(
                x, 3, activation_fn=None, scope='logits'
            )
        return logits, lib.utils.convert_collection_to_dict(collection)


def collecting_3d_net(lib, volumes):
    with lib.arg_scope(
        [lib.conv3d, lib.max_pool3d, lib.avg_pool3d, lib.group_norm],
        outputs_collections='points',
    ):
        x = lib.conv3d(volumes, 4, [3, 3, 3], scope='conv1')
        x = lib.group_norm(x, groups=2, reduction_axes=(-4, -3, -2))
        x = lib.max_pool3d(x, 2, stride=1, padding='SAME')
        x = lib.avg_pool3d(x, [2, 2, 2])
        return x, lib.utils.convert_collection_to_dict('points')


def one_tensor_two_collections(lib, images):
    """TF-Slim keeps aliases on the tensor, so a tensor collected in two
    collections shows both aliases in each."""
    y = lib.conv2d(images, 2, 1, scope='c1', outputs_collections='a')
    lib.utils.collect_named_outputs(['b', 'b'], 'b_name/', y)
    z = lib.one_hot_encoding(tf.constant([0, 2]), 3, outputs_collections='b')
    w = lib.flatten(y, outputs_collections=['a'])
    return (
        w,
        lib.utils.convert_collection_to_dict('a'),
        lib.utils.convert_collection_to_dict('b'),
        z,
    )


def run_tf_slim(build, inputs):
    """({end point: value}, {variable: value}) of `build` in a TF1 graph;
    the end points are the dicts `build` returns, keys joined by '|'."""
    with tf.Graph().as_default():
        tf.compat.v1.set_random_seed(0)
        outputs = build(tf_slim, tf.constant(inputs))
        variables = tf.compat.v1.global_variables()
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            values = sess.run(_flat(outputs))
            weights = {v.op.name: sess.run(v) for v in variables}
    return values, weights


def run_slim(build, inputs, weights, traced):
    model = slim.Model(lambda x: build(slim, x))
    model(tf.constant(inputs))
    for v in model.variables:
        v.assign(weights[v.name[:-2]])
    call = tf.function(model) if traced else model
    return {
        k: np.asarray(v) for k, v in _flat(call(tf.constant(inputs))).items()
    }


def _flat(outputs):
    """{'0': tensor, '1|alias': tensor, ...}: keys keep the dicts' order."""
    flat = collections.OrderedDict()
    for i, out in enumerate(outputs):
        if isinstance(out, dict):
            for alias, value in out.items():
                flat['%d|%s' % (i, alias)] = value
        else:
            flat[str(i)] = out
    return flat


@pytest.mark.parametrize('traced', [False, True])
@pytest.mark.parametrize(
    'build,inputs',
    [
        (collecting_net, X),
        (collecting_3d_net, X3D),
        (one_tensor_two_collections, X),
    ],
    ids=['2d', '3d', 'two_collections'],
)
def test_end_points_match_tf_slim(build, inputs, traced):
    ref, weights = run_tf_slim(build, inputs)
    got = run_slim(build, inputs, weights, traced)
    assert list(got) == list(ref)
    for key in ref:
        np.testing.assert_allclose(
            got[key], ref[key], rtol=1e-5, atol=1e-5, err_msg=key
        )


def test_end_point_names_of_collecting_net():
    got = run_slim(
        collecting_net, X, run_tf_slim(collecting_net, X)[1], traced=False
    )
    names = [k.split('|')[1] for k in got if '|' in k]
    # As TF-Slim names them (checked against it above); spelled out here.
    assert names[:5] == [
        'Net/conv1/conv1_1',
        'Net/conv1/conv1_2',
        'Net/pool1',
        'Net/Conv/BatchNorm',
        'Net/Conv',
    ]
    for name in (
        'Net/MaxPool2D',
        'Net/MaxPool2D_1',
        'Net/conv1_1',
        'Net/Conv_1/BatchNorm',
        'Net/Conv_1',
        'Net/drop',
        'Net/Flatten',
        'Net/fc/fc_1',
        'Net/fc/fc_2',
        'Net/logits',
    ):
        assert name in names


def test_collections_are_per_call():
    def net(x):
        x = slim.conv2d(x, 2, 1, outputs_collections='points')
        first = slim.utils.get_collection('points')
        y = slim.conv2d(x, 2, 1, scope='second', outputs_collections='points')
        return first, slim.utils.convert_collection_to_dict('points'), y

    model = slim.Model(net)
    for _ in range(2):  # the second call starts from empty collections
        first, points, _ = model(tf.constant(X))
        assert len(first) == 1
        assert list(points) == ['Conv', 'second']
    first, points, y = tf.function(model)(tf.constant(X))
    assert list(points) == ['Conv', 'second']
    np.testing.assert_allclose(points['second'], y)


def test_collections_are_per_thread():
    """Two threads run one model at once; each sees its own collection."""
    barrier = threading.Barrier(2, timeout=60)
    wait = [False]

    def net(x):
        slim.utils.add_to_collection('seen', x)
        if wait[0]:
            barrier.wait()  # both threads have added before either reads
        slim.conv2d(x, 2, 1, scope='c', outputs_collections='seen')
        return slim.utils.get_collection('seen')

    model = slim.Model(net)
    model(tf.constant(X))  # creates the variables
    wait[0] = True
    results = {}

    def run(value):
        results[value] = model(tf.fill([1, 3, 3, 3], value))

    threads = [threading.Thread(target=run, args=(v,)) for v in (1.0, 2.0)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for value, seen in results.items():
        assert len(seen) == 2
        np.testing.assert_allclose(seen[0], value)


def test_mirrored_replicas_keep_their_own_end_points():
    strategy = tf.distribute.MirroredStrategy(
        ['/cpu:0', '/cpu:1'],
        cross_device_ops=tf.distribute.ReductionToOneDevice(),
    )

    def net(x):
        slim.conv2d(x, 2, 1, scope='c', outputs_collections='points')
        return slim.utils.convert_collection_to_dict('points')

    with strategy.scope():
        model = slim.Model(net).build(tf.TensorSpec([None, 4, 4, 3]))
    data = tf.data.Dataset.from_tensor_slices(X[:, :4, :4]).batch(2)
    batch = next(iter(strategy.experimental_distribute_dataset(data)))
    per_replica = strategy.run(model, args=(batch,))
    replicas = strategy.experimental_local_results(per_replica)
    inputs = strategy.experimental_local_results(batch)
    assert len(replicas) == 2
    w = model.get_variable('c/weights').numpy()[0, 0]
    b = model.get_variable('c/biases').numpy()
    for points, x in zip(replicas, inputs):
        assert list(points) == ['c']
        np.testing.assert_allclose(
            points['c'],
            np.maximum(np.asarray(x) @ w + b, 0),
            rtol=1e-5,
            atol=1e-6,
        )


def test_get_collection_scope_and_aliases():
    def net(x):
        a = slim.conv2d(x, 2, 1, scope='block1', outputs_collections='p')
        b = slim.conv2d(a, 2, 1, scope='block2', outputs_collections='p')
        slim.utils.collect_named_outputs('p', 'block2/again', b)
        slim.utils.append_tensor_alias(a, 'first/')
        return (
            slim.utils.get_collection('p', scope='block2'),
            slim.utils.get_tensor_aliases(a),
            slim.utils.gather_tensors_aliases([a, b]),
            slim.utils.get_collection('nothing'),
            slim.utils.convert_collection_to_dict('p', clear_collection=True),
            slim.utils.get_collection('p'),
            b,
        )

    in_block2, aliases, gathered, nothing, points, cleared, b = slim.Model(net)(
        tf.constant(X)
    )
    assert len(in_block2) == 2 and all(t is b for t in in_block2)
    assert aliases == ['block1', 'first']
    assert gathered == ['block1', 'first', 'block2', 'block2/again']
    assert nothing == [] and cleared == []
    assert list(points) == ['block1', 'first', 'block2', 'block2/again']


def test_get_tensor_aliases_without_alias():
    with tf.Graph().as_default():
        t = tf.constant(1.0, name='named')
        assert (
            slim.utils.get_tensor_aliases(t)
            == tf_slim.utils.get_tensor_aliases(t)
            == ['named']
        )
    eager = tf.constant(1.0)
    with pytest.raises(ValueError, match='append_tensor_alias'):
        slim.utils.get_tensor_aliases(eager)
    eager.aliases = ['given']  # TF-Slim's attribute is honoured
    assert slim.utils.get_tensor_aliases(eager) == ['given']


def test_collecting_outside_a_model_says_what_to_do():
    x = tf.constant(X)
    assert slim.utils.collect_named_outputs(None, 'a', x) is x
    assert slim.utils.collect_named_outputs([], 'a', x) is x
    for call in (
        lambda: slim.utils.collect_named_outputs('points', 'a', x),
        lambda: slim.max_pool2d(x, 2, outputs_collections='points'),
        lambda: slim.utils.convert_collection_to_dict('points'),
        lambda: slim.utils.get_collection('points'),
        lambda: slim.utils.append_tensor_alias(x, 'a'),
        lambda: slim.utils.add_to_collection('points', x),
    ):
        with pytest.raises(RuntimeError, match='slim.Model') as e:
            call()
        assert 'outside a model' in str(e.value)
    assert slim.max_pool2d(x, 2).shape == (2, 4, 4, 3)  # no collection: fine


def test_alias_must_be_a_nonempty_string():
    def net(alias):
        return slim.utils.collect_named_outputs('p', alias, tf.constant(X))

    with pytest.raises(TypeError, match='alias'):
        slim.Model(net)(3)
    with pytest.raises(ValueError, match='alias'):
        slim.Model(net)('')


# ---------------------------------------------------------------------------
# The helpers, against tf_slim.layers.utils


@pytest.mark.parametrize(
    'shape,min_rank', [([2, 3, 5], 1), ([7], 1), (tf.TensorShape([None, 4]), 2)]
)
def test_last_and_channel_dimension(shape, min_rank):
    shape = tf.TensorShape(shape)
    assert slim.utils.last_dimension(
        shape, min_rank
    ) == tf_slim.utils.last_dimension(shape, min_rank)
    assert slim.utils.channel_dimension(
        shape, 'channels_last', min_rank
    ) == tf_slim.utils.channel_dimension(shape, 'channels_last', min_rank)
    if shape.rank >= 2 and shape[1] is not None:
        assert slim.utils.channel_dimension(
            shape, 'channels_first', min_rank
        ) == tf_slim.utils.channel_dimension(shape, 'channels_first', min_rank)
    else:
        with pytest.raises(ValueError, match='channel_dimension'):
            slim.utils.channel_dimension(shape, 'channels_first', min_rank)


@pytest.mark.parametrize(
    'shape,min_rank',
    [
        (tf.TensorShape([2, None]), 1),
        (tf.TensorShape(None), 1),
        (tf.TensorShape([3]), 2),
    ],
)
def test_last_dimension_errors(shape, min_rank):
    with pytest.raises(ValueError):
        tf_slim.utils.last_dimension(shape, min_rank)
    with pytest.raises(ValueError, match='last_dimension'):
        slim.utils.last_dimension(shape, min_rank)


@pytest.mark.parametrize('value', [3, [2, 5], (4, 1), tf.TensorShape([6, 7])])
def test_two_element_tuple(value):
    assert slim.utils.two_element_tuple(
        value
    ) == tf_slim.utils.two_element_tuple(value)


@pytest.mark.parametrize('value', [[1, 2, 3], 'ab', 2.5, None])
def test_two_element_tuple_errors(value):
    with pytest.raises(ValueError):
        tf_slim.utils.two_element_tuple(value)
    with pytest.raises(ValueError, match='two_element_tuple'):
        slim.utils.two_element_tuple(value)


@pytest.mark.parametrize(
    'n,value',
    [(3, 2), (2, [1, 4]), (1, (5,)), (2, tf.TensorShape([3, 4])), (2, '7')],
)
def test_n_positive_integers(n, value):
    assert slim.utils.n_positive_integers(
        n, value
    ) == tf_slim.utils.n_positive_integers(n, value)


@pytest.mark.parametrize(
    'n,value', [(0, 1), (2.5, 1), (2, 0), (2, [1]), (2, [1, -1]), (3, 'abc')]
)
def test_n_positive_integers_errors(n, value):
    with pytest.raises(ValueError):
        tf_slim.utils.n_positive_integers(n, value)
    with pytest.raises(ValueError, match='n_positive_integers'):
        slim.utils.n_positive_integers(n, value)


def test_n_positive_integers_n_of_the_wrong_type():
    with pytest.raises(TypeError, match='n must be an integer'):
        slim.utils.n_positive_integers(None, 1)


def test_constant_value_static_and_smart_cond():
    assert slim.utils.constant_value(3) == 3
    assert slim.utils.constant_value(tf.constant(True)) == True  # noqa: E712
    assert slim.utils.constant_value(tf.Variable(2.0)) is None
    with pytest.raises(ValueError, match='dtype'):
        slim.utils.constant_value(tf.constant(1), tf.float32)
    with pytest.raises(ValueError, match='None'):
        slim.utils.constant_value(None)
    with pytest.raises(TypeError, match='fn2'):
        slim.utils.static_cond(True, lambda: 1, 2)
    assert slim.utils.static_cond(0, lambda: 1, lambda: 2) == 2
    assert slim.utils.smart_cond(tf.constant(False), lambda: 1, lambda: 2) == 2

    @tf.function
    def dynamic(pred):
        return slim.utils.smart_cond(
            pred, lambda: tf.constant(1), lambda: tf.constant(2)
        )

    assert int(dynamic(tf.constant(True))) == 1
    assert int(dynamic(tf.constant(False))) == 2
    with tf.Graph().as_default():
        p = tf.compat.v1.placeholder(tf.bool, [])
        assert (
            slim.utils.constant_value(p)
            is tf_slim.utils.constant_value(p)
            is None
        )


def test_get_variable_collections():
    for arg in (None, ['a'], {'beta': ['b']}, {'gamma': ['g']}):
        assert slim.utils.get_variable_collections(
            arg, 'beta'
        ) == tf_slim.utils.get_variable_collections(arg, 'beta')
