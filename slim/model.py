"""`Model`: a `tf.Module` that owns the variables a net function creates.

```python
model = slim.Model(inception_v3.inception_v3, num_classes=5)
logits, end_points = model(images, is_training=True)  # creates the variables
model.trainable_variables, model.losses
```

The first call creates the variables, eagerly or inside a `tf.function` trace
(they are lifted out with `tf.init_scope`, so a traced first call works and a
call inside `strategy.scope()` makes distributed variables); later calls find
them by their TF-Slim names. `tf.train.Checkpoint(model=model)` tracks them.
"""

import contextlib
import inspect
import re
import threading

import tensorflow as tf

from slim import calls

__all__ = ['Model']


class Model(tf.Module):
    """Runs a TF-Slim style net function and owns the variables it creates.

    Args:
      fn: the net function, `fn(inputs, ...)`; layers inside it create
        variables in this model.
      **default_kwargs: keyword arguments passed to `fn` on every call;
        a call's own keyword arguments win.

    Mixed precision: layers compute in the dtype of their input and read the
    float32 variables in that dtype, so `model(tf.cast(images, tf.bfloat16))`
    computes in bfloat16 while the variables, the batch-norm statistics and
    (with `slim.losses`) the loss stay float32.
    """

    def __init__(self, fn, **default_kwargs):
        if not callable(fn):
            raise TypeError('slim.Model: fn must be callable, got %r' % (fn,))
        name = re.sub(r'\W', '_', getattr(fn, '__name__', 'model'))
        if not name or not (name[0].isalpha() or name[0] == '_'):
            name = 'model_' + name
        super().__init__(name=name)
        self._fn = fn
        self._default_kwargs = dict(default_kwargs)
        self._vars = {}
        self._model_variable_names = set()
        self._local = threading.local()
        self._create_lock = threading.Lock()

    # -- calling -------------------------------------------------------------

    # A TF-Slim net is plain Python over tensors, written for graph mode,
    # where there was no AutoGraph: it runs as written inside `tf.function`.
    # Converting the net and every layer of the DSL instead took 35 s to
    # trace ResNet-50 on this machine, 4.6 s without.
    @tf.autograph.experimental.do_not_convert
    def __call__(self, *args, **kwargs):
        call_kwargs = dict(self._default_kwargs)
        call_kwargs.update(kwargs)
        training = call_kwargs.get('is_training')
        with calls.running(
            self, training if isinstance(training, bool) else None
        ) as call:
            outputs = self._fn(*args, **call_kwargs)
        self._local.losses = call.losses
        return outputs

    def build(self, *input_specs, **kwargs):
        """Creates the variables without computing anything.

        Traces the net for the given `tf.TensorSpec`s (or example tensors);
        call it inside `strategy.scope()` to make distributed variables.

        Returns:
          The model, built.
        """

        def _trace(*inputs):
            return self(*inputs, **kwargs)

        specs = [
            s
            if isinstance(s, tf.TensorSpec)
            else tf.TensorSpec.from_tensor(tf.convert_to_tensor(s))
            for s in input_specs
        ]
        tf.function(_trace, autograph=False).get_concrete_function(*specs)
        return self

    @property
    def fn(self):
        """The net function this model runs."""
        return self._fn

    @property
    def default_kwargs(self):
        """A copy of the keyword arguments passed on every call."""
        return dict(self._default_kwargs)

    def accepts_argument(self, name):
        """Whether the net function names keyword argument `name` in its
        signature (a function that only takes `**kwargs` does not); drivers
        pass optional arguments such as `current_step` only to nets that
        take them.

        A wrapper made with `functools.wraps` answers for the function it
        wraps.
        """
        try:
            parameters = inspect.signature(self._fn).parameters
        except (TypeError, ValueError):  # builtins without a signature
            return False
        parameter = parameters.get(name)
        return parameter is not None and parameter.kind in (
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            inspect.Parameter.KEYWORD_ONLY,
        )

    # -- what it owns --------------------------------------------------------

    @property
    def built(self):
        return bool(self._vars)

    @property
    def variables(self):
        """All variables, in the order the net created them."""
        return list(self._vars.values())

    @property
    def trainable_variables(self):
        return [v for v in self._vars.values() if v.trainable]

    @property
    def non_trainable_variables(self):
        return [v for v in self._vars.values() if not v.trainable]

    @property
    def model_variables(self):
        return [
            v for n, v in self._vars.items() if n in self._model_variable_names
        ]

    @property
    def losses(self):
        """The regularization losses of this thread's latest call."""
        return list(getattr(self._local, 'losses', []))

    def regularization_loss(self):
        """The sum of `losses` as a float32 scalar (0 when there are none)."""
        losses = [tf.cast(l, tf.float32) for l in self.losses]
        return tf.add_n(losses) if losses else tf.constant(0.0)

    def get_variable(self, name):
        """The variable with TF-Slim name `name` (no `:0`).

        Raises:
          KeyError: if the model has no such variable.
        """
        try:
            return self._vars[name]
        except KeyError:
            raise KeyError(
                'Model %s has no variable %r (it has %d variables%s)'
                % (
                    self.name,
                    name,
                    len(self._vars),
                    '' if self._vars else '; call it once first',
                )
            ) from None

    def __repr__(self):
        return 'slim.Model(%s, %d variables)' % (self.name, len(self._vars))

    # -- the store: what a running call (slim.calls) asks of its model ------

    def find_variable(self, name):
        """The variable with TF-Slim name `name`, or None."""
        return self._vars.get(name)

    def create_variable(
        self,
        name,
        shape,
        dtype,
        initializer,
        trainable,
        model_variable,
        synchronization,
        aggregation,
        device,
    ):
        """Creates the variable `name` (a full TF-Slim name) outside any
        trace, or returns it if another thread just did; layers reach it
        through `slim.model_variable` and `slim.variable`."""
        if initializer is None:
            initializer = (
                tf.initializers.GlorotUniform()
                if dtype.is_floating
                else tf.zeros_initializer()
            )
        if isinstance(initializer, (int, float)) or hasattr(
            initializer, 'shape'
        ):
            value = initializer

            def initial_value():
                return tf.broadcast_to(tf.cast(value, dtype), shape)
        else:

            def initial_value():
                return initializer(shape, dtype=dtype)

        if (
            tf.distribute.has_strategy()
            and not tf.distribute.in_cross_replica_context()
        ):
            raise RuntimeError(
                'Variable %s would be created inside a replica function '
                '(strategy.run). Build the model first in cross-replica '
                'context: call it once, or model.build(spec), inside '
                '`with strategy.scope():`.' % name
            )
        with self._create_lock, tf.init_scope(), tf.compat.v1.name_scope(None):
            # Another thread may have created it while this one waited.
            if name in self._vars:
                return self._vars[name]
            with tf.device(device) if device else contextlib.nullcontext():
                var = tf.Variable(
                    initial_value,
                    name=name,
                    trainable=trainable,
                    dtype=dtype,
                    synchronization=synchronization,
                    aggregation=aggregation,
                )
            self._vars[name] = var
            if model_variable:
                self._model_variable_names.add(name)
        return var


# --------------------------------------------------------------------------
# The checkpoint keys of the store: `tf.train.Checkpoint(model=model)` saves
# each variable under its key in `_vars` (MovingAverages keeps its shadows in
# a `_vars` dict too); these name-based views read them back.


def object_key(prefix, name):
    """The `tf.train.Checkpoint` key of entry `name` of a `_vars` dict.

    `prefix` is the path of the dict, e.g. `'model/_vars/'`. The object
    graph escapes a dict key's '.' as '..' and '/' as '.S'.
    """
    return '%s%s/.ATTRIBUTES/VARIABLE_VALUE' % (prefix, _escape_key(name))


def parse_object_key(key):
    """`(prefix, name)` of a key made by `object_key`, or None for others."""
    m = _OBJECT_KEY.match(key)
    if m is None:
        return None
    return m.group(1) or '', _unescape_key(m.group(2))


_OBJECT_KEY = re.compile(
    r'^((?:.*/)?_vars/)([^/]+)/\.ATTRIBUTES/VARIABLE_VALUE$'
)
_ESCAPED = re.compile(r'\.(.)')


def _escape_key(name):
    return name.replace('.', '..').replace('/', '.S')


def _unescape_key(escaped):
    # Left to right, one escape at a time: 'a..Sb' is 'a.Sb', not 'a./b'.
    def one(m):
        if m.group(1) == '.':
            return '.'
        if m.group(1) == 'S':
            return '/'
        raise ValueError(
            'checkpoint key part %r has an unknown escape %r'
            % (escaped, m.group(0))
        )

    return _ESCAPED.sub(one, escaped)


def object_checkpoint_names(shapes):
    """Maps TF-Slim names to the keys of a `tf.train.Checkpoint` of a Model.

    `shapes` is a checkpoint's `{key: shape}` (or any iterable of its keys).
    """
    found = {}
    for key in shapes:
        parsed = parse_object_key(key)
        if parsed is None:
            continue
        name = parsed[1]
        # The shortest path is the model itself, not a copy held elsewhere.
        if name not in found or len(key) < len(found[name]):
            found[name] = key
    return found
