"""Argument scopes and variable scopes: the naming half of the DSL.

`arg_scope` sets default keyword arguments for a list of layer functions, as
TF-Slim's does. `variable_scope` builds the TF-Slim variable names
(`Net/Conv/weights`, `Net/Conv_1/weights`, ...) on the name stack of the running
model call (`slim.calls`), which is its thread's: a distribution strategy may
run each replica's copy of a net on its own thread.
"""

import contextlib
import functools
import inspect
import threading
import weakref

import tensorflow as tf

from slim import calls
from slim.calls import VariableScope

__all__ = [
    'arg_scope',
    'add_arg_scope',
    'current_arg_scope',
    'has_arg_scope',
    'arg_scoped_arguments',
    'arg_scope_func_key',
    'variable_scope',
    'get_variable_scope_name',
    'VariableScope',
    'name_scope',
]

# {key: (accepted keyword names, whether it takes **kwargs)}, keyed by the
# undecorated function; weak, so that closures decorated at run time go away
# (keys that take no weak reference, a builtin say, are held in a plain dict).
_DECORATED_OPS = weakref.WeakKeyDictionary()
_DECORATED_OPS_STRONG = {}
_local = threading.local()


# --------------------------------------------------------------------------
# arg_scope


def arg_scope_func_key(op):
    """The key under which `op`'s defaults are kept in an arg scope.

    The function itself, so two functions of the same name (two closures
    called `pool`, say) keep separate defaults. A function decorated with
    `add_arg_scope` carries the key of the function it wraps in `_key_op`,
    and so does a wrapper of it made with `functools.wraps` (which copies
    `_key_op`): as in TF-Slim, such a wrapper shares its defaults.
    """
    return getattr(op, '_key_op', op)


def current_arg_scope():
    """The innermost arg scope: a dict `{func_key: {kwarg: value}}`."""
    stack = _arg_stack()
    return stack[-1] if stack else {}


def has_arg_scope(func):
    """Whether `func` was decorated with `add_arg_scope`."""
    return _decorated_info(func) is not None


def arg_scoped_arguments(func):
    """The names of the arguments `func` accepts from an arg scope.

    Raises:
      TypeError: if `func` is not decorated with `add_arg_scope`.
    """
    if not has_arg_scope(func):
        raise TypeError(
            'arg_scoped_arguments: %s is not decorated with '
            '@add_arg_scope' % _op_name(func)
        )
    return list(_decorated_info(func)[0])


@contextlib.contextmanager
def arg_scope(list_ops_or_scope, **kwargs):
    """Sets default keyword arguments of the given layer functions.

    Args:
      list_ops_or_scope: a list or tuple of functions decorated with
        `add_arg_scope`, or a dict returned by an earlier `arg_scope` (for
        example by a net's `*_arg_scope()` function) to re-enter it.
      **kwargs: the defaults, `keyword=value`.

    Yields:
      The new current scope, a dict that can be re-entered later.

    Raises:
      ValueError: if a dict is given together with keyword arguments.
      TypeError: if `list_ops_or_scope` is neither a list/tuple nor a dict, a
        function is not decorated with `add_arg_scope`, or a keyword is not an
        argument of one of the functions.
    """
    if isinstance(list_ops_or_scope, dict):
        if kwargs:
            raise ValueError(
                'arg_scope: when re-entering a saved scope (a dict), no '
                'keyword arguments may be given; got %s' % sorted(kwargs)
            )
        new_scope = dict(list_ops_or_scope)
    else:
        if not isinstance(list_ops_or_scope, (list, tuple)):
            raise TypeError(
                'arg_scope: list_ops_or_scope must be a list or tuple of '
                'functions, or a saved scope (dict); got %r'
                % (list_ops_or_scope,)
            )
        new_scope = dict(current_arg_scope())
        for op in list_ops_or_scope:
            if not has_arg_scope(op):
                raise TypeError(
                    'arg_scope: %s is not decorated with @add_arg_scope, so it '
                    'cannot take default arguments from a scope; decorate it '
                    'with slim.add_arg_scope' % _op_name(op)
                )
            key = arg_scope_func_key(op)
            accepted, has_var_kwargs = _decorated_info(op)
            unknown = [k for k in kwargs if k not in accepted]
            if unknown and not has_var_kwargs:
                raise TypeError(
                    'arg_scope: %s got unexpected keyword argument(s) %s; it '
                    'accepts %s'
                    % (_op_name(op), sorted(unknown), sorted(accepted))
                )
            merged = dict(new_scope.get(key, {}))
            merged.update(kwargs)
            new_scope[key] = merged
    stack = _arg_stack()
    stack.append(new_scope)
    try:
        yield new_scope
    finally:
        stack.pop()


def add_arg_scope(func):
    """Decorates `func` so that it takes defaults from the current arg scope.

    Arguments given in the call win over the scope's, whether passed by
    keyword or by position.
    """
    params = inspect.signature(func).parameters
    accepted = tuple(
        name
        for name, p in params.items()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    )
    positional = tuple(
        name
        for name, p in params.items()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    )
    has_var_kwargs = any(p.kind == p.VAR_KEYWORD for p in params.values())
    key = arg_scope_func_key(func)

    @functools.wraps(func)
    def func_with_args(*args, **kwargs):
        scope = current_arg_scope()
        defaults = scope.get(key)
        if defaults:
            given = set(positional[: len(args)])
            merged = {k: v for k, v in defaults.items() if k not in given}
            merged.update(kwargs)
            kwargs = merged
        return func(*args, **kwargs)

    try:
        _DECORATED_OPS[key] = (accepted, has_var_kwargs)
    except TypeError:
        _DECORATED_OPS_STRONG[key] = (accepted, has_var_kwargs)
    func_with_args._key_op = key
    return func_with_args


def _decorated_info(op):
    """`(accepted keywords, has **kwargs)` of a decorated function, or None."""
    key = arg_scope_func_key(op)
    try:
        info = _DECORATED_OPS.get(key)
    except TypeError:  # no weak reference to it
        info = None
    if info is None:
        try:
            info = _DECORATED_OPS_STRONG.get(key)
        except TypeError:  # unhashable
            info = None
    return info


def _arg_stack():
    stack = getattr(_local, 'arg_stack', None)
    if stack is None:
        stack = _local.arg_stack = []
    return stack


def _op_name(op):
    return (
        getattr(op, '__qualname__', None)
        or getattr(op, '__name__', None)
        or repr(op)
    )


# --------------------------------------------------------------------------
# variable_scope


def _name_state():
    """The naming state: the running model call's, else this thread's own
    (outside a model names are built but not made unique)."""
    call = calls.current()
    if call is not None:
        return call.names
    state = getattr(_local, 'names', None)
    if state is None:
        state = _local.names = calls.Names()
    return state


def get_variable_scope_name():
    """The full name of the current variable scope ('' at the top)."""
    return _name_state().scope.name


@contextlib.contextmanager
def variable_scope(name_or_scope, default_name=None, values=None, reuse=None):
    """Opens a variable scope, naming as TF-Slim's `tf.variable_scope` does.

    Args:
      name_or_scope: a name (used as given, never uniquified), a
        `VariableScope` yielded earlier (re-entered by its full name), or None
        to use `default_name`.
      default_name: used when `name_or_scope` is None, made unique among the
        scopes opened so far under the same parent (`Conv`, `Conv_1`, ...).
      values: accepted for TF-Slim compatibility; unused.
      reuse: True to share variables already created under this scope in
        this call; `tf.compat.v1.AUTO_REUSE` to create or share. Inherited by
        inner scopes.

    Yields:
      A `VariableScope` with the full `name`.

    Raises:
      ValueError: if both `name_or_scope` and `default_name` are None, or a
        name is not a string.
    """
    del values
    state = _name_state()
    parent = state.scope
    if isinstance(name_or_scope, VariableScope):
        full_name = name_or_scope.name
        if reuse is None:
            reuse = name_or_scope.reuse
    else:
        if name_or_scope is None:
            if default_name is None:
                raise ValueError(
                    'variable_scope: name_or_scope and default_name are both '
                    'None; give at least one of them'
                )
            if not isinstance(default_name, str):
                raise ValueError(
                    'variable_scope: default_name must be a '
                    'string, got %r' % (default_name,)
                )
            name = _unique_name(state, parent.name, default_name)
        elif isinstance(name_or_scope, str):
            name = name_or_scope
        else:
            raise ValueError(
                'variable_scope: name_or_scope must be a string, a '
                'VariableScope or None, got %r' % (name_or_scope,)
            )
        full_name = parent.name + '/' + name if parent.name else name
    if reuse is None or reuse is False:
        reuse = parent.reuse
    _open_scope(state, full_name)
    if state.in_call:
        # TF1 opens a name scope of the same name, which takes the name from
        # layers without variables (a pool named like a conv gets `_1`).
        _unique_name_scope(state, full_name)
    scope = VariableScope(full_name, reuse)
    state.stack.append(scope)
    try:
        with tf.name_scope(full_name + '/'):
            yield scope
    finally:
        state.stack.pop()


@contextlib.contextmanager
def name_scope(name, default_name=None, values=None):
    """Opens a name scope under the current variable scope, as TF1's
    `tf.compat.v1.name_scope` does, for layers without variables.

    Args:
      name: the scope's name; None (or '') to use `default_name`. A name that
        ends with '/' is taken as a full name, as is.
      default_name: used when `name` is not given.
      values: accepted for TF-Slim compatibility; unused.

    Yields:
      The full name with a trailing '/', `'<variable scope>/<name>/'`, made
      unique within the model call as TF1 makes name scopes unique in a graph
      (`Net/MaxPool2D/`, then `Net/MaxPool2D_1/`; a name a variable scope
      already took gets `_1` too). It is the alias TF-Slim gives the
      outputs of its pooling, flatten and one-hot layers. Outside a model
      call nothing is counted, so names are not made unique.

    Raises:
      ValueError: if neither `name` nor `default_name` is a non-empty string.
    """
    del values
    base = name or default_name
    if not isinstance(base, str) or not base:
        raise ValueError(
            'name_scope: name or default_name must be a '
            'non-empty string, got name=%r, default_name=%r'
            % (name, default_name)
        )
    state = _name_state()
    if base.endswith('/'):
        full_name = base[:-1]
    else:
        parent = state.scope.name
        full_name = parent + '/' + base if parent else base
        if state.in_call:
            full_name = _unique_name_scope(state, full_name)
    with tf.name_scope(full_name + '/'):
        yield full_name + '/'


def _unique_name_scope(state, name):
    # TF1's Graph.unique_name: counts per lower-cased name; the n-th use of
    # `a` becomes the first of `a_<n-1>`, `a_<n>`, ... not yet in use.
    used = state.name_scopes
    key = name.lower()
    count = used.get(key, 0)
    used[key] = count + 1
    if count == 0:
        return name
    candidate = '%s_%d' % (key, count)
    while candidate in used:
        count += 1
        candidate = '%s_%d' % (key, count)
    used[candidate] = 1
    return '%s_%d' % (name, count)


def _unique_name(state, parent_name, prefix):
    name = parent_name + '/' + prefix if parent_name else prefix
    if state.counts.get(name, 0) == 0:
        return prefix
    idx = 1
    while state.counts.get('%s_%d' % (name, idx), 0) > 0:
        idx += 1
    return '%s_%d' % (prefix, idx)


def _open_scope(state, full_name):
    # As TF1: opening a scope counts it and forgets what was opened under it,
    # so re-entering `Net` names its children `Conv`, `Conv_1`, ... again.
    state.counts[full_name] = state.counts.get(full_name, 0) + 1
    prefix = full_name + '/'
    for key in state.counts:
        if key.startswith(prefix):
            state.counts[key] = 0
