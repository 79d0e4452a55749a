"""export_inference_graph.py and serving/: a SavedModel served by TensorFlow
alone equals the in-library net, for every registered net; TFLite and the
frozen GraphDef agree with it; bad input is one line naming the flag."""

import glob
import json
import os
import re
import shutil

import numpy as np
import pytest
import tensorflow as tf

import export_inference_graph
import serving_fixtures as fx
import slim
from nets import nets_factory
from preprocessing import preprocessing_factory
from serving import exporters
from serving import inference
from net_oracle import VARIANTS

# Exported through the driver, from checkpoints, at small sizes.
DRIVER_NETS = {'lenet': 28, 'cifarnet': 32, 'inception_v3': 107}
# Every other registered net, through the library at a small input. The
# deeper variants of a family (test_zoo.VARIANTS: ResNet-101..200 of ResNet-50,
# VGG-A/19 of VGG-16) run the same code as their representative: exporting
# them again would check nothing new and cost a few hundred MB of weights.
# AlexNet, OverFeat and VGG-16 are left out too: 50-146 M parameters each,
# mostly in fully connected layers no other net lacks, they took a third of
# this module's time to save and load for no path the others do not cover.
FULLY_CONNECTED_GIANTS = {'alexnet_v2', 'overfeat', 'vgg_16'}
# NASNet-A's CIFAR stem is one convolution; its cells are NASNet-A mobile's,
# which is exported (25 s of this module's time).
SAME_CELLS = {'nasnet_cifar'}
REGISTRY_NETS = [
    n
    for n in nets_factory.list_networks()
    if n not in VARIANTS
    and n not in DRIVER_NETS
    and n not in FULLY_CONNECTED_GIANTS
    and n not in SAME_CELLS
]
VIDEO_NET = 'tiny_video_net_for_tests'
LABELS = [str(i) for i in range(10)]  # the digits dataset's labels


def export(*args):
    return export_inference_graph.run(
        ['export_inference_graph.py'] + list(args)
    )


def _small_size(name):
    spec = nets_factory.get_network_spec(name)
    return max(spec.min_image_size or 1, 64)


def _random_model(name, num_classes, shape, seed=0):
    model = nets_factory.get_network_fn(name, num_classes)
    tf.random.set_seed(seed)
    model(tf.zeros(shape), is_training=False)
    fx.randomize(model, seed)
    return model


def _random_checkpoint(name, size, folder):
    """A checkpoint of net `name` with random weights, as training saves
    them (a tf.train.Checkpoint of the model); returns (model, prefix)."""
    model = _random_model(name, 10, [1, size, size, 3])
    prefix = tf.train.Checkpoint(model=model).write(
        os.path.join(folder, name, 'ckpt-1')
    )
    return model, prefix


def _tiny_video_net(
    images, num_classes=10, is_training=False, scope='TinyVideo'
):
    """A video net for the `--is_video_model` path: [batch, frames, h, w, c]."""
    end_points = {}
    with slim.variable_scope(scope, 'TinyVideo', [images]):
        net = slim.conv3d(
            images,
            4,
            [2, 3, 3],
            normalizer_fn=slim.batch_norm,
            normalizer_params={'is_training': is_training},
            scope='Conv3d_1',
        )
        net = tf.reduce_mean(net, [1, 2, 3])
        logits = slim.fully_connected(
            net, num_classes, activation_fn=None, scope='Logits'
        )
        end_points['Predictions'] = slim.softmax(logits, scope='Predictions')
    return logits, end_points


_tiny_video_net.default_image_size = 32


@pytest.fixture(scope='module')
def video_net():
    """The tiny video net, registered for this module only."""
    nets_factory.register_model(
        _tiny_video_net,
        name=VIDEO_NET,
        arg_scope=lambda weight_decay=0.0: {},
        preprocessing='inception',
        num_frames=3,
    )
    yield VIDEO_NET
    del nets_factory._REGISTRY[VIDEO_NET]


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    """Random-weight checkpoints of cifarnet and inception_v3."""
    folder = str(tmp_path_factory.mktemp('checkpoints'))
    return {
        name: _random_checkpoint(name, DRIVER_NETS[name], folder)
        for name in ('cifarnet', 'inception_v3')
    }


@pytest.fixture(scope='module')
def served(tmp_path_factory, checkpoints, video_net):
    """Exports every net, serves all exports in one TensorFlow-only process.

    Returns {name: (reference probabilities, served outputs)}, or an
    exception for a net whose export failed (its test raises it).
    """
    folder = str(tmp_path_factory.mktemp('served'))
    photos = fx.photos()
    paths = []
    for i, data in enumerate(photos):
        paths.append(os.path.join(folder, 'photo%d.jpg' % i))
        with open(paths[-1], 'wb') as f:
            f.write(data)
    jobs, references, failures = [], {}, {}

    # lenet: the default run's export, its reference restored by slim.
    model = nets_factory.get_network_fn('lenet', 10)
    model(tf.zeros([1, 28, 28, 3]))
    slim.assign_from_checkpoint(
        model.variables, tf.train.latest_checkpoint(fx.lenet_run())
    )
    jobs.append({'saved_model': fx.lenet_export(), 'images': paths})
    references['lenet'] = (model, 28, None)
    for name, (model, prefix) in checkpoints.items():
        out = os.path.join(folder, name)
        assert (
            export(
                '--model_name=' + name,
                '--checkpoint_path=' + prefix,
                '--dataset_dir=' + fx.digits_dir(),
                '--image_size=%d' % DRIVER_NETS[name],
                '--output_file=' + out,
            )
            == 0
        )
        jobs.append({'saved_model': out, 'images': paths})
        references[name] = (model, DRIVER_NETS[name], None)
    for name in REGISTRY_NETS + [video_net]:
        try:
            job, reference = _library_export(name, folder, paths)
        except Exception as e:  # reported by the net's own test
            failures[name] = e
            continue
        jobs.append(job)
        references[name] = reference
    outputs = fx.serve_in_tensorflow_only_process(jobs, folder)
    result = dict(failures)
    for job, output, (name, (model, size, frames)) in zip(
        jobs, outputs, references.items()
    ):
        preprocess = _preprocessing(name)
        encoded = [photos[i % len(photos)] for i in range(len(job['images']))]
        if frames:
            encoded = np.array(encoded, dtype=object).reshape([-1, frames])
        result[name] = (
            fx.reference_probabilities(
                model, preprocess, size, encoded, frames
            ),
            output,
        )
    return result


def _preprocessing(name):
    """The net's evaluation preprocessing; inception's for a net without
    one (research/slim names none for its video nets)."""
    if preprocessing_factory.style_of(name) is None:
        name = 'inception'
    return preprocessing_factory.get_preprocessing(name)


def _library_export(name, folder, paths):
    spec = nets_factory.get_network_spec(name)
    size = _small_size(name) if name != VIDEO_NET else 32
    frames = spec.num_frames
    shape = [1] + ([frames] if frames else []) + [size, size, 3]
    model = _random_model(name, 10, shape)
    module = inference.InferenceModule(
        model, _preprocessing(name), size, LABELS, num_frames=frames
    )
    out = os.path.join(folder, name)
    exporters.save_saved_model(module, out)
    # Two clips of a video net, frames from the photos (over again where
    # there are fewer photos than frames).
    images = (
        [paths[i % len(paths)] for i in range(2 * frames)] if frames else paths
    )
    return (
        {'saved_model': out, 'images': images, 'num_frames': frames},
        (model, size, frames),
    )


def _check_served(served, name):
    entry = served[name]
    if isinstance(entry, Exception):
        raise entry
    reference, outputs = entry
    np.testing.assert_allclose(
        outputs['probabilities'], reference, rtol=1e-5, atol=1e-7
    )
    top = np.argsort(-reference, axis=1)[:, :5]
    # Near-ties may swap places; the listed probabilities are the best five.
    np.testing.assert_allclose(
        outputs['top_k_probabilities'],
        np.take_along_axis(reference, top, 1),
        rtol=1e-5,
        atol=1e-7,
    )
    names = [[n.decode() for n in row] for row in outputs['top_k_names']]
    assert names == [
        [LABELS[c] for c in row] for row in outputs['top_k_classes']
    ]
    np.testing.assert_allclose(
        tf.nn.softmax(outputs['logits']).numpy(),
        reference,
        rtol=1e-5,
        atol=1e-7,
    )


@pytest.mark.parametrize('name', sorted(DRIVER_NETS))
def test_the_driver_export_served_by_tensorflow_alone_equals_the_library(
    served, name
):
    _check_served(served, name)


@pytest.mark.parametrize('name', REGISTRY_NETS + [VIDEO_NET])
def test_every_registered_net_serves_as_the_library(served, name):
    _check_served(served, name)


def test_the_default_export_is_in_the_run_folder_with_its_labels():
    export_dir = fx.lenet_export()
    assert export_dir == os.path.join(fx.lenet_run(), 'export')
    assert tf.saved_model.contains_saved_model(export_dir)
    loaded = tf.saved_model.load(export_dir)
    assert set(loaded.signatures) == {'serving_default', 'preprocessed'}
    out = loaded.signatures['serving_default'](
        images=tf.constant(fx.photos()[:2])
    )
    assert set(out) == set(inference.OUTPUT_KEYS)
    assert out['top_k_names'].shape == [2, 5]
    assert {n.decode() for n in out['top_k_names'].numpy().ravel()} <= set(
        LABELS
    )


def test_a_bad_image_is_an_error_naming_its_index():
    loaded = tf.saved_model.load(fx.lenet_export())
    signature = loaded.signatures['serving_default']
    good = fx.photos()[0]
    for bad, index in ((b'not an image', 1), (good[:200], 2)):
        batch = [good, good, good]
        batch[index] = bad
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match=r'images\[%d\] is not a decodable' % index,
        ):
            signature(images=tf.constant(batch))
    # The server lives on: the next batch is classified.
    assert signature(images=tf.constant([good]))['probabilities'].shape == [
        1,
        10,
    ]


def test_png_gif_bmp_decode_as_jpeg_does():
    from PIL import Image
    import io

    loaded = tf.saved_model.load(fx.lenet_export())
    signature = loaded.signatures['serving_default']
    pixels = np.random.RandomState(0).randint(0, 256, [40, 30, 3], np.uint8)
    encoded = []
    for fmt in ('PNG', 'GIF', 'BMP'):
        buffer = io.BytesIO()
        image = Image.fromarray(pixels)
        if fmt == 'GIF':  # a palette image: compare with its own RGB
            image = image.convert('P').convert('RGB')
        image.save(buffer, fmt)
        encoded.append(buffer.getvalue())
    out = signature(images=tf.constant(encoded))['probabilities'].numpy()
    np.testing.assert_allclose(out[0], out[2], rtol=1e-5)  # lossless both
    assert out.shape == (3, 10)


def test_the_preprocessed_signature_is_tf_slims_input():
    loaded = tf.saved_model.load(fx.lenet_export())
    signature = loaded.signatures['preprocessed']
    spec = signature.structured_input_signature[1]
    assert list(spec) == ['input'] and spec['input'].shape.as_list() == [
        None,
        28,
        28,
        3,
    ]
    preprocess = preprocessing_factory.get_preprocessing('lenet')
    images = tf.stack(
        [
            preprocess(tf.io.decode_jpeg(p, channels=3), 28, 28)
            for p in fx.photos()
        ]
    )
    np.testing.assert_allclose(
        signature(input=images)['probabilities'].numpy(),
        loaded.signatures['serving_default'](images=tf.constant(fx.photos()))[
            'probabilities'
        ].numpy(),
        rtol=1e-6,
    )


def _digits_batch(count=64):
    from slim_datasets import digits

    split = digits.get_split('validation', fx.digits_dir())
    preprocess = preprocessing_factory.get_preprocessing('lenet')
    return np.stack(
        [
            preprocess(image, 28, 28).numpy()
            for image, _ in split.read(shuffle=False).take(count)
        ]
    )


def test_tflite_top1_equals_the_saved_models(tmp_path, capsys):
    out = str(tmp_path / 'lenet.tflite')
    assert (
        export(
            '--checkpoint_path=' + fx.lenet_run(),
            '--dataset_dir=' + fx.digits_dir(),
            '--output_format=tflite',
            '--output_file=' + out,
        )
        == 0
    )
    assert os.path.exists(str(tmp_path / 'lenet.labels.txt'))
    images = _digits_batch()
    with open(out, 'rb') as f:
        lite = exporters.run_tflite(f.read(), images, batch_size=16)
    loaded = tf.saved_model.load(fx.lenet_export())
    saved = loaded.signatures['preprocessed'](input=images)
    assert np.array_equal(
        np.argmax(lite['probabilities'], 1),
        saved['top_k_classes'].numpy()[:, 0],
    )
    np.testing.assert_allclose(
        lite['probabilities'], saved['probabilities'].numpy(), atol=1e-5
    )


def test_quantized_tflite_is_int8_and_reports_its_agreement(tmp_path, capsys):
    out = str(tmp_path / 'lenet_quantized.tflite')
    assert (
        export(
            '--checkpoint_path=' + fx.lenet_run(),
            '--dataset_dir=' + fx.digits_dir(),
            '--output_format=tflite',
            '--quantize',
            '--num_calibration_images=8',
            '--output_file=' + out,
        )
        == 0
    )
    text = capsys.readouterr().out
    agreement = re.search(
        r'top-1 equals the float model\'s on ([\d.]+)% of '
        r'297 digits/validation images',
        text,
    )
    assert agreement, text
    interpreter = tf.lite.Interpreter(model_path=out)
    kinds = {d['dtype'] for d in interpreter.get_tensor_details()}
    assert np.int8 in kinds  # weights and activations quantized
    # Its input and output stay float, so it takes the same images.
    assert interpreter.get_input_details()[0]['dtype'] == np.float32
    # A quarter of the float weights' bytes, and a little more.
    checkpoint = tf.train.latest_checkpoint(fx.lenet_run())
    weights = sum(
        np.prod(shape) * 4
        for name, shape in tf.train.list_variables(checkpoint)
        if name.startswith('model/')
    )
    assert os.path.getsize(out) < weights / 2


def test_frozen_graphdef_runs_in_a_session_with_tf_slims_names(
    tmp_path, capsys, checkpoints
):
    model, prefix = checkpoints['cifarnet']
    out = str(tmp_path / 'cifarnet.pb')
    assert (
        export(
            '--model_name=cifarnet',
            '--checkpoint_path=' + prefix,
            '--dataset_dir=' + fx.digits_dir(),
            '--image_size=32',
            '--output_format=graphdef',
            '--output_file=' + out,
        )
        == 0
    )
    assert "output 'CifarNet/Predictions/Reshape_1'" in capsys.readouterr().out
    graph_def = tf.compat.v1.GraphDef()
    with open(out, 'rb') as f:
        graph_def.ParseFromString(f.read())
    ops = [n.op for n in graph_def.node]
    assert 'VarHandleOp' not in ops and 'ReadVariableOp' not in ops
    preprocess = preprocessing_factory.get_preprocessing('cifarnet')
    images = np.stack(
        [
            preprocess(tf.io.decode_jpeg(p, channels=3), 32, 32).numpy()
            for p in fx.photos()[:4]
        ]
    )
    with tf.Graph().as_default() as graph:
        tf.compat.v1.import_graph_def(graph_def, name='')
        with tf.compat.v1.Session(graph=graph) as session:
            probabilities = session.run(
                'CifarNet/Predictions/Reshape_1:0', {'input:0': images}
            )
    logits, _ = model(tf.constant(images), is_training=False)
    np.testing.assert_allclose(
        probabilities, tf.nn.softmax(logits).numpy(), rtol=1e-5, atol=1e-7
    )


def test_text_graphdef_of_the_default_run(tmp_path):
    from google.protobuf import text_format

    out = str(tmp_path / 'lenet.pbtxt')
    assert (
        export(
            '--checkpoint_path=' + fx.lenet_run(),
            '--dataset_dir=' + fx.digits_dir(),
            '--output_format=graphdef',
            '--write_text_graphdef',
            '--output_file=' + out,
        )
        == 0
    )
    with open(out) as f:
        graph_def = text_format.Parse(f.read(), tf.compat.v1.GraphDef())
    names = {n.name for n in graph_def.node}
    # TF-Slim's LeNet puts its predictions outside the LeNet scope.
    assert {'input', 'Predictions/Reshape_1'} <= names


@pytest.mark.parametrize(
    'name', ['inception_v1', 'inception_v3', 'resnet_v1_50']
)
def test_graphdef_output_name_is_tf_slims(name):
    """The output node TF-Slim's own net has (run under tf_slim)."""
    import tf_slim
    from tf_slim.nets import inception, resnet_v1

    tf_slim_nets = {
        'inception_v1': (
            inception.inception_v1,
            inception.inception_v1_arg_scope,
        ),
        'inception_v3': (
            inception.inception_v3,
            inception.inception_v3_arg_scope,
        ),
        'resnet_v1_50': (resnet_v1.resnet_v1_50, resnet_v1.resnet_arg_scope),
    }
    size = _small_size(name)  # names do not depend on the size
    with tf.Graph().as_default():
        fn, scope = tf_slim_nets[name]
        with tf_slim.arg_scope(scope()):
            _, points = fn(
                tf.compat.v1.placeholder(tf.float32, [1, size, size, 3]),
                num_classes=10,
                is_training=False,
            )
        expected = points.get('Predictions', points.get('predictions'))
        expected = expected.op.name
    with tf.Graph().as_default():
        model = nets_factory.get_network_fn(name, 10)
        logits, points = model(
            tf.compat.v1.placeholder(tf.float32, [1, size, size, 3])
        )
        ours = inference._tf_slim_output_name(
            points.get('Predictions', points.get('predictions')), logits
        )
    assert ours == expected


def _batch_norm_net(images, num_classes=10, is_training=False, scope='BN'):
    """Batch norm after each kind of convolution the DSL emits: 3x3
    (Conv2D), 1x1 (a matmul between reshapes) and depthwise."""
    params = {'is_training': is_training, 'scale': True}
    with slim.variable_scope(scope, 'BN', [images]):
        with slim.arg_scope(
            [slim.conv2d, slim.separable_conv2d],
            normalizer_fn=slim.batch_norm,
            normalizer_params=params,
        ):
            net = slim.conv2d(images, 8, [3, 3], scope='Conv_3x3')
            net = slim.conv2d(net, 6, [1, 1], scope='Conv_1x1')
            net = slim.separable_conv2d(
                net, None, [3, 3], depth_multiplier=2, scope='Depthwise'
            )
        net = tf.reduce_mean(net, [1, 2])
        logits = slim.fully_connected(
            net, num_classes, activation_fn=None, scope='Logits'
        )
    return logits, {}


def _batch_norm_module():
    """`_batch_norm_net` with random weights and statistics, for serving."""
    model = slim.Model(_batch_norm_net)
    model(tf.zeros([1, 16, 16, 3]))
    fx.randomize(model)
    return inference.InferenceModule(
        model, preprocessing_factory.get_preprocessing('inception'), 16, LABELS
    )


def test_batch_norm_folding_keeps_the_probabilities():
    module = _batch_norm_module()
    plain, _, output = exporters.to_frozen_graphdef(module, fold=False)
    folded, _, _ = exporters.to_frozen_graphdef(module, fold=True)
    count = lambda g, op: sum(n.op.startswith(op) for n in g.node)  # noqa
    # The library folds the depthwise convolution's batch norm already.
    assert count(plain, 'FusedBatchNorm') == 2
    assert count(folded, 'FusedBatchNorm') == 0
    # The replaced weights and statistics are gone, not carried along.
    assert count(folded, 'Const') < count(plain, 'Const')
    images = (
        np.random.RandomState(1)
        .uniform(-1, 1, [3, 16, 16, 3])
        .astype(np.float32)
    )
    results = []
    for graph_def in (plain, folded):
        with tf.Graph().as_default() as graph:
            tf.compat.v1.import_graph_def(graph_def, name='')
            with tf.compat.v1.Session(graph=graph) as session:
                results.append(session.run(output + ':0', {'input:0': images}))
    expected = module.predict(images)['probabilities'].numpy()
    assert not np.allclose(expected, 0.1, atol=1e-3)  # not a flat answer
    np.testing.assert_allclose(results[0], expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(results[1], expected, rtol=1e-4, atol=1e-6)


def _function_ops(saved_model_dir):
    """The op types of every function a SavedModel stores."""
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(saved_model_dir, 'saved_model.pb'), 'rb') as f:
        proto.ParseFromString(f.read())
    graph = proto.meta_graphs[0].graph_def
    return [n.op for n in graph.node] + [
        n.op for f in graph.library.function for n in f.node_def
    ]


def test_the_saved_model_serves_the_net_folded_unless_told_not_to(tmp_path):
    module = _batch_norm_module()
    model = module.model
    images = (
        np.random.RandomState(1)
        .uniform(-1, 1, [3, 16, 16, 3])
        .astype(np.float32)
    )
    expected = module.predict(images)['probabilities'].numpy()
    photos = tf.constant(fx.photos()[:2])
    expected_photos = module.serve_images(photos)['probabilities'].numpy()
    for fold in (True, False):
        out = str(tmp_path / ('folded' if fold else 'variables'))
        exporters.save_saved_model(module, out, fold=fold)
        ops = _function_ops(out)
        assert sum(op.startswith('FusedBatchNorm') for op in ops) == (
            0 if fold else 2
        ), fold
        with open(os.path.join(out, exporters.METADATA_FILE)) as f:
            assert json.load(f)['batch_norm_folded'] is fold
        stored = tf.train.list_variables(
            os.path.join(out, 'variables', 'variables')
        )
        assert sum('VARIABLE_VALUE' in name for name, _ in stored) == (
            0 if fold else len(model.variables)
        )
        loaded = tf.saved_model.load(out)
        served = loaded.signatures['preprocessed'](input=images)
        np.testing.assert_allclose(
            served['probabilities'], expected, rtol=1e-4, atol=1e-6
        )
        served = loaded.signatures['serving_default'](images=photos)
        np.testing.assert_allclose(
            served['probabilities'], expected_photos, rtol=1e-4, atol=1e-6
        )
        assert served['top_k_names'].shape == (2, 5)


def test_nofold_batch_norms_keeps_the_variables_in_the_export(tmp_path):
    out = str(tmp_path / 'variables')
    assert (
        export(
            '--checkpoint_path=' + fx.lenet_run(),
            '--dataset_dir=' + fx.digits_dir(),
            '--nofold_batch_norms',
            '--output_file=' + out,
        )
        == 0
    )
    stored = dict(
        tf.train.list_variables(os.path.join(out, 'variables', 'variables'))
    )
    assert stored[
        'model/_vars/LeNet.Sconv1.Sweights/.ATTRIBUTES/VARIABLE_VALUE'
    ] == [5, 5, 3, 32]
    kept = tf.saved_model.load(out)
    frozen = tf.saved_model.load(fx.lenet_export())
    photos = tf.constant(fx.photos()[:3])
    np.testing.assert_allclose(
        kept.signatures['serving_default'](images=photos)['probabilities'],
        frozen.signatures['serving_default'](images=photos)['probabilities'],
        rtol=1e-5,
        atol=1e-7,
    )


def test_moving_averages_are_exported(tmp_path):
    out = str(tmp_path / 'ema')
    assert (
        export(
            '--checkpoint_path=' + fx.lenet_run(),
            '--dataset_dir=' + fx.digits_dir(),
            '--moving_average_decay=0.9',
            '--output_file=' + out,
        )
        == 0
    )
    loaded = tf.saved_model.load(out)
    model = nets_factory.get_network_fn('lenet', 10)
    model(tf.zeros([1, 28, 28, 3]))
    path = tf.train.latest_checkpoint(fx.lenet_run())
    slim.assign_from_checkpoint(
        {slim.moving_averages.average_name(v): v for v in model.variables}, path
    )
    images = _digits_batch(8)
    logits, _ = model(tf.constant(images), is_training=False)
    served = loaded.signatures['preprocessed'](input=images)
    np.testing.assert_allclose(
        served['logits'].numpy(), logits.numpy(), rtol=1e-5, atol=1e-6
    )
    plain = tf.saved_model.load(fx.lenet_export()).signatures['preprocessed'](
        input=images
    )
    assert not np.allclose(plain['logits'].numpy(), logits.numpy())


def _damaged_run(tmp_path):
    run = str(tmp_path / 'damaged_run')
    shutil.copytree(
        fx.lenet_run(), run, ignore=shutil.ignore_patterns('export*')
    )
    for data in glob.glob(os.path.join(run, 'ckpt-*.data-*')):
        with open(data, 'r+b') as f:
            f.truncate(16)
    return run


@pytest.mark.parametrize(
    'args, flag',
    [
        (['--checkpoint_path={empty}'], '--checkpoint_path'),
        (['--checkpoint_path={empty}/nothing'], '--checkpoint_path'),
        (['--checkpoint_path={damaged}'], '--checkpoint_path'),
        (['--checkpoint_path={damaged}/ckpt-10'], '--checkpoint_path'),
        (['--model_name=no_such_net'], '--model_name'),
        (['--model_name=cifarnet'], '--checkpoint_path'),
        (
            ['--moving_average_decay=0.9', '--checkpoint_path={random_lenet}'],
            '--checkpoint_path',
        ),
        (['--model_name=' + VIDEO_NET], '--model_name'),
        (['--is_video_model'], '--is_video_model'),
        (['--num_frames=4'], '--num_frames'),
        (['--output_format=onnx'], '--output_format'),
        (['--quantize'], '--quantize'),
        (['--is_training'], '--is_training'),
        (['--image_size=0'], '--image_size'),
        (['--labels_offset=10'], '--labels_offset'),
        (['--dataset_name=imagenet'], '--dataset_dir'),
    ],
)
def test_bad_input_is_one_line_naming_the_flag(
    tmp_path, capsys, video_net, args, flag
):
    empty = tmp_path / 'empty'
    empty.mkdir()
    random_lenet = str(tmp_path / 'random_lenet')
    if '{random_lenet}' in ' '.join(args):
        _random_checkpoint('lenet', 28, random_lenet)
        random_lenet = os.path.join(random_lenet, 'lenet')
    damaged = _damaged_run(tmp_path) if '{damaged}' in ' '.join(args) else ''
    args = [
        a.format(empty=empty, damaged=damaged, random_lenet=random_lenet)
        for a in args
    ]
    base = [
        '--checkpoint_path=' + fx.lenet_run(),
        '--dataset_dir=' + fx.digits_dir(),
        '--output_file=' + str(tmp_path / 'out'),
    ]
    assert export(*(base + args)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith('export_inference_graph.py: error: ' + flag), err
    assert not os.path.exists(str(tmp_path / 'out'))


def test_a_video_net_exports_with_is_video_model(tmp_path, video_net):
    folder = str(tmp_path)
    model, prefix = None, None
    model = _random_model(video_net, 10, [1, 3, 32, 32, 3])
    prefix = tf.train.Checkpoint(model=model).write(
        os.path.join(folder, 'video', 'ckpt-1')
    )
    out = str(tmp_path / 'export')
    assert (
        export(
            '--model_name=' + video_net,
            '--checkpoint_path=' + prefix,
            '--dataset_dir=' + fx.digits_dir(),
            '--is_video_model',
            '--output_file=' + out,
        )
        == 0
    )
    loaded = tf.saved_model.load(out)
    spec = loaded.signatures['serving_default'].structured_input_signature[1]
    assert spec['images'].shape.as_list() == [None, 3]
    clips = np.array(fx.photos(), dtype=object).reshape([2, 3])
    with pytest.raises(
        tf.errors.InvalidArgumentError,
        match=r'images\[1, 2\] is not a decodable',
    ):
        bad = clips.copy()
        bad[1, 2] = b'broken'
        loaded.signatures['serving_default'](images=tf.constant(bad))
