"""Command-line plumbing shared by the train and eval drivers.

Each driver defines its flags on its own `flags.FlagValues` (so both can be
imported in one process, e.g. by tests) and runs through `run`: flags are
parsed, bad input is reported as one line `<prog>: error: <flag>=<value>:
<what is allowed>` with exit status 2 before any work, and a non-finite loss
ends the run with one line and status 1. The library refuses a bad value
with a `slim.ArgumentError` naming its argument; `flag_error` names it as the
flag that gave it (the one place that maps arguments to flags), and the
`get_*` helpers do so for the factories.

Quiet output: what TensorFlow prints before it is of use (its C++ start-up
notes, printed once per loaded library, and on a machine without an NVIDIA
driver the "failed call to cuInit" line) is held back while TensorFlow loads
and finds its devices, and every other line of that time is passed on; its
Python info lines (the checkpoint saver's "Sharding callback duration") are
dropped. `--verbosity=1` shows all of it.
"""

import contextlib
import functools
import logging as _std_logging
import os
import re
import sys
import tempfile

__all__ = [
    'FlagError',
    'flag_error',
    'flag_definers',
    'run',
    'require_positive',
    'get_dataset',
    'check_model_name',
    'get_network',
    'get_preprocessing',
    'flag_values_dict',
    'define_verbosity',
    'start_up_output_filtered',
    'start_devices',
    'is_start_up_noise',
]

# Lines TensorFlow writes to stderr while it loads, as the user sees them.
_START_UP_NOISE = (
    re.compile(
        r'^WARNING: All log messages before absl::InitializeLog\(\) is '
        r'called are written to STDERR$'
    ),
    re.compile(
        r'^I\d{4} [\d:.]+ +\d+ (port|cpu_feature_guard|cudart_stub)\.cc:'
        r'\d+\] '
    ),
    re.compile(
        r'^To enable the following instructions: .* rebuild TensorFlow '
        r'with the appropriate compiler flags\.$'
    ),
)
_NO_GPU_NOISE = re.compile(
    r'^E\d{4} [\d:.]+ +\d+ cuda_(platform|executor|'
    r'diagnostics)\.cc:\d+\] failed call to cuInit'
)


def _argv_verbosity(argv):
    """The --verbosity of `argv` (0 when not given), read before flags are
    parsed: the start-up output comes while TensorFlow is imported."""
    for i, arg in enumerate(argv):
        value = None
        if arg.startswith('--verbosity='):
            value = arg.split('=', 1)[1]
        elif arg == '--verbosity' and i + 1 < len(argv):
            value = argv[i + 1]
        if value is not None:
            try:
                return int(value)
            except ValueError:
                return 0  # the flag parser reports it
    return 0


_VERBOSE = _argv_verbosity(sys.argv[1:]) >= 1

# TensorFlow reads these when it is first imported, and the drivers import
# this module first. Its C++ warnings while running repeat the errors the
# drivers report in one line (a damaged shard: "Local rendezvous is aborting
# with status: DATA_LOSS", twice); its C++ errors still show. It turns its
# oneDNN kernels on only for some Intel CPUs; on this project's AVX2 AMD
# machine they cut an Inception-v3 training step's CPU time by ~10%
# (TF_ENABLE_ONEDNN_OPTS=0 turns them off).
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '0' if _VERBOSE else '2')
os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '1')


def has_nvidia_driver():
    """Whether this machine has an NVIDIA kernel driver (a GPU to find)."""
    return os.path.exists('/proc/driver/nvidia') or os.path.exists(
        '/dev/nvidiactl'
    )


def is_start_up_noise(line, gpu_driver=None):
    """Whether a line TensorFlow writes while loading is noise to a user:
    its C++ start-up notes, and "failed call to cuInit" where no NVIDIA
    driver is installed (`gpu_driver`: None asks the machine)."""
    line = line.rstrip('\r\n')
    if any(p.match(line) for p in _START_UP_NOISE):
        return True
    if _NO_GPU_NOISE.match(line):
        return not (has_nvidia_driver() if gpu_driver is None else gpu_driver)
    return False


@contextlib.contextmanager
def start_up_output_filtered(verbose=None):
    """Holds back what is written to file descriptor 2 (stderr, C++ and
    Python) inside the block, then passes on every line but start-up noise,
    in order; the noise too with `verbose` (None: --verbosity >= 1)."""
    if _VERBOSE if verbose is None else verbose:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile() as held:
            os.dup2(held.fileno(), 2)
            try:
                yield
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
                held.seek(0)
                gpu_driver = has_nvidia_driver()
                for line in held.read().splitlines(keepends=True):
                    if not is_start_up_noise(
                        line.decode('utf-8', 'replace'), gpu_driver
                    ):
                        os.write(2, line)
    finally:
        os.close(saved)


with start_up_output_filtered():
    import tensorflow  # noqa: E402,F401  (its start-up notes held back here)

from absl import flags  # noqa: E402
from absl import logging  # noqa: E402

from slim.errors import ArgumentError  # noqa: E402

_HELP = ('--help', '-h', '-?', '--helpshort', '--helpfull')


class FlagError(ValueError):
    """Bad command-line input; its message is the one line shown."""


# Library arguments that the drivers' flags call by another name; the rest
# are flags of the same name. TF_CONFIG is an environment variable.
FLAG_OF_ARGUMENT = {
    'split_name': 'dataset_split_name',
    'exclude_scopes': 'checkpoint_exclude_scopes',
    'variables_to_train': 'trainable_scopes',
    'decay_type': 'learning_rate_decay_type',
    'count': 'num_clones',
}
_ENVIRONMENT = ('TF_CONFIG',)


def flag_error(error, hint=True, **flag_of_argument):
    """The `FlagError` for a library `slim.ArgumentError`: its message with
    the argument, and the others it mentions, named as this driver's flags
    (and without its hint if `hint` is False).

    `flag_of_argument` names the flags of arguments whose flag differs at this
    call only (`name='optimizer'` for `make_optimizer`'s `name`).
    """
    names = {}
    for argument in (error.argument,) + error.mentions:
        flag = flag_of_argument.get(
            argument, FLAG_OF_ARGUMENT.get(argument, argument)
        )
        names[argument] = flag if flag in _ENVIRONMENT else '--' + flag
    return FlagError(error.message(names, hint=hint))


class WorkError(RuntimeError):
    """A failure during work (bad data, no memory, a full disk): one line,
    exit status 1."""


def flag_definers(flag_values):
    """absl's DEFINE_string, _integer, _float and _bool on `flag_values`."""
    return tuple(
        functools.partial(define, flag_values=flag_values)
        for define in (
            flags.DEFINE_string,
            flags.DEFINE_integer,
            flags.DEFINE_float,
            flags.DEFINE_bool,
        )
    )


def define_verbosity(flag_values):
    """Defines --verbosity on `flag_values` (absl's levels)."""
    flags.DEFINE_integer(
        'verbosity',
        0,
        'How much to log: 0 the run\'s progress and results; '
        '1 also what TensorFlow prints while it starts (C++ notes, no GPU '
        'found) and its info lines, and debug lines; -1 warnings and errors '
        'only.',
        flag_values=flag_values,
    )


def start_devices():
    """Makes TensorFlow find its devices now, its start-up lines filtered.

    Call it after any logical device configuration (it fixes the devices).
    """
    import tensorflow as tf

    with start_up_output_filtered():
        tf.config.list_logical_devices()


class _TensorFlowInfoFilter(_std_logging.Filter):
    """Drops TensorFlow's own Python info lines (a checkpoint save logs its
    "Sharding callback duration") unless debug lines are shown."""

    _PACKAGE = os.path.dirname(tensorflow.__file__) + os.sep

    def filter(self, record):
        return (
            record.levelno > _std_logging.INFO
            or not record.pathname.startswith(self._PACKAGE)
            or logging.get_verbosity() >= logging.DEBUG
        )


def _filter_tensorflow_info():
    # On the loggers: absl's handler hands records on without its filters.
    for logger in (
        logging.get_absl_logger(),
        _std_logging.getLogger('tensorflow'),
    ):
        if not any(
            isinstance(f, _TensorFlowInfoFilter) for f in logger.filters
        ):
            logger.addFilter(_TensorFlowInfoFilter())


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
    logging.set_verbosity(
        flag_values['verbosity'].value
        if 'verbosity' in flag_values
        else logging.INFO
    )
    _filter_tensorflow_info()
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
            raise FlagError(
                '--%s=%r is a file; expected a directory' % (name, value)
            )


def require_positive(flag_values, *names, allow_none=False):
    """Raises `FlagError` unless each named flag is a positive number."""
    for name in names:
        value = flag_values[name].value
        if value is None and allow_none:
            continue
        if value is None or value <= 0:
            raise FlagError(
                '--%s=%r: must be a positive number' % (name, value)
            )


def get_dataset(name, split_name, dataset_dir):
    """`dataset_factory.get_dataset`, its errors as `FlagError`s."""
    from slim_datasets import dataset_factory

    if (
        dataset_dir
        and not os.path.isdir(dataset_dir)
        and name != dataset_factory.DEFAULT_DATASET
    ):
        raise FlagError('--dataset_dir=%r does not exist' % dataset_dir)
    try:
        return dataset_factory.get_dataset(
            name, split_name, dataset_dir or None
        )
    except ArgumentError as e:
        raise flag_error(e, name='dataset_name') from None
    except (ValueError, FileNotFoundError) as e:
        # A damaged or unreadable file in the folder.
        raise FlagError(
            '--dataset_dir=%r: %s' % (dataset_dir, str(e).splitlines()[0])
        ) from None


def check_model_name(name, allow_video=False):
    """Raises `FlagError` unless `name` (--model_name) is a registered net
    that takes images. The drivers call it first thing, and `get_network`
    again.

    A video net (I3D, S3D-G) takes clips [batch, frames, height, width,
    channels]; the drivers' data are images, so it is refused by name,
    unless `allow_video` (the export's --is_video_model path).
    """
    from nets import nets_factory

    names = nets_factory.list_networks()
    frames = {n: nets_factory.get_network_spec(n).num_frames for n in names}
    if frames.get(name) and not allow_video:
        raise FlagError(
            '--model_name=%r is a video net: it takes clips [batch, frames, '
            'height, width, channels] (%d frames), and this driver reads '
            "images; build it from Python with nets_factory (TF-Slim's "
            'export_inference_graph.py took such nets with --is_video_model)'
            % (name, frames[name])
        )
    if name not in frames:
        raise FlagError(
            '--model_name=%r is not a known net; allowed: %s'
            % (
                name,
                ', '.join(n for n in names if allow_video or not frames[n]),
            )
        )


def get_network(
    name, num_classes, weight_decay=0.0, is_training=False, allow_video=False
):
    """`nets_factory.get_network_fn`, an unknown name or (unless
    `allow_video`) a video net as a `FlagError` (see `check_model_name`)."""
    from nets import nets_factory

    check_model_name(name, allow_video)
    if num_classes < 1:
        raise FlagError(
            '--labels_offset leaves %d classes; it must be smaller '
            'than the number of classes' % num_classes
        )
    return nets_factory.get_network_fn(
        name, num_classes, weight_decay=weight_decay, is_training=is_training
    )


def get_preprocessing(name, is_training, use_grayscale):
    """`preprocessing_factory.get_preprocessing`, errors as `FlagError`s."""
    from preprocessing import preprocessing_factory

    if preprocessing_factory.style_of(name) is None:
        raise FlagError(
            '--preprocessing_name=%r is not a known preprocessing (it defaults '
            'to --model_name); allowed: %s'
            % (name, ', '.join(preprocessing_factory.list_preprocessings()))
        )
    return preprocessing_factory.get_preprocessing(
        name, is_training=is_training, use_grayscale=bool(use_grayscale)
    )


def describe_data_loss(dataset, error):
    """A `WorkError` naming the damaged shard behind a `DataLossError`."""
    try:
        line = dataset.describe_data_loss(error)
    except Exception as e:  # the diagnosis must not hide the first error
        line = (
            'the data of %r are damaged (%s); telling which shard failed '
            'too: %s' % (dataset.dataset_dir, str(error).strip()[:200], e)
        )
    return WorkError(line)


def describe_undecodable(error):
    """A `WorkError` for the reader's "could not decode an image" assertion,
    speaking of the flag; None for other errors."""
    text = str(error)
    start = text.find('Could not decode an image in shard ')
    if start < 0:
        return None
    end = text.find(').', start)
    return WorkError(
        '%s. To skip such images, pass --skip_corrupt_images.'
        % text[start : end + 1 if end >= 0 else len(text)]
    )


def flag_values_dict(flag_values, names):
    """`{name: value}` of the named flags, for the saved JSON."""
    return {name: flag_values[name].value for name in names}
