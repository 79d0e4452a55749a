"""eval_image_classifier.py: evaluating once, with moving averages, following a
training run until --eval_timeout, and bad input."""

import csv
import glob
import os
import re
import shutil
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import driver_utils
import eval_image_classifier
import train_image_classifier
from slim_datasets import convert_folder
from slim_datasets import digits

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope='module')
def digits_dir(tmp_path_factory):
    return digits.build(str(tmp_path_factory.mktemp('digits')))


@pytest.fixture(scope='module')
def train_dir(tmp_path_factory, digits_dir):
    """A short LeNet run with moving averages."""
    directory = str(tmp_path_factory.mktemp('train'))
    assert train(directory, digits_dir, 30) == 0
    return directory


def train(directory, digits_dir, steps):
    return train_image_classifier.run(
        [
            'train_image_classifier.py',
            '--train_dir=' + directory,
            '--dataset_dir=' + digits_dir,
            '--max_number_of_steps=%d' % steps,
            '--moving_average_decay=0.99',
            '--log_every_n_steps=0',
        ]
    )


def evaluate(*args):
    return eval_image_classifier.run(['eval_image_classifier.py'] + list(args))


def reports(text):
    return re.findall(
        r'ckpt-(\d+) \(step (\d+)\): Accuracy = ([\d.]+), '
        r'Recall_5 = ([\d.]+)',
        text,
    )


def test_defaults_are_tf_slims():
    flags = eval_image_classifier.FLAGS
    for name, value in dict(
        batch_size=100,
        max_num_batches=None,
        checkpoint_path='/tmp/tfmodel/',
        eval_dir='/tmp/tfmodel/',
        labels_offset=0,
        moving_average_decay=None,
        quantize=False,
    ).items():
        assert flags[name].default == value, name
    assert flags['model_name'].default == 'lenet'
    assert flags['dataset_split_name'].default is None  # test, or validation


@pytest.mark.parametrize('ema', [False, True])
def test_evaluate_once(tmp_path, capsys, digits_dir, train_dir, ema):
    eval_dir = str(tmp_path / 'eval')
    args = [
        '--checkpoint_path=' + train_dir,
        '--eval_dir=' + eval_dir,
        '--dataset_dir=' + digits_dir,
    ]
    if ema:
        args.append('--moving_average_decay=0.99')
    assert evaluate(*args) == 0
    captured = capsys.readouterr()
    found = reports(captured.out)
    assert len(found) == 1 and found[0][:2] == ('30', '30')
    assert 0.0 < float(found[0][2]) <= 1.0
    assert 'Accuracy' not in captured.err  # each result printed once
    steps = {}
    for path in glob.glob(eval_dir + '/events.out.tfevents.*'):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                steps.setdefault(value.tag, []).append(event.step)
    # At the checkpoint's step, so that they plot against training's curves.
    assert steps == {'eval/Accuracy': [30], 'eval/Recall_5': [30]}


def test_follows_a_training_run_and_stops_at_the_timeout(
    tmp_path, capsys, digits_dir
):
    run_dir, later_dir = str(tmp_path / 'train'), str(tmp_path / 'later')
    assert train(run_dir, digits_dir, 2) == 0
    assert train(later_dir, digits_dir, 4) == 0
    capsys.readouterr()
    codes = []
    follower = threading.Thread(
        target=lambda: codes.append(
            evaluate(
                '--checkpoint_path=' + run_dir,
                '--eval_dir=' + str(tmp_path / 'eval'),
                '--dataset_dir=' + digits_dir,
                '--eval_interval_secs=0.5',
                '--eval_timeout=5',
            )
        )
    )
    follower.start()
    out = ''
    while not reports(out) and follower.is_alive():
        time.sleep(0.1)
        out += capsys.readouterr().out
    assert [r[1] for r in reports(out)] == ['2'], out
    # The training run saves step 4, as a trainer would: files, then state.
    for path in glob.glob(os.path.join(later_dir, 'ckpt-4.*')):
        shutil.copy(path, run_dir)
    tf.compat.v1.train.update_checkpoint_state(
        run_dir, os.path.join(run_dir, 'ckpt-4')
    )
    start = time.time()
    follower.join(timeout=120)
    captured = capsys.readouterr()
    assert codes == [0], captured.err[-3000:]
    found = reports(out + captured.out)
    assert [r[1] for r in found] == ['2', '4']
    # One row per evaluation under one header, as timm's summary.csv.
    with open(os.path.join(str(tmp_path / 'eval'), 'results.csv')) as f:
        rows = list(csv.reader(f))
    assert rows[0] == [
        'global_step',
        'Accuracy',
        'Recall_5',
        'eval_seconds',
        'wall_time',
        'checkpoint_path',
    ]
    assert [r[0] for r in rows[1:]] == ['2', '4']
    for row, report in zip(rows[1:], found):
        assert '%.4f' % float(row[1]) == report[2]
        assert row[5].endswith('ckpt-' + report[0]) and float(row[3]) > 0
    # TF polls once a second and gives up once the next poll would pass the
    # timeout, so it stops up to a second early.
    assert 4 <= time.time() - start < 60  # stopped by --eval_timeout


@pytest.mark.parametrize(
    'args,pattern',
    [
        (['--model_name=nope'], r"--model_name='nope' is not a known net"),
        (
            ['--dataset_name=nope'],
            r"--dataset_name='nope' is not a known dataset",
        ),
        (['--batch_size=0'], r'--batch_size=0: must be a positive number'),
        (
            ['--checkpoint_path=/no/such/ckpt'],
            r"--checkpoint_path='/no/such/ckpt' "
            r'does not exist',
        ),
        (['--quantize'], r'--quantize=true: quantized evaluation'),
        (
            ['--model_name=cifarnet'],
            r"--checkpoint_path='.*' does not fit the net: "
            r'\d+ missing \(e\.g\. CifarNet/',
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys, digits_dir, train_dir, args, pattern
):
    code = evaluate(
        '--checkpoint_path=' + train_dir, '--dataset_dir=' + digits_dir, *args
    )
    lines = [l for l in capsys.readouterr().err.splitlines() if 'error:' in l]
    assert code == 2 and len(lines) == 1 and re.search(pattern, lines[0]), lines


@pytest.mark.parametrize('name', ['i3d', 's3dg'])
def test_a_video_net_is_refused_at_start(capsys, name):
    # Before the checkpoint and the dataset are looked at.
    code = evaluate(
        '--model_name=' + name,
        '--checkpoint_path=/no/such/ckpt',
        '--dataset_name=flowers',
    )
    lines = [l for l in capsys.readouterr().err.splitlines() if 'error:' in l]
    assert code == 2 and len(lines) == 1, lines
    assert re.search(
        r"error: --model_name='%s' is a video net: it takes clips "
        r'\[batch, frames, height, width, channels\] \(64 '
        r'frames\), and this driver reads images; .*'
        r'--is_video_model\)$' % name,
        lines[0],
    ), lines


def test_moving_averages_missing_from_the_checkpoint(
    tmp_path, capsys, digits_dir
):
    run_dir = str(tmp_path / 'plain')
    assert (
        train_image_classifier.run(
            [
                'train_image_classifier.py',
                '--train_dir=' + run_dir,
                '--dataset_dir=' + digits_dir,
                '--max_number_of_steps=1',
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert (
        evaluate(
            '--checkpoint_path=' + run_dir,
            '--dataset_dir=' + digits_dir,
            '--moving_average_decay=0.99',
        )
        == 2
    )
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert re.search(
        r'does not fit the net: \d+ missing \(e\.g\. LeNet/\S+/'
        r'ExponentialMovingAverage\)',
        line,
    ), line
    empty = str(tmp_path / 'empty')
    os.makedirs(empty)
    assert evaluate('--checkpoint_path=' + empty) == 2
    assert 'holds no checkpoint' in capsys.readouterr().err


def test_following_a_train_dir_of_another_net_refuses_at_start(
    capsys, digits_dir, train_dir
):
    start = time.time()
    code = evaluate(
        '--checkpoint_path=' + train_dir,
        '--dataset_dir=' + digits_dir,
        '--model_name=cifarnet',
        '--eval_interval_secs=1',
        '--eval_timeout=60',
    )
    lines = [l for l in capsys.readouterr().err.splitlines() if 'error:' in l]
    assert code == 2 and len(lines) == 1, lines
    assert re.search(
        r"--checkpoint_path='.*ckpt-30' does not fit the net: "
        r'\d+ missing \(e\.g\. CifarNet/',
        lines[0],
    ), lines
    assert time.time() - start < 50  # not after the timeout


def test_a_damaged_checkpoint_is_one_line(
    tmp_path, capsys, digits_dir, train_dir
):
    damaged = tmp_path / 'damaged'
    shutil.copytree(train_dir, damaged)
    prefix = tf.train.latest_checkpoint(str(damaged))
    data = glob.glob(prefix + '.data-*')[0]
    with open(data, 'r+b') as f:
        f.truncate(1000)  # the weights are cut, not only the optimizer's
    code = evaluate(
        '--checkpoint_path=' + str(damaged),
        '--dataset_dir=' + digits_dir,
        '--eval_dir=' + str(tmp_path / 'eval'),
    )
    lines = [l for l in capsys.readouterr().err.splitlines() if 'error:' in l]
    assert code == 2 and len(lines) == 1, lines
    assert re.search(
        r"--checkpoint_path='.*ckpt-30' is damaged: reading "
        r'LeNet/\S+ failed \(Read less bytes than requested\)',
        lines[0],
    ), lines


def test_a_converted_folder_evaluates_its_validation_split_by_default(
    tmp_path, caplog
):
    source = tmp_path / 'photos'
    rng = np.random.RandomState(0)
    for name in ('cat', 'dog'):
        os.makedirs(source / name)
        for i in range(5):
            Image.fromarray(
                rng.randint(0, 256, (12, 10, 3)).astype(np.uint8)
            ).save(source / name / ('%d.png' % i))
    data = str(tmp_path / 'data')
    convert_folder.convert_folder(
        str(source), data, num_validation=4, num_shards=1, num_workers=0
    )
    # A checkpoint as training writes it (faster than a training step).
    from nets import nets_factory

    model = nets_factory.get_network_fn('lenet', 2)
    model.build(tf.TensorSpec([None, 28, 28, 3]))
    run_dir = str(tmp_path / 'train')
    tf.train.CheckpointManager(
        tf.train.Checkpoint(model=model), run_dir, 1
    ).save()
    caplog.set_level('INFO')
    assert (
        evaluate(
            '--checkpoint_path=' + run_dir,
            '--eval_dir=' + run_dir,
            '--dataset_name=custom',
            '--dataset_dir=' + data,
        )
        == 0
    )
    assert re.search(
        r"Evaluating on the 'validation' split of custom \(4 "
        r'examples\): its evaluation split',
        caplog.text,
    )


def damaged_copy(digits_dir, tmp_path):
    damaged = tmp_path / 'digits'
    shutil.copytree(digits_dir, damaged)
    shard = sorted(damaged.glob('digits_validation_*.tfrecord'))[-1]
    with open(shard, 'r+b') as f:
        f.truncate(os.path.getsize(shard) - 100)
    return str(damaged)


def subprocess_env():
    env = dict(os.environ, PYTHONPATH=ROOT)
    for name in ('TF_CPP_MIN_LOG_LEVEL', 'TF_CONFIG'):
        env.pop(name, None)  # as a user runs it
    return env


def test_quiet_output_still_shows_an_error_in_the_data(
    tmp_path, digits_dir, train_dir
):
    """A new process, as a user runs it: no TensorFlow start-up notes, and
    the error in the data reaches the screen."""
    done = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, 'eval_image_classifier.py'),
            '--checkpoint_path=' + train_dir,
            '--eval_dir=' + str(tmp_path / 'eval'),
            '--dataset_dir=' + damaged_copy(digits_dir, tmp_path),
        ],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=str(tmp_path),
    )
    assert done.returncode == 1, done.stderr[-2000:]
    lines = done.stderr.splitlines()
    assert len(lines) == 2, lines  # the split taken, and the error
    assert re.search(
        r"eval_image_classifier.py: error: TFRecord shard '.*digits_validation"
        r"_00000-of-00001\.tfrecord' of the 'validation' split .* is damaged "
        r'at byte \d+',
        lines[1],
    ), lines


def test_verbosity_1_shows_what_tensorflow_prints_while_it_starts(tmp_path):
    # The drivers' first import, with the flag on their command line.
    lines = subprocess.run(
        [sys.executable, '-c', 'import driver_utils', '--verbosity=1'],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=str(tmp_path),
    ).stderr.splitlines()
    noise = [l for l in lines if driver_utils.is_start_up_noise(l)]
    assert noise, lines  # e.g. "Could not find cuda drivers on your machine"
