# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Greedy IoU tracking of person boxes from frame to frame, and a frame
stream that detects and tracks people as frames are read (ahead of the key
frame that needs them)."""
from typing import Callable, Dict, Iterable, Iterator, NamedTuple, Tuple

import numpy as np

from ..utils.boxes import bbox_iou_matrix
from .frame_buffer import Frame

__all__ = ['IoUTracker', 'bbox_iou_matrix', 'FramePeople', 'TrackedFrames']


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


class FramePeople(NamedTuple):
    """The tracked people of one frame.

    Attributes:
        bboxes (np.ndarray): (N, 4) float32 boxes ``x1, y1, x2, y2``.
        scores (np.ndarray): (N, ) float32 box scores.
        track_ids (np.ndarray): (N, ) int64 track ids (unique in a frame).
    """
    bboxes: np.ndarray
    scores: np.ndarray
    track_ids: np.ndarray

    def box_of(self, track_id: int) -> Tuple[np.ndarray, float]:
        """Box and score of track ``track_id``; ``KeyError`` if absent."""
        match = np.flatnonzero(self.track_ids == track_id)
        if not len(match):
            raise KeyError(track_id)
        return self.bboxes[match[0]], float(self.scores[match[0]])

    def has(self, track_id: int) -> bool:
        """Whether track ``track_id`` has a box in this frame."""
        return bool(np.any(self.track_ids == track_id))


class TrackedFrames:
    """Detect and track the people of every frame of a stream as it is read.

    Iterating passes the frames through unchanged; before a frame is passed
    on, ``detect(frame)`` gives its boxes and the tracker its track ids, kept
    in :meth:`people` until :meth:`forget_before` drops them. Placed under a
    :class:`~.frame_buffer.FrameWindowBuffer`, the people of every frame of a
    key frame's window are known when the key frame comes out of the buffer
    (the buffer reads ``max(offsets)`` frames ahead), i.e. people are
    detected and tracked ahead of the key frame by the window's reach.

    Args:
        frames (Iterable[Frame]): The frame stream.
        detect (Callable[[Frame], tuple]): Frame -> ``(bboxes (N, 4),
            scores (N, ))``, best first (the order the tracker matches in).
        tracker (IoUTracker): The tracker (fed every frame, in order).
    """

    def __init__(self, frames: Iterable[Frame],
                 detect: Callable[[Frame], Tuple[np.ndarray, np.ndarray]],
                 tracker: IoUTracker) -> None:
        self.frames = frames
        self.detect = detect
        self.tracker = tracker
        self._people: Dict[int, FramePeople] = {}

    def __iter__(self) -> Iterator[Frame]:
        for frame in self.frames:
            bboxes, scores = self.detect(frame)
            bboxes = np.asarray(bboxes, dtype=np.float32).reshape(-1, 4)
            self._people[frame.index] = FramePeople(
                bboxes,
                np.asarray(scores, dtype=np.float32).reshape(-1),
                self.tracker.update(bboxes))
            yield frame

    def people(self, index: int) -> FramePeople:
        """The people of frame ``index`` (already read, not forgotten)."""
        if index not in self._people:
            raise KeyError(
                f'TrackedFrames: frame {index} has not been read yet or has '
                'been forgotten.')
        return self._people[index]

    def forget_before(self, index: int) -> None:
        """Drop the people of the frames before ``index``."""
        for old in [i for i in self._people if i < index]:
            del self._people[old]

    @property
    def num_held(self) -> int:
        """How many frames' people are held (for checks)."""
        return len(self._people)
