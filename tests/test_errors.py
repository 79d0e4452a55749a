"""`slim.ArgumentError`: a refused value that names its argument, and the
drivers' one mapping from arguments to flags."""

import pickle

import pytest

import driver_utils
import slim
from slim import training_utils
from slim.errors import ArgumentError, MissingFileError


def test_the_message_names_the_argument_and_value():
    e = ArgumentError('num_shards', 0, ': expected a positive integer.')
    assert isinstance(e, ValueError)
    assert (e.argument, e.value) == ('num_shards', 0)
    assert str(e) == 'num_shards=0: expected a positive integer.'
    assert (
        str(ArgumentError('name', 'x', 'is not known'))
        == "name='x' is not known"
    )


def test_other_arguments_and_the_hint_are_named_by_the_caller():
    e = ArgumentError(
        'checkpoint_path',
        '/c',
        'does not fit the net',
        hint='use {exclude_scopes} or {ignore_missing_vars}',
        mentions=('exclude_scopes', 'ignore_missing_vars'),
    )
    assert str(e) == (
        "checkpoint_path='/c' does not fit the net; use "
        'exclude_scopes or ignore_missing_vars'
    )
    names = {
        'checkpoint_path': '--checkpoint_path',
        'exclude_scopes': '--checkpoint_exclude_scopes',
    }
    assert e.message(names) == (
        "--checkpoint_path='/c' does not fit the net; use "
        '--checkpoint_exclude_scopes or ignore_missing_vars'
    )
    assert e.message(names, hint=False) == (
        "--checkpoint_path='/c' does not fit the net"
    )


def test_it_survives_pickling_and_a_missing_file_is_both_kinds():
    e = MissingFileError(
        'dataset_dir',
        '/d',
        'has no shards',
        hint='convert',
        mentions=('dataset_dir',),
    )
    assert isinstance(e, FileNotFoundError) and isinstance(e, ValueError)
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is MissingFileError and str(back) == str(e)
    assert (back.argument, back.value, back.hint) == (
        'dataset_dir',
        '/d',
        'convert',
    )


def test_library_errors_carry_their_argument():
    with pytest.raises(ArgumentError) as e:
        training_utils.make_optimizer('adamw', 0.1)
    assert (e.value.argument, e.value.value) == ('name', 'adamw')
    with pytest.raises(ArgumentError) as e:
        training_utils.make_strategy(num_clones=0)
    assert (e.value.argument, e.value.value) == ('num_clones', 0)
    with pytest.raises(ArgumentError) as e:
        slim.variables.resolve_checkpoint('/no/such/ckpt')
    assert e.value.argument == 'checkpoint_path'
    assert slim.ArgumentError is ArgumentError


def test_drivers_name_arguments_as_their_flags_in_one_place():
    e = ArgumentError(
        'exclude_scopes',
        'a',
        'matches nothing',
        hint='compare with {split_name} and {TF_CONFIG}',
        mentions=('split_name', 'TF_CONFIG'),
    )
    error = driver_utils.flag_error(e)
    assert isinstance(error, driver_utils.FlagError)
    assert str(error) == (
        "--checkpoint_exclude_scopes='a' matches nothing; "
        'compare with --dataset_split_name and TF_CONFIG'
    )
    # A call may name an argument's flag itself, and drop the hint.
    e = ArgumentError('name', 'adamw', 'is not a known optimizer', hint='h')
    assert str(driver_utils.flag_error(e, hint=False, name='optimizer')) == (
        "--optimizer='adamw' is not a known optimizer"
    )
