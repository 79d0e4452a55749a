"""What the export and classify tests share: real photos, the digits dataset,
one short LeNet training run and its export, nets with random weights, and a
process that loads SavedModels with only TensorFlow importable.

The LeNet run and its export are made once per pytest process (cached here),
whichever test module asks first.
"""

import atexit
import functools
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import tensorflow as tf
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Modules of this project: the serving process must not be able to import any.
PROJECT_MODULES = (
    'slim',
    'nets',
    'preprocessing',
    'slim_datasets',
    'serving',
    'driver_utils',
    'export_inference_graph',
    'classify_image',
    'train_image_classifier',
    'eval_image_classifier',
    'tf_slim',
    'net_oracle',
    'serving_fixtures',
)


@functools.lru_cache(maxsize=None)
def work_dir():
    """A temporary folder for this pytest process, removed at exit."""
    path = tempfile.mkdtemp(prefix='serving-tests-')
    atexit.register(shutil.rmtree, path, True)
    return path


@functools.lru_cache(maxsize=None)
def digits_dir():
    from slim_datasets import digits

    return digits.build(os.path.join(work_dir(), 'digits'))


@functools.lru_cache(maxsize=None)
def lenet_run():
    """A LeNet trained for a few steps on digits, with moving averages, as
    `python train_image_classifier.py` trains it."""
    import train_image_classifier

    directory = os.path.join(work_dir(), 'lenet_run')
    assert (
        train_image_classifier.run(
            [
                'train_image_classifier.py',
                '--train_dir=' + directory,
                '--dataset_dir=' + digits_dir(),
                '--max_number_of_steps=10',
                '--moving_average_decay=0.9',
                '--log_every_n_steps=0',
            ]
        )
        == 0
    )
    return directory


@functools.lru_cache(maxsize=None)
def lenet_export():
    """The default export of `lenet_run()`: its SavedModel folder."""
    import export_inference_graph

    assert (
        export_inference_graph.run(
            [
                'export_inference_graph.py',
                '--checkpoint_path=' + lenet_run(),
                '--dataset_dir=' + digits_dir(),
            ]
        )
        == 0
    )
    return os.path.join(lenet_run(), 'export')


@functools.lru_cache(maxsize=None)
def photos():
    """JPEG bytes of real photos: crops of scikit-learn's two sample images
    (a temple in China, a flower), of several sizes and aspect ratios."""
    from sklearn.datasets import load_sample_images

    crops = []
    for image in load_sample_images().images:  # 427 x 640 x 3 each
        for top, left, height, width in (
            (0, 0, 427, 640),
            (50, 100, 200, 300),
            (200, 300, 160, 120),
        ):
            crops.append(jpeg(image[top : top + height, left : left + width]))
    return crops


def jpeg(pixels, quality=90):
    """Encodes uint8 RGB pixels as JPEG with Pillow."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(pixels, np.uint8)).save(
        buffer, 'JPEG', quality=quality
    )
    return buffer.getvalue()


def randomize(model, seed=0):
    """Gives batch norm random statistics and parameters, so that exporting
    them wrongly (training-mode batch norm, unfolded scales) shows."""
    rng = np.random.RandomState(seed)
    for v in model.variables:
        name = v.name.split(':')[0]
        shape = v.shape.as_list()
        if name.endswith(('moving_variance', 'gamma')):
            v.assign(rng.uniform(0.5, 1.5, shape).astype(np.float32))
        elif name.endswith(('moving_mean', 'beta')):
            v.assign(rng.normal(0, 0.1, shape).astype(np.float32))


def reference_probabilities(model, preprocess, size, encoded, num_frames=None):
    """The in-library model's probabilities on encoded images, preprocessed
    as the evaluation pipeline does (decoded to uint8 RGB first)."""
    flat = [
        preprocess(
            tf.io.decode_image(e, channels=3, expand_animations=False),
            size,
            size,
        )
        for e in np.ravel(encoded)
    ]
    images = tf.stack(flat)
    if num_frames:
        images = tf.reshape(
            images, [-1, num_frames] + images.shape[1:].as_list()
        )
    logits, _ = model(images, is_training=False)
    logits = tf.reshape(logits, [images.shape[0], -1])
    return tf.nn.softmax(logits).numpy()


SERVE_SCRIPT = r'''
import json, sys

# Nothing of the project may be importable here, whatever the path says.
BLOCKED = set(sys.argv[2].split(','))

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in BLOCKED:
            raise ImportError('blocked in the serving process: ' + name)
        return None

sys.meta_path.insert(0, Blocker())
for name in BLOCKED:
    try:
        __import__(name)
    except ImportError:
        pass
    else:
        raise SystemExit('could import ' + name)

import numpy as np
import tensorflow as tf

jobs = json.load(open(sys.argv[1]))
for job in jobs:
    encoded = [open(p, 'rb').read() for p in job['images']]
    if job.get('num_frames'):
        encoded = np.array(encoded, dtype=object).reshape(
            [-1, job['num_frames']])
    loaded = tf.saved_model.load(job['saved_model'])
    out = loaded.signatures['serving_default'](images=tf.constant(encoded))
    np.savez(job['out'], **{k: v.numpy() for k, v in out.items()})
leaked = sorted(set(m.split('.')[0] for m in sys.modules) & BLOCKED)
if leaked:
    raise SystemExit('project modules were imported: %s' % leaked)
print('served %d' % len(jobs))
'''


def serve_in_tensorflow_only_process(jobs, folder):
    """Runs the SavedModels of `jobs` (dicts with 'saved_model', 'images':
    JPEG paths, optional 'num_frames') in a fresh Python that can import
    TensorFlow but nothing of this project; returns their outputs, one dict
    of numpy arrays per job."""
    for i, job in enumerate(jobs):
        job['out'] = os.path.join(folder, 'served_%d.npz' % i)
    jobs_file = os.path.join(folder, 'jobs.json')
    with open(jobs_file, 'w') as f:
        json.dump(jobs, f)
    script = os.path.join(folder, 'serve.py')
    with open(script, 'w') as f:
        f.write(SERVE_SCRIPT)
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env['TF_CPP_MIN_LOG_LEVEL'] = '2'
    # -I: isolated mode, neither the script's folder nor the current one on
    # sys.path (the script lives outside the project anyway).
    done = subprocess.run(
        [sys.executable, '-I', script, jobs_file, ','.join(PROJECT_MODULES)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert ('served %d' % len(jobs)) in done.stdout
    return [dict(np.load(job['out'], allow_pickle=True)) for job in jobs]
