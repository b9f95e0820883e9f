"""Output folder safety, option validation and the command line tool."""
import importlib.util
import os

import pytest

from famipose_mmpose.synthetic import MARKER_FILE, generate_dataset
from famipose_mmpose.synthetic import generator as generator_module
from famipose_mmpose.synthetic import make_config

TOOL = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(__file__))), 'tools',
    'generate_synthetic_posetrack.py')

SMALL = dict(preset='tiny', num_train_videos=1, num_val_videos=1)


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        'famipose_tool_generate_synthetic_posetrack', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _leftovers(parent):
    return [n for n in os.listdir(str(parent)) if '.partial-' in n]


def test_refuses_to_overwrite_unless_asked(tmp_path):
    out = tmp_path / 'data'
    generate_dataset(str(out), seed=0, **SMALL)
    with open(out / 'annotations' / 'posetrack18_val.json', 'rb') as f:
        first = f.read()
    with pytest.raises(FileExistsError, match='overwrite'):
        generate_dataset(str(out), seed=1, **SMALL)
    with open(out / 'annotations' / 'posetrack18_val.json', 'rb') as f:
        assert f.read() == first
    generate_dataset(str(out), seed=1, overwrite=True, **SMALL)
    with open(out / 'annotations' / 'posetrack18_val.json', 'rb') as f:
        assert f.read() != first
    assert (out / MARKER_FILE).is_file()
    assert not _leftovers(tmp_path)


def test_overwrite_never_deletes_a_foreign_folder(tmp_path):
    out = tmp_path / 'mine'
    out.mkdir()
    (out / 'notes.txt').write_text('precious')
    with pytest.raises(FileExistsError, match=MARKER_FILE):
        generate_dataset(str(out), overwrite=True, **SMALL)
    assert (out / 'notes.txt').read_text() == 'precious'
    not_a_dir = tmp_path / 'file'
    not_a_dir.write_text('x')
    with pytest.raises(FileExistsError, match='not a folder'):
        generate_dataset(str(not_a_dir), **SMALL)


def test_empty_existing_folder_is_used(tmp_path):
    out = tmp_path / 'empty'
    out.mkdir()
    generate_dataset(str(out), **SMALL)
    assert (out / MARKER_FILE).is_file()


def test_failure_leaves_no_half_written_set(tmp_path, monkeypatch):
    calls = {'n': 0}
    real = generator_module.render_frame

    def failing(scene, t, rng):
        calls['n'] += 1
        if calls['n'] == 5:
            raise RuntimeError('disk on fire')
        return real(scene, t, rng)

    monkeypatch.setattr(generator_module, 'render_frame', failing)
    out = tmp_path / 'data'
    with pytest.raises(RuntimeError, match='disk on fire'):
        generate_dataset(str(out), **SMALL)
    assert not out.exists()
    assert not _leftovers(tmp_path)


@pytest.mark.parametrize('options', [
    dict(num_frames=3),
    dict(blur_rate=1.5),
    dict(people_per_video=(3, 2)),
    dict(people_per_video=3),
    dict(frames_per_video=0),
    dict(frames_per_video=2.5),
    dict(val_label_stride=0),
    dict(num_train_videos=0, num_val_videos=0, num_test_videos=0),
    dict(num_val_videos=300000),  # would reach the test split's video numbers
])
def test_bad_options_are_rejected(options):
    with pytest.raises(ValueError):
        make_config('tiny', **options)


def test_unknown_preset_and_bad_seed(tmp_path):
    with pytest.raises(ValueError, match='preset'):
        generate_dataset(str(tmp_path / 'x'), preset='huge')
    with pytest.raises(ValueError, match='seed'):
        generate_dataset(str(tmp_path / 'x'), preset='tiny', seed=-1)
    assert not (tmp_path / 'x').exists()


def test_presets_sizes():
    tiny, demo, bench = (make_config(p) for p in ('tiny', 'demo', 'bench'))
    assert (tiny.image_width, tiny.image_height) == (96, 72)
    assert (demo.num_train_videos, demo.num_val_videos,
            demo.frames_per_video) == (24, 8, 40)
    low, high = demo.person_height_range
    assert 55 <= low and high <= 115
    assert bench.num_train_videos * bench.frames_per_video > (
        demo.num_train_videos * demo.frames_per_video)


def test_command_line_tool(tmp_path, capsys):
    tool = _load_tool()
    out = tmp_path / 'cli'
    argv = [
        str(out), '--preset', 'tiny', '--seed', '4', '--num-train-videos',
        '1', '--num-val-videos', '1', '--frames-per-video', '6',
        '--image-size', '80', '64', '--val-label-stride', '3'
    ]
    assert tool.main(argv) == 0
    printed = capsys.readouterr().out
    for word in ('videos', 'frames', 'labeled_frames', 'people',
                 'occluded_joints', 'blurred_frames'):
        assert word in printed
    frames = os.listdir(out / 'images' / 'val' / '500001_synth_val')
    assert len(frames) == 6
    assert tool.main(argv) == 1
    assert 'overwrite' in capsys.readouterr().err
    assert tool.main(argv + ['--overwrite']) == 0
