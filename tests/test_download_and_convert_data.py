"""Tests of downloading, safe extraction, the three public converters and the script.

Everything is local: archives are made here, "downloads" are file:// URLs or a
local HTTP server that breaks off mid-transfer.
"""

import filecmp
import gzip
import http.server
import io
import os
import pickle
import struct
import subprocess
import sys
import tarfile
import threading

import numpy as np
import pytest
from PIL import Image

from slim_datasets import conversion
from slim_datasets import convert_cifar10
from slim_datasets import convert_flowers
from slim_datasets import convert_mnist
from slim_datasets import dataset_factory
from slim_datasets import download

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _add_bytes(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def _png(array):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format='PNG')
    return buffer.getvalue()


def _flowers_archive(path, per_class=3):
    rng = np.random.RandomState(0)
    images = {}
    with tarfile.open(path, 'w:gz') as tar:
        for class_name in ('daisy', 'roses'):
            for i in range(per_class):
                array = rng.randint(0, 256, (6, 5, 3)).astype(np.uint8)
                _add_bytes(
                    tar,
                    'flower_photos/%s/%d.png' % (class_name, i),
                    _png(array),
                )
                images[array.tobytes()] = class_name
        _add_bytes(
            tar, 'flower_photos/LICENSE.txt', b'CC-BY'
        )  # a file, not a class
    return images


# --- download and extraction -------------------------------------------------------


def test_download_file_url_renames_when_complete(tmp_path):
    source = tmp_path / 'source.bin'
    source.write_bytes(os.urandom(3 * (1 << 20) + 5))
    dest = tmp_path / 'dl' / 'file.bin'
    assert download.download_file(source.as_uri(), str(dest)) == str(dest)
    assert dest.read_bytes() == source.read_bytes()
    assert os.listdir(tmp_path / 'dl') == ['file.bin']


class _ShortBodyHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # announces 1 MB, sends 1000 bytes, hangs up
        self.send_response(200)
        self.send_header('Content-Length', str(1 << 20))
        self.end_headers()
        self.wfile.write(b'x' * 1000)
        self.wfile.flush()
        self.connection.shutdown(2)

    def log_message(self, *args):
        pass


def test_interrupted_download_leaves_no_file(tmp_path):
    server = http.server.ThreadingHTTPServer(
        ('127.0.0.1', 0), _ShortBodyHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = 'http://127.0.0.1:%d/flower_photos.tgz' % server.server_address[1]
        dest = tmp_path / 'flower_photos.tgz'
        with pytest.raises(OSError):
            download.download_file(url, str(dest))
    finally:
        server.shutdown()
        server.server_close()
    assert (
        os.listdir(tmp_path) == []
    )  # neither the final name nor a temporary one


def test_missing_url_raises_and_leaves_nothing(tmp_path):
    with pytest.raises(OSError):
        download.download_file(
            (tmp_path / 'nope.tgz').as_uri(), str(tmp_path / 'out.tgz')
        )
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    'member', ['../evil.txt', 'ok/../../evil.txt', '/tmp/evil.txt']
)
def test_tar_member_escaping_the_target_is_refused(tmp_path, member):
    archive = tmp_path / 'bad.tgz'
    with tarfile.open(archive, 'w:gz') as tar:
        _add_bytes(tar, 'fine.txt', b'fine')
        _add_bytes(tar, member, b'evil')
    target = tmp_path / 'target'
    with pytest.raises(ValueError, match='outside'):
        download.extract_tar(str(archive), str(target))
    assert not (tmp_path / 'evil.txt').exists() and os.listdir(target) == []


def test_tar_link_escaping_the_target_is_refused(tmp_path):
    archive = tmp_path / 'link.tar'
    with tarfile.open(archive, 'w') as tar:
        info = tarfile.TarInfo('link')
        info.type = tarfile.SYMTYPE
        info.linkname = '../../etc/passwd'
        tar.addfile(info)
    with pytest.raises(ValueError, match='pointing outside'):
        download.extract_tar(str(archive), str(tmp_path / 'target'))


def test_tar_device_member_is_refused(tmp_path):
    archive = tmp_path / 'dev.tar'
    with tarfile.open(archive, 'w') as tar:
        info = tarfile.TarInfo('fifo')
        info.type = tarfile.FIFOTYPE
        tar.addfile(info)
    with pytest.raises(ValueError, match='device or FIFO'):
        download.extract_tar(str(archive), str(tmp_path / 'target'))


# --- the converters ----------------------------------------------------------------


def test_flowers_from_a_local_archive_and_a_file_url(tmp_path):
    archive = tmp_path / 'flower_photos.tgz'
    images = _flowers_archive(archive)
    for name, kwargs in (
        ('by_archive', {'archive': str(archive)}),
        ('by_url', {'url': archive.as_uri()}),
    ):
        out = str(tmp_path / name)
        result = convert_flowers.run(
            out, num_validation=2, num_workers=0, **kwargs
        )
        assert result.splits_to_sizes == {'train': 4, 'validation': 2}
        names = sorted(os.listdir(out))
        assert names[:5] == [
            'flowers_train_%05d-of-00004.tfrecord' % i for i in range(4)
        ] + ['flowers_validation_00000-of-00002.tfrecord']
        assert 'flower_photos.tgz' not in names and not [
            n for n in names if n.startswith('.')
        ]
        train = dataset_factory.get_dataset('flowers', 'train', out)
        assert train.labels_to_names == {0: 'daisy', 1: 'roses'}
        for image, label in train.read().as_numpy_iterator():
            assert train.labels_to_names[label] == images[image.tobytes()]
    assert archive.exists()  # a user's archive is never deleted


def test_missing_archive_is_refused(tmp_path):
    with pytest.raises(
        ValueError, match="archive='/no/such.tgz' does not exist"
    ):
        convert_flowers.run(str(tmp_path), archive='/no/such.tgz')
    with pytest.raises(ValueError, match="archive='/no/such' does not exist"):
        convert_mnist.run(str(tmp_path), archive='/no/such')


def _cifar_archive(path, per_batch=2):
    rng = np.random.RandomState(1)
    expected = {'train': [], 'test': []}
    with tarfile.open(path, 'w:gz') as tar:
        for name in ['data_batch_%d' % i for i in range(1, 6)] + ['test_batch']:
            data = rng.randint(0, 256, (per_batch, 3072)).astype(np.uint8)
            labels = list(rng.randint(0, 10, per_batch))
            batch = {
                b'data': data,
                b'labels': labels,
                b'batch_label': name.encode(),
            }
            _add_bytes(tar, 'cifar-10-batches-py/' + name, pickle.dumps(batch))
            split = 'test' if name == 'test_batch' else 'train'
            for row, label in zip(data, labels):
                # CIFAR rows are planar: 1024 red, 1024 green, 1024 blue values.
                expected[split].append(
                    (
                        int(label),
                        row.reshape(3, 32, 32).transpose(1, 2, 0).tobytes(),
                    )
                )
    return expected


def test_cifar10_from_a_local_archive(tmp_path):
    archive = tmp_path / 'cifar-10-python.tar.gz'
    expected = _cifar_archive(archive)
    out = str(tmp_path / 'out')
    result = convert_cifar10.run(out, archive=str(archive))
    assert result.splits_to_sizes == {'train': 10, 'test': 2}
    assert sorted(os.listdir(out)) == (
        ['cifar10_test_00000-of-00001.tfrecord']
        + ['cifar10_train_%05d-of-00005.tfrecord' % i for i in range(5)]
        + ['labels.txt']
    )
    for split in ('train', 'test'):
        dataset = dataset_factory.get_dataset('cifar10', split, out)
        got = sorted(
            (int(l), im.tobytes())
            for im, l in dataset.read().as_numpy_iterator()
        )
        assert got == sorted(expected[split])
    assert (
        dataset.labels_to_names[0] == 'airplane'
        and dataset.labels_to_names[9] == 'truck'
    )


def test_cifar10_archive_without_batches_is_refused(tmp_path):
    archive = tmp_path / 'cifar.tgz'
    with tarfile.open(archive, 'w:gz') as tar:
        _add_bytes(tar, 'cifar-10-batches-py/readme.html', b'')
    with pytest.raises(ValueError, match='lacks data_batch_1'):
        convert_cifar10.run(str(tmp_path / 'out'), archive=str(archive))


def _idx(path, array):
    header = struct.pack('>I', 0x800 + array.ndim) + struct.pack(
        '>' + 'I' * array.ndim, *array.shape
    )
    with gzip.open(path, 'wb') as f:
        f.write(header + array.astype(np.uint8).tobytes())


def _mnist_files(directory):
    rng = np.random.RandomState(2)
    expected = {}
    os.makedirs(directory, exist_ok=True)
    for split, (images_file, labels_file) in convert_mnist.FILES.items():
        count = 7 if split == 'train' else 3
        images = rng.randint(0, 256, (count, 28, 28)).astype(np.uint8)
        labels = rng.randint(0, 10, count).astype(np.uint8)
        _idx(os.path.join(directory, images_file), images)
        _idx(os.path.join(directory, labels_file), labels)
        expected[split] = sorted(
            (int(l), np.stack([im] * 3, -1).tobytes())
            for im, l in zip(images, labels)
        )
    return expected


def test_mnist_from_a_folder_a_tar_and_file_urls(tmp_path):
    expected = _mnist_files(str(tmp_path / 'files'))
    archive = tmp_path / 'mnist.tar'
    with tarfile.open(archive, 'w') as tar:
        tar.add(str(tmp_path / 'files'), arcname='mnist')
    sources = {
        'folder': {'archive': str(tmp_path / 'files')},
        'tar': {'archive': str(archive)},
        'url': {'url': (tmp_path / 'files').as_uri() + '/'},
    }
    for name, kwargs in sources.items():
        result = convert_mnist.run(str(tmp_path / name), **kwargs)
        assert result.splits_to_sizes == {'train': 7, 'test': 3}
    out = str(tmp_path / 'folder')
    for split in ('train', 'test'):
        dataset = dataset_factory.get_dataset('mnist', split, out)
        got = sorted(
            (int(l), im.tobytes())
            for im, l in dataset.read().as_numpy_iterator()
        )
        assert got == expected[split]
    assert dataset.labels_to_names[6] == 'size'  # TF-Slim's own spelling
    names = sorted(os.listdir(out))
    assert not [n for n in names if n.endswith('.gz') or n.startswith('.')]
    for other in ('tar', 'url'):  # the same files, whatever the source
        _, mismatch, errors = filecmp.cmpfiles(
            out, str(tmp_path / other), names, shallow=False
        )
        assert not mismatch and not errors


def test_mnist_bad_sources_are_refused(tmp_path):
    _mnist_files(str(tmp_path / 'files'))
    os.remove(tmp_path / 'files' / 't10k-labels-idx1-ubyte.gz')
    with pytest.raises(ValueError, match='lacks the MNIST files'):
        convert_mnist.run(
            str(tmp_path / 'out'), archive=str(tmp_path / 'files')
        )
    _mnist_files(str(tmp_path / 'files'))
    _idx(
        tmp_path / 'files' / 't10k-labels-idx1-ubyte.gz',
        np.zeros((2, 2), np.uint8),
    )
    with pytest.raises(ValueError, match='not an IDX file of rank 1'):
        convert_mnist.run(
            str(tmp_path / 'out'), archive=str(tmp_path / 'files')
        )
    _mnist_files(str(tmp_path / 'files'))
    _idx(
        tmp_path / 'files' / 't10k-labels-idx1-ubyte.gz', np.zeros(5, np.uint8)
    )
    with pytest.raises(ValueError, match='3 images but .* 5 labels'):
        convert_mnist.run(
            str(tmp_path / 'out'), archive=str(tmp_path / 'files')
        )
    with gzip.open(tmp_path / 'files' / 't10k-labels-idx1-ubyte.gz', 'wb') as f:
        f.write(struct.pack('>II', 0x801, 9) + b'\x00')
    with pytest.raises(ValueError, match='header says'):
        convert_mnist.run(
            str(tmp_path / 'out'), archive=str(tmp_path / 'files')
        )


def test_existing_dataset_is_kept_then_overwritten(tmp_path):
    archive = tmp_path / 'cifar-10-python.tar.gz'
    _cifar_archive(archive)
    out = tmp_path / 'out'
    convert_cifar10.run(str(out), archive=str(archive))
    before = {n: (out / n).read_bytes() for n in os.listdir(out)}
    _cifar_archive(archive, per_batch=3)
    assert not convert_cifar10.run(str(out), archive=str(archive)).converted
    assert {n: (out / n).read_bytes() for n in os.listdir(out)} == before
    result = convert_cifar10.run(str(out), archive=str(archive), overwrite=True)
    assert result.converted and result.splits_to_sizes == {
        'train': 15,
        'test': 3,
    }


# --- the script --------------------------------------------------------------------


def _script(*args):
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, 'download_and_convert_data.py')]
        + list(args),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def test_script_converts_a_folder_in_parallel_and_reports_skips(tmp_path):
    source = tmp_path / 'src'
    rng = np.random.RandomState(3)
    for class_name in ('a', 'b'):
        (source / class_name).mkdir(parents=True)
        for i in range(5):
            Image.fromarray(
                rng.randint(0, 256, (4, 4, 3)).astype(np.uint8)
            ).save(source / class_name / ('%d.png' % i))
    (source / 'b' / 'broken.jpg').write_bytes(b'\xff\xd8 not really')
    out = tmp_path / 'out'
    done = _script(
        '--dataset_name=folder',
        '--source_dir=%s' % source,
        '--dataset_dir=%s' % out,
        '--num_validation=2',
        '--num_shards=2',
        '--num_workers=2',
        '--name=ab',
    )
    assert done.returncode == 0, done.stderr
    assert 'train=8' in done.stdout and 'validation=2' in done.stdout
    assert 'Skipped 1 files' in done.stdout and 'broken.jpg' in done.stdout
    assert (out / 'ab_train_00000-of-00002.tfrecord').exists()
    assert (
        dataset_factory.get_dataset('custom', 'train', str(out)).num_samples
        == 8
    )


def test_script_refuses_bad_flags():
    # Refused before TensorFlow is even imported, so these runs are quick.
    bad = _script('--dataset_name=svhn', '--dataset_dir=/tmp/x')
    assert (
        bad.returncode == 2 and 'flowers, cifar10, mnist, folder' in bad.stderr
    )
    no_dir = _script('--dataset_name=mnist')
    assert (
        no_dir.returncode == 2 and '--dataset_dir is required' in no_dir.stderr
    )
    no_source = _script('--dataset_name=folder', '--dataset_dir=/tmp/x')
    assert (
        no_source.returncode == 2 and 'needs --source_dir' in no_source.stderr
    )
    for done in (bad, no_dir, no_source):
        assert len(done.stderr.splitlines()) == 1 and not done.stdout


def test_not_a_tar_archive_is_a_value_error_naming_it(tmp_path):
    (tmp_path / 'fake.tgz').write_bytes(b'this is no archive')
    with pytest.raises(
        ValueError,
        match=r"^The archive '.*fake\.tgz' is not a readable tar "
        r'archive: it is not a tar file, compressed or '
        r'not; expected a tar archive\.$',
    ):
        download.extract_tar(
            str(tmp_path / 'fake.tgz'), str(tmp_path / 'target')
        )


def test_flowers_archive_without_class_folders_is_refused(tmp_path):
    archive = tmp_path / 'flower_photos.tgz'
    with tarfile.open(archive, 'w:gz') as tar:
        _add_bytes(tar, 'flower_photos/README', b'no classes here')
    with pytest.raises(
        ValueError,
        match=r"^archive='.*flower_photos\.tgz', unpacked, has no "
        r'class sub-folders; expected one folder of images '
        r'per class, e\.g\. flower_photos/daisy/1\.jpg\.$',
    ):
        convert_flowers.run(str(tmp_path / 'out'), archive=str(archive))
    assert not (tmp_path / 'out').exists()


@pytest.mark.parametrize(
    'converter,member,escaped',
    [
        (
            convert_flowers,
            'flower_photos/daisy/../../../escape.png',
            'escape.png',
        ),
        (convert_cifar10, '../../outside.txt', 'outside.txt'),
        (convert_mnist, '../../outside.txt', 'outside.txt'),
    ],
)
def test_unsafe_archives_are_refused_by_every_converter(
    tmp_path, converter, member, escaped
):
    archive = tmp_path / 'bad.tar.gz'
    with tarfile.open(archive, 'w:gz') as tar:
        _add_bytes(tar, member, b'x')
    with pytest.raises(ValueError, match='outside'):
        converter.run(str(tmp_path / 'out'), archive=str(archive))
    assert not (tmp_path / escaped).exists()
    assert not (
        tmp_path / 'out'
    ).exists()  # as it was: the converter made it, then removed it


@pytest.mark.parametrize(
    'converter', [convert_flowers, convert_cifar10, convert_mnist]
)
def test_a_failed_download_leaves_no_folder(tmp_path, converter):
    out = tmp_path / 'out'
    url = (tmp_path / 'missing' / 'x.tgz').as_uri()
    with pytest.raises(OSError, match='^Could not download %s' % url):
        converter.run(str(out / 'deeper'), url=url)
    assert not out.exists()  # nor the parents it had to make


# --- no converter replaces what it did not write --------------------------------------


def _snapshot(folder):
    """{name: bytes} of the files in `folder`."""
    return {n: (folder / n).read_bytes() for n in sorted(os.listdir(folder))}


def _converted_cifar10(tmp_path):
    archive = tmp_path / 'cifar-10-python.tar.gz'
    _cifar_archive(archive)
    out = tmp_path / 'data'
    convert_cifar10.run(str(out), archive=str(archive))
    return out


@pytest.mark.parametrize('overwrite', [False, True])
def test_another_datasets_folder_is_refused_with_or_without_overwrite(
    tmp_path, overwrite
):
    out = _converted_cifar10(tmp_path)
    before = _snapshot(out)
    archive = tmp_path / 'flower_photos.tgz'
    _flowers_archive(archive)
    with pytest.raises(conversion.ForeignFilesError) as info:
        convert_flowers.run(
            str(out),
            archive=str(archive),
            num_validation=2,
            num_workers=0,
            overwrite=overwrite,
        )
    message = str(info.value)
    assert message.startswith(
        "dataset_dir=%r holds TFRecord files that are not the "
        "'flowers' dataset's (cifar10_test_00000-of-00001.tfrecord, " % str(out)
    )
    assert 'Choose another dataset_dir' in message and '\n' not in message
    assert _snapshot(out) == before  # cifar10's labels.txt and shards untouched


@pytest.mark.parametrize('converter', ['flowers', 'cifar10', 'mnist'])
@pytest.mark.parametrize('overwrite', [False, True])
def test_a_users_labels_txt_is_never_replaced(tmp_path, converter, overwrite):
    out = tmp_path / 'data'
    out.mkdir()
    (out / 'labels.txt').write_text('0:my own\n1:classes\n')
    (out / 'photo.jpg').write_bytes(b'\xff\xd8 mine')
    before = _snapshot(out)
    archive = tmp_path / 'archive.tgz'
    kwargs = {'overwrite': overwrite, 'archive': str(archive)}
    if converter == 'flowers':
        _flowers_archive(archive)
        run, kwargs = (
            convert_flowers.run,
            dict(kwargs, num_validation=2, num_workers=0),
        )
    elif converter == 'cifar10':
        _cifar_archive(archive)
        run = convert_cifar10.run
    else:
        _mnist_files(str(tmp_path / 'files'))
        run, kwargs['archive'] = convert_mnist.run, str(tmp_path / 'files')
    with pytest.raises(
        ValueError,
        match=r"^dataset_dir='.*/data' holds labels\.txt beside "
        r"no '%s' shard, so no conversion" % converter,
    ):
        run(str(out), **kwargs)
    assert _snapshot(out) == before


def test_overwrite_replaces_tf_slims_single_files_of_the_same_dataset(tmp_path):
    # TF-Slim's converter wrote cifar10_train.tfrecord; left beside the new shards,
    # it would be read with them (the reader takes both names).
    out = _converted_cifar10(tmp_path)
    for name in os.listdir(out):
        if name.endswith('.tfrecord'):
            os.remove(out / name)
    (out / 'cifar10_train.tfrecord').write_bytes(b'')
    (out / 'cifar10_test.tfrecord').write_bytes(b'')
    (out / 'notes.txt').write_text('mine')
    archive = tmp_path / 'cifar-10-python.tar.gz'
    assert not convert_cifar10.run(str(out), archive=str(archive)).converted
    convert_cifar10.run(str(out), archive=str(archive), overwrite=True)
    assert sorted(os.listdir(out)) == (
        ['cifar10_test_00000-of-00001.tfrecord']
        + ['cifar10_train_%05d-of-00005.tfrecord' % i for i in range(5)]
        + ['labels.txt', 'notes.txt']
    )
    assert (out / 'notes.txt').read_text() == 'mine'
    assert (
        len(
            list(
                dataset_factory.get_dataset('cifar10', 'train', str(out)).read()
            )
        )
        == 10
    )


def test_a_file_as_dataset_dir_is_refused(tmp_path):
    path = tmp_path / 'data'
    path.write_text('mine')
    archive = tmp_path / 'cifar-10-python.tar.gz'
    _cifar_archive(archive)
    with pytest.raises(
        ValueError,
        match=r"^dataset_dir='.*/data' is a file; expected a "
        r'folder',
    ):
        convert_cifar10.run(str(path), archive=str(archive))
    assert path.read_text() == 'mine'


def test_an_archive_already_in_dataset_dir_is_used_and_kept(tmp_path):
    # TF-Slim deletes the archive it downloaded; one that was there is the user's.
    out = tmp_path / 'data'
    out.mkdir()
    _flowers_archive(out / 'flower_photos.tgz')
    before = (out / 'flower_photos.tgz').read_bytes()
    url = (
        tmp_path / 'elsewhere' / 'flower_photos.tgz'
    ).as_uri()  # never fetched
    result = convert_flowers.run(
        str(out), url=url, num_validation=2, num_workers=0
    )
    assert result.splits_to_sizes == {'train': 4, 'validation': 2}
    assert (out / 'flower_photos.tgz').read_bytes() == before


# --- unreadable archives --------------------------------------------------------------


def _valid_archive(converter, path, tmp_path):
    """Writes a small valid archive for `converter` at `path`; returns its run kwargs."""
    if converter == 'flowers':
        _flowers_archive(path)
        return {'num_validation': 2, 'num_workers': 0}
    if converter == 'cifar10':
        _cifar_archive(path)
        return {}
    _mnist_files(str(tmp_path / 'files'))
    with tarfile.open(path, 'w:gz') as tar:
        tar.add(str(tmp_path / 'files'), arcname='mnist')
    return {}


_RUN = {
    'flowers': convert_flowers.run,
    'cifar10': convert_cifar10.run,
    'mnist': convert_mnist.run,
}
_EXPECTED = {
    'flowers': 'flower_photos.tgz, a tar.gz of one folder of JPEGs per class',
    'cifar10': 'cifar-10-python.tar.gz, the python version',
    'mnist': 'a folder or tar archive holding the four MNIST files '
    'train-images-idx3-ubyte.gz, ',
}


@pytest.mark.parametrize('converter', ['flowers', 'cifar10', 'mnist'])
@pytest.mark.parametrize(
    'damage,reason',
    [
        ('garbage', 'it is not a tar file, compressed or not'),
        ('truncated', 'it ends early, as a cut-off download or copy does'),
    ],
)
def test_an_unreadable_archive_is_named_and_the_folder_left_as_it_was(
    tmp_path, converter, damage, reason
):
    archive = tmp_path / 'archive.tar.gz'
    kwargs = _valid_archive(converter, archive, tmp_path)
    data = archive.read_bytes()
    if damage == 'garbage':  # what a failed download often is
        archive.write_bytes(b'<html><body>404 Not Found</body></html>\n' * 10)
    else:
        archive.write_bytes(data[: len(data) // 2])
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'notes.txt').write_text('mine')
    with pytest.raises(ValueError) as info:
        _RUN[converter](str(out), archive=str(archive), **kwargs)
    message = str(info.value)
    assert message.startswith(
        'archive=%r is not a readable tar archive: %s; expected %s'
        % (str(archive), reason, _EXPECTED[converter])
    ), message
    assert '\n' not in message
    assert _snapshot(out) == {'notes.txt': b'mine'}
    assert len(archive.read_bytes()) > 0  # the user's file, kept


def test_a_downloaded_unreadable_archive_is_removed_and_no_folder_left(
    tmp_path,
):
    # Kept, it would be taken for a complete download by the next run.
    served = tmp_path / 'server' / 'flower_photos.tgz'
    served.parent.mkdir()
    served.write_bytes(b'<html>moved</html>')
    out = tmp_path / 'out'
    with pytest.raises(
        ValueError,
        match=r"^The archive '.*/out/flower_photos\.tgz' is not a "
        r'readable tar archive',
    ):
        convert_flowers.run(str(out), url=served.as_uri())
    assert not out.exists()


def test_damaged_files_inside_an_archive_are_named(tmp_path):
    _mnist_files(str(tmp_path / 'files'))
    labels = tmp_path / 'files' / 't10k-labels-idx1-ubyte.gz'
    labels.write_bytes(labels.read_bytes()[:12])
    with pytest.raises(
        ValueError,
        match=r"^'.*/files/t10k-labels-idx1-ubyte\.gz' is not a "
        r'readable gzip file: it ends early',
    ):
        convert_mnist.run(
            str(tmp_path / 'out'), archive=str(tmp_path / 'files')
        )
    archive = tmp_path / 'cifar.tgz'
    with tarfile.open(archive, 'w:gz') as tar:
        for name in ['data_batch_%d' % i for i in range(1, 6)] + ['test_batch']:
            _add_bytes(tar, 'cifar-10-batches-py/' + name, b'not a pickle')
    with pytest.raises(
        ValueError,
        match=r"^archive='.*cifar\.tgz' holds a "
        r'cifar-10-batches-py/data_batch_1 that is not a '
        r'CIFAR-10 batch \(UnpicklingError',
    ):
        convert_cifar10.run(str(tmp_path / 'out'), archive=str(archive))
    assert not (tmp_path / 'out').exists()


# --- the script's errors: one line, exit 2 for bad input, 1 for a failure ----------------

PROG = 'download_and_convert_data.py: error: '


@pytest.fixture
def script(capsys):
    """Runs the script's main in this process (quicker than a new TensorFlow).

    Returns `run(*flags) -> (status, stdout, stderr)`.
    """
    import download_and_convert_data as module

    def run(*args):
        module.FLAGS.unparse_flags()
        module.FLAGS(['download_and_convert_data.py'] + list(args))
        status = module.main([])
        out, err = capsys.readouterr()
        return status, out, err

    yield run
    module.FLAGS.unparse_flags()


def _error_line(err):
    """The script's one error line; fails if there is not exactly one, or a traceback."""
    assert 'Traceback' not in err, err
    lines = [line for line in err.splitlines() if line.startswith(PROG)]
    assert len(lines) == 1 and err.rstrip('\n').endswith(lines[0]), err
    return lines[0][len(PROG) :]


def _tree(folder):
    """{relative path: bytes or None for a folder} under `folder`; None if it is missing."""
    if not os.path.exists(folder):
        return None
    found = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs:
            found[os.path.relpath(os.path.join(root, name), folder)] = None
        for name in files:
            with open(os.path.join(root, name), 'rb') as f:
                found[os.path.relpath(os.path.join(root, name), folder)] = (
                    f.read()
                )
    return found


def test_script_bad_input_is_one_line_and_status_2(tmp_path, script):
    """Every kind of bad input, each leaving --dataset_dir as it was."""
    flowers = tmp_path / 'flower_photos.tgz'
    _flowers_archive(flowers)
    garbage = tmp_path / 'garbage.tgz'
    garbage.write_bytes(b'<html>not found</html>')
    cut = tmp_path / 'cut.tgz'
    cut.write_bytes(flowers.read_bytes()[: flowers.stat().st_size // 2])
    a_file = tmp_path / 'a_file'
    a_file.write_text('mine')
    no_images = tmp_path / 'no_images'
    (no_images / 'cat').mkdir(parents=True)
    (no_images / 'cat' / 'notes.txt').write_text('text')
    cifar = _converted_cifar10(tmp_path)  # another dataset's folder
    mine = tmp_path / 'mine'  # a labels.txt of the user's own
    mine.mkdir()
    (mine / 'labels.txt').write_text('0:mine\n')
    new = tmp_path / 'new'
    flowers_flags = [
        '--dataset_name=flowers',
        '--num_workers=0',
        '--num_validation=2',
    ]
    cases = [
        (
            ['--dataset_name=svhn', '--dataset_dir=%s' % new],
            "--dataset_name='svhn': expected one of flowers, cifar10, mnist, folder.",
            new,
        ),
        (
            ['--dataset_name=mnist'],
            '--dataset_dir is required: the folder the TFRecords go to.',
            None,
        ),
        (
            ['--dataset_name=folder', '--dataset_dir=%s' % new],
            '--dataset_name=folder needs --source_dir, the folder of class sub-folders to '
            'convert.',
            new,
        ),
        (
            flowers_flags
            + ['--dataset_dir=%s' % a_file, '--archive=%s' % flowers],
            "--dataset_dir=%r is a file; expected a folder (new, empty, or holding the "
            "'flowers' dataset) for the TFRecord shards and labels.txt."
            % str(a_file),
            a_file,
        ),
        (
            [
                '--dataset_name=folder',
                '--source_dir=%s' % (tmp_path / 'nope'),
                '--dataset_dir=%s' % new,
            ],
            "--source_dir=%r is not a folder; expected a folder with one sub-folder of "
            "images per class." % str(tmp_path / 'nope'),
            new,
        ),
        (
            [
                '--dataset_name=folder',
                '--source_dir=%s' % no_images,
                '--dataset_dir=%s' % new,
                '--num_workers=0',
            ],
            "--source_dir=%r holds no image that can be decoded: all 1 files in its class "
            "sub-folders cat were skipped (e.g. %s: not a format Pillow recognises); "
            "expected JPEG, PNG or other image files Pillow reads."
            % (str(no_images), os.path.join('cat', 'notes.txt')),
            new,
        ),
        (
            flowers_flags
            + [
                '--dataset_dir=%s' % new,
                '--archive=%s' % (tmp_path / 'no.tgz'),
            ],
            "--archive=%r does not exist." % str(tmp_path / 'no.tgz'),
            new,
        ),
        (
            flowers_flags
            + ['--dataset_dir=%s' % new, '--archive=%s' % garbage],
            "--archive=%r is not a readable tar archive: it is not a tar file, compressed or "
            "not; expected flower_photos.tgz, a tar.gz of one folder of JPEGs per class."
            % str(garbage),
            new,
        ),
        (
            flowers_flags + ['--dataset_dir=%s' % new, '--archive=%s' % cut],
            "--archive=%r is not a readable tar archive: it ends early, as a cut-off download "
            "or copy does; expected flower_photos.tgz, a tar.gz of one folder of JPEGs per "
            "class." % str(cut),
            new,
        ),
        (
            flowers_flags
            + [
                '--dataset_dir=%s' % cifar,
                '--archive=%s' % flowers,
                '--overwrite',
            ],
            "--dataset_dir=%r holds TFRecord files that are not the 'flowers' dataset's "
            "(cifar10_test_00000-of-00001.tfrecord, cifar10_train_00000-of-00005.tfrecord, "
            "cifar10_train_00001-of-00005.tfrecord, cifar10_train_00002-of-00005.tfrecord "
            "and 2 more); expected a new or empty folder, or one holding only the 'flowers' "
            "dataset: a folder has one labels.txt, and readers would mix the shards. Choose "
            "another --dataset_dir." % str(cifar),
            cifar,
        ),
        (
            flowers_flags
            + [
                '--dataset_dir=%s' % mine,
                '--archive=%s' % flowers,
                '--overwrite',
            ],
            "--dataset_dir=%r holds labels.txt beside no 'flowers' shard, so no conversion "
            "of 'flowers' wrote it; expected a new or empty folder, or one holding the "
            "'flowers' dataset. Move it away or choose another --dataset_dir."
            % str(mine),
            mine,
        ),
        (
            [
                '--dataset_name=folder',
                '--source_dir=%s' % no_images,
                '--dataset_dir=%s' % new,
                '--num_shards=0',
            ],
            '--num_shards=0: expected a positive integer.',
            new,
        ),
    ]
    for flags_, expected, folder in cases:
        before = _tree(folder) if folder else None
        status, out, err = script(*flags_)
        assert (status, _error_line(err)) == (2, expected), flags_
        assert out == ''
        if folder:
            assert _tree(folder) == before, flags_


def test_script_failure_during_work_is_one_line_and_status_1(tmp_path, script):
    out = tmp_path / 'out'
    url = (tmp_path / 'server' / 'cifar-10-python.tar.gz').as_uri()
    status, _, err = script(
        '--dataset_name=cifar10', '--dataset_dir=%s' % out, '--url=%s' % url
    )
    assert status == 1
    assert _error_line(err) == (
        'Could not download %s: [Errno 2] No such file or directory: %r.'
        % (url, str(tmp_path / 'server' / 'cifar-10-python.tar.gz'))
    )
    assert not out.exists()


def test_script_bad_archive_in_a_process_exits_2_with_one_line(tmp_path):
    # The whole way: absl's app.run, exit status, stderr of a real process.
    archive = tmp_path / 'cifar-10-python.tar.gz'
    _cifar_archive(archive)
    archive.write_bytes(archive.read_bytes()[:1000])
    out = tmp_path / 'out'
    done = _script(
        '--dataset_name=cifar10',
        '--dataset_dir=%s' % out,
        '--archive=%s' % archive,
    )
    assert done.returncode == 2
    # TensorFlow's own start-up lines (absl C++ logging) may come first.
    assert _error_line(done.stderr) == (
        "--archive=%r is not a readable tar archive: it ends early, as a cut-off download "
        "or copy does; expected cifar-10-python.tar.gz, the python version."
        % str(archive)
    )
    assert done.stdout == '' and not out.exists()


def test_script_bad_flag_value_is_one_line_and_status_2():
    done = _script(
        '--dataset_name=mnist', '--dataset_dir=/tmp/x', '--num_shards=two'
    )
    assert done.returncode == 2
    assert _error_line(done.stderr).startswith('flag --num_shards=two: ')
