"""Drawing, the annotated-video writer and the PoseTrack18 prediction
writer."""
import json
import os

import cv2
import numpy as np
import pytest
from mmengine.structures import InstanceData
from mmpose.datasets.datasets.utils import parse_pose_metainfo
from mmpose.structures import PoseDataSample

from famipose_mmpose.apis import AtomicVideoWriter, PoseTrack18PredictionWriter, build_pose_visualizer, draw_frame_poses
from famipose_mmpose.evaluation.posetrack_ap import load_posetrack_video


@pytest.fixture(scope='module')
def posetrack_meta():
    return parse_pose_metainfo(
        dict(from_file='configs/_base_/datasets/posetrack18.py'))


def frame_sample(keypoints, scores, boxes, track_ids, img_id=7):
    sample = PoseDataSample(
        metainfo=dict(
            img_id=img_id,
            img_path=f'images/val/v/{img_id:06d}.jpg',
            frame_index=img_id,
            img_shape=(120, 160)))
    sample.pred_instances = InstanceData(
        bboxes=np.asarray(boxes, np.float32).reshape(-1, 4),
        bbox_scores=np.full(len(boxes), 0.5, np.float32),
        keypoints=np.asarray(keypoints, np.float32),
        keypoint_scores=np.asarray(scores, np.float32),
        track_ids=np.asarray(track_ids, np.int64))
    return sample


def test_keypoints_limbs_boxes_and_track_ids_are_drawn(posetrack_meta):
    rng = np.random.default_rng(0)
    keypoints = rng.uniform([40, 30], [120, 100], size=(1, 17, 2))
    scores = np.ones((1, 17))
    scores[0, 5] = 0.1  # below kpt_thr: not drawn
    sample = frame_sample(keypoints, scores, [[30, 20, 130, 110]], [3])
    image = np.zeros((120, 160, 3), np.uint8)
    visualizer = build_pose_visualizer(posetrack_meta, radius=2)
    drawn = draw_frame_poses(visualizer, image, sample, kpt_thr=0.3)
    assert drawn.shape == image.shape and drawn.dtype == np.uint8
    for k in (0, 9, 16):
        x, y = np.round(keypoints[0, k]).astype(int)
        assert drawn[y, x].any(), k
    plain = draw_frame_poses(
        visualizer,
        image,
        frame_sample(keypoints, np.zeros((1, 17)), [[30, 20, 130, 110]], [3]),
        kpt_thr=0.3,
        draw_bbox=False,
        draw_track_ids=False)
    assert not plain.any()  # nothing above the threshold, no box, no id
    assert drawn[20, 30:130].any() and drawn[110, 30:130].any()  # box
    assert drawn[5:20, 30:60].any()  # track id above the box


def test_atomic_writer_commits_complete_files(tmp_path):
    frames = [np.full((24, 32, 3), 40 * i, np.uint8) for i in range(3)]
    for ext in ('.mp4', '.avi', '.gif'):
        path = str(tmp_path / f'clip{ext}')
        with AtomicVideoWriter(path, fps=5) as writer:
            for frame in frames:
                writer.write(frame)
                assert not os.path.exists(path)
        assert writer.num_frames == 3
    assert sorted(os.listdir(tmp_path)) == ['clip.avi', 'clip.gif', 'clip.mp4']
    capture = cv2.VideoCapture(str(tmp_path / 'clip.mp4'))
    count = 0
    while capture.read()[0]:
        count += 1
    assert count == 3


def test_atomic_writer_leaves_nothing_on_error(tmp_path):
    path = str(tmp_path / 'clip.mp4')
    with pytest.raises(RuntimeError, match='stop'):
        with AtomicVideoWriter(path) as writer:
            writer.write(np.zeros((24, 32, 3), np.uint8))
            raise RuntimeError('stop')
    assert os.listdir(tmp_path) == []
    with pytest.raises(ValueError, match='32x24'):
        with AtomicVideoWriter(path) as writer:
            writer.write(np.zeros((24, 32, 3), np.uint8))
            writer.write(np.zeros((20, 32, 3), np.uint8))
    assert os.listdir(tmp_path) == []
    with pytest.raises(ValueError, match='extensions'):
        AtomicVideoWriter(str(tmp_path / 'clip.mkv'))
    with pytest.raises(ValueError, match='no frame'):
        with AtomicVideoWriter(path):
            pass
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize('mode', ['keypoint_x_bbox', 'keypoint'])
def test_prediction_writer(posetrack_meta, tmp_path, mode):
    writer = PoseTrack18PredictionWriter(posetrack_meta, joint_score_mode=mode)
    keypoints = np.arange(2 * 17 * 2, dtype=np.float32).reshape(2, 17, 2)
    scores = np.linspace(0.1, 0.9, 34, dtype=np.float32).reshape(2, 17)
    writer.add(
        frame_sample(keypoints, scores, [[0, 0, 10, 20], [5, 5, 9, 9]],
                     [4, 9]))
    writer.add(
        frame_sample(
            np.zeros((0, 17, 2)), np.zeros((0, 17)), [], [], img_id=8))
    path = writer.dump(str(tmp_path / 'sub' / 'v.json'))
    with open(path) as f:
        content = json.load(f)
    assert [img['id'] for img in content['images']] == [7, 8]
    assert content['images'][0]['file_name'] == 'images/val/v/000007.jpg'
    assert content['categories'][0]['keypoints'][:3] == [
        'nose', 'head_bottom', 'head_top'
    ]
    first, second = content['annotations']
    factor = 0.5 if mode == 'keypoint_x_bbox' else 1.0
    np.testing.assert_allclose(first['scores'], scores[0] * factor, rtol=1e-6)
    np.testing.assert_allclose(
        np.array(first['keypoints']).reshape(17, 3)[:, :2], keypoints[0])
    assert (first['track_id'], second['track_id']) == (4, 9)
    assert second['bbox'] == [5.0, 5.0, 4.0, 4.0]
    frames = load_posetrack_video(content, path, require_head_box=False)
    assert [len(f.people) for f in frames] == [2, 0]
    assert frames[0].people[0].num_points == 15  # ears are not scored
    with pytest.raises(ValueError, match='joint_score_mode'):
        PoseTrack18PredictionWriter(posetrack_meta, joint_score_mode='max')
