"""Exports a trained net for inference: flags -> factories -> serving.

With no flags it exports the run `python train_image_classifier.py` made in
/tmp/tfmodel/ as a SavedModel in /tmp/tfmodel/export/, which
`python classify_image.py IMAGE...` then uses:

    python export_inference_graph.py
    python classify_image.py photo.jpg

The weights are read from --checkpoint_path (a checkpoint or a training
directory, its newest checkpoint that reads back) into the export: there is
no separate freezing step. Flags left unset take their values from the
run's flags.json when the checkpoint directory has one (model, dataset,
preprocessing, image size, grayscale), so a run trained with other flags
exports with no flags too.

--output_format:
  saved_model  (default) signatures `serving_default` (a batch of encoded
               JPEG/PNG/GIF/BMP images; the evaluation preprocessing runs
               inside) and `preprocessed` (TF-Slim's float `input`). Both
               return probabilities, logits, top_k_classes,
               top_k_probabilities and top_k_names (labels embedded).
               The net is frozen and batch norm folded into the
               convolutions (faster to serve); --nofold_batch_norms keeps
               the variables in the SavedModel instead.
               Default --output_file: <train_dir>/export.
  tflite       a float TFLite model on the preprocessed input; with
               --quantize, post-training quantized (int8), calibrated on
               --num_calibration_images of the dataset's train split, and
               its top-1 agreement with the float model on the validation
               split is printed. Default: <train_dir>/model.tflite
               (model_quantized.tflite). The labels go beside it.
  graphdef     TF-Slim's frozen GraphDef: placeholder `input`, output
               `<Scope>/Predictions/Reshape_1`, weights as constants, batch
               norm folded. Default: <train_dir>/inference_graph.pb
               (.pbtxt with --write_text_graphdef).

TF-Slim's flags keep their names; model_name and dataset_name default to
lenet and digits (TF-Slim: inception_v3, imagenet). --is_training=true is
refused: an export is for inference.
"""

import json
import os
import sys

# First: it sets TensorFlow's environment before TensorFlow is imported.
import driver_utils as cli

from absl import flags
from absl import logging

from slim.errors import ArgumentError

FLAGS = flags.FlagValues()
_string, _integer, _float, _bool = cli.flag_definers(FLAGS)

OUTPUT_FORMATS = ('saved_model', 'tflite', 'graphdef')
DEFAULT_TRAIN_DIR = '/tmp/tfmodel/'

_string(
    'model_name',
    'lenet',
    'The name of the architecture to save. '
    'TF-Slim\'s default was inception_v3; here lenet.',
)
_bool(
    'is_training',
    False,
    'Whether to save out a training-focused version '
    'of the model. Only false: an export is for inference.',
)
_integer(
    'image_size',
    None,
    'The image size to use, otherwise use the model default_image_size.',
)
_integer(
    'batch_size',
    None,
    'Batch size for the exported model. Defaulted '
    'to "None" so batch size can be specified at model runtime.',
)
_string(
    'dataset_name',
    'digits',
    'The name of the dataset to use with the '
    'model (its labels are embedded). TF-Slim: imagenet.',
)
_integer(
    'labels_offset',
    0,
    'An offset for the labels in the dataset. This '
    'flag is primarily used to evaluate the VGG and ResNet architectures '
    'which do not use a background class for the ImageNet dataset.',
)
_string(
    'output_file',
    None,
    'Where to save the export (a folder for '
    'saved_model, a file otherwise). Default: beside the checkpoint, '
    'see the module docstring.',
)
_string(
    'dataset_dir',
    None,
    'The directory of the dataset: its labels, and '
    'with --quantize the calibration images. For digits, None means its '
    'cache folder.',
)
_bool(
    'write_text_graphdef',
    False,
    'Whether to write a text version of the '
    'GraphDef (with --output_format=graphdef).',
)
_bool('use_grayscale', False, 'Whether to convert input images to grayscale.')
_bool(
    'is_video_model',
    False,
    'Whether the model is a video model: the input '
    'is [batch, frames, height, width, channels].',
)
_integer(
    'num_frames',
    None,
    'The number of frames of a video model; the net\'s own by default.',
)
_bool(
    'quantize',
    False,
    'With --output_format=tflite: post-training '
    'quantization calibrated on --dataset_dir images (TF-Slim rewrote the '
    'graph with contrib fake-quant ops, which are gone).',
)
_string(
    'checkpoint_path',
    DEFAULT_TRAIN_DIR,
    'A checkpoint prefix or a '
    'training directory (its newest checkpoint that reads back).',
)
_float(
    'moving_average_decay',
    None,
    'Export the moving averages of the '
    'variables, as eval_image_classifier.py reads them. None: the '
    'variables.',
)
_string(
    'output_format', 'saved_model', 'One of %s.' % ', '.join(OUTPUT_FORMATS)
)
_string(
    'preprocessing_name',
    None,
    'The preprocessing inside the serving signature; None: model_name\'s.',
)
_bool(
    'fold_batch_norms',
    True,
    'With --output_format=saved_model: serve '
    'the net frozen, batch norm folded into the convolution before it. '
    'False keeps the variables (to fine-tune or inspect the export). The '
    'GraphDef always folds.',
)
_integer(
    'num_calibration_images',
    100,
    'With --quantize: how many train images calibrate the activation ranges.',
)

# Flags a training run's flags.json supplies when not given: its name there.
_FROM_RUN = {
    'model_name': 'model_name',
    'dataset_name': 'dataset_name',
    'dataset_dir': 'dataset_dir',
    'labels_offset': 'labels_offset',
    'preprocessing_name': 'preprocessing_name',
    'use_grayscale': 'use_grayscale',
    'image_size': 'train_image_size',
}


def main():
    """Validates the flags, then exports; see the module docstring."""
    from serving import inference

    _check_flags()
    try:
        checkpoint = inference.resolve_checkpoint(FLAGS.checkpoint_path)
    except ArgumentError as e:
        raise cli.flag_error(e) from None
    run_flags = _adopt_run_flags(checkpoint)
    module, dataset = _build_module(checkpoint)
    output = FLAGS.output_file or _default_output(checkpoint)
    if FLAGS.output_format == 'saved_model':
        _export_saved_model(module, output, checkpoint, run_flags)
    elif FLAGS.output_format == 'tflite':
        _export_tflite(module, output, dataset)
    else:
        _export_graphdef(module, output)


def _check_flags():
    cli.require_positive(
        FLAGS, 'image_size', 'batch_size', 'num_frames', allow_none=True
    )
    cli.require_positive(FLAGS, 'num_calibration_images')
    cli.require_non_negative(FLAGS, 'labels_offset')
    if FLAGS.output_format not in OUTPUT_FORMATS:
        raise cli.FlagError(
            '--output_format=%r: expected one of %s'
            % (FLAGS.output_format, ', '.join(OUTPUT_FORMATS))
        )
    if FLAGS.is_training:
        raise cli.FlagError(
            '--is_training=true: an export is for inference '
            '(batch norm on its moving statistics, no '
            'dropout); allowed: false'
        )
    if FLAGS.quantize and FLAGS.output_format != 'tflite':
        raise cli.FlagError(
            '--quantize=true: post-training quantization '
            'writes a TFLite model; pass '
            '--output_format=tflite (now %r)' % FLAGS.output_format
        )
    if FLAGS.num_frames and not FLAGS.is_video_model:
        raise cli.FlagError(
            '--num_frames=%d: only for a video model; pass '
            '--is_video_model' % FLAGS.num_frames
        )
    if (
        FLAGS.moving_average_decay is not None
        and not 0 < FLAGS.moving_average_decay < 1
    ):
        raise cli.FlagError(
            '--moving_average_decay=%r: must be in (0, 1)'
            % FLAGS.moving_average_decay
        )


def _adopt_run_flags(checkpoint):
    """Unset flags take the training run's values from its flags.json."""
    path = os.path.join(os.path.dirname(checkpoint), 'flags.json')
    try:
        with open(path, encoding='utf-8') as f:
            record = json.load(f)
        run_flags = dict(record.get('flags', {}))
        run_flags.update(record.get('resolved', {}))
    except (OSError, ValueError):
        return {}
    adopted = []
    for name, key in _FROM_RUN.items():
        if (
            not FLAGS[name].present
            and run_flags.get(key) is not None
            and run_flags[key] != FLAGS[name].value
        ):
            FLAGS[name].value = run_flags[key]
            adopted.append('--%s=%s' % (name, run_flags[key]))
    if adopted:
        logging.info('From the training run\'s %s: %s', path, ' '.join(adopted))
    return run_flags


def _build_module(checkpoint):
    from nets import nets_factory
    from serving import inference

    dataset = cli.get_dataset(FLAGS.dataset_name, 'train', FLAGS.dataset_dir)
    num_classes = dataset.num_classes - FLAGS.labels_offset
    # A known net, classes > 0; a video net is checked below.
    cli.get_network(FLAGS.model_name, num_classes, allow_video=True)
    spec = nets_factory.get_network_spec(FLAGS.model_name)
    preprocessing = FLAGS.preprocessing_name or FLAGS.model_name
    cli.get_preprocessing(preprocessing, False, FLAGS.use_grayscale)
    if spec.num_frames and not FLAGS.is_video_model:
        raise cli.FlagError(
            '--model_name=%r is a video net (input [batch, frames, height, '
            'width, channels]); pass --is_video_model (and --num_frames, '
            'default %d)' % (FLAGS.model_name, spec.num_frames)
        )
    if FLAGS.quantize and spec.num_frames:
        raise cli.FlagError(
            '--quantize=true: calibrating a video net on '
            'frames is not supported; export it as float'
        )
    if FLAGS.is_video_model and not spec.num_frames:
        raise cli.FlagError(
            '--is_video_model=true: --model_name=%r is an '
            'image net' % FLAGS.model_name
        )
    size = FLAGS.image_size
    if size and spec.min_image_size and size < spec.min_image_size:
        raise cli.FlagError(
            '--image_size=%d: too small for %s, which takes '
            '%d or more' % (size, FLAGS.model_name, spec.min_image_size)
        )
    frames = (FLAGS.num_frames or spec.num_frames) if spec.num_frames else None
    names = inference.label_names_for(
        dataset.labels_to_names, num_classes, FLAGS.labels_offset
    )
    try:
        module = inference.build(
            FLAGS.model_name,
            checkpoint,
            num_classes,
            names,
            image_size=size,
            preprocessing_name=preprocessing,
            use_grayscale=FLAGS.use_grayscale,
            moving_average_decay=FLAGS.moving_average_decay,
            num_frames=frames,
            batch_size=FLAGS.batch_size,
        )
    except ArgumentError as e:
        raise cli.flag_error(e) from None
    except ValueError as e:  # the net does not build at this size
        raise cli.FlagError(
            '--image_size=%r: %s does not build at this '
            'size: %s' % (size, FLAGS.model_name, str(e).splitlines()[0])
        ) from None
    logging.info(
        'Restored %s from %s (%s)',
        FLAGS.model_name,
        checkpoint,
        'moving averages' if FLAGS.moving_average_decay else 'variables',
    )
    return module, dataset


def _default_output(checkpoint):
    folder = os.path.dirname(checkpoint)
    if FLAGS.output_format == 'saved_model':
        return os.path.join(folder, 'export')
    if FLAGS.output_format == 'tflite':
        return os.path.join(
            folder,
            'model_quantized.tflite' if FLAGS.quantize else 'model.tflite',
        )
    return os.path.join(
        folder,
        'inference_graph.pbtxt'
        if FLAGS.write_text_graphdef
        else 'inference_graph.pb',
    )


def _export_saved_model(module, output, checkpoint, run_flags):
    from serving import exporters

    metadata = {
        'model_name': FLAGS.model_name,
        'dataset_name': FLAGS.dataset_name,
        'labels_offset': FLAGS.labels_offset,
        'preprocessing_name': FLAGS.preprocessing_name or FLAGS.model_name,
        'use_grayscale': FLAGS.use_grayscale,
        'checkpoint_path': checkpoint,
        'moving_average_decay': FLAGS.moving_average_decay,
        'training_run': {
            k: run_flags[k]
            for k in sorted(run_flags)
            if k in ('model_name', 'dataset_name', 'max_number_of_steps')
        },
    }
    try:
        exporters.save_saved_model(
            module, output, metadata, fold=FLAGS.fold_batch_norms
        )
    except OSError as e:
        raise cli.FlagError(
            '--output_file=%r cannot be written: %s' % (output, e.strerror or e)
        ) from None
    print(
        'Exported %s (%s) as a SavedModel to %s'
        % (FLAGS.model_name, checkpoint, output)
    )


def _export_tflite(module, output, dataset):
    import numpy as np
    from serving import exporters

    content = exporters.to_tflite(module)
    if FLAGS.quantize:
        float_content = content
        images = _dataset_images(
            dataset, FLAGS.num_calibration_images, module.image_size
        )
        content = exporters.to_tflite(
            module, quantize=True, calibration_images=images
        )
        validation = _validation_split()
        if validation is not None:
            images = _dataset_images(validation, 1000, module.image_size)
            top_float = np.argmax(
                exporters.run_tflite(float_content, images)['probabilities'], -1
            )
            top_quant = np.argmax(
                exporters.run_tflite(content, images)['probabilities'], -1
            )
            print(
                'Quantized model: top-1 equals the float model\'s on '
                '%.1f%% of %d %s/validation images'
                % (
                    100.0 * np.mean(top_float == top_quant),
                    len(images),
                    FLAGS.dataset_name,
                )
            )
    _write(content, output)
    _write_labels(module, output)
    print(
        'Exported %s as a %sTFLite model to %s'
        % (FLAGS.model_name, 'quantized ' if FLAGS.quantize else '', output)
    )


def _export_graphdef(module, output):
    from google.protobuf import text_format
    from serving import exporters

    graph_def, input_name, output_name = exporters.to_frozen_graphdef(module)
    data = (
        text_format.MessageToString(graph_def).encode('utf-8')
        if FLAGS.write_text_graphdef
        else graph_def.SerializeToString()
    )
    _write(data, output)
    _write_labels(module, output)
    print(
        'Exported %s as a frozen GraphDef to %s (input %r, output %r)'
        % (FLAGS.model_name, output, input_name, output_name)
    )


def _write(data, output):
    from serving import exporters

    if os.path.isdir(output):
        raise cli.FlagError(
            '--output_file=%r is a directory; expected a file '
            'name for --output_format=%s' % (output, FLAGS.output_format)
        )
    try:
        exporters.write_file(data, output)
    except OSError as e:
        raise cli.FlagError(
            '--output_file=%r cannot be written: %s' % (output, e.strerror or e)
        ) from None


def _write_labels(module, output):
    labels = os.path.splitext(output)[0] + '.labels.txt'
    _write(
        ''.join(
            '%d:%s\n' % (i, n) for i, n in enumerate(module.label_names)
        ).encode('utf-8'),
        labels,
    )


def _dataset_images(dataset, count, size):
    """`count` preprocessed images of a dataset split, as the net takes."""
    import numpy as np
    import tensorflow as tf
    from preprocessing import preprocessing_factory

    preprocess = preprocessing_factory.get_preprocessing(
        FLAGS.preprocessing_name or FLAGS.model_name,
        is_training=False,
        use_grayscale=FLAGS.use_grayscale,
    )
    data = (
        dataset.read(shuffle=False)
        .take(count)
        .map(lambda image, label: preprocess(image, size, size))
    )
    try:
        return np.stack([x.numpy() for x in data])
    except tf.errors.OpError as e:
        raise cli.FlagError(
            '--dataset_dir=%r: reading images failed: %s'
            % (FLAGS.dataset_dir, str(e).strip().splitlines()[0])
        ) from None


def _validation_split():
    try:
        return cli.get_dataset(
            FLAGS.dataset_name, 'validation', FLAGS.dataset_dir
        )
    except cli.FlagError as e:
        logging.warning(
            'No validation split to compare the quantized model on: %s', e
        )
        return None


def run(argv=None):
    """Runs the driver on `argv` (sys.argv by default); returns the exit code."""
    return cli.run(main, FLAGS, argv, __doc__)


if __name__ == '__main__':
    sys.exit(run())
