"""Greedy IoU tracking."""
import numpy as np
import pytest
from mmengine.structures import InstanceData
from mmpose.apis import _track_by_iou
from mmpose.structures import PoseDataSample

from famipose_mmpose.apis.tracking import IoUTracker, bbox_iou_matrix


def test_iou_matrix():
    a = np.array([[0, 0, 10, 10], [0, 0, 0, 0]])
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]])
    iou = bbox_iou_matrix(a, b)
    assert iou.shape == (2, 3)
    np.testing.assert_allclose(iou[0], [1.0, 50 / 150, 0.0])
    np.testing.assert_allclose(iou[1], [0, 0, 0])  # empty box: no NaN


def test_tracks_continue_and_start():
    tracker = IoUTracker(iou_thr=0.3)
    first = tracker.update(np.array([[0, 0, 10, 20], [50, 0, 60, 20]]))
    assert first.tolist() == [0, 1]
    # both people move a little, listed in the other order; a third appears
    second = tracker.update(
        np.array([[52, 1, 62, 21], [1, 0, 11, 20], [100, 0, 110, 20]]))
    assert second.tolist() == [1, 0, 2]
    # an empty frame ends every track
    assert tracker.update(np.zeros((0, 4))).tolist() == []
    assert tracker.update(np.array([[0, 0, 10, 20]])).tolist() == [3]
    tracker.reset()
    assert tracker.update(np.array([[0, 0, 10, 20]])).tolist() == [0]


def test_one_previous_person_is_taken_once():
    tracker = IoUTracker(iou_thr=0.1)
    tracker.update(np.array([[0, 0, 10, 10]]))
    ids = tracker.update(np.array([[0, 0, 10, 10], [1, 0, 11, 10]]))
    assert ids.tolist() == [0, 1]


def test_iou_threshold_validation():
    with pytest.raises(ValueError, match='iou_thr'):
        IoUTracker(iou_thr=1.5)


def _mmpose_track(frames, thr):
    """Track ids given by mmpose's ``_track_by_iou`` helper, frame by frame
    (new ids numbered in order of appearance, as the video demos do)."""
    last, next_id, out = [], 0, []
    for boxes in frames:
        current, ids = [], []
        for box in boxes:
            sample = PoseDataSample()
            sample.pred_instances = InstanceData(bboxes=box[None])
            track_id, last, _ = _track_by_iou(sample, last, thr)
            if track_id == -1:
                track_id = next_id
                next_id += 1
            sample.set_field(track_id, 'track_id')
            current.append(sample)
            ids.append(track_id)
        last = current
        out.append(ids)
    return out


def test_same_ids_as_mmpose_helper():
    rng = np.random.default_rng(0)
    frames = []
    centers = rng.uniform(20, 80, size=(5, 2))
    for _ in range(12):
        centers = centers + rng.normal(0, 4, size=centers.shape)
        keep = rng.random(len(centers)) > 0.2
        boxes = np.concatenate([centers - 8, centers + 8], axis=1)[keep]
        frames.append(boxes[rng.permutation(len(boxes))])
    tracker = IoUTracker(iou_thr=0.3)
    ours = [tracker.update(boxes).tolist() for boxes in frames]
    assert ours == _mmpose_track(frames, 0.3)
    assert max(max(ids) for ids in ours if ids) >= 5  # some tracks restart


def test_people_are_tracked_as_frames_are_read_ahead_of_the_key_frame():
    """Under a window buffer, when key frame t comes out the people of
    frame t + 2 are known, with the ids a tracker fed frame by frame
    gives."""
    from famipose_mmpose.apis import Frame, FrameWindowBuffer, TrackedFrames
    boxes = [np.array([[0, 0, 10, 20], [50, 0, 60, 20]]) + [t, 0, t, 0]
             for t in range(5)]
    frames = [Frame(t, f'{t}.jpg', np.zeros((4, 4, 3), np.uint8), None)
              for t in range(5)]
    tracked = TrackedFrames(
        frames, lambda frame: (boxes[frame.index], np.ones(2)),
        IoUTracker(0.3))
    expected = IoUTracker(0.3)
    ids = [expected.update(b) for b in boxes]
    for sample in FrameWindowBuffer(tracked, [-2, -1, 1, 2]):
        t = sample.key.index
        for index in sample.frame_indices:
            people = tracked.people(index)
            np.testing.assert_array_equal(people.track_ids, ids[index])
            np.testing.assert_allclose(people.bboxes, boxes[index])
        assert people.has(int(ids[t][0]))
        tracked.forget_before(t - 1)
        assert tracked.num_held <= 5
    with pytest.raises(KeyError):
        tracked.people(0)
