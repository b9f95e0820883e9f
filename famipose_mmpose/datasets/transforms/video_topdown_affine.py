# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Crop every frame of a video sample with its own box, one augmentation for
all frames."""
from typing import List, Optional, Tuple

import cv2
import numpy as np
from mmpose.datasets.transforms import TopdownAffine
from mmpose.registry import TRANSFORMS
from mmpose.structures.bbox import flip_bbox, get_udp_warp_matrix, get_warp_matrix


def _as_3x3(mat: np.ndarray) -> np.ndarray:
    return np.vstack([mat, [0., 0., 1.]])


@TRANSFORMS.register_module()
class VideoTopdownAffine(TopdownAffine):
    """mmpose's ``TopdownAffine`` that crops each frame of a video sample
    with that frame's own person box (FAMI-Pose's reuse mode).

    Part of the FAMI-Pose data path (Liu et al., "Temporal Feature Alignment
    and Mutual Information Maximization for Video-Based Human Pose
    Estimation", CVPR 2022). Without ``results['frame_bboxes']`` it is the
    stock transform: one matrix from the key box, applied to all T frames
    (the paper's crops). With ``frame_bboxes`` ((T, 4) ``x1, y1, x2, y2`` in
    image pixels, key box first, as written by ``PoseTrackVideoDataset(
    supporting_boxes='track')``) frame t is cropped around its own box, with
    the SAME augmentation as the key box:

    - a flip (``results['flip']``, drawn by ``RandomFlip``) mirrors every
      frame's box in the image;
    - the change that ``RandomHalfBody``/``RandomBBoxTransform`` made to the
      key box (centre moved by ``d``, scale multiplied by ``r``) is applied
      to every box relative to its own size: centre moved by
      ``d * size_t / size_key``, scale ``scale_key' * size_t / size_key``
      (for ``RandomBBoxTransform`` this is exactly its draw applied to each
      box: ``centre + offset * scale``, ``scale * factor``);
    - the same rotation (``bbox_rotation``) turns every crop about its own
      centre; each scale gets the stock aspect-ratio fix.

    A frame whose box equals the key box gets exactly the key crop's matrix.
    The key crop, the keypoints and ``input_center``/``input_scale`` are the
    stock transform's. ``results['frame_crop_warps']`` ((T, 2, 3) float32)
    records, for each frame, the affine map from key-crop pixel coordinates
    to that frame's crop pixel coordinates (the identity for the key frame
    and for every frame cut with the key box); FAMI-Pose's ``'own_box'`` mode
    resamples the supporting features with it.

    Required Keys:

        - img (list of T arrays when ``frame_bboxes`` is given)
        - bbox_center, bbox_scale, bbox_rotation (optional)
        - frame_bboxes (optional), flip, flip_direction (optional)

    Added Keys (with ``frame_bboxes``):

        - frame_crop_warps

    Args:
        input_size (tuple[int, int]): Crop size ``(w, h)``.
        use_udp (bool): Unbiased data processing (the stock option).
            Default: ``False``.
    """

    def transform(self, results: dict) -> Optional[dict]:
        """Crop the frames (see the class docs).

        Args:
            results (dict): The result dict.

        Returns:
            dict: The result dict.
        """
        boxes = results.get('frame_bboxes')
        if boxes is None:
            return super().transform(results)
        frames = results['img']
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        if not isinstance(frames, (list, tuple)) or len(frames) != len(boxes):
            count = len(frames) if isinstance(frames, (list, tuple)) else 1
            raise ValueError(
                f'{self.__class__.__name__}: frame_bboxes has {len(boxes)} '
                f'boxes for {count} frame(s); give one box per frame (key '
                'first), after LoadVideoFrames.')
        centers, scales = self._frame_boxes(results, boxes)
        results['img'] = frames[0]
        results = super().transform(results)
        key_center = results['input_center']
        key_scale = results['input_scale']
        rotation = results['bbox_rotation'][0] \
            if 'bbox_rotation' in results else 0.
        key_warp = self._warp_matrix(key_center, key_scale, rotation)
        w, h = self.input_size
        crops: List[np.ndarray] = [results['img']]
        crop_warps = [np.eye(3)[:2]]
        key_inverse = np.linalg.inv(_as_3x3(key_warp))
        for t in range(1, len(frames)):
            if centers[t] is None:  # the key box: the key crop's matrix
                warp = key_warp
                crop_warps.append(np.eye(3)[:2])
            else:
                scale = self._fix_aspect_ratio(
                    scales[t][None], aspect_ratio=w / h)[0]
                warp = self._warp_matrix(centers[t], scale, rotation)
                crop_warps.append((_as_3x3(warp) @ key_inverse)[:2])
            crops.append(
                cv2.warpAffine(
                    frames[t], warp, (int(w), int(h)),
                    flags=cv2.INTER_LINEAR))
        results['img'] = crops
        results['frame_crop_warps'] = np.stack(crop_warps).astype(np.float32)
        return results

    def _warp_matrix(self, center: np.ndarray, scale: np.ndarray,
                     rotation: float) -> np.ndarray:
        """The stock image -> crop matrix of one box."""
        make = get_udp_warp_matrix if self.use_udp else get_warp_matrix
        return make(center, scale, rotation, output_size=self.input_size)

    @staticmethod
    def _frame_boxes(
        results: dict, boxes: np.ndarray
    ) -> Tuple[List[Optional[np.ndarray]], List[Optional[np.ndarray]]]:
        """Centre and scale (before the aspect-ratio fix) of every frame's
        box after the key box's augmentation; ``None`` for the frames whose
        box is the key box."""
        if results.get('flip'):
            img_h, img_w = results['img_shape'][:2]
            boxes = flip_bbox(
                boxes, (img_w, img_h),
                bbox_format='xyxy',
                direction=results['flip_direction'])
        sizes = np.maximum(boxes[:, 2:] - boxes[:, :2], 1e-3)
        box_centers = (boxes[:, :2] + boxes[:, 2:]) / 2
        moved = results['bbox_center'][0] - box_centers[0]
        key_scale = results['bbox_scale'][0]
        same = np.all(boxes == boxes[:1], axis=1)
        centers: List[Optional[np.ndarray]] = []
        scales: List[Optional[np.ndarray]] = []
        for t in range(len(boxes)):
            if same[t]:
                centers.append(None)
                scales.append(None)
                continue
            ratio = sizes[t] / sizes[0]
            centers.append(box_centers[t] + moved * ratio)
            scales.append(key_scale * ratio)
        return centers, scales
