"""From a trained net to serving: inference functions, exports, classifying.

- `inference.build(...)` restores a net from a checkpoint and wraps it in an
  `InferenceModule`: a `tf.Module` whose functions take encoded image bytes
  (evaluation preprocessing inside) or an already preprocessed float batch,
  and return probabilities, top-k ids and label names, and logits.
- `exporters` writes it as a SavedModel, a TFLite model (float or
  post-training quantized) or TF-Slim's frozen GraphDef.
- `classify` runs a SavedModel (or a module) over image files.

`export_inference_graph.py` and `classify_image.py` are the drivers.
"""
