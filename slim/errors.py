"""`ArgumentError`: a refused argument value that knows which argument it was.

The library raises it where a caller passed a bad value, so that a program
that took the value from somewhere else (the drivers, from a command-line
flag) can name it its own way without reading the message:

```python
try:
    training_utils.make_optimizer(FLAGS.optimizer, FLAGS.learning_rate)
except slim.ArgumentError as e:
    e.argument, e.value          # 'name', 'adamw'
    str(e)                       # "name='adamw' is not a known optimizer; ..."
    e.message({'name': '--optimizer'})  # "--optimizer='adamw' is not ..."
```
"""

__all__ = ['ArgumentError', 'MissingFileError']


class ArgumentError(ValueError):
    """A bad value of one argument.

    Args:
      argument: the argument's name, as the raising function calls it.
      value: the value refused.
      problem: what is wrong with it, read after `argument=value`: a clause
        (`'is not known; allowed: a, b'`) or one starting with ':'
        (`': must be >= 0'`). Other arguments it mentions are written
        `{name}` and listed in `mentions`.
      mentions: the names of other arguments written `{name}` in `problem`
        or `hint`.
      hint: what to do about it, if anything (`'use {exclude_scopes}'`),
        shown after the problem; a caller for whom it does not apply leaves
        it out (`message(hint=False)`).
    """

    def __init__(self, argument, value, problem, mentions=(), hint=None):
        self.argument = argument
        self.value = value
        self.problem = problem
        self.mentions = tuple(mentions)
        self.hint = hint
        super().__init__(self.message())

    def message(self, names=None, hint=True):
        """The one-line message, each argument (this one and those it
        mentions) called `names.get(argument, argument)`; without the hint
        if `hint` is False."""
        names = names or {}
        text = self.problem
        if hint and self.hint:
            text += '; ' + self.hint
        for other in self.mentions:
            text = text.replace('{%s}' % other, names.get(other, other))
        if text and not text.startswith((':', ';', ',')):
            text = ' ' + text
        return '%s=%r%s' % (
            names.get(self.argument, self.argument),
            self.value,
            text,
        )

    def __reduce__(self):
        return (
            type(self),
            (self.argument, self.value, self.problem, self.mentions, self.hint),
        )


class MissingFileError(ArgumentError, FileNotFoundError):
    """An `ArgumentError` for a path that lacks a file it should hold (a
    dataset folder without shards); also a `FileNotFoundError`."""
