# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Sub-JHMDB as a top-down video dataset with a supporting-frame window."""
import copy
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np
from mmpose.registry import DATASETS

from .frame_window import FrameNaming
from .posetrack_video_dataset import PoseTrackVideoDataset


@DATASETS.register_module()
class JhmdbVideoDataset(PoseTrackVideoDataset):
    """Sub-JHMDB top-down video dataset with a supporting-frame window.

    Used by FAMI-Pose (Liu et al., "Temporal Feature Alignment and Mutual
    Information Maximization for Video-Based Human Pose Estimation", CVPR
    2022) for its Sub-JHMDB results (PCK@0.2, mean of the 3 splits).
    JHMDB: Jhuang et al., "Towards understanding action recognition",
    ICCV 2013.

    The window, border, missing-frame and packing behaviour are those of
    :class:`PoseTrackVideoDataset`; the annotation layout is mmpose's JHMDB
    one (read by mmpose's ``JhmdbDataset``): one COCO-style json per split
    and phase, ``annotations/Sub{1,2,3}_{train,test}.json``, 15 joints
    (metainfo: mmpose's ``configs/_base_/datasets/jhmdb.py``), images
    ``Rename_Images/<action>/<clip>/00001.png`` (frames ``%05d.png`` from 1,
    detected from the digit count), 1-based (MATLAB) coordinates converted to
    0-based as mmpose's ``JhmdbDataset`` does. The number of frames of a clip
    is the image entry's ``nframes``; without it, the largest frame index of
    the clip's images in the annotation file (Sub-JHMDB annotates every
    frame).

    Evaluate with mmpose's ``JhmdbPCKAccuracy`` (``thr=0.2,
    norm_item=['bbox', 'torso']``): the packed data samples carry the
    ground-truth ``keypoints``, ``keypoints_visible`` and ``bboxes`` it needs.

    Example::

        dataset = dict(
            type='JhmdbVideoDataset',
            data_root='data/jhmdb/',
            split=1,                        # -> annotations/Sub1_train.json
            data_prefix=dict(img=''),
            frame_offsets=[-2, -1, 1, 2],
            pipeline=train_pipeline)

    Args:
        ann_file (str): Annotation file; derived from ``split`` when empty.
            Default: ``''``.
        split (int, optional): Sub-JHMDB split 1, 2 or 3: ``ann_file``
            becomes ``annotations/Sub{split}_train.json`` (or ``_test``
            with ``test_mode=True``). Give ``split`` or ``ann_file``, not
            both. Default: ``None``.
        bbox_file (str, optional): Person detections (test only), as in
            :class:`PoseTrackVideoDataset`. Default: ``None``.
        det_bbox_thr (float): Detection score threshold. Default: ``0.0``.
        frame_offsets (Sequence[int]): Supporting-frame offsets.
            Default: ``(-2, -1, 1, 2)``.
        frame_sampling (str): ``'fixed'`` or ``'random'``.
            Default: ``'fixed'``.
        frame_range (Sequence[int], optional): ``(low, high)`` for
            ``'random'``. Default: ``None``.
        border_policy (str): ``'fami'``, ``'key'`` or ``'clip'``.
            Default: ``'fami'``.
        missing_frame (str): ``'error'`` or ``'nearest'``.
            Default: ``'error'``.
        frame_name_format (str, optional): Frame file name pattern; detected
            (``'%05d.png'``) when ``None``. Default: ``None``.
        first_frame_index (int, optional): First frame index; 1 for 5-digit
            names when ``None``. Default: ``None``.
        check_videos_on_load (bool): Check the clip folders when loading.
            Default: ``True``.
        backend_args (dict, optional): File backend arguments.
            Default: ``None``.
        data_mode (str): Only ``'topdown'``. Default: ``'topdown'``.
        metainfo (dict, optional): Meta information; JHMDB's by default.
            Default: ``None``.
        data_root (str, optional): Data root. Default: ``None``.
        data_prefix (dict, optional): Image path prefix.
            Default: ``dict(img='')``.
        filter_cfg (dict, optional): Data filter config. Default: ``None``.
        indices (int | Sequence[int], optional): Sample subset.
            Default: ``None``.
        serialize_data (bool): Serialize the data list. Default: ``True``.
        pipeline (list, optional): Processing pipeline. Default: ``None``.
        test_mode (bool): Test phase. Default: ``False``.
        lazy_init (bool): Defer loading. Default: ``False``.
        max_refetch (int): Refetch limit. Default: ``1000``.
        sample_interval (int): Image id sampling interval. Default: ``1``.
    """

    METAINFO: dict = dict(from_file='configs/_base_/datasets/jhmdb.py')

    #: Sub-JHMDB frames are ``%05d.png`` from 1.
    FIRST_INDEX_BY_DIGITS: Dict[int, int] = {5: 1}

    def __init__(self,
                 ann_file: str = '',
                 split: Optional[int] = None,
                 bbox_file: Optional[str] = None,
                 det_bbox_thr: float = 0.0,
                 frame_offsets: Sequence[int] = (-2, -1, 1, 2),
                 frame_sampling: str = 'fixed',
                 frame_range: Optional[Sequence[int]] = None,
                 border_policy: str = 'fami',
                 missing_frame: str = 'error',
                 frame_name_format: Optional[str] = None,
                 first_frame_index: Optional[int] = None,
                 check_videos_on_load: bool = True,
                 backend_args: Optional[dict] = None,
                 data_mode: str = 'topdown',
                 metainfo: Optional[dict] = None,
                 data_root: Optional[str] = None,
                 data_prefix: Optional[dict] = None,
                 filter_cfg: Optional[dict] = None,
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 serialize_data: bool = True,
                 pipeline: Optional[List[Union[dict, Callable]]] = None,
                 test_mode: bool = False,
                 lazy_init: bool = False,
                 max_refetch: int = 1000,
                 sample_interval: int = 1) -> None:
        if split is not None:
            if ann_file:
                raise ValueError(
                    f'{self.__class__.__name__}: give either split={split!r}'
                    f' or ann_file={ann_file!r}, not both.')
            if isinstance(split, bool) or split not in (1, 2, 3):
                raise ValueError(
                    f'{self.__class__.__name__}: split={split!r} is not a '
                    'Sub-JHMDB split; use 1, 2 or 3.')
            phase = 'test' if test_mode else 'train'
            ann_file = f'annotations/Sub{split}_{phase}.json'
        self.split = split
        self._clip_lengths: Optional[Dict[str, int]] = None
        super().__init__(
            ann_file=ann_file,
            bbox_file=bbox_file,
            det_bbox_thr=det_bbox_thr,
            frame_offsets=frame_offsets,
            frame_sampling=frame_sampling,
            frame_range=frame_range,
            border_policy=border_policy,
            missing_frame=missing_frame,
            frame_name_format=frame_name_format,
            first_frame_index=first_frame_index,
            check_videos_on_load=check_videos_on_load,
            backend_args=backend_args,
            data_mode=data_mode,
            metainfo=metainfo,
            data_root=data_root,
            data_prefix=data_prefix,
            filter_cfg=filter_cfg,
            indices=indices,
            serialize_data=serialize_data,
            pipeline=pipeline,
            test_mode=test_mode,
            lazy_init=lazy_init,
            max_refetch=max_refetch,
            sample_interval=sample_interval)

    def load_data_list(self) -> List[dict]:
        """Load the samples; clip lengths are re-read from each load."""
        self._clip_lengths = None
        try:
            return super().load_data_list()
        finally:
            self._clip_lengths = None

    def _video_length(self, img: dict) -> int:
        """``nframes`` of the image entry, else the largest frame index of
        its clip in the annotation file."""
        if 'nframes' in img:
            return int(img['nframes'])
        if self._clip_lengths is None:
            self._clip_lengths = self._clip_lengths_from_annotations()
        length = self._clip_lengths.get(osp.dirname(img['file_name']))
        if length is None:  # the name gives no index: report missing nframes
            return super()._video_length(img)
        return length

    def _clip_lengths_from_annotations(self) -> Dict[str, int]:
        """Clip folder -> number of frames, from the images of ``ann_file``
        (largest index - first index + 1)."""
        lengths: Dict[str, int] = {}
        for img in self.coco.imgs.values():
            if 'file_name' not in img:
                continue
            try:
                naming = FrameNaming.from_file_name(
                    img['file_name'], self.frame_name_format,
                    self.first_frame_index, self.FIRST_INDEX_BY_DIGITS)
            except ValueError:  # reported when that image is parsed
                continue
            index = naming.index_of(img['file_name'])
            if index is None:
                continue
            folder = osp.dirname(img['file_name'])
            count = index - naming.first_index + 1
            lengths[folder] = max(lengths.get(folder, 0), count)
        return lengths

    def parse_data_info(self, raw_data_info: dict) -> Optional[dict]:
        """Parse one Sub-JHMDB person: as :class:`PoseTrackVideoDataset`,
        then MATLAB 1-based box and keypoint coordinates become 0-based (as
        mmpose's ``JhmdbDataset`` does).

        Args:
            raw_data_info (dict): ``raw_ann_info`` and ``raw_img_info``.

        Returns:
            dict | None: The sample's data info, ``None`` when skipped.
        """
        ann = raw_data_info['raw_ann_info']
        if 'bbox' in ann and len(ann['bbox']) == 4:
            shifted = dict(ann)
            x, y, w, h = ann['bbox']
            shifted['bbox'] = [x - 1, y - 1, w, h]
            raw_data_info = dict(raw_data_info, raw_ann_info=shifted)
        data_info = super().parse_data_info(raw_data_info)
        if data_info is None:
            return None
        data_info['keypoints'] = data_info['keypoints'] - 1
        data_info['num_keypoints'] = int(
            np.count_nonzero(data_info['keypoints'].max(axis=2)))
        data_info['raw_ann_info'] = copy.deepcopy(ann)
        return data_info
