"""Evaluate a checkpoint once, or follow a training run's new checkpoints.

TF-Slim's `slim.evaluation.evaluate_once` and `evaluation_loop`, in TF2:

```python
model = nets_factory.get_network_fn('lenet', num_classes=10)
values = slim.evaluation.evaluate_once(model, dataset, '/tmp/tfmodel',
                                       eval_dir='/tmp/tfmodel/eval')
# {'Accuracy': 0.98, 'Recall_5': 1.0}, also written as 'eval/Accuracy', ...
```

The variables are restored by name with `slim.assign_from_checkpoint`, so a
checkpoint of this library's `learning.train` and a TF1 (TF-Slim model zoo)
file both work; with `moving_average_decay` each variable takes its shadow
value `<name>/ExponentialMovingAverage`. The model is called with
`call_kwargs` (e.g. `{'is_training': False}`), one compiled step per batch.

With an `eval_dir`, each evaluation writes its metrics at the checkpoint's
global step (so TensorBoard plots them against training's curves) and
appends a row to `eval_dir/results.csv`: the step, the metrics, how long it
took, when, and the checkpoint, under one header line (as timm's
summary.csv).
"""

import csv
import datetime
import io
import os
import time

import tensorflow as tf
from absl import logging

from slim import metrics as _metrics
from slim import moving_averages
from slim import summaries
from slim import variables as _variables

__all__ = [
    'evaluate_once',
    'evaluation_loop',
    'checkpoint_step',
    'append_results',
    'RESULTS_FILENAME',
]

RESULTS_FILENAME = 'results.csv'


def evaluate_once(
    model,
    dataset,
    checkpoint_path,
    eval_dir=None,
    metrics=None,
    moving_average_decay=None,
    call_kwargs=None,
    num_evals=None,
):
    """Restores a checkpoint, runs the metrics over `dataset`, writes them.

    Args:
      model: a `slim.Model`, built here if it has no variables yet.
      dataset: a `tf.data.Dataset` of `(images, labels)` batches; one pass.
      checkpoint_path: a checkpoint prefix, or a directory (its latest).
      eval_dir: where to write the summaries `eval/<name>` and append the
        row of `results.csv`; None for neither.
      metrics: `{name: streaming metric}`; `metrics.classification_metrics()`
        (Accuracy, Recall_5) by default.
      moving_average_decay: evaluate with the moving-average shadow values
        (any true value; the decay itself is not needed to read them).
      call_kwargs: keyword arguments of the model calls.
      num_evals: evaluate at most this many batches.

    Returns:
      `{name: float}`, plus 'global_step' (the checkpoint's step, or -1),
      'checkpoint_path' (the checkpoint read) and 'eval_seconds'.

    Raises:
      ValueError: if there is no checkpoint or it does not fit the model.
    """
    call_kwargs = dict(call_kwargs or {})
    metrics = (
        metrics if metrics is not None else _metrics.classification_metrics()
    )
    path = _variables.resolve_checkpoint(checkpoint_path)
    if not model.built:
        spec = dataset.element_spec[0]
        model.build(
            tf.TensorSpec([None] + spec.shape.as_list()[1:], spec.dtype),
            **call_kwargs,
        )
    if moving_average_decay:
        averaged = _variables.get_model_variables(model)
        names = {moving_averages.average_name(v): v for v in averaged}
        # Variables without a shadow (none, with TF-Slim's choice) load as is.
        ids = {id(v) for v in averaged}
        names.update(
            {
                v.name.split(':')[0]: v
                for v in model.variables
                if id(v) not in ids
            }
        )
        _variables.assign_from_checkpoint(names, path)
    else:
        _variables.assign_from_checkpoint(
            _variables.get_variables_to_restore(model), path
        )
    step = checkpoint_step(path)

    # The last batch is usually smaller: one trace for every batch size.
    # Without autograph: the DSL has no tensor-dependent Python control flow,
    # and converting every layer makes the first trace several times slower.
    @tf.function(reduce_retracing=True, autograph=False)
    def eval_step(images, labels):
        outputs = model(images, **call_kwargs)
        logits = outputs[0] if isinstance(outputs, (tuple, list)) else outputs
        for metric in metrics.values():
            metric.update(labels, logits)

    for metric in metrics.values():
        metric.reset()
    start = time.time()
    for i, (images, labels) in enumerate(dataset):
        if num_evals is not None and i >= num_evals:
            break
        eval_step(images, labels)
    values = {name: float(m.result()) for name, m in metrics.items()}
    seconds = time.time() - start
    # Debug only: the caller reports the returned values (the eval driver
    # prints them), so that a user sees each result once.
    logging.debug(
        'Evaluated %s (step %d) in %.1fs: %s',
        path,
        step,
        seconds,
        ', '.join('%s = %.4f' % kv for kv in sorted(values.items())),
    )
    if eval_dir:
        writer = tf.summary.create_file_writer(eval_dir)
        with writer.as_default(step=max(step, 0)):
            for name, value in values.items():
                summaries.scalar('eval/' + name, value)
        writer.close()
    values['global_step'] = step
    values['checkpoint_path'] = path
    values['eval_seconds'] = seconds
    if eval_dir:
        append_results(eval_dir, values)
    return values


def evaluation_loop(
    model,
    dataset,
    checkpoint_dir,
    eval_dir=None,
    eval_interval_secs=60,
    timeout=None,
    max_number_of_evaluations=None,
    on_result=None,
    **kwargs,
):
    """Evaluates each new checkpoint in `checkpoint_dir` as it appears.

    Waits at least `eval_interval_secs` between evaluations, and stops when
    no new checkpoint arrives within `timeout` seconds (None: never) or after
    `max_number_of_evaluations`. `on_result(result)`, if given, is called
    after each evaluation (to report it while the loop goes on). Other keyword
    arguments go to `evaluate_once`.

    Returns:
      The list of `evaluate_once` results, in order.
    """
    results = []
    for path in tf.train.checkpoints_iterator(
        checkpoint_dir, min_interval_secs=eval_interval_secs, timeout=timeout
    ):
        try:
            results.append(
                evaluate_once(model, dataset, path, eval_dir, **kwargs)
            )
            if on_result is not None:
                on_result(results[-1])
        except (ValueError, tf.errors.NotFoundError) as e:
            # max_to_keep may delete a checkpoint before it is read.
            logging.warning('Skipping %s: %s', path, str(e).splitlines()[0])
        if (
            max_number_of_evaluations
            and len(results) >= max_number_of_evaluations
        ):
            break
    else:
        logging.info(
            'No new checkpoint in %s for %ss; stopping.',
            checkpoint_dir,
            timeout,
        )
    return results


def append_results(eval_dir, result):
    """Appends an `evaluate_once` result as a row of `eval_dir/results.csv`.

    Columns: global_step, the metrics (sorted by name), eval_seconds,
    wall_time (UTC, ISO 8601) and checkpoint_path; the header is written
    when the file is new. Should the metrics differ from the file's header
    (another metric set evaluated into the same folder), the row goes to
    `results_2.csv` (or the next free number) instead, and a warning says so.

    Returns:
      The path of the file written.
    """
    reserved = ('global_step', 'eval_seconds', 'checkpoint_path')
    names = sorted(k for k in result if k not in reserved)
    header = (
        ['global_step']
        + names
        + ['eval_seconds', 'wall_time', 'checkpoint_path']
    )
    row = dict(
        result,
        wall_time=datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec='seconds'
        ),
    )
    row['eval_seconds'] = '%.3f' % result.get('eval_seconds', float('nan'))
    tf.io.gfile.makedirs(eval_dir)
    stem, ext = os.path.splitext(RESULTS_FILENAME)
    number = 1
    while True:
        path = os.path.join(
            eval_dir,
            RESULTS_FILENAME
            if number == 1
            else '%s_%d%s' % (stem, number, ext),
        )
        existing = _csv_header(path)
        if existing is None or existing == header:
            break
        number += 1
    if number > 1:
        logging.warning(
            '%s has other columns (%s); this result goes to %s',
            os.path.join(eval_dir, RESULTS_FILENAME),
            ', '.join(_csv_header(os.path.join(eval_dir, RESULTS_FILENAME))),
            path,
        )
    text = io.StringIO()
    writer = csv.DictWriter(
        text, header, extrasaction='ignore', lineterminator='\n'
    )
    if existing is None:
        writer.writeheader()
    writer.writerow(row)
    # One write per row: a reader never sees half of one.
    with open(path, 'a', encoding='utf-8', newline='') as f:
        f.write(text.getvalue())
    return path


def _csv_header(path):
    """The header of a CSV file; None if it does not exist or is empty."""
    try:
        with open(path, encoding='utf-8', newline='') as f:
            first = next(csv.reader(f), None)
    except FileNotFoundError:
        return None
    return first or None


def checkpoint_step(path):
    """The global step saved in a checkpoint (-1 if it has none)."""
    reader = tf.train.load_checkpoint(path)
    for key in ('global_step/.ATTRIBUTES/VARIABLE_VALUE', 'global_step'):
        if reader.has_tensor(key):
            return int(reader.get_tensor(key))
    return -1
