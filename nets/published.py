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
    'Published',
    ['checkpoint', 'top1', 'parameters', 'multiply_adds'],
    defaults=(None, None),
)
Published.__doc__ = """A published checkpoint: its archive name, top-1 (%),
and the parameters and multiply-adds as printed ('4.24 M', '23.8 B'), or
None where research/slim quotes none."""

_SCALE = {'k': 1e3, 'M': 1e6, 'B': 1e9}

CHECKPOINTS = {
    'inception_v1': Published('inception_v1_2016_08_28.tar.gz', 69.8),
    'inception_v2': Published('inception_v2_2016_08_28.tar.gz', 73.9),
    # research/inception's README: "5 billion multiply-adds" at 299; the
    # count of the net as built is 5.7 B (see the model summary's tests).
    'inception_v3': Published(
        'inception_v3_2016_08_28.tar.gz', 78.0, multiply_adds='5.7 B'
    ),
    'inception_v4': Published('inception_v4_2016_09_09.tar.gz', 80.2),
    'inception_resnet_v2': Published(
        'inception_resnet_v2_2016_08_30.tar.gz', 80.4
    ),
    'resnet_v1_50': Published('resnet_v1_50_2016_08_28.tar.gz', 75.2),
    'resnet_v1_101': Published('resnet_v1_101_2016_08_28.tar.gz', 76.4),
    'resnet_v1_152': Published('resnet_v1_152_2016_08_28.tar.gz', 76.8),
    # The ResNet v2 figures are at 299 with inception preprocessing.
    'resnet_v2_50': Published('resnet_v2_50_2017_04_14.tar.gz', 75.6),
    'resnet_v2_101': Published('resnet_v2_101_2017_04_14.tar.gz', 77.0),
    'resnet_v2_152': Published('resnet_v2_152_2017_04_14.tar.gz', 77.8),
    'vgg_16': Published('vgg_16_2016_08_28.tar.gz', 71.5),
    'vgg_19': Published('vgg_19_2016_08_28.tar.gz', 71.1),
    'mobilenet_v1': Published(
        'mobilenet_v1_1.0_224.tgz', 70.9, '4.24 M', '569 M'
    ),
    # mobilenet_v1.md lists 317 M multiply-adds; the MobileNet paper's
    # Table 6 gives this net 325 M, which is what its layers add up to.
    'mobilenet_v1_075': Published(
        'mobilenet_v1_0.75_224.tgz', 68.4, '2.59 M', '325 M'
    ),
    'mobilenet_v1_050': Published(
        'mobilenet_v1_0.5_224.tgz', 63.3, '1.34 M', '150 M'
    ),
    'mobilenet_v1_025': Published(
        'mobilenet_v1_0.25_224.tgz', 49.8, '0.47 M', '41 M'
    ),
    'mobilenet_v2': Published(
        'mobilenet_v2_1.0_224.tgz', 71.8, '3.47 M', '300 M'
    ),
    'mobilenet_v2_140': Published(
        'mobilenet_v2_1.4_224.tgz', 75.0, '6.06 M', '582 M'
    ),
    'mobilenet_v2_035': Published(
        'mobilenet_v2_0.35_224.tgz', 60.3, '1.66 M', '59 M'
    ),
    'mobilenet_v3_large': Published(
        'v3-large_224_1.0_float.tgz', 75.2, '5.4 M', '217 M'
    ),
    'mobilenet_v3_small': Published(
        'v3-small_224_1.0_float.tgz', 67.5, '2.9 M', '66 M'
    ),
    'mobilenet_v3_large_minimalistic': Published(
        'v3-large-minimalistic_224_1.0_float.tgz', 72.3, '3.9 M', '209 M'
    ),
    'mobilenet_v3_small_minimalistic': Published(
        'v3-small-minimalistic_224_1.0_float.tgz', 61.9, '2.0 M', '65 M'
    ),
    'mobilenet_edgetpu': Published(
        'mobilenet_edgetpu_224_1.0.tgz', 75.6, '4.0 M', '990 M'
    ),
    'mobilenet_edgetpu_075': Published(
        'mobilenet_edgetpu_224_0.75.tgz', 73.5, '2.9 M', '624 M'
    ),
    'nasnet_mobile': Published(
        'nasnet-a_mobile_04_10_2017.tar.gz', 74.0, '5.3 M', '564 M'
    ),
    'nasnet_large': Published(
        'nasnet-a_large_04_10_2017.tar.gz', 82.7, '88.9 M', '23.8 B'
    ),
    'pnasnet_mobile': Published(
        'pnasnet-5_mobile_2017_12_13.tar.gz', 74.2, '5.1 M', '588 M'
    ),
    'pnasnet_large': Published(
        'pnasnet-5_large_2017_12_13.tar.gz', 82.9, '86.1 M', '25.0 B'
    ),
}


# Figures research/slim prints that its own definition of the net does not
# reach, and the figures of that definition instead. MobileNet v3 small's
# README line (2.9 M, 66 M: the paper's) does not fit the V3_SMALL spec of
# its mobilenet_v3.py, whose per-layer breakdown sums to 2.53 M parameters
# and 56.5 M multiply-adds; torchvision's port of the same spec documents
# 2.54 M parameters and 0.06 GFLOPS. Its minimalistic line (65 M) misses
# the same way: V3_SMALL_MINIMALISTIC is V3_SMALL with 3 x 3 depthwise
# kernels for the 5 x 5 ones (3.76 M multiply-adds fewer, worked out layer by
# layer) and no squeeze-and-excite (0.46 M fewer): 52.3 M. Its parameter
# figure fits.
DEFINITION_FIGURES = {
    'mobilenet_v3_small': ('2.53 M', '56.5 M'),
    'mobilenet_v3_small_minimalistic': ('2.0 M', '52.3 M'),
}


def figure_range(printed):
    """The values a printed figure stands for: '2.9 M' -> (2.9e6, 3.0e6).

    research/slim truncates (MobileNet v3 large's 5.46 M parameters print as
    5.4 M), so a figure covers up to one unit of its last printed digit.
    """
    number, unit = printed.split()
    decimals = len(number.partition('.')[2])
    low = float(number) * _SCALE[unit]
    return low, low + 10.0**-decimals * _SCALE[unit]


def matches(count, printed, rel=0.02):
    """Whether `count` is within `rel` of what the printed figure covers."""
    low, high = figure_range(printed)
    return low * (1 - rel) <= count <= high * (1 + rel)


def published(name):
    """The `Published` record of net `name`, or None if it has none."""
    return CHECKPOINTS.get(name)
