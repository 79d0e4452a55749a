"""train_image_classifier.py end to end: the default run, bad input, clones,
workers from TF_CONFIG, resume after SIGKILL, fine-tuning Inception-v3 from a
TF-Slim checkpoint. Process-level behaviour runs the driver as a subprocess;
the rest calls `run(argv)` in this process, which is faster."""

import glob
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import train_image_classifier
from slim_datasets import dataset_utils
from slim_datasets import digits

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN = os.path.join(ROOT, 'train_image_classifier.py')
EVAL = os.path.join(ROOT, 'eval_image_classifier.py')


@pytest.fixture(scope='module')
def digits_dir(tmp_path_factory):
    return digits.build(str(tmp_path_factory.mktemp('digits')))


@pytest.fixture(scope='module')
def one_step_run(tmp_path_factory, digits_dir):
    """A LeNet train_dir after one step; tests read it, never change it."""
    train_dir = str(tmp_path_factory.mktemp('one_step'))
    assert (
        train_in_process(
            '--train_dir=' + train_dir,
            '--dataset_dir=' + digits_dir,
            '--max_number_of_steps=1',
        )
        == 0
    )
    return train_dir


def env_for(digits_dir, **extra):
    env = dict(
        os.environ,
        SLIM_DIGITS_DIR=digits_dir,
        PYTHONPATH=ROOT,
        TF_CPP_MIN_LOG_LEVEL='2',
    )
    env.pop('TF_CONFIG', None)
    env.update(extra)
    return env


def train_in_process(*args):
    return train_image_classifier.run(
        ['train_image_classifier.py'] + list(args)
    )


def error_lines(text):
    return [l for l in text.splitlines() if 'error:' in l]


def event_steps(directory):
    """`{tag: sorted steps}` of the event files in `directory`."""
    steps = {}
    for path in glob.glob(os.path.join(directory, 'events.out.tfevents.*')):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                steps.setdefault(value.tag, []).append(event.step)
    return {tag: sorted(found) for tag, found in steps.items()}


def test_default_run_then_eval_reach_high_accuracy(
    tmp_path, digits_dir, capsys
):
    train_dir = str(tmp_path / 'train')
    env = env_for(digits_dir)
    del env['TF_CPP_MIN_LOG_LEVEL']  # as a user runs it
    start = time.time()
    train = subprocess.run(
        [
            sys.executable,
            TRAIN,
            '--train_dir=' + train_dir,
            # Fewer steps than the default 500; the seed makes the run's
            # accuracy repeatable (seeds 1 and 3 reach 0.97 by step 200).
            '--max_number_of_steps=200',
            '--log_every_n_steps=50',
            '--seed=1',
        ],
        cwd=str(tmp_path),
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert train.returncode == 0, train.stderr[-3000:]
    train_secs = time.time() - start
    progress = [l for l in train.stderr.splitlines() if 'images/s' in l]
    assert progress and re.search(
        r'step 200/200: loss [\d.]+, \d+ images/s, '
        r'0:00:00 left',
        progress[-1],
    ), progress
    # Only the run's own lines: what it trains, its progress, where it saved
    # (no TensorFlow start-up notes, cuInit line or checkpoint-saver info).
    lines = train.stderr.splitlines()
    assert len(lines) == 6 and all(l.startswith('INFO:absl:') for l in lines)
    assert lines[0].startswith('INFO:absl:Training lenet on digits/train')
    assert lines[-1].startswith('INFO:absl:Trained 200 steps'), lines
    # TensorBoard curves: every tag at the first step and every 50th.
    steps = event_steps(train_dir)
    for tag in (
        'total_loss',
        'learning_rate',
        'images',
        'LeNet/fc3/weights',
        'activations/conv1',
        'sparsity/Logits',
    ):
        assert steps.get(tag) == [1, 50, 100, 150, 200], (tag, steps.get(tag))
    assert all(found == [1, 50, 100, 150, 200] for found in steps.values())
    saved = json.load(open(os.path.join(train_dir, 'flags.json')))
    assert saved['flags']['model_name'] == 'lenet'
    assert saved['flags']['dataset_name'] == 'digits'
    assert saved['resolved']['max_number_of_steps'] == 200
    import eval_image_classifier  # in process: faster than a second start

    assert (
        eval_image_classifier.run(
            [
                'eval_image_classifier.py',
                '--checkpoint_path=' + train_dir,
                '--eval_dir=' + str(tmp_path / 'eval'),
                '--dataset_dir=' + digits_dir,
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    found = re.search(
        r'step 200\): Accuracy = ([\d.]+), Recall_5 = ([\d.]+)', out
    )
    assert found, out
    assert float(found.group(1)) >= 0.9 and float(found.group(2)) >= 0.99
    # Eval's metrics carry the checkpoint's step: they plot against training.
    assert event_steps(str(tmp_path / 'eval')) == {
        'eval/Accuracy': [200],
        'eval/Recall_5': [200],
    }
    print(
        'default run, 200 steps: %.0fs, accuracy %s'
        % (train_secs, found.group(1))
    )


def test_flag_defaults_are_tf_slims():
    flags = train_image_classifier.FLAGS
    expected = dict(
        train_dir='/tmp/tfmodel/',
        num_clones=1,
        batch_size=32,
        optimizer='rmsprop',
        learning_rate=0.01,
        weight_decay=4e-5,
        opt_epsilon=1.0,
        learning_rate_decay_type='exponential',
        num_epochs_per_decay=2.0,
        learning_rate_decay_factor=0.94,
        save_interval_secs=600,
        save_summaries_secs=600,
        log_every_n_steps=10,
        dataset_split_name='train',
        moving_average_decay=None,
        checkpoint_path=None,
        num_ps_tasks=0,
        sync_replicas=False,
        quantize_delay=-1,
    )
    for name, value in expected.items():
        assert flags[name].default == value, name
    # The documented differences: a runnable default without downloads.
    assert flags['model_name'].default == 'lenet'
    assert flags['dataset_name'].default == 'digits'
    assert 'inception_v3' in flags['model_name'].help
    from nets import nets_factory

    # --help lists every registered net, as eval's does.
    import eval_image_classifier

    for driver in (train_image_classifier, eval_image_classifier):
        help_text = driver.FLAGS['model_name'].help
        listed = help_text.split('one of: ')[1].split('. TF-Slim')[0]
        assert listed.split(', ') == nets_factory.list_networks(), help_text


@pytest.mark.parametrize(
    'args,pattern',
    [
        (
            ['--model_name=nope'],
            r"--model_name='nope' is not a known net; "
            r"allowed: .*lenet",
        ),
        (
            ['--dataset_name=nope'],
            r"--dataset_name='nope' is not a known "
            r"dataset; valid names: .*digits",
        ),
        (
            ['--preprocessing_name=nope'],
            r"--preprocessing_name='nope' is not a "
            r"known preprocessing",
        ),
        (
            ['--optimizer=nope'],
            r"--optimizer='nope' is not a known optimizer; "
            r"allowed: "
            r"adadelta, adagrad, adam, ftrl, momentum, rmsprop, "
            r"sgd",
        ),
        (
            ['--learning_rate_decay_type=cosine'],
            r"--learning_rate_decay_type="
            r"'cosine' is not known",
        ),
        (['--mixed_precision=fp8'], r"--mixed_precision='fp8' is not known"),
        (
            ['--dataset_name=flowers'],
            r"--dataset_dir=None: the 'flowers' dataset "
            r'needs the folder it is in',
        ),
        (
            ['--dataset_name=flowers', '--dataset_dir=/no/such/dir'],
            r"--dataset_dir='/no/such/dir' does not exist",
        ),
        (
            ['--dataset_split_name=nope'],
            r"--dataset_split_name='nope' is not a "
            r'split of the digits dataset',
        ),
        (
            ['--dataset_name=mnist', '--dataset_dir=.'],
            r"--dataset_dir='\.' has no "
            r'TFRecord shards',
        ),
        (['--batch_size=0'], r'--batch_size=0: must be a positive number'),
        (['--batch_size=-4'], r'--batch_size=-4: must be a positive number'),
        (
            ['--checkpoint_path=/no/such/ckpt'],
            r"--checkpoint_path='/no/such/ckpt' "
            r'does not exist',
        ),
        (
            ['--num_clones=2'],
            r'--num_clones=2 needs 2 GPUs, found 0; pass '
            r'--clone_on_cpu',
        ),
        (
            ['--trainable_scopes=Nope'],
            r"--trainable_scopes='Nope' selects none",
        ),
        (['--quantize_delay=0'], r'--quantize_delay=0: quantized training'),
        (['--no_such_flag=1'], r'no_such_flag'),
        (['--weight_decay=-1'], r'--weight_decay=-1\.0: must be >= 0'),
        (['--labels_offset=-1'], r'--labels_offset=-1: must be >= 0'),
        (['--learning_rate=-0.1'], r'--learning_rate=-0\.1: must be >= 0'),
        (['--loss_upper_bound=-1'], r'--loss_upper_bound=-1\.0: must be >= 0'),
        (
            ['--model_name=inception_v3', '--train_image_size=7'],
            r'--train_image_size=7 is too small for inception_v3: the smallest size '
            r'it takes is 107 \(',
        ),
        (
            ['--model_name=alexnet_v2', '--train_image_size=300'],
            r'--train_image_size=300 does not fit alexnet_v2 \(default 224\): Can '
            r'not squeeze dim\[1\]',
        ),
        (
            ['--batch_size=100000000'],
            r'--batch_size=100000000 needs about '
            r'[0-9,.]+ GiB for one training step of lenet '
            r'at 28x28 \([0-9.]+ MiB an example\), more '
            r'than the [0-9,.]+ GiB of memory available; '
            r'lower --batch_size',
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path, digits_dir, capsys, args, pattern
):
    train_dir = str(tmp_path / 'train')
    if not any(a.startswith('--dataset_name') for a in args):
        args = ['--dataset_dir=' + digits_dir] + args
    code = train_in_process('--train_dir=' + train_dir, *args)
    err = capsys.readouterr().err
    assert code == 2
    lines = error_lines(err)
    assert len(lines) == 1 and re.search(pattern, lines[0]), err
    assert not tf.io.gfile.exists(os.path.join(train_dir, 'checkpoint'))


@pytest.mark.parametrize('name', ['i3d', 's3dg'])
def test_a_video_net_is_refused_at_start(tmp_path, capsys, name):
    # Before the dataset is looked at: flowers has no --dataset_dir here.
    train_dir = str(tmp_path / 'train')
    code = train_in_process(
        '--train_dir=' + train_dir,
        '--model_name=' + name,
        '--dataset_name=flowers',
    )
    lines = error_lines(capsys.readouterr().err)
    assert code == 2 and len(lines) == 1, lines
    assert re.search(
        r"error: --model_name='%s' is a video net: it takes clips "
        r'\[batch, frames, height, width, channels\] \(64 '
        r'frames\), and this driver reads images; .*'
        r'--is_video_model\)$' % name,
        lines[0],
    ), lines
    assert not os.path.exists(train_dir)


def test_paths_that_are_files_are_refused(tmp_path, digits_dir, capsys):
    a_file = tmp_path / 'notes.txt'
    a_file.write_text('mine')
    for args, pattern in (
        (
            ['--train_dir=%s' % a_file, '--dataset_dir=' + digits_dir],
            r"--train_dir='.*notes\.txt' is a file; expected a directory",
        ),
        (
            [
                '--train_dir=%s' % (tmp_path / 't'),
                '--dataset_dir=%s' % a_file,
                '--dataset_name=custom',
            ],
            r"--dataset_dir='.*notes\.txt' is a file; expected a directory",
        ),
        (
            [
                '--train_dir=%s' % (a_file / 'sub'),
                '--dataset_dir=' + digits_dir,
            ],
            r"--train_dir='.*notes\.txt/sub' cannot be "
            r'written: Not a directory',
        ),
    ):
        assert train_in_process(*args) == 2
        lines = error_lines(capsys.readouterr().err)
        assert len(lines) == 1 and re.search(pattern, lines[0]), lines
    assert a_file.read_text() == 'mine'


def test_a_full_disk_is_one_line_and_leaves_no_temporary_file(
    tmp_path, digits_dir, capsys, monkeypatch
):
    def no_space(*args, **kwargs):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(train_image_classifier.json, 'dump', no_space)
    train_dir = tmp_path / 'train'
    assert (
        train_in_process(
            '--train_dir=%s' % train_dir,
            '--dataset_dir=' + digits_dir,
            '--max_number_of_steps=1',
        )
        == 2
    )
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and re.search(
        r"--train_dir='.*train' cannot be written: No space left on device",
        lines[0],
    ), lines
    assert not (train_dir / '.flags.json.tmp').exists()
    assert not (train_dir / 'flags.json').exists()


HOLD_LOCK = (
    """
import sys, time
sys.path.insert(0, %r)
from slim import train_dirs
with train_dirs.lock(sys.argv[1]):
    print('locked', flush=True)
    time.sleep(120)
"""
    % ROOT
)


def test_a_second_training_on_a_train_dir_is_refused_eval_is_not(
    tmp_path, digits_dir, capsys, one_step_run
):
    train_dir = one_step_run
    before = sorted(os.listdir(train_dir))
    holder = subprocess.Popen(
        [sys.executable, '-c', HOLD_LOCK, train_dir],
        stdout=subprocess.PIPE,
        text=True,
        env=env_for(digits_dir),
    )
    try:
        assert holder.stdout.readline().strip() == 'locked'
        capsys.readouterr()
        assert (
            train_in_process(
                '--train_dir=' + train_dir,
                '--dataset_dir=' + digits_dir,
                '--max_number_of_steps=2',
            )
            == 2
        )
        lines = error_lines(capsys.readouterr().err)
        assert len(lines) == 1 and re.search(
            r"--train_dir='%s' is in use by another training run \(pid %d "
            r'on ' % (re.escape(train_dir), holder.pid),
            lines[0],
        ), lines
        assert sorted(os.listdir(train_dir)) == before
        import eval_image_classifier

        assert (
            eval_image_classifier.run(
                [
                    'eval_image_classifier.py',
                    '--checkpoint_path=' + train_dir,
                    '--eval_dir=' + str(tmp_path / 'eval'),
                    '--dataset_dir=' + digits_dir,
                    '--max_num_batches=1',
                ]
            )
            == 0
        )
    finally:
        holder.kill()
        holder.wait()


def test_learning_rate_zero_keeps_the_weights(
    tmp_path, digits_dir, one_step_run
):
    first = one_step_run
    second = str(tmp_path / 'second')
    assert (
        train_in_process(
            '--train_dir=' + second,
            '--dataset_dir=' + digits_dir,
            '--checkpoint_path=' + first,
            '--learning_rate=0',
            '--max_number_of_steps=2',
        )
        == 0
    )
    old = tf.train.load_checkpoint(tf.train.latest_checkpoint(first))
    new = tf.train.load_checkpoint(tf.train.latest_checkpoint(second))
    for name in ('LeNet.Sconv1.Sweights', 'LeNet.Sfc4.Sbiases'):
        key = 'model/_vars/%s/.ATTRIBUTES/VARIABLE_VALUE' % name
        np.testing.assert_array_equal(new.get_tensor(key), old.get_tensor(key))


def test_scopes_that_match_no_variable_are_warned_about(
    tmp_path, digits_dir, caplog, one_step_run
):
    first = one_step_run
    caplog.set_level('WARNING')
    assert (
        train_in_process(
            '--train_dir=' + str(tmp_path / 'second'),
            '--dataset_dir=' + digits_dir,
            '--checkpoint_path=' + first,
            '--checkpoint_exclude_scopes=LeNet/fc4,LeNet/fc_4',
            '--trainable_scopes=LeNet/fc4,LeNet/logits',
            '--max_number_of_steps=1',
        )
        == 0
    )
    assert re.search(
        r"--checkpoint_exclude_scopes: 'LeNet/fc_4' matches no "
        r'variable of lenet',
        caplog.text,
    )
    assert re.search(
        r"--trainable_scopes: 'LeNet/logits' matches no "
        r'variable of lenet',
        caplog.text,
    )
    assert "'LeNet/fc4' matches" not in caplog.text


def test_checkpoint_that_does_not_fit_the_net(tmp_path, digits_dir, capsys):
    lenet_dir = str(tmp_path / 'lenet')
    assert (
        train_in_process(
            '--train_dir=' + lenet_dir,
            '--dataset_dir=' + digits_dir,
            '--max_number_of_steps=1',
        )
        == 0
    )
    capsys.readouterr()
    train_dir = str(tmp_path / 'cifarnet')
    code = train_in_process(
        '--train_dir=' + train_dir,
        '--dataset_dir=' + digits_dir,
        '--model_name=cifarnet',
        '--checkpoint_path=' + lenet_dir,
    )
    lines = error_lines(capsys.readouterr().err)
    assert code == 2 and len(lines) == 1, lines
    assert re.search(
        r"--checkpoint_path='.*lenet' does not fit the net: \d+ "
        r'missing \(e\.g\. CifarNet/',
        lines[0],
    ), lines
    assert tf.train.latest_checkpoint(train_dir) is None


def test_fine_tune_from_one_of_our_checkpoints(
    tmp_path, digits_dir, caplog, capsys
):
    first = str(tmp_path / 'first')
    assert (
        train_in_process(
            '--train_dir=' + first,
            '--dataset_dir=' + digits_dir,
            '--max_number_of_steps=2',
        )
        == 0
    )
    second = str(tmp_path / 'second')
    # Another head (9 classes): the logits are excluded, the rest restored.
    assert (
        train_in_process(
            '--train_dir=' + second,
            '--dataset_dir=' + digits_dir,
            '--checkpoint_path=' + first,
            '--checkpoint_exclude_scopes=LeNet/fc4',
            '--labels_offset=1',
            '--trainable_scopes=LeNet/fc4',
            '--max_number_of_steps=2',
        )
        == 0
    )
    old = tf.train.load_checkpoint(tf.train.latest_checkpoint(first))
    new = tf.train.load_checkpoint(tf.train.latest_checkpoint(second))
    key = 'model/_vars/LeNet.Sconv1.Sweights/.ATTRIBUTES/VARIABLE_VALUE'
    np.testing.assert_array_equal(new.get_tensor(key), old.get_tensor(key))
    # Only model variables came over: the step counts from 0 again.
    assert new.get_tensor('global_step/.ATTRIBUTES/VARIABLE_VALUE') == 2
    # A restart resumes from train_dir, not from --checkpoint_path; with the
    # same variables to train only (the optimizer's slots follow them).
    caplog.set_level('INFO')
    args = [
        '--train_dir=' + second,
        '--dataset_dir=' + digits_dir,
        '--checkpoint_path=' + first,
        '--labels_offset=1',
        '--checkpoint_exclude_scopes=LeNet/fc4',
        '--max_number_of_steps=3',
    ]
    assert train_in_process(*args) == 2
    assert re.search(
        r"error: --train_dir='.*': its checkpoint .*ckpt-2 was "
        r'trained with 2 variables to train \(LeNet/fc4/weights, '
        r'\.\.\.\), this run trains 8 .*; resume with the same '
        r'--trainable_scopes',
        capsys.readouterr().err,
    )
    assert train_in_process(*args, '--trainable_scopes=LeNet/fc4') == 0
    assert (
        'Ignoring --checkpoint_path because a checkpoint already exists'
        in caplog.text
    )
    assert re.search(r'Resuming from .*ckpt-2 at step 2', caplog.text)


def test_bad_input_exits_non_zero_as_a_process(tmp_path, digits_dir):
    result = subprocess.run(
        [
            sys.executable,
            TRAIN,
            '--optimizer=nope',
            '--train_dir=' + str(tmp_path),
        ],
        env=env_for(digits_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "train_image_classifier.py: error: --optimizer='nope' is not a known "
        'optimizer; allowed: adadelta, adagrad, adam, ftrl, momentum, rmsprop, '
        'sgd'
    )
    assert 'Traceback' not in result.stderr


def test_two_clones_on_cpu_and_labels_offset(tmp_path, digits_dir, caplog):
    train_dir = str(tmp_path / 'train')
    caplog.set_level('INFO')
    assert (
        train_in_process(
            '--train_dir=' + train_dir,
            '--dataset_dir=' + digits_dir,
            '--num_clones=2',
            '--clone_on_cpu',
            '--batch_size=8',
            '--labels_offset=1',
            '--max_number_of_steps=3',
            '--mixed_precision=bfloat16',
            '--num_ps_tasks=2',
            '--sync_replicas',
            '--replicas_to_aggregate=4',
        )
        == 0
    )
    # TF1 flags without a TF2 meaning are accepted and said to be ignored.
    assert '--num_ps_tasks=2 is ignored' in caplog.text
    assert '--replicas_to_aggregate=4 is ignored' in caplog.text
    assert '--sync_replicas: training is synchronous anyway' in caplog.text
    resolved = json.load(open(os.path.join(train_dir, 'flags.json')))[
        'resolved'
    ]
    assert resolved['num_replicas'] == 2 and resolved['global_batch_size'] == 16
    assert resolved['strategy'] == 'MirroredStrategy'
    assert resolved['num_classes'] == 9
    # 1500 examples / 16 per step * 2 epochs: the global batch counts.
    assert resolved['decay_steps'] == 187
    names = dict(tf.train.list_variables(tf.train.latest_checkpoint(train_dir)))
    assert names[
        'model/_vars/LeNet.Sfc4.Sweights/.ATTRIBUTES/VARIABLE_VALUE'
    ] == [1024, 9]


def test_divergence_sets_aside_bad_checkpoints_and_a_restart_resumes(
    tmp_path, digits_dir, capsys, caplog
):
    train_dir = str(tmp_path / 'train')
    common = [
        '--train_dir=' + train_dir,
        '--dataset_dir=' + digits_dir,
        '--save_interval_steps=1',
    ]
    assert train_in_process(*common, '--max_number_of_steps=3') == 0
    capsys.readouterr()
    # Resumed at a rate that makes the weights explode (1e29 after a step).
    code = train_in_process(
        *common, '--learning_rate=1e6', '--max_number_of_steps=50'
    )
    lines = error_lines(capsys.readouterr().err)
    assert code == 1 and len(lines) == 1, lines
    found = re.search(
        r'error: At step (\d+) the loss is [^;]+; training stopped\. Moved '
        r'((?:ckpt-\d+(?:, )?)+), whose weights were not shown to give a loss '
        r'within bound, to (\S+)\. The last good checkpoint is (\S+), which a '
        r'restart resumes from\.',
        lines[0],
    )
    assert found, lines
    step, moved = int(found.group(1)), found.group(2).split(', ')
    assert all(int(m.split('-')[1]) >= step - 1 for m in moved)
    assert all(
        os.path.exists(os.path.join(found.group(3), m + '.index'))
        for m in moved
    )
    good = found.group(4)
    assert tf.train.latest_checkpoint(train_dir) == good
    # The good checkpoint's weights really give a loss within the bound.
    model = train_image_classifier.cli.get_network('lenet', 10)
    images, labels = next(
        iter(digits.get_split('train', digits_dir).read().batch(64))
    )
    images = (tf.cast(images, tf.float32) - 128.0) / 128.0
    logits, _ = model(images)
    import slim

    slim.assign_from_checkpoint(slim.get_variables_to_restore(model), good)
    logits, _ = model(images)
    loss = tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
    )
    assert np.isfinite(float(loss)) and float(loss) <= 1e6
    # A plain restart (a sane rate) resumes from it: nothing to move by hand.
    caplog.set_level('INFO')
    assert train_in_process(*common, '--max_number_of_steps=%d' % step) == 0
    assert 'Resuming from %s' % good in caplog.text


def free_port():
    with socket.socket() as s:
        s.bind(('localhost', 0))
        return s.getsockname()[1]


def test_two_workers_from_tf_config_train_one_checkpoint(tmp_path, digits_dir):
    train_dir = str(tmp_path / 'train')
    cluster = {
        'worker': ['localhost:%d' % free_port(), 'localhost:%d' % free_port()]
    }
    procs = []
    for index in range(2):
        config = json.dumps(
            {'cluster': cluster, 'task': {'type': 'worker', 'index': index}}
        )
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    TRAIN,
                    '--train_dir=' + train_dir,
                    '--max_number_of_steps=4',
                    '--batch_size=8',
                    '--log_every_n_steps=1',
                    '--save_interval_steps=2',
                ],
                env=env_for(digits_dir, TF_CONFIG=config),
                cwd=str(tmp_path),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outputs = [p.communicate(timeout=400) for p in procs]
    for p, (_, err) in zip(procs, outputs):
        assert p.returncode == 0, err[-3000:]
    losses = [
        re.findall(r'step (\d+)/4: loss ([\d.]+)', err) for _, err in outputs
    ]
    # Synchronous: the same steps, and the same (all-reduced) loss.
    assert losses[0] == losses[1] and len(losses[0]) == 4, losses
    assert tf.train.latest_checkpoint(train_dir).endswith('ckpt-4')
    resolved = json.load(open(os.path.join(train_dir, 'flags.json')))[
        'resolved'
    ]
    assert resolved['strategy'] == 'MultiWorkerMirroredStrategy'
    assert resolved['num_replicas'] == 2 and resolved['global_batch_size'] == 16
    events = [f for f in os.listdir(train_dir) if f.startswith('events')]
    assert len(events) == 1  # only the chief writes summaries


def test_resume_after_sigkill(tmp_path, digits_dir, caplog):
    train_dir = str(tmp_path / 'train')
    args = [
        sys.executable,
        TRAIN,
        '--train_dir=' + train_dir,
        '--save_interval_steps=3',
        '--log_every_n_steps=1',
        '--optimizer=momentum',
        '--batch_size=8',
        '--dataset_dir=' + digits_dir,
    ]
    proc = subprocess.Popen(
        args + ['--max_number_of_steps=100000'],
        env=env_for(digits_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 240
    while time.time() < deadline:
        latest = tf.train.latest_checkpoint(train_dir)
        if latest and int(latest.rsplit('-', 1)[1]) >= 6:
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    latest = tf.train.latest_checkpoint(train_dir)
    assert latest, 'no checkpoint before the deadline'
    saved = int(latest.rsplit('-', 1)[1])
    reader = tf.train.load_checkpoint(latest)  # loads: never half written
    slots = [
        k
        for k in reader.get_variable_to_shape_map()
        if k.startswith('optimizer/_variables/')
    ]
    assert slots and all(np.isfinite(reader.get_tensor(k)).all() for k in slots)
    # The restart needs no new process: the same code resumes in this one.
    caplog.set_level('INFO')
    assert (
        train_in_process(*args[2:], '--max_number_of_steps=%d' % (saved + 2))
        == 0
    )
    assert re.search(
        r'Resuming from .*ckpt-%d at step %d' % (saved, saved), caplog.text
    ), caplog.text[-3000:]
    steps = [int(s) for s in re.findall(r'step (\d+)/', caplog.text)]
    assert steps == [saved + 1, saved + 2]
    final = tf.train.load_checkpoint(tf.train.latest_checkpoint(train_dir))
    assert (
        final.get_tensor('global_step/.ATTRIBUTES/VARIABLE_VALUE') == saved + 2
    )
    # The step counter is the optimizer's own, so counting on from the saved
    # step shows its state came back; test_learning checks that resumed
    # momentum gives exactly the weights of an uninterrupted run.


def write_image_dataset(directory, num_classes=3, per_class=4, size=120):
    """Tiny JPEG dataset in TF-Slim shards: each class a colour."""
    os.makedirs(directory, exist_ok=True)
    rng = np.random.RandomState(0)
    path = dataset_utils.shard_filename(directory, 'tiny', 'train', 0, 1)
    with tf.io.TFRecordWriter(path) as writer:
        for label in range(num_classes):
            for _ in range(per_class):
                pixels = rng.randint(0, 60, (size, size, 3)).astype(np.uint8)
                pixels[..., label] += 180
                buffer = io.BytesIO()
                Image.fromarray(pixels).save(buffer, format='JPEG')
                writer.write(
                    dataset_utils.image_to_tfexample(
                        buffer.getvalue(), b'jpg', size, size, label
                    ).SerializeToString()
                )
    dataset_utils.write_label_file(
        {i: 'c%d' % i for i in range(num_classes)}, directory
    )
    return directory


def write_tf_slim_inception_v3(path, num_classes, image_size):
    """An Inception-v3 checkpoint written by TF-Slim itself, in graph mode."""
    import tf_slim
    from tf_slim.nets import inception_v3

    with tf.Graph().as_default():
        tf.compat.v1.set_random_seed(0)
        images = tf.compat.v1.placeholder(
            tf.float32, [None, image_size, image_size, 3]
        )
        with tf_slim.arg_scope(inception_v3.inception_v3_arg_scope()):
            inception_v3.inception_v3(
                images, num_classes=num_classes, is_training=False
            )
        variables = tf.compat.v1.global_variables()
        # Non-trivial statistics, so that restoring them is visible. (Ops are
        # all made before the session: adding ops later re-optimizes the
        # graph at each run, which is slow.)
        randomize = tf.group(
            *[
                v.assign(tf.random.uniform(v.shape, 0.0, 0.1))
                for v in variables
                if 'moving_mean' in v.name
            ]
        )
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            sess.run(randomize)
            values = dict(
                zip([v.op.name for v in variables], sess.run(variables))
            )
            tf.compat.v1.train.Saver().save(sess, path)
    return values


def test_fine_tune_inception_v3_from_a_tf_slim_checkpoint(tmp_path, caplog):
    # 107 is about the smallest size TF-Slim's 5x5 auxiliary pool accepts.
    size, classes = 107, 3
    ckpt = str(tmp_path / 'zoo' / 'inception_v3.ckpt')
    zoo = write_tf_slim_inception_v3(ckpt, 1001, size)
    exclude = ['InceptionV3/Logits', 'InceptionV3/AuxLogits']

    data_dir = write_image_dataset(str(tmp_path / 'data'), classes)
    train_dir = str(tmp_path / 'train')
    caplog.set_level('INFO')
    code = train_in_process(
        '--train_dir=' + train_dir,
        '--dataset_name=custom',
        '--dataset_dir=' + data_dir,
        '--model_name=inception_v3',
        '--train_image_size=%d' % size,
        '--batch_size=6',
        '--checkpoint_path=' + ckpt,
        '--checkpoint_exclude_scopes=' + ','.join(exclude),
        '--trainable_scopes=' + ','.join(exclude),
        # Deterministic preprocessing and Adam keep the loss curve readable
        # over a few steps on random (untrained) features.
        '--preprocessing_name=lenet',
        '--optimizer=adam',
        '--learning_rate=0.003',
        '--opt_epsilon=1e-3',
        '--learning_rate_decay_type=fixed',
        '--max_number_of_steps=20',
        '--log_every_n_steps=1',
        '--weight_decay=0',
    )
    assert code == 0
    losses = [
        float(x) for x in re.findall(r'step \d+/20: loss ([\d.]+)', caplog.text)
    ]
    assert len(losses) == 20, losses
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5]), losses
    final = tf.train.load_checkpoint(tf.train.latest_checkpoint(train_dir))
    unchanged = 0
    for name, value in zoo.items():
        key = 'model/_vars/%s/.ATTRIBUTES/VARIABLE_VALUE' % name.replace(
            '/', '.S'
        )
        if (
            any(name.startswith(s) for s in exclude)
            or 'moving_' in name
            or name == 'global_step'
        ):
            continue
        np.testing.assert_array_equal(
            final.get_tensor(key), value, err_msg=name
        )
        unchanged += 1
    assert unchanged > 150
    # Excluded ones started fresh: not the zoo's values (20 Adam steps of
    # 0.001 move a weight by at most 0.02; independent draws differ by ~0.1).
    aux = 'InceptionV3/AuxLogits/Conv2d_1b_1x1/weights'
    fresh = final.get_tensor(
        'model/_vars/%s/.ATTRIBUTES/VARIABLE_VALUE' % aux.replace('/', '.S')
    )
    assert np.abs(fresh - zoo[aux]).mean() > 0.05
    # Nothing but model variables came from the zoo file: the optimizer and
    # step start fresh.
    assert final.get_tensor('global_step/.ATTRIBUTES/VARIABLE_VALUE') == 20


def test_a_damaged_checkpoint_path_is_one_line(
    tmp_path, digits_dir, capsys, one_step_run
):
    first = str(tmp_path / 'first')
    shutil.copytree(one_step_run, first)
    prefix = tf.train.latest_checkpoint(first)
    with open(prefix + '.data-00000-of-00001', 'r+b') as f:
        f.truncate(1000)
    capsys.readouterr()
    second = str(tmp_path / 'second')
    assert (
        train_in_process(
            '--train_dir=' + second,
            '--dataset_dir=' + digits_dir,
            '--checkpoint_path=' + prefix,
        )
        == 2
    )
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and re.search(
        r"--checkpoint_path='.*ckpt-1' is damaged: reading LeNet/\S+ failed "
        r'\(Read less bytes than requested\)',
        lines[0],
    ), lines
    assert tf.train.latest_checkpoint(second) is None


def folder_bytes(folder):
    return {
        p: open(os.path.join(folder, p), 'rb').read()
        for p in sorted(os.listdir(folder))
    }


def test_the_embedded_dataset_is_never_written_into_a_users_folder(
    tmp_path, capsys
):
    photos = tmp_path / 'photos'
    photos.mkdir()
    Image.new('RGB', (20, 20), 'red').save(photos / 'cat.jpg')
    (photos / 'labels.txt').write_text('0:cat\n')
    before = folder_bytes(photos)
    train_dir = tmp_path / 'train'
    assert (
        train_in_process(
            '--train_dir=%s' % train_dir, '--dataset_dir=%s' % photos
        )
        == 2
    )
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and re.search(
        r"--dataset_dir='.*photos' holds files that are not the embedded "
        r"digits dataset's \(cat\.jpg, labels\.txt\).*pass its name as "
        r"--dataset_name \(now 'digits'\)",
        lines[0],
    ), lines
    assert folder_bytes(photos) == before
    assert not train_dir.exists()


def write_custom_dataset(folder, num_images=20, garbage=0, empty=False):
    """A `custom` dataset of small JPEGs (two classes), plus `garbage`
    records whose image bytes do not decode."""
    folder.mkdir()
    path = dataset_utils.shard_filename(str(folder), 'custom', 'train', 0, 1)
    with tf.io.TFRecordWriter(path) as writer:
        for i in range(0 if empty else num_images + garbage):
            if i < num_images:
                buffer = io.BytesIO()
                Image.new('RGB', (16, 16), (40 * (i % 2), 90, 200)).save(
                    buffer, format='JPEG'
                )
                data = buffer.getvalue()
            else:
                data = b'not an image at all'
            writer.write(
                dataset_utils.image_to_tfexample(
                    data, b'jpg', 16, 16, i % 2
                ).SerializeToString()
            )
    dataset_utils.write_label_file({0: 'a', 1: 'b'}, str(folder))
    return path


def test_undecodable_images_stop_naming_the_shard_or_are_skipped(
    tmp_path, capsys, caplog
):
    data = tmp_path / 'data'
    shard = write_custom_dataset(data, garbage=1)
    args = [
        '--dataset_name=custom',
        '--dataset_dir=%s' % data,
        '--batch_size=4',
        '--max_number_of_steps=8',
    ]
    assert train_in_process('--train_dir=%s' % (tmp_path / 'a'), *args) == 1
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and lines[0].endswith(
        'error: Could not decode an image in shard %s (the record is not a '
        'parsable example with JPEG/PNG data). To skip such images, pass '
        '--skip_corrupt_images.' % shard
    ), lines
    caplog.set_level('INFO')
    assert (
        train_in_process(
            '--train_dir=%s' % (tmp_path / 'b'), *args, '--skip_corrupt_images'
        )
        == 0
    )
    assert re.search(
        r'Skipped [1-9]\d* undecodable images of custom/train', caplog.text
    )


def test_a_damaged_shard_is_named_in_training_and_evaluation(
    tmp_path, digits_dir, capsys
):
    import eval_image_classifier

    damaged = tmp_path / 'digits'
    shutil.copytree(digits_dir, damaged)
    for split in ('train', 'validation'):
        shard = sorted(damaged.glob('digits_%s_*.tfrecord' % split))[-1]
        with open(shard, 'r+b') as f:
            f.truncate(os.path.getsize(shard) - 100)
    train_dir = str(tmp_path / 'train')
    assert (
        train_in_process(
            '--train_dir=' + train_dir,
            '--dataset_dir=%s' % damaged,
            '--max_number_of_steps=100',
        )
        == 1
    )
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and re.search(
        r"error: TFRecord shard '.*digits_train_00001-of-00002\.tfrecord' of "
        r"the 'train' split of the 'digits' dataset is damaged at byte \d+ "
        r'.*truncated',
        lines[0],
    ), lines
    assert tf.train.latest_checkpoint(train_dir) is None
    good = str(tmp_path / 'good')
    assert (
        train_in_process(
            '--train_dir=' + good,
            '--dataset_dir=' + digits_dir,
            '--max_number_of_steps=1',
        )
        == 0
    )
    capsys.readouterr()
    assert (
        eval_image_classifier.run(
            [
                'eval_image_classifier.py',
                '--checkpoint_path=' + good,
                '--eval_dir=' + str(tmp_path / 'eval'),
                '--dataset_dir=%s' % damaged,
            ]
        )
        == 1
    )
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and re.search(
        r"error: TFRecord shard '.*digits_validation_00000-of-00001\.tfrecord'"
        r" of the 'validation' split .* is damaged at byte \d+",
        lines[0],
    ), lines


def test_an_empty_dataset_is_refused_before_any_work(tmp_path, capsys):
    data = tmp_path / 'data'
    write_custom_dataset(data, empty=True)
    train_dir = tmp_path / 'train'
    assert (
        train_in_process(
            '--train_dir=%s' % train_dir,
            '--dataset_name=custom',
            '--dataset_dir=%s' % data,
        )
        == 2
    )
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and re.search(
        r"--dataset_dir='.*data': the 'train' split of the 'custom' dataset "
        r'holds no records',
        lines[0],
    ), lines
    assert not train_dir.exists()


# Batch norm needs a few values per channel at the last block: ResNet at 64
# (2x2 there) with 4 images, not 1x1 with 2 (its gradients explode). The
# Inception family runs through the drivers in the Inception-v3 tests.
@pytest.mark.parametrize(
    'model_name,size,batch', [('alexnet_v2', 195, 2), ('resnet_v2_50', 64, 4)]
)
def test_each_family_trains_and_evaluates(
    tmp_path, digits_dir, capsys, model_name, size, batch
):
    import eval_image_classifier

    train_dir = str(tmp_path / 'train')
    assert (
        train_in_process(
            '--train_dir=' + train_dir,
            '--dataset_dir=' + digits_dir,
            '--model_name=' + model_name,
            '--train_image_size=%d' % size,
            '--batch_size=%d' % batch,
            '--optimizer=sgd',
            '--max_number_of_steps=2',
        )
        == 0
    )
    assert tf.train.latest_checkpoint(train_dir).endswith('ckpt-2')
    capsys.readouterr()
    assert (
        eval_image_classifier.run(
            [
                'eval_image_classifier.py',
                '--checkpoint_path=' + train_dir,
                '--eval_dir=' + str(tmp_path / 'eval'),
                '--dataset_dir=' + digits_dir,
                '--model_name=' + model_name,
                '--eval_image_size=%d' % size,
                '--batch_size=4',
                '--max_num_batches=1',
            ]
        )
        == 0
    )
    assert re.search(
        r'ckpt-2 \(step 2\): Accuracy = [\d.]+, Recall_5 = ',
        capsys.readouterr().out,
    )
