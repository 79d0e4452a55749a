"""The checkpoints research/slim published, and the figures it quotes.

For each factory name: the archive of its ImageNet checkpoint, the top-1
accuracy research/slim reports for it (single crop, its evaluation
preprocessing, at the net's default size), and, where research/slim quotes
them, the parameters and multiply-adds (1001 classes). The model summary is
tested against these figures; the zoo table prints them.

Sources: research/slim's README.md (the model table), nets/mobilenet_v1.md,
nets/mobilenet/README.md and nets/nasnet/README.md in tensorflow/models;
where one of them disagrees with the net's paper, a comment says which.
"""
import collections

Published = collections.namedtuple(
    'Published', ['checkpoint', 'top1', 'parameters', 'multiply_adds'],
    defaults=(None, None))

_M = 1e6
_B = 1e9

CHECKPOINTS = {
    'inception_v1': Published('inception_v1_2016_08_28.tar.gz', 69.8),
    'inception_v2': Published('inception_v2_2016_08_28.tar.gz', 73.9),
    # research/inception's README: "5 billion multiply-adds" at 299; the
    # count of the net as built is 5.7 B (see the model summary's tests).
    'inception_v3': Published('inception_v3_2016_08_28.tar.gz', 78.0,
                              multiply_adds=5.7 * _B),
    'inception_v4': Published('inception_v4_2016_09_09.tar.gz', 80.2),
    'inception_resnet_v2': Published(
        'inception_resnet_v2_2016_08_30.tar.gz', 80.4),
    'resnet_v1_50': Published('resnet_v1_50_2016_08_28.tar.gz', 75.2),
    'resnet_v1_101': Published('resnet_v1_101_2016_08_28.tar.gz', 76.4),
    'resnet_v1_152': Published('resnet_v1_152_2016_08_28.tar.gz', 76.8),
    # The ResNet v2 figures are at 299 with inception preprocessing.
    'resnet_v2_50': Published('resnet_v2_50_2017_04_14.tar.gz', 75.6),
    'resnet_v2_101': Published('resnet_v2_101_2017_04_14.tar.gz', 77.0),
    'resnet_v2_152': Published('resnet_v2_152_2017_04_14.tar.gz', 77.8),
    'vgg_16': Published('vgg_16_2016_08_28.tar.gz', 71.5),
    'vgg_19': Published('vgg_19_2016_08_28.tar.gz', 71.1),
    'mobilenet_v1': Published('mobilenet_v1_1.0_224.tgz', 70.9,
                              4.24 * _M, 569 * _M),
    # mobilenet_v1.md lists 317 M multiply-adds; the MobileNet paper's
    # Table 6 gives this net 325 M, which is what its layers add up to.
    'mobilenet_v1_075': Published('mobilenet_v1_0.75_224.tgz', 68.4,
                                  2.59 * _M, 325 * _M),
    'mobilenet_v1_050': Published('mobilenet_v1_0.5_224.tgz', 63.3,
                                  1.34 * _M, 150 * _M),
    'mobilenet_v1_025': Published('mobilenet_v1_0.25_224.tgz', 49.8,
                                  0.47 * _M, 41 * _M),
    'mobilenet_v2': Published('mobilenet_v2_1.0_224.tgz', 71.8,
                              3.47 * _M, 300 * _M),
    'mobilenet_v2_140': Published('mobilenet_v2_1.4_224.tgz', 75.0,
                                  6.06 * _M, 582 * _M),
    'mobilenet_v2_035': Published('mobilenet_v2_0.35_224.tgz', 60.3,
                                  1.66 * _M, 59 * _M),
    'mobilenet_v3_large': Published('v3-large_224_1.0_float.tgz', 75.2,
                                    5.4 * _M, 217 * _M),
    'mobilenet_v3_small': Published('v3-small_224_1.0_float.tgz', 67.5,
                                    2.9 * _M, 66 * _M),
    'mobilenet_v3_large_minimalistic': Published(
        'v3-large-minimalistic_224_1.0_float.tgz', 72.3, 3.9 * _M, 209 * _M),
    'mobilenet_v3_small_minimalistic': Published(
        'v3-small-minimalistic_224_1.0_float.tgz', 61.9, 2.0 * _M, 65 * _M),
    'mobilenet_edgetpu': Published('mobilenet_edgetpu_224_1.0.tgz', 75.6,
                                   4.0 * _M, 990 * _M),
    'mobilenet_edgetpu_075': Published('mobilenet_edgetpu_224_0.75.tgz', 73.5,
                                       2.9 * _M, 624 * _M),
    'nasnet_mobile': Published('nasnet-a_mobile_04_10_2017.tar.gz', 74.0,
                               5.3 * _M, 564 * _M),
    'nasnet_large': Published('nasnet-a_large_04_10_2017.tar.gz', 82.7,
                              88.9 * _M, 23.8 * _B),
    'pnasnet_mobile': Published('pnasnet-5_mobile_2017_12_13.tar.gz', 74.2,
                                5.1 * _M, 588 * _M),
    'pnasnet_large': Published('pnasnet-5_large_2017_12_13.tar.gz', 82.9,
                               86.1 * _M, 25.0 * _B),
}


def published(name):
  """The `Published` record of net `name`, or None if it has none."""
  return CHECKPOINTS.get(name)
