"""TF-Slim's layer utilities (`tf_slim.layers.utils`), over per-call
collections.

TF-Slim tagged layer outputs with aliases and kept them in graph collections;
net files build their `end_points` from such a collection:

```python
def my_net(images, scope='my_net'):
    with slim.variable_scope(scope, 'my_net', [images]) as sc:
        end_points_collection = sc.original_name_scope + '_end_points'
        with slim.arg_scope([slim.conv2d, slim.max_pool2d],
                            outputs_collections=end_points_collection):
            net = slim.conv2d(images, 32, [3, 3], scope='conv1')
            net = slim.max_pool2d(net, [2, 2], scope='pool1')
        # {'my_net/conv1': ..., 'my_net/pool1': ...}
        end_points = slim.utils.convert_collection_to_dict(
            end_points_collection)
        return net, end_points
```

Here there are no graph collections: a collection is a list kept in the state
of the running `slim.Model` call, so it is per call and per thread (the
replicas of a distribution strategy, each on its own thread, never mix), and
gone when the call returns. Aliases too live in the call's state, not on the
tensors. Collecting (`collect_named_outputs` with collections, or any layer's
`outputs_collections`), tagging and reading collections outside a model call
raise a `RuntimeError` that says what to do; with `collections=None` nothing
is collected anywhere, as in TF-Slim.

The other helpers (`last_dimension`, `two_element_tuple`, `smart_cond`, ...)
are TF-Slim's, for net code that calls them.
"""

import collections as _collections
import re

import tensorflow as tf

from slim import calls

__all__ = [
    'collect_named_outputs',
    'append_tensor_alias',
    'get_tensor_aliases',
    'gather_tensors_aliases',
    'convert_collection_to_dict',
    'get_collection',
    'add_to_collection',
    'add_to_collections',
    'constant_value',
    'static_cond',
    'smart_cond',
    'get_variable_collections',
    'two_element_tuple',
    'n_positive_integers',
    'channel_dimension',
    'last_dimension',
]


# --------------------------------------------------------------------------
# Named outputs and collections


def collect_named_outputs(collections, alias, outputs):
    """Tags `outputs` with `alias` and adds it to `collections`.

    Args:
      collections: a collection name, a list of names, or None (or empty) to
        collect nothing.
      alias: the name `convert_collection_to_dict` keys it by, e.g.
        `'vgg_16/conv1/conv1_1'`; a trailing '/' is dropped.
      outputs: the tensor to collect.

    Returns:
      `outputs`, for inline use.

    Raises:
      RuntimeError: if collections are given outside a `slim.Model` call.
    """
    if collections:
        state = _call_state('collect_named_outputs', collections)
        _append_alias(state, outputs, alias, 'collect_named_outputs')
        _add(state, collections, outputs)
    return outputs


def append_tensor_alias(tensor, alias):
    """Adds `alias` (a trailing '/' dropped) to the aliases of `tensor` in
    the running model call.

    Returns:
      `tensor`.

    Raises:
      TypeError: if `alias` is not a string.
      ValueError: if `alias` is empty.
      RuntimeError: outside a `slim.Model` call.
    """
    state = _call_state('append_tensor_alias', None)
    _append_alias(state, tensor, alias, 'append_tensor_alias')
    return tensor


def get_tensor_aliases(tensor):
    """The aliases of `tensor` given in the running model call.

    A tensor without one is known by its name, as in TF-Slim (its op name
    for a `:0` output of a graph tensor, under `tf.function`); so is a tensor
    outside a model call, unless it carries TF-Slim's `aliases` attribute.

    Raises:
      ValueError: if the tensor has no alias and, being eager, no name.
    """
    state = calls.current()
    if state is not None:
        entry = state.aliases.get(id(tensor))
        if entry is not None and entry[0] is tensor:
            return list(entry[1])
    if isinstance(getattr(tensor, 'aliases', None), list):
        return list(tensor.aliases)
    try:
        name = tensor.name
    except (AttributeError, ValueError):
        name = None
    if not isinstance(name, str):
        raise ValueError(
            'get_tensor_aliases: %r has no alias and, computed eagerly, no '
            'name; give it one with slim.utils.append_tensor_alias or '
            'collect_named_outputs' % (_short(tensor),)
        )
    return [name[:-2] if name.endswith(':0') else name]


def gather_tensors_aliases(tensors):
    """The aliases of each tensor in `tensors`, in order, in one list."""
    aliases = []
    for tensor in tensors:
        aliases.extend(get_tensor_aliases(tensor))
    return aliases


def convert_collection_to_dict(collection, clear_collection=False):
    """The collection as an `OrderedDict` `{alias: tensor}`, TF-Slim's
    end-point dict: one entry per alias of each collected tensor, in the
    order collected (a later tensor of the same alias wins).

    Args:
      collection: the collection's name.
      clear_collection: empty the collection afterwards.

    Raises:
      RuntimeError: outside a `slim.Model` call.
    """
    state = _call_state('convert_collection_to_dict', None)
    items = state.collections.get(collection, [])
    result = _collections.OrderedDict(
        (alias, item) for item in items for alias in get_tensor_aliases(item)
    )
    if clear_collection:
        state.collections.pop(collection, None)
    return result


def get_collection(key, scope=None):
    """The values in collection `key` of the running model call, in the
    order added: this library's `tf.compat.v1.get_collection(key, scope)`.

    Args:
      key: the collection's name; an unknown one is empty.
      scope: if given, only the values with an alias (or name) that
        `re.match`es it.

    Returns:
      A new list.

    Raises:
      RuntimeError: outside a `slim.Model` call.
    """
    state = _call_state('get_collection', None)
    items = list(state.collections.get(key, []))
    if scope is None:
        return items
    pattern = re.compile(scope)
    return [
        item
        for item in items
        if any(pattern.match(alias) for alias in _aliases_or_empty(item))
    ]


def add_to_collection(name, value):
    """Adds `value` to collection `name` of the running model call.

    Raises:
      RuntimeError: outside a `slim.Model` call.
    """
    _add(_call_state('add_to_collection', name), name, value)


def add_to_collections(names, value):
    """Adds `value` to each of the collections `names` (a name or a list;
    each once) of the running model call.

    Raises:
      RuntimeError: outside a `slim.Model` call.
    """
    _add(_call_state('add_to_collections', names), names, value)


# --------------------------------------------------------------------------
# Static values and conditions


def constant_value(value_or_tensor_or_var, dtype=None):
    """The constant value of a Python value or tensor, None when unknown.

    Args:
      value_or_tensor_or_var: a value (returned as is), a tensor (its value
        if TensorFlow can compute it statically; an eager tensor always) or a
        variable (None: its value may change).
      dtype: if given, the dtype a tensor or variable must have.

    Raises:
      ValueError: if the argument is None, or a tensor or variable has
        another dtype than `dtype`.
    """
    value = value_or_tensor_or_var
    if value is None:
        raise ValueError(
            'constant_value: value_or_tensor_or_var is None; '
            'expected a value, a tensor or a variable'
        )
    if isinstance(value, (tf.Tensor, tf.Variable)):
        if dtype is not None and value.dtype != tf.as_dtype(dtype):
            raise ValueError(
                'constant_value: expected dtype %s, got a %s of '
                'dtype %s'
                % (
                    tf.as_dtype(dtype).name,
                    type(value).__name__,
                    value.dtype.name,
                )
            )
        if isinstance(value, tf.Variable):
            return None
        return tf.get_static_value(value)
    return value


def static_cond(pred, fn1, fn2):
    """`fn1()` if `pred` is true, else `fn2()`, decided in Python.

    Raises:
      TypeError: if `fn1` or `fn2` is not callable.
    """
    for argument, fn in (('fn1', fn1), ('fn2', fn2)):
        if not callable(fn):
            raise TypeError(
                'static_cond: %s must be callable, got %r' % (argument, fn)
            )
    return fn1() if pred else fn2()


def smart_cond(pred, fn1, fn2, name=None):
    """`static_cond` when `pred` has a constant value, else `tf.cond`.

    Raises:
      TypeError: if `fn1` or `fn2` is not callable.
    """
    value = constant_value(pred)
    if value is not None:
        return static_cond(value, fn1, fn2)
    for argument, fn in (('fn1', fn1), ('fn2', fn2)):
        if not callable(fn):
            raise TypeError(
                'smart_cond: %s must be callable, got %r' % (argument, fn)
            )
    return tf.cond(pred, fn1, fn2, name=name)


def get_variable_collections(variables_collections, name):
    """The collections for variable `name` out of a layer's
    `variables_collections` (a list for all variables, or a dict by name).

    Layers of this library accept `variables_collections` and ignore it
    (variables live in the model); this answers what TF-Slim would do with it.
    """
    if isinstance(variables_collections, dict):
        return variables_collections.get(name)
    return variables_collections


# --------------------------------------------------------------------------
# Shapes and sizes


def channel_dimension(shape, data_format, min_rank=1):
    """The channel dimension of `shape`: axis 1 for `'channels_first'`,
    else the last one.

    Raises:
      ValueError: as `last_dimension`.
    """
    axis = 1 if data_format == 'channels_first' else -1
    return _known_dimension('channel_dimension', shape, axis, min_rank)


def last_dimension(shape, min_rank=1):
    """The last dimension of `shape` (a `TensorShape` or a list), an int.

    Raises:
      ValueError: if the rank is unknown or below `min_rank`, or the last
        dimension is unknown.
    """
    return _known_dimension('last_dimension', shape, -1, min_rank)


def two_element_tuple(int_or_tuple):
    """`(height, width)` from an int, a list or tuple of 2, or a
    `TensorShape` of rank 2.

    Raises:
      ValueError: for anything else, or a list of another length.
    """
    if isinstance(int_or_tuple, (list, tuple)):
        if len(int_or_tuple) != 2:
            raise ValueError(
                'two_element_tuple: expected a list of 2 '
                'elements, got %r' % (int_or_tuple,)
            )
        return int(int_or_tuple[0]), int(int_or_tuple[1])
    if isinstance(int_or_tuple, int) and not isinstance(int_or_tuple, bool):
        return int_or_tuple, int_or_tuple
    if isinstance(int_or_tuple, tf.TensorShape) and int_or_tuple.rank == 2:
        return int_or_tuple[0], int_or_tuple[1]
    raise ValueError(
        'two_element_tuple: expected an int, a list of 2 '
        'elements or a TensorShape of rank 2, got %r' % (int_or_tuple,)
    )


def n_positive_integers(n, value):
    """`value` as a tuple of `n` positive ints: one int repeated, or a
    sequence (or `TensorShape`) of `n` values convertible to int.

    Raises:
      TypeError: if `n` is not convertible to an int.
      ValueError: if `n` is not a positive integer, or `value` is not one
        positive int or `n` of them.
    """
    try:
        count = int(n)
    except (TypeError, ValueError):
        raise TypeError(
            'n_positive_integers: n must be an integer, got %r' % (n,)
        ) from None
    if count < 1 or count != n:
        raise ValueError(
            'n_positive_integers: n must be a positive integer, got %r' % (n,)
        )
    if isinstance(value, tf.TensorShape):
        value = value.as_list() if value.rank is not None else value
    try:
        values = (int(value),) * count
    except (TypeError, ValueError):
        try:
            values = tuple(int(v) for v in value)
        except (TypeError, ValueError):
            raise ValueError(
                'n_positive_integers: expected %d positive '
                'integers, got %r' % (count, value)
            ) from None
        if len(values) != count:
            raise ValueError(
                'n_positive_integers: expected %d positive '
                'integers, got %r' % (count, value)
            )
    for v in values:
        if v < 1:
            raise ValueError(
                'n_positive_integers: expected positive '
                'integers, got %r' % (value,)
            )
    return values


# --------------------------------------------------------------------------
# Private helpers


def _call_state(what, collections):
    state = calls.current()
    if state is None:
        given = (
            '' if collections is None else ' (collections=%r)' % (collections,)
        )
        raise RuntimeError(
            'slim.utils.%s was called outside a model%s: collections live in '
            'the running slim.Model call. Run the net in a model, `model = '
            'slim.Model(net_fn); model(inputs)`, or pass '
            'outputs_collections=None.' % (what, given)
        )
    return state


def _append_alias(state, tensor, alias, what):
    if not isinstance(alias, str):
        raise TypeError(
            'slim.utils.%s: alias must be a string, got %r' % (what, alias)
        )
    if not alias:
        raise ValueError(
            'slim.utils.%s: alias must be a non-empty string, '
            'got %r' % (what, alias)
        )
    if alias.endswith('/'):
        alias = alias[:-1]
    entry = state.aliases.get(id(tensor))
    if entry is None or entry[0] is not tensor:
        state.aliases[id(tensor)] = (tensor, [alias])
    else:
        entry[1].append(alias)


def _add(state, names, value):
    if isinstance(names, str):
        names = [names]
    for name in dict.fromkeys(names):
        state.collections.setdefault(name, []).append(value)


def _aliases_or_empty(item):
    try:
        return get_tensor_aliases(item)
    except ValueError:
        return []


def _known_dimension(what, shape, axis, min_rank):
    shape = tf.TensorShape(shape)
    if shape.rank is None:
        raise ValueError(
            '%s: the rank of the shape must be known, got %s' % (what, shape)
        )
    needed = max(min_rank, axis + 1 if axis >= 0 else -axis)
    if shape.rank < needed:
        raise ValueError(
            '%s: the shape must have rank %d or more, got %s'
            % (what, needed, shape)
        )
    value = shape[axis]
    if value is None:
        raise ValueError(
            '%s: dimension %d of the shape must be known, got %s'
            % (what, axis, shape)
        )
    return int(value)


def _short(tensor):
    shape = getattr(tensor, 'shape', None)
    dtype = getattr(getattr(tensor, 'dtype', None), 'name', None)
    if shape is not None and dtype is not None:
        return '<%s shape=%s dtype=%s>' % (type(tensor).__name__, shape, dtype)
    return tensor
