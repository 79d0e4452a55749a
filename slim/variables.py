"""Variables as TF-Slim's layers create and find them, and checkpoint restore.

`model_variable` and `variable` get or create a variable of the model whose
call is running on this thread (`slim.calls`), named from that call's
variable-scope stack; the query functions (`get_variables`,
`get_variables_to_restore`, ...) take the model where TF-Slim read graph
collections.
"""

import re

import numpy as np
import tensorflow as tf
from absl import logging

from slim import calls
from slim import scopes
from slim.errors import ArgumentError
from slim.model import object_checkpoint_names

__all__ = [
    'model_variable',
    'variable',
    'get_variables',
    'get_model_variables',
    'get_trainable_variables',
    'get_variables_by_name',
    'get_variables_by_suffix',
    'get_unique_variable',
    'get_variables_to_restore',
    'assign_from_checkpoint',
    'resolve_checkpoint',
]

# --------------------------------------------------------------------------
# Variable creation


def model_variable(
    name,
    shape=None,
    dtype=tf.float32,
    initializer=None,
    regularizer=None,
    trainable=True,
    collections=None,
    caching_device=None,
    device=None,
    partitioner=None,
    custom_getter=None,
    use_resource=None,
    synchronization=tf.VariableSynchronization.AUTO,
    aggregation=tf.VariableAggregation.NONE,
):
    """Gets or creates a model variable `<current scope>/<name>`.

    Model variables are the ones a net is made of: they are what
    `get_model_variables` returns and what a model-zoo checkpoint holds.
    The TF1-only arguments (`collections`, `caching_device`, `partitioner`,
    `custom_getter`, `use_resource`) are accepted and ignored.

    Raises:
      RuntimeError: if called outside a `slim.Model` call.
      ValueError: if the variable exists with another shape, or exists
        already in this call and the scope does not allow reuse.
    """
    del collections, caching_device, partitioner, custom_getter, use_resource
    return calls.current_or_raise('model_variable').variable(
        name,
        shape,
        dtype,
        initializer,
        regularizer,
        trainable,
        True,
        synchronization,
        aggregation,
        device,
    )


def variable(
    name,
    shape=None,
    dtype=tf.float32,
    initializer=None,
    regularizer=None,
    trainable=True,
    collections=None,
    caching_device=None,
    device=None,
    partitioner=None,
    custom_getter=None,
    use_resource=None,
    synchronization=tf.VariableSynchronization.AUTO,
    aggregation=tf.VariableAggregation.NONE,
):
    """Gets or creates a variable that is not a model variable (a counter, say).

    Same arguments and errors as `model_variable`.
    """
    del collections, caching_device, partitioner, custom_getter, use_resource
    return calls.current_or_raise('variable').variable(
        name,
        shape,
        dtype,
        initializer,
        regularizer,
        trainable,
        False,
        synchronization,
        aggregation,
        device,
    )


# --------------------------------------------------------------------------
# Queries


def get_variables(model, scope=None, suffix=None):
    """The model's variables, in creation order, filtered as TF-Slim does.

    Args:
      model: a `slim.Model` (or anything with `.variables`).
      scope: a regular expression matched at the start of variable names
        (`'InceptionV3/Logits'`), or a `VariableScope`.
      suffix: keep only the variables whose last name part is this.
    """
    return _filter(_all_variables(model), scope, suffix)


def get_model_variables(model, scope=None, suffix=None):
    """The model variables (weights, biases, batch-norm statistics, ...)."""
    if hasattr(model, 'model_variables'):
        variables = list(model.model_variables)
    else:
        variables = _all_variables(model)
    return _filter(variables, scope, suffix)


def get_trainable_variables(model, scope=None, suffix=None):
    """The trainable variables, filtered like `get_variables`."""
    return _filter(
        [v for v in _all_variables(model) if v.trainable], scope, suffix
    )


def get_variables_by_suffix(model, suffix, scope=None):
    """The variables whose names end with `suffix`."""
    return get_variables(model, scope=scope, suffix=suffix)


def get_variables_by_name(model, given_name, scope=None):
    """The variables whose last name part is exactly `given_name`."""
    suffix = '/' + given_name + ':|^' + given_name + ':'
    return get_variables(model, scope=scope, suffix=suffix)


def get_unique_variable(model, var_op_name):
    """The one variable named `var_op_name` (no `:0`).

    Raises:
      ValueError: if there is no such variable.
    """
    for v in _all_variables(model):
        if _name(v) == var_op_name:
            return v
    raise ValueError(
        'get_unique_variable: no variable named %r; the model '
        'has %d variables' % (var_op_name, len(_all_variables(model)))
    )


def get_variables_to_restore(model, include=None, exclude=None):
    """The variables to restore from a checkpoint, as TF-Slim selects them.

    Args:
      model: a `slim.Model`.
      include: scopes (regular expressions matched at the start of names) to
        take; all variables when None.
      exclude: scopes to leave out, such as `['InceptionV3/Logits']`.

    Returns:
      A list of variables, in creation order.
    """
    if include is None:
        chosen = _all_variables(model)
    else:
        chosen = []
        for scope in _as_list(include, 'include'):
            chosen += [
                v
                for v in get_variables(model, scope)
                if not any(v is c for c in chosen)
            ]
    excluded = set()
    for scope in _as_list(exclude, 'exclude'):
        excluded |= {id(v) for v in get_variables(model, scope)}
    return [v for v in chosen if id(v) not in excluded]


# --------------------------------------------------------------------------
# Checkpoints


def assign_from_checkpoint(
    var_list, checkpoint_path, ignore_missing_vars=False
):
    """Restores variables by name from a checkpoint, eagerly.

    Reads TF1 name-based checkpoints (a TF-Slim model-zoo file, a
    `tf.compat.v1.train.Saver` file) and also this library's
    `tf.train.Checkpoint` files of a `slim.Model`, whose variables are found
    by their TF-Slim names.

    Args:
      var_list: a list of variables, restored from the checkpoint entries of
        their own names, or a dict `{checkpoint_name: variable}`.
      checkpoint_path: a checkpoint prefix, or a directory (its latest
        checkpoint is used).
      ignore_missing_vars: log and skip the names the checkpoint lacks
        instead of failing.

    Returns:
      The list of checkpoint names that were restored.

    Raises:
      ValueError: if the path holds no checkpoint, or, listing all of them,
        names are missing from the checkpoint (unless `ignore_missing_vars`)
        or have another shape there.
    """
    path = resolve_checkpoint(checkpoint_path)
    reader = tf.train.load_checkpoint(path)
    shapes = reader.get_variable_to_shape_map()
    object_names = object_checkpoint_names(shapes)
    if isinstance(var_list, dict):
        pairs = list(var_list.items())
    else:
        pairs = [(_name(v), v) for v in var_list]

    missing, mismatched, found = [], [], []
    for ckpt_name, var in pairs:
        key = ckpt_name if ckpt_name in shapes else object_names.get(ckpt_name)
        if key is None:
            missing.append(ckpt_name)
            continue
        if list(shapes[key]) != var.shape.as_list():
            mismatched.append(
                '%s: checkpoint %s, variable %s'
                % (ckpt_name, list(shapes[key]), var.shape.as_list())
            )
            continue
        found.append((ckpt_name, key, var))
    problems = []
    if mismatched:
        problems.append(
            '%d with another shape:\n  %s'
            % (len(mismatched), '\n  '.join(mismatched))
        )
    if missing and not ignore_missing_vars:
        problems.append(
            '%d missing from the checkpoint:\n  %s'
            % (len(missing), '\n  '.join(missing))
        )
    if problems:
        raise ValueError(
            'assign_from_checkpoint: checkpoint %s does not fit the variables '
            '(%s); pass ignore_missing_vars=True to skip missing ones, or '
            'exclude their scopes' % (path, '; '.join(problems))
        )
    for name in missing:
        logging.warning('Variable %s missing in checkpoint %s', name, path)
    for _, key, var in found:
        var.assign(
            np.asarray(reader.get_tensor(key)).astype(var.dtype.as_numpy_dtype)
        )
    return [name for name, _, _ in found]


def resolve_checkpoint(checkpoint_path):
    """The checkpoint prefix a path means: a directory's latest checkpoint,
    or the prefix itself.

    Raises:
      ArgumentError: if the directory holds no checkpoint or the prefix does
        not exist.
    """
    if tf.io.gfile.isdir(checkpoint_path):
        latest = tf.train.latest_checkpoint(checkpoint_path)
        if latest is None:
            raise ArgumentError(
                'checkpoint_path',
                checkpoint_path,
                ': the directory holds no checkpoint',
            )
        return latest
    if not (
        tf.io.gfile.exists(checkpoint_path + '.index')
        or tf.io.gfile.exists(checkpoint_path)
    ):
        raise ArgumentError(
            'checkpoint_path',
            checkpoint_path,
            'does not exist (expected a checkpoint prefix '
            'with a .index file, or a directory)',
        )
    return checkpoint_path


# --------------------------------------------------------------------------
# Helpers


def _all_variables(model):
    if not hasattr(model, 'variables'):
        raise TypeError(
            'expected a slim.Model (something with .variables), '
            'got %r' % (model,)
        )
    return list(model.variables)


def _name(var):
    name = var.name
    return name[:-2] if name.endswith(':0') else name.split(':')[0]


def _filter(variables, scope, suffix):
    if isinstance(scope, scopes.VariableScope):
        scope = scope.name
    if suffix is not None:
        if ':' not in suffix:
            suffix += ':'
        scope = (scope or '') + '.*' + suffix
    if scope is None:
        return list(variables)
    pattern = re.compile(scope)
    return [v for v in variables if pattern.match(v.name)]


def _as_list(scopes_arg, what):
    if scopes_arg is None:
        return []
    if isinstance(scopes_arg, str):
        return [scopes_arg]
    if not isinstance(scopes_arg, (list, tuple, set)):
        raise TypeError(
            'get_variables_to_restore: %s must be a list of scope '
            'names, got %r' % (what, scopes_arg)
        )
    return list(scopes_arg)
