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

from slim import scopes
from slim import variables as _variables

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
        state = _variables._CallState(
            self, training if isinstance(training, bool) else None)
        stack = _variables._call_stack()
        stack.append(state)
        try:
            with scopes.fresh_name_state():
                outputs = self._fn(*args, **call_kwargs)
        finally:
            stack.pop()
        self._local.losses = state.losses
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
        specs = [s if isinstance(s, tf.TensorSpec) else
                 tf.TensorSpec.from_tensor(tf.convert_to_tensor(s))
                 for s in input_specs]
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
            inspect.Parameter.KEYWORD_ONLY)

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
        return [v for n, v in self._vars.items()
                if n in self._model_variable_names]

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
            raise KeyError('Model %s has no variable %r (it has %d variables%s)'
                           % (self.name, name, len(self._vars),
                              '' if self._vars else '; call it once first')
                           ) from None

    def __repr__(self):
        return 'slim.Model(%s, %d variables)' % (self.name, len(self._vars))

    # -- the store -----------------------------------------------------------

    def _create_variable(self, full_name, shape, dtype, initializer, trainable,
                         synchronization, aggregation, device):
        if initializer is None:
            initializer = (tf.initializers.GlorotUniform() if dtype.is_floating
                           else tf.zeros_initializer())
        if isinstance(initializer, (int, float)) or hasattr(initializer,
                                                             'shape'):
            value = initializer

            def initial_value():
                return tf.broadcast_to(tf.cast(value, dtype), shape)
        else:
            def initial_value():
                return initializer(shape, dtype=dtype)
        if (tf.distribute.has_strategy()
                and not tf.distribute.in_cross_replica_context()):
            raise RuntimeError(
                'Variable %s would be created inside a replica function '
                '(strategy.run). Build the model first in cross-replica '
                'context: call it once, or model.build(spec), inside '
                '`with strategy.scope():`.' % full_name)
        with self._create_lock, tf.init_scope(), \
                tf.compat.v1.name_scope(None):
            # Another thread may have created it while this one waited.
            if full_name in self._vars:
                return self._vars[full_name]
            with tf.device(device) if device else contextlib.nullcontext():
                var = tf.Variable(
                    initial_value, name=full_name, trainable=trainable,
                    dtype=dtype, synchronization=synchronization,
                    aggregation=aggregation)
            self._vars[full_name] = var
        return var

