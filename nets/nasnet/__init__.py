"""NASNet-A and PNASNet-5, the nets of research/slim's `nets/nasnet/`.

`nasnet_utils` holds what both share: the configuration object, the cell
(one implementation, driven by a `CellSpec` of operations and hidden-state
indices), factorized reduction and drop path. `nasnet` builds NASNet-A
(CIFAR, mobile and large), `pnasnet` PNASNet-5 (mobile and large).
"""
