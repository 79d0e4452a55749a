"""slim/model_analyzer.py and the zoo commands of nets/nets_factory.py.

Multiply-adds are checked against counts worked out by hand from each
layer's shapes; `analyze_vars` against tf_slim's; the published figures of
research/slim's nets in tests/test_zoo.py (every registered net) and here
for Inception-v3, whose figure is a round one.
"""

import io
from contextlib import redirect_stdout

import pytest
import tensorflow as tf
import tf_slim

import slim
from nets import nets_factory
from nets import published


def _summary(net, shape, **kwargs):
    return slim.model_analyzer.summarize(net, shape, **kwargs)


def test_convolutions_count_output_values_times_kernel_and_depth():
    def net(images):
        end_points = {}
        x = slim.conv2d(images, 8, [3, 3], stride=2, scope='conv')
        end_points['conv'] = x
        x = slim.conv2d(x, 16, [1, 1], scope='pointwise')  # a matmul here
        end_points['pointwise'] = x
        x = slim.conv2d(x, 4, [3, 3], rate=2, scope='atrous')
        end_points['atrous'] = x
        x = slim.separable_conv2d(
            x, 6, [5, 5], depth_multiplier=2, scope='separable'
        )
        end_points['separable'] = x
        x = slim.fully_connected(slim.flatten(x), 10, scope='fc')
        end_points['fc'] = x
        return x, end_points

    summary = _summary(net, [2, 20, 20, 3])
    rows = {r.name: r for r in summary.rows}
    assert list(rows) == ['conv', 'pointwise', 'atrous', 'separable', 'fc']
    # 10 x 10 outputs of 8 channels, each 3 x 3 x 3 products.
    assert rows['conv'].multiply_adds == 10 * 10 * 8 * 3 * 3 * 3
    assert rows['conv'].parameters == 3 * 3 * 3 * 8 + 8
    assert rows['conv'].shape == [2, 10, 10, 8]
    assert rows['pointwise'].multiply_adds == 10 * 10 * 16 * 8
    # Dilation spreads the kernel, it does not grow it.
    assert rows['atrous'].multiply_adds == 10 * 10 * 4 * 3 * 3 * 16
    depthwise = 10 * 10 * (4 * 2) * 5 * 5
    pointwise = 10 * 10 * 6 * (4 * 2)
    assert rows['separable'].multiply_adds == depthwise + pointwise
    assert rows['separable'].parameters == 5 * 5 * 4 * 2 + 8 * 6 + 6
    assert rows['fc'].multiply_adds == 10 * 10 * 6 * 10
    assert summary.multiply_adds == sum(r.multiply_adds for r in rows.values())
    assert summary.parameters == sum(r.parameters for r in rows.values())
    assert summary.input_shape == [2, 20, 20, 3]


def test_3d_convolutions_and_batch_norm_statistics():
    def net(clips):
        x = slim.conv3d(
            clips, 4, [3, 3, 3], normalizer_fn=slim.batch_norm, scope='conv3d'
        )
        return x, {'conv3d': x}

    summary = _summary(net, [1, 4, 6, 6, 2])
    assert summary.multiply_adds == 4 * 6 * 6 * 4 * 3 * 3 * 3 * 2
    # Weights and beta are trained; the moving statistics are not.
    assert summary.parameters == 3 * 3 * 3 * 2 * 4 + 4
    assert summary.non_trainable == 2 * 4
    assert list(summary.variable_shapes) == [
        'conv3d/weights',
        'conv3d/BatchNorm/beta',
        'conv3d/BatchNorm/moving_mean',
        'conv3d/BatchNorm/moving_variance',
    ]


def test_work_is_counted_once_under_the_first_end_point_that_uses_it():
    def net(images):
        trunk = slim.conv2d(images, 4, [3, 3], scope='trunk')
        head = slim.conv2d(trunk, 2, [1, 1], scope='head')
        # An end point listed before the layers it depends on owns them.
        return head, {'head': head, 'trunk': trunk}

    rows = {r.name: r for r in _summary(net, [1, 8, 8, 1]).rows}
    assert rows['trunk'].multiply_adds == 0
    assert rows['head'].multiply_adds == 8 * 8 * (4 * 9 + 2 * 4)


def test_a_model_that_holds_variables_is_left_alone():
    model = nets_factory.get_network_fn('lenet', num_classes=10)
    logits, _ = model(tf.zeros([1, 28, 28, 1]))
    before = [v.numpy().copy() for v in model.variables]
    summary = _summary(model, [1, 28, 28, 1])
    assert summary.parameters == sum(
        v.shape.num_elements() for v in model.trainable_variables
    )
    assert all((v.numpy() == b).all() for v, b in zip(model.variables, before))


def test_unknown_input_shape_is_refused():
    with pytest.raises(ValueError, match=r'input_shape.*None'):
        _summary(lambda x: (x, {}), [None, 8, 8, 3])


def test_analyze_vars_matches_tf_slim():
    with tf.Graph().as_default():
        variables = [
            tf.compat.v1.get_variable('a', [3, 3, 2, 4]),
            tf.compat.v1.get_variable('b', [7], dtype=tf.float64),
            tf.compat.v1.get_variable('c', [], dtype=tf.int32),
        ]
        ours = slim.model_analyzer.analyze_vars(variables)
        theirs = tf_slim.model_analyzer.analyze_vars(variables)
    assert ours == theirs == (72 + 7 + 1, 72 * 4 + 7 * 8 + 4)


def test_inception_v3_costs_what_research_publishes():
    # research/inception: "5 billion multiply-adds" and "fewer than 25
    # million parameters" (the net without its training-only aux head); the
    # count usually quoted for this graph is 5.7 B.
    summary = nets_factory.summarize('inception_v3', create_aux_logits=False)
    assert published.matches(summary.multiply_adds, "5.7 B")
    assert 23e6 < summary.parameters < 25e6


def test_zoo_table_lists_every_net_with_its_checkpoint():
    out = io.StringIO()
    with redirect_stdout(out):
        assert nets_factory.main(['--no_costs']) == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 + len(nets_factory.list_networks())
    row = next(l for l in lines if l.startswith('| vgg_16 |'))
    assert 'vgg_16_2016_08_28.tar.gz' in row and '71.5' in row
    # With costs, a row is counted by the model summary.
    table = nets_factory.zoo_table(['lenet'])
    summary = nets_factory.summarize('lenet')
    assert slim.model_analyzer.human(summary.parameters) in table


def test_summary_command_prints_every_end_point():
    out = io.StringIO()
    with redirect_stdout(out):
        nets_factory.main(['--summary', 'cifarnet', '--num_classes', '10'])
    text = out.getvalue()
    summary = nets_factory.summarize('cifarnet', 10)
    for row in summary.rows:
        assert row.name in text
    assert '{:,}'.format(summary.parameters) in text
    assert '{:,}'.format(summary.multiply_adds) in text


def test_summary_command_names_a_bad_net(capsys):
    with pytest.raises(SystemExit):
        nets_factory.main(['--summary', 'resnet_v9'])
    err = capsys.readouterr().err
    assert "--summary must be one of" in err and "'resnet_v9'" in err
