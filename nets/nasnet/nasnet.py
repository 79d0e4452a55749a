"""NASNet-A, variable for variable the nets of research/slim's model zoo.

"Learning Transferable Architectures for Scalable Image Recognition", Zoph,
Vasudevan, Shlens and Le, https://arxiv.org/abs/1707.07012.

The entry points, their arguments, the end points and every variable name and
shape are research/slim's, so `nasnet-a_mobile_04_10_2017` and
`nasnet-a_large_04_10_2017` load by name with `slim.assign_from_checkpoint`:

    model = slim.Model(nasnet.build_nasnet_mobile, num_classes=1001)
    with slim.arg_scope(nasnet.nasnet_mobile_arg_scope()):
      logits, end_points = model(images, is_training=False)

The variables have no top scope (`conv0/weights`, `cell_stem_0/...`,
`cell_0/...`, `reduction_cell_0/...`, `aux_7/...`, `final_layer/FC/weights`).

Drop path's keep probability ramps up with the training step; research/slim
read the global step, here the step is an argument, `current_step` (the
train driver passes its optimizer's `iterations`). Evaluation needs none:
drop path is off when not training.

The shape comments below are for nasnet_mobile at 224 x 224.
"""

import tensorflow as tf

import slim
from nets.nasnet import nasnet_utils

Config = nasnet_utils.Config


# research/slim's configurations, with its training notes: the CIFAR net was
# trained 600 epochs at batch 32, the ImageNet nets with an auxiliary loss
# weighted 0.4, label smoothing 0.1 and gradients clipped at norm 10.
def cifar_config():
    """NASNet-A 6@768 for CIFAR-10."""
    return Config(
        stem_multiplier=3.0,
        drop_path_keep_prob=0.6,
        num_cells=18,
        use_aux_head=1,
        num_conv_filters=32,
        dense_dropout_keep_prob=1.0,
        filter_scaling_rate=2.0,
        num_reduction_layers=2,
        data_format='NHWC',
        skip_reduction_layer_input=0,
        total_training_steps=937500,
        use_bounded_activation=False,
    )


def large_imagenet_config():
    """NASNet-A 6@4032 for ImageNet at 331 x 331."""
    return Config(
        stem_multiplier=3.0,
        dense_dropout_keep_prob=0.5,
        num_cells=18,
        filter_scaling_rate=2.0,
        num_conv_filters=168,
        drop_path_keep_prob=0.7,
        use_aux_head=1,
        num_reduction_layers=2,
        data_format='NHWC',
        skip_reduction_layer_input=1,
        total_training_steps=250000,
        use_bounded_activation=False,
    )


def mobile_imagenet_config():
    """NASNet-A 4@1056 for ImageNet at 224 x 224."""
    return Config(
        stem_multiplier=1.0,
        dense_dropout_keep_prob=0.5,
        num_cells=12,
        filter_scaling_rate=2.0,
        drop_path_keep_prob=1.0,
        num_conv_filters=44,
        use_aux_head=1,
        num_reduction_layers=2,
        data_format='NHWC',
        skip_reduction_layer_input=0,
        total_training_steps=250000,
        use_bounded_activation=False,
    )


def _arg_scope(weight_decay, batch_norm_decay, batch_norm_epsilon):
    batch_norm_params = {
        'decay': batch_norm_decay,
        'epsilon': batch_norm_epsilon,
        'scale': True,
        'fused': True,
    }
    layers = [slim.fully_connected, slim.conv2d, slim.separable_conv2d]
    with slim.arg_scope(
        layers,
        weights_regularizer=slim.l2_regularizer(weight_decay),
        weights_initializer=slim.variance_scaling_initializer(mode='FAN_OUT'),
    ):
        with slim.arg_scope(
            [slim.fully_connected], activation_fn=None, scope='FC'
        ):
            with slim.arg_scope(
                [slim.conv2d, slim.separable_conv2d],
                activation_fn=None,
                biases_initializer=None,
            ):
                with slim.arg_scope(
                    [slim.batch_norm], **batch_norm_params
                ) as scope:
                    return scope


def nasnet_cifar_arg_scope(
    weight_decay=5e-4, batch_norm_decay=0.9, batch_norm_epsilon=1e-5
):
    """The arg scope of NASNet-A CIFAR: L2 `weight_decay` and fan-out
    variance-scaling initialisation on the weights, no biases, batch norm
    with scale."""
    return _arg_scope(weight_decay, batch_norm_decay, batch_norm_epsilon)


def nasnet_mobile_arg_scope(
    weight_decay=4e-5, batch_norm_decay=0.9997, batch_norm_epsilon=1e-3
):
    """The arg scope of NASNet-A mobile (as the CIFAR one, other defaults)."""
    return _arg_scope(weight_decay, batch_norm_decay, batch_norm_epsilon)


def nasnet_large_arg_scope(
    weight_decay=5e-5, batch_norm_decay=0.9997, batch_norm_epsilon=1e-3
):
    """The arg scope of NASNet-A large (as the CIFAR one, other defaults)."""
    return _arg_scope(weight_decay, batch_norm_decay, batch_norm_epsilon)


def build_nasnet_cifar(
    images,
    num_classes,
    is_training=True,
    final_endpoint=None,
    config=None,
    current_step=None,
):
    """NASNet-A for CIFAR-10 (32 x 32): a 3x3 stem, then 18 normal cells with
    reduction cells before the 7th and the 13th.

    Arguments and results as `build_nasnet_mobile`'s.
    """
    config = nasnet_utils.check_config(config, cifar_config)
    return build_nasnet_base(
        images,
        nasnet_utils.NASNET_A_NORMAL,
        nasnet_utils.NASNET_A_REDUCTION,
        num_classes,
        config,
        is_training,
        'cifar',
        final_endpoint,
        current_step,
    )


build_nasnet_cifar.default_image_size = 32


def build_nasnet_mobile(
    images,
    num_classes,
    is_training=True,
    final_endpoint=None,
    config=None,
    current_step=None,
):
    """NASNet-A mobile for ImageNet (224 x 224): a stem of a strided 3x3 and two
    reduction cells, then 12 normal cells with reduction cells before the 5th
    and the 9th.

    Args:
      images: [batch, height, width, 3].
      num_classes: the logits' width; 0 or None to return the pooled features.
      is_training: batch norm on batch statistics, dropout, drop path, and the
        auxiliary head (with `config.use_aux_head` and classes) are built only
        when training.
      final_endpoint: stop after this end point ('Stem', 'Cell_0',
        'Reduction_Cell_0', ..., 'global_pool', 'Logits', 'Predictions') and
        return it; None builds the whole net.
      config: a `Config`; `mobile_imagenet_config()` if None. It is copied.
      current_step: the training step (a tensor or variable, e.g. an
        optimizer's `iterations`) for drop path's ramp; see
        `nasnet_utils.drop_path_keep_prob`.

    Returns:
      (logits, end_points); the pooled features instead of logits without
      classes, or the final end point.

    Raises:
      TypeError: if `config` is not a `Config`.
      ValueError: for an unknown `final_endpoint`, a bad config, images of
        another rank or too small, or an auxiliary head on images of unknown
        size.
    """
    config = nasnet_utils.check_config(config, mobile_imagenet_config)
    return build_nasnet_base(
        images,
        nasnet_utils.NASNET_A_NORMAL,
        nasnet_utils.NASNET_A_REDUCTION,
        num_classes,
        config,
        is_training,
        'imagenet',
        final_endpoint,
        current_step,
    )


build_nasnet_mobile.default_image_size = 224


def build_nasnet_large(
    images,
    num_classes,
    is_training=True,
    final_endpoint=None,
    config=None,
    current_step=None,
):
    """NASNet-A large for ImageNet (331 x 331): as the mobile net, with 18
    normal cells of 168 filters and more.

    Arguments and results as `build_nasnet_mobile`'s.
    """
    config = nasnet_utils.check_config(config, large_imagenet_config)
    return build_nasnet_base(
        images,
        nasnet_utils.NASNET_A_NORMAL,
        nasnet_utils.NASNET_A_REDUCTION,
        num_classes,
        config,
        is_training,
        'imagenet',
        final_endpoint,
        current_step,
    )


build_nasnet_large.default_image_size = 331


def end_point_names(config, separate_reductions=True):
    """The end points a net of `config` builds, in order (without
    'AuxLogits'): each is a valid `final_endpoint`. PNASNet has no separate
    reduction cells (`separate_reductions=False`)."""
    names = ['Stem']
    reductions = nasnet_utils.calc_reduction_layers(
        config.num_cells, config.num_reduction_layers
    )
    for cell_num in range(config.num_cells):
        if separate_reductions and cell_num in reductions:
            names.append('Reduction_Cell_{}'.format(reductions.index(cell_num)))
        names.append('Cell_{}'.format(cell_num))
    return names + ['global_pool', 'Logits', 'Predictions']


def check_images(images, smallest, final_endpoint, valid_end_points):
    """Checks the images' rank and size and the final end point.

    Raises:
      ValueError: naming the argument and what was expected.
    """
    if final_endpoint is not None and final_endpoint not in valid_end_points:
        raise ValueError(
            'final_endpoint must be None or one of {}, got {!r}.'.format(
                valid_end_points, final_endpoint
            )
        )
    shape = images.shape
    if shape.rank != 4:
        raise ValueError(
            'images must have shape [batch, height, width, '
            'channels], got shape {}.'.format(shape)
        )
    for size in shape[1:3]:
        if size is not None and size < smallest:
            raise ValueError(
                'images must be at least {0}x{0}, got shape {1}.'.format(
                    smallest, shape
                )
            )


def build_nasnet_base(
    images,
    normal_cell,
    reduction_cell,
    num_classes,
    config,
    is_training,
    stem_type,
    final_endpoint=None,
    current_step=None,
):
    """Builds a NASNet of two cell specs (`nasnet_utils.CellSpec`), for
    `build_nasnet_*` and variants; see `build_nasnet_mobile`."""
    imagenet = stem_type == 'imagenet'
    images = tf.convert_to_tensor(images)
    check_images(
        images, 3 if imagenet else 1, final_endpoint, end_point_names(config)
    )
    # Drop path spreads over every cell, the two reductions and the ImageNet
    # stem's two cells included.
    total_num_cells = config.num_cells + 2 + (2 if imagenet else 0)
    schedule = nasnet_utils.DropPath(
        config.drop_path_keep_prob if is_training else 1.0,
        total_num_cells,
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
        # Each output with its count of reductions, which says which inputs of a
        # cell must be halved (see nasnet_utils).
        if imagenet:
            net, cell_outputs = _imagenet_stem(
                images, config, reduction_cell, cell_args
            )
        else:
            net, cell_outputs = _cifar_stem(images, config)
        if add_and_check_endpoint('Stem', net):
            return net, end_points

        reductions = nasnet_utils.calc_reduction_layers(
            config.num_cells, config.num_reduction_layers
        )
        aux_head_cell = reductions[1] - 1 if len(reductions) >= 2 else None
        filter_scaling = 1.0
        level = cell_outputs[-1][1]
        true_cell_num = 2 if imagenet else 0
        for cell_num in range(config.num_cells):
            if config.skip_reduction_layer_input:
                prev_layer = cell_outputs[-2]
            if cell_num in reductions:
                filter_scaling *= config.filter_scaling_rate
                index = reductions.index(cell_num)
                net = nasnet_utils.build_cell(
                    net,
                    cell_outputs[-2][0],
                    reduction_cell,
                    int(config.num_conv_filters * filter_scaling),
                    'reduction_cell_{}'.format(index),
                    stride=2,
                    prev_layer_is_larger=_larger(cell_outputs[-2], level),
                    cell_num=true_cell_num,
                    **cell_args,
                )
                level += 1
                if add_and_check_endpoint(
                    'Reduction_Cell_{}'.format(index), net
                ):
                    return net, end_points
                true_cell_num += 1
                cell_outputs.append((net, level))
            if not config.skip_reduction_layer_input:
                prev_layer = cell_outputs[-2]
            net = nasnet_utils.build_cell(
                net,
                prev_layer[0],
                normal_cell,
                int(config.num_conv_filters * filter_scaling),
                'cell_{}'.format(cell_num),
                prev_layer_is_larger=_larger(prev_layer, level),
                cell_num=true_cell_num,
                **cell_args,
            )
            if add_and_check_endpoint('Cell_{}'.format(cell_num), net):
                return net, end_points
            true_cell_num += 1
            if (
                config.use_aux_head
                and cell_num == aux_head_cell
                and num_classes
                and is_training
            ):
                aux_head(
                    act(net),
                    end_points,
                    num_classes,
                    config,
                    'aux_{}'.format(cell_num),
                )
            cell_outputs.append((net, level))
        return final_layer(
            net, end_points, num_classes, config, add_and_check_endpoint
        )


def _larger(output, level):
    """Whether a (tensor, reductions) cell output is from before the current
    reduction level (None, for the first cell, is not)."""
    return output[0] is not None and output[1] < level


def _imagenet_stem(images, config, stem_cell, cell_args):
    """A strided 3x3 convolution and two stride-2 cells of 1/4 and 1/2 the
    filters."""
    net = slim.conv2d(
        images,
        int(32 * config.stem_multiplier),
        [3, 3],
        stride=2,
        padding='VALID',
        scope='conv0',
    )
    net = slim.batch_norm(net, scope='conv0_bn')  # 111 x 111 x 32
    cell_outputs = [(None, 0), (net, 0)]
    filter_scaling = 1.0 / config.filter_scaling_rate**2
    for cell_num in range(2):
        net = nasnet_utils.build_cell(
            net,
            cell_outputs[-2][0],
            stem_cell,
            int(config.num_conv_filters * filter_scaling),
            'cell_stem_{}'.format(cell_num),
            stride=2,
            prev_layer_is_larger=cell_outputs[-2][0] is not None,
            cell_num=cell_num,
            **cell_args,
        )
        cell_outputs.append((net, cell_num + 1))  # 56 x 56 x 44, 28 x 28 x 88
        filter_scaling *= config.filter_scaling_rate
    return net, cell_outputs


def _cifar_stem(images, config):
    """A 3x3 convolution of `num_conv_filters * stem_multiplier` filters."""
    net = slim.conv2d(
        images,
        int(config.num_conv_filters * config.stem_multiplier),
        3,
        scope='l1_stem_3x3',
    )
    net = slim.batch_norm(net, scope='l1_stem_bn')
    return net, [(None, 0), (net, 0)]


def aux_head(net, end_points, num_classes, config, scope):
    """The auxiliary classifier, research/slim's for every NASNet and PNASNet:
    a 5x5 average pool (stride 3), a 1x1 convolution, a convolution over the
    whole remaining map and the logits, in `end_points['AuxLogits']`.

    Raises:
      ValueError: if the height and width of `net` are not known (its
        kernel is their size).
    """
    act = tf.nn.relu6 if config.use_bounded_activation else tf.nn.relu
    with slim.variable_scope(scope):
        with slim.variable_scope('aux_logits'):
            net = slim.avg_pool2d(net, [5, 5], stride=3, padding='VALID')
            net = slim.conv2d(net, 128, [1, 1], scope='proj')
            net = act(slim.batch_norm(net, scope='aux_bn0'))
            kernel = net.shape[1:3]
            if None in kernel:
                raise ValueError(
                    '{}: the auxiliary head needs a known input height and width '
                    '(its kernel is the feature map\'s size), got shape {}; build '
                    'with known sizes or set config.use_aux_head=0.'.format(
                        scope, net.shape
                    )
                )
            net = slim.conv2d(net, 768, kernel.as_list(), padding='VALID')
            net = act(slim.batch_norm(net, scope='aux_bn1'))
            net = slim.flatten(net)
            end_points['AuxLogits'] = slim.fully_connected(net, num_classes)


def final_layer(net, end_points, num_classes, config, add_and_check_endpoint):
    """Activation, global average pool, dropout and the logits, under
    'final_layer'; the logits (or the pool without classes, or the final end
    point) and the end points."""
    act = tf.nn.relu6 if config.use_bounded_activation else tf.nn.relu
    with slim.variable_scope('final_layer'):
        net = nasnet_utils.global_avg_pool(act(net))  # 1056
        if add_and_check_endpoint('global_pool', net) or not num_classes:
            return net, end_points
        net = slim.dropout(net, config.dense_dropout_keep_prob, scope='dropout')
        logits = slim.fully_connected(net, num_classes)
        if add_and_check_endpoint('Logits', logits):
            return logits, end_points
        predictions = tf.nn.softmax(logits, name='predictions')
        if add_and_check_endpoint('Predictions', predictions):
            return predictions, end_points
    return logits, end_points
