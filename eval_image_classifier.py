"""Evaluates a trained net: flags -> factories -> slim.evaluation.

With no flags it evaluates the latest checkpoint in /tmp/tfmodel/ (where
`python train_image_classifier.py` trains LeNet on digits) on the digits
validation split and prints accuracy and recall@5.

Every flag of TF-Slim's research/slim/eval_image_classifier.py is accepted
with its name and default, except `model_name` and `dataset_name` (lenet and
digits; TF-Slim's were inception_v3 and imagenet) and `dataset_split_name`,
which by default is the dataset's 'test' split, or 'validation' when it has
none (TF-Slim: 'test'); it says which it took. Added: --eval_interval_secs
to follow a training run, evaluating each new checkpoint, --eval_timeout to
stop when none arrives, and --verbosity.

Each evaluation prints one line of results, writes its metrics as
TensorBoard summaries at the checkpoint's step into --eval_dir, and appends a
row to --eval_dir/results.csv (step, metrics, seconds, time, checkpoint).
"""

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

_integer('batch_size', 100, 'The number of samples in each batch.')
_integer(
    'max_num_batches',
    None,
    'Max number of batches to evaluate by default use all.',
)
_string(
    'master', '', 'TF1 only: the TensorFlow master. Ignored (with a warning).'
)
_string(
    'checkpoint_path',
    '/tmp/tfmodel/',
    'The directory where the model '
    'was written to or an absolute path to a checkpoint file.',
)
_string(
    'eval_dir', '/tmp/tfmodel/', 'Directory where the results are saved to.'
)
_integer(
    'num_preprocessing_threads',
    4,
    'The number of threads used to create the batches.',
)
_string(
    'dataset_name',
    'digits',
    'The name of the dataset to load. TF-Slim\'s '
    'default was imagenet; here it is the embedded digits dataset.',
)
_string(
    'dataset_split_name',
    None,
    'The name of the train/test split. None: '
    'the dataset\'s evaluation split, "test" if it has one, else '
    '"validation" (TF-Slim: "test").',
)
_string(
    'dataset_dir',
    None,
    'The directory where the dataset files are '
    'stored; for digits, None means its cache folder.',
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
    'The name of the architecture to evaluate, '
    'one of: %s. TF-Slim\'s default was inception_v3; here lenet.'
    % ', '.join(nets_factory.list_networks()),
)
_string(
    'preprocessing_name',
    None,
    'The name of the preprocessing to use. If '
    'left as `None`, then the model_name flag is used.',
)
_float(
    'moving_average_decay',
    None,
    'The decay to use for the moving average. '
    'If left as None, then moving averages are not used.',
)
_integer('eval_image_size', None, 'Eval image size')
_bool(
    'quantize',
    False,
    'TF1 contrib.quantize: not supported; only false is accepted.',
)
_bool('use_grayscale', False, 'Whether to convert input images to grayscale.')
_float(
    'eval_interval_secs',
    None,
    'Follow --checkpoint_path (a directory): '
    'evaluate each new checkpoint, at most once per this many seconds. '
    'None: evaluate the latest checkpoint once.',
)
_float(
    'eval_timeout',
    None,
    'With --eval_interval_secs: stop after this many '
    'seconds without a new checkpoint. None: wait forever.',
)
_bool(
    'skip_corrupt_images',
    False,
    'Skip records whose image cannot be '
    'decoded (counted and logged) instead of stopping with an error that '
    'names the shard.',
)
cli.define_verbosity(FLAGS)


def main():
    """Validates the flags, then evaluates; see the module docstring."""
    import tensorflow as tf
    from slim import evaluation, input_pipelines

    cli.check_model_name(FLAGS.model_name)
    cli.start_devices()
    cli.require_positive(FLAGS, 'batch_size', 'num_preprocessing_threads')
    cli.require_positive(
        FLAGS,
        'max_num_batches',
        'eval_image_size',
        'eval_timeout',
        allow_none=True,
    )
    if FLAGS.eval_interval_secs is not None and FLAGS.eval_interval_secs < 0:
        raise cli.FlagError(
            '--eval_interval_secs=%r: must be >= 0' % FLAGS.eval_interval_secs
        )
    cli.require_non_negative(FLAGS, 'labels_offset')
    cli.require_directory_or_absent(FLAGS, 'dataset_dir', 'eval_dir')
    if FLAGS.quantize:
        raise cli.FlagError(
            '--quantize=true: quantized evaluation (TF1 '
            'contrib.quantize) is not supported; allowed: false'
        )
    if FLAGS.master:
        logging.warning('--master=%r is ignored', FLAGS.master)
    follow = FLAGS.eval_interval_secs is not None
    path = FLAGS.checkpoint_path
    if follow and not tf.io.gfile.isdir(path):
        raise cli.FlagError(
            '--checkpoint_path=%r: --eval_interval_secs needs '
            'the directory of a training run' % path
        )
    if not follow:
        if tf.io.gfile.isdir(path):
            path = tf.train.latest_checkpoint(path)
            if path is None:
                raise cli.FlagError(
                    '--checkpoint_path=%r holds no checkpoint; train first, or '
                    'pass --eval_interval_secs to wait for one'
                    % FLAGS.checkpoint_path
                )
        elif not tf.io.gfile.exists(path + '.index'):
            raise cli.FlagError(
                '--checkpoint_path=%r does not exist (expected '
                'a directory or a checkpoint prefix)' % path
            )

    split_name = FLAGS.dataset_split_name or _evaluation_split()
    dataset = cli.get_dataset(FLAGS.dataset_name, split_name, FLAGS.dataset_dir)
    if FLAGS.dataset_split_name is None:
        logging.info(
            'Evaluating on the %r split of %s (%d examples): its '
            'evaluation split; --dataset_split_name picks another.',
            split_name,
            FLAGS.dataset_name,
            dataset.num_samples,
        )
    model = cli.get_network(
        FLAGS.model_name,
        dataset.num_classes - FLAGS.labels_offset,
        is_training=False,
    )
    preprocess = cli.get_preprocessing(
        FLAGS.preprocessing_name or FLAGS.model_name, False, FLAGS.use_grayscale
    )
    image_size = FLAGS.eval_image_size or model.default_image_size
    data = input_pipelines.eval_dataset(
        dataset,
        preprocess,
        image_size,
        FLAGS.batch_size,
        FLAGS.labels_offset,
        FLAGS.num_preprocessing_threads,
        FLAGS.max_num_batches,
        skip_corrupt_images=FLAGS.skip_corrupt_images,
    )
    kwargs = dict(
        eval_dir=FLAGS.eval_dir,
        moving_average_decay=FLAGS.moving_average_decay,
        call_kwargs={'is_training': False},
    )
    model.build(
        tf.TensorSpec(
            [None, image_size, image_size, 1 if FLAGS.use_grayscale else 3]
        ),
        is_training=False,
    )
    first = path
    if follow:
        logging.info(
            'Following %s (every >= %ss, timeout %s)',
            path,
            FLAGS.eval_interval_secs,
            FLAGS.eval_timeout,
        )
        # A train_dir of another net would never fit: check its first
        # checkpoint now, instead of skipping every one until the timeout.
        first = next(
            iter(
                tf.train.checkpoints_iterator(path, timeout=FLAGS.eval_timeout)
            ),
            None,
        )
    if first:
        try:
            _check_fits(model, first)
        except ArgumentError as e:
            # Its hint names fine-tuning flags; evaluation restores all.
            raise cli.flag_error(e, hint=False) from None
    try:
        if not follow:
            _report(evaluation.evaluate_once(model, data, path, **kwargs))
        elif first:
            evaluation.evaluation_loop(
                model,
                data,
                path,
                eval_interval_secs=FLAGS.eval_interval_secs,
                timeout=FLAGS.eval_timeout,
                on_result=_report,
                **kwargs,
            )
        else:
            logging.info(
                'No checkpoint in %s for %ss; stopping.',
                path,
                FLAGS.eval_timeout,
            )
    except tf.errors.DataLossError as e:
        raise cli.describe_data_loss(dataset, e) from None
    except tf.errors.InvalidArgumentError as e:
        undecodable = cli.describe_undecodable(e)
        if undecodable is None:
            raise
        raise undecodable from None
    finally:
        if FLAGS.skip_corrupt_images:
            logging.info(
                'Skipped %d undecodable images of %s/%s.',
                dataset.num_skipped_images,
                FLAGS.dataset_name,
                split_name,
            )


def _evaluation_split():
    """The split to evaluate when none is given: 'test' where the dataset
    has one, else 'validation' (a converted folder's splits are read from
    its shard names)."""
    from slim_datasets import dataset_factory

    module = dataset_factory.DATASETS_MAP.get(FLAGS.dataset_name)
    splits = getattr(module, 'SPLITS_TO_SIZES', None)
    list_splits = getattr(module, 'available_splits', None)
    if (
        list_splits is not None
        and FLAGS.dataset_dir
        and os.path.isdir(FLAGS.dataset_dir)
    ):
        splits = list_splits(FLAGS.dataset_dir)
    for name in ('test', 'validation'):
        if splits is None or name in splits:
            return name
    return 'test'  # the dataset's error names the splits it has


def _check_fits(model, path):
    from slim import moving_averages, training_utils, variables

    if FLAGS.moving_average_decay:
        # The shadows are what is read; check them under their names.
        var_list = {
            moving_averages.average_name(v): v
            for v in variables.get_model_variables(model)
        }
    else:
        var_list = variables.get_variables_to_restore(model)
    training_utils.check_checkpoint_fits(var_list, path)


def _report(result):
    """Prints the one line of an evaluation's results."""
    print(
        '%s (step %d): Accuracy = %.4f, Recall_5 = %.4f (%.1fs)'
        % (
            result['checkpoint_path'],
            result['global_step'],
            result.get('Accuracy', float('nan')),
            result.get('Recall_5', float('nan')),
            result.get('eval_seconds', float('nan')),
        )
    )
    sys.stdout.flush()


def run(argv=None):
    """Runs the driver on `argv` (sys.argv by default); returns the exit code."""
    return cli.run(main, FLAGS, argv, __doc__)


if __name__ == '__main__':
    sys.exit(run())
