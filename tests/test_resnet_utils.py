"""Tests nets/resnet_utils.py against TF-Slim 1.1.0's resnet_utils (the oracle)
and against the identities its design rests on.

`conv2d_same`, `subsample` and `stack_blocks_dense` run beside TF-Slim's in a
TF1 graph (random weights and biases, restored by name into ours). The
stacking is checked with a unit made of plain TensorFlow ops, so that both
sides run the very same units and only the stacking differs; the bottleneck
units themselves are tested in test_resnet_v1.py and test_resnet_v2.py.
"""

import numpy as np
import pytest
import tensorflow as tf

from net_oracle import assert_close, run_graph_net

# (kernel_size, stride, rate): strided even and odd kernels pad asymmetrically
# and symmetrically; atrous ones widen the kernel.
CONV_CASES = [(3, 1, 1), (3, 2, 1), (7, 2, 1), (4, 2, 1), (1, 2, 1), (3, 1, 2)]


def _inputs(height, width, channels=3, batch=2, seed=1):
    rng = np.random.RandomState(seed)
    return rng.uniform(-1, 1, (batch, height, width, channels)).astype(
        np.float32
    )


def _sizes(inputs):
    # An even and an odd input size, cut from one batch.
    return {'even': inputs[:, :10, :10], 'odd': inputs[:, :9, :9]}


# ---------------------------------------------------------------- conv2d_same


def test_conv2d_same_matches_oracle(tmp_path):
    import tf_slim
    from tf_slim.nets import resnet_utils as tf_slim_resnet_utils

    import slim
    from nets import resnet_utils

    def build(conv2d_same, arg_scope, conv2d, inputs):
        outputs = {}
        with arg_scope([conv2d], activation_fn=None):
            for size, x in _sizes(inputs).items():
                for kernel, stride, rate in CONV_CASES:
                    name = '{}_k{}_s{}_r{}'.format(size, kernel, stride, rate)
                    outputs[name] = conv2d_same(
                        x, 4, kernel, stride, rate=rate, scope=name
                    )
        return outputs

    inputs = _inputs(10, 10)
    prefix = str(tmp_path / 'model.ckpt')
    shapes, theirs, _ = run_graph_net(
        lambda x: build(
            tf_slim_resnet_utils.conv2d_same,
            tf_slim.arg_scope,
            tf_slim.conv2d,
            x,
        ),
        inputs,
        prefix,
        randomize_statistics=True,
    )
    model = slim.Model(
        lambda x: build(
            resnet_utils.conv2d_same, slim.arg_scope, slim.conv2d, x
        )
    )
    model(inputs)
    slim.assign_from_checkpoint(model.variables, prefix)
    ours = model(inputs)
    assert {v.name[:-2]: v.shape.as_list() for v in model.variables} == shapes
    assert sorted(ours) == sorted(theirs)
    for name, value in theirs.items():
        assert_close(ours[name], value, name)
    assert ours['even_k3_s2_r1'].shape == (2, 5, 5, 4)
    assert ours['odd_k3_s2_r1'].shape == (2, 5, 5, 4)


@pytest.mark.parametrize('size', [10, 9])
def test_conv2d_same_is_a_subsampled_stride_1_convolution(size):
    # Why conv2d_same exists: its output is aligned with the input's corners,
    # while a strided 'SAME' convolution of an even input is shifted.
    import slim
    from nets import resnet_utils

    def net(x):
        strided = resnet_utils.conv2d_same(x, 4, 3, stride=2, scope='conv')
        dense = slim.conv2d(x, 4, [3, 3], stride=1, reuse=True, scope='conv')
        same = slim.conv2d(x, 4, [3, 3], stride=2, reuse=True, scope='conv')
        return strided, resnet_utils.subsample(dense, 2), same

    strided, subsampled, same = slim.Model(net)(_inputs(size, size))
    assert_close(strided, subsampled, 'conv2d_same')
    if size % 2 == 0:
        assert not np.allclose(same, subsampled)


# ---------------------------------------------------------------- subsample


def test_subsample_matches_oracle():
    from tf_slim.nets import resnet_utils as tf_slim_resnet_utils

    from nets import resnet_utils

    inputs = _inputs(9, 10)

    def build(subsample, x):
        return {'by_%d' % f: subsample(x, f, 'shortcut_%d' % f) for f in (2, 3)}

    _, theirs, _ = run_graph_net(
        lambda x: build(tf_slim_resnet_utils.subsample, x), inputs
    )
    ours = build(resnet_utils.subsample, tf.constant(inputs))
    for name, value in theirs.items():
        assert_close(ours[name], value, name)
    np.testing.assert_array_equal(ours['by_2'], inputs[:, ::2, ::2])
    np.testing.assert_array_equal(ours['by_3'], inputs[:, ::3, ::3])
    x = tf.constant(inputs)
    assert resnet_utils.subsample(x, 1) is x


# ---------------------------------------------------------------- stacking

_KERNEL = (
    np.random.RandomState(3).normal(0, 0.3, (3, 3, 4, 4)).astype(np.float32)
)


def _plain_unit(net, stride, rate=1, end_points=None):
    """A residual unit of plain TF ops (no variables): the same on both
    sides. Its zero-padded 'SAME' convolution is aligned on odd sizes."""
    del end_points
    residual = tf.nn.convolution(
        net, _KERNEL, strides=stride, padding='SAME', dilations=rate
    )
    shortcut = net[:, ::stride, ::stride]
    return tf.nn.relu(shortcut + residual)


def _plain_blocks():
    from nets import resnet_utils

    return [
        resnet_utils.Block(
            'block1', _plain_unit, [{'stride': 1}, {'stride': 2}]
        ),
        resnet_utils.Block('block2', _plain_unit, [{'stride': 2}]),
        resnet_utils.Block(
            'block3', _plain_unit, [{'stride': 1}, {'stride': 1}]
        ),
    ]


@pytest.mark.parametrize('output_stride', [None, 1, 2, 4])
def test_stack_blocks_dense_matches_oracle(output_stride):
    import tf_slim
    from tf_slim.nets import resnet_utils as tf_slim_resnet_utils

    import slim
    from nets import resnet_utils

    inputs = _inputs(17, 17, channels=4)

    def oracle_build(x):
        with tf.compat.v1.variable_scope('net'):
            net = tf_slim_resnet_utils.stack_blocks_dense(
                x, _plain_blocks(), output_stride, outputs_collections='blocks'
            )
        end_points = tf_slim.utils.convert_collection_to_dict('blocks')
        return dict(end_points, net=net)

    _, theirs, _ = run_graph_net(oracle_build, inputs)

    def net(x):
        end_points = {}
        with slim.variable_scope('net'):
            net = resnet_utils.stack_blocks_dense(
                x, _plain_blocks(), output_stride, end_points=end_points
            )
        return net, end_points

    ours_net, ours = slim.Model(net)(inputs)
    assert list(ours) == ['net/block1', 'net/block2', 'net/block3']
    assert sorted(theirs) == sorted(list(ours) + ['net'])
    for name, value in ours.items():
        assert_close(value, theirs[name], name)
    assert_close(ours_net, theirs['net'], 'net')
    size = {None: 5, 1: 17, 2: 9, 4: 5}[output_stride]
    assert ours_net.shape == (2, size, size, 4)


def test_units_without_end_points_argument_run_unchanged():
    # A unit written for TF-Slim: no `end_points` argument.
    from nets import resnet_utils

    def unit(net, stride, rate=1):
        return _plain_unit(net, stride, rate)

    blocks = [
        resnet_utils.Block('block1', unit, [{'stride': 2}]),
        resnet_utils.Block('block2', _plain_unit, [{'stride': 1}]),
    ]
    seen = []

    def recording_unit(net, stride, rate=1, **kwargs):
        seen.append(sorted(kwargs))
        return _plain_unit(net, stride, rate)

    blocks.append(resnet_utils.Block('block3', recording_unit, [{'stride': 1}]))
    end_points = {}
    net = resnet_utils.stack_blocks_dense(
        tf.constant(_inputs(9, 9, channels=4)), blocks, end_points=end_points
    )
    assert list(end_points) == ['block1', 'block2', 'block3']
    assert seen == [['end_points']]
    assert net.shape == (2, 5, 5, 4)


def _stack(output_stride=None, store_non_strided_activations=False):
    from nets import resnet_utils

    end_points = {}
    net = resnet_utils.stack_blocks_dense(
        tf.constant(_inputs(17, 17, channels=4)),
        _plain_blocks(),
        output_stride,
        store_non_strided_activations,
        end_points=end_points,
    )
    return net, end_points


@pytest.mark.parametrize('output_stride', [1, 2, 4])
def test_atrous_output_subsamples_to_the_nominal_one(output_stride):
    # Atrous convolution keeps every unit's receptive field: the dense output
    # holds the nominal one at every (nominal / output_stride)-th position.
    nominal, _ = _stack()
    dense, _ = _stack(output_stride)
    factor = 4 // output_stride
    assert_close(dense[:, ::factor, ::factor], nominal, 'subsampled output')


@pytest.mark.parametrize('output_stride', [None, 2])
def test_non_strided_activations(output_stride):
    net, strided = _stack(output_stride)
    dense_net, dense = _stack(output_stride, store_non_strided_activations=True)
    assert_close(dense_net, net, 'output')
    # block1's stride moves after its end point; block2's too, unless the
    # output stride is reached by then (atrous instead).
    assert dense['block1'].shape[1] == 17 and strided['block1'].shape[1] == 9
    assert_close(dense['block1'][:, ::2, ::2], strided['block1'], 'block1')
    block2_factor = {None: 2, 2: 1}[output_stride]
    assert_close(
        dense['block2'][:, ::block2_factor, ::block2_factor],
        strided['block2'],
        'block2',
    )


@pytest.mark.parametrize('output_stride', [3, 8])
def test_unreachable_output_stride_raises(output_stride):
    with pytest.raises(ValueError, match='cannot be reached') as error:
        _stack(output_stride)
    assert '[1, 2, 4]' in str(error.value)
    with pytest.raises(ValueError, match='cannot be reached'):
        _stack(output_stride, store_non_strided_activations=True)


def test_root_output_stride():
    from nets import resnet_utils

    assert resnet_utils.root_output_stride(None) is None
    assert resnet_utils.root_output_stride(16) == 4
    with pytest.raises(ValueError, match='multiple of 4') as error:
        resnet_utils.root_output_stride(10)
    assert '10' in str(error.value)


# ---------------------------------------------------------------- arg scope


def test_arg_scope_is_tf_slims():
    import tf_slim
    from tf_slim.nets import resnet_utils as tf_slim_resnet_utils
    from tf_slim.ops.arg_scope import arg_scope_func_key as tf_slim_key

    import slim
    from nets import resnet_utils
    from slim.scopes import arg_scope_func_key

    theirs = tf_slim_resnet_utils.resnet_arg_scope()
    ours = resnet_utils.resnet_arg_scope()
    their_conv = theirs[tf_slim_key(tf_slim.conv2d)]
    our_conv = ours[arg_scope_func_key(slim.conv2d)]
    assert our_conv['activation_fn'] is tf.nn.relu
    assert our_conv['normalizer_fn'] is slim.batch_norm
    # TF-Slim 1.1.0's batch norm parameters, and research/slim's 'fused'.
    assert our_conv['normalizer_params'] == dict(
        their_conv['normalizer_params'], fused=None
    )
    assert our_conv['normalizer_params'] == {
        'decay': 0.997,
        'epsilon': 1e-5,
        'scale': True,
        'updates_collections': 'update_ops',
        'fused': None,
    }
    assert (
        ours[arg_scope_func_key(slim.batch_norm)]
        == our_conv['normalizer_params']
    )
    assert (
        ours[arg_scope_func_key(slim.max_pool2d)]
        == theirs[tf_slim_key(tf_slim.max_pool2d)]
        == {'padding': 'SAME'}
    )


def test_arg_scope_arguments():
    import slim
    from nets import resnet_utils
    from slim.scopes import arg_scope_func_key

    scope = resnet_utils.resnet_arg_scope(
        batch_norm_decay=0.9,
        batch_norm_epsilon=0.01,
        batch_norm_scale=False,
        activation_fn=tf.nn.relu6,
        use_batch_norm=False,
    )
    conv = scope[arg_scope_func_key(slim.conv2d)]
    assert conv['normalizer_fn'] is None
    assert conv['activation_fn'] is tf.nn.relu6
    assert scope[arg_scope_func_key(slim.batch_norm)] == {
        'decay': 0.9,
        'epsilon': 0.01,
        'scale': False,
        'updates_collections': 'update_ops',
        'fused': None,
    }

    def net(x):
        with slim.arg_scope(scope):
            return slim.conv2d(x, 2, [1, 1], scope='conv')

    model = slim.Model(net)
    model(tf.ones([1, 2, 2, 3]))
    assert sorted(v.name for v in model.variables) == [
        'conv/biases:0',
        'conv/weights:0',
    ]


def test_weight_decay_regularizes_the_convolutions():
    import slim
    from nets import resnet_utils

    def net(x):
        with slim.arg_scope(resnet_utils.resnet_arg_scope(weight_decay=0.5)):
            return slim.conv2d(x, 2, [1, 1], scope='conv')

    model = slim.Model(net)
    model(tf.ones([1, 2, 2, 3]))
    weights = model.get_variable('conv/weights').numpy()
    np.testing.assert_allclose(
        float(model.regularization_loss()),
        0.5 * (weights**2).sum() / 2,
        rtol=1e-5,
    )


# ---------------------------------------------------------------- blocks


def test_standard_blocks_are_the_papers():
    # TF-Slim's ResNet-50, -101, -152 and -200: (base depth, units, stride)
    # of each block.
    from tf_slim.nets import resnet_v1 as tf_slim_resnet_v1

    from nets import resnet_utils

    middle = {50: (4, 6), 101: (4, 23), 152: (8, 36), 200: (24, 36)}
    for depth, (units_2, units_3) in middle.items():
        specs = [(64, 3, 2), (128, units_2, 2), (256, units_3, 2), (512, 3, 1)]
        theirs = [
            tf_slim_resnet_v1.resnet_v1_block('block%d' % (i + 1), *spec)
            for i, spec in enumerate(specs)
        ]
        ours = resnet_utils.standard_blocks(
            tf_slim_resnet_v1.resnet_v1_block,
            resnet_utils.UNITS_PER_BLOCK[depth],
        )
        assert ours == theirs
        # 3 layers a unit, the root's and the logits'.
        assert 3 * sum(resnet_utils.UNITS_PER_BLOCK[depth]) + 2 == depth


def test_standard_blocks_scale_their_depths():
    from nets import resnet_utils

    blocks = resnet_utils.standard_blocks(
        lambda scope, base_depth, num_units, stride: (scope, base_depth),
        (1, 1, 1, 1),
        depth_fn=lambda d: d // 8,
    )
    assert blocks == [
        ('block1', 8),
        ('block2', 16),
        ('block3', 32),
        ('block4', 64),
    ]


def test_bottleneck_block():
    from nets import resnet_utils

    block = resnet_utils.bottleneck_block(_plain_unit, 'block3', 16, 3, 2)
    assert block == resnet_utils.Block(
        'block3',
        _plain_unit,
        [
            {'depth': 64, 'depth_bottleneck': 16, 'stride': 1},
            {'depth': 64, 'depth_bottleneck': 16, 'stride': 1},
            {'depth': 64, 'depth_bottleneck': 16, 'stride': 2},
        ],
    )
    assert block._fields == ('scope', 'unit_fn', 'args')
    # Each unit's arguments are a dict of its own.
    block.args[0]['stride'] = 5
    assert block.args[1]['stride'] == 1
