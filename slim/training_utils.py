"""What the drivers configure: devices, strategy, optimizer, schedule, fine-tuning.

The TF2 counterparts of research/slim's `model_deploy.DeploymentConfig` and of
`train_image_classifier.py`'s `_configure_*` helpers, as plain functions so a
Python user gets the same behaviour as the command line:

```python
strategy = training_utils.make_strategy(num_clones=2, clone_on_cpu=True)
decay = training_utils.decay_steps(num_samples, global_batch, 2.0)
lr = training_utils.learning_rate_schedule('exponential', 0.01, decay, 0.94)
optimizer = training_utils.make_optimizer('rmsprop', lr)  # inside the scope
```

Every function refuses a bad argument with a `slim.ArgumentError` (a
`ValueError`) naming the argument, the value and what is allowed, in one line.
"""

import json
import os

import numpy as np
import tensorflow as tf
from absl import logging

from slim import model as _model
from slim import variables as _variables
from slim.errors import ArgumentError

__all__ = [
    'OPTIMIZERS',
    'DECAY_TYPES',
    'check_optimizer',
    'check_decay_type',
    'configure_cpu_devices',
    'make_strategy',
    'num_workers',
    'decay_steps',
    'learning_rate_schedule',
    'make_optimizer',
    'split_scopes',
    'variables_to_restore',
    'check_checkpoint_fits',
    'make_init_fn',
    'variables_to_train',
    'unmatched_scopes',
    'build_and_measure',
    'available_memory',
]

OPTIMIZERS = (
    'adadelta',
    'adagrad',
    'adam',
    'ftrl',
    'momentum',
    'rmsprop',
    'sgd',
)
DECAY_TYPES = ('exponential', 'fixed', 'polynomial')


def check_optimizer(name):
    """Raises `ArgumentError` (argument 'name') unless `name` is one of
    `OPTIMIZERS`; `make_optimizer` checks so too."""
    if name not in OPTIMIZERS:
        raise ArgumentError(
            'name',
            name,
            'is not a known optimizer; allowed: %s' % ', '.join(OPTIMIZERS),
        )


def check_decay_type(decay_type):
    """Raises `ArgumentError` (argument 'decay_type') unless it is one of
    `DECAY_TYPES`; `learning_rate_schedule` checks so too."""
    if decay_type not in DECAY_TYPES:
        raise ArgumentError(
            'decay_type',
            decay_type,
            'is not known; allowed: %s' % ', '.join(DECAY_TYPES),
        )


def configure_cpu_devices(count):
    """Splits the CPU into `count` logical devices, before TF initializes.

    Raises:
      ArgumentError: if the devices were initialized already with fewer.
    """
    cpus = tf.config.list_physical_devices('CPU')
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration()] * count
        )
    except RuntimeError:
        # Already initialized (e.g. by a test harness): fine if enough exist.
        have = len(tf.config.list_logical_devices('CPU'))
        if have < count:
            raise ArgumentError(
                'count',
                count,
                ': %d logical CPU devices are needed, but '
                'TensorFlow was initialized with %d; configure the devices '
                'before any TensorFlow op runs' % (count, have),
            ) from None


def make_strategy(num_clones=1, clone_on_cpu=False):
    """The strategy for this process: TF_CONFIG, then num_clones, then default.

    A `TF_CONFIG` naming more than one task selects
    `MultiWorkerMirroredStrategy` (synchronous all-reduce; each worker uses
    its GPUs, or its CPU). Otherwise `num_clones` > 1 selects
    `MirroredStrategy` over that many GPUs, or logical CPUs with
    `clone_on_cpu` (call `configure_cpu_devices` first). One device otherwise.

    Raises:
      ArgumentError: if num_clones is not positive, or there are not enough GPUs.
    """
    if (
        isinstance(num_clones, bool)
        or not isinstance(num_clones, int)
        or num_clones < 1
    ):
        raise ArgumentError(
            'num_clones', num_clones, ': expected a positive integer'
        )
    if num_workers() > 1:
        if num_clones > 1 and clone_on_cpu:
            raise ArgumentError(
                'num_clones',
                num_clones,
                'with {clone_on_cpu} under a multi-worker TF_CONFIG is not '
                'supported: each worker trains on its own CPU (use '
                '{num_clones}=1) or on its GPUs',
                mentions=('clone_on_cpu', 'num_clones'),
            )
        _tolerate_slow_workers()
        return tf.distribute.MultiWorkerMirroredStrategy()
    if num_clones == 1:
        if clone_on_cpu:
            return tf.distribute.OneDeviceStrategy('/cpu:0')
        return tf.distribute.get_strategy()
    if clone_on_cpu:
        devices = ['/cpu:%d' % i for i in range(num_clones)]
    else:
        gpus = tf.config.list_logical_devices('GPU')
        if len(gpus) < num_clones:
            raise ArgumentError(
                'num_clones',
                num_clones,
                'needs %d GPUs, found %d; pass {clone_on_cpu} to run the '
                'clones on logical CPU devices' % (num_clones, len(gpus)),
                mentions=('clone_on_cpu',),
            )
        devices = ['/gpu:%d' % i for i in range(num_clones)]
    return tf.distribute.MirroredStrategy(
        devices,
        cross_device_ops=(
            tf.distribute.ReductionToOneDevice() if clone_on_cpu else None
        ),
    )


# A worker that misses heartbeats this long is taken for dead. TF's default
# (10 s) failed a two-worker run on a loaded 2-core machine, where a worker
# can be starved that long without having failed.
HEARTBEAT_TIMEOUT_MS = 120000


def _tolerate_slow_workers():
    """Configures TF's coordination service as MultiWorkerMirroredStrategy
    would, with a longer heartbeat timeout (it keeps a service configured
    before it)."""
    from tensorflow.compiler.xla.tsl.protobuf import coordination_config_pb2
    from tensorflow.python.distribute import multi_worker_util
    from tensorflow.python.eager import context

    if context.context().coordination_service is not None:
        return
    cluster = (
        tf.distribute.cluster_resolver.TFConfigClusterResolver().cluster_spec()
    )
    jobs = [
        coordination_config_pb2.CoordinatedJob(
            name=job, num_tasks=cluster.num_tasks(job)
        )
        for job in ('chief', 'worker')
        if job in cluster.jobs
    ]
    context.context().configure_coordination_service(
        service_type='standalone',
        service_leader=multi_worker_util.coordination_leader(cluster),
        coordinated_jobs=jobs,
        heartbeat_timeout_in_ms=HEARTBEAT_TIMEOUT_MS,
    )


def num_workers():
    """The number of tasks (chief and workers) in `TF_CONFIG`; 1 without it."""
    try:
        cluster = json.loads(os.environ.get('TF_CONFIG') or '{}').get(
            'cluster', {}
        )
    except ValueError:
        raise ArgumentError(
            'TF_CONFIG', os.environ.get('TF_CONFIG'), 'is not valid JSON'
        ) from None
    return max(
        1, len(cluster.get('chief', [])) + len(cluster.get('worker', []))
    )


def decay_steps(num_samples_per_epoch, global_batch_size, num_epochs_per_decay):
    """Steps per decay period, counting epochs of the global batch.

    TF-Slim divided by the per-clone batch, so with N clones the decay came
    N times too late; here an epoch is `num_samples / global_batch` steps.
    """
    return max(
        1, int(num_samples_per_epoch * num_epochs_per_decay / global_batch_size)
    )


def learning_rate_schedule(
    decay_type,
    learning_rate,
    decay_steps_,
    decay_factor=0.94,
    end_learning_rate=0.0001,
):
    """TF-Slim's learning rates as a Keras schedule (or a float for 'fixed').

    'exponential' is staircase exponential decay by `decay_factor` every
    `decay_steps_`; 'polynomial' is linear (power 1) decay to
    `end_learning_rate` over `decay_steps_`, then constant; 'fixed' is
    constant.

    Raises:
      ArgumentError: for an unknown `decay_type`.
    """
    check_decay_type(decay_type)
    schedules = tf.keras.optimizers.schedules
    if decay_type == 'exponential':
        return schedules.ExponentialDecay(
            learning_rate, decay_steps_, decay_factor, staircase=True
        )
    if decay_type == 'fixed':
        return float(learning_rate)
    return schedules.PolynomialDecay(
        learning_rate, decay_steps_, end_learning_rate, power=1.0, cycle=False
    )


def make_optimizer(
    name,
    learning_rate,
    adadelta_rho=0.95,
    adagrad_initial_accumulator_value=0.1,
    adam_beta1=0.9,
    adam_beta2=0.999,
    opt_epsilon=1.0,
    ftrl_learning_rate_power=-0.5,
    ftrl_initial_accumulator_value=0.1,
    ftrl_l1=0.0,
    ftrl_l2=0.0,
    momentum=0.9,
    rmsprop_momentum=0.9,
    rmsprop_decay=0.9,
):
    """TF-Slim's optimizer `name` as a Keras optimizer, with its flags.

    Call it inside `strategy.scope()`. The arguments are the driver flags of
    the same names and defaults.

    Raises:
      ArgumentError: for an unknown `name`.
    """
    check_optimizer(name)
    opt = tf.keras.optimizers
    if name == 'adadelta':
        return opt.Adadelta(
            learning_rate, rho=adadelta_rho, epsilon=opt_epsilon
        )
    if name == 'adagrad':
        return opt.Adagrad(
            learning_rate,
            initial_accumulator_value=adagrad_initial_accumulator_value,
        )
    if name == 'adam':
        return opt.Adam(
            learning_rate,
            beta_1=adam_beta1,
            beta_2=adam_beta2,
            epsilon=opt_epsilon,
        )
    if name == 'ftrl':
        return opt.Ftrl(
            learning_rate,
            learning_rate_power=ftrl_learning_rate_power,
            initial_accumulator_value=ftrl_initial_accumulator_value,
            l1_regularization_strength=ftrl_l1,
            l2_regularization_strength=ftrl_l2,
        )
    if name == 'momentum':
        return opt.SGD(learning_rate, momentum=momentum)
    if name == 'rmsprop':
        return opt.RMSprop(
            learning_rate,
            rho=rmsprop_decay,
            momentum=rmsprop_momentum,
            epsilon=opt_epsilon,
        )
    return opt.SGD(learning_rate)  # 'sgd'


def split_scopes(value):
    """'a, b/c,' -> ['a', 'b/c'] (TF-Slim's comma-separated scope flags)."""
    if not value:
        return []
    return [s.strip() for s in value.split(',') if s.strip()]


def variables_to_restore(model, exclude_scopes=()):
    """The model variables to fine-tune from, without the excluded scopes.

    Only model variables (weights, biases, batch-norm statistics): never
    optimizer slots, the global step or moving averages. A variable is
    excluded when its name starts with an excluded scope, as in TF-Slim.
    """
    return [
        v
        for v in _variables.get_model_variables(model)
        if not any(_name(v).startswith(s) for s in exclude_scopes)
    ]


def check_checkpoint_fits(var_list, checkpoint_path, ignore_missing_vars=False):
    """Checks, without restoring, that a checkpoint has every variable.

    `var_list` is a list of variables, looked up by their names, or a dict
    `{checkpoint name: variable}` (as for `slim.assign_from_checkpoint`).

    Returns:
      The checkpoint prefix (a directory resolves to its latest checkpoint).

    Raises:
      ArgumentError: one line naming the path, the counts and first examples of
        missing and mis-shaped variables.
    """
    path = _variables.resolve_checkpoint(checkpoint_path)
    try:
        shapes = tf.train.load_checkpoint(path).get_variable_to_shape_map()
    except (tf.errors.OpError, ValueError) as e:
        raise ArgumentError(
            'checkpoint_path',
            checkpoint_path,
            'cannot be read as a checkpoint: %s' % str(e).splitlines()[0],
        ) from None
    by_name = dict(shapes)
    for name, key in _model.object_checkpoint_names(shapes).items():
        by_name.setdefault(name, shapes[key])  # this library's own checkpoints
    pairs = (
        list(var_list.items())
        if isinstance(var_list, dict)
        else [(_name(v), v) for v in var_list]
    )
    missing, mismatched, found = [], [], []
    for name, var in pairs:
        if name not in by_name:
            missing.append(name)
        elif list(by_name[name]) != var.shape.as_list():
            mismatched.append(
                '%s %s vs %s' % (name, list(by_name[name]), var.shape.as_list())
            )
        else:
            found.append(name)
    problems = []
    if mismatched:
        problems.append(
            '%d with another shape (e.g. %s)' % (len(mismatched), mismatched[0])
        )
    if missing and not ignore_missing_vars:
        problems.append('%d missing (e.g. %s)' % (len(missing), missing[0]))
    if problems:
        raise ArgumentError(
            'checkpoint_path',
            checkpoint_path,
            'does not fit the net: %s of %d variables'
            % (' and '.join(problems), len(var_list)),
            hint='use {exclude_scopes} or {ignore_missing_vars}',
            mentions=('exclude_scopes', 'ignore_missing_vars'),
        )
    # A truncated or corrupt data file shows only when the values are read.
    reader = tf.train.load_checkpoint(path)
    keys = _model.object_checkpoint_names(shapes)
    for name in found:
        key = name if name in shapes else keys[name]
        try:
            reader.get_tensor(key)
        except (IndexError, ValueError, OSError, tf.errors.OpError) as e:
            raise ArgumentError(
                'checkpoint_path',
                path,
                'is damaged: reading %s failed (%s)'
                % (name, str(e).strip().splitlines()[0]),
            ) from None
    return path


def make_init_fn(checkpoint_path, exclude_scopes=(), ignore_missing_vars=False):
    """`init_fn(model)` restoring the model variables from a checkpoint.

    For `slim.learning.train`: it runs only when `train_dir` has no
    checkpoint yet, so a restarted fine-tuning run resumes instead.
    """

    def init_fn(model):
        var_list = variables_to_restore(model, exclude_scopes)
        path = check_checkpoint_fits(
            var_list, checkpoint_path, ignore_missing_vars
        )
        restored = _variables.assign_from_checkpoint(
            var_list, path, ignore_missing_vars
        )
        logging.info(
            'Fine-tuning from %s: restored %d of %d model variables',
            path,
            len(restored),
            len(_variables.get_model_variables(model)),
        )

    return init_fn


def variables_to_train(model, trainable_scopes=()):
    """The trainable variables under any of `trainable_scopes` (all if none).

    Raises:
      ArgumentError: if the scopes select no variable.
    """
    if not trainable_scopes:
        return model.trainable_variables
    chosen = [
        v
        for v in model.trainable_variables
        if any(_name(v).startswith(s) for s in trainable_scopes)
    ]
    if not chosen:
        raise ArgumentError(
            'trainable_scopes',
            ','.join(trainable_scopes),
            'selects none of the %d trainable variables (names start like %r)'
            % (
                len(model.trainable_variables),
                _name(model.trainable_variables[0])
                if model.trainable_variables
                else '',
            ),
        )
    return chosen


def unmatched_scopes(model, scopes, variables=None):
    """The entries of `scopes` that start the name of none of `variables`
    (the model's variables by default), for a warning: a typo in
    `checkpoint_exclude_scopes` would silently restore what was meant to be
    excluded."""
    names = [
        _name(v) for v in (model.variables if variables is None else variables)
    ]
    return [s for s in scopes if not any(n.startswith(s) for n in names)]


def build_and_measure(model, input_spec, **call_kwargs):
    """Builds `model` for `input_spec` (as `model.build`) and estimates the
    memory one example takes in a training step.

    The estimate is the size of every batch-sized tensor the forward pass
    makes, per example: what backpropagation keeps, within a small factor.

    Returns:
      Bytes per example.
    """
    fn = tf.function(lambda x: model(x, **call_kwargs), autograph=False)
    graph = fn.get_concrete_function(input_spec).graph
    total = 0
    for op in graph.get_operations():
        for t in op.outputs:
            dims = t.shape.as_list() if t.shape.rank else None
            if (
                not dims
                or dims[0] is not None
                or None in dims[1:]
                or not (t.dtype.is_floating or t.dtype.is_integer)
            ):
                continue  # not one value per example, or not data
            total += int(np.prod(dims[1:])) * t.dtype.size
    return total


def available_memory():
    """Bytes of memory available to a new allocation here (None if unknown)."""
    try:
        with open('/proc/meminfo', encoding='ascii') as f:
            for line in f:
                if line.startswith('MemAvailable:'):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf('SC_AVPHYS_PAGES') * os.sysconf('SC_PAGE_SIZE')
    except (ValueError, OSError, AttributeError):
        return None


def _name(var):
    return var.name.split(':')[0]
