"""Downloading and unpacking the converters' sources, safely.

A download goes to a temporary name in the target folder and is renamed into place
only once complete (and as long as the server announced), so an interrupted
download never leaves a half file under the final name. Archives are unpacked only
if every member stays inside the target folder; one that is not a tar file, or is
cut short or damaged, is refused with a `ValueError` that names it.
"""

import http.client
import lzma
import os
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zlib

from absl import logging

from slim.errors import ArgumentError

_CHUNK = 1 << 20


def download_file(url, dest_path, timeout=60):
    """Downloads `url` (http, https or file) to `dest_path`; returns `dest_path`.

    An existing `dest_path` is taken as complete (only complete downloads get that
    name) and not fetched again.

    Raises:
      OSError: if the transfer fails or stops short of its announced length; the
        message names `url` and why. No file is left under `dest_path` nor under
        the temporary name.
    """
    if os.path.exists(dest_path):
        logging.info('Using the already downloaded %s.', dest_path)
        return dest_path
    dest_dir = os.path.dirname(os.path.abspath(dest_path))
    os.makedirs(dest_dir, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(
        prefix='.' + os.path.basename(dest_path) + '.',
        suffix='.part',
        dir=dest_dir,
    )
    try:
        with (
            os.fdopen(fd, 'wb') as f,
            urllib.request.urlopen(url, timeout=timeout) as r,
        ):
            expected = r.headers.get('Content-Length')
            expected = (
                int(expected) if expected and expected.isdigit() else None
            )
            received = 0
            while True:
                chunk = r.read(_CHUNK)
                if not chunk:
                    break
                f.write(chunk)
                received += len(chunk)
                _progress(os.path.basename(dest_path), received, expected)
            if expected is not None and received != expected:
                raise OSError(
                    'it stopped after %d of %d bytes' % (received, expected)
                )
        os.replace(tmp_path, dest_path)
    except (OSError, http.client.HTTPException) as e:
        _remove_quietly(tmp_path)
        # urllib's own messages ('<urlopen error ...>') do not say which URL.
        reason = (
            e
            if isinstance(e, urllib.error.HTTPError)
            else getattr(e, 'reason', e)
        )
        raise OSError(
            'Could not download %s: %s.'
            % (url, str(reason).rstrip('.') or type(e).__name__)
        ) from None
    except BaseException:
        _remove_quietly(tmp_path)
        raise
    logging.info('Downloaded %s (%d bytes).', dest_path, received)
    return dest_path


def extract_tar(
    archive_path, target_dir, expected='a tar archive', argument=None
):
    """Unpacks a (compressed) tar archive into `target_dir`, refusing unsafe members.

    Args:
      archive_path: the archive (tar, or tar compressed with gzip, bzip2 or xz).
      target_dir: where to unpack it; created if needed.
      expected: what the archive should be, for the message of an unreadable one,
        e.g. `'cifar-10-python.tar.gz'`.
      argument: the name of the argument `archive_path` came from (e.g.
        `'archive'`), which then starts the message: `archive='/x.tgz' is ...`.

    Raises:
      ValueError: if a member's path or link target would leave `target_dir`
        (absolute paths, `..`), or a member is a device or FIFO (nothing is
        extracted then); or if the archive is not a tar file, ends early or is
        damaged (what was unpacked may stay in `target_dir`: unpack into a
        staging folder). The message names the archive and what was expected.
      OSError: for a failure of the disk (full, not writable).
    """
    target = os.path.realpath(target_dir)
    os.makedirs(target, exist_ok=True)
    try:
        with tarfile.open(archive_path, 'r:*') as tar:
            members = tar.getmembers()
            for member in members:
                _check_member(member, target, archive_path)
            # The 'data' filter (Python >= 3.11.4) re-checks the same and drops
            # permissions bits such as setuid.
            tar.extractall(target, members=members, filter='data')
    except (
        tarfile.TarError,
        EOFError,
        zlib.error,
        lzma.LZMAError,
        OSError,
    ) as e:
        # A corrupt stream shows as an OSError without errno (gzip.BadGzipFile,
        # bz2's "Invalid data stream"); one with an errno is the disk's, not the data's.
        if isinstance(e, OSError) and e.errno is not None:
            raise
        raise archive_error(
            archive_path,
            argument,
            'is not a readable tar archive: %s; expected %s.'
            % (_unreadable_reason(e), expected),
        ) from None


def archive_error(archive_path, argument, problem):
    """The error for `problem` with an archive: an `ArgumentError` of
    `argument` if the archive was given by one, else a ValueError naming the
    (downloaded) archive."""
    if argument:
        return ArgumentError(argument, archive_path, problem)
    return ValueError('The archive %r %s' % (archive_path, problem))


def _check_member(member, target, archive_path):
    def inside(path):
        resolved = os.path.realpath(os.path.join(target, path))
        return resolved == target or resolved.startswith(target + os.sep)

    if os.path.isabs(member.name) or not inside(member.name):
        raise ValueError(
            'The archive %s has a member %r that would be written outside '
            '%s; refusing to extract it.' % (archive_path, member.name, target)
        )
    if member.issym() or member.islnk():
        base = os.path.dirname(member.name) if member.issym() else ''
        if os.path.isabs(member.linkname) or not inside(
            os.path.join(base, member.linkname)
        ):
            raise ValueError(
                'The archive %s has a link %r -> %r pointing outside %s; '
                'refusing to extract it.'
                % (archive_path, member.name, member.linkname, target)
            )
    if member.isdev() or member.isfifo():
        raise ValueError(
            'The archive %s has a device or FIFO member %r; refusing to '
            'extract it.' % (archive_path, member.name)
        )


def _unreadable_reason(error):
    text = str(error).strip().splitlines()[0] if str(error).strip() else ''
    if isinstance(error, EOFError) or 'unexpected end of data' in text:
        return 'it ends early, as a cut-off download or copy does'
    if isinstance(error, tarfile.ReadError) and (
        text.startswith('file could not be opened')
        or text in ('invalid header', 'empty file')
    ):
        return 'it is not a tar file, compressed or not'
    return 'its data are damaged (%s: %s)' % (type(error).__name__, text)


def _progress(name, received, expected):
    if not sys.stdout.isatty():
        return
    if expected:
        sys.stdout.write(
            '\r>> Downloading %s %.1f%%' % (name, 100.0 * received / expected)
        )
    else:
        sys.stdout.write('\r>> Downloading %s %d bytes' % (name, received))
    sys.stdout.flush()


def _remove_quietly(path):
    try:
        os.remove(path)
    except OSError:
        pass
