# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Greedy IoU tracking of person boxes from frame to frame."""
import numpy as np


def bbox_iou_matrix(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """IoU of every pair of boxes.

    Args:
        boxes_a (np.ndarray): (N, 4) boxes ``x1, y1, x2, y2``.
        boxes_b (np.ndarray): (M, 4) boxes ``x1, y1, x2, y2``.

    Returns:
        np.ndarray: (N, M) IoU; 0 where the union is empty.
    """
    a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(boxes_b, dtype=np.float64).reshape(-1, 4)
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(bottom_right - top_left, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


class IoUTracker:
    """Greedy IoU tracker, the rule of mmpose's ``_track_by_iou``.

    The people of a new frame are visited in the given order (detection
    order: highest score first). Each takes the track of the not yet matched
    person of the previous frame whose box overlaps its own the most, when
    that IoU is above ``iou_thr``; otherwise it starts a new track. Only the
    previous frame is looked at (a person missed in one frame gets a new
    id), as in mmpose's video demos. Track ids are 0, 1, 2, ... in order of
    appearance.

    Args:
        iou_thr (float): Minimum IoU (exclusive) to continue a track.
            Defaults to 0.3.
    """

    def __init__(self, iou_thr: float = 0.3) -> None:
        if not 0.0 <= float(iou_thr) <= 1.0:
            raise ValueError(f'IoUTracker: iou_thr={iou_thr!r} must be in '
                             '[0, 1].')
        self.iou_thr = float(iou_thr)
        self.reset()

    def reset(self) -> None:
        """Forget all tracks (call between videos)."""
        self._last_boxes = np.zeros((0, 4))
        self._last_ids = np.zeros(0, dtype=np.int64)
        self._next_id = 0

    def update(self, bboxes: np.ndarray) -> np.ndarray:
        """Assign track ids to the people of the next frame.

        Args:
            bboxes (np.ndarray): (N, 4) boxes ``x1, y1, x2, y2`` of the frame,
                in the order to match them.

        Returns:
            np.ndarray: (N, ) int64 track ids.
        """
        bboxes = np.asarray(bboxes, dtype=np.float64).reshape(-1, 4)
        ious = bbox_iou_matrix(bboxes, self._last_boxes)
        available = np.ones(len(self._last_boxes), dtype=bool)
        track_ids = np.empty(len(bboxes), dtype=np.int64)
        for i in range(len(bboxes)):
            best = -1
            if available.any():
                candidates = np.where(available, ious[i], -1.0)
                best = int(np.argmax(candidates))
            if best >= 0 and ious[i, best] > self.iou_thr:
                track_ids[i] = self._last_ids[best]
                available[best] = False
            else:
                track_ids[i] = self._next_id
                self._next_id += 1
        self._last_boxes = bboxes
        self._last_ids = track_ids
        return track_ids
