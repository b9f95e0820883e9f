# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Backbone-feature reuse for FAMI-Pose's ``'own_box'`` mode on a video.

In the reuse mode (``FAMIPose(supporting_crops='own_box')``) a supporting
frame is cropped with the person's own box in that frame, so the crop of a
person in a frame is the same whichever key frame needs it: it goes through
the backbone once (:class:`CropFeatureCache`) and serves every key frame
whose window holds that frame (up to ``1 + len(offsets)`` of them).
:func:`predict_with_cached_crops` assembles a key frame's window from the
cache and runs the temporal part of the model (crop alignment, GTM, LCM,
aggregation, head) on it.
"""
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.dataset import Compose, pseudo_collate
from mmpose.datasets.transforms import TopdownAffine
from mmpose.structures import PoseDataSample
from mmpose.structures.bbox import get_udp_warp_matrix, get_warp_matrix
from torch import Tensor, nn

from ..models.pose_estimators.famipose import crop_warps_to_theta, mirror_crop_warps
from .tracking import FramePeople

#: A crop: ``(track id, frame index, frame index of its box)``; an own-box
#: crop has its box from its own frame, a fallback crop the key frame's box.
CropKey = Tuple[int, int, int]


class CropFeatures(NamedTuple):
    """The backbone feature of one person crop.

    Attributes:
        feat (Tensor): (C, h, w) feature of the crop.
        flipped (Tensor, optional): (C, h, w) feature of the mirrored crop
            (``flip_test``), else ``None``.
        warp (np.ndarray): (3, 3) image -> crop pixel map.
        data_sample (PoseDataSample): The packed crop (its ``input_center``,
            ``input_scale``, ``input_size`` decode keypoints into the image).
    """
    feat: Tensor
    flipped: Optional[Tensor]
    warp: np.ndarray
    data_sample: PoseDataSample


def _affine_of(pipeline: Compose) -> TopdownAffine:
    for transform in pipeline.transforms:
        if isinstance(transform, TopdownAffine):
            return transform
    raise ValueError(
        'The pose config\'s test pipeline has no TopdownAffine (or '
        'VideoTopdownAffine): the crop geometry of the reuse mode is '
        'unknown.')


class CropFeatureCache:
    """Backbone features of person crops, each computed once.

    Args:
        model (nn.Module): A FAMI-Pose model (``extract_crop_feat``) in eval
            mode.
        pipeline (Compose): The config's crop pipeline
            (:func:`~famipose_mmpose.model_inspection.build_crop_pipeline`), used on single
            images.
        batch_size (int, optional): Most crops per backbone pass; ``None``:
            all new crops of a key frame at once. Defaults to ``None``.
    """

    def __init__(self,
                 model: nn.Module,
                 pipeline: Compose,
                 batch_size: Optional[int] = None) -> None:
        self.model = model
        self.pipeline = pipeline
        self.batch_size = batch_size
        self.affine = _affine_of(pipeline)
        self.flip = bool(model.test_cfg.get('flip_test', False))
        self._entries: Dict[CropKey, CropFeatures] = {}
        #: crops that went through the backbone so far (mirrored crops of
        #: ``flip_test`` not counted apart)
        self.crops_computed = 0

    def __contains__(self, key: CropKey) -> bool:
        return key in self._entries

    def __getitem__(self, key: CropKey) -> CropFeatures:
        return self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)

    def compute(self, requests: Dict[CropKey, dict]) -> None:
        """Run the backbone on the crops not cached yet.

        Args:
            requests (dict): Crop key -> pipeline input (``img`` one image,
                ``bbox``, ``bbox_score``, ...).
        """
        missing = [key for key in requests if key not in self._entries]
        step = len(missing) if self.batch_size is None else self.batch_size
        for start in range(0, len(missing), max(step, 1)):
            keys = missing[start:start + step]
            data = self.model.data_preprocessor(
                pseudo_collate([self.pipeline(requests[k]) for k in keys]),
                False)
            with torch.no_grad():
                feats = self.model.extract_crop_feat(data['inputs'])
                flipped = self.model.extract_crop_feat(
                    data['inputs'].flip(-1)) if self.flip else None
            for i, (key, sample) in enumerate(zip(keys,
                                                  data['data_samples'])):
                self._entries[key] = CropFeatures(
                    feats[i], None if flipped is None else flipped[i],
                    self._image_to_crop(sample), sample)
            self.crops_computed += len(keys)

    def forget_before(self, frame_index: int) -> None:
        """Drop the crops of the frames before ``frame_index``."""
        for key in [k for k in self._entries if k[1] < frame_index]:
            del self._entries[key]

    def _image_to_crop(self, sample: PoseDataSample) -> np.ndarray:
        """(3, 3) image -> crop matrix of a packed crop (the pipeline's own
        ``TopdownAffine`` matrix: no rotation at test time)."""
        make = get_udp_warp_matrix if self.affine.use_udp else get_warp_matrix
        warp = make(
            np.asarray(sample.input_center, dtype=np.float32),
            np.asarray(sample.input_scale, dtype=np.float32),
            0.,
            output_size=tuple(self.affine.input_size))
        return np.vstack([warp, [0., 0., 1.]])


def window_crop_keys(track_id: int, key_index: int,
                     window_indices: Sequence[int],
                     people_of: Callable[[int], FramePeople]) -> List[CropKey]:
    """The crops of one person's window: its own box in every frame of the
    window where its track has one, else the key frame's box (fallback).

    Args:
        track_id (int): The person's track.
        key_index (int): The key frame.
        window_indices (Sequence[int]): The T frame indices, key first.
        people_of (Callable[[int], FramePeople]): Frame index -> its people.

    Returns:
        list[CropKey]: T crop keys, key first.
    """
    return [(track_id, index,
             index if people_of(index).has(track_id) else key_index)
            for index in window_indices]


def predict_with_cached_crops(model: nn.Module, cache: CropFeatureCache,
                              keys: Sequence[Sequence[CropKey]]
                              ) -> List[PoseDataSample]:
    """FAMI-Pose's temporal part and head on cached crop features.

    Args:
        model (nn.Module): The FAMI-Pose model (``'own_box'`` mode).
        cache (CropFeatureCache): Holds every crop of ``keys``.
        keys (Sequence[Sequence[CropKey]]): Per person, the T crops of its
            window (:func:`window_crop_keys`), key crop first.

    Returns:
        list[PoseDataSample]: One per person, keypoints in image pixels.
    """
    if not keys:
        return []
    crops = [[cache[k] for k in person] for person in keys]
    crop_warps = torch.as_tensor(
        np.stack([[
            np.eye(3)[:2] if np.array_equal(crop.warp, window[0].warp) else
            (crop.warp @ np.linalg.inv(window[0].warp))[:2] for crop in window
        ] for window in crops]),
        dtype=torch.float32)
    feats = torch.stack([torch.stack([c.feat for c in w]) for w in crops])
    crop_h, crop_w = crops[0][0].data_sample.input_size[::-1]
    thetas = crop_warps_to_theta(crop_warps[:, 1:], (crop_h, crop_w),
                                 feats.shape[-2:]).to(feats.device)
    samples = [window[0].data_sample for window in crops]
    with torch.no_grad():
        head_input = (model.fuse_video_feat(feats[:, 0], feats[:, 1:],
                                            thetas).enhanced, )
        if cache.flip:
            flipped = torch.stack(
                [torch.stack([c.flipped for c in w]) for w in crops])
            mirrored = crop_warps_to_theta(
                mirror_crop_warps(crop_warps[:, 1:], crop_w),
                (crop_h, crop_w), feats.shape[-2:]).to(feats.device)
            head_input = [
                head_input,
                (model.fuse_video_feat(flipped[:, 0], flipped[:, 1:],
                                       mirrored).enhanced, )
            ]
        return model.predict_from_feats(head_input, samples)
