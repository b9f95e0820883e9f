# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Overlap of person boxes."""
import numpy as np

__all__ = ['bbox_iou_matrix']


def bbox_iou_matrix(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """IoU of every pair of boxes.

    Args:
        boxes_a (np.ndarray): (N, 4) boxes ``x1, y1, x2, y2``.
        boxes_b (np.ndarray): (M, 4) boxes ``x1, y1, x2, y2``.

    Returns:
        np.ndarray: (N, M) float64 IoU; 0 where the union is empty.
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
