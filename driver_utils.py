"""Command-line plumbing shared by the train and eval drivers.

Each driver defines its flags on its own `flags.FlagValues` (so both can be
imported in one process, e.g. by tests) and runs through `run`: flags are
parsed, bad input is reported as one line `<prog>: error: <flag>=<value>:
<what is allowed>` with exit status 2 before any work, and a non-finite loss
ends the run with one line and status 1. The `get_*` helpers turn a factory's
error into that form.
"""
import functools
import os
import sys

# TensorFlow reads these when it is first imported, and the drivers import
# this module first. Its C++ start-up notes (no GPU found, CPU features) are
# noise here. It turns its oneDNN kernels on only for some Intel CPUs; on this
# project's AVX2 AMD machine they cut an Inception-v3 training step's CPU
# time by ~10% (TF_ENABLE_ONEDNN_OPTS=0 turns them off).
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '1')
os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '1')

from absl import flags  # noqa: E402
from absl import logging  # noqa: E402

__all__ = ['FlagError', 'flag_definers', 'run', 'require_positive',
           'get_dataset', 'get_network', 'get_preprocessing', 'flag_values_dict']

_HELP = ('--help', '-h', '-?', '--helpshort', '--helpfull')


class FlagError(ValueError):
    """Bad command-line input; its message is the one line shown."""


class WorkError(RuntimeError):
    """A failure during work (bad data, no memory, a full disk): one line,
    exit status 1."""


def flag_definers(flag_values):
    """absl's DEFINE_string, _integer, _float and _bool on `flag_values`."""
    return tuple(functools.partial(define, flag_values=flag_values)
                 for define in (flags.DEFINE_string, flags.DEFINE_integer,
                                flags.DEFINE_float, flags.DEFINE_bool))


def run(main, flag_values, argv=None, doc=None, positional=None):
    """Parses `argv` into `flag_values`, runs `main()`, returns the exit code.

    `--help` prints `doc` (the driver's docstring) and the flags. A driver
    that takes positional arguments (file names) passes a list as
    `positional`: it is filled with them before `main()` runs.
    """
    argv = list(sys.argv if argv is None else argv)
    prog = os.path.basename(argv[0]) if argv else 'driver'
    if any(a in _HELP for a in argv[1:]):
        print((doc or '').strip() + '\n\nflags:\n' + flag_values.get_help())
        return 0
    flag_values.unparse_flags()
    try:
        rest = flag_values(argv, known_only=True)
        # The rest goes to absl's own flags (--verbosity, --logtostderr, ...).
        left = flags.FLAGS(rest)
        if positional is not None:
            positional[:] = left[1:]
    except flags.Error as e:
        print('%s: error: %s' % (prog, str(e).splitlines()[0]), file=sys.stderr)
        return 2
    logging.set_verbosity(logging.INFO)
    try:
        main()
    except FlagError as e:
        print('%s: error: %s' % (prog, e), file=sys.stderr)
        return 2
    except (FloatingPointError, WorkError) as e:
        print('%s: error: %s' % (prog, e), file=sys.stderr)
        return 1
    return 0


def require_non_negative(flag_values, *names):
    """Raises `FlagError` if a named flag is negative (None is allowed)."""
    for name in names:
        value = flag_values[name].value
        if value is not None and value < 0:
            raise FlagError('--%s=%r: must be >= 0' % (name, value))


def require_directory_or_absent(flag_values, *names):
    """Raises `FlagError` if a named flag is a path to something other than
    a directory (a file, say)."""
    for name in names:
        value = flag_values[name].value
        if value and os.path.exists(value) and not os.path.isdir(value):
            raise FlagError('--%s=%r is a file; expected a directory'
                            % (name, value))


def require_positive(flag_values, *names, allow_none=False):
    """Raises `FlagError` unless each named flag is a positive number."""
    for name in names:
        value = flag_values[name].value
        if value is None and allow_none:
            continue
        if value is None or value <= 0:
            raise FlagError('--%s=%r: must be a positive number'
                            % (name, value))


def get_dataset(name, split_name, dataset_dir):
    """`dataset_factory.get_dataset`, its errors as `FlagError`s."""
    from datasets import dataset_factory
    if name not in dataset_factory.DATASETS_MAP:
        raise FlagError('--dataset_name=%r is not a known dataset; allowed: %s'
                        % (name, ', '.join(sorted(dataset_factory.DATASETS_MAP))))
    if not dataset_dir and name != dataset_factory.DEFAULT_DATASET:
        raise FlagError('--dataset_dir is required for --dataset_name=%r (only '
                        'the embedded %r dataset has a default folder)'
                        % (name, dataset_factory.DEFAULT_DATASET))
    if dataset_dir and not os.path.isdir(dataset_dir) and \
            name != dataset_factory.DEFAULT_DATASET:
        raise FlagError('--dataset_dir=%r does not exist' % dataset_dir)
    try:
        return dataset_factory.get_dataset(name, split_name, dataset_dir or None)
    except (ValueError, FileNotFoundError) as e:
        # The factory's messages start with the argument at fault.
        message = str(e).splitlines()[0]
        if message.startswith('split_name='):
            message = '--dataset_' + message
        elif message.startswith('dataset_dir=') and \
                name == dataset_factory.DEFAULT_DATASET:
            # The embedded dataset refuses a folder that holds other files;
            # the user most likely meant another --dataset_name.
            message = '--' + message.replace(
                'pass its name as dataset_name',
                'pass its name as --dataset_name (now %r)' % name)
        elif message.startswith('dataset_dir='):
            message = '--' + message
        else:
            message = '--dataset_dir=%r: %s' % (dataset_dir, message)
        raise FlagError(message) from None


def get_network(name, num_classes, weight_decay=0.0, is_training=False):
    """`nets_factory.get_network_fn`, an unknown name as a `FlagError`."""
    from nets import nets_factory
    if name not in nets_factory.list_networks():
        raise FlagError('--model_name=%r is not a known net; allowed: %s'
                        % (name, ', '.join(nets_factory.list_networks())))
    if num_classes < 1:
        raise FlagError('--labels_offset leaves %d classes; it must be smaller '
                        'than the number of classes' % num_classes)
    return nets_factory.get_network_fn(name, num_classes,
                                       weight_decay=weight_decay,
                                       is_training=is_training)


def get_preprocessing(name, is_training, use_grayscale):
    """`preprocessing_factory.get_preprocessing`, errors as `FlagError`s."""
    from preprocessing import preprocessing_factory
    if preprocessing_factory.style_of(name) is None:
        raise FlagError(
            '--preprocessing_name=%r is not a known preprocessing (it defaults '
            'to --model_name); allowed: %s' % (
                name, ', '.join(preprocessing_factory.list_preprocessings())))
    return preprocessing_factory.get_preprocessing(
        name, is_training=is_training, use_grayscale=bool(use_grayscale))


def describe_data_loss(dataset, error):
    """A `WorkError` naming the damaged shard behind a `DataLossError`."""
    try:
        line = dataset.describe_data_loss(error)
    except Exception as e:  # the diagnosis must not hide the first error
        line = 'the data of %r are damaged (%s); telling which shard failed ' \
            'too: %s' % (dataset.dataset_dir, str(error).strip()[:200], e)
    return WorkError(line)


def describe_undecodable(error):
    """A `WorkError` for the reader's "could not decode an image" assertion,
    speaking of the flag; None for other errors."""
    text = str(error)
    start = text.find('Could not decode an image in shard ')
    if start < 0:
        return None
    end = text.find(').', start)
    return WorkError('%s. To skip such images, pass --skip_corrupt_images.'
                     % text[start:end + 1 if end >= 0 else len(text)])


def flag_values_dict(flag_values, names):
    """`{name: value}` of the named flags, for the saved JSON."""
    return {name: flag_values[name].value for name in names}
