"""eval_image_classifier.py: evaluating once, with moving averages, following a
training run until --eval_timeout, and bad input."""
import glob
import os
import re
import shutil
import threading
import time

import pytest
import tensorflow as tf

import eval_image_classifier
import train_image_classifier
from datasets import digits


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
    return train_image_classifier.run([
        'train_image_classifier.py', '--train_dir=' + directory,
        '--dataset_dir=' + digits_dir, '--max_number_of_steps=%d' % steps,
        '--moving_average_decay=0.99', '--log_every_n_steps=0'])


def evaluate(*args):
    return eval_image_classifier.run(['eval_image_classifier.py'] + list(args))


def reports(text):
    return re.findall(r'ckpt-(\d+) \(step (\d+)\): Accuracy = ([\d.]+), '
                      r'Recall_5 = ([\d.]+)', text)


def test_defaults_are_tf_slims():
    flags = eval_image_classifier.FLAGS
    for name, value in dict(batch_size=100, max_num_batches=None,
                            checkpoint_path='/tmp/tfmodel/',
                            eval_dir='/tmp/tfmodel/', labels_offset=0,
                            moving_average_decay=None, quantize=False).items():
        assert flags[name].default == value, name
    assert flags['model_name'].default == 'lenet'
    assert flags['dataset_split_name'].default is None  # test, or validation


@pytest.mark.parametrize('ema', [False, True])
def test_evaluate_once(tmp_path, capsys, digits_dir, train_dir, ema):
    eval_dir = str(tmp_path / 'eval')
    args = ['--checkpoint_path=' + train_dir, '--eval_dir=' + eval_dir,
            '--dataset_dir=' + digits_dir]
    if ema:
        args.append('--moving_average_decay=0.99')
    assert evaluate(*args) == 0
    found = reports(capsys.readouterr().out)
    assert len(found) == 1 and found[0][:2] == ('30', '30')
    assert 0.0 < float(found[0][2]) <= 1.0
    tags = set()
    for path in glob.glob(eval_dir + '/events.out.tfevents.*'):
        for event in tf.compat.v1.train.summary_iterator(path):
            tags |= {v.tag for v in event.summary.value}
    assert tags == {'eval/Accuracy', 'eval/Recall_5'}


def test_follows_a_training_run_and_stops_at_the_timeout(tmp_path, capsys,
                                                         digits_dir):
    run_dir, later_dir = str(tmp_path / 'train'), str(tmp_path / 'later')
    assert train(run_dir, digits_dir, 2) == 0
    assert train(later_dir, digits_dir, 4) == 0
    capsys.readouterr()
    codes = []
    follower = threading.Thread(target=lambda: codes.append(evaluate(
        '--checkpoint_path=' + run_dir, '--eval_dir=' + str(tmp_path / 'eval'),
        '--dataset_dir=' + digits_dir, '--eval_interval_secs=0.5',
        '--eval_timeout=5')))
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
        run_dir, os.path.join(run_dir, 'ckpt-4'))
    start = time.time()
    follower.join(timeout=120)
    captured = capsys.readouterr()
    assert codes == [0], captured.err[-3000:]
    assert [r[1] for r in reports(out + captured.out)] == ['2', '4']
    # TF polls once a second and gives up once the next poll would pass the
    # timeout, so it stops up to a second early.
    assert 4 <= time.time() - start < 60  # stopped by --eval_timeout


@pytest.mark.parametrize('args,pattern', [
    (['--model_name=nope'], r"--model_name='nope' is not a known net"),
    (['--dataset_name=nope'], r"--dataset_name='nope' is not a known dataset"),
    (['--batch_size=0'], r'--batch_size=0: must be a positive number'),
    (['--checkpoint_path=/no/such/ckpt'], r"--checkpoint_path='/no/such/ckpt' "
                                          r'does not exist'),
    (['--quantize'], r'--quantize=true: quantized evaluation'),
    (['--model_name=cifarnet'], r"--checkpoint_path='.*' does not fit the net: "
                                r'\d+ missing \(e\.g\. CifarNet/'),
])
def test_bad_input_is_one_line_and_exit_2(capsys, digits_dir, train_dir, args,
                                          pattern):
    code = evaluate('--checkpoint_path=' + train_dir,
                    '--dataset_dir=' + digits_dir, *args)
    lines = [l for l in capsys.readouterr().err.splitlines() if 'error:' in l]
    assert code == 2 and len(lines) == 1 and re.search(pattern, lines[0]), lines


@pytest.mark.parametrize('name', ['i3d', 's3dg'])
def test_a_video_net_is_refused_at_start(capsys, name):
    # Before the checkpoint and the dataset are looked at.
    code = evaluate('--model_name=' + name, '--checkpoint_path=/no/such/ckpt',
                    '--dataset_name=flowers')
    lines = [l for l in capsys.readouterr().err.splitlines() if 'error:' in l]
    assert code == 2 and len(lines) == 1, lines
    assert re.search(r"error: --model_name='%s' is a video net: it takes clips "
                     r'\[batch, frames, height, width, channels\] \(64 '
                     r'frames\), and this driver reads images; .*'
                     r'--is_video_model\)$' % name, lines[0]), lines


def test_moving_averages_missing_from_the_checkpoint(tmp_path, capsys,
                                                     digits_dir):
    run_dir = str(tmp_path / 'plain')
    assert train_image_classifier.run([
        'train_image_classifier.py', '--train_dir=' + run_dir,
        '--dataset_dir=' + digits_dir, '--max_number_of_steps=1']) == 0
    capsys.readouterr()
    assert evaluate('--checkpoint_path=' + run_dir, '--dataset_dir=' +
                    digits_dir, '--moving_average_decay=0.99') == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert re.search(r'does not fit the net: \d+ missing \(e\.g\. LeNet/\S+/'
                     r'ExponentialMovingAverage\)', line), line
    empty = str(tmp_path / 'empty')
    os.makedirs(empty)
    assert evaluate('--checkpoint_path=' + empty) == 2
    assert 'holds no checkpoint' in capsys.readouterr().err


def test_following_a_train_dir_of_another_net_refuses_at_start(
        capsys, digits_dir, train_dir):
    start = time.time()
    code = evaluate('--checkpoint_path=' + train_dir, '--dataset_dir=' +
                    digits_dir, '--model_name=cifarnet',
                    '--eval_interval_secs=1', '--eval_timeout=60')
    lines = [l for l in capsys.readouterr().err.splitlines() if 'error:' in l]
    assert code == 2 and len(lines) == 1, lines
    assert re.search(r"--checkpoint_path='.*ckpt-30' does not fit the net: "
                     r'\d+ missing \(e\.g\. CifarNet/', lines[0]), lines
    assert time.time() - start < 50  # not after the timeout


def test_a_damaged_checkpoint_is_one_line(tmp_path, capsys, digits_dir,
                                          train_dir):
    damaged = tmp_path / 'damaged'
    shutil.copytree(train_dir, damaged)
    prefix = tf.train.latest_checkpoint(str(damaged))
    data = glob.glob(prefix + '.data-*')[0]
    with open(data, 'r+b') as f:
        f.truncate(1000)  # the weights are cut, not only the optimizer's
    code = evaluate('--checkpoint_path=' + str(damaged), '--dataset_dir=' +
                    digits_dir, '--eval_dir=' + str(tmp_path / 'eval'))
    lines = [l for l in capsys.readouterr().err.splitlines() if 'error:' in l]
    assert code == 2 and len(lines) == 1, lines
    assert re.search(r"--checkpoint_path='.*ckpt-30' is damaged: reading "
                     r'LeNet/\S+ failed \(Read less bytes than requested\)',
                     lines[0]), lines
