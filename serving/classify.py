"""Classifies image files with an exported SavedModel or an `InferenceModule`.

```python
classifier = classify.load_saved_model('/tmp/tfmodel/export')
for result in classify.classify_files(classifier, ['a.jpg', 'photos/']):
    print(result.path, result.error or result.top_k)
```

A directory stands for the image files in it (by extension, sorted). A file
that cannot be read or decoded gives a result with `error` set, one line,
and the others are classified all the same.
"""

import collections
import csv
import io
import json
import os

import tensorflow as tf

from slim.errors import ArgumentError

__all__ = [
    'Result',
    'load_saved_model',
    'module_classifier',
    'expand_paths',
    'classify_files',
    'format_text',
    'format_csv',
    'format_json',
    'IMAGE_EXTENSIONS',
]

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.gif', '.bmp')

Result = collections.namedtuple('Result', ['path', 'top_k', 'error'])
Result.__doc__ = """One file's outcome: `top_k` a list of `(class_id, label,
probability)`, best first, or `error` a one-line reason (and `top_k`
None)."""


def load_saved_model(export_dir):
    """A classifier `fn(list of bytes) -> {output: numpy array}` running the
    SavedModel's `serving_default` signature.

    Raises:
      ValueError: `saved_model=...` if the folder holds no SavedModel or it
        has no image signature.
    """
    if not tf.saved_model.contains_saved_model(export_dir):
        raise ArgumentError(
            'export_dir',
            export_dir,
            'holds no SavedModel',
            hint='export one with python export_inference_graph.py',
        )
    loaded = tf.saved_model.load(export_dir)
    signature = loaded.signatures.get('serving_default')
    inputs = signature.structured_input_signature[1] if signature else {}
    spec = inputs.get('images')
    if spec is None or spec.dtype != tf.string:
        raise ArgumentError(
            'export_dir',
            export_dir,
            'has no serving_default signature on encoded '
            'images (an export of export_inference_graph.py '
            'has one)',
        )
    if spec.shape.rank != 1:
        raise ArgumentError(
            'export_dir',
            export_dir,
            'is a video net\'s export (input %s); classifying '
            'single images needs an image net' % spec.shape,
        )

    def classify(encoded):
        outputs = signature(images=tf.constant(encoded, tf.string))
        return {k: v.numpy() for k, v in outputs.items()}

    classify.loaded = loaded  # keeps the variables alive
    return classify


def module_classifier(module):
    """A classifier (as `load_saved_model`'s) of an `InferenceModule`."""

    def classify(encoded):
        outputs = module.serve_images(tf.constant(encoded, tf.string))
        return {k: v.numpy() for k, v in outputs.items()}

    return classify


def expand_paths(paths):
    """`(files, missing)`: the files named and the image files of the
    directories named (sorted, hidden ones skipped), in order; `missing` the
    paths that name nothing."""
    files, missing = [], []
    for path in paths:
        if os.path.isdir(path):
            for name in sorted(os.listdir(path)):
                full = os.path.join(path, name)
                if (
                    not name.startswith('.')
                    and os.path.isfile(full)
                    and name.lower().endswith(IMAGE_EXTENSIONS)
                ):
                    files.append(full)
        elif os.path.exists(path):
            files.append(path)
        else:
            missing.append(path)
    return files, missing


def classify_files(classifier, files, batch_size=32, on_progress=None):
    """Classifies files in batches; yields one `Result` per file, in order.

    A batch that fails (a file is not a decodable image) is run image by
    image, so one bad file costs only itself. `on_progress(done, total)` is
    called after each batch.
    """
    total = len(files)
    for start in range(0, total, batch_size):
        batch = files[start : start + batch_size]
        results = [None] * len(batch)
        encoded = []
        for i, path in enumerate(batch):
            try:
                with open(path, 'rb') as f:
                    encoded.append((i, f.read()))
            except OSError as e:
                results[i] = Result(
                    path, None, 'cannot be read: %s' % (e.strerror or e)
                )
        if encoded:
            try:
                outputs = classifier([data for _, data in encoded])
                for row, (i, _) in enumerate(encoded):
                    results[i] = Result(batch[i], _top_k(outputs, row), None)
            except tf.errors.InvalidArgumentError:
                for i, data in encoded:
                    results[i] = _classify_one(classifier, batch[i], data)
        yield from results
        if on_progress is not None:
            on_progress(min(start + batch_size, total), total)


def format_text(results):
    """Per image its path, then one `probability  label` line per class."""
    lines = []
    for r in results:
        lines.append(r.path)
        lines.extend('  %.4f  %s' % (p, label) for _, label, p in r.top_k)
    return '\n'.join(lines) + ('\n' if lines else '')


def format_csv(results):
    """CSV with a header: `path,rank,class_id,label,probability`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow(['path', 'rank', 'class_id', 'label', 'probability'])
    for r in results:
        for rank, (class_id, label, p) in enumerate(r.top_k, start=1):
            writer.writerow([r.path, rank, class_id, label, '%.6f' % p])
    return out.getvalue()


def format_json(results):
    """A JSON list of `{"path", "predictions": [{"class_id", "label",
    "probability"}]}`."""
    return (
        json.dumps(
            [
                {
                    'path': r.path,
                    'predictions': [
                        {'class_id': c, 'label': label, 'probability': p}
                        for c, label, p in r.top_k
                    ],
                }
                for r in results
            ],
            indent=2,
        )
        + '\n'
    )


def _classify_one(classifier, path, data):
    try:
        return Result(path, _top_k(classifier([data]), 0), None)
    except tf.errors.InvalidArgumentError as e:
        text = str(e)
        if 'is not a decodable' in text:
            reason = 'not a decodable JPEG, PNG, GIF or BMP image'
        else:
            reason = text.strip().splitlines()[-1][:200]
        return Result(path, None, reason)


def _top_k(outputs, row):
    names = outputs['top_k_names'][row]
    return [
        (
            int(c),
            n.decode('utf-8') if isinstance(n, bytes) else str(n),
            float(p),
        )
        for c, n, p in zip(
            outputs['top_k_classes'][row],
            names,
            outputs['top_k_probabilities'][row],
        )
    ]
