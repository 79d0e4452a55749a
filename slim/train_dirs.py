"""Keeping a training run's folder sound: one writer, no debris, no bad checkpoints.

`slim.learning.train` uses these on its `train_dir`; the train driver takes
the lock earlier, before it writes anything there:

- `lock(train_dir)`: one training run per folder. The lock is an advisory
  `flock` on `train_dir/.train.lock`, which the operating system releases
  when the process ends however it ends, so a run killed with SIGKILL leaves
  no stale lock behind. Readers (evaluation) do not take it.
- `remove_partial_saves(train_dir)`: a run killed while saving leaves a
  `ckpt-N_temp/` folder; they are removed at the start of the next run.
- `newest_readable_checkpoint(train_dir)`: the newest checkpoint whose files
  read back; damaged newer ones are set aside (moved, never deleted).
- `set_aside(train_dir, paths, folder)`: moves checkpoints into a new
  sub-folder of `train_dir/folder` and rewrites the `checkpoint` state
  file, so that `tf.train.latest_checkpoint` and a restart see only the
  checkpoints left.
"""

import contextlib
import glob
import json
import os
import re
import shutil
import socket
import threading
import time

import tensorflow as tf
from absl import logging

from slim.errors import ArgumentError

__all__ = [
    'lock',
    'TrainDirBusyError',
    'remove_partial_saves',
    'newest_readable_checkpoint',
    'set_aside',
    'checkpoint_number',
    'checkpoints_from',
    'LOCK_FILE',
]

LOCK_FILE = '.train.lock'
DAMAGED = 'damaged'
DIVERGED = 'diverged'

_held = {}  # realpath -> [file, depth]: the lock is re-entrant per process
_held_guard = threading.Lock()


class TrainDirBusyError(ArgumentError):
    """Another process holds the training lock of the folder."""


@contextlib.contextmanager
def lock(train_dir):
    """Holds the training lock of `train_dir` (created if needed).

    Re-entrant within a process, so a driver can lock before writing its
    flags and `train` lock again inside.

    Raises:
      TrainDirBusyError: if another process is training in `train_dir`.
      OSError: if `train_dir` cannot be created or written.
    """
    try:
        import fcntl
    except ImportError:  # not a POSIX system: no lock, as before
        yield
        return
    os.makedirs(train_dir, exist_ok=True)
    key = os.path.realpath(train_dir)
    with _held_guard:
        entry = _held.get(key)
        if entry is not None:
            entry[1] += 1
        else:
            path = os.path.join(train_dir, LOCK_FILE)
            handle = open(path, 'a+', encoding='utf-8')
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.seek(0)
                holder = handle.read().strip()
                handle.close()
                raise TrainDirBusyError(
                    'train_dir',
                    train_dir,
                    'is in use by another training '
                    'run (%s)' % _describe_holder(holder),
                    hint='wait for it to end, or use another {train_dir}',
                    mentions=('train_dir',),
                ) from None
            handle.seek(0)
            handle.truncate()
            handle.write(
                json.dumps(
                    {
                        'pid': os.getpid(),
                        'host': socket.gethostname(),
                        'since': time.strftime('%Y-%m-%d %H:%M:%S'),
                    }
                )
            )
            handle.flush()
            entry = _held[key] = [handle, 1]
    try:
        yield
    finally:
        with _held_guard:
            entry[1] -= 1
            if entry[1] == 0:
                del _held[key]
                entry[0].close()  # closing releases the flock


def remove_partial_saves(train_dir):
    """Removes the `ckpt-N_temp/` folders a killed save left; returns them."""
    removed = []
    for path in sorted(
        glob.glob(os.path.join(glob.escape(train_dir), '*_temp'))
    ):
        if os.path.isdir(path) and _PARTIAL.match(os.path.basename(path)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    if removed:
        logging.warning(
            'Removed %d unfinished checkpoint save(s) of a run that '
            'was stopped while saving: %s',
            len(removed),
            ', '.join(os.path.basename(p) for p in removed),
        )
    return removed


def newest_readable_checkpoint(train_dir, set_aside_damaged=True):
    """The newest checkpoint of `train_dir` that reads back, or None.

    A newer checkpoint whose files are damaged (truncated, bad checksum,
    missing data file) is passed over with a warning naming it, and, with
    `set_aside_damaged`, moved into `train_dir/damaged/`, so that the run
    resumes from the one before and later saves do not reuse its name.

    Raises:
      ValueError: if `train_dir` has checkpoints but none reads back (they
        are left in place).
    """
    paths = _listed_checkpoints(train_dir)
    damaged = []
    for path in reversed(paths):
        problem = _read_problem(path)
        if problem is None:
            if damaged and set_aside_damaged:
                moved_to = set_aside(
                    train_dir, [p for p, _ in damaged], DAMAGED
                )
                for bad, why in damaged:
                    logging.warning(
                        'Checkpoint %s is damaged (%s): moved it to %s; '
                        'resuming from %s',
                        bad,
                        why,
                        moved_to,
                        path,
                    )
            return path
        damaged.append((path, problem))
    if damaged:
        raise ArgumentError(
            'train_dir',
            train_dir,
            ': no checkpoint in it reads back (%s: %s)'
            % (damaged[0][0], damaged[0][1]),
            hint='move them away or use another {train_dir}',
            mentions=('train_dir',),
        )
    return None


def set_aside(train_dir, paths, folder):
    """Moves the checkpoints `paths` into a new folder under `train_dir/folder`.

    The `checkpoint` state file is rewritten to list the checkpoints left
    (its old version goes along with the moved files). Returns the folder.
    """
    target = os.path.join(train_dir, folder, time.strftime('%Y%m%d-%H%M%S'))
    base, n = target, 1
    while os.path.exists(target):
        target = '%s-%d' % (base, n)
        n += 1
    os.makedirs(target)
    state = tf.train.get_checkpoint_state(train_dir)
    moved = {os.path.basename(p) for p in paths}
    for path in paths:
        for name in glob.glob(glob.escape(path) + '.*'):
            shutil.move(name, os.path.join(target, os.path.basename(name)))
    state_file = os.path.join(train_dir, 'checkpoint')
    if os.path.exists(state_file):
        shutil.copy2(state_file, os.path.join(target, 'checkpoint'))
    left = [
        p
        for p in _state_paths(train_dir, state)
        if os.path.basename(p) not in moved
    ]
    if left:
        times = list(getattr(state, 'all_model_checkpoint_timestamps', []))
        kept_times = (
            [
                t
                for p, t in zip(_state_paths(train_dir, state), times)
                if os.path.basename(p) not in moved
            ]
            if times
            else None
        )
        tf.compat.v1.train.update_checkpoint_state(
            train_dir,
            left[-1],
            left,
            all_model_checkpoint_timestamps=kept_times,
            last_preserved_timestamp=getattr(
                state, 'last_preserved_timestamp', None
            ),
        )
    elif os.path.exists(state_file):
        os.remove(state_file)  # a copy went along with the moved files
    return target


def checkpoint_number(path):
    """N of a checkpoint prefix `.../ckpt-N` (None if it has no number)."""
    m = re.search(r'-(\d+)$', path or '')
    return int(m.group(1)) if m else None


def checkpoints_from(train_dir, number):
    """The listed checkpoints of `train_dir` numbered `number` or higher."""
    return [
        p
        for p in _listed_checkpoints(train_dir)
        if (checkpoint_number(p) or 0) >= number
    ]


_PARTIAL = re.compile(r'^.+-\d+_temp$')


def _listed_checkpoints(train_dir):
    """The checkpoints the state file lists, oldest first."""
    return _state_paths(train_dir, tf.train.get_checkpoint_state(train_dir))


def _state_paths(train_dir, state):
    if state is None:
        return []
    paths = list(state.all_model_checkpoint_paths) or (
        [state.model_checkpoint_path] if state.model_checkpoint_path else []
    )
    return [
        p if os.path.isabs(p) else os.path.join(train_dir, p) for p in paths
    ]


def _read_problem(path):
    """None if every tensor of checkpoint `path` reads back, else why not."""
    files = sorted(glob.glob(glob.escape(path) + '.*'))
    if path + '.index' not in files:
        return 'its .index file is missing'
    # A resume checks the same files more than once: read them once.
    stamp = tuple((f, os.path.getsize(f), os.path.getmtime(f)) for f in files)
    if _verified.get(path) == stamp:
        return None
    try:
        reader = tf.train.load_checkpoint(path)
        for key in reader.get_variable_to_shape_map():
            reader.get_tensor(key)
    except (IndexError, ValueError, OSError, tf.errors.OpError) as e:
        return (
            str(e).strip().splitlines()[0]
            if str(e).strip()
            else type(e).__name__
        )
    _verified[path] = stamp
    return None


_verified = {}


def _describe_holder(text):
    try:
        holder = json.loads(text)
        return 'pid %s on %s since %s' % (
            holder['pid'],
            holder['host'],
            holder['since'],
        )
    except (ValueError, KeyError, TypeError):
        return 'its lock file is held'
