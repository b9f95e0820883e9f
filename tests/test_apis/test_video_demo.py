"""tools/video_demo.py and the checks on its inputs."""
import importlib.util
import json
import os
import os.path as osp
import shutil

import cv2
import pytest
import torch

from famipose_mmpose.apis import check_checkpoint_compatibility, checkpoint_frame_offsets, init_video_model
from famipose_mmpose.evaluation.posetrack_ap import evaluate_posetrack_folders, load_posetrack_folder
from .conftest import FAMI_CONFIG, SINGLE_CONFIG

DEMO = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tools',
    'video_demo.py')


@pytest.fixture(scope='module')
def demo():
    spec = importlib.util.spec_from_file_location('video_demo', DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def det_args(synth):
    return ['--det-file', synth.det_file, '--ann-file', synth.ann_file]


def run_demo(demo, capsys, checkpoint, input_path, out_dir, extra):
    code = demo.main([
        FAMI_CONFIG, checkpoint, '--input', input_path, '--output-root',
        str(out_dir)
    ] + extra)
    captured = capsys.readouterr()
    return code, captured.err


def save_checkpoint(path, state_dict, meta=None):
    torch.save({'state_dict': state_dict, 'meta': meta or {}}, str(path))
    return str(path)


def test_demo_writes_video_and_scorable_predictions(demo, capsys, synth,
                                                    short_clip,
                                                    fami_checkpoint, tmp_path):
    out_dir = tmp_path / 'out'
    code, err = run_demo(
        demo, capsys, fami_checkpoint, short_clip, out_dir,
        det_args(synth) + ['--draw-bbox', '--bbox-thr', '0.2'])
    assert code == 0, err
    assert sorted(
        os.listdir(out_dir)) == [synth.video + '.json', synth.video + '.mp4']
    capture = cv2.VideoCapture(str(out_dir / (synth.video + '.mp4')))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    assert count == 2
    with open(out_dir / (synth.video + '.json')) as f:
        content = json.load(f)
    assert len(content['images']) == 2 and content['annotations']
    assert all(len(a['keypoints']) == 51 for a in content['annotations'])

    # scored against a ground truth of the same two frames
    gt_dir = tmp_path / 'gt'
    gt_dir.mkdir()
    with open(synth.gt_file) as f:
        gt = json.load(f)
    ids = [img['id'] for img in gt['images'][:2]]
    gt['images'] = gt['images'][:2]
    gt['annotations'] = [a for a in gt['annotations'] if a['image_id'] in ids]
    with open(gt_dir / (synth.video + '.json'), 'w') as f:
        json.dump(gt, f)
    result = evaluate_posetrack_folders(str(gt_dir), str(out_dir))
    assert 0.0 <= result.parts['Total'] <= 100.0
    assert result.num_gt.sum() > 0
    assert load_posetrack_folder(str(out_dir), require_head_box=False)


def test_unreadable_video(demo, capsys, synth, fami_checkpoint, tmp_path):
    bad = tmp_path / 'broken.mp4'
    bad.write_bytes(os.urandom(4096))
    out_dir = tmp_path / 'out'
    code, err = run_demo(demo, capsys, fami_checkpoint, str(bad), out_dir,
                         det_args(synth))
    assert code == 1
    assert 'broken.mp4' in err and 'video' in err
    assert not out_dir.exists() or not os.listdir(out_dir)


def test_missing_checkpoint(demo, capsys, synth, tmp_path):
    missing = str(tmp_path / 'nowhere.pth')
    code, err = run_demo(demo, capsys, missing, synth.frames_dir,
                         tmp_path / 'out', det_args(synth))
    assert code == 1 and 'nowhere.pth' in err and 'does not exist' in err


def test_empty_detection_file(demo, capsys, synth, fami_checkpoint, tmp_path):
    empty = tmp_path / 'dets.json'
    empty.write_text('[]')
    code, err = run_demo(
        demo, capsys, fami_checkpoint, synth.frames_dir, tmp_path / 'out',
        ['--det-file', str(empty), '--ann-file', synth.ann_file])
    assert code == 1 and 'dets.json' in err and 'empty' in err


def test_detections_of_another_video(demo, capsys, synth, fami_checkpoint,
                                     tmp_path):
    other = tmp_path / 'dets.json'
    other.write_text(
        json.dumps([dict(image_id=1, bbox=[0, 0, 5, 5], score=0.9)]))
    code, err = run_demo(
        demo, capsys, fami_checkpoint, synth.frames_dir, tmp_path / 'out',
        ['--det-file', str(other), '--ann-file', synth.ann_file])
    assert code == 1 and synth.video in err and 'None of the 1' in err


def test_window_mismatch(demo, capsys, synth, fami_model, tmp_path):
    ckpt = save_checkpoint(tmp_path / 'window.pth', fami_model.state_dict(),
                           {'frame_offsets': [-1, 1]})
    code, err = run_demo(demo, capsys, ckpt, synth.frames_dir,
                         tmp_path / 'out', det_args(synth))
    assert code == 1
    assert 'window.pth' in err and 'frame_offsets=[-1, 1]' in err
    assert '[-2, -1, 1, 2]' in err


def test_keypoint_count_mismatch(demo, capsys, synth, fami_model, tmp_path):
    state = dict(fami_model.state_dict())
    state['head.final_layer.weight'] = state['head.final_layer.weight'][:15]
    state['head.final_layer.bias'] = state['head.final_layer.bias'][:15]
    ckpt = save_checkpoint(tmp_path / 'kpts.pth', state)
    code, err = run_demo(demo, capsys, ckpt, synth.frames_dir,
                         tmp_path / 'out', det_args(synth))
    assert code == 1
    assert 'kpts.pth' in err and 'head.final_layer.weight' in err
    assert '15 keypoints' in err and 'out_channels is 17' in err


def test_partial_outputs_are_never_left(demo, capsys, synth, fami_checkpoint,
                                        tmp_path):
    """A frame that cannot be decoded half-way stops the run; neither the
    video nor the prediction file appears, no temporary file is left."""
    frames = tmp_path / 'images' / 'val' / synth.video
    frames.mkdir(parents=True)
    for name in synth.frame_files[:3]:
        shutil.copy(osp.join(synth.frames_dir, name), str(frames))
    (frames / synth.frame_files[3]).write_bytes(b'truncated')
    out_dir = tmp_path / 'out'
    code, err = run_demo(demo, capsys, fami_checkpoint, str(frames), out_dir,
                         det_args(synth) + ['--bbox-thr', '0.9'])
    assert code == 1 and synth.frame_files[3] in err
    assert os.listdir(out_dir) == []


@pytest.mark.parametrize('where', ['under_a_file', 'a_file'])
def test_output_root_is_checked_before_the_model_loads(
        demo, capsys, synth, fami_checkpoint, tmp_path, monkeypatch, where):
    blocker = tmp_path / 'notes.txt'
    blocker.write_text('not a folder')
    out_dir = blocker / 'vis' if where == 'under_a_file' else blocker

    def no_model(*args, **kwargs):
        raise AssertionError('the model was loaded before the output root '
                             'was checked')

    monkeypatch.setattr(demo.apis, 'init_video_model', no_model)
    code, err = run_demo(demo, capsys, fami_checkpoint, synth.frames_dir,
                         out_dir, det_args(synth))
    assert code == 1
    line = err.strip()
    assert '\n' not in line and str(out_dir) in line
    assert 'is a file, not a folder' in line and 'notes.txt' in line
    assert blocker.read_text() == 'not a folder'


def test_truncated_checkpoint_is_named(demo, capsys, synth, fami_checkpoint,
                                       tmp_path):
    with open(fami_checkpoint, 'rb') as f:
        data = f.read()
    cut = tmp_path / 'cut.pth'
    cut.write_bytes(data[:len(data) // 2])
    code, err = run_demo(demo, capsys, str(cut), synth.frames_dir,
                         tmp_path / 'out', det_args(synth))
    assert code == 1
    line = err.strip()
    assert '\n' not in line and str(cut) in line
    assert 'truncated or damaged' in line


def test_demo_needs_one_person_source(demo, capsys, synth, fami_checkpoint):
    with pytest.raises(SystemExit):
        demo.main([
            FAMI_CONFIG, fami_checkpoint, '--input', synth.frames_dir,
            '--output-root', 'out'
        ])
    assert 'exactly one person source' in capsys.readouterr().err


# --------------------------------------------------------------------------
# checkpoint checks (no inference)
# --------------------------------------------------------------------------


def test_offsets_read_from_the_training_config_text(fami_model):
    text = fami_model.cfg.pretty_text
    assert checkpoint_frame_offsets({'meta': {'cfg': text}}) == [-2, -1, 1, 2]
    changed = text.replace('-2,', '-3,')
    assert checkpoint_frame_offsets({'meta': {'cfg': changed}})[0] == -3
    # the text is parsed, never run
    hostile = "test_dataloader = dict(dataset=dict(frame_offsets=[-1, 1]))\n" \
        "import os; os.remove('/nonexistent')\n"
    assert checkpoint_frame_offsets({'meta': {'cfg': hostile}}) == [-1, 1]
    assert checkpoint_frame_offsets({'meta': {}}) is None
    assert checkpoint_frame_offsets({'state_dict': {}}) is None
    # an explicit meta entry wins
    assert checkpoint_frame_offsets(
        {'meta': {
            'frame_offsets': [-1, 1],
            'cfg': text
        }}) == [-1, 1]


def test_training_config_window_mismatch(fami_model):
    text = fami_model.cfg.pretty_text.replace('-2,', '-4,')
    ckpt = {'state_dict': fami_model.state_dict(), 'meta': {'cfg': text}}
    with pytest.raises(ValueError, match=r'frame_offsets=\[-4'):
        check_checkpoint_compatibility(fami_model, ckpt, [-2, -1, 1, 2],
                                       'ckpt.pth')
    # same window, module. prefixes: accepted
    ckpt = {
        'state_dict': {
            'module.' + k: v
            for k, v in fami_model.state_dict().items()
        },
        'meta': {
            'cfg': fami_model.cfg.pretty_text
        }
    }
    check_checkpoint_compatibility(fami_model, ckpt, [-2, -1, 1, 2])


def test_single_frame_and_video_checkpoints_are_not_mixed(
        fami_model, single_frame_model, tmp_path):
    single_state = single_frame_model.state_dict()
    with pytest.raises(ValueError, match='single-frame checkpoint'):
        check_checkpoint_compatibility(fami_model,
                                       {'state_dict': single_state},
                                       [-2, -1, 1, 2], 'stage1.pth')
    with pytest.raises(ValueError, match='temporal-module weights'):
        check_checkpoint_compatibility(single_frame_model,
                                       {'state_dict': fami_model.state_dict()},
                                       [], 'fami.pth')
    with pytest.raises(ValueError, match='single frame'):
        check_checkpoint_compatibility(single_frame_model, {
            'state_dict': single_state,
            'meta': {
                'frame_offsets': [-1, 1]
            }
        }, [], 'fami.pth')


def test_other_shape_mismatch_is_named(fami_model):
    state = dict(fami_model.state_dict())
    key = next(
        k for k in state if k.startswith('gtm.') and state[k].dim() == 4)
    state[key] = torch.zeros(tuple(state[key].shape[:-1]) + (7, ))
    with pytest.raises(ValueError, match=key.replace('.', r'\.')):
        check_checkpoint_compatibility(fami_model, {'state_dict': state},
                                       [-2, -1, 1, 2], 'shape.pth')


def test_matching_checkpoint_loads(fami_model, fami_checkpoint):
    model = init_video_model(FAMI_CONFIG, fami_checkpoint)
    for key, value in fami_model.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    with pytest.raises(FileNotFoundError, match='no_config.py'):
        init_video_model('no_config.py')


def test_single_frame_config_runs_through_the_demo(demo, capsys, synth,
                                                   single_frame_model,
                                                   short_clip, tmp_path):
    ckpt = save_checkpoint(tmp_path / 'single.pth',
                           single_frame_model.state_dict())
    out_dir = tmp_path / 'out'
    code = demo.main([
        SINGLE_CONFIG, ckpt, '--input', short_clip, '--output-root',
        str(out_dir), '--video-ext', '.avi'
    ] + det_args(synth))
    assert code == 0, capsys.readouterr().err
    assert sorted(
        os.listdir(out_dir)) == [synth.video + '.avi', synth.video + '.json']
