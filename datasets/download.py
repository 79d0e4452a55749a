"""Downloading and unpacking the converters' sources, safely.

A download goes to a temporary name in the target folder and is renamed into place
only once complete (and as long as the server announced), so an interrupted
download never leaves a half file under the final name. Archives are unpacked only
if every member stays inside the target folder.
"""
import os
import sys
import tarfile
import tempfile
import urllib.request

from absl import logging

_CHUNK = 1 << 20


def download_file(url, dest_path, timeout=60):
    """Downloads `url` (http, https or file) to `dest_path`; returns `dest_path`.

    An existing `dest_path` is taken as complete (only complete downloads get that
    name) and not fetched again.

    Raises:
      OSError: if the transfer fails or stops short of its announced length; no
        file is left under `dest_path` nor under the temporary name.
    """
    if os.path.exists(dest_path):
        logging.info('Using the already downloaded %s.', dest_path)
        return dest_path
    dest_dir = os.path.dirname(os.path.abspath(dest_path))
    os.makedirs(dest_dir, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(prefix='.' + os.path.basename(dest_path) + '.',
                                    suffix='.part', dir=dest_dir)
    try:
        with os.fdopen(fd, 'wb') as f, urllib.request.urlopen(url, timeout=timeout) as r:
            expected = r.headers.get('Content-Length')
            expected = int(expected) if expected and expected.isdigit() else None
            received = 0
            while True:
                chunk = r.read(_CHUNK)
                if not chunk:
                    break
                f.write(chunk)
                received += len(chunk)
                _progress(os.path.basename(dest_path), received, expected)
            if expected is not None and received != expected:
                raise OSError('The download of %s stopped after %d of %d bytes.'
                              % (url, received, expected))
        os.replace(tmp_path, dest_path)
    except BaseException:
        _remove_quietly(tmp_path)
        raise
    logging.info('Downloaded %s (%d bytes).', dest_path, received)
    return dest_path


def extract_tar(archive_path, target_dir):
    """Unpacks a (compressed) tar archive into `target_dir`, refusing unsafe members.

    Raises:
      ValueError: if a member's path or link target would leave `target_dir`
        (absolute paths, `..`), or a member is a device or FIFO; nothing is
        extracted then.
      tarfile.TarError: if the archive is not a readable tar file.
    """
    target = os.path.realpath(target_dir)
    os.makedirs(target, exist_ok=True)
    with tarfile.open(archive_path, 'r:*') as tar:
        members = tar.getmembers()
        for member in members:
            _check_member(member, target, archive_path)
        # The 'data' filter (Python >= 3.11.4) re-checks the same and drops
        # permissions bits such as setuid.
        tar.extractall(target, members=members, filter='data')


def _check_member(member, target, archive_path):
    def inside(path):
        resolved = os.path.realpath(os.path.join(target, path))
        return resolved == target or resolved.startswith(target + os.sep)

    if os.path.isabs(member.name) or not inside(member.name):
        raise ValueError('The archive %s has a member %r that would be written outside '
                         '%s; refusing to extract it.' % (archive_path, member.name, target))
    if member.issym() or member.islnk():
        base = os.path.dirname(member.name) if member.issym() else ''
        if os.path.isabs(member.linkname) or not inside(os.path.join(base, member.linkname)):
            raise ValueError('The archive %s has a link %r -> %r pointing outside %s; '
                             'refusing to extract it.'
                             % (archive_path, member.name, member.linkname, target))
    if member.isdev() or member.isfifo():
        raise ValueError('The archive %s has a device or FIFO member %r; refusing to '
                         'extract it.' % (archive_path, member.name))


def _progress(name, received, expected):
    if not sys.stdout.isatty():
        return
    if expected:
        sys.stdout.write('\r>> Downloading %s %.1f%%' % (name, 100.0 * received / expected))
    else:
        sys.stdout.write('\r>> Downloading %s %d bytes' % (name, received))
    sys.stdout.flush()


def _remove_quietly(path):
    try:
        os.remove(path)
    except OSError:
        pass
