"""Classifies images: prints the top-5 label names with probabilities.

    python classify_image.py [--saved_model=DIR | --model_name=... \\
        --checkpoint_path=... --dataset_dir=...] IMAGE_OR_DIR...

With no model flags it uses the default run's export,
/tmp/tfmodel/export (`python train_image_classifier.py` then
`python export_inference_graph.py`). With --model_name or
--checkpoint_path it builds the net from the checkpoint instead, labels
from --dataset_name/--dataset_dir. A directory stands for the JPEG, PNG,
GIF and BMP files in it, with a progress bar on stderr.

--output=text (default) prints each path and its five best classes;
csv prints `path,rank,class_id,label,probability` rows; json a list of
`{"path", "predictions"}`. A file that cannot be read or decoded is reported
on stderr, one line, and skipped; the exit status is 1 if any was, else 0.
"""

import os
import sys

# TensorFlow logs every image that fails to decode as a C++ warning; the
# driver reports them itself, one line each.
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

# First: it sets TensorFlow's environment before TensorFlow is imported.
import driver_utils as cli

from absl import flags

from slim.errors import ArgumentError

FLAGS = flags.FlagValues()
_string, _integer, _float, _bool = cli.flag_definers(FLAGS)

DEFAULT_SAVED_MODEL = '/tmp/tfmodel/export'
OUTPUTS = ('text', 'csv', 'json')

_string(
    'saved_model',
    None,
    'An export of export_inference_graph.py. '
    'Default (no model flags): %s.' % DEFAULT_SAVED_MODEL,
)
_string(
    'model_name',
    None,
    'Build this net from --checkpoint_path instead of loading a SavedModel.',
)
_string(
    'checkpoint_path',
    None,
    'With --model_name: a checkpoint or a '
    'training directory (default /tmp/tfmodel/).',
)
_string(
    'dataset_name',
    'digits',
    'With --model_name: the dataset whose labels name the classes.',
)
_string(
    'dataset_dir',
    None,
    'With --model_name: the dataset\'s folder; for '
    'digits None means its cache folder.',
)
_integer('labels_offset', 0, 'With --model_name: as in training.')
_integer(
    'image_size',
    None,
    'With --model_name: the input size (the net\'s default if None).',
)
_string(
    'preprocessing_name',
    None,
    'With --model_name: the preprocessing (the net\'s if None).',
)
_bool('use_grayscale', False, 'With --model_name: one gray channel.')
_float(
    'moving_average_decay', None, 'With --model_name: use the moving averages.'
)
_string('output', 'text', 'One of %s.' % ', '.join(OUTPUTS))
_integer('batch_size', 32, 'Images classified per call.')

_MODEL_FLAGS = (
    'model_name',
    'checkpoint_path',
    'dataset_dir',
    'labels_offset',
    'image_size',
    'preprocessing_name',
    'use_grayscale',
    'moving_average_decay',
)
_PATHS = []


def main():
    """Validates the flags, then classifies; see the module docstring."""
    from serving import classify

    if FLAGS.output not in OUTPUTS:
        raise cli.FlagError(
            '--output=%r: expected one of %s'
            % (FLAGS.output, ', '.join(OUTPUTS))
        )
    cli.require_positive(FLAGS, 'batch_size')
    if not _PATHS:
        raise cli.FlagError(
            'no IMAGE given: pass image files or directories after the flags'
        )
    classifier = _classifier()
    files, missing = classify.expand_paths(_PATHS)
    failed = [
        classify.Result(p, None, 'no such file or directory') for p in missing
    ]
    progress = (
        _Progress(len(files)) if any(os.path.isdir(p) for p in _PATHS) else None
    )
    results = []
    for result in classify.classify_files(
        classifier,
        files,
        FLAGS.batch_size,
        progress.update if progress else None,
    ):
        (failed if result.error else results).append(result)
    if progress:
        progress.close()
    formatter = {
        'text': classify.format_text,
        'csv': classify.format_csv,
        'json': classify.format_json,
    }[FLAGS.output]
    sys.stdout.write(formatter(results))
    sys.stdout.flush()
    for result in failed:
        print(
            '%s: skipped %s: %s' % (_prog(), result.path, result.error),
            file=sys.stderr,
        )
    if failed:
        raise cli.WorkError(
            '%d of %d files could not be classified (listed '
            'above)' % (len(failed), len(failed) + len(results))
        )


def _classifier():
    from serving import classify

    model_flags = [n for n in _MODEL_FLAGS if FLAGS[n].present]
    if FLAGS.saved_model and model_flags:
        raise cli.FlagError(
            '--saved_model=%r and --%s: give one model, a '
            'SavedModel or a net and its checkpoint'
            % (FLAGS.saved_model, model_flags[0])
        )
    if model_flags:
        return classify.module_classifier(_build())
    path = FLAGS.saved_model or DEFAULT_SAVED_MODEL
    try:
        return classify.load_saved_model(path)
    except ArgumentError as e:
        message = str(cli.flag_error(e, export_dir='saved_model'))
        if not FLAGS.saved_model:
            message += (
                ' (the default; or pass --saved_model, or --model_name '
                'and --checkpoint_path)'
            )
        raise cli.FlagError(message) from None


def _build():
    from nets import nets_factory
    from serving import inference

    name = FLAGS.model_name or 'lenet'
    if name not in nets_factory.list_networks():
        cli.get_network(name, 1)  # the error naming --model_name
    try:
        checkpoint = inference.resolve_checkpoint(
            FLAGS.checkpoint_path or '/tmp/tfmodel/'
        )
    except ArgumentError as e:
        raise cli.flag_error(e) from None
    dataset = cli.get_dataset(FLAGS.dataset_name, 'train', FLAGS.dataset_dir)
    num_classes = dataset.num_classes - FLAGS.labels_offset
    cli.get_network(name, num_classes)
    if nets_factory.get_network_spec(name).num_frames:
        raise cli.FlagError(
            '--model_name=%r is a video net; this script '
            'classifies single images' % name
        )
    cli.get_preprocessing(
        FLAGS.preprocessing_name or name, False, FLAGS.use_grayscale
    )
    names = inference.label_names_for(
        dataset.labels_to_names, num_classes, FLAGS.labels_offset
    )
    try:
        return inference.build(
            name,
            checkpoint,
            num_classes,
            names,
            image_size=FLAGS.image_size,
            preprocessing_name=FLAGS.preprocessing_name,
            use_grayscale=FLAGS.use_grayscale,
            moving_average_decay=FLAGS.moving_average_decay,
        )
    except ArgumentError as e:
        raise cli.flag_error(e) from None
    except ValueError as e:  # the net does not build at this size
        raise cli.FlagError(
            '--image_size=%r: %s does not build at this '
            'size: %s' % (FLAGS.image_size, name, str(e).splitlines()[0])
        ) from None


class _Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, total, width=30):
        self.total, self.width = total, width
        self.update(0, total)

    def update(self, done, total):
        filled = int(self.width * done / total) if total else self.width
        sys.stderr.write(
            '\r[%s%s] %d/%d images'
            % ('#' * filled, '.' * (self.width - filled), done, total)
        )
        sys.stderr.flush()

    def close(self):
        sys.stderr.write('\n')
        sys.stderr.flush()


def _prog():
    return 'classify_image.py'


def run(argv=None):
    """Runs the driver on `argv` (sys.argv by default); returns the exit code."""
    argv = list(sys.argv if argv is None else argv)
    return cli.run(main, FLAGS, argv, __doc__, positional=_PATHS)


if __name__ == '__main__':
    sys.exit(run())
