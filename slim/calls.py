"""The running model call: what belongs to one call of a `slim.Model`.

A `Model` owns its variables. Everything else a TF-Slim net reaches for while
it runs belongs to one call of it, on one thread (a distribution strategy
runs each replica's copy of the net on a thread of its own), in a `Call`:

- naming: the variable-scope stack and the counts that make default names
  unique (`Conv`, `Conv_1`, ...), which `scopes.variable_scope` keeps here;
- which variables the call has used, so that a second use without `reuse`
  is refused, and the regularization losses of their first use;
- TF-Slim's graph collections, for this call only (`slim.utils`);
- the call's `is_training` where it is a Python bool (layers pick kernels
  by it).

`Model.__call__` runs its net inside `running(model, is_training)`; the
layers reach the call through `current()`.
"""

import contextlib
import threading

import tensorflow as tf

_local = threading.local()


class VariableScope:
    """What `variable_scope` yields: the full name and the reuse setting."""

    def __init__(self, name, reuse):
        self.name = name
        self.reuse = reuse
        self.original_name_scope = name + '/' if name else ''

    def __repr__(self):
        return 'VariableScope(name=%r, reuse=%r)' % (self.name, self.reuse)


class Names:
    """Naming state: the open variable scopes, innermost last.

    `counts` follows TF1's variable scope store: how often each full scope
    name was opened, which drives default-name uniquification.
    `name_scopes` follows TF1's graph: the name scopes in use (lower case),
    which makes the names of layers without variables unique (`MaxPool2D`,
    `MaxPool2D_1`, ...); it is kept only inside a model call (`in_call`).
    """

    def __init__(self, in_call=False):
        self.stack = [VariableScope('', None)]
        self.counts = {}
        self.name_scopes = {}
        self.in_call = in_call

    @property
    def scope(self):
        """The innermost open `VariableScope`."""
        return self.stack[-1]


class Call:
    """One running call of a model, on one thread."""

    def __init__(self, model, is_training=None):
        self.model = model
        self.is_training = is_training
        self.names = Names(in_call=True)
        self.losses = []
        self.used = set()
        # {collection name: [value, ...]} in the order added, and the aliases
        # of collected tensors, {id(tensor): (tensor, [alias, ...])} (the
        # tensor is held so that its id stays its own).
        self.collections = {}
        self.aliases = {}

    def variable(
        self,
        name,
        shape,
        dtype,
        initializer,
        regularizer,
        trainable,
        model_variable,
        synchronization,
        aggregation,
        device,
    ):
        """Gets or creates `<current scope>/<name>` in the model (see
        `slim.model_variable`), and adds its regularization loss on its
        first use in this call."""
        scope = self.names.scope
        full_name = scope.name + '/' + name if scope.name else name
        existing = self.model.find_variable(full_name)
        if shape is not None:
            shape = tf.TensorShape(shape)
        if existing is not None:
            if full_name in self.used and not scope.reuse:
                raise ValueError(
                    'Variable %s already exists in this call of the model, and '
                    'its scope does not allow reuse; did you mean to set '
                    'reuse=True in variable_scope, or to give the layer '
                    'another scope?' % full_name
                )
            if shape is not None and not shape.is_compatible_with(
                existing.shape
            ):
                raise ValueError(
                    'Variable %s exists with shape %s, but shape %s was asked '
                    'for now'
                    % (full_name, existing.shape.as_list(), shape.as_list())
                )
            var = existing
        else:
            if scope.reuse is True:
                raise ValueError(
                    'Variable %s does not exist, and its scope has reuse=True; '
                    'use reuse=tf.compat.v1.AUTO_REUSE to create it on first '
                    'use' % full_name
                )
            if shape is None or not shape.is_fully_defined():
                raise ValueError(
                    'Variable %s needs a fully defined shape, got '
                    '%s' % (full_name, shape)
                )
            var = self.model.create_variable(
                full_name,
                shape,
                tf.as_dtype(dtype),
                initializer,
                trainable,
                model_variable,
                synchronization,
                aggregation,
                device,
            )
        if regularizer is not None and full_name not in self.used:
            with tf.name_scope(name + '/Regularizer/'):
                loss = regularizer(var)
            if loss is not None:
                self.losses.append(loss)
        self.used.add(full_name)
        return var


def _stack():
    stack = getattr(_local, 'calls', None)
    if stack is None:
        stack = _local.calls = []
    return stack


@contextlib.contextmanager
def running(model, is_training=None):
    """Makes a new `Call` of `model` this thread's current one; yields it."""
    call = Call(model, is_training)
    stack = _stack()
    stack.append(call)
    try:
        yield call
    finally:
        stack.pop()


def current():
    """This thread's innermost running `Call`, or None outside a model."""
    stack = _stack()
    return stack[-1] if stack else None


def current_or_raise(what):
    """`current()`, or a RuntimeError saying that `slim.<what>` needs a
    model."""
    call = current()
    if call is None:
        raise RuntimeError(
            'slim.%s was called outside a model: layers create their variables '
            'in the model that runs them. Wrap the net function, '
            '`model = slim.Model(net_fn)`, and call `model(inputs)`.' % what
        )
    return call


def call_is_training():
    """The running call's `is_training` argument if it is a Python bool;
    None outside a model call or when it is a tensor."""
    call = current()
    return call.is_training if call else None
