"""The reuse mode's data path: each supporting frame cropped with the same
person's box in that frame (``supporting_boxes='track'``), one augmentation
draw for all frames (``VideoTopdownAffine``), and one training step of the
reuse config."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpose.registry import DATASETS, MODELS

import famipose_mmpose  # noqa: F401  (registers the plugin)

VIDEO = 'images/val/000001_mpii_test'
REUSE_CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    'synthetic',
    'famipose_hrnet-tiny_1xb32-12e_synthposetrack-128x96_reuse.py')


@pytest.fixture(autouse=True)
def mmpose_scope():
    init_default_scope('mmpose')


def person_box(position, person):
    """The ground-truth box ``[x, y, w, h]`` of the layout below: person 0
    moves by (2, 1) px per frame, person 1 stands still."""
    return [4.0 + 2 * position * (person == 0) + 22 * person,
            4.0 + position * (person == 0), 16.0, 36.0]


@pytest.fixture
def moving(tmp_path, make):
    """Six frames, every one labeled, two people (tracks 0 and 1); person 0
    moves and has no annotation in frame 4; detections = the boxes."""
    layout = make.make_posetrack(
        str(tmp_path / 'moving'),
        videos={'000001_mpii_test': dict(labeled=range(6), persons=2)})
    merged = layout['merged']
    kept, dets = [], []
    for ann in merged['annotations']:
        position = ann['image_id'] % 10000
        if ann['track_id'] == 0 and position == 4:
            continue
        ann['bbox'] = person_box(position, ann['track_id'])
        kept.append(ann)
        dets.append(
            dict(
                image_id=ann['image_id'],
                bbox=ann['bbox'],
                score=0.9,
                category_id=1))
    merged['annotations'] = kept
    with open(layout['ann_file'], 'w') as f:
        json.dump(merged, f)
    with open(layout['det_file'], 'w') as f:
        json.dump(dets, f)
    return layout


def build(layout, **kwargs):
    cfg = dict(
        type='PoseTrackVideoDataset',
        data_root=layout['root'],
        ann_file='annotations/posetrack18_val.json',
        data_prefix=dict(img=''),
        serialize_data=False)
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def info_of(dataset, frame_index, track=None, box_x=None):
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        if info['frame_index'] != frame_index:
            continue
        if track is not None and info['raw_ann_info']['track_id'] != track:
            continue
        if box_x is not None and abs(info['bbox'][0, 0] - box_x) > 1e-3:
            continue
        return info
    raise AssertionError(f'no sample of frame {frame_index}')


def xyxy(box):
    x, y, w, h = box
    return [x, y, x + w, y + h]


def test_supporting_boxes_by_track_id_and_the_key_box_where_missing(moving):
    dataset = build(moving, supporting_boxes='track', test_mode=True)
    info = info_of(dataset, 2, track=0)
    assert info['frame_indices'] == [2, 0, 1, 3, 4]
    expected = [xyxy(person_box(p, 0)) for p in (2, 0, 1, 3)]
    expected.append(xyxy(person_box(2, 0)))  # no box in frame 4: key box
    np.testing.assert_allclose(info['frame_bboxes'], expected)
    assert info['frame_bbox_sources'] == ['key', 'own', 'own', 'own', 'key']
    other = info_of(dataset, 2, track=1)
    np.testing.assert_allclose(other['frame_bboxes'],
                               [xyxy(person_box(2, 1))] * 5)
    # a border slot that repeats the key frame gets the key box
    first = info_of(dataset, 0, track=0)
    assert first['frame_indices'] == [0, 0, 0, 1, 2]
    assert first['frame_bbox_sources'] == ['key', 'key', 'key', 'own', 'own']


def test_training_jitters_the_own_boxes_as_a_detector_would(moving):
    dataset = build(moving, supporting_boxes='track')
    np.random.seed(3)
    info = info_of(dataset, 2, track=0)
    np.random.seed(3)
    again = info_of(dataset, 2, track=0)
    np.testing.assert_array_equal(info['frame_bboxes'], again['frame_bboxes'])
    exact = np.array([xyxy(person_box(p, 0)) for p in (2, 0, 1, 3, 2)])
    moved = np.abs(info['frame_bboxes'] - exact).max(axis=1)
    assert moved[0] == 0 and moved[4] == 0  # key box, and the fallback
    assert np.all(moved[1:4] > 0) and np.all(moved[1:4] < 6)


def test_the_default_data_path_is_unchanged(moving):
    """``supporting_boxes='key'`` adds no field and draws no random
    number."""
    dataset = build(moving)
    np.random.seed(0)
    state = np.random.get_state()[1].copy()
    info = info_of(dataset, 2, track=0)
    np.testing.assert_array_equal(np.random.get_state()[1], state)
    assert 'frame_bboxes' not in info
    with pytest.raises(ValueError, match='supporting_boxes'):
        build(moving, supporting_boxes='own')


def test_detections_are_linked_to_the_key_box_by_iou(moving):
    dataset = build(
        moving,
        supporting_boxes='track',
        test_mode=True,
        bbox_file=moving['det_file'])
    info = info_of(dataset, 2, box_x=8.0)  # person 0 in frame 2
    expected = [xyxy(person_box(p, 0)) for p in (2, 0, 1, 3)]
    expected.append(xyxy(person_box(2, 0)))  # no detection of it in frame 4
    np.testing.assert_allclose(info['frame_bboxes'], expected)
    assert info['frame_bbox_sources'] == ['key', 'own', 'own', 'own', 'key']


def textured_frame():
    rng = np.random.RandomState(0)
    noise = (rng.rand(120, 160, 3) * 255).astype(np.uint8)
    return cv2.GaussianBlur(noise, (7, 7), 2)


def crop_results(boxes):
    image = textured_frame()
    return dict(
        img=[image.copy() for _ in boxes],
        img_shape=image.shape[:2],
        bbox=np.asarray(boxes[:1], dtype=np.float32),
        bbox_score=np.ones(1, dtype=np.float32),
        frame_bboxes=np.asarray(boxes, dtype=np.float32),
        keypoints=np.full((1, 17, 2), 60, dtype=np.float32),
        keypoints_visible=np.ones((1, 17), dtype=np.float32),
        flip_indices=list(range(17)))


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_one_augmentation_draw_for_all_frames_with_their_own_boxes(seed):
    """Identical frames, three boxes, a random flip, shift, scale and
    rotation: each frame's crop, brought back by its recorded geometry,
    is the key crop."""
    pipeline = Compose([
        dict(type='GetBBoxCenterScale'),
        dict(type='RandomFlip', direction='horizontal', prob=0.5),
        dict(type='RandomBBoxTransform', rotate_prob=1.0),
        dict(type='VideoTopdownAffine', input_size=(48, 64)),
    ])
    boxes = [[50, 30, 90, 100], [55, 35, 95, 105], [45, 25, 95, 108]]
    np.random.seed(seed)
    results = pipeline(crop_results(boxes))
    key = results['img'][0].astype(np.float64)
    warps = results['frame_crop_warps']
    assert warps.shape == (3, 2, 3)
    np.testing.assert_array_equal(warps[0], np.eye(3)[:2])
    for t in (1, 2):
        back = cv2.warpAffine(
            results['img'][t],
            warps[t], (48, 64),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
        seen = cv2.warpAffine(
            np.ones((64, 48), np.uint8),
            warps[t], (48, 64),
            flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP)
        seen = cv2.erode(seen, np.ones((5, 5), np.uint8)) > 0
        assert seen.mean() > 0.5
        aligned = np.abs(back.astype(np.float64) - key)[seen].mean()
        unaligned = np.abs(results['img'][t].astype(np.float64) - key).mean()
        assert aligned < 2.0 < 5 * aligned < unaligned


def test_the_same_box_in_every_frame_gives_the_paper_crops():
    boxes = [[50, 30, 90, 100]] * 3
    steps = [dict(type='GetBBoxCenterScale'),
             dict(type='RandomBBoxTransform', rotate_prob=1.0)]
    np.random.seed(4)
    own = Compose(steps + [dict(type='VideoTopdownAffine',
                                input_size=(48, 64))])(crop_results(boxes))
    np.random.seed(4)
    paper = Compose(steps + [dict(type='TopdownAffine',
                                  input_size=(48, 64))])(crop_results(boxes))
    for a, b in zip(own['img'], paper['img']):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(own['transformed_keypoints'],
                                  paper['transformed_keypoints'])
    np.testing.assert_array_equal(own['frame_crop_warps'],
                                  np.tile(np.eye(3)[:2], (3, 1, 1)))


def test_reuse_config_trains_one_step(tmp_path):
    """The reuse config's training data (ground-truth tracks, jittered
    boxes, one augmentation) and one optimizer step of its model."""
    from famipose_mmpose.synthetic import generate_dataset
    root = str(tmp_path / 'synth')
    generate_dataset(
        root,
        preset='tiny',
        seed=1,
        num_train_videos=1,
        num_val_videos=0,
        frames_per_video=5,
        people_per_video=(2, 2))
    cfg = Config.fromfile(REUSE_CONFIG)
    assert cfg.model.supporting_crops == 'own_box'
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.update(data_root=root + '/', serialize_data=False)
    dataset = DATASETS.build(dataset_cfg)
    np.random.seed(0)
    batch = pseudo_collate([dataset[i] for i in range(4)])
    warps = np.stack(
        [s.metainfo['frame_crop_warps'] for s in batch['data_samples']])
    assert warps.shape == (4, 5, 2, 3)
    assert not np.allclose(warps, np.eye(3)[:2])  # own boxes were used
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    before = {
        name: param.detach().clone()
        for name, param in model.named_parameters() if param.requires_grad
    }
    log_vars = model.train_step(batch, optim_wrapper)
    assert np.isfinite(float(log_vars['loss']))
    assert 'loss_mi' in log_vars
    changed = [
        name for name, param in model.named_parameters()
        if name in before and not torch.equal(param, before[name])
    ]
    assert any(name.startswith('lcm.') for name in changed)
    assert any(name.startswith('head.') for name in changed)
