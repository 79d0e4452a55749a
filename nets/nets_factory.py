"""Looks nets up by name, ready to call with their arg scope applied.

Every net of the zoo is registered once, below, with `register_model`: the
registration names the net function, its arg scope and its default image
size (read from `fn.default_image_size` unless given). The drivers only call
`get_network_fn(name, ...)`:

    model = nets_factory.get_network_fn('inception_v3', num_classes=1001)
    logits, end_points = model(images)       # arg scope applied inside
    model.default_image_size                 # 299

Adding a net is one module plus one `register_model(...)` line here; a net
defined elsewhere can also register itself with the decorator form:

    @nets_factory.register_model(arg_scope=my_net_arg_scope)
    def my_net(images, num_classes=10, is_training=False, scope='MyNet'):
      ...
"""

import argparse
import collections
import functools
import sys

import slim
from nets import alexnet
from nets import cifarnet
from nets import i3d
from nets import inception_resnet_v2
from nets import inception_v1
from nets import inception_v2
from nets import inception_v3
from nets import inception_v4
from nets import lenet
from nets import mobilenet_v1
from nets import overfeat
from nets import published
from nets import resnet_v1
from nets import resnet_v2
from nets import s3dg
from nets import vgg
from nets.mobilenet import mobilenet_v2
from nets.mobilenet import mobilenet_v3
from nets.nasnet import nasnet
from nets.nasnet import pnasnet

NetworkSpec = collections.namedtuple(
    'NetworkSpec',
    [
        'name',
        'fn',
        'arg_scope',
        'default_image_size',
        'min_image_size',
        'preprocessing',
        'num_classes',
        'num_frames',
    ],
)
NetworkSpec.__doc__ = """A registered net.

  name: the name `get_network_fn` knows it by.
  fn: the net function, `fn(images, num_classes=..., is_training=..., **kw)`
    returning (logits, end_points).
  arg_scope: a function `arg_scope(weight_decay=...)` returning the arg scope
    dict the net is built under.
  default_image_size: the height and width the net is trained at.
  min_image_size: the smallest height and width it builds at, or None if
    not known (for error messages).
  preprocessing: the name of its preprocessing style ('inception', 'vgg',
    'cifarnet', 'lenet'), or None.
  num_classes: the class count of its published checkpoint (1001 with
    ImageNet's background class, 1000 without: fine-tune those with
    `--labels_offset=1` on 1001-class data), or None if there is none.
  num_frames: for a video net, whose input is `[batch, frames, height,
    width, channels]`, the frame count it is trained at; None for an image
    net.
"""

_REGISTRY = collections.OrderedDict()


def register_model(
    fn=None,
    *,
    name=None,
    arg_scope,
    default_image_size=None,
    min_image_size=None,
    preprocessing=None,
    num_classes=None,
    num_frames=None,
):
    """Registers a net function; usable as a call or as a decorator.

    Args:
      fn: the net function. If None, returns a decorator that registers the
        function it decorates.
      name: the name to register under; `fn.__name__` by default.
      arg_scope: the net's arg scope function, taking `weight_decay=`.
      default_image_size: the net's training image size;
        `fn.default_image_size` by default.
      min_image_size: the smallest square input it builds at (with its
        default arguments), for the drivers' error messages.
      preprocessing: its preprocessing style, e.g. 'inception'; what
        `preprocessing_factory.get_preprocessing(name)` returns for the net.
      num_classes: the class count of its published checkpoint, if any.
      num_frames: the frame count of a video net; None for an image net.

    Returns:
      `fn` itself (or the decorator), so registering does not wrap the net.

    Raises:
      ValueError: if the name is already registered, or no default image size
        is given and `fn` has none.
    """
    if fn is None:
        return lambda f: register_model(
            f,
            name=name,
            arg_scope=arg_scope,
            default_image_size=default_image_size,
            min_image_size=min_image_size,
            preprocessing=preprocessing,
            num_classes=num_classes,
            num_frames=num_frames,
        )
    name = name or fn.__name__
    if name in _REGISTRY:
        raise ValueError(
            'name {!r} is already registered (to {!r}); pick another name.'.format(
                name, _REGISTRY[name].fn
            )
        )
    if default_image_size is None:
        default_image_size = getattr(fn, 'default_image_size', None)
    if default_image_size is None:
        raise ValueError(
            'default_image_size of net {!r} is None: pass default_image_size= or '
            'set {}.default_image_size.'.format(name, fn.__name__)
        )
    _REGISTRY[name] = NetworkSpec(
        name,
        fn,
        arg_scope,
        default_image_size,
        min_image_size,
        preprocessing,
        num_classes,
        num_frames,
    )
    return fn


def list_networks():
    """Returns the registered net names, sorted."""
    return sorted(_REGISTRY)


def get_network_spec(name):
    """Returns the `NetworkSpec` registered as `name`.

    Raises:
      ValueError: if no net is registered as `name`.
    """
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(
            'name must be one of {}, got {!r}.'.format(list_networks(), name)
        ) from None


def get_network_fn(name, num_classes, weight_decay=0.0, is_training=False):
    """Returns the net `name` as a `slim.Model`, its arg scope applied inside.

    Args:
      name: a registered net name (see `list_networks()`).
      num_classes: the number of classes; 0 or None gives the pre-logits
        features of nets that support it.
      weight_decay: the L2 penalty passed to the net's arg scope.
      is_training: the default mode of the calls; `model(images,
        is_training=True)` overrides it per call, as any net argument.

    Returns:
      A `slim.Model`: `model(images, **kwargs)` returns (logits, end_points);
      `model.default_image_size` is the net's training size,
      `model.min_image_size` the smallest it takes (None if not known),
      `model.num_frames` the frame count of a video net (None for images) and
      `model.network_name` its name.

    Raises:
      ValueError: if `name` is not registered.
    """
    spec = get_network_spec(name)

    # wraps: its signature is the net's, so `model.accepts_argument` answers
    # for the net.
    @functools.wraps(spec.fn)
    def network_fn(images, **kwargs):
        # The scope is rebuilt per call so that every call, eager or traced,
        # sees the same arguments; it is a small dict, so this costs nothing.
        with slim.arg_scope(spec.arg_scope(weight_decay=weight_decay)):
            return spec.fn(images, **kwargs)

    model = slim.Model(
        network_fn, num_classes=num_classes, is_training=is_training
    )
    model.default_image_size = spec.default_image_size
    model.min_image_size = spec.min_image_size
    model.num_frames = spec.num_frames
    model.network_name = spec.name
    return model


def input_shape(name, image_size=None, batch_size=1, channels=3):
    """The input shape net `name` takes: [batch, (frames,) size, size, channels].

    `image_size` defaults to the net's default size; a video net gets its
    registered frame count.
    """
    spec = get_network_spec(name)
    size = image_size or spec.default_image_size
    frames = [spec.num_frames] if spec.num_frames else []
    return [batch_size] + frames + [size, size, channels]


def summarize(name, num_classes=None, image_size=None, channels=3, **kwargs):
    """The `slim.model_analyzer.ModelSummary` of net `name`.

    Built (in a graph, nothing run) for evaluation at `image_size` (its
    default size if None) with `num_classes` (its published checkpoint's
    count, or 1001, if None); `kwargs` go to the net function.
    """
    spec = get_network_spec(name)
    model = get_network_fn(name, num_classes or spec.num_classes or 1001)
    return slim.model_analyzer.summarize(
        model, input_shape(name, image_size, channels=channels), **kwargs
    )


def zoo_table(names=None, costs=True):
    """The zoo as a Markdown table, one row per registered net.

    Columns: name, default size, parameters and multiply-adds (counted by
    `summarize` at the default size, with the published checkpoint's class
    count; left out with `costs=False`, which is instant), preprocessing, the
    published checkpoint and its top-1.
    """
    human = slim.model_analyzer.human
    header = ['net', 'size']
    if costs:
        header += ['parameters', 'multiply-adds']
    header += ['preprocessing', 'classes', 'published checkpoint', 'top-1']
    lines = [
        '| ' + ' | '.join(header) + ' |',
        '|' + '|'.join('---' for _ in header) + '|',
    ]
    for name in names or list_networks():
        spec = get_network_spec(name)
        size = str(spec.default_image_size)
        if spec.num_frames:
            size = '%d frames x %s' % (spec.num_frames, size)
        row = [name, size]
        if costs:
            summary = summarize(name)
            row += [human(summary.parameters), human(summary.multiply_adds)]
        record = published.published(name)
        row += [
            spec.preprocessing or '-',
            str(spec.num_classes or '-'),
            record.checkpoint if record else '-',
            str(record.top1) if record else '-',
        ]
        lines.append('| ' + ' | '.join(row) + ' |')
    return '\n'.join(lines)


def main(argv=None):
    """`python -m nets.nets_factory`: the zoo table, or one net's summary."""
    parser = argparse.ArgumentParser(
        prog='python -m nets.nets_factory',
        description='Prints the zoo: every registered net with its default '
        'size, parameters, multiply-adds, preprocessing and published '
        'checkpoint; or, with --summary, one net per end point.',
    )
    parser.add_argument(
        '--summary',
        metavar='NAME',
        help='print NAME\'s output shape, parameters and '
        'multiply-adds per end point',
    )
    parser.add_argument(
        '--image_size',
        type=int,
        default=None,
        help='build at this size (default: the net\'s own)',
    )
    parser.add_argument(
        '--num_classes',
        type=int,
        default=None,
        help='default: the published checkpoint\'s count',
    )
    parser.add_argument(
        '--no_costs',
        action='store_true',
        help='the table without parameters and multiply-adds '
        '(instant; counting builds every net)',
    )
    args = parser.parse_args(argv)
    if args.summary:
        if args.summary not in _REGISTRY:
            parser.error(
                '--summary must be one of %s, got %r'
                % (', '.join(list_networks()), args.summary)
            )
        if args.image_size is not None and args.image_size <= 0:
            parser.error(
                '--image_size must be positive, got %d' % args.image_size
            )
        summary = summarize(args.summary, args.num_classes, args.image_size)
        print(summary.format(args.summary))
    else:
        print(zoo_table(costs=not args.no_costs))
    return 0


# The zoo. Preprocessing styles and class counts are research/slim's; its
# factory forgot alexnet_v2 and overfeat, trained like VGG on 0..255 inputs.
# The ResNet v2 checkpoints were trained with inception preprocessing at 299
# although research/slim maps them to vgg (see the README).
register_model(
    alexnet.alexnet_v2,
    arg_scope=alexnet.alexnet_v2_arg_scope,
    min_image_size=195,
    preprocessing='vgg',
)
register_model(
    cifarnet.cifarnet,
    arg_scope=cifarnet.cifarnet_arg_scope,
    min_image_size=4,
    preprocessing='cifarnet',
)
register_model(
    inception_v1.inception_v1,
    arg_scope=inception_v1.inception_v1_arg_scope,
    min_image_size=193,
    preprocessing='inception',
    num_classes=1001,
)
register_model(
    inception_v2.inception_v2,
    arg_scope=inception_v2.inception_v2_arg_scope,
    preprocessing='inception',
    num_classes=1001,
)
register_model(
    inception_v3.inception_v3,
    arg_scope=inception_v3.inception_v3_arg_scope,
    min_image_size=107,
    preprocessing='inception',
    num_classes=1001,
)
register_model(
    inception_v4.inception_v4,
    arg_scope=inception_v4.inception_v4_arg_scope,
    min_image_size=107,
    preprocessing='inception',
    num_classes=1001,
)
register_model(
    inception_resnet_v2.inception_resnet_v2,
    arg_scope=inception_resnet_v2.inception_resnet_v2_arg_scope,
    min_image_size=107,
    preprocessing='inception',
    num_classes=1001,
)
register_model(
    lenet.lenet,
    arg_scope=lenet.lenet_arg_scope,
    min_image_size=4,
    preprocessing='lenet',
)
register_model(
    overfeat.overfeat,
    arg_scope=overfeat.overfeat_arg_scope,
    min_image_size=231,
    preprocessing='vgg',
)
for _vgg in (vgg.vgg_a, vgg.vgg_16, vgg.vgg_19):
    register_model(
        _vgg,
        arg_scope=vgg.vgg_arg_scope,
        min_image_size=224,
        preprocessing='vgg',
        num_classes=1000,
    )
for _depth in (50, 101, 152, 200):
    register_model(
        getattr(resnet_v1, 'resnet_v1_%d' % _depth),
        arg_scope=resnet_v1.resnet_arg_scope,
        preprocessing='vgg',
        num_classes=1000,
    )
    register_model(
        getattr(resnet_v2, 'resnet_v2_%d' % _depth),
        arg_scope=resnet_v2.resnet_arg_scope,
        preprocessing='vgg',
        num_classes=1001,
    )

# NASNet-A and PNASNet-5 (nets/nasnet/), trained with current_step= for drop
# path (see slim.learning). research/slim preprocesses nasnet_cifar as
# cifarnet and the ImageNet ones as inception.
register_model(
    nasnet.build_nasnet_cifar,
    name='nasnet_cifar',
    arg_scope=nasnet.nasnet_cifar_arg_scope,
    min_image_size=1,
    preprocessing='cifarnet',
)
register_model(
    nasnet.build_nasnet_mobile,
    name='nasnet_mobile',
    arg_scope=nasnet.nasnet_mobile_arg_scope,
    min_image_size=3,
    preprocessing='inception',
    num_classes=1001,
)
register_model(
    nasnet.build_nasnet_large,
    name='nasnet_large',
    arg_scope=nasnet.nasnet_large_arg_scope,
    min_image_size=3,
    preprocessing='inception',
    num_classes=1001,
)
register_model(
    pnasnet.build_pnasnet_mobile,
    name='pnasnet_mobile',
    arg_scope=pnasnet.pnasnet_mobile_arg_scope,
    min_image_size=3,
    preprocessing='inception',
    num_classes=1001,
)
register_model(
    pnasnet.build_pnasnet_large,
    name='pnasnet_large',
    arg_scope=pnasnet.pnasnet_large_arg_scope,
    min_image_size=3,
    preprocessing='inception',
    num_classes=1001,
)

# MobileNet v2, v3 and EdgeTPU: research/slim's names, each variant the
# family's function with other defaults. Every size builds down to 1 x 1
# ('SAME' padding everywhere; v3's head pools a map that small whole).
for _name, _fn in (
    ('mobilenet_v2', mobilenet_v2.mobilenet),
    ('mobilenet_v2_140', mobilenet_v2.mobilenet_v2_140),
    ('mobilenet_v2_035', mobilenet_v2.mobilenet_v2_035),
):
    register_model(
        _fn,
        name=_name,
        arg_scope=mobilenet_v2.training_scope,
        min_image_size=1,
        preprocessing='inception',
        num_classes=1001,
    )
for _name, _fn in (
    ('mobilenet_v3_small', mobilenet_v3.small),
    ('mobilenet_v3_large', mobilenet_v3.large),
    ('mobilenet_v3_small_minimalistic', mobilenet_v3.small_minimalistic),
    ('mobilenet_v3_large_minimalistic', mobilenet_v3.large_minimalistic),
    ('mobilenet_edgetpu', mobilenet_v3.edge_tpu),
    ('mobilenet_edgetpu_075', mobilenet_v3.edge_tpu_075),
):
    register_model(
        _fn,
        name=_name,
        arg_scope=mobilenet_v3.training_scope,
        min_image_size=1,
        preprocessing='inception',
        num_classes=1001,
    )

# The video nets take clips [batch, frames, height, width, 3]: 64 frames, the
# clips research/slim's i3d_test.py and s3dg_test.py build them with (and
# I3D's paper trains on). research/slim names no preprocessing for them and
# publishes no checkpoint. All their convolutions and pools pad 'SAME' and
# the final pool shrinks to the map, so any size from 1 x 1 builds.
register_model(
    i3d.i3d, arg_scope=i3d.i3d_arg_scope, min_image_size=1, num_frames=64
)
register_model(
    s3dg.s3dg, arg_scope=s3dg.s3dg_arg_scope, min_image_size=1, num_frames=64
)

# MobileNet v1 and its published widths. research/slim's preprocessing
# factory names only 'mobilenet_v1'; the narrow nets were trained the same way.
# Any input of at least 1 x 1 builds (every convolution pads 'SAME').
for _mobilenet in (
    mobilenet_v1.mobilenet_v1,
    mobilenet_v1.mobilenet_v1_075,
    mobilenet_v1.mobilenet_v1_050,
    mobilenet_v1.mobilenet_v1_025,
):
    register_model(
        _mobilenet,
        arg_scope=mobilenet_v1.mobilenet_v1_arg_scope,
        min_image_size=1,
        preprocessing='inception',
        num_classes=1001,
    )

if __name__ == '__main__':
    # Run as a module, this file is `__main__`; the registry the rest of the
    # library sees is the one in `nets.nets_factory`.
    from nets import nets_factory as _factory

    sys.exit(_factory.main())
