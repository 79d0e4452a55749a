"""Tests nets/alexnet.py against TF-Slim 1.1.0's alexnet_v2 (the oracle).

The checks are classic_net_checks.py's, shared with test_overfeat.py; this
module gives AlexNet's config: every end point must agree at 224 x 224 and
fully convolutionally on a larger image.

Run as a script to rewrite tests/golden/alexnet_v2.json from the oracle:
    python tests/test_alexnet.py
"""

from classic_net_checks import ClassicNetChecks
from net_oracle import write_golden


class TestAlexnetV2(ClassicNetChecks):
    module = 'alexnet'
    name = 'alexnet_v2'
    image_size = 224
    large_size = (256, 288)
    expected_shapes = {
        'conv1': (54, 54, 64),
        'pool1': (26, 26, 64),
        'conv2': (26, 26, 192),
        'pool2': (12, 12, 192),
        'conv3': (12, 12, 384),
        'conv4': (12, 12, 384),
        'conv5': (12, 12, 256),
        'pool5': (5, 5, 256),
        'fc6': (1, 1, 4096),
        'fc7': (1, 1, 4096),
    }


if __name__ == '__main__':
    import conftest  # noqa: F401  (the aliases tf_slim needs)

    write_golden(TestAlexnetV2.name, TestAlexnetV2.oracle_graph()[0])
