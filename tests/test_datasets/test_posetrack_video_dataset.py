"""PoseTrackVideoDataset on miniature PoseTrack17/18 layouts."""
import json
import logging
import os
import os.path as osp
import shutil

import numpy as np
import pytest
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmpose.datasets.transforms import PackPoseInputs
from mmpose.registry import DATASETS

from famipose_mmpose.datasets import (RECOMMENDED_VIDEO_META_KEYS, SUPPORTING_BOX_FIELDS, VIDEO_META_KEYS,
                                      PoseTrackVideoDataset)

VIDEO_1 = 'images/val/000001_mpii_test'


@pytest.fixture(autouse=True)
def mmpose_scope():
    init_default_scope('mmpose')


def build(layout, **kwargs):
    cfg = dict(
        type='PoseTrackVideoDataset',
        data_root=layout['root'],
        ann_file='annotations/posetrack18_val.json',
        data_prefix=dict(img=''),
        serialize_data=False)
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def sample_of(dataset, video, frame_index):
    """Index of the first sample whose key frame is ``frame_index`` of
    ``video``."""
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        if info['video'] == video and info['frame_index'] == frame_index:
            return i, info
    raise AssertionError(f'no sample for {video} frame {frame_index}')


def message_of(err):
    """The message of an exception (``str(KeyError)`` adds quotes)."""
    return err.args[0] if err.args else str(err)


def frame_path(layout, video_dir, index):
    return osp.join(layout['root'], video_dir,
                    f'{index:0{layout["digits"]}d}.jpg')


def test_gt_samples_carry_coco_keys_and_the_window(pt18):
    dataset = build(pt18)
    assert isinstance(dataset, PoseTrackVideoDataset)
    # video 1: 3 labeled frames x 1 person, video 2: 2 frames x 2 persons
    assert len(dataset) == 7
    i, info = sample_of(dataset, VIDEO_1, 3)
    for key in ('img_id', 'img_path', 'bbox', 'bbox_score', 'keypoints',
                'keypoints_visible', 'num_keypoints', 'area', 'iscrowd', 'id',
                'category_id', 'raw_ann_info', 'flip_indices',
                'upper_body_ids', 'dataset_name'):
        assert key in info, key
    assert info['img_path'] == frame_path(pt18, VIDEO_1, 3)
    assert info['frame_paths'] == [
        frame_path(pt18, VIDEO_1, k) for k in (3, 1, 2, 4, 5)
    ]
    assert info['frame_offsets'] == [0, -2, -1, 1, 2]
    assert info['frame_indices'] == [3, 1, 2, 4, 5]
    assert info['nframes'] == 6 and info['vid_id'] == '000001'
    assert info['keypoints'].shape == (1, 17, 2)
    assert info['keypoints_visible'].shape == (1, 17)
    np.testing.assert_allclose(info['keypoints'][0, 0], [32, 13])
    assert info['bbox'].shape == (1, 4)


def test_border_policies_at_both_ends(pt18):
    fami = build(pt18)  # the default
    assert fami.border_policy == 'fami'
    _, first = sample_of(fami, VIDEO_1, 0)
    assert first['frame_indices'] == [0, 0, 0, 1, 2]
    # video 2, key frame 4 of 0..5: the missing t+2 becomes t+1
    _, info = sample_of(fami, 'images/val/000002_mpii_test', 4)
    assert info['frame_indices'] == [4, 2, 3, 5, 5]
    # video 2, key frame 1: the missing t-2 becomes the key frame
    _, info = sample_of(fami, 'images/val/000002_mpii_test', 1)
    assert info['frame_indices'] == [1, 1, 0, 2, 3]
    key = build(pt18, border_policy='key')
    clip = build(pt18, border_policy='clip')
    _, first = sample_of(key, VIDEO_1, 0)
    _, last = sample_of(key, VIDEO_1, 5)
    assert first['frame_indices'] == [0, 0, 0, 1, 2]
    assert last['frame_indices'] == [5, 3, 4, 5, 5]
    _, first = sample_of(clip, VIDEO_1, 0)
    assert first['frame_indices'] == [0, 0, 0, 1, 2]
    assert first['frame_paths'][1] == first['img_path']
    # video 2, key frame 4 of 0..5: t+2 is outside
    _, info = sample_of(clip, 'images/val/000002_mpii_test', 4)
    assert info['frame_indices'] == [4, 2, 3, 5, 5]
    _, info = sample_of(key, 'images/val/000002_mpii_test', 4)
    assert info['frame_indices'] == [4, 2, 3, 5, 4]
    _, info = sample_of(clip, 'images/val/000002_mpii_test', 1)
    assert info['frame_indices'] == [1, 0, 0, 2, 3]


def test_pt17_names_are_one_based(pt17):
    dataset = build(pt17, border_policy='clip')
    _, first = sample_of(dataset, VIDEO_1, 1)
    assert first['frame_paths'][0].endswith('00000001.jpg')
    assert first['frame_indices'] == [1, 1, 1, 2, 3]
    _, last = sample_of(dataset, VIDEO_1, 6)
    assert last['frame_indices'] == [6, 4, 5, 6, 6]
    # every path exists: the window never asks for 00000000.jpg or 7
    for path in first['frame_paths'] + last['frame_paths']:
        assert osp.isfile(path), path


def test_custom_offsets_and_config_naming(pt18):
    dataset = build(
        pt18,
        frame_offsets=[1, -3],
        frame_name_format='%06d.jpg',
        first_frame_index=0,
        border_policy='clip')
    _, info = sample_of(dataset, VIDEO_1, 3)
    assert info['frame_offsets'] == [0, 1, -3]
    assert info['frame_indices'] == [3, 4, 0]
    single = build(pt18, frame_offsets=[])
    assert single[0]['frame_paths'] == [single[0]['img_path']]


def test_random_offsets_are_drawn_per_sample_read(pt18):
    dataset = build(
        pt18,
        frame_sampling='random',
        frame_range=(-3, 3),
        border_policy='clip')
    i, _ = sample_of(dataset, VIDEO_1, 3)
    draws = {
        tuple(dataset.get_data_info(i)['frame_offsets'])
        for _ in range(40)
    }
    assert len(draws) > 3
    for offsets in draws:
        assert offsets[0] == 0
        assert -3 <= offsets[1] < offsets[2] <= -1
        assert 1 <= offsets[3] < offsets[4] <= 3
    with pytest.raises(ValueError, match='frame_range'):
        build(pt18, frame_sampling='random')


def test_zero_offset_and_bad_options_are_rejected(pt18):
    with pytest.raises(ValueError, match='contains 0'):
        build(pt18, frame_offsets=[-1, 0, 1])
    with pytest.raises(ValueError, match='border_policy'):
        build(pt18, border_policy='mirror')
    with pytest.raises(ValueError, match='missing_frame'):
        build(pt18, missing_frame='skip')
    with pytest.raises(ValueError, match='topdown'):
        build(pt18, data_mode='bottomup')


def test_detections_with_score_threshold(pt18):
    dataset = build(
        pt18,
        bbox_file=pt18['det_file'],
        filter_cfg=dict(bbox_score_thr=0.5),
        test_mode=True)
    # 5 labeled frames, the second person (score 0.4) is dropped
    assert len(dataset) == 5
    all_dets = build(pt18, bbox_file=pt18['det_file'], test_mode=True)
    assert len(all_dets) == 7
    i, info = sample_of(dataset, VIDEO_1, 0)
    np.testing.assert_allclose(info['bbox_score'], [0.9])
    assert not info['keypoints'].any()
    assert info['frame_indices'] == [0, 0, 0, 1, 2]
    assert info['img_shape'] == (48, 64)
    ids = [dataset.get_data_info(k)['id'] for k in range(len(dataset))]
    assert sorted(ids) == list(range(5))


def test_missing_supporting_frame_raises_with_video_frame_and_path(
        tmp_path, make):
    layout = make.make_posetrack(
        str(tmp_path / 'holes'), skip_frames=['000001_mpii_test/4'])
    dataset = build(layout)
    i, _ = sample_of(dataset, VIDEO_1, 0)  # window 0, 0, 0, 1, 2: complete
    dataset.get_data_info(i)
    i = [
        k for k in range(len(dataset))
        if dataset.data_list[k]['video'] == VIDEO_1
        and dataset.data_list[k]['frame_index'] == 3
    ][0]
    with pytest.raises(FileNotFoundError) as err:
        dataset.get_data_info(i)
    message = str(err.value)
    assert VIDEO_1 in message and 'frame 4' in message
    assert frame_path(layout, VIDEO_1, 4) in message


def test_missing_frame_nearest_falls_back_and_counts(tmp_path, make):
    layout = make.make_posetrack(
        str(tmp_path / 'holes'), skip_frames=['000001_mpii_test/4'])
    dataset = build(layout, missing_frame='nearest')
    logger = MMLogger.get_current_instance()
    messages = []

    class Collect(logging.Handler):

        def emit(self, record):
            messages.append(record.getMessage())

    handler = Collect(level=logging.DEBUG)
    logger.addHandler(handler)
    try:
        for k in range(len(dataset)):
            dataset[k]
        i, info = sample_of(dataset, VIDEO_1, 3)
    finally:
        logger.removeHandler(handler)
    # key 3, window 1 2 4 5; 4 is missing: 3 (key side) is the nearest
    assert info['frame_indices'] == [3, 1, 2, 3, 5]
    assert info['frame_fallbacks'] == [(4, 3)]
    # read by key 3 (t+1) and key 5 (t-1) in the loop, then key 3 again
    assert dataset.missing_frame_count == 3
    assert dataset.missing_frame_videos == {VIDEO_1: 3}
    assert sum('frame 4' in m and VIDEO_1 in m for m in messages) == 1
    assert '3 missing supporting frame' in dataset.missing_frame_summary()
    dataset.reset_missing_frame_stats()
    assert dataset.missing_frame_count == 0


def test_missing_key_frame_always_raises(tmp_path, make):
    layout = make.make_posetrack(
        str(tmp_path / 'holes'), skip_frames=['000001_mpii_test/3'])
    dataset = build(layout, missing_frame='nearest')
    i = [
        k for k in range(len(dataset))
        if dataset.data_list[k]['frame_index'] == 3
        and dataset.data_list[k]['video'] == VIDEO_1
    ][0]
    with pytest.raises(FileNotFoundError, match='key frame 3'):
        dataset.get_data_info(i)


def rewrite(layout, name, edit):
    """Copy the merged json, apply ``edit`` and return the new file's name."""
    with open(layout['ann_file']) as f:
        content = json.load(f)
    edit(content)
    path = osp.join(layout['root'], 'annotations', name)
    with open(path, 'w') as f:
        json.dump(content, f)
    return 'annotations/' + name


@pytest.mark.parametrize('edit, error, words', [
    (lambda c: c['images'][0].pop('nframes'), KeyError, ['"nframes"']),
    (lambda c: c['images'][0].pop('width'), KeyError, ['"width"', 'merge']),
    (lambda c: c['images'][0].pop('file_name'), KeyError, ['"file_name"']),
    (lambda c: c['images'][0].update(nframes=0), ValueError,
     ['"nframes"=0', 'empty']),
    (lambda c: c['images'][1].update(nframes=2), ValueError,
     ['outside its video', 'first_frame_index']),
    (lambda c: c['annotations'][0].update(keypoints=c['annotations'][0][
        'keypoints'][:45]), ValueError, ['"keypoints"', 'expected 51']),
    (lambda c: c.pop('images'), KeyError, ['"images"']),
    (lambda c: c['annotations'][0].pop('image_id'), KeyError, ["'image_id'"]),
])
def test_malformed_annotations_name_file_and_field(pt18, edit, error, words):
    ann = rewrite(pt18, 'bad.json', edit)
    with pytest.raises(error) as err:
        build(pt18, ann_file=ann)
    message = message_of(err.value)
    assert 'bad.json' in message
    for word in words:
        assert word in message, (word, message)


def write_dets(layout, dets):
    path = osp.join(layout['root'], 'annotations', 'bad_dets.json')
    with open(path, 'w') as f:
        json.dump(dets, f)
    return path


@pytest.mark.parametrize('det, error, field', [
    (dict(bbox=[1, 1, 5, 5], score=0.9, category_id=1,
          image_id=123), KeyError, '"image_id" 123'),
    (dict(bbox=[1, 1, 5, 5], category_id=1,
          image_id=None), KeyError, '"score"'),
    (dict(score=0.9, category_id=1, image_id=None), KeyError, '"bbox"'),
    (dict(bbox=[1, 1, 5, 5], score=0.9,
          category_id=1), KeyError, '"image_id"'),
])
def test_malformed_detections_name_file_and_field(pt18, det, error, field):
    if det.get('image_id', 0) is None:
        det['image_id'] = pt18['labeled'][0][2]
    path = write_dets(pt18, [det])
    with pytest.raises(error) as err:
        build(pt18, bbox_file=path, test_mode=True)
    assert 'bad_dets.json' in message_of(err.value)
    assert field in message_of(err.value)
    with pytest.raises(ValueError, match='json list'):
        build(pt18, bbox_file=write_dets(pt18, {'a': 1}), test_mode=True)


def test_video_without_frames_on_disk_fails_at_load(pt18):
    shutil.rmtree(osp.join(pt18['root'], 'images/val/000002_mpii_test'))
    with pytest.raises(FileNotFoundError) as err:
        build(pt18)
    assert '000002_mpii_test' in str(err.value)
    assert 'posetrack18_val.json' in str(err.value)
    os.makedirs(osp.join(pt18['root'], 'images/val/000002_mpii_test'))
    with pytest.raises(FileNotFoundError, match='missing or empty'):
        build(pt18)
    assert len(build(pt18, check_videos_on_load=False)) == 7


def test_missing_annotation_file(pt18):
    with pytest.raises(FileNotFoundError, match='nope.json'):
        build(pt18, ann_file='annotations/nope.json')


def test_train_pipeline_output_reaches_the_data_samples(pt18, make):
    codec = dict(
        type='MSRAHeatmap', input_size=(24, 32), heatmap_size=(6, 8), sigma=1)
    pipeline = [
        dict(type='LoadVideoFrames'),
        dict(type='GetBBoxCenterScale'),
        dict(type='RandomFlip', direction='horizontal'),
        dict(type='RandomHalfBody'),
        dict(type='RandomBBoxTransform'),
        dict(type='TopdownAffine', input_size=codec['input_size']),
        dict(type='GenerateTarget', encoder=codec),
        dict(type='PackPoseInputs', meta_keys=RECOMMENDED_VIDEO_META_KEYS),
    ]
    dataset = build(pt18, pipeline=pipeline)
    i, info = sample_of(dataset, VIDEO_1, 0)
    packed = dataset[i]
    assert tuple(packed['inputs'].shape) == (5, 3, 32, 24)
    sample = packed['data_samples']
    assert sample.img_path == info['img_path']
    assert sample.frame_paths == info['frame_paths']
    assert sample.frame_offsets == [0, -2, -1, 1, 2]
    assert sample.frame_indices == [0, 0, 0, 1, 2]
    assert sample.video == VIDEO_1 and sample.frame_index == 0
    assert sample.ori_shape == (48, 64)
    assert tuple(sample.gt_fields.heatmaps.shape) == (17, 8, 6)
    assert tuple(sample.gt_instance_labels.keypoint_weights.shape) == (1, 17)


def test_loaded_frames_are_the_window_in_order(pt18, make):
    dataset = build(pt18, pipeline=[dict(type='LoadVideoFrames')])
    i, info = sample_of(dataset, VIDEO_1, 3)
    results = dataset[i]
    assert results['img_path'] == info['img_path']
    levels = [int(np.median(img)) for img in results['img']]
    expected = [make.background_level(k, 1) for k in (3, 1, 2, 4, 5)]
    assert np.all(np.abs(np.array(levels) - expected) <= 3), levels


def test_static_support_crops_equal_the_key_crop_pixel_for_pixel(pt18):
    """The static-support control: same window length and offsets, every
    supporting crop is the key crop (after the shared random augmentation)."""
    pipeline = [
        dict(type='LoadVideoFrames'),
        dict(type='GetBBoxCenterScale'),
        dict(type='RandomFlip', direction='horizontal', prob=1.0),
        dict(type='RandomBBoxTransform', rotate_prob=1.0),
        dict(type='TopdownAffine', input_size=(24, 32)),
        dict(type='PackPoseInputs', meta_keys=RECOMMENDED_VIDEO_META_KEYS),
    ]
    static = build(pt18, pipeline=pipeline, static_support=True)
    temporal = build(pt18, pipeline=pipeline)
    i, info = sample_of(static, VIDEO_1, 3)
    assert info['frame_paths'] == [info['img_path']] * 5
    assert info['frame_offsets'] == [0, -2, -1, 1, 2]
    assert info['frame_indices'] == [3] * 5
    crops = static[i]['inputs']
    assert tuple(crops.shape) == (5, 3, 32, 24)
    for t in range(1, 5):
        assert (crops[t] == crops[0]).all(), t
    # the same sample without the control reads other frames (other pixels)
    moving = temporal[i]['inputs']
    assert any(not (moving[t] == moving[0]).all() for t in range(1, 5))


def test_static_support_must_be_a_bool(pt18):
    with pytest.raises(ValueError, match='static_support'):
        build(pt18, static_support='yes')


def collect_logs():
    """A handler on the current MMLogger that keeps the messages."""
    messages = []

    class Collect(logging.Handler):

        def emit(self, record):
            messages.append((record.levelno, record.getMessage()))

    handler = Collect(level=logging.DEBUG)
    MMLogger.get_current_instance().addHandler(handler)
    return handler, messages


def test_dropped_boxes_are_counted_in_the_log_by_reason(pt18):

    def edit(content):
        content['annotations'][0]['bbox'][2] = -5  # negative width
        content['annotations'][1]['keypoints'] = [0] * 51  # unlabeled

    ann = rewrite(pt18, 'dropped.json', edit)
    handler, messages = collect_logs()
    try:
        dataset = build(pt18, ann_file=ann)
    finally:
        MMLogger.get_current_instance().removeHandler(handler)
    assert len(dataset) == 5  # 7 annotated persons, 2 dropped
    width = [(level, m) for level, m in messages
             if '1 box(es) dropped (box width or height <= 0' in m]
    assert len(width) == 1 and 'dropped.json' in width[0][1]
    assert width[0][0] == logging.WARNING
    assert sum('1 box(es) dropped (annotation without box or labeled '
               'keypoint)' in m for _, m in messages) == 1
    # nothing dropped, nothing said
    handler, messages = collect_logs()
    try:
        build(pt18)
    finally:
        MMLogger.get_current_instance().removeHandler(handler)
    assert not any('dropped' in m for _, m in messages)


def test_det_bbox_thr_asks_for_filter_cfg(pt18):
    with pytest.raises(ValueError) as err:
        build(pt18, bbox_file=pt18['det_file'], det_bbox_thr=0.2,
              test_mode=True)
    assert 'filter_cfg=dict(bbox_score_thr=0.2)' in str(err.value)


def test_detections_need_mmpose_format(pt18):
    path = write_dets(pt18, [
        dict(bbox=[1, 1, 5, 5], score=0.9, image_id=pt18['labeled'][0][2])
    ])
    with pytest.raises(KeyError) as err:
        build(pt18, bbox_file=path, test_mode=True)
    assert 'bad_dets.json' in message_of(err.value)
    assert '"category_id"' in message_of(err.value)
    path = write_dets(pt18, [dict(bbox=[1, 1, 5, 5], score=0.9, category_id=1,
                                  image_name=VIDEO_1 + '/000000.jpg')])
    with pytest.raises(KeyError) as err:
        build(pt18, bbox_file=path, test_mode=True)
    assert '"image_id"' in message_of(err.value)
    assert 'pt17-boxes' in message_of(err.value)


def test_pack_video_pose_inputs_packs_the_video_fields(pt18):
    pipeline = [
        dict(type='LoadVideoFrames'),
        dict(type='GetBBoxCenterScale'),
        dict(type='TopdownAffine', input_size=(24, 32)),
        dict(type='PackVideoPoseInputs'),
    ]
    dataset = build(pt18, pipeline=pipeline)
    i, info = sample_of(dataset, VIDEO_1, 3)
    sample = dataset[i]['data_samples']
    for key in VIDEO_META_KEYS + ('id', 'img_id', 'img_path', 'input_center',
                                  'input_scale', 'flip_indices'):
        # the reuse mode's fields only in its samples (supporting_boxes=
        # 'track', tests/test_datasets/test_supporting_boxes.py)
        assert (key in sample.metainfo) != (key in SUPPORTING_BOX_FIELDS), key
    assert sample.frame_indices == [3, 1, 2, 4, 5]
    assert sample.video == VIDEO_1 and sample.nframes == 6
    assert set(RECOMMENDED_VIDEO_META_KEYS) == set(
        PackPoseInputs().meta_keys) | set(VIDEO_META_KEYS)
