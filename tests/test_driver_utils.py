"""driver_utils.py: flag checks as one line, factory errors as flag errors,
the exit codes of `run`, --verbosity, and the start-up output filter that
holds back TensorFlow's notes but passes on every other line."""

import logging as std_logging
import os

import pytest
import tensorflow as tf
from absl import flags
from absl import logging

import driver_utils as cli

# Lines TensorFlow 2.21 printed on this project's machine (no GPU) while the
# default training run started, as the user saw them.
START_UP_LINES = [
    'WARNING: All log messages before absl::InitializeLog() is called are '
    'written to STDERR',
    'I0000 00:00:1796298311.610016   28119 port.cc:153] oneDNN custom '
    'operations are on. You may see slightly different numerical results due '
    'to floating-point round-off errors from different computation orders. '
    'To turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.',
    'I0000 00:00:1796298311.610355   28119 cudart_stub.cc:31] Could not find '
    'cuda drivers on your machine, GPU will not be used.',
    'I0000 00:00:1796298372.615083   29092 cpu_feature_guard.cc:227] This '
    'TensorFlow binary is optimized to use available CPU instructions in '
    'performance-critical operations.',
    'To enable the following instructions: AVX2 FMA, in other operations, '
    'rebuild TensorFlow with the appropriate compiler flags.',
]
CUINIT = (
    'E0000 00:00:1796298316.286668   28119 cuda_platform.cc:52] failed '
    'call to cuInit: INTERNAL: CUDA error: Failed call to cuInit: '
    'UNKNOWN ERROR (303)'
)
REAL_ERROR = (
    'E0000 00:00:1796298316.3 28119 op_kernel.cc:1857] OP_REQUIRES '
    'failed at example_parsing_ops.cc:98 : DATA_LOSS: corrupted '
    'record at 12'
)


def test_start_up_notes_are_noise_and_other_lines_are_not():
    for line in START_UP_LINES:
        assert cli.is_start_up_noise(line + '\n'), line
    # "failed call to cuInit" is noise only where there is no GPU driver.
    assert cli.is_start_up_noise(CUINIT, gpu_driver=False)
    assert not cli.is_start_up_noise(CUINIT, gpu_driver=True)
    for line in (
        REAL_ERROR,
        'Traceback (most recent call last):',
        'I0000 00:00:1.0 1 some_other.cc:1] a note we do not know',
        'W0000 00:00:1.0 1 port.cc:153] a warning',
    ):
        assert not cli.is_start_up_noise(line), line


def test_the_filter_holds_back_only_the_noise(capfd):
    def write_both():
        for line in START_UP_LINES[:2] + [REAL_ERROR] + START_UP_LINES[2:]:
            os.write(2, (line + '\n').encode())

    capfd.readouterr()
    with cli.start_up_output_filtered(verbose=False):
        write_both()
    err = capfd.readouterr().err
    assert err.splitlines() == [REAL_ERROR]
    with cli.start_up_output_filtered(verbose=True):
        write_both()
    assert len(capfd.readouterr().err.splitlines()) == len(START_UP_LINES) + 1


def test_the_filter_passes_output_on_when_the_block_fails(capfd):
    with pytest.raises(ImportError):
        with cli.start_up_output_filtered(verbose=False):
            os.write(2, b'a line before the failure\n')
            raise ImportError('no module')
    assert capfd.readouterr().err == 'a line before the failure\n'


@pytest.mark.parametrize(
    'argv,level',
    [
        ([], 0),
        (['--verbosity=1'], 1),
        (['--verbosity', '2'], 2),
        (['--verbosity=-1'], -1),
        (['--verbosity=x'], 0),
        (['--other=1'], 0),
    ],
)
def test_verbosity_is_read_before_the_flags_are_parsed(argv, level):
    assert cli._argv_verbosity(argv) == level


def make_flags():
    values = flags.FlagValues()
    string, integer, _, _ = cli.flag_definers(values)
    integer('batch_size', 32, 'Batch.')
    integer('steps', None, 'Steps.')
    integer('offset', 0, 'Offset.')
    string('train_dir', None, 'Dir.')
    cli.define_verbosity(values)
    values(['prog'])
    return values


def test_value_checks_name_the_flag_and_the_value(tmp_path):
    values = make_flags()
    cli.require_positive(values, 'batch_size')
    cli.require_positive(values, 'steps', allow_none=True)
    values.batch_size = 0
    with pytest.raises(
        cli.FlagError, match=r'^--batch_size=0: must be a positive number$'
    ):
        cli.require_positive(values, 'batch_size')
    with pytest.raises(cli.FlagError, match=r'^--steps=None: must be a '):
        cli.require_positive(values, 'steps')
    values.offset = -2
    with pytest.raises(cli.FlagError, match=r'^--offset=-2: must be >= 0$'):
        cli.require_non_negative(values, 'offset')
    a_file = tmp_path / 'f'
    a_file.write_text('x')
    values.train_dir = str(tmp_path)
    cli.require_directory_or_absent(values, 'train_dir')
    values.train_dir = str(a_file)
    with pytest.raises(
        cli.FlagError,
        match=r"^--train_dir='.*f' is a file; "
        r'expected a directory$',
    ):
        cli.require_directory_or_absent(values, 'train_dir')
    assert cli.flag_values_dict(values, ['batch_size', 'offset']) == {
        'batch_size': 0,
        'offset': -2,
    }


def test_factory_errors_become_flag_errors(tmp_path):
    with pytest.raises(
        cli.FlagError,
        match=r"^--dataset_name='nope' is not a "
        r'known dataset; valid names: '
        r'.*digits',
    ):
        cli.get_dataset('nope', 'train', None)
    with pytest.raises(
        cli.FlagError,
        match=r"^--dataset_dir=None: the "
        r"'flowers' dataset needs the "
        r'folder it is in',
    ):
        cli.get_dataset('flowers', 'train', None)
    with pytest.raises(
        cli.FlagError,
        match=r"^--dataset_dir='/no/such' does "
        r'not exist$',
    ):
        cli.get_dataset('flowers', 'train', '/no/such')
    (tmp_path / 'labels.txt').write_text('0:a\n')
    (tmp_path / 'custom_train_00000-of-00001.tfrecord').write_bytes(b'')
    with pytest.raises(
        cli.FlagError,
        match=r"^--dataset_split_name='test' is "
        r'not a split of the custom dataset'
        r".*valid names.*: train",
    ):
        cli.get_dataset('custom', 'test', str(tmp_path))
    with pytest.raises(
        cli.FlagError,
        match=r"^--model_name='nope' is not a "
        r'known net; allowed: .*lenet',
    ):
        cli.get_network('nope', 10)
    with pytest.raises(
        cli.FlagError,
        match=r'^--labels_offset leaves 0 '
        r'classes',
    ):
        cli.get_network('lenet', 0)
    with pytest.raises(
        cli.FlagError,
        match=r"^--preprocessing_name='nope' is "
        r'not a known preprocessing',
    ):
        cli.get_preprocessing('nope', True, False)


def test_work_errors_name_the_shard_or_say_what_failed():
    error = tf.errors.InvalidArgumentError(
        None,
        None,
        'assertion failed: [Could not decode an image in shard '
        '/d/x.tfrecord (the record is not a parsable example).] [[node]]',
    )
    work = cli.describe_undecodable(error)
    assert isinstance(work, cli.WorkError) and str(work) == (
        'Could not decode an image in shard /d/x.tfrecord (the record is not '
        'a parsable example). To skip such images, pass --skip_corrupt_images.'
    )
    assert (
        cli.describe_undecodable(
            tf.errors.InvalidArgumentError(None, None, 'shapes differ')
        )
        is None
    )

    class Broken:
        dataset_dir = '/d'

        def describe_data_loss(self, error):
            raise OSError('cannot read /d')

    line = str(
        cli.describe_data_loss(
            Broken(), tf.errors.DataLossError(None, None, 'corrupted record')
        )
    )
    assert "'/d' are damaged (corrupted record)" in line
    assert 'cannot read /d' in line


def run_with(values, main, *args):
    return cli.run(main, values, ['prog'] + list(args), 'The doc.')


def test_run_turns_errors_into_one_line_and_exit_codes(capsys):
    values = make_flags()

    def fails_with(error):
        def main():
            raise error

        return main

    for error, code in (
        (cli.FlagError('--x=1: bad'), 2),
        (cli.WorkError('a shard is damaged'), 1),
        (FloatingPointError('the loss is nan'), 1),
    ):
        assert run_with(values, fails_with(error)) == code
        assert capsys.readouterr().err == 'prog: error: %s\n' % error
    assert run_with(values, lambda: None, '--batch_size=x') == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and 'batch_size' in err
    assert run_with(values, fails_with(AssertionError()), '--help') == 0
    out = capsys.readouterr().out
    assert out.startswith('The doc.') and '--verbosity' in out


def test_verbosity_sets_logging_and_shows_tensorflow_info(capsys):
    values = make_flags()
    seen = []

    def main():
        seen.append(logging.get_verbosity())
        # A record as TensorFlow's checkpoint saver logs it.
        record = std_logging.LogRecord(
            'absl',
            std_logging.INFO,
            os.path.join(
                os.path.dirname(tf.__file__),
                'python',
                'checkpoint',
                'functional_saver.py',
            ),
            440,
            'Sharding callback duration: 9',
            None,
            None,
        )
        seen.append(logging.get_absl_logger().filter(record))
        seen.append(
            logging.get_absl_logger().filter(
                std_logging.LogRecord(
                    'absl', std_logging.INFO, __file__, 1, 'ours', None, None
                )
            )
        )

    try:
        assert run_with(values, main) == 0
        assert run_with(values, main, '--verbosity=1') == 0
    finally:
        logging.set_verbosity(logging.INFO)
    # Default: TensorFlow's info line dropped, the project's kept.
    assert seen[:3] == [logging.INFO, False, True]
    assert seen[3] == logging.DEBUG and seen[4] and seen[5]
