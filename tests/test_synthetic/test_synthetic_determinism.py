"""Same seed -> byte-identical data set; another seed -> another one."""
import os

from famipose_mmpose.synthetic import generate_dataset


def _tree(root):
    """Relative path -> bytes of every file under root."""
    files = {}
    for folder, _, names in os.walk(str(root)):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, 'rb') as f:
                files[os.path.relpath(path, str(root))] = f.read()
    return files


def test_same_seed_gives_identical_files(tmp_path):
    options = dict(preset='tiny', seed=5, occlusion_rate=1.0, crowd_rate=1.0)
    generate_dataset(str(tmp_path / 'a'), **options)
    generate_dataset(str(tmp_path / 'b'), **options)
    a, b = _tree(tmp_path / 'a'), _tree(tmp_path / 'b')
    assert sorted(a) == sorted(b)
    assert any(name.endswith('.jpg') for name in a)
    for name in a:
        assert a[name] == b[name], name


def test_other_seed_gives_other_data(tmp_path):
    generate_dataset(str(tmp_path / 'a'), preset='tiny', seed=0)
    generate_dataset(str(tmp_path / 'b'), preset='tiny', seed=1)
    a, b = _tree(tmp_path / 'a'), _tree(tmp_path / 'b')
    for name in ('annotations/posetrack18_train.json',
                 'annotations/posetrack18_val.json',
                 'annotations/posetrack18_val_human_detections.json',
                 'images/val/500001_synth_val/000000.jpg'):
        assert a[name] != b[name], name


def test_workers_and_video_count_do_not_change_videos(tmp_path):
    one = generate_dataset(
        str(tmp_path / 'one'), preset='tiny', seed=2, workers=1)
    two = generate_dataset(
        str(tmp_path / 'two'), preset='tiny', seed=2, workers=2)
    assert one['splits'] == two['splits']
    a, b = _tree(tmp_path / 'one'), _tree(tmp_path / 'two')
    assert a == b
    # A video only depends on (seed, split, index): more videos keep it.
    generate_dataset(
        str(tmp_path / 'more'), preset='tiny', seed=2, num_val_videos=3)
    c = _tree(tmp_path / 'more')
    for name in a:
        if '500002_synth_val' in name:
            assert a[name] == c[name], name
