"""Where a net's time goes: kernel time per op type, one training step and
one inference step.

The net is built in a TF1 graph and run in a session with a full trace
(`RunOptions.FULL_TRACE`); each op's kernel time is summed by its type. The
training step is the one of benchmark_nets.py (cross entropy, weight decay,
gradients, momentum). With two inter-op threads the sums can exceed the
step's wall time; the shares are of the summed kernel time.

    python benchmarks/profile_ops.py --model_name=mobilenet_v1
    python benchmarks/profile_ops.py --model_name=mobilenet_v2 --batch_size=16
"""

import argparse
import collections
import os
import sys
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '1')  # as the drivers

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from nets import nets_factory  # noqa: E402


def main(argv=None):
    args = _parse_args(argv)
    spec = nets_factory.get_network_spec(args.model_name)
    size = args.image_size or spec.default_image_size
    rng = np.random.RandomState(0)
    images = rng.uniform(-1, 1, [args.batch_size, size, size, 3]).astype(
        np.float32
    )
    labels = rng.randint(0, args.num_classes, args.batch_size)
    with tf.Graph().as_default() as graph:
        model = nets_factory.get_network_fn(
            args.model_name, args.num_classes, weight_decay=0.00004
        )
        x = tf.compat.v1.placeholder(tf.float32, images.shape)
        y = tf.compat.v1.placeholder(tf.int64, labels.shape)
        logits, _ = model(x, is_training=True)
        loss = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=y, logits=logits
            )
        )
        if model.losses:
            loss += tf.add_n(model.losses)
        optimizer = tf.compat.v1.train.MomentumOptimizer(0.01, 0.9)
        train = optimizer.minimize(loss)
        inference = model(x, is_training=False)[0]
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            feed = {x: images, y: labels}
            print(
                '%s, batch %d at %dx%d, CPU: %s'
                % (args.model_name, args.batch_size, size, size, _cpu())
            )
            for name, fetch in (
                ('training step', train),
                ('inference', inference),
            ):
                _report(name, session, graph, fetch, feed, args)


def _report(name, session, graph, fetch, feed, args):
    for _ in range(args.warmup):
        session.run(fetch, feed)
    start = time.perf_counter()
    for _ in range(args.steps):
        session.run(fetch, feed)
    wall = (time.perf_counter() - start) / args.steps
    options = tf.compat.v1.RunOptions(
        trace_level=tf.compat.v1.RunOptions.FULL_TRACE
    )
    by_type = collections.Counter()
    for _ in range(args.steps):
        metadata = tf.compat.v1.RunMetadata()
        session.run(fetch, feed, options=options, run_metadata=metadata)
        for device in metadata.step_stats.dev_stats:
            for node in device.node_stats:
                op_name = node.node_name.split(':')[0]
                try:
                    op_type = graph.get_operation_by_name(op_name).type
                except KeyError:  # _SOURCE and the like
                    continue
                by_type[op_type] += (
                    node.op_end_rel_micros - node.op_start_rel_micros
                )
    total = sum(by_type.values())
    print(
        '\n%s: %.1f ms a step (untraced); kernel time by op type:'
        % (name, wall * 1e3)
    )
    print('| op type | ms | share |')
    print('|---|---:|---:|')
    for op_type, micros in by_type.most_common(args.top):
        print(
            '| %s | %.1f | %.1f%% |'
            % (op_type, micros / 1e3 / args.steps, 100.0 * micros / total)
        )


def _cpu():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return 'unknown'


def _parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--model_name', default='mobilenet_v1')
    parser.add_argument('--batch_size', type=int, default=16)
    parser.add_argument('--image_size', type=int, default=None)
    parser.add_argument('--num_classes', type=int, default=1001)
    parser.add_argument('--steps', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--top', type=int, default=12)
    return parser.parse_args(argv)


if __name__ == '__main__':
    main()
