# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Sub-JHMDB as a top-down video dataset with a supporting-frame window."""
import copy
import os.path as osp
from typing import Dict, List, Optional

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
        test_mode (bool): Test phase (selects ``_test`` for ``split``).
            Default: ``False``.
        **kwargs: Every other argument of :class:`PoseTrackVideoDataset`
            (window, border, missing-frame, detection and loading options),
            with the same defaults.
    """

    METAINFO: dict = dict(from_file='configs/_base_/datasets/jhmdb.py')

    #: Sub-JHMDB frames are ``%05d.png`` from 1.
    FIRST_INDEX_BY_DIGITS: Dict[int, int] = {5: 1}

    def __init__(self,
                 ann_file: str = '',
                 split: Optional[int] = None,
                 test_mode: bool = False,
                 **kwargs) -> None:
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
        super().__init__(ann_file=ann_file, test_mode=test_mode, **kwargs)

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
