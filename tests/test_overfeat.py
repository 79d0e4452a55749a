"""Tests nets/overfeat.py against TF-Slim 1.1.0's overfeat (the oracle).

The checks are classic_net_checks.py's, shared with test_alexnet.py; this
module gives OverFeat's config: every end point must agree at 231 x 231 and
fully convolutionally on a larger image.

Run as a script to rewrite tests/golden/overfeat.json from the oracle:
    python tests/test_overfeat.py
"""

from classic_net_checks import ClassicNetChecks
from net_oracle import write_golden


class TestOverfeat(ClassicNetChecks):
    module = 'overfeat'
    name = 'overfeat'
    image_size = 231
    large_size = (263, 295)
    expected_shapes = {
        'conv1': (56, 56, 64),
        'pool1': (28, 28, 64),
        'conv2': (24, 24, 256),
        'pool2': (12, 12, 256),
        'conv3': (12, 12, 512),
        'conv4': (12, 12, 1024),
        'conv5': (12, 12, 1024),
        'pool5': (6, 6, 1024),
        'fc6': (1, 1, 3072),
        'fc7': (1, 1, 4096),
    }
    # TF-Slim's overfeat collects its end points in a graph collection named
    # after the variable scope, which a second tower shares.
    shared_end_points_collection = 'overfeat_end_points'


if __name__ == '__main__':
    import conftest  # noqa: F401  (the aliases tf_slim needs)

    write_golden(TestOverfeat.name, TestOverfeat.oracle_graph()[0])
