"""PNASNet-5, variable for variable the nets of research/slim's model zoo.

"Progressive Neural Architecture Search", Liu, Zoph, Neumann, Shlens, Hua,
Li, Fei-Fei, Yuille, Huang and Murphy, https://arxiv.org/abs/1712.00559.

One cell, `PNASNET_5`, serves as stem, normal and (with stride 2) reduction
cell; it runs on NASNet's cell implementation (`nasnet_utils.build_cell`).
Names and shapes are research/slim's, so `pnasnet-5_mobile_2017_12_13` and
`pnasnet-5_large_2017_12_13` load by name:

    model = slim.Model(pnasnet.build_pnasnet_large, num_classes=1001)
    with slim.arg_scope(pnasnet.pnasnet_large_arg_scope()):
      logits, end_points = model(images, is_training=False)

The shape comments below are for pnasnet_mobile at 224 x 224.
"""

import tensorflow as tf

import slim
from nets.nasnet import nasnet
from nets.nasnet import nasnet_utils

Config = nasnet_utils.Config

# research/slim's PNasNetNormalCell.
PNASNET_5 = nasnet_utils.CellSpec(
    operations=(
        'separable_5x5_2',
        'max_pool_3x3',
        'separable_7x7_2',
        'max_pool_3x3',
        'separable_5x5_2',
        'separable_3x3_2',
        'separable_3x3_2',
        'max_pool_3x3',
        'separable_3x3_2',
        'none',
    ),
    hiddenstate_indices=(1, 1, 0, 0, 0, 0, 4, 0, 1, 0),
    used_hiddenstates=(1, 1, 0, 0, 0, 0, 0),
)


def large_imagenet_config():
    """PNASNet-5 large for ImageNet at 331 x 331."""
    return Config(
        stem_multiplier=3.0,
        dense_dropout_keep_prob=0.5,
        num_cells=12,
        filter_scaling_rate=2.0,
        num_conv_filters=216,
        drop_path_keep_prob=0.6,
        use_aux_head=1,
        num_reduction_layers=2,
        data_format='NHWC',
        skip_reduction_layer_input=1,
        total_training_steps=250000,
        use_bounded_activation=False,
    )


def mobile_imagenet_config():
    """PNASNet-5 mobile for ImageNet at 224 x 224."""
    return Config(
        stem_multiplier=1.0,
        dense_dropout_keep_prob=0.5,
        num_cells=9,
        filter_scaling_rate=2.0,
        num_conv_filters=54,
        drop_path_keep_prob=1.0,
        use_aux_head=1,
        num_reduction_layers=2,
        data_format='NHWC',
        skip_reduction_layer_input=1,
        total_training_steps=250000,
        use_bounded_activation=False,
    )


def pnasnet_large_arg_scope(
    weight_decay=4e-5, batch_norm_decay=0.9997, batch_norm_epsilon=0.001
):
    """The arg scope of PNASNet-5 large: NASNet-A large's, weight decay 4e-5."""
    return nasnet.nasnet_large_arg_scope(
        weight_decay, batch_norm_decay, batch_norm_epsilon
    )


def pnasnet_mobile_arg_scope(
    weight_decay=4e-5, batch_norm_decay=0.9997, batch_norm_epsilon=0.001
):
    """The arg scope of PNASNet-5 mobile: NASNet-A mobile's."""
    return nasnet.nasnet_mobile_arg_scope(
        weight_decay, batch_norm_decay, batch_norm_epsilon
    )


def build_pnasnet_large(
    images,
    num_classes,
    is_training=True,
    final_endpoint=None,
    config=None,
    current_step=None,
):
    """PNASNet-5 large for ImageNet (331 x 331): NASNet's ImageNet stem, then
    12 cells, the 5th and the 9th strided.

    Arguments and results as `nasnet.build_nasnet_mobile`'s (end points
    'Stem', 'Cell_0' ... 'Cell_11', 'global_pool', 'Logits', 'Predictions').
    """
    config = nasnet_utils.check_config(config, large_imagenet_config)
    return build_pnasnet_base(
        images,
        PNASNET_5,
        num_classes,
        config,
        is_training,
        final_endpoint,
        current_step,
    )


build_pnasnet_large.default_image_size = 331


def build_pnasnet_mobile(
    images,
    num_classes,
    is_training=True,
    final_endpoint=None,
    config=None,
    current_step=None,
):
    """PNASNet-5 mobile for ImageNet (224 x 224): 9 cells, the 4th and the 7th
    strided.

    Arguments and results as `nasnet.build_nasnet_mobile`'s.
    """
    config = nasnet_utils.check_config(config, mobile_imagenet_config)
    return build_pnasnet_base(
        images,
        PNASNET_5,
        num_classes,
        config,
        is_training,
        final_endpoint,
        current_step,
    )


build_pnasnet_mobile.default_image_size = 224


def build_pnasnet_base(
    images,
    cell,
    num_classes,
    config,
    is_training,
    final_endpoint=None,
    current_step=None,
):
    """Builds a PNASNet of one cell spec, for `build_pnasnet_*` and variants."""
    images = tf.convert_to_tensor(images)
    nasnet.check_images(
        images,
        3,
        final_endpoint,
        nasnet.end_point_names(config, separate_reductions=False),
    )
    # No separate reduction cells: the cells and the two stem cells.
    schedule = nasnet_utils.DropPath(
        config.drop_path_keep_prob if is_training else 1.0,
        config.num_cells + 2,
        config.total_training_steps,
    )
    cell_args = dict(
        is_training=is_training,
        drop_path_schedule=schedule,
        current_step=current_step,
        use_bounded_activation=config.use_bounded_activation,
    )
    act = tf.nn.relu6 if config.use_bounded_activation else tf.nn.relu
    end_points = {}

    def add_and_check_endpoint(name, net):
        end_points[name] = net
        return name == final_endpoint

    with slim.arg_scope(
        [slim.dropout, slim.batch_norm], is_training=is_training
    ):
        net, cell_outputs = nasnet._imagenet_stem(
            images, config, cell, cell_args
        )
        if add_and_check_endpoint('Stem', net):  # 28 x 28 x 135
            return net, end_points

        reductions = nasnet_utils.calc_reduction_layers(
            config.num_cells, config.num_reduction_layers
        )
        aux_head_cell = reductions[1] - 1 if len(reductions) >= 2 else None
        filter_scaling = 1.0
        level = cell_outputs[-1][1]
        prev_layer = cell_outputs[-2]
        for cell_num in range(config.num_cells):
            is_reduction = cell_num in reductions
            if is_reduction:
                filter_scaling *= config.filter_scaling_rate
            # Without skip_reduction_layer_input a strided cell keeps the second
            # input of the cell before it, as research/slim's.
            if config.skip_reduction_layer_input or not is_reduction:
                prev_layer = cell_outputs[-2]
            net = nasnet_utils.build_cell(
                net,
                prev_layer[0],
                cell,
                int(config.num_conv_filters * filter_scaling),
                'cell_{}'.format(cell_num),
                stride=2 if is_reduction else 1,
                prev_layer_is_larger=nasnet._larger(prev_layer, level),
                cell_num=cell_num + 2,
                **cell_args,
            )
            if is_reduction:
                level += 1
            if add_and_check_endpoint('Cell_{}'.format(cell_num), net):
                return net, end_points
            cell_outputs.append((net, level))  # 28, 14 and 7 x 7 x 5 filters
            if (
                config.use_aux_head
                and cell_num == aux_head_cell
                and num_classes
                and is_training
            ):
                nasnet.aux_head(
                    act(net),
                    end_points,
                    num_classes,
                    config,
                    'aux_{}'.format(cell_num),
                )
        return nasnet.final_layer(
            net, end_points, num_classes, config, add_and_check_endpoint
        )
