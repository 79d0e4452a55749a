"""arg_scope and variable_scope: TF-Slim semantics, checked against tf_slim."""

import functools
import threading

import pytest
import tensorflow as tf
import tf_slim

import slim


@slim.add_arg_scope
def op(a, b=1, c=2, scope=None):
    return a, b, c


@slim.add_arg_scope
def other(x, b=10):
    return x, b


@tf_slim.add_arg_scope
def tf_slim_op(a, b=1, c=2, scope=None):
    return a, b, c


def undecorated(a, b=1):
    return a, b


def test_nesting_and_override_match_tf_slim():
    cases = []
    for lib, fn in ((slim, op), (tf_slim, tf_slim_op)):
        with lib.arg_scope([fn], b=5):
            first = fn(0)
            with lib.arg_scope([fn], c=7):
                inner = fn(0)
                with lib.arg_scope([fn], b=9):
                    innermost = fn(0)
                explicit = fn(0, c=3)
            after = fn(0)
        cases.append((first, inner, innermost, explicit, after, fn(0)))
    assert cases[0] == cases[1]
    assert cases[0] == (
        (0, 5, 2),
        (0, 5, 7),
        (0, 9, 7),
        (0, 5, 3),
        (0, 5, 2),
        (0, 1, 2),
    )


def test_explicit_positional_argument_wins():
    with slim.arg_scope([op], b=5, c=6):
        assert op(0, 3) == (0, 3, 6)


def test_scope_applies_to_each_listed_function_only():
    with slim.arg_scope([op, other], b=4):
        assert op(1) == (1, 4, 2)
        assert other(1) == (1, 4)
    with slim.arg_scope([other], b=4):
        assert op(1) == (1, 1, 2)


def test_reenter_saved_scope():
    def my_arg_scope():
        with slim.arg_scope([op], b=8):
            with slim.arg_scope([other], b=3) as sc2:
                return sc2

    saved = my_arg_scope()
    assert op(0) == (0, 1, 2)
    with slim.arg_scope(saved):
        assert op(0) == (0, 8, 2)
        assert other(0) == (0, 3)
    assert slim.current_arg_scope() == {}


def test_reenter_with_kwargs_is_refused():
    with slim.arg_scope([op], b=8) as sc:
        pass
    with pytest.raises(ValueError, match='keyword'):
        with slim.arg_scope(sc, b=2):
            pass


def test_undecorated_function_is_refused_by_name():
    with pytest.raises(TypeError, match='undecorated'):
        with slim.arg_scope([undecorated], b=2):
            pass


def test_unknown_keyword_is_refused_on_entry():
    with pytest.raises(TypeError) as e:
        with slim.arg_scope([op], bb=2):
            pass
    assert 'op' in str(e.value) and 'bb' in str(e.value)


def test_not_a_list_is_refused():
    with pytest.raises(TypeError, match='list'):
        with slim.arg_scope(op, b=2):
            pass


def test_introspection():
    assert slim.has_arg_scope(op)
    assert not slim.has_arg_scope(undecorated)
    assert slim.arg_scoped_arguments(op) == ['a', 'b', 'c', 'scope']
    assert 'num_outputs' in slim.arg_scoped_arguments(slim.conv2d)
    with pytest.raises(TypeError, match='undecorated'):
        slim.arg_scoped_arguments(undecorated)
    with slim.arg_scope([op], b=3) as sc:
        assert slim.current_arg_scope() is sc


def test_arg_scope_is_per_thread():
    seen = []
    with slim.arg_scope([op], b=5):
        t = threading.Thread(target=lambda: seen.append(op(0)))
        t.start()
        t.join()
    assert seen == [(0, 1, 2)]


def _names(lib_scope, build):
    names = []
    build(lib_scope, names)
    return names


def _naming_program(variable_scope, names):
    with variable_scope(None, default_name='Net') as net:
        for _ in range(3):
            with variable_scope(None, default_name='Conv') as sc:
                names.append(sc.name)
        with variable_scope('Conv_5') as sc:
            names.append(sc.name)
        with variable_scope(None, default_name='Conv_5') as sc:
            names.append(sc.name)
        with variable_scope('block'):
            with variable_scope(None, default_name='Conv') as sc:
                names.append(sc.name)
        with variable_scope('block'):
            with variable_scope(None, default_name='Conv') as sc:
                names.append(sc.name)
    with variable_scope(net):
        with variable_scope(None, default_name='Conv') as sc:
            names.append(sc.name)
    with variable_scope(None, default_name='Net') as sc:
        names.append(sc.name)


def test_default_name_uniquification_matches_tf1():
    with tf.Graph().as_default():
        expected = _names(tf.compat.v1.variable_scope, _naming_program)
    model = slim.Model(lambda: _names(slim.variable_scope, _naming_program))
    assert model() == expected
    assert model() == expected  # stable from one call to the next
    assert expected[:3] == ['Net/Conv', 'Net/Conv_1', 'Net/Conv_2']


def test_variable_scope_needs_a_name():
    with pytest.raises(ValueError, match='default_name'):
        with slim.variable_scope(None):
            pass


def _make_pool(default_size):
    """A closure named `pool`: each call makes another function of the same
    module and qualified name."""

    def pool(x, size=default_size):
        return x, size

    return pool


def test_functions_of_the_same_name_keep_separate_defaults():
    pool_a = slim.add_arg_scope(_make_pool(1))
    pool_b = slim.add_arg_scope(_make_pool(2))
    assert pool_a.__qualname__ == pool_b.__qualname__
    with slim.arg_scope([pool_a], size=5):
        assert pool_a(0) == (0, 5)
        assert pool_b(0) == (0, 2)
    with slim.arg_scope([pool_b], size=7):
        assert pool_a(0) == (0, 1)
        assert pool_b(0) == (0, 7)
    # As TF-Slim, which keys by the function object (its str()).
    tf_pool_a = tf_slim.add_arg_scope(_make_pool(1))
    tf_pool_b = tf_slim.add_arg_scope(_make_pool(2))
    with tf_slim.arg_scope([tf_pool_a], size=5):
        assert (tf_pool_a(0), tf_pool_b(0)) == ((0, 5), (0, 2))


def test_a_wrapper_of_a_decorated_function_shares_its_defaults():
    for lib, fn in ((slim, op), (tf_slim, tf_slim_op)):

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            return fn(*args, **kwargs)

        assert lib.has_arg_scope(wrapper)
        with lib.arg_scope([wrapper], b=4):
            assert fn(0) == (0, 4, 2)
            assert wrapper(0) == (0, 4, 2)


class _SlottedCallable:
    """A callable that takes no weak reference."""

    __slots__ = ()

    def __call__(self, x, b=1):
        return x, b


def test_callables_without_weak_references():
    decorated = slim.add_arg_scope(_SlottedCallable())
    assert slim.has_arg_scope(decorated)
    with slim.arg_scope([decorated], b=3):
        assert decorated(0) == (0, 3)
    assert not slim.has_arg_scope(_SlottedCallable())
    assert not slim.has_arg_scope(min)
    assert not slim.has_arg_scope([1, 2])


def _name_scope_program(variable_scope, name_scope, names):
    with variable_scope('Net'):
        with variable_scope('conv1'):
            pass
        for name, default in (
            ('pool', None),
            (None, 'MaxPool2D'),
            (None, 'MaxPool2D'),
            ('conv1', None),
            ('Pool', None),
            ('pool_2', None),
            ('pool', None),
            (None, 'Flatten'),
            ('top/', None),
        ):
            with name_scope(name, default) as sc:
                names.append(sc)
        with variable_scope(None, default_name='MaxPool2D') as sc:
            names.append(sc.name)


def test_name_scope_names_as_tf1():
    """Layers without variables (pools, flatten) open name scopes under the
    variable scope, made unique as TF1's graph makes them."""
    with tf.Graph().as_default():
        expected = []
        _name_scope_program(
            tf.compat.v1.variable_scope, tf.compat.v1.name_scope, expected
        )
    model = slim.Model(
        lambda: _names(
            slim.variable_scope,
            lambda vs, names: _name_scope_program(
                vs, slim.scopes.name_scope, names
            ),
        )
    )
    assert model() == expected
    assert tf.function(model)() == expected
    assert expected[:4] == [
        'Net/pool/',
        'Net/MaxPool2D/',
        'Net/MaxPool2D_1/',
        'Net/conv1_1/',
    ]


def test_name_scope_outside_a_model_is_not_made_unique():
    names = []
    for _ in range(2):
        with slim.scopes.name_scope(None, 'MaxPool2D') as sc:
            names.append(sc)
    assert names == ['MaxPool2D/', 'MaxPool2D/']
    with pytest.raises(ValueError, match='default_name'):
        with slim.scopes.name_scope(None):
            pass
