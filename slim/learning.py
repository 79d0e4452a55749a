"""A generic train loop: one compiled step, checkpoints, summaries, resume.

TF-Slim's `slim.learning.train(train_op, logdir, ...)` ran a graph under a
Supervisor. This is its TF2 counterpart, callable from Python:

```python
model = slim.Model(net_fn, num_classes=10)
result = slim.learning.train(
    model, dataset, optimizer=lambda: tf.keras.optimizers.SGD(0.1),
    train_dir='/tmp/run', number_of_steps=1000,
    loss_fn=slim.learning.classification_loss(),
    call_kwargs={'is_training': True})
```

What it does, in order: builds the model, the optimizer slots and the
moving averages inside `strategy.scope()`; resumes from the latest checkpoint
in `train_dir` if there is one, else runs `init_fn` (fine-tuning); then runs
one `tf.function` step per batch (`strategy.run` of forward, loss, gradients,
update) until `number_of_steps`. A `tf.train.CheckpointManager` saves model,
optimizer, global step and moving averages every `save_interval_secs` (or
`save_interval_steps`) and at the end; a non-finite loss stops the run with
`FloatingPointError` naming the step, without saving over the last good
checkpoint. Under `MultiWorkerMirroredStrategy` every worker runs the same
saves and summaries (they are collective), but only the chief writes to
`train_dir`; the others write to a temporary folder that is then deleted.
"""

import collections
import contextlib
import math
import os
import shutil
import tempfile
import time

import tensorflow as tf
from absl import logging

from slim import losses as _losses
from slim import model as _model
from slim import summaries
from slim import train_dirs
from slim import variables as _variables
from slim.errors import ArgumentError
from slim.moving_averages import MovingAverages

__all__ = [
    'train',
    'classification_loss',
    'TrainResult',
    'is_chief',
    'check_resume',
    'MovingAverages',
]

TrainResult = collections.namedtuple(
    'TrainResult',
    [
        'global_step',
        'total_loss',
        'loss_history',
        'checkpoint_path',
        'images_per_second',
    ],
)
TrainResult.__doc__ = """What `train` returns.

  global_step: the step reached.  total_loss: the loss of the last step.
  loss_history: the total loss of every step this call ran, in order.
  checkpoint_path: the last checkpoint written (None if none was).
  images_per_second: the throughput after the first (tracing) step.
"""


def train(
    model,
    dataset,
    optimizer,
    train_dir,
    *,
    loss_fn=None,
    number_of_steps=None,
    strategy=None,
    call_kwargs=None,
    variables_to_train=None,
    init_fn=None,
    moving_average_decay=None,
    compute_dtype=None,
    save_interval_secs=600,
    save_interval_steps=None,
    save_summaries_secs=600,
    save_summaries_steps=None,
    log_every_n_steps=10,
    max_to_keep=5,
    num_summary_images=3,
    summarize_histograms=True,
    loss_upper_bound=None,
):
    """Trains `model` on `dataset` into `train_dir`; see the module docstring.

    Args:
      model: a `slim.Model`; built here (inside the strategy's scope) from
        the dataset's image spec if it has no variables yet.
      dataset: a `tf.data.Dataset` of `(images, labels)` batches of the
        global batch size, or a function `fn(input_context)` returning
        per-replica batches (`strategy.distribute_datasets_from_function`).
        Repeat it: training also stops when it ends.
      optimizer: a Keras optimizer made inside `strategy.scope()`, or a
        function of no arguments that makes one (called inside it). Its
        `iterations` is the global step: with float16 a step whose
        gradients overflow is skipped and not counted.
      train_dir: where checkpoints and event files go.
      loss_fn: `fn(outputs, labels)` -> a scalar or a dict `{name: scalar}`;
        `classification_loss()` by default. The model's regularization
        losses are added. The step is traced without autograph: use
        `tf.cond`/`tf.where`, not Python `if`, on tensors.
      number_of_steps: the global step to stop at; None for no limit.
      strategy: a `tf.distribute.Strategy`; the current one by default.
      call_kwargs: keyword arguments of each training call of the model,
        e.g. `{'is_training': True}`. A net function that names a
        `current_step` argument (NASNet's drop path ramps up with it) also
        gets `current_step=optimizer.iterations`, unless given here.
      variables_to_train: a list of variables or `fn(model)` -> list;
        all trainable variables by default.
      init_fn: `fn(model)`, run once after building when the run does not
        resume from a checkpoint (fine-tuning from a model-zoo file).
      moving_average_decay: keep exponential moving averages of the model
        variables (TF-Slim's, with `num_updates` = the global step).
      compute_dtype: None, 'float32', 'bfloat16' or 'float16': images are
        cast to it before the model; float16 wraps the optimizer in a
        dynamic `LossScaleOptimizer`.
      save_interval_secs, save_interval_steps: how often to checkpoint (the
        steps, when given, replace the seconds).
      save_summaries_secs, save_summaries_steps: write summaries at the
        first step, at every multiple of `save_summaries_steps` and whenever
        `save_summaries_secs` have passed since the last ones, whichever
        comes first; None or 0 turns either rule off, both: no summaries.
      log_every_n_steps: how often to log step, loss, images/s, time left.
      max_to_keep: checkpoints kept in `train_dir`.
      num_summary_images: input images in each image summary.
      summarize_histograms: write weight and activation histograms.
      loss_upper_bound: stop when a step's total loss exceeds this (None or
        0: no bound); a loss that is NaN or infinite always stops the run.

    Returns:
      A `TrainResult`.

    Raises:
      FloatingPointError: if a step's loss is NaN, infinite or above
        `loss_upper_bound`, or its input images or gradients are NaN or
        infinite. The checkpoints whose weights were not shown to give a
        loss within bound are first moved into `train_dir/diverged/`.
      ValueError: if there is nothing to train, an argument is invalid,
        `train_dir` holds a run that trained other variables or no readable
        checkpoint, or the dataset ends before the first step.
      slim.train_dirs.TrainDirBusyError: if another process trains in
        `train_dir`.
    """
    strategy = strategy or tf.distribute.get_strategy()
    call_kwargs = dict(call_kwargs or {})
    loss_fn = loss_fn or classification_loss()
    compute_dtype = _compute_dtype(compute_dtype)
    chief = is_chief(strategy)
    if number_of_steps is not None and number_of_steps < 0:
        raise ArgumentError(
            'number_of_steps', number_of_steps, ': must be >= 0 or None'
        )
    if loss_upper_bound is not None and not loss_upper_bound >= 0:
        raise ArgumentError(
            'loss_upper_bound', loss_upper_bound, ': must be >= 0 or None'
        )
    # Only the chief writes train_dir; it holds the lock for the whole run.
    with train_dirs.lock(train_dir) if chief else contextlib.nullcontext():
        return _train(
            model,
            dataset,
            optimizer,
            train_dir,
            loss_fn,
            number_of_steps,
            strategy,
            call_kwargs,
            variables_to_train,
            init_fn,
            moving_average_decay,
            compute_dtype,
            save_interval_secs,
            save_interval_steps,
            save_summaries_secs,
            save_summaries_steps,
            log_every_n_steps,
            max_to_keep,
            num_summary_images,
            summarize_histograms,
            loss_upper_bound or None,
            chief,
        )


def _train(
    model,
    dataset,
    optimizer,
    train_dir,
    loss_fn,
    number_of_steps,
    strategy,
    call_kwargs,
    variables_to_train,
    init_fn,
    moving_average_decay,
    compute_dtype,
    save_interval_secs,
    save_interval_steps,
    save_summaries_secs,
    save_summaries_steps,
    log_every_n_steps,
    max_to_keep,
    num_summary_images,
    summarize_histograms,
    loss_upper_bound,
    chief,
):
    if callable(dataset) and not isinstance(dataset, tf.data.Dataset):
        image_spec = dataset(tf.distribute.InputContext()).element_spec[0]
        dist_dataset = strategy.distribute_datasets_from_function(dataset)
    else:
        image_spec = dataset.element_spec[0]
        dist_dataset = strategy.experimental_distribute_dataset(dataset)

    with strategy.scope():
        if not model.built:
            model.build(
                tf.TensorSpec(
                    [None] + image_spec.shape.as_list()[1:],
                    compute_dtype or image_spec.dtype,
                ),
                **call_kwargs,
            )
        train_vars = _resolve_variables(model, variables_to_train)
        if not isinstance(optimizer, tf.keras.optimizers.Optimizer):
            optimizer = optimizer()
        if compute_dtype == tf.float16 and not isinstance(
            optimizer, tf.keras.optimizers.LossScaleOptimizer
        ):
            optimizer = tf.keras.optimizers.LossScaleOptimizer(optimizer)
        optimizer.build(train_vars)
        averages = (
            MovingAverages(
                _variables.get_model_variables(model), moving_average_decay
            )
            if moving_average_decay
            else None
        )

    if chief:
        train_dirs.remove_partial_saves(train_dir)
        latest = train_dirs.newest_readable_checkpoint(train_dir)
    else:
        latest = train_dirs.newest_readable_checkpoint(
            train_dir, set_aside_damaged=False
        )
    check_resume(train_dir, train_vars, model, latest)
    with tf.init_scope():  # a plain (not distributed) record of the names
        trained = tf.Variable(_names_record(train_vars), trainable=False)
    parts = {
        'model': model,
        'optimizer': optimizer,
        'global_step': optimizer.iterations,
        'variables_to_train': trained,
    }
    if averages is not None:
        parts['ema'] = averages
    checkpoint = tf.train.Checkpoint(**parts)
    tf.io.gfile.makedirs(train_dir)
    # Saving is collective under MultiWorkerMirroredStrategy: every worker
    # saves, only the chief where others read.
    save_dir = train_dir if chief else tempfile.mkdtemp(prefix='slim_worker_')
    manager = tf.train.CheckpointManager(checkpoint, save_dir, max_to_keep)
    if latest:
        checkpoint.restore(latest).expect_partial()
        logging.info(
            'Resuming from %s at step %d', latest, _global_step(optimizer)
        )
        if averages is not None and not tf.train.load_checkpoint(
            latest
        ).has_tensor(
            _model.object_key('ema/_vars/', next(iter(averages.averages)))
        ):
            averages.reset()  # the run had no averages: start them now
    else:
        if init_fn is not None:
            init_fn(model)
        if averages is not None:
            averages.reset()  # the averages start from the restored values

    step_fn = _make_step(
        model,
        strategy,
        optimizer,
        loss_fn,
        train_vars,
        call_kwargs,
        compute_dtype,
        averages,
    )
    writer = (
        tf.summary.create_file_writer(train_dir)
        if chief
        else tf.summary.create_noop_writer()
    )
    summary_kwargs = dict(call_kwargs)
    if 'is_training' in summary_kwargs:
        summary_kwargs['is_training'] = False
    summarize = summaries.TrainSummaries(
        model,
        strategy,
        optimizer,
        writer,
        summary_kwargs,
        compute_dtype,
        num_summary_images,
        summarize_histograms,
    )
    try:
        return _loop(
            strategy,
            dist_dataset,
            optimizer,
            manager,
            step_fn,
            summarize,
            number_of_steps,
            save_interval_secs,
            save_interval_steps,
            save_summaries_secs,
            save_summaries_steps,
            log_every_n_steps,
            train_dir,
            loss_upper_bound,
            chief,
        )
    finally:
        writer.close()
        if not chief:
            shutil.rmtree(save_dir, ignore_errors=True)


def classification_loss(label_smoothing=0.0, aux_logits_weight=0.4):
    """The loss TF-Slim's train_image_classifier uses, as a `loss_fn`.

    Softmax cross entropy of the logits against one-hot labels (int labels
    are one-hot encoded to the logits' width), plus, when the net returns
    `end_points['AuxLogits']` (Inception), the same on those, weighted
    `aux_logits_weight`.

    Returns:
      `fn(outputs, labels)` -> `{'softmax_cross_entropy_loss': ...,
      ['aux_loss': ...]}`, where outputs is logits or (logits, end_points).
    """

    def loss_fn(outputs, labels):
        logits, end_points = (
            outputs if isinstance(outputs, (tuple, list)) else (outputs, {})
        )
        labels = tf.convert_to_tensor(labels)
        if labels.shape.rank == 1:
            labels = tf.one_hot(labels, tf.shape(logits)[-1])
        losses = {}
        if end_points and end_points.get('AuxLogits') is not None:
            losses['aux_loss'] = _losses.softmax_cross_entropy(
                end_points['AuxLogits'],
                labels,
                weights=aux_logits_weight,
                label_smoothing=label_smoothing,
                scope='aux_loss',
            )
        losses['softmax_cross_entropy_loss'] = _losses.softmax_cross_entropy(
            logits, labels, label_smoothing=label_smoothing
        )
        return losses

    return loss_fn


def check_resume(train_dir, variables_to_train, model=None, latest=None):
    """Checks that the run in `train_dir` (if any) can be resumed by this one.

    It must be of the same net (the checkpoint has every model variable)
    and have trained the same variables: the optimizer keeps its slots in
    the order of the variables it trains, so resuming with another set would
    give variables the slots of others.

    The checkpoint checked is `latest`, or else the newest readable one in
    `train_dir` (damaged ones are passed over here, and set aside by
    `train`).

    Raises:
      ValueError: if that checkpoint lacks variables of `model`, or records
        another list of variables to train, or no checkpoint of `train_dir`
        reads back.
    """
    latest = latest or train_dirs.newest_readable_checkpoint(
        train_dir, set_aside_damaged=False
    )
    if not latest:
        return
    reader = tf.train.load_checkpoint(latest)
    if model is not None:
        missing = [
            v.name.split(':')[0]
            for v in model.variables
            if not reader.has_tensor(
                _model.object_key('model/_vars/', v.name.split(':')[0])
            )
        ]
        if missing:
            raise ArgumentError(
                'train_dir',
                train_dir,
                'holds a checkpoint of another net: '
                '%d of the %d variables are missing (e.g. %s)'
                % (len(missing), len(model.variables), missing[0]),
                hint='use a new {train_dir}',
                mentions=('train_dir',),
            )
    key = 'variables_to_train/.ATTRIBUTES/VARIABLE_VALUE'
    if not reader.has_tensor(key):
        return
    saved = reader.get_tensor(key)
    saved = (saved.decode() if isinstance(saved, bytes) else str(saved)).split(
        '\n'
    )
    now = _names_record(variables_to_train).split('\n')
    if saved != now:
        raise ArgumentError(
            'train_dir',
            train_dir,
            ': its checkpoint %s was trained with %d variables to train (%s, '
            '...), this run trains %d (%s, ...)'
            % (latest, len(saved), saved[0], len(now), now[0]),
            hint='resume with the same {variables_to_train}, or start a new '
            '{train_dir}',
            mentions=('variables_to_train', 'train_dir'),
        )


def is_chief(strategy=None):
    """Whether this process writes checkpoints and summaries.

    True except under a multi-worker strategy, where the chief is task
    'chief', or worker 0 when the cluster has no 'chief' job.
    """
    strategy = strategy or tf.distribute.get_strategy()
    resolver = getattr(strategy, 'cluster_resolver', None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type is None or task_type == 'chief':
        return True
    if 'chief' in resolver.cluster_spec().as_dict():
        return False
    return task_type == 'worker' and task_id == 0


# --------------------------------------------------------------------------
# The step and the loop


def _make_step(
    model,
    strategy,
    optimizer,
    loss_fn,
    train_vars,
    call_kwargs,
    compute_dtype,
    averages,
):
    num_replicas = strategy.num_replicas_in_sync
    term_names = []  # filled in when traced; read by the summaries
    # Nets whose regularisation follows the training step (NASNet's drop
    # path) name `current_step`; they get the optimizer's step, read when the
    # step runs, not when it is traced.
    if 'current_step' not in call_kwargs and model.accepts_argument(
        'current_step'
    ):
        call_kwargs = dict(call_kwargs, current_step=optimizer.iterations)
    loss_scaling = isinstance(optimizer, tf.keras.optimizers.LossScaleOptimizer)

    def replica_step(images, labels, wants):
        # Checked here, not through the loss: some kernels (oneDNN's ReLU)
        # turn NaN into 0, so NaN inputs can give a finite loss.
        inputs_finite = (
            tf.reduce_all(tf.math.is_finite(images))
            if images.dtype.is_floating
            else tf.constant(True)
        )
        if compute_dtype is not None and images.dtype.is_floating:
            images = tf.cast(images, compute_dtype)
        with tf.GradientTape() as tape:
            outputs = model(images, **call_kwargs)
            terms = loss_fn(outputs, labels)
            if not isinstance(terms, dict):
                terms = {'loss': terms}
            terms = {k: tf.cast(v, tf.float32) for k, v in terms.items()}
            terms['regularization_loss'] = model.regularization_loss()
            term_names[:] = sorted(terms)
            total = tf.add_n(list(terms.values()))
            # Each replica's loss is a mean over its own examples and the
            # gradients are summed over replicas, so scale to the global mean.
            scaled = total / num_replicas
            if loss_scaling:
                scaled = optimizer.scale_loss(scaled)
        grads = tape.gradient(scaled, train_vars)
        pairs = [(g, v) for g, v in zip(grads, train_vars) if g is not None]
        if loss_scaling:  # it skips steps whose scaled gradients overflow
            grads_finite = tf.constant(True)
        else:
            grads_finite = tf.reduce_all(
                tf.stack(
                    [tf.reduce_all(tf.math.is_finite(g)) for g, _ in pairs]
                )
            )
        optimizer.apply_gradients(pairs)
        # One vector, one all-reduce: the losses, the guards and the chief's
        # wishes (save, summarize), so that all workers act at the same step.
        return tf.stack(
            [total]
            + [terms[k] for k in sorted(terms)]
            + [
                tf.cast(inputs_finite, tf.float32),
                tf.cast(grads_finite, tf.float32),
                wants[0],
                wants[1],
            ]
        )

    # Without autograph: the DSL has no tensor-dependent Python control flow,
    # and converting every layer makes the first trace several times slower
    # (ResNet-50: 25 s against 3 s). A loss_fn must not branch on tensors.
    @tf.function(autograph=False)
    def step(batch, wants):
        images, labels = batch
        per_replica = strategy.run(replica_step, args=(images, labels, wants))
        values = strategy.reduce(
            tf.distribute.ReduceOp.MEAN, per_replica, axis=None
        )
        if averages is not None:
            averages.apply(optimizer.iterations)
        return values

    def run(batch, wants):
        return step(batch, tf.constant(wants, tf.float32)).numpy()

    run.term_names = term_names
    return run


def _loop(
    strategy,
    dist_dataset,
    optimizer,
    manager,
    step_fn,
    summarize,
    number_of_steps,
    save_interval_secs,
    save_interval_steps,
    save_summaries_secs,
    save_summaries_steps,
    log_every_n_steps,
    train_dir,
    loss_upper_bound,
    chief,
):
    step = _global_step(optimizer)
    first_step = step
    history, total, path = [], float('nan'), manager.latest_checkpoint
    iterator = iter(dist_dataset)
    last_save = last_summary = time.time()
    saved_step, rate, tic, tic_step = step, 0.0, None, step
    # Summaries at the start, as TF-Slim's Supervisor, unless turned off.
    want_summary = bool(save_summaries_steps or save_summaries_secs)
    while number_of_steps is None or step < number_of_steps:
        try:
            batch = next(iterator)
        except (StopIteration, tf.errors.OutOfRangeError):
            if step == first_step:
                raise ValueError(
                    'dataset: it ended before the first step (at step %d); '
                    'nothing was trained or saved. Is it empty, or smaller '
                    'than one batch with drop_remainder?' % step
                ) from None
            logging.info('The dataset ended at step %d.', step)
            break
        now = time.time()
        want_save = (
            (step + 1) % save_interval_steps == 0
            if save_interval_steps
            else now - last_save >= save_interval_secs
        )
        want_summary = (
            want_summary
            or bool(
                save_summaries_steps and (step + 1) % save_summaries_steps == 0
            )
            or bool(
                save_summaries_secs
                and now - last_summary >= save_summaries_secs
            )
        )
        values = step_fn(batch, [float(want_save), float(want_summary)])
        step = _global_step(optimizer)
        total = float(values[0])
        problem = _diverged(
            total, values[-4] < 1.0, values[-3] < 1.0, loss_upper_bound
        )
        if problem:
            _stop(problem, step, train_dir, chief)
        history.append(total)
        if values[-1] > 0:
            summarize(batch, step, values[:-4], step_fn.term_names)
            last_summary, want_summary = time.time(), False
        if values[-2] > 0:
            path = manager.save(checkpoint_number=step)
            saved_step, last_save = step, time.time()
        if tic is None:  # the first step traces: time from the second on
            tic, tic_step = time.time(), step
        if log_every_n_steps and step % log_every_n_steps == 0:
            rate = _log_progress(
                step,
                number_of_steps,
                total,
                tic,
                tic_step,
                _global_batch(batch, strategy),
            )
    # Decided from the shared train_dir, so that all workers agree (saving
    # is collective).
    if step != saved_step or tf.train.latest_checkpoint(train_dir) is None:
        path = manager.save(checkpoint_number=step)
    path = tf.train.latest_checkpoint(train_dir) or path
    if tic is not None and step > tic_step:
        rate = (
            (step - tic_step)
            * _global_batch(batch, strategy)
            / max(time.time() - tic, 1e-9)
        )
    logging.info(
        'Trained %d steps to step %d in %s; last checkpoint %s.',
        step - first_step,
        step,
        train_dir,
        path,
    )
    return TrainResult(step, total, history, path, rate)


def _diverged(total, bad_inputs, bad_gradients, loss_upper_bound):
    """What is wrong with a step (None if nothing), and whether its loss
    condemns the weights it was computed with."""
    if bad_inputs:
        return 'the input images hold NaN or infinite values', True
    if not math.isfinite(total):
        return 'the loss is %s' % total, True
    if loss_upper_bound and total > loss_upper_bound:
        return 'the loss is %.4g, above loss_upper_bound=%g' % (
            total,
            loss_upper_bound,
        ), True
    if bad_gradients:
        return (
            'the gradients hold NaN or infinite values (the loss is '
            '%.4g)' % total
        ), False
    return None


def _stop(problem, step, train_dir, chief):
    """Sets aside the checkpoints not shown good, then raises.

    The loss of step N is computed with the weights saved as ckpt-(N-1):
    that checkpoint is shown good by a loss within bound at step N, and
    condemned by a bad one. Gradients are checked after the loss: a bad
    gradient at step N leaves ckpt-(N-1) good.
    """
    what, condemns_previous = problem
    first_bad = step - 1 if condemns_previous else step
    moved, folder = [], None
    if chief:
        moved = train_dirs.checkpoints_from(train_dir, first_bad)
        if moved:
            folder = train_dirs.set_aside(train_dir, moved, train_dirs.DIVERGED)
    good = tf.train.latest_checkpoint(train_dir)
    message = 'At step %d %s; training stopped.' % (step, what)
    if moved:
        message += (
            ' Moved %s, whose weights were not shown to give a loss '
            'within bound, to %s.'
            % (', '.join(os.path.basename(p) for p in moved), folder)
        )
    message += ' The last good checkpoint is %s%s.' % (
        good or 'none (nothing good was saved)',
        ', which a restart resumes from' if good else '',
    )
    message += ' Lower the learning rate, or check the inputs.'
    raise FloatingPointError(message)


def _log_progress(step, number_of_steps, total, tic, tic_step, batch_size):
    elapsed = time.time() - tic
    steps = step - tic_step
    rate = steps * batch_size / elapsed if steps and elapsed > 0 else 0.0
    left = ''
    if number_of_steps and steps:
        secs = (number_of_steps - step) * elapsed / steps
        left = ', %d:%02d:%02d left' % (
            secs // 3600,
            secs % 3600 // 60,
            secs % 60,
        )
    of = '/%d' % number_of_steps if number_of_steps else ''
    logging.info(
        'step %d%s: loss %.4f, %.0f images/s%s', step, of, total, rate, left
    )
    return rate


def _global_batch(batch, strategy):
    images = batch[0]
    local = strategy.experimental_local_results(images)
    per_worker = sum(int(tf.shape(x)[0]) for x in local)
    workers = max(1, strategy.num_replicas_in_sync // max(1, len(local)))
    return per_worker * workers


def _resolve_variables(model, variables_to_train):
    if variables_to_train is None:
        found = model.trainable_variables
    elif callable(variables_to_train):
        found = list(variables_to_train(model))
    else:
        found = list(variables_to_train)
    if not found:
        raise ArgumentError(
            'variables_to_train',
            found,
            'selects none of the model\'s %d variables' % len(model.variables),
        )
    return found


def _compute_dtype(name):
    if name in (None, '', 'none', 'float32', tf.float32):
        return None
    dtype = tf.as_dtype(name)
    if dtype not in (tf.bfloat16, tf.float16):
        raise ArgumentError(
            'compute_dtype', name, ': must be float32, bfloat16 or float16'
        )
    return dtype


def _names_record(variables):
    return '\n'.join(v.name.split(':')[0] for v in variables)


def _global_step(optimizer):
    # Keras wraps the (possibly mirrored) counter; read its value explicitly.
    return int(tf.convert_to_tensor(optimizer.iterations).numpy())
