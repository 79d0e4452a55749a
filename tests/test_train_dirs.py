"""slim.train_dirs: one writer per train_dir, debris of killed saves removed,
damaged checkpoints set aside (never deleted), through slim.learning.train."""

import glob
import os
import re
import signal
import subprocess
import sys

import pytest
import tensorflow as tf

from slim import train_dirs

from test_learning import run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

HOLD_LOCK = (
    '''
import sys, time
sys.path.insert(0, %r)
from slim import train_dirs
with train_dirs.lock(sys.argv[1]):
    print('locked', flush=True)
    time.sleep(120)
'''
    % ROOT
)


def hold_lock_in_another_process(train_dir):
    proc = subprocess.Popen(
        [sys.executable, '-c', HOLD_LOCK, train_dir],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3'),
    )
    assert proc.stdout.readline().strip() == 'locked'
    return proc


def test_a_second_writer_is_refused_and_a_killed_ones_lock_is_stale(tmp_path):
    train_dir = str(tmp_path / 'run')
    holder = hold_lock_in_another_process(train_dir)
    try:
        with pytest.raises(
            train_dirs.TrainDirBusyError,
            match=(
                r"train_dir='.*run' is in use by another training run \(pid "
                r'%d on .* since .*\); wait for it to end, or use another '
                r'train_dir' % holder.pid
            ),
        ):
            run(tmp_path, steps=2)
        assert tf.train.latest_checkpoint(train_dir) is None
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # SIGKILL left the lock file, but the operating system released the lock.
    assert os.path.exists(os.path.join(train_dir, train_dirs.LOCK_FILE))
    _, result = run(tmp_path, steps=2)
    assert result.global_step == 2


def test_the_lock_is_reentrant_within_a_process(tmp_path):
    train_dir = str(tmp_path / 'run')
    with train_dirs.lock(train_dir):
        with train_dirs.lock(train_dir):
            pass
        _, result = run(tmp_path, steps=1)  # train locks again inside
        assert result.global_step == 1
    # Released: another process can take it now.
    holder = hold_lock_in_another_process(train_dir)
    holder.kill()
    holder.wait()


def test_unfinished_saves_of_a_killed_run_are_removed(tmp_path):
    train_dir = tmp_path / 'run'
    run(tmp_path, steps=2)
    partial = train_dir / 'ckpt-3_temp'
    partial.mkdir()
    (partial / 'part-00000-of-00001.data-00000-of-00001').write_bytes(b'x' * 99)
    mine = train_dir / 'notes_temp'  # not a checkpoint's: kept
    mine.mkdir()
    run(tmp_path, steps=3)
    assert not partial.exists()
    assert mine.exists()


def truncate_data(prefix):
    data = glob.glob(prefix + '.data-*')[0]
    size = os.path.getsize(data)
    with open(data, 'r+b') as f:
        f.truncate(size // 2)


def test_a_damaged_newest_checkpoint_is_set_aside_and_the_run_resumes(
    tmp_path, caplog
):
    train_dir = str(tmp_path / 'run')
    run(tmp_path, steps=3, save_interval_steps=1)
    newest = tf.train.latest_checkpoint(train_dir)
    assert newest.endswith('ckpt-3')
    truncate_data(newest)
    caplog.set_level('WARNING')
    _, result = run(tmp_path, steps=5, save_interval_steps=1)
    assert re.search(
        r'Checkpoint .*ckpt-3 is damaged \(Read less bytes than '
        r'requested\): moved it to .*damaged/.*; resuming from '
        r'.*ckpt-2',
        caplog.text,
    ), caplog.text
    assert len(result.loss_history) == 3  # steps 3, 4, 5 from ckpt-2
    assert tf.train.latest_checkpoint(train_dir).endswith('ckpt-5')
    assert glob.glob(os.path.join(train_dir, 'damaged', '*', 'ckpt-3.index'))


def test_no_readable_checkpoint_is_an_error_that_moves_nothing(tmp_path):
    train_dir = str(tmp_path / 'run')
    run(tmp_path, steps=2, save_interval_steps=1)
    for prefix in tf.train.get_checkpoint_state(
        train_dir
    ).all_model_checkpoint_paths:
        truncate_data(prefix)
    before = sorted(os.listdir(train_dir))
    with pytest.raises(
        ValueError,
        match=(
            r"train_dir='.*run': no checkpoint in it reads back \(.*ckpt-2: "
            r'Read less bytes than requested\)'
        ),
    ):
        run(tmp_path, steps=3)
    assert sorted(os.listdir(train_dir)) == before


def test_set_aside_rewrites_the_state_and_keeps_the_files(tmp_path):
    train_dir = str(tmp_path / 'run')
    run(tmp_path, steps=3, save_interval_steps=1)
    paths = tf.train.get_checkpoint_state(train_dir).all_model_checkpoint_paths
    sizes = {
        os.path.basename(f): os.path.getsize(f)
        for f in glob.glob(paths[-1] + '.*')
    }
    folder = train_dirs.set_aside(train_dir, [paths[-1]], 'diverged')
    assert tf.train.latest_checkpoint(train_dir) == paths[-2]
    assert list(
        tf.train.get_checkpoint_state(train_dir).all_model_checkpoint_paths
    ) == list(paths[:-1])
    assert {f: os.path.getsize(os.path.join(folder, f)) for f in sizes} == sizes
    # Setting all aside leaves no state file, and no checkpoint to resume.
    folder = train_dirs.set_aside(train_dir, list(paths[:-1]), 'diverged')
    assert tf.train.latest_checkpoint(train_dir) is None
    assert os.path.exists(os.path.join(folder, 'checkpoint'))
    assert train_dirs.checkpoint_number(paths[0]) == 1
