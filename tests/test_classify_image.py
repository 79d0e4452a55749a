"""classify_image.py: real photos in a folder, label names out (text, csv,
json), bad files reported one line each and skipped, the exit status."""

import csv
import io
import json
import os

import pytest

import classify_image
import serving_fixtures as fx

DIGITS = {str(i) for i in range(10)}


@pytest.fixture(scope='module')
def photo_dir(tmp_path_factory):
    """Crops of scikit-learn's sample photos, a bad file, a non-image."""
    folder = tmp_path_factory.mktemp('photos')
    for i, data in enumerate(fx.photos()):
        (folder / ('photo%d.jpg' % i)).write_bytes(data)
    (folder / 'broken.jpg').write_bytes(b'this is not a JPEG')
    (folder / 'truncated.png').write_bytes(fx.photos()[0][:300])
    (folder / 'notes.txt').write_text('not an image, not listed')
    return str(folder)


def classify(*args):
    return classify_image.run(['classify_image.py'] + list(args))


def test_a_folder_prints_label_names_and_reports_bad_files(photo_dir, capsys):
    fx.lenet_export()  # made now, if first, so its log is not read below
    capsys.readouterr()
    code = classify('--saved_model=' + fx.lenet_export(), photo_dir)
    out, err = capsys.readouterr()
    assert code == 1  # some files failed
    blocks = out.strip().split('\n' + photo_dir)
    assert len(blocks) == len(fx.photos())
    for block in blocks:
        lines = block.strip().splitlines()
        assert lines[0].endswith('.jpg')
        assert len(lines) == 6  # the path, then the top five
        probabilities = [float(l.split()[0]) for l in lines[1:]]
        assert probabilities == sorted(probabilities, reverse=True)
        assert {l.split()[1] for l in lines[1:]} <= DIGITS
    skipped = [l for l in err.splitlines() if ': skipped ' in l]
    assert sorted(
        os.path.basename(l.split(': skipped ')[1].split(':')[0])
        for l in skipped
    ) == ['broken.jpg', 'truncated.png']
    assert all('not a decodable' in l for l in skipped)
    assert 'notes.txt' not in out + err
    assert '%d/%d images' % (len(fx.photos()) + 2, len(fx.photos()) + 2) in err


def test_csv_and_json_parse(photo_dir, capsys):
    files = [os.path.join(photo_dir, 'photo%d.jpg' % i) for i in range(3)]
    assert (
        classify('--saved_model=' + fx.lenet_export(), '--output=csv', *files)
        == 0
    )
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 15
    assert [r['path'] for r in rows[::5]] == files
    assert [int(r['rank']) for r in rows[:5]] == [1, 2, 3, 4, 5]
    assert all(
        r['label'] in DIGITS and r['label'] == r['class_id'] for r in rows
    )
    assert (
        classify('--saved_model=' + fx.lenet_export(), '--output=json', *files)
        == 0
    )
    results = json.loads(capsys.readouterr().out)
    assert [r['path'] for r in results] == files
    by_csv = [float(r['probability']) for r in rows[:5]]
    by_json = [p['probability'] for p in results[0]['predictions']]
    assert by_json == pytest.approx(by_csv, abs=1e-6)
    assert by_json == sorted(by_json, reverse=True)


def test_no_model_flags_use_the_default_runs_export(
    photo_dir, capsys, monkeypatch
):
    monkeypatch.setattr(
        classify_image, 'DEFAULT_SAVED_MODEL', fx.lenet_export()
    )
    photo = os.path.join(photo_dir, 'photo0.jpg')
    assert classify('--output=json', photo) == 0
    default = json.loads(capsys.readouterr().out)
    assert (
        classify('--saved_model=' + fx.lenet_export(), '--output=json', photo)
        == 0
    )
    assert json.loads(capsys.readouterr().out) == default


def test_a_checkpoint_classifies_as_its_export(photo_dir, capsys):
    photo = os.path.join(photo_dir, 'photo4.jpg')
    assert (
        classify(
            '--model_name=lenet',
            '--checkpoint_path=' + fx.lenet_run(),
            '--dataset_dir=' + fx.digits_dir(),
            '--output=json',
            photo,
        )
        == 0
    )
    built = json.loads(capsys.readouterr().out)
    assert (
        classify('--saved_model=' + fx.lenet_export(), '--output=json', photo)
        == 0
    )
    exported = json.loads(capsys.readouterr().out)
    assert [p['class_id'] for p in built[0]['predictions']] == [
        p['class_id'] for p in exported[0]['predictions']
    ]
    assert [p['probability'] for p in built[0]['predictions']] == pytest.approx(
        [p['probability'] for p in exported[0]['predictions']], rel=1e-5
    )


def test_missing_files_are_reported_and_the_rest_classified(photo_dir, capsys):
    photo = os.path.join(photo_dir, 'photo0.jpg')
    code = classify('--saved_model=' + fx.lenet_export(), '/no/such.jpg', photo)
    out, err = capsys.readouterr()
    assert code == 1
    assert out.startswith(photo)
    assert "skipped /no/such.jpg: no such file or directory" in err


@pytest.mark.parametrize(
    'args, flag',
    [
        (['--saved_model={empty}'], '--saved_model'),
        (['--saved_model={export}', '--model_name=lenet'], '--saved_model'),
        (['--model_name=no_such_net'], '--model_name'),
        (
            ['--model_name=lenet', '--checkpoint_path={empty}'],
            '--checkpoint_path',
        ),
        (['--saved_model={export}', '--output=xml'], '--output'),
    ],
)
def test_bad_input_is_one_line_naming_the_flag(
    tmp_path, capsys, photo_dir, args, flag
):
    args = [a.format(empty=tmp_path, export=fx.lenet_export()) for a in args]
    if '--model_name=lenet' in args and '--saved_model' not in ' '.join(args):
        args.append('--dataset_dir=' + fx.digits_dir())
    code = classify(*(args + [os.path.join(photo_dir, 'photo0.jpg')]))
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        'classify_image.py: error: ' + flag
    ), err


def test_no_image_is_an_error(capsys):
    assert classify('--saved_model=' + fx.lenet_export()) == 2
    assert 'no IMAGE given' in capsys.readouterr().err
