"""Seeds for the preprocessing functions' random choices.

Every random op here is stateless and takes its seed from `split_seed`, so one
`seed=` argument makes a whole preprocessing call repeatable (and two seeds give two
different results). With `seed=None` a fresh seed is drawn from TensorFlow's global
random stream, which follows `tf.random.set_seed`.
"""

import tensorflow as tf

_MAX_SEED = 2**31 - 1


def split_seed(seed, num):
    """Returns `num` independent stateless seeds (each an int64 [2] tensor).

    Args:
      seed: None, a Python int, or an int tensor of shape [] or [2].
      num: how many seeds are needed.

    Raises:
      ValueError: if `seed` has a shape other than [] or [2].
    """
    if seed is None:
        seed = tf.random.uniform([2], maxval=_MAX_SEED, dtype=tf.int64)
    else:
        seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
        if seed.shape.rank == 0:
            seed = tf.stack([seed, tf.constant(0, tf.int64)])
        elif seed.shape.as_list() != [2]:
            raise ValueError(
                'seed has shape %s; expected an int or a shape [2] tensor.'
                % (seed.shape,)
            )
    return tf.unstack(tf.random.experimental.stateless_split(seed, num))


def apply_with_random_selector(x, func, num_cases, seed):
    """Returns `func(x, case)` for a case drawn uniformly from `range(num_cases)`.

    TF-Slim did this with switch/merge ops; `tf.switch_case` runs only the chosen
    branch, eagerly and in graphs alike.
    """
    if num_cases == 1:
        return func(x, 0)
    case = tf.random.stateless_uniform(
        [], seed, maxval=num_cases, dtype=tf.int32
    )
    return tf.switch_case(
        case, [lambda c=c: func(x, c) for c in range(num_cases)]
    )
