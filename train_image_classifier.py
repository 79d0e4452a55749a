"""Trains a net of the zoo on a dataset: flags -> factories -> slim.learning.

With no flags it trains LeNet on the embedded digits dataset into
/tmp/tfmodel/ in a minute or two on a laptop CPU:

    python train_image_classifier.py
    python eval_image_classifier.py

Every flag of TF-Slim's research/slim/train_image_classifier.py is accepted
with its name and default, except `model_name` and `dataset_name` (lenet and
digits here; TF-Slim's were inception_v3 and imagenet) and an unset
`max_number_of_steps` on digits (a short run; elsewhere no limit, as
TF-Slim). Added: --mixed_precision, --save_interval_steps,
--save_summaries_steps, --seed, --verbosity. The resolved flags are saved as
flags.json in --train_dir.

Devices: --num_clones=N trains on N GPUs (N logical CPUs with --clone_on_cpu)
with MirroredStrategy, --batch_size per clone; a TF_CONFIG naming several
tasks selects MultiWorkerMirroredStrategy. A run whose --train_dir holds a
checkpoint resumes from it (and ignores --checkpoint_path).
"""

import contextlib
import functools
import json
import os
import sys

# First: it sets TensorFlow's environment before TensorFlow is imported.
import driver_utils as cli

from absl import flags
from absl import logging

from nets import nets_factory
from slim.errors import ArgumentError

FLAGS = flags.FlagValues()
_string, _integer, _float, _bool = cli.flag_definers(FLAGS)

# Steps of a run on the embedded digits dataset without --max_number_of_steps.
DIGITS_DEFAULT_STEPS = 500
MIXED_PRECISION = ('none', 'bfloat16', 'float16')

_string(
    'master',
    '',
    'TF1 only: the TensorFlow master. Ignored (with a '
    'warning); a multi-worker cluster is described by TF_CONFIG.',
)
_string(
    'train_dir',
    '/tmp/tfmodel/',
    'Directory where checkpoints and event logs are written to.',
)
_integer(
    'num_clones',
    1,
    'Number of model clones (replicas) on this machine: '
    'GPUs, or logical CPUs with --clone_on_cpu. --batch_size is per clone.',
)
_bool('clone_on_cpu', False, 'Use CPUs to deploy clones.')
_integer(
    'worker_replicas',
    1,
    'Number of worker replicas. Workers come from '
    'TF_CONFIG; if given, this must match its number of tasks.',
)
_integer(
    'num_ps_tasks',
    0,
    'TF1 parameter servers. Not used: variables are '
    'mirrored on every replica and updated by all-reduce, which needs no '
    'parameter server; a value > 0 only logs a warning.',
)
_integer(
    'num_readers',
    4,
    'The number of parallel readers that read data from the dataset.',
)
_integer(
    'num_preprocessing_threads',
    4,
    'The number of threads used to create the batches.',
)
_integer(
    'log_every_n_steps',
    10,
    'How often to log step, loss, images/s and time left.',
)
_integer(
    'save_summaries_secs',
    600,
    'The frequency with which summaries are saved, in seconds (0: by '
    '--save_summaries_steps only).',
)
# A summary (losses, learning rate, images, histograms of the variables and
# of 8 examples' end points) cost LeNet 0.037 s of CPU, about half a training
# step, and 22 kB of event file: every 50 steps, 1% of the run's time and 11
# points on the default run's curves. Inception-v3 (299x299): ~2 s of CPU,
# about a third of a step at batch 8, and 1.2 MB, mostly its three images.
_integer(
    'save_summaries_steps',
    50,
    'Also save summaries every this many '
    'steps (0: by --save_summaries_secs only), so that a short run draws '
    'curves in TensorBoard. Each costs half a training step or less.',
)
_integer(
    'save_interval_secs',
    600,
    'The frequency with which the model is saved, in seconds.',
)
_integer(
    'save_interval_steps',
    None,
    'Save every this many steps instead of every --save_interval_secs.',
)
_integer(
    'task',
    0,
    'Task id of the replica running the training; TF_CONFIG\'s '
    'task wins when it is set.',
)
_float('weight_decay', 0.00004, 'The weight decay on the model weights.')
_string(
    'optimizer',
    'rmsprop',
    'The name of the optimizer, one of "adadelta", '
    '"adagrad", "adam", "ftrl", "momentum", "sgd" or "rmsprop".',
)
_float('adadelta_rho', 0.95, 'The decay rate for adadelta.')
_float(
    'adagrad_initial_accumulator_value',
    0.1,
    'Starting value for the AdaGrad accumulators.',
)
_float(
    'adam_beta1',
    0.9,
    'The exponential decay rate for the 1st moment estimates.',
)
_float(
    'adam_beta2',
    0.999,
    'The exponential decay rate for the 2nd moment estimates.',
)
_float('opt_epsilon', 1.0, 'Epsilon term for the optimizer.')
_float('ftrl_learning_rate_power', -0.5, 'The learning rate power.')
_float(
    'ftrl_initial_accumulator_value',
    0.1,
    'Starting value for the FTRL accumulators.',
)
_float('ftrl_l1', 0.0, 'The FTRL l1 regularization strength.')
_float('ftrl_l2', 0.0, 'The FTRL l2 regularization strength.')
_float('momentum', 0.9, 'The momentum for the MomentumOptimizer.')
_float('rmsprop_momentum', 0.9, 'Momentum.')
_float('rmsprop_decay', 0.9, 'Decay term for RMSProp.')
_integer(
    'quantize_delay',
    -1,
    'TF1 contrib.quantize: not supported; only -1 (off) is accepted.',
)
_string(
    'learning_rate_decay_type',
    'exponential',
    'Specifies how the learning '
    'rate is decayed. One of "fixed", "exponential", or "polynomial".',
)
_float('learning_rate', 0.01, 'Initial learning rate.')
_float(
    'end_learning_rate',
    0.0001,
    'The minimal end learning rate used by a polynomial decay learning rate.',
)
_float('label_smoothing', 0.0, 'The amount of label smoothing.')
_float('learning_rate_decay_factor', 0.94, 'Learning rate decay factor.')
_float(
    'num_epochs_per_decay',
    2.0,
    'Number of epochs after which the learning '
    'rate decays, counted in epochs of the global batch (batch_size x '
    'clones x workers); TF-Slim counted per clone.',
)
_bool(
    'sync_replicas',
    False,
    'TF1 SyncReplicasOptimizer. Training is always '
    'synchronous here (all-reduce over all replicas every step), so this has '
    'no effect.',
)
_integer(
    'replicas_to_aggregate',
    1,
    'TF1 SyncReplicasOptimizer: gradients to '
    'collect per update. All replicas are always aggregated; other values '
    'log a warning.',
)
_float(
    'moving_average_decay',
    None,
    'The decay to use for the moving average. '
    'If left as None, then moving averages are not used.',
)
_string(
    'dataset_name',
    'digits',
    'The name of the dataset to load. TF-Slim\'s '
    'default was imagenet; here it is the embedded digits dataset.',
)
_string('dataset_split_name', 'train', 'The name of the train/test split.')
_string(
    'dataset_dir',
    None,
    'The directory where the dataset files are '
    'stored; for digits, None means its cache folder (built on first use).',
)
_integer(
    'labels_offset',
    0,
    'An offset for the labels in the dataset. This '
    'flag is primarily used to evaluate the VGG and ResNet architectures '
    'which do not use a background class for the ImageNet dataset.',
)
_string(
    'model_name',
    'lenet',
    'The name of the architecture to train, one '
    'of: %s. TF-Slim\'s default was inception_v3; here lenet.'
    % ', '.join(nets_factory.list_networks()),
)
_string(
    'preprocessing_name',
    None,
    'The name of the preprocessing to use. If '
    'left as `None`, then the model_name flag is used.',
)
_integer('batch_size', 32, 'The number of samples in each batch, per clone.')
_integer('train_image_size', None, 'Train image size')
_integer(
    'max_number_of_steps',
    None,
    'The maximum number of training steps. '
    'None: %d on the digits dataset, no limit otherwise (TF-Slim).'
    % DIGITS_DEFAULT_STEPS,
)
_bool('use_grayscale', False, 'Whether to convert input images to grayscale.')
_string(
    'checkpoint_path',
    None,
    'The path to a checkpoint from which to '
    'fine-tune: a TF-Slim (TF1) file or one of ours; only model variables '
    'are restored. Ignored when --train_dir holds a checkpoint.',
)
_string(
    'checkpoint_exclude_scopes',
    None,
    'Comma-separated list of scopes of '
    'variables to exclude when restoring from a checkpoint.',
)
_string(
    'trainable_scopes',
    None,
    'Comma-separated list of scopes to filter '
    'the set of variables to train. By default, None would train all the '
    'variables.',
)
_bool(
    'ignore_missing_vars',
    False,
    'When restoring a checkpoint would ignore missing variables.',
)
_string(
    'mixed_precision',
    'none',
    'Compute dtype: none (float32), bfloat16 or '
    'float16 (with dynamic loss scaling). Variables stay float32.',
)
_integer(
    'seed',
    None,
    'Seed of the weights\' initialization and of the input '
    'shuffling, for repeatable runs.',
)
cli.define_verbosity(FLAGS)
_float(
    'loss_upper_bound',
    1e6,
    'Stop when a step\'s total loss exceeds this '
    '(0: no bound), as a NaN or infinite loss does; the checkpoints whose '
    'weights were not shown to give a loss within bound are moved into '
    '<train_dir>/diverged/, so a restart resumes from a good one.',
)
_bool(
    'skip_corrupt_images',
    False,
    'Skip records whose image cannot be '
    'decoded (counted and logged) instead of stopping with an error that '
    'names the shard.',
)

FLAG_NAMES = sorted(FLAGS)


def main():
    """Validates the flags, then trains; see the module docstring."""
    from slim import training_utils

    _check_flags()
    cli.check_model_name(FLAGS.model_name)
    if FLAGS.clone_on_cpu and FLAGS.num_clones > 1:
        try:
            training_utils.configure_cpu_devices(FLAGS.num_clones)  # TF idle
        except ArgumentError as e:
            raise cli.flag_error(e) from None
    _check_cluster(training_utils)
    dataset = cli.get_dataset(
        FLAGS.dataset_name, FLAGS.dataset_split_name, FLAGS.dataset_dir
    )
    model = cli.get_network(
        FLAGS.model_name,
        dataset.num_classes - FLAGS.labels_offset,
        FLAGS.weight_decay,
        is_training=True,
    )
    preprocess = cli.get_preprocessing(
        FLAGS.preprocessing_name or FLAGS.model_name, True, FLAGS.use_grayscale
    )
    import tensorflow as tf
    from slim import learning, train_dirs

    try:
        # A multi-worker strategy starts TensorFlow's devices (it must come
        # first); start them here otherwise. Both print start-up notes.
        with cli.start_up_output_filtered():
            strategy = training_utils.make_strategy(
                FLAGS.num_clones, FLAGS.clone_on_cpu
            )
    except ArgumentError as e:
        raise cli.flag_error(e) from None
    cli.start_devices()
    with contextlib.ExitStack() as stack:
        # Only the chief writes train_dir; it holds the lock from here on, so
        # a second run on the same folder is refused before it writes.
        if learning.is_chief(strategy):
            try:
                stack.enter_context(train_dirs.lock(FLAGS.train_dir))
            except train_dirs.TrainDirBusyError as e:
                raise cli.flag_error(e) from None
            except OSError as e:
                raise cli.FlagError(
                    '--train_dir=%r cannot be written: %s'
                    % (FLAGS.train_dir, e.strerror or e)
                ) from None
        _train(tf, strategy, dataset, model, preprocess)


def _train(tf, strategy, dataset, model, preprocess):
    """Trains with the flags, holding train_dir's lock."""
    from slim import input_pipelines, learning, training_utils

    preprocessing_name = FLAGS.preprocessing_name or FLAGS.model_name
    exclude = training_utils.split_scopes(FLAGS.checkpoint_exclude_scopes)
    trainable = training_utils.split_scopes(FLAGS.trainable_scopes)
    steps = FLAGS.max_number_of_steps
    if steps is None and FLAGS.dataset_name == 'digits':
        steps = DIGITS_DEFAULT_STEPS

    if FLAGS.seed is not None:
        tf.keras.utils.set_random_seed(FLAGS.seed)
    image_size = FLAGS.train_image_size or model.default_image_size
    input_fn = input_pipelines.train_input_fn(
        dataset,
        preprocess,
        image_size,
        FLAGS.batch_size,
        FLAGS.labels_offset,
        FLAGS.num_readers,
        FLAGS.num_preprocessing_threads,
        FLAGS.seed,
        skip_corrupt_images=FLAGS.skip_corrupt_images,
    )
    compute_dtype = (
        None if FLAGS.mixed_precision == 'none' else FLAGS.mixed_precision
    )
    call_kwargs = {'is_training': True}
    _build(
        tf,
        training_utils,
        strategy,
        model,
        input_fn,
        image_size,
        compute_dtype,
        call_kwargs,
    )
    try:
        variables_to_train = training_utils.variables_to_train(model, trainable)
        learning.check_resume(FLAGS.train_dir, variables_to_train, model)
    except ArgumentError as e:
        raise cli.flag_error(e) from None
    for flag, scopes in (
        ('trainable_scopes', trainable),
        ('checkpoint_exclude_scopes', exclude),
    ):
        for scope in training_utils.unmatched_scopes(model, scopes):
            logging.warning(
                '--%s: %r matches no variable of %s (names start '
                'like %r); check for a typo',
                flag,
                scope,
                FLAGS.model_name,
                model.variables[0].name[:-2],
            )
    init_fn = _fine_tuning(training_utils, model, exclude)

    global_batch = FLAGS.batch_size * strategy.num_replicas_in_sync
    decay_steps = training_utils.decay_steps(
        dataset.num_samples, global_batch, FLAGS.num_epochs_per_decay
    )
    learning_rate = training_utils.learning_rate_schedule(
        FLAGS.learning_rate_decay_type,
        FLAGS.learning_rate,
        decay_steps,
        FLAGS.learning_rate_decay_factor,
        FLAGS.end_learning_rate,
    )
    optimizer = functools.partial(
        training_utils.make_optimizer,
        FLAGS.optimizer,
        learning_rate,
        **{name: FLAGS[name].value for name in _OPTIMIZER_FLAGS},
    )
    resolved = {
        'max_number_of_steps': steps,
        'preprocessing_name': preprocessing_name,
        'train_image_size': image_size,
        'num_classes': dataset.num_classes - FLAGS.labels_offset,
        'num_replicas': strategy.num_replicas_in_sync,
        'global_batch_size': global_batch,
        'decay_steps': decay_steps,
        'strategy': _strategy_name(strategy),
    }
    if learning.is_chief(strategy):
        try:
            _save_flags(FLAGS.train_dir, resolved)
        except OSError as e:
            raise cli.FlagError(
                '--train_dir=%r cannot be written: %s'
                % (FLAGS.train_dir, e.strerror or e)
            ) from None
    logging.info(
        'Training %s on %s/%s (%d examples) with %s, %d replica(s), '
        'global batch %d, to step %s in %s',
        FLAGS.model_name,
        FLAGS.dataset_name,
        FLAGS.dataset_split_name,
        dataset.num_samples,
        _strategy_name(strategy),
        strategy.num_replicas_in_sync,
        global_batch,
        steps,
        FLAGS.train_dir,
    )
    try:
        _run_training(
            tf,
            learning,
            dataset,
            model,
            input_fn,
            optimizer,
            steps,
            strategy,
            call_kwargs,
            variables_to_train,
            init_fn,
            compute_dtype,
        )
    finally:
        if FLAGS.skip_corrupt_images:
            logging.info(
                'Skipped %d undecodable images of %s/%s.',
                dataset.num_skipped_images,
                FLAGS.dataset_name,
                FLAGS.dataset_split_name,
            )


def _run_training(
    tf,
    learning,
    dataset,
    model,
    input_fn,
    optimizer,
    steps,
    strategy,
    call_kwargs,
    variables_to_train,
    init_fn,
    compute_dtype,
):
    """`learning.train` with the flags; failures during work as one line."""
    try:
        learning.train(
            model,
            input_fn,
            optimizer,
            FLAGS.train_dir,
            loss_fn=learning.classification_loss(FLAGS.label_smoothing),
            number_of_steps=steps,
            strategy=strategy,
            call_kwargs=call_kwargs,
            variables_to_train=variables_to_train,
            init_fn=init_fn,
            moving_average_decay=FLAGS.moving_average_decay,
            compute_dtype=compute_dtype,
            save_interval_secs=FLAGS.save_interval_secs,
            save_interval_steps=FLAGS.save_interval_steps,
            save_summaries_secs=FLAGS.save_summaries_secs,
            save_summaries_steps=FLAGS.save_summaries_steps,
            log_every_n_steps=FLAGS.log_every_n_steps,
            loss_upper_bound=FLAGS.loss_upper_bound or None,
        )
    except tf.errors.DataLossError as e:
        raise cli.describe_data_loss(dataset, e) from None
    except tf.errors.ResourceExhaustedError as e:
        raise cli.WorkError(
            'out of memory at --batch_size=%d (%s); lower --batch_size'
            % (FLAGS.batch_size, str(e).strip().splitlines()[0][:200])
        ) from None
    except tf.errors.InvalidArgumentError as e:
        undecodable = cli.describe_undecodable(e)
        if undecodable is None:
            raise
        raise undecodable from None
    except ValueError as e:
        # Found during work: a dataset that ends at once, a train_dir whose
        # checkpoints are all damaged.
        raise cli.WorkError(str(e).splitlines()[0]) from None


_OPTIMIZER_FLAGS = (
    'adadelta_rho',
    'adagrad_initial_accumulator_value',
    'adam_beta1',
    'adam_beta2',
    'opt_epsilon',
    'ftrl_learning_rate_power',
    'ftrl_initial_accumulator_value',
    'ftrl_l1',
    'ftrl_l2',
    'momentum',
    'rmsprop_momentum',
    'rmsprop_decay',
)


def _check_flags():
    """The checks that need no TensorFlow work; each failure is one line."""
    from slim import training_utils, variables

    try:
        training_utils.check_optimizer(FLAGS.optimizer)
    except ArgumentError as e:
        raise cli.flag_error(e, name='optimizer') from None
    try:
        training_utils.check_decay_type(FLAGS.learning_rate_decay_type)
        if FLAGS.checkpoint_path:
            variables.resolve_checkpoint(FLAGS.checkpoint_path)
    except ArgumentError as e:
        raise cli.flag_error(e) from None
    if FLAGS.mixed_precision not in MIXED_PRECISION:
        raise cli.FlagError(
            '--mixed_precision=%r is not known; allowed: %s'
            % (FLAGS.mixed_precision, ', '.join(MIXED_PRECISION))
        )
    cli.require_positive(
        FLAGS,
        'batch_size',
        'num_clones',
        'num_readers',
        'num_preprocessing_threads',
        'worker_replicas',
    )
    # A rate of 0 is TF-Slim's way to re-estimate batch-norm statistics
    # without moving the weights.
    cli.require_non_negative(
        FLAGS,
        'learning_rate',
        'weight_decay',
        'labels_offset',
        'loss_upper_bound',
        'save_summaries_secs',
        'save_summaries_steps',
    )
    cli.require_directory_or_absent(FLAGS, 'train_dir', 'dataset_dir')
    cli.require_positive(
        FLAGS, 'train_image_size', 'save_interval_steps', allow_none=True
    )
    if FLAGS.max_number_of_steps is not None and FLAGS.max_number_of_steps < 0:
        raise cli.FlagError(
            '--max_number_of_steps=%d: must be >= 0' % FLAGS.max_number_of_steps
        )
    if not 0.0 <= FLAGS.label_smoothing <= 1.0:
        raise cli.FlagError(
            '--label_smoothing=%r: must be in [0, 1]' % FLAGS.label_smoothing
        )
    if (
        FLAGS.moving_average_decay is not None
        and not 0.0 < FLAGS.moving_average_decay < 1.0
    ):
        raise cli.FlagError(
            '--moving_average_decay=%r: must be in (0, 1)'
            % FLAGS.moving_average_decay
        )
    if FLAGS.quantize_delay >= 0:
        raise cli.FlagError(
            '--quantize_delay=%d: quantized training (TF1 '
            'contrib.quantize) is not supported; allowed: -1'
            % FLAGS.quantize_delay
        )
    if FLAGS.master:
        logging.warning(
            '--master=%r is ignored: describe a cluster with TF_CONFIG',
            FLAGS.master,
        )
    if FLAGS.num_ps_tasks > 0:
        logging.warning(
            '--num_ps_tasks=%d is ignored: there are no parameter '
            'servers; variables are mirrored and updated by '
            'all-reduce',
            FLAGS.num_ps_tasks,
        )
    if FLAGS.sync_replicas:
        logging.info('--sync_replicas: training is synchronous anyway')


def _build(
    tf,
    training_utils,
    strategy,
    model,
    input_fn,
    image_size,
    compute_dtype,
    call_kwargs,
):
    """Builds the model; an input too small or a batch too large for this
    machine's memory is a flag error, before any work."""
    with strategy.scope():
        spec = input_fn(tf.distribute.InputContext()).element_spec[0]
        try:
            per_example = training_utils.build_and_measure(
                model,
                tf.TensorSpec(
                    [None] + spec.shape.as_list()[1:],
                    compute_dtype or tf.float32,
                ),
                **call_kwargs,
            )
        except ValueError as e:
            smallest = getattr(model, 'min_image_size', None)
            why = str(e).strip().splitlines()[0][:160]
            if smallest and image_size < smallest:
                raise cli.FlagError(
                    '--train_image_size=%d is too small for %s: the smallest '
                    'size it takes is %d (%s)'
                    % (image_size, FLAGS.model_name, smallest, why)
                ) from None
            # Too large for a net whose head needs one size (AlexNet's
            # squeezed logits), or no smallest size is known.
            raise cli.FlagError(
                '--train_image_size=%d does not fit %s (default %d): %s'
                % (image_size, FLAGS.model_name, model.default_image_size, why)
            ) from None
    # Clones on this machine share its memory.
    local = FLAGS.num_clones if FLAGS.clone_on_cpu else 1
    needed = per_example * FLAGS.batch_size * local
    available = training_utils.available_memory()
    if available and needed > available:
        raise cli.FlagError(
            '--batch_size=%d needs about %s for one training step of %s at '
            '%dx%d (%s an example), more than the %s of memory available; '
            'lower --batch_size'
            % (
                FLAGS.batch_size,
                _gib(needed),
                FLAGS.model_name,
                image_size,
                image_size,
                _gib(per_example),
                _gib(available),
            )
        )


def _gib(n):
    return (
        '{:,.1f} GiB'.format(n / 2.0**30)
        if n >= 2**30
        else '{:,.1f} MiB'.format(n / 2.0**20)
    )


def _check_cluster(training_utils):
    try:
        workers = training_utils.num_workers()
    except ArgumentError as e:
        raise cli.flag_error(e) from None
    if FLAGS.worker_replicas > 1 and workers == 1:
        raise cli.FlagError(
            '--worker_replicas=%d needs a TF_CONFIG describing '
            'the cluster (none is set)' % FLAGS.worker_replicas
        )
    if FLAGS.worker_replicas > 1 and FLAGS.worker_replicas != workers:
        raise cli.FlagError(
            '--worker_replicas=%d but TF_CONFIG names %d tasks'
            % (FLAGS.worker_replicas, workers)
        )
    if FLAGS.task != 0:
        task = json.loads(os.environ.get('TF_CONFIG') or '{}').get('task', {})
        if task.get('index', FLAGS.task) != FLAGS.task or workers == 1:
            logging.warning(
                '--task=%d is ignored: the task comes from TF_CONFIG (%s)',
                FLAGS.task,
                task or 'not set',
            )
    if FLAGS.replicas_to_aggregate not in (1, workers * FLAGS.num_clones):
        logging.warning(
            '--replicas_to_aggregate=%d is ignored: every step '
            'aggregates the gradients of all replicas',
            FLAGS.replicas_to_aggregate,
        )


def _fine_tuning(training_utils, model, exclude):
    """The init_fn for --checkpoint_path, checked now (before any step)."""
    import tensorflow as tf

    if not FLAGS.checkpoint_path:
        return None
    if tf.train.latest_checkpoint(FLAGS.train_dir):
        logging.info(
            'Ignoring --checkpoint_path because a checkpoint already '
            'exists in %s',
            FLAGS.train_dir,
        )
        return None
    try:
        training_utils.check_checkpoint_fits(
            training_utils.variables_to_restore(model, exclude),
            FLAGS.checkpoint_path,
            FLAGS.ignore_missing_vars,
        )
    except ArgumentError as e:
        raise cli.flag_error(e) from None
    return training_utils.make_init_fn(
        FLAGS.checkpoint_path, exclude, FLAGS.ignore_missing_vars
    )


def _strategy_name(strategy):
    import tensorflow as tf

    # tf.distribute.MultiWorkerMirroredStrategy's class is named
    # CollectiveAllReduceStrategy: report the public names.
    for kind, name in (
        (
            tf.distribute.MultiWorkerMirroredStrategy,
            'MultiWorkerMirroredStrategy',
        ),
        (tf.distribute.MirroredStrategy, 'MirroredStrategy'),
        (tf.distribute.OneDeviceStrategy, 'OneDeviceStrategy'),
    ):
        if isinstance(strategy, kind):
            return name
    return 'default (one device)'


def _save_flags(train_dir, resolved):
    os.makedirs(train_dir, exist_ok=True)
    record = {
        'flags': cli.flag_values_dict(FLAGS, FLAG_NAMES),
        'resolved': resolved,
        'argv': _ARGV,
    }
    tmp = os.path.join(train_dir, '.flags.json.tmp')
    try:
        with open(tmp, 'w', encoding='utf-8') as f:
            json.dump(record, f, indent=2, sort_keys=True)
        os.replace(tmp, os.path.join(train_dir, 'flags.json'))
    except OSError:
        if os.path.exists(tmp):  # a full disk leaves it empty or partial
            os.remove(tmp)
        raise


_ARGV = []


def run(argv=None):
    """Runs the driver on `argv` (sys.argv by default); returns the exit code."""
    _ARGV[:] = list(sys.argv if argv is None else argv)
    return cli.run(main, FLAGS, _ARGV, __doc__)


if __name__ == '__main__':
    sys.exit(run())
