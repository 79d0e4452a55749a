"""Finds the damaged TFRecord files of a dataset: which shard, which byte, what is wrong.

`tf.data` stops on a truncated or overwritten shard with a `tf.errors.DataLossError`
that names neither the file nor the dataset. After such a failure,
`find_damaged_shards(paths)` reads each shard once with TensorFlow's own reader (so
exactly what failed in the pipeline fails here), and for a shard that fails, reads
it record by record to find the first bad record, then looks at its framing:

    uint64 length | uint32 masked crc32c of the length | data | uint32 masked crc32c of it

to say whether the file ends inside the record (truncated), its length header is
damaged, or its data are. A file cut inside a record's header reads without an
error in TensorFlow (the records before the cut, then the end), so the framed sizes
of the records read are also checked to add up to the file's size. This reads the
data once more; it runs only after a failure, never on the normal path.
"""

import collections
import re
import struct

import tensorflow as tf

ShardDamage = collections.namedtuple(
    'ShardDamage', ['path', 'offset', 'record', 'problem']
)
ShardDamage.__doc__ = """The first damaged record of a TFRecord file.

Fields:
  path: the file.
  offset: the byte offset at which the damaged record starts.
  record: how many whole records precede it.
  problem: what is wrong, e.g. `'truncated: ...'` or `'bad checksum of ...'`.
"""

_HEADER_BYTES = 12  # uint64 length + uint32 masked crc32c of it
_FOOTER_BYTES = 4  # uint32 masked crc32c of the data
_FRAMING_BYTES = _HEADER_BYTES + _FOOTER_BYTES
_MASK_DELTA = 0xA282EAD8


def find_damaged_shards(paths):
    """Returns a `ShardDamage` for each of `paths` that is not whole, in their order.

    A file that reads whole returns nothing, so an empty list means every file reads
    (for instance when a file was replaced since the failure).
    """
    return [damage for damage in map(find_damage, paths) if damage is not None]


def find_damage(path):
    """Returns the `ShardDamage` of the first bad record of `path`; None if it is whole."""
    try:
        # One pass in TensorFlow's reader; almost every shard ends here.
        record, offset = tf.data.TFRecordDataset(path).reduce(
            (tf.constant(0, tf.int64), tf.constant(0, tf.int64)),
            lambda state, data: (
                state[0] + 1,
                state[1]
                + _FRAMING_BYTES
                + tf.cast(tf.strings.length(data), tf.int64),
            ),
        )
        record, offset = int(record), int(offset)
        if offset == tf.io.gfile.stat(path).length:
            return None
        return ShardDamage(path, offset, record, _diagnose(path, offset))
    except tf.errors.DataLossError:
        pass
    except (
        tf.errors.OpError
    ) as e:  # gone or unreadable: say so rather than guess
        return ShardDamage(
            path, 0, 0, 'cannot be read: %s' % _first_line(e.message)
        )
    offset = record = 0
    try:
        for length in tf.data.TFRecordDataset(path).map(tf.strings.length):
            offset += _FRAMING_BYTES + int(length)
            record += 1
    except tf.errors.DataLossError:
        return ShardDamage(path, offset, record, _diagnose(path, offset))
    return None


def describe(damaged, what='', error=None):
    """Returns one line naming the damaged shards (from `find_damaged_shards`).

    Args:
      damaged: the `ShardDamage`s found; may be empty.
      what: what the shards are, for the message, e.g. "split 'train' of the
        'flowers' dataset in '/data/flowers'".
      error: the `tf.errors.DataLossError` that prompted the search, quoted when
        no damaged shard is found.
    """
    of_what = ' of %s' % what if what else ''
    if not damaged:
        said = (
            ' (TensorFlow said: %s)' % _first_line(error.message)
            if error
            else ''
        )
        return (
            'Lost data while reading the shards%s%s, but every shard reads whole '
            'now; were the files changed while they were read?'
            % (of_what, said)
        )
    first = damaged[0]
    line = (
        'TFRecord shard %r%s is damaged at byte %d (after %d whole records): %s; '
        'expected whole records (length, its checksum, data, its checksum).'
        % (first.path, of_what, first.offset, first.record, first.problem)
    )
    if len(damaged) > 1:
        others = [repr(d.path) for d in damaged[1:]]
        line += ' %d more damaged: %s.' % (
            len(others),
            ', '.join(others[:3]) + (' ...' if len(others) > 3 else ''),
        )
    return (
        line + ' Re-create the dataset (re-convert it), or restore the files.'
    )


def masked_crc32c(data):
    """Returns the masked CRC-32C TFRecord files store after a length or data."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    crc ^= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def _diagnose(path, offset):
    size = tf.io.gfile.stat(path).length
    with tf.io.gfile.GFile(path, 'rb') as f:
        f.seek(offset)
        header = f.read(_HEADER_BYTES)
        if len(header) < _HEADER_BYTES:
            return (
                'truncated: the file ends %d bytes into a record\'s %d-byte header'
                % (len(header), _HEADER_BYTES)
            )
        length, length_crc = struct.unpack('<QI', header)
        if masked_crc32c(header[:8]) != length_crc:
            zeros = ' (the bytes there are zeros)' if not any(header) else ''
            return (
                'bad checksum of the record length: its header is damaged%s'
                % zeros
            )
        end = offset + _HEADER_BYTES + length + _FOOTER_BYTES
        if end > size:
            return (
                'truncated: a record of %d bytes needs the file to reach byte %d, '
                'but it ends at byte %d' % (length, end, size)
            )
        data = f.read(length)
    zeros = ' (they are all zeros)' if length and not any(data) else ''
    return 'bad checksum of the record data: its %d bytes are damaged%s' % (
        length,
        zeros,
    )


def _first_line(text):
    # TensorFlow's messages start with the name of the function that failed.
    lines = re.sub(r'^\{\{[^}]*\}\}\s*', '', str(text).strip()).splitlines()
    return lines[0] if lines else ''


def _crc32c_table():
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            # Castagnoli's polynomial, bit-reversed.
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC32C_TABLE = _crc32c_table()
