"""Exponential moving averages of a model's variables, kept in checkpoints.

TF-Slim's training used `tf.train.ExponentialMovingAverage(decay,
global_step)`: shadow variables `<name>/ExponentialMovingAverage`, updated
after each step with the decay `min(decay, (1 + step) / (10 + step))`, and
evaluation read the shadows in place of the variables. `MovingAverages` keeps
the shadows under those names in its `_vars` dict, the layout `slim.Model`
uses, so `slim.assign_from_checkpoint` finds them by TF-Slim name in this
library's checkpoints as in TF1 ones:

```python
slim.assign_from_checkpoint(
    {slim.moving_averages.average_name(v): v for v in model.variables}, path)
```
"""

import tensorflow as tf

__all__ = ['MovingAverages', 'average_name']

SUFFIX = '/ExponentialMovingAverage'


def average_name(variable):
    """The checkpoint name of `variable`'s shadow, as TF1 named it."""
    return variable.name.split(':')[0] + SUFFIX


class MovingAverages(tf.Module):
    """Shadow copies of variables that follow them with a decay.

    Create it inside `strategy.scope()` (the shadows are then mirrored) and
    call `apply(step)` after each update, in cross-replica context.

    Args:
      variables: the variables to average (TF-Slim: the model variables,
        batch-norm statistics included).
      decay: the decay, in (0, 1).

    Raises:
      ValueError: if `decay` is not in (0, 1).
    """

    def __init__(self, variables, decay):
        super().__init__(name='ExponentialMovingAverage')
        if isinstance(decay, bool) or not 0.0 < float(decay) < 1.0:
            raise ValueError(
                'moving_average_decay must be in (0, 1), got %r' % (decay,)
            )
        self.decay = float(decay)
        self._vars = {}
        self._pairs = []
        for var in variables:
            if not var.dtype.is_floating:
                continue
            name = average_name(var)
            with tf.init_scope():
                shadow = tf.Variable(
                    tf.zeros(var.shape, var.dtype), trainable=False, name=name
                )
            self._vars[name] = shadow
            self._pairs.append((shadow, var))

    @property
    def averages(self):
        """`{checkpoint name: shadow variable}`."""
        return dict(self._vars)

    def apply(self, step):
        """Moves every shadow toward its variable; `step` is the global step."""
        step = tf.cast(step, tf.float32)
        decay = tf.minimum(self.decay, (1.0 + step) / (10.0 + step))
        for shadow, var in self._pairs:
            value = tf.convert_to_tensor(var)
            shadow.assign_sub((1.0 - decay) * (shadow - value))

    def reset(self):
        """Sets every shadow to its variable's current value."""
        for shadow, var in self._pairs:
            shadow.assign(tf.convert_to_tensor(var))

    def copy_to(self):
        """Writes the shadow values into the variables (for evaluation)."""
        for shadow, var in self._pairs:
            var.assign(tf.convert_to_tensor(shadow))
