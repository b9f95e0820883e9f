# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""A simulated person detector for the val frames (mmpose's bbox-file format).

Real top-down evaluation on PoseTrack reads person boxes from a detector
(``posetrack18_val_human_detections.json``: a list of ``{"image_id", "bbox"
[x, y, w, h], "score", "category_id": 1}``). This module imitates one: every
visible person gets a box around its drawn silhouette (clipped to the image)
with jittered centre and size; heavily occluded, truncated or blurred people
get lower scores and are missed more often; some frames get false positives
(on the unannotated distant crowd or on background clutter) and some people
a second, partial box.
"""
from typing import Dict, List, Sequence

import numpy as np

from ..utils.boxes import bbox_iou_matrix
from .config import SyntheticConfig
from .render import FrameRender


def _clip_box(box: np.ndarray, width: int, height: int) -> np.ndarray:
    return np.array([
        np.clip(box[0], 0, width),
        np.clip(box[1], 0, height),
        np.clip(box[2], 0, width),
        np.clip(box[3], 0, height)
    ])


def _area(box: np.ndarray) -> float:
    return float(max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1]))


def _to_record(image_id: int, box: np.ndarray, score: float) -> Dict:
    return {
        'image_id': int(image_id),
        'bbox': [
            round(float(box[0]), 2),
            round(float(box[1]), 2),
            round(float(box[2] - box[0]), 2),
            round(float(box[3] - box[1]), 2)
        ],
        'score': round(float(score), 4),
        'category_id': 1
    }


def _jitter(rng: np.random.Generator, box: np.ndarray,
            strength: float) -> np.ndarray:
    """Move and rescale an ``[x1, y1, x2, y2]`` box at random."""
    size = box[2:] - box[:2]
    center = (box[:2] + box[2:]) / 2 + rng.normal(0, 0.04 * strength,
                                                  2) * size
    size = size * np.exp(rng.normal(0, 0.06 * strength, 2))
    return np.concatenate([center - size / 2, center + size / 2])


def simulate_detections(frame: FrameRender, image_id: int,
                        cfg: SyntheticConfig,
                        rng: np.random.Generator) -> List[Dict]:
    """Detector output for one frame, best score first.

    Args:
        frame (FrameRender): The rendered frame and its ground truth.
        image_id (int): PoseTrack image id of the frame.
        cfg (SyntheticConfig): Options (``det_miss_rate``,
            ``det_false_positives``, image size).
        rng (np.random.Generator): Random source (consumed).

    Returns:
        List[dict]: Records ``{"image_id", "bbox" [x, y, w, h], "score",
        "category_id": 1}``.
    """
    width, height = cfg.image_width, cfg.image_height
    blurred = frame.blur_length > 0
    boxes: List[np.ndarray] = []
    scores: List[float] = []
    for person in frame.people:
        full = person.body_box
        clipped = _clip_box(full, width, height)
        full_area = _area(full)
        if full_area <= 0 or _area(clipped) < 0.15 * full_area:
            continue  # (almost) outside the image
        if person.visible_fraction <= 0:
            continue
        hidden = 1.0 - person.visible_fraction
        truncated = 1.0 - _area(clipped) / full_area
        miss = cfg.det_miss_rate * (1.0 + 6.0 * hidden + 4.0 * truncated)
        if rng.random() < min(0.9, miss):
            continue
        box = _clip_box(
            _jitter(rng, clipped, 1.5 if blurred else 1.0), width, height)
        if _area(box) <= 1.0:
            continue
        score = (0.97 - 0.35 * hidden - 0.25 * truncated -
                 (0.05 if blurred else 0.0) + rng.normal(0, 0.04))
        boxes.append(box)
        scores.append(float(np.clip(score, 0.25, 0.999)))
        if rng.random() < 0.08:
            # A second, partial box on the same person (upper body).
            part = clipped.copy()
            part[3] = part[1] + (part[3] - part[1]) * rng.uniform(0.4, 0.6)
            boxes.append(_clip_box(_jitter(rng, part, 1.0), width, height))
            scores.append(float(rng.uniform(0.1, 0.4)))
    for _ in range(int(rng.poisson(cfg.det_false_positives))):
        if frame.crowd_boxes and rng.random() < 0.5:
            bait = frame.crowd_boxes[int(rng.integers(len(
                frame.crowd_boxes)))]
            box = _clip_box(_jitter(rng, bait, 1.5), width, height)
            score = rng.uniform(0.15, 0.6)
        else:
            h = rng.uniform(0.2, 0.6) * height
            w = h * rng.uniform(0.3, 0.7)
            x = rng.uniform(-0.1 * w, width - 0.9 * w)
            y = rng.uniform(-0.1 * h, height - 0.9 * h)
            box = _clip_box(np.array([x, y, x + w, y + h]), width, height)
            score = rng.uniform(0.03, 0.5)
        if _area(box) > 1.0:
            boxes.append(box)
            scores.append(float(score))
    order = np.argsort(-np.array(scores), kind='stable')
    return [_to_record(image_id, boxes[i], scores[i]) for i in order]


def box_iou(box_a: Sequence[float], box_b: Sequence[float]) -> float:
    """IoU of two ``[x, y, w, h]`` boxes (detection-file and annotation
    layout); see :func:`famipose_mmpose.utils.bbox_iou_matrix`."""
    boxes = np.array([box_a, box_b], dtype=np.float64)
    boxes[:, 2:] += boxes[:, :2]
    return float(bbox_iou_matrix(boxes[:1], boxes[1:])[0, 0])
