"""The checks test_alexnet.py and test_overfeat.py share: our classic net
(five convolutions, three fully connected layers as convolutions) against
TF-Slim 1.1.0's (the oracle).

TF-Slim 1.1.0's alexnet_v2 and overfeat are research/slim's without the
later global_pool and num_classes=None. For global_pool the oracle graph adds
research/slim's few extra lines (a mean of fc7, then fc8) on tf_slim layers
that reuse the oracle's variables.

The oracle's weights (biases randomised too) are saved by a TF1 Saver and
restored by name into our net; then every end point must agree, at the net's
default image size and fully convolutionally on a larger image.

A test module subclasses `ClassicNetChecks` as `Test<Net>` and sets the
class attributes below; pytest then runs every check for that net, under
test ids naming the class. The base class itself is never collected.
"""

import importlib
import re

import numpy as np
import pytest
import tensorflow as tf

from net_oracle import (
    RTOL,
    assert_close,
    he_uniform_weights,
    load_golden,
    random_images,
    run_graph_net,
    variable_shapes,
    zero_start,
)

# research/slim has no published AlexNet or OverFeat checkpoint; 1000 is
# the nets' default and ImageNet's class count without a background class.
NUM_CLASSES = 1000


def _assert_end_points_match(ours, theirs):
    assert list(ours) == list(theirs)
    for name, value in theirs.items():
        assert_close(ours[name], value, name)


class ClassicNetChecks:
    """Every check of one classic net; a subclass gives the net's config."""

    # The module (in nets/ and in tf_slim.nets) and its net function, whose
    # name is also the net's variable scope and its golden file's name.
    module = None  # e.g. 'alexnet'
    name = None  # e.g. 'alexnet_v2'
    image_size = None  # the net's default_image_size
    large_size = None  # (height, width) of the fully convolutional input
    # {end point under the net's scope: (height, width, channels)} at
    # image_size.
    expected_shapes = None
    # A graph collection TF-Slim's net keeps its end points in under a name a
    # second tower shares (so it is cleared before one is built), or None.
    shared_end_points_collection = None

    # ------------------------------------------------------------ the oracle

    @classmethod
    def _tf_slim_net(cls):
        """(net function, arg scope function) of TF-Slim's net."""
        import tf_slim  # noqa: F401  (tf_slim.nets needs it imported first)

        module = importlib.import_module('tf_slim.nets.' + cls.module)
        return getattr(module, cls.name), getattr(
            module, cls.name + '_arg_scope'
        )

    @classmethod
    def oracle_graph(cls, num_classes=NUM_CLASSES):
        """TF-Slim's net for image_size inputs, built and never run.

        Returns:
          ({variable name: shape}, [end point names, in TF-Slim's order]).
        """
        import tf_slim

        fn, arg_scope = cls._tf_slim_net()
        size = cls.image_size
        with tf.Graph().as_default():
            inputs = tf.compat.v1.placeholder(tf.float32, [1, size, size, 3])
            with tf_slim.arg_scope(arg_scope()):
                _, end_points = fn(inputs, num_classes, is_training=False)
            shapes = {
                v.op.name: v.shape.as_list()
                for v in tf.compat.v1.global_variables()
            }
        return shapes, list(end_points)

    @classmethod
    def oracle_run(cls, images, large_images, ckpt_prefix):
        """TF-Slim's net on two inputs, its weights saved to `ckpt_prefix`.

        Returns:
          shapes: {variable name: shape}.
          outputs: {'default': end points and 'logits' for `images`;
            'large': end points for `large_images` with spatial_squeeze=False;
            'global_pool': research/slim's global_pool head on 'large'}.
          losses: the values of the graph's regularization losses.
        """
        import tf_slim

        fn, arg_scope = cls._tf_slim_net()
        scope = cls.name

        def build(inputs):
            with (
                tf_slim.arg_scope(arg_scope()),
                tf.compat.v1.variable_scope(
                    tf.compat.v1.get_variable_scope(),
                    custom_getter=he_uniform_weights,
                ),
            ):
                logits, default = fn(inputs, NUM_CLASSES, is_training=False)
                if cls.shared_end_points_collection:
                    tf.compat.v1.get_default_graph().clear_collection(
                        cls.shared_end_points_collection
                    )
                with tf.compat.v1.variable_scope(
                    tf.compat.v1.get_variable_scope(), reuse=True
                ):
                    # A second tower shares the variables; its pools are named by its
                    # own name scope ('<scope>_1/pool1'), renamed back here.
                    _, large = fn(
                        tf.constant(large_images),
                        NUM_CLASSES,
                        is_training=False,
                        spatial_squeeze=False,
                    )
                large = {
                    re.sub(r'^%s_\d+/' % scope, scope + '/', k): v
                    for k, v in large.items()
                }
                # research/slim's global_pool: fc7 averaged, then fc8 (inference
                # mode, so without dropout7).
                pooled = tf.reduce_mean(
                    large[scope + '/fc7'], [1, 2], keepdims=True
                )
                with tf.compat.v1.variable_scope(scope, reuse=True):
                    pooled_logits = tf.squeeze(
                        tf_slim.conv2d(
                            pooled,
                            NUM_CLASSES,
                            [1, 1],
                            activation_fn=None,
                            normalizer_fn=None,
                            scope='fc8',
                        ),
                        [1, 2],
                    )
            return {
                'default': dict(default, logits=logits),
                'large': large,
                'global_pool': {'global_pool': pooled, 'logits': pooled_logits},
            }

        return run_graph_net(
            build, images, ckpt_prefix, randomize_statistics=True
        )

    # ------------------------------------------------------------ our side

    @classmethod
    def _model(cls, **kwargs):
        import slim

        module = importlib.import_module('nets.' + cls.module)
        fn = getattr(module, cls.name)
        arg_scope = getattr(module, cls.name + '_arg_scope')

        def net(images, **call_kwargs):
            with slim.arg_scope(arg_scope()):
                return fn(images, **call_kwargs)

        return slim.Model(net, is_training=False, **kwargs)

    @pytest.fixture(scope='class')
    def run(self, tmp_path_factory):
        import slim

        images = random_images(self.image_size, batch=2)
        large = random_images(*self.large_size, seed=2)
        prefix = str(tmp_path_factory.mktemp(self.name) / 'model.ckpt')
        shapes, theirs, losses = self.oracle_run(images, large, prefix)
        model = self._model(num_classes=NUM_CLASSES)
        with zero_start():
            model.build(tf.TensorSpec(images.shape))
        slim.assign_from_checkpoint(
            slim.get_variables_to_restore(model), prefix
        )
        return dict(
            images=images,
            large=large,
            prefix=prefix,
            shapes=shapes,
            theirs=theirs,
            losses=losses,
            model=model,
        )

    # ------------------------------------------------------------ the checks

    def test_variables_and_end_points_match_oracle_and_golden(self, run):
        shapes, their_keys = self.oracle_graph()
        golden = load_golden(self.name)
        assert len(golden) == 16
        assert shapes == golden == run['shapes']
        assert variable_shapes(run['model']) == golden
        _, ours = run['model'](tf.constant(run['images']))
        assert list(ours) == their_keys
        # The checkpoint holds the randomised biases, not the initial 0.1.
        reader = tf.train.load_checkpoint(run['prefix'])
        assert reader.get_tensor(self.name + '/conv3/biases').std() > 0.01

    def test_restored_at_default_size_matches_oracle(self, run):
        theirs = dict(run['theirs']['default'])
        their_logits = theirs.pop('logits')
        logits, ours = run['model'](tf.constant(run['images']))
        _assert_end_points_match(ours, theirs)
        assert_close(logits, their_logits, 'logits')
        assert logits.shape == (2, NUM_CLASSES)
        for name, shape in self.expected_shapes.items():
            assert ours[self.name + '/' + name].shape == (2,) + shape, name

    def test_regularization_losses_match_oracle(self, run):
        model = run['model']
        model(tf.constant(run['images']))
        assert len(model.losses) == len(run['losses']) == 8
        np.testing.assert_allclose(
            float(tf.add_n(model.losses)), sum(run['losses']), rtol=RTOL
        )

    def test_traced_with_unknown_size_runs_fully_convolutionally(self, run):
        model = run['model']
        count = len(model.variables)
        traced = tf.function(
            lambda images: model(images, spatial_squeeze=False),
            input_signature=[tf.TensorSpec([None, None, None, 3])],
            autograph=False,
        )  # no control flow to convert; conversion is slow
        logits, ours = traced(tf.constant(run['large']))
        assert len(model.variables) == count
        assert logits.shape == (1, 2, 3, NUM_CLASSES)
        _assert_end_points_match(ours, run['theirs']['large'])
        # The same concrete function at image_size gives the oracle's logits.
        logits, _ = traced(tf.constant(run['images']))
        assert_close(
            tf.squeeze(logits, [1, 2]),
            run['theirs']['default']['logits'],
            'traced logits',
        )

    def test_global_pool_matches_research_slim_head(self, run):
        theirs = run['theirs']
        logits, ours = run['model'](tf.constant(run['large']), global_pool=True)
        assert logits.shape == (1, NUM_CLASSES)
        keys = list(theirs['large'])
        keys.insert(keys.index(self.name + '/fc8'), 'global_pool')
        assert list(ours) == keys
        assert_close(
            ours['global_pool'],
            theirs['global_pool']['global_pool'],
            'global_pool',
        )
        assert_close(logits, theirs['global_pool']['logits'], 'logits')

    @pytest.mark.parametrize('num_classes', [0, None])
    def test_no_classes_returns_fc7(self, run, num_classes):
        theirs = dict(run['theirs']['default'])
        del theirs['logits'], theirs[self.name + '/fc8']
        net, ours = run['model'](
            tf.constant(run['images']), num_classes=num_classes
        )
        _assert_end_points_match(ours, theirs)
        assert net is ours[self.name + '/fc7']

    def test_no_classes_builds_no_fc8(self):
        model = self._model(num_classes=None)
        with zero_start():
            model.build(tf.TensorSpec([1, self.image_size, self.image_size, 3]))
        assert len(model.variables) == 14
        assert not [v for v in model.variables if '/fc8/' in v.name]

    def test_training_mode_drops_out(self, run):
        images = tf.constant(run['images'])
        _, eval_points = run['model'](images)
        _, train_points = run['model'](images, is_training=True)
        # dropout6 sits between fc6 and fc7: fc6 agrees, fc7 does not.
        assert_close(
            train_points[self.name + '/fc6'],
            eval_points[self.name + '/fc6'],
            'fc6',
        )
        assert not np.allclose(
            train_points[self.name + '/fc7'], eval_points[self.name + '/fc7']
        )

    def test_default_image_size(self):
        module = importlib.import_module('nets.' + self.module)
        assert getattr(module, self.name).default_image_size == self.image_size
