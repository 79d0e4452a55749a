"""Writes an `InferenceModule` as a SavedModel, a TFLite model or a frozen
GraphDef.

- `save_saved_model(module, export_dir)`: signatures `serving_default`
  (encoded image bytes) and `preprocessed` (TF-Slim's float `input`), plus
  `assets.extra/export.json` describing the export. Written into a temporary
  folder and renamed, so a reader never sees half an export.
- `to_tflite(module, quantize=False, calibration_images=None)`: float, or
  post-training quantized (int8 weights and activations, float input and
  output) with ranges calibrated on preprocessed images.
- `to_frozen_graphdef(module)`: TF-Slim's frozen inference graph: the
  placeholder `input`, the probabilities as `<Scope>/Predictions/Reshape_1`,
  weights as constants, batch norm folded into the convolutions.
"""

import json
import os
import shutil
import warnings

import numpy as np
import tensorflow as tf

from serving import inference

__all__ = [
    'save_saved_model',
    'to_tflite',
    'to_frozen_graphdef',
    'fold_batch_norms',
    'write_file',
    'run_tflite',
    'IMAGES_SIGNATURE',
    'PREPROCESSED_SIGNATURE',
    'METADATA_FILE',
]

IMAGES_SIGNATURE = 'serving_default'
PREPROCESSED_SIGNATURE = 'preprocessed'
METADATA_FILE = os.path.join('assets.extra', 'export.json')


def save_saved_model(module, export_dir, metadata=None, fold=True):
    """Saves `module` as a SavedModel in `export_dir` (replacing one there).

    Args:
      module: an `inference.InferenceModule`.
      export_dir: the SavedModel folder to write.
      metadata: a JSON-able dict stored in `assets.extra/export.json`,
        beside what the module knows (input shape, labels, top-k).
      fold: serve a frozen net, weights as constants and batch norm folded
        into the convolution before it (`fold_batch_norms`): faster, but the
        export holds no variables to fine-tune or read. Without it the
        signatures read the net's variables, which the SavedModel keeps.

    Returns:
      `export_dir`.
    """
    export_dir = os.path.normpath(export_dir)
    parent = os.path.dirname(os.path.abspath(export_dir))
    os.makedirs(parent, exist_ok=True)
    tmp = '%s.tmp-%d' % (export_dir, os.getpid())
    if os.path.exists(tmp):
        shutil.rmtree(tmp)
    holder = tf.Module()
    if fold:
        serve_preprocessed = _frozen(module.serve_preprocessed)
        # Decoding and preprocessing read no variables; the net is the one
        # frozen function, so its weights are stored once.
        serve_images = tf.function(
            lambda images: serve_preprocessed(module.preprocess(images)),
            input_signature=module.serve_images.input_signature,
            autograph=False,
        )
    else:
        serve_preprocessed = module.serve_preprocessed
        # Only the signatures and the variables they read are saved: saving
        # the module itself would store its tf.functions again, half the
        # save time.
        holder.model = module.model
        serve_images = module.serve_images
    signatures = {
        IMAGES_SIGNATURE: serve_images.get_concrete_function(),
        PREPROCESSED_SIGNATURE: serve_preprocessed.get_concrete_function(),
    }
    try:
        tf.saved_model.save(holder, tmp, signatures=signatures)
        record = dict(metadata or {})
        record.update(
            {
                'batch_norm_folded': bool(fold),
                'input_shape': module.input_shape,
                'num_frames': module.num_frames,
                'image_size': module.image_size,
                'channels': module.channels,
                'top_k': module.top_k,
                'label_names': module.label_names,
                'signatures': {
                    IMAGES_SIGNATURE: 'encoded images (string)',
                    PREPROCESSED_SIGNATURE: 'preprocessed float batch (input)',
                },
                'outputs': list(inference.OUTPUT_KEYS),
            }
        )
        os.makedirs(os.path.join(tmp, 'assets.extra'), exist_ok=True)
        with open(os.path.join(tmp, METADATA_FILE), 'w', encoding='utf-8') as f:
            json.dump(record, f, indent=2, sort_keys=True)
        old = None
        if os.path.exists(export_dir):
            old = '%s.old-%d' % (export_dir, os.getpid())
            os.rename(export_dir, old)
        os.rename(tmp, export_dir)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if os.path.exists(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
    return export_dir


def _frozen(function):
    """`function` (a `tf.function` with an input signature) with its
    variables turned into constants and batch norm folded, as a
    `tf.function` of the same signature and outputs."""
    concrete = function.get_concrete_function()
    graph_def, inputs, outputs = _freeze(concrete)
    graph_def = fold_batch_norms(graph_def)
    structure = concrete.structured_outputs

    def call(*args):
        # Imported into the function's own graph: the constants become the
        # function's, saved once however many signatures call it.
        results = tf.graph_util.import_graph_def(
            graph_def,
            input_map=dict(zip(inputs, args)),
            return_elements=outputs,
            name='frozen',
        )
        return tf.nest.pack_sequence_as(structure, results)

    return tf.function(
        call, input_signature=function.input_signature, autograph=False
    )


def _freeze(concrete):
    """The graph of `concrete` with each variable read replaced by the
    variable's value: `(graph_def, input tensor names, output tensor names)`
    (outputs flattened, a dict's values in sorted key order).

    TF's `convert_variables_to_constants_v2` does this for any function but
    took 20 s on Inception-ResNet-v2's 900 variables; the net's functions
    read variables directly, which takes a dictionary lookup per read. A
    function that calls others goes to TF's converter."""
    graph_def = concrete.graph.as_graph_def()
    if any(
        n.op in ('PartitionedCall', 'StatefulPartitionedCall')
        for n in graph_def.node
    ):
        from tensorflow.python.framework import convert_to_constants

        frozen = convert_to_constants.convert_variables_to_constants_v2(
            concrete
        )
        return (
            frozen.graph.as_graph_def(),
            [t.name for t in frozen.inputs],
            [t.name for t in frozen.outputs],
        )
    by_handle = {id(v.handle): v for v in concrete.variables}
    handles = {}
    for captured, placeholder in zip(
        concrete.captured_inputs, concrete.graph.internal_captures
    ):
        variable = by_handle.get(id(captured))
        if variable is not None:
            handles[placeholder.op.name] = variable
    nodes = []
    for node in graph_def.node:
        if node.name in handles:
            continue
        if node.op == 'ReadVariableOp' and _node_name(node.input[0]) in handles:
            value = handles[_node_name(node.input[0])].numpy()
            node = _const_node(node.name, value)
        nodes.append(node)
    kept = {n.name for n in nodes}
    for node in nodes:
        inputs = [i for i in node.input if _node_name(i) in kept]
        if len(inputs) != len(node.input):
            dropped = [i for i in node.input if _node_name(i) not in kept]
            if any(not i.startswith('^') for i in dropped):
                raise ValueError(
                    '%s reads a variable other than by '
                    'ReadVariableOp: %s' % (node.name, dropped)
                )
            del node.input[:]
            node.input.extend(inputs)
    del graph_def.node[:]
    graph_def.node.extend(nodes)
    captured = set(id(t) for t in concrete.graph.internal_captures)
    inputs = [t.name for t in concrete.inputs if id(t) not in captured]
    return graph_def, inputs, [t.name for t in concrete.outputs]


def to_tflite(module, quantize=False, calibration_images=None):
    """Converts the module's `predict` (float input, probabilities and
    logits out) to a TFLite flatbuffer.

    Args:
      module: an `inference.InferenceModule`.
      quantize: post-training quantization: int8 weights and activations
        with float input and output; the activation ranges are calibrated on
        `calibration_images`.
      calibration_images: an iterable of preprocessed images (the net's input
        without the batch dimension), needed with `quantize`.

    Returns:
      The model as bytes.

    Raises:
      ValueError: `calibration_images` missing or empty with `quantize`.
    """
    function = module.predict.get_concrete_function()
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [function], module
    )
    if quantize:
        images = [
            np.asarray(i, np.float32)
            for i in (() if calibration_images is None else calibration_images)
        ]
        if not images:
            raise ValueError(
                'calibration_images: quantizing needs images to '
                'calibrate the activation ranges on; got none'
            )
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([i[None]] for i in images)
    return converter.convert()


def run_tflite(model_content, images, batch_size=1):
    """Runs a TFLite model from `to_tflite` on a float batch; returns
    `{'probabilities': ..., 'logits': ...}` as numpy arrays."""
    with warnings.catch_warnings():
        # It says to move to ai_edge_litert, a package this project does not
        # depend on; tf.lite still runs in TF 2.21.
        warnings.simplefilter('ignore')
        interpreter = tf.lite.Interpreter(model_content=model_content)
    runner = interpreter.get_signature_runner()
    images = np.asarray(images, np.float32)
    outputs = {}
    for start in range(0, len(images), batch_size):
        result = runner(
            **{inference.INPUT_NAME: images[start : start + batch_size]}
        )
        for key, value in result.items():
            outputs.setdefault(key, []).append(value)
    return {k: np.concatenate(v) for k, v in outputs.items()}


def to_frozen_graphdef(module, fold=True):
    """The module's `predict` as TF-Slim's frozen inference GraphDef.

    Returns:
      `(graph_def, input_name, output_name)`: the placeholder is `input`,
      the probabilities `<Scope>/Predictions/Reshape_1` as TF-Slim named
      them (e.g. `InceptionV3/Predictions/Reshape_1`); the logits keep the
      net's names. With `fold`, batch norm is folded into the convolution
      before it (`fold_batch_norms`).
    """
    function = module.predict.get_concrete_function()
    graph_def, _, outputs = _freeze(function)
    output_name = module.tf_slim_output_name
    # The frozen function's outputs are the flattened structure (a dict's
    # values in sorted key order).
    keys = sorted(function.structured_outputs)
    produced = _node_name(outputs[keys.index('probabilities')])
    names = {node.name for node in graph_def.node}
    if output_name not in names:
        _rename_node(graph_def, produced, output_name)
    placeholder = [n for n in graph_def.node if n.op == 'Placeholder']
    if len(placeholder) != 1:
        raise RuntimeError(
            'expected one placeholder in the frozen graph, '
            'found %d' % len(placeholder)
        )
    if placeholder[0].name != inference.INPUT_NAME:
        _rename_node(graph_def, placeholder[0].name, inference.INPUT_NAME)
    if fold:
        graph_def = fold_batch_norms(graph_def)
    return graph_def, inference.INPUT_NAME, output_name


def fold_batch_norms(graph_def):
    """Folds inference-mode batch norm into the convolution it follows.

    `FusedBatchNorm*(conv(x, W))` with constant `W` and statistics becomes
    `BiasAdd(conv(x, W * s), beta - mean * s)`, `s = gamma / sqrt(var + eps)`;
    the BiasAdd takes the batch norm's name, so its consumers are unchanged.
    A convolution used elsewhere too is left alone.

    Returns:
      A new GraphDef (the input is not changed).
    """
    graph_def_out = tf.compat.v1.GraphDef()
    graph_def_out.CopyFrom(graph_def)
    nodes = {n.name: n for n in graph_def_out.node}
    consumers = {}
    for node in graph_def_out.node:
        for name in node.input:
            consumers.setdefault(_node_name(name), []).append(node.name)
    replaced = []
    for bn in list(graph_def_out.node):
        if bn.op not in (
            'FusedBatchNorm',
            'FusedBatchNormV2',
            'FusedBatchNormV3',
        ):
            continue
        if bn.attr['is_training'].b or bn.attr['data_format'].s not in (
            b'NHWC',
            b'',
        ):
            continue
        conv = nodes.get(_node_name(bn.input[0]))
        if conv is not None and conv.op == 'Reshape':
            # A 1x1 convolution computed as reshape, matmul, reshape.
            matmul = nodes.get(_node_name(conv.input[0]))
            if (
                matmul is None
                or matmul.op != 'MatMul'
                or matmul.attr['transpose_b'].b
                or len(consumers.get(matmul.name, ())) != 1
                or len(consumers.get(conv.name, ())) != 1
            ):
                continue
            weighted = matmul
        elif conv is not None and conv.op in (
            'Conv2D',
            'DepthwiseConv2dNative',
        ):
            if len(consumers.get(conv.name, ())) != 1:
                continue
            weighted = conv
        else:
            continue
        if any(
            c != bn.name and _uses_output(nodes[c], bn.name)
            for c in consumers.get(bn.name, ())
        ):
            continue
        values = [
            _constant(nodes, name)
            for name in [weighted.input[1]] + list(bn.input[1:5])
        ]
        if any(v is None for v in values):
            continue
        weights, gamma, beta, mean, variance = values
        if mean.size == 0 or variance.size == 0:
            continue
        scale = gamma / np.sqrt(variance + bn.attr['epsilon'].f)
        if weighted.op == 'DepthwiseConv2dNative':
            # [h, w, in, multiplier]: output channel in * multiplier.
            folded = weights * scale.reshape(weights.shape[2:])
        else:  # Conv2D [h, w, in, out], MatMul [in, out]
            folded = weights * scale
        weights_node = graph_def_out.node.add()
        weights_node.CopyFrom(
            _const_node(
                weighted.name + '/folded_weights', folded.astype(weights.dtype)
            )
        )
        replaced.append(weighted.input[1])
        weighted.input[1] = weights_node.name
        bias = beta - mean * scale
        bias_node = graph_def_out.node.add()
        bias_node.CopyFrom(
            _const_node(bn.name + '/folded_bias', bias.astype(weights.dtype))
        )
        dtype = tf.compat.v1.AttrValue()
        dtype.CopyFrom(bn.attr['T'])
        name = bn.name
        replaced.extend(bn.input[1:5])
        inputs = [bn.input[0], bias_node.name] + [
            i for i in bn.input if i.startswith('^')
        ]
        bn.Clear()
        bn.name = name
        bn.op = 'BiasAdd'
        bn.input.extend(inputs)
        bn.attr['T'].CopyFrom(dtype)
        bn.attr['data_format'].s = b'NHWC'
    _drop_unused(graph_def_out, replaced)
    return graph_def_out


def write_file(data, path):
    """Writes bytes to `path` through a temporary file and a rename."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = '%s.tmp-%d' % (path, os.getpid())
    try:
        with open(tmp, 'wb') as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def _drop_unused(graph_def, names):
    """Removes the nodes `names` and what feeds only them (the weights and
    statistics that folding replaced), as far as nothing else reads them.
    A frozen function keeps every variable read alive with a control edge
    from a NoOp; such edges do not count as reads."""
    used = {}
    for node in graph_def.node:
        for name in node.input:
            if not name.startswith('^'):
                used[_node_name(name)] = used.get(_node_name(name), 0) + 1
    nodes = {n.name: n for n in graph_def.node}
    dropped = set()
    pending = [_node_name(n) for n in names]
    while pending:
        name = pending.pop()
        node = nodes.get(name)
        if (
            node is None
            or name in dropped
            or used.get(name, 0)
            or node.op not in ('Const', 'Identity', 'Reshape')
        ):
            continue
        dropped.add(name)
        for i in node.input:
            if not i.startswith('^'):
                used[_node_name(i)] -= 1
                pending.append(_node_name(i))
    kept = [n for n in graph_def.node if n.name not in dropped]
    for node in kept:
        inputs = [
            i
            for i in node.input
            if not (i.startswith('^') and i[1:] in dropped)
        ]
        if len(inputs) != len(node.input):
            del node.input[:]
            node.input.extend(inputs)
    del graph_def.node[:]
    graph_def.node.extend(kept)


def _node_name(input_name):
    return input_name.lstrip('^').split(':')[0]


def _uses_output(node, name):
    """Whether `node` reads an output of `name` other than the first."""
    return any(
        i.startswith(name + ':') and i != name + ':0' for i in node.input
    )


def _constant(nodes, name):
    """The value of a Const node, seen through Identity and Reshape nodes;
    else None."""
    node = nodes.get(_node_name(name))
    while node is not None and node.op == 'Identity':
        node = nodes.get(_node_name(node.input[0]))
    if node is not None and node.op == 'Reshape':
        value, shape = (_constant(nodes, i) for i in node.input[:2])
        if value is None or shape is None:
            return None
        return np.reshape(value, shape)
    if node is None or node.op != 'Const':
        return None
    return tf.make_ndarray(node.attr['value'].tensor)


def _const_node(name, value):
    node = tf.compat.v1.NodeDef(name=name, op='Const')
    node.attr['dtype'].type = tf.as_dtype(value.dtype).as_datatype_enum
    node.attr['value'].tensor.CopyFrom(tf.make_tensor_proto(value))
    return node


def _rename_node(graph_def, old, new):
    for node in graph_def.node:
        if node.name == old:
            node.name = new
        for i, name in enumerate(node.input):
            control = name.startswith('^')
            base, sep, port = name.lstrip('^').partition(':')
            if base == old:
                node.input[i] = ('^' if control else '') + new + sep + port
