"""MobileNet v2, v3 and EdgeTPU, as research/slim's `nets/mobilenet/` builds
them: each net is data (a conv def: a list of layer ops and their defaults)
that one generic builder (`mobilenet.mobilenet_base`, `mobilenet.mobilenet`)
turns into layers named as the published checkpoints name them.

- `conv_blocks`: the blocks (`expanded_conv`, `squeeze_excite`, ...).
- `mobilenet`: the builder, the depth multiplier and `training_scope`.
- `mobilenet_v2`: `V2_DEF` and `mobilenet` with its width variants.
- `mobilenet_v3`: `V3_LARGE`, `V3_SMALL`, the minimalistic defs and
  `V3_EDGETPU`, with `large`, `small`, `edge_tpu`, ...
"""
