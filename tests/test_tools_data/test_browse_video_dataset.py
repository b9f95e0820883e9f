"""tools/browse_video_dataset.py renders a sample's T crops to a PNG."""
import importlib.util
import os.path as osp

import cv2
import numpy as np
import pytest

TOOL = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tools',
    'browse_video_dataset.py')


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location('browse_video_dataset', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_config(path, root):
    text = f'''
default_scope = 'mmpose'
custom_imports = dict(imports=['famipose_mmpose.datasets'],
                      allow_failed_imports=False)
codec = dict(type='MSRAHeatmap', input_size=(24, 32), heatmap_size=(6, 8),
             sigma=1)
val_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs'),
]
train_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomBBoxTransform'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]
dataset = dict(
    type='PoseTrackVideoDataset',
    data_root={root!r},
    ann_file='annotations/posetrack18_val.json',
    data_prefix=dict(img=''))
train_dataloader = dict(batch_size=2, dataset=dict(dataset,
                                                   pipeline=train_pipeline))
val_dataloader = dict(batch_size=2, dataset=dict(dataset,
                                                 pipeline=val_pipeline,
                                                 test_mode=True))
'''
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


def test_renders_the_t_crops_side_by_side(tool, pt18, make, tmp_path):
    config = write_config(tmp_path / 'cfg.py', pt18['root'])
    out = str(tmp_path / 'vis' / 'sample.png')
    # sample 1 is the key frame 3 of video 1: window 3, 1, 2, 4, 5
    assert tool.main(
        [config, '--index', '1', '--output', out, '--phase', 'val']) == out
    canvas = cv2.imread(out)
    scale, banner, gap = 2, tool.BANNER * 2, tool.GAP
    assert canvas.shape == (banner + 32 * scale, 5 * 24 * scale + 4 * gap, 3)
    for t, index in enumerate([3, 1, 2, 4, 5]):
        x0 = t * (24 * scale + gap)
        panel = canvas[banner:, x0:x0 + 24 * scale].astype(int)
        grey = np.median(panel.mean(axis=2))
        assert abs(grey - make.background_level(index, 1)) <= 4, (t, grey)
        coloured = (panel.max(axis=2) - panel.min(axis=2)) > 60
        assert coloured.sum() > 10, t  # keypoints and skeleton drawn
        assert canvas[:banner, x0:x0 + 24 * scale].max() > 100  # label
        if t < 4:
            assert (canvas[:, x0 + 24 * scale:x0 + 24 * scale +
                           gap] == 128).all()


def test_train_phase_and_errors(tool, pt18, tmp_path):
    config = write_config(tmp_path / 'cfg.py', pt18['root'])
    out = str(tmp_path / 'train.png')
    tool.main([config, '--index', '0', '--output', out, '--scale', '1'])
    assert cv2.imread(out).shape[0] == tool.BANNER + 32
    with pytest.raises(IndexError, match='has 7 sample'):
        tool.main([config, '--index', '7', '--output', out])
    with pytest.raises(KeyError, match='test_dataloader'):
        tool.main([config, '--output', out, '--phase', 'test'])
