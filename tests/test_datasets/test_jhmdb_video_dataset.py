"""JhmdbVideoDataset on a miniature Sub-JHMDB layout, evaluated with
mmpose's JhmdbPCKAccuracy."""
import json
import os.path as osp

import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData
from mmpose.registry import DATASETS, METRICS

from famipose_mmpose.datasets import RECOMMENDED_VIDEO_META_KEYS, JhmdbVideoDataset


@pytest.fixture(autouse=True)
def mmpose_scope():
    init_default_scope('mmpose')


@pytest.fixture
def jhmdb(tmp_path, make):
    return make.make_jhmdb(str(tmp_path / 'jhmdb'))


def build(layout, **kwargs):
    cfg = dict(
        type='JhmdbVideoDataset',
        data_root=layout['root'],
        data_prefix=dict(img=''),
        serialize_data=False)
    cfg.update(kwargs)
    return DATASETS.build(cfg)


def test_split_selects_the_annotation_file(jhmdb):
    test = build(jhmdb, split=1, test_mode=True)
    assert isinstance(test, JhmdbVideoDataset)
    assert test.ann_file == jhmdb['test']
    assert len(test) == 5  # clip_a, every frame annotated
    train = build(jhmdb, split=1)
    assert train.ann_file == jhmdb['train'] and len(train) == 4
    same = build(jhmdb, ann_file='annotations/Sub1_train.json')
    assert len(same) == 4
    with pytest.raises(ValueError, match='not both'):
        build(jhmdb, split=1, ann_file='annotations/Sub1_train.json')
    with pytest.raises(ValueError, match='1, 2 or 3'):
        build(jhmdb, split=4)
    assert test.metainfo['num_keypoints'] == 15


def test_frames_windows_and_zero_based_coordinates(jhmdb):
    dataset = build(jhmdb, split=1, test_mode=True)
    clip = jhmdb['clips']['catch/clip_a']
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        np.testing.assert_allclose(
            info['keypoints'][0], jhmdb['poses'][info['img_id']], atol=1e-4)
        if info['frame_index'] == 1:
            assert info['frame_paths'] == [clip[k] for k in (0, 0, 0, 1, 2)]
            assert info['frame_indices'] == [1, 1, 1, 2, 3]
        if info['frame_index'] == 5:
            assert info['frame_indices'] == [5, 3, 4, 5, 5]
            x1, y1 = jhmdb['poses'][info['img_id']].min(axis=0) - 2
            np.testing.assert_allclose(info['bbox'][0, :2], [x1, y1])


def test_clip_length_from_the_annotation_file(tmp_path, make):
    layout = make.make_jhmdb(str(tmp_path / 'jhmdb'), with_nframes=False)
    with open(layout['test']) as f:
        assert 'nframes' not in json.load(f)['images'][0]
    dataset = build(layout, split=1, test_mode=True, border_policy='clip')
    last = [
        dataset.get_data_info(i) for i in range(len(dataset))
        if dataset.get_data_info(i)['frame_index'] == 5
    ][0]
    assert last['nframes'] == 5
    assert last['frame_indices'] == [5, 3, 4, 5, 5]


def test_output_works_with_jhmdb_pck_accuracy(jhmdb):
    pipeline = [
        dict(type='LoadVideoFrames'),
        dict(type='GetBBoxCenterScale'),
        dict(type='TopdownAffine', input_size=(32, 32)),
        dict(type='PackPoseInputs', meta_keys=RECOMMENDED_VIDEO_META_KEYS),
    ]
    dataset = build(jhmdb, split=1, test_mode=True, pipeline=pipeline)
    metric = METRICS.build(
        dict(type='JhmdbPCKAccuracy', thr=0.2, norm_item=['bbox', 'torso']))
    for i in range(len(dataset)):
        packed = dataset[i]
        assert tuple(packed['inputs'].shape) == (5, 3, 32, 32)
        sample = packed['data_samples']
        assert osp.isfile(sample.frame_paths[-1])
        keypoints = np.array(sample.gt_instances.keypoints, copy=True)
        if i == 0:
            keypoints[0, 11] += 100.0  # right wrist far off in one sample
        sample.pred_instances = InstanceData(
            keypoints=keypoints, keypoint_scores=np.ones((1, 15)))
        metric.process([packed], [sample.to_dict()])
    results = metric.evaluate(len(dataset))
    by_name = {k.split('/')[-1]: v for k, v in results.items()}
    # joint 11 is right in 4 of 5 samples, the 14 others always
    assert by_name['PCK'] == pytest.approx((14 + 0.8) / 15)
    assert by_name['Wri PCK'] == pytest.approx(0.9)
    assert by_name['Head PCK'] == pytest.approx(1.0)
    assert by_name['tPCK'] == pytest.approx((14 + 0.8) / 15)
