# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""PoseTrack17/18 as a top-down video dataset: one sample = one person in a
key frame plus a window of supporting frames."""
import copy
import logging
import os.path as osp
from collections import Counter
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.fileio import exists, get_local_path, isdir, list_dir_or_file
from mmengine.fileio import load as load_file
from mmengine.logging import print_log
from mmpose.datasets.datasets.base import BaseCocoStyleDataset
from mmpose.registry import DATASETS
from mmpose.structures.bbox import bbox_xywh2xyxy
from xtcocotools.coco import COCO

from .frame_window import (BORDER_POLICIES, FRAME_SAMPLINGS,
                           MISSING_FRAME_POLICIES, FrameNaming,
                           check_frame_offsets, check_frame_range,
                           nearest_existing_frame, resolve_window,
                           sample_random_offsets)

#: Keys to add to ``PackPoseInputs(meta_keys=...)`` so that the video fields
#: of a sample reach ``data_sample.metainfo`` (and so the model and metrics).
VIDEO_META_KEYS = ('frame_paths', 'frame_offsets', 'frame_indices', 'video',
                   'frame_index', 'nframes')

#: mmpose's default ``PackPoseInputs`` meta keys followed by
#: :data:`VIDEO_META_KEYS`: the recommended ``meta_keys`` of video configs.
RECOMMENDED_VIDEO_META_KEYS = (
    'id', 'img_id', 'img_path', 'category_id', 'crowd_index', 'ori_shape',
    'img_shape', 'input_size', 'input_center', 'input_scale', 'flip',
    'flip_direction', 'flip_indices', 'raw_ann_info',
    'dataset_name') + VIDEO_META_KEYS


@DATASETS.register_module()
class PoseTrackVideoDataset(BaseCocoStyleDataset):
    """PoseTrack17/18 top-down video dataset with a supporting-frame window.

    Used by FAMI-Pose: Liu et al., "Temporal Feature Alignment and Mutual
    Information Maximization for Video-Based Human Pose Estimation",
    CVPR 2022 (arXiv 2203.15227). PoseTrack: Andriluka et al., "PoseTrack: A
    Benchmark for Human Pose Estimation and Tracking", CVPR 2018.

    The annotation file is a COCO-style json merged over videos, as mmpose's
    PoseTrack18 configs use (``annotations/posetrack18_val.json``; build one
    from the official per-video files with ``tools/posetrack_prepare.py
    merge``). Each image entry needs ``file_name`` (e.g.
    ``images/val/012834_mpii_test/000000.jpg``), ``width``, ``height`` and
    ``nframes`` (the number of frames of its video); ``vid_id``,
    ``frame_id`` and ``is_labeled`` are kept when present. Keypoints follow
    PoseTrack's 17-joint order (metainfo: mmpose's
    ``configs/_base_/datasets/posetrack18.py``).

    Frame names: PoseTrack18 uses ``%06d.jpg`` from 0, PoseTrack17 renamed
    the DCPose/PoseWarper way ``%08d.jpg`` from 1. Both are detected from the
    key frame's file name (6 digits -> first frame 0, 8 digits -> first frame
    1); ``frame_name_format``/``first_frame_index`` override the detection.
    A video with ``nframes`` frames spans the indices
    ``[first_frame_index, first_frame_index + nframes - 1]``: mmpose's
    ``PoseTrack18VideoDataset`` clips to ``[0, nframes - 1]`` instead, which
    reads a wrong (or missing) frame at both ends of every PoseTrack17 video.

    A sample holds ``T = 1 + len(frame_offsets)`` frames, KEY FIRST, then the
    supporting frames in the order of ``frame_offsets``. The window is drawn
    in :meth:`get_data_info`, i.e. for every sample every time it is read
    (``frame_sampling='random'`` really is random per sample; mmpose's
    dataset draws once when the annotations are loaded).

    Border policy (supporting frame outside the video), every slot keeping
    its place in the window:

    - ``'fami'`` (default): what the FAMI authors' released dataset
      (``PoseTrack_Alignment._get_spatiotemporal_window``, window
      ``[-2, -1, 1, 2]``) feeds the model. Future side: a missing t+2
      becomes t+1 when t+1 exists, both become the key frame when the key
      frame is the video's last (generally: clamped to the last frame).
      Past side: a missing past frame becomes the key frame (the released
      code apparently means to pad with t-1 like the future side, but its test reads
      the padding list it has just created empty, so it always pads with
      the key frame). One detail is NOT replicated: on the past side the
      released code reverses the padded list, so with only t-2 missing its
      t-2 slot receives t-1 and its t-1 slot the key frame; here the t-2
      slot receives the key frame and the t-1 slot t-1 (same frames, slots
      in temporal order).
    - ``'key'``: replaced by the key frame on both sides.
    - ``'clip'``: clamped to the video's first/last frame on both sides
      (t-1 for a missing t-2; what mmpose clips to, with the right first
      index).

    Missing frame files (inside the video range but not on disk):
    ``missing_frame='error'`` (default) raises :class:`FileNotFoundError`
    naming the video, the frame and the expected path.
    ``missing_frame='nearest'`` uses the nearest existing frame of the same
    video instead, logs it (once per video and frame) and counts it in
    :attr:`missing_frame_count` / :attr:`missing_frame_videos` (per process:
    with dataloader workers each worker keeps its own counts; the sample
    itself records what happened in ``frame_fallbacks``). A missing KEY frame
    always raises.

    Each sample carries mmpose's coco-style top-down keys (``img_id``,
    ``img_path`` = the key frame's path, ``bbox``, ``bbox_score``,
    ``keypoints``, ``keypoints_visible``, ``num_keypoints``, ``area``,
    ``iscrowd``, ``id``, ``category_id``, ``raw_ann_info`` ...) so mmpose's
    ``GetBBoxCenterScale``, ``RandomFlip``, ``RandomHalfBody``,
    ``RandomBBoxTransform``, ``TopdownAffine``, ``GenerateTarget`` and
    ``PackPoseInputs`` work unchanged, plus:

    - ``frame_paths`` (list[str]): the T frame paths, key first;
    - ``frame_offsets`` (list[int]): the T requested offsets, ``0`` first;
    - ``frame_indices`` (list[int]): the T frame indices actually read (after
      the border policy and any missing-frame fallback);
    - ``video`` (str): the key frame's folder as in the annotation file
      (``images/val/012834_mpii_test``; its base name names the per-video
      PoseTrack json); ``vid_id`` when the annotation has one;
    - ``frame_index`` (int), ``nframes`` (int), ``first_frame_index`` (int),
      ``frame_name_format`` (str), ``frame_fallbacks`` (list of
      ``(requested_index, used_index)``).

    Use ``LoadVideoFrames`` to load the T frames, and pack the video fields
    into the data samples with
    ``PackPoseInputs(meta_keys=RECOMMENDED_VIDEO_META_KEYS)``, i.e. mmpose's
    default meta keys plus ``('frame_paths', 'frame_offsets',
    'frame_indices', 'video', 'frame_index', 'nframes')``. With mmpose's
    ``LoadImage`` instead, the same dataset gives single-frame samples.

    Example::

        dataset = dict(
            type='PoseTrackVideoDataset',
            data_root='data/posetrack18/',
            ann_file='annotations/posetrack18_val.json',
            data_prefix=dict(img=''),
            frame_offsets=[-2, -1, 1, 2],
            border_policy='fami',
            test_mode=True,
            bbox_file='data/posetrack18/annotations/'
            'posetrack18_val_human_detections.json',
            det_bbox_thr=0.2,
            pipeline=[
                dict(type='LoadVideoFrames'),
                dict(type='GetBBoxCenterScale'),
                dict(type='TopdownAffine', input_size=(288, 384)),
                dict(type='PackPoseInputs', meta_keys=(
                    'id', 'img_id', 'img_path', 'category_id', 'ori_shape',
                    'img_shape', 'input_size', 'input_center', 'input_scale',
                    'flip', 'flip_direction', 'flip_indices', 'raw_ann_info',
                    'dataset_name', 'frame_paths', 'frame_offsets',
                    'frame_indices', 'video', 'frame_index', 'nframes')),
            ])

    Args:
        ann_file (str): Merged COCO-style annotation file. Default: ``''``.
        bbox_file (str, optional): Person detections in mmpose's format (a
            json list of ``{'image_id', 'bbox': [x, y, w, h], 'score',
            'category_id'}``; ``image_name`` may replace ``image_id``). Used
            instead of the ground-truth boxes; only with ``test_mode=True``.
            Not joined with ``data_root``. Default: ``None``.
        det_bbox_thr (float): Detections with a score below this are dropped
            (FAMI tests with 0.2). Default: ``0.0``.
        frame_offsets (Sequence[int]): Supporting-frame offsets relative to
            the key frame, any count, 0 not allowed. Default:
            ``(-2, -1, 1, 2)``.
        frame_sampling (str): ``'fixed'`` (use ``frame_offsets``) or
            ``'random'`` (per sample, every slot draws an offset of its own
            sign from ``frame_range``; see
            :func:`~famipose_mmpose.datasets.frame_window.sample_random_offsets`).
            Default: ``'fixed'``.
        frame_range (Sequence[int], optional): ``(low, high)`` with
            ``low <= 0 <= high``; required by ``frame_sampling='random'``.
            Default: ``None``.
        border_policy (str): ``'fami'``, ``'key'`` or ``'clip'`` (see
            above). Default: ``'fami'``.
        static_support (bool): The static-support control: every supporting
            frame is the key frame itself (same file, so after the shared
            augmentation every supporting crop equals the key crop pixel for
            pixel), while the window keeps its length and offsets. A
            FAMI-Pose model then has all its layers but no temporal
            information: trained and tested this way it measures what the
            extra capacity and training give without the neighbouring
            frames; a trained model tested this way shows whether the
            temporal part matters on a data set
            (``--cfg-options test_dataloader.dataset.static_support=True``).
            Default: ``False``.
        missing_frame (str): ``'error'`` or ``'nearest'`` (see above).
            Default: ``'error'``.
        frame_name_format (str, optional): printf-style frame file name such
            as ``'%06d.jpg'``; detected from the key frame's name when
            ``None``. Default: ``None``.
        first_frame_index (int, optional): Index of the first frame of every
            video; detected from the digit count when ``None``.
            Default: ``None``.
        check_videos_on_load (bool): Whether to check, when the annotations
            are loaded, that every video folder exists and holds files.
            Default: ``True``.
        backend_args (dict, optional): File backend arguments used to check
            that frames exist (as for ``LoadVideoFrames``). Default: ``None``.
        data_mode (str): Only ``'topdown'`` is supported. Default:
            ``'topdown'``.
        metainfo (dict, optional): Meta information; PoseTrack18's by
            default. Default: ``None``.
        data_root (str, optional): Root joined with ``ann_file`` and
            ``data_prefix``. Default: ``None``.
        data_prefix (dict, optional): Prefix of the image paths.
            Default: ``dict(img='')``.
        filter_cfg (dict, optional): mmpose's data filter config (e.g.
            ``dict(bbox_score_thr=0.2)``). Default: ``None``.
        indices (int | Sequence[int], optional): Use only these samples.
            Default: ``None``.
        serialize_data (bool): Serialize the data list for dataloader
            workers. Default: ``True``.
        pipeline (list, optional): Processing pipeline. Default: ``None``
            (empty).
        test_mode (bool): Test phase. Default: ``False``.
        lazy_init (bool): Defer loading the annotations. Default: ``False``.
        max_refetch (int): Refetch limit when the pipeline returns ``None``.
            Default: ``1000``.
        sample_interval (int): Keep images whose id is a multiple of it.
            Default: ``1``.
    """

    METAINFO: dict = dict(from_file='configs/_base_/datasets/posetrack18.py')

    #: Digit count -> first frame index, used when ``first_frame_index`` is
    #: not given (PoseTrack18 ``%06d`` from 0, PoseTrack17 ``%08d`` from 1).
    FIRST_INDEX_BY_DIGITS: Dict[int, int] = {6: 0, 8: 1}

    def __init__(self,
                 ann_file: str = '',
                 bbox_file: Optional[str] = None,
                 det_bbox_thr: float = 0.0,
                 frame_offsets: Sequence[int] = (-2, -1, 1, 2),
                 frame_sampling: str = 'fixed',
                 frame_range: Optional[Sequence[int]] = None,
                 border_policy: str = 'fami',
                 static_support: bool = False,
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
        name = self.__class__.__name__
        if data_mode != 'topdown':
            raise ValueError(
                f'{name} got data_mode={data_mode!r}: a supporting-frame '
                "window is defined per person box, only 'topdown' is "
                'supported.')
        self.frame_offsets = check_frame_offsets(frame_offsets)
        if frame_sampling not in FRAME_SAMPLINGS:
            raise ValueError(f'{name} got frame_sampling={frame_sampling!r}; '
                             f'use one of {FRAME_SAMPLINGS}.')
        self.frame_sampling = frame_sampling
        if frame_sampling == 'random':
            if frame_range is None:
                raise ValueError(
                    f'{name}: frame_sampling="random" needs frame_range=(low,'
                    ' high), e.g. (-3, 3).')
            self.frame_range: Optional[Tuple[int, int]] = check_frame_range(
                frame_range, self.frame_offsets)
        else:
            self.frame_range = None
        if border_policy not in BORDER_POLICIES:
            raise ValueError(f'{name} got border_policy={border_policy!r}; '
                             f'use one of {BORDER_POLICIES}.')
        self.border_policy = border_policy
        if not isinstance(static_support, bool):
            raise ValueError(f'{name} got static_support={static_support!r};'
                             ' use True or False.')
        self.static_support = static_support
        if missing_frame not in MISSING_FRAME_POLICIES:
            raise ValueError(f'{name} got missing_frame={missing_frame!r}; '
                             f'use one of {MISSING_FRAME_POLICIES}.')
        self.missing_frame = missing_frame
        if frame_name_format is not None:
            # validates the pattern early (first index 0 is a placeholder)
            FrameNaming(frame_name_format, 0)
        if first_frame_index is not None:
            FrameNaming('%d', first_frame_index)
        self.frame_name_format = frame_name_format
        self.first_frame_index = first_frame_index
        self.det_bbox_thr = float(det_bbox_thr)
        self.check_videos_on_load = check_videos_on_load
        self.backend_args = copy.deepcopy(backend_args)
        self.missing_frame_count = 0
        self.missing_frame_videos: Counter = Counter()
        self._logged_fallbacks: set = set()

        super().__init__(
            ann_file=ann_file,
            bbox_file=bbox_file,
            data_mode=data_mode,
            metainfo=metainfo,
            data_root=data_root,
            data_prefix=dict(img='') if data_prefix is None else data_prefix,
            filter_cfg=filter_cfg,
            indices=indices,
            serialize_data=serialize_data,
            pipeline=[] if pipeline is None else pipeline,
            test_mode=test_mode,
            lazy_init=lazy_init,
            max_refetch=max_refetch,
            sample_interval=sample_interval)

    # ------------------------------------------------------------------ #
    # loading
    # ------------------------------------------------------------------ #
    def _open_coco(self) -> COCO:
        """Load ``ann_file`` with xtcocotools, with errors that name it."""
        if not exists(self.ann_file):
            raise FileNotFoundError(
                f'{self.__class__.__name__}: annotation file '
                f'{self.ann_file!r} (ann_file) does not exist; check '
                '`data_root` and `ann_file`.')
        with get_local_path(self.ann_file) as local_path:
            try:
                coco = COCO(local_path)
            except KeyError as err:
                raise KeyError(
                    f'{self.__class__.__name__}: annotation file '
                    f'{self.ann_file!r} has an entry without the field '
                    f'{err.args[0]!r} (every annotation needs "image_id", '
                    '"id"; every image "id").') from err
        if 'images' not in coco.dataset:
            raise KeyError(
                f'{self.__class__.__name__}: annotation file '
                f'{self.ann_file!r} has no "images" field; it must be a '
                'COCO-style json with "images", "annotations" and '
                '"categories" (see tools/posetrack_prepare.py merge).')
        return coco

    def load_data_list(self) -> List[dict]:
        """Load the samples and check the video folders once."""
        data_list = super().load_data_list()
        if self.check_videos_on_load:
            self._check_video_folders(data_list)
        return data_list

    def _load_annotations(self) -> Tuple[List[dict], List[dict]]:
        """Load ground-truth instances from ``ann_file`` (COCO style)."""
        self.coco = self._open_coco()
        if 'categories' in self.coco.dataset:
            self._metainfo['CLASSES'] = self.coco.loadCats(
                self.coco.getCatIds())

        instance_list = []
        image_list = []
        image_ids = set(self.coco.imgs)
        orphans = sum(1 for ann in self.coco.anns.values()
                      if ann['image_id'] not in image_ids)
        if orphans:
            print_log(
                f'{self.__class__.__name__}: {orphans} annotation(s) of '
                f'{self.ann_file!r} refer to image ids that are not in its '
                '"images"; they are ignored.',
                logger='current',
                level=logging.WARNING)
        for img_id in self.coco.getImgIds():
            if img_id % self.sample_interval != 0:
                continue
            img = self.coco.loadImgs(img_id)[0]
            if 'file_name' not in img:
                raise KeyError(f'{self.__class__.__name__}: image {img_id} of '
                               f'{self.ann_file!r} has no "file_name" field.')
            img.update({
                'img_id':
                img_id,
                'img_path':
                osp.join(self.data_prefix['img'], img['file_name']),
            })
            image_list.append(img)
            for ann in self.coco.loadAnns(self.coco.getAnnIds(imgIds=img_id)):
                instance_info = self.parse_data_info(
                    dict(raw_ann_info=ann, raw_img_info=img))
                if instance_info:
                    instance_list.append(instance_info)
        return instance_list, image_list

    def _video_length(self, img: dict) -> int:
        """Number of frames of the video of image entry ``img``
        (its ``nframes`` field)."""
        if 'nframes' not in img:
            raise KeyError(
                f'{self.__class__.__name__}: image {img.get("id")} '
                f'({img.get("file_name")}) of {self.ann_file!r} has no '
                '"nframes" field (number of frames of its video), needed to '
                'place the supporting frames; use a PoseTrack json converted '
                'by tools/posetrack_prepare.py merge.')
        return int(img['nframes'])

    def _video_fields(self, img: dict) -> dict:
        """The video fields of a sample whose key frame is image ``img``."""
        file_name = img['file_name']
        try:
            naming = FrameNaming.from_file_name(file_name,
                                                self.frame_name_format,
                                                self.first_frame_index,
                                                self.FIRST_INDEX_BY_DIGITS)
        except ValueError as err:
            raise ValueError(f'{self.__class__.__name__}: image '
                             f'{img.get("id")} of {self.ann_file!r} '
                             f'("file_name"): {err}') from err
        key_index = naming.index_of(file_name)
        if key_index is None:
            raise ValueError(
                f'{self.__class__.__name__}: image {img.get("id")} of '
                f'{self.ann_file!r} has "file_name" {file_name!r}, which does '
                f'not match frame_name_format={naming.pattern!r}.')
        nframes = self._video_length(img)
        if nframes <= 0:
            raise ValueError(
                f'{self.__class__.__name__}: image {img.get("id")} '
                f'({file_name}) of {self.ann_file!r} has "nframes"={nframes}:'
                ' its video is empty.')
        last = naming.first_index + nframes - 1
        if not naming.first_index <= key_index <= last:
            raise ValueError(
                f'{self.__class__.__name__}: image {img.get("id")} of '
                f'{self.ann_file!r}: key frame {file_name!r} has index '
                f'{key_index}, outside its video [{naming.first_index}, '
                f'{last}] ("nframes"={nframes}, first frame '
                f'{naming.first_index}). Check `first_frame_index` (0 for '
                'PoseTrack18 %06d names, 1 for PoseTrack17 %08d names).')
        fields = dict(
            video=osp.dirname(file_name),
            frame_index=key_index,
            nframes=nframes,
            first_frame_index=naming.first_index,
            frame_name_format=naming.pattern)
        if 'vid_id' in img:
            fields['vid_id'] = img['vid_id']
        return fields

    def _image_size(self, img: dict) -> Tuple[int, int]:
        """``(width, height)`` of image entry ``img``."""
        for field in ('width', 'height'):
            if field not in img:
                raise KeyError(
                    f'{self.__class__.__name__}: image {img.get("id")} '
                    f'({img.get("file_name")}) of {self.ann_file!r} has no '
                    f'"{field}" field; the official PoseTrack per-video '
                    'files lack it: convert them with tools/'
                    'posetrack_prepare.py merge.')
        return int(img['width']), int(img['height'])

    def parse_data_info(self, raw_data_info: dict) -> Optional[dict]:
        """Parse one ground-truth person into a sample.

        Annotations without ``bbox`` or ``keypoints``, or with all-zero
        keypoints, are skipped (as mmpose does).

        Args:
            raw_data_info (dict): ``raw_ann_info`` (the annotation) and
                ``raw_img_info`` (its image entry, with ``img_path``).

        Returns:
            dict | None: The sample's data info, ``None`` when skipped.
        """
        ann = raw_data_info['raw_ann_info']
        img = raw_data_info['raw_img_info']
        if 'bbox' not in ann or 'keypoints' not in ann or not ann[
                'keypoints'] or max(ann['keypoints']) == 0:
            return None
        if 'id' not in ann:
            raise KeyError(f'{self.__class__.__name__}: an annotation of '
                           f'image {img.get("id")} in {self.ann_file!r} has '
                           'no "id" field.')
        keypoints, keypoints_visible = self._parse_keypoints(ann)
        bbox = self._parse_bbox(ann, img)
        x1, y1, x2, y2 = bbox[0]
        num_keypoints = ann.get('num_keypoints',
                                int(np.count_nonzero(keypoints_visible)))
        if 'area' in ann:
            area = np.array(ann['area'], dtype=np.float32)
        else:
            area = np.array(
                max((x2 - x1) * (y2 - y1) * 0.53, 1.0), dtype=np.float32)
        data_info = {
            'img_id': ann['image_id'],
            'img_path': img['img_path'],
            'bbox': bbox,
            'bbox_score': np.ones(1, dtype=np.float32),
            'num_keypoints': num_keypoints,
            'keypoints': keypoints,
            'keypoints_visible': keypoints_visible,
            'area': area,
            'iscrowd': ann.get('iscrowd', 0),
            'segmentation': ann.get('segmentation', None),
            'id': ann['id'],
            'category_id': np.array(ann.get('category_id', 1)),
            'raw_ann_info': copy.deepcopy(ann),
        }
        data_info.update(self._video_fields(img))
        return data_info

    def _parse_keypoints(self, ann: dict) -> Tuple[np.ndarray, np.ndarray]:
        """Keypoints (1, K, 2) and visibility (1, K) of an annotation."""
        num_keypoints = self.metainfo['num_keypoints']
        values = ann['keypoints']
        if len(values) != 3 * num_keypoints:
            raise ValueError(
                f'{self.__class__.__name__}: annotation {ann.get("id")} of '
                f'{self.ann_file!r} has {len(values)} values in "keypoints", '
                f'expected {3 * num_keypoints} (x, y, v for each of the '
                f'{num_keypoints} joints of {self.metainfo["dataset_name"]}).'
                ' Check that the annotation file and the dataset metainfo '
                'match.')
        _keypoints = np.array(values, dtype=np.float32).reshape(1, -1, 3)
        return _keypoints[..., :2], np.minimum(1, _keypoints[..., 2])

    def _parse_bbox(self, ann: dict, img: dict) -> np.ndarray:
        """Ground-truth box (1, 4) as x1, y1, x2, y2 clipped to the image."""
        if len(ann['bbox']) != 4:
            raise ValueError(
                f'{self.__class__.__name__}: annotation {ann.get("id")} of '
                f'{self.ann_file!r} has "bbox" {ann["bbox"]!r}; expected '
                '[x, y, w, h].')
        img_w, img_h = self._image_size(img)
        x, y, w, h = ann['bbox']
        x1 = np.clip(x, 0, img_w - 1)
        y1 = np.clip(y, 0, img_h - 1)
        x2 = np.clip(x + w, 0, img_w - 1)
        y2 = np.clip(y + h, 0, img_h - 1)
        return np.array([x1, y1, x2, y2], dtype=np.float32).reshape(1, 4)

    def _load_detection_results(self) -> List[dict]:
        """Load person detections (``bbox_file``) as samples with dummy
        keypoints."""
        name = self.__class__.__name__
        if not exists(self.bbox_file):
            raise FileNotFoundError(
                f'{name}: detection file {self.bbox_file!r} (bbox_file) does '
                'not exist.')
        dets = load_file(self.bbox_file)
        if not isinstance(dets, list) or not all(
                isinstance(d, dict) for d in dets):
            raise ValueError(
                f'{name}: detection file {self.bbox_file!r} must hold a json '
                "list of {'image_id', 'bbox', 'score', 'category_id'} "
                f'entries, got {type(dets).__name__}.')
        self.coco = self._open_coco()
        if 'categories' in self.coco.dataset:
            self._metainfo['CLASSES'] = self.coco.loadCats(
                self.coco.getCatIds())
        name_to_id = {
            img['file_name']: img_id
            for img_id, img in self.coco.imgs.items() if 'file_name' in img
        }
        num_keypoints = self.metainfo['num_keypoints']
        video_fields_cache: Dict[Any, dict] = {}
        data_list = []
        for i, det in enumerate(dets):
            for field in ('bbox', 'score'):
                if field not in det:
                    raise KeyError(
                        f'{name}: entry {i} of detection file '
                        f'{self.bbox_file!r} has no "{field}" field.')
            if int(det.get('category_id', 1)) != 1:
                continue
            if float(det['score']) < self.det_bbox_thr:
                continue
            if 'image_id' in det:
                img_id = det['image_id']
                if img_id not in self.coco.imgs:
                    raise KeyError(
                        f'{name}: entry {i} of detection file '
                        f'{self.bbox_file!r} has "image_id" {img_id!r}, which '
                        f'is not an image of {self.ann_file!r}; detections '
                        'and ann_file must come from the same split.')
            elif 'image_name' in det:
                if det['image_name'] not in name_to_id:
                    raise KeyError(
                        f'{name}: entry {i} of detection file '
                        f'{self.bbox_file!r} has "image_name" '
                        f'{det["image_name"]!r}, which is not an image of '
                        f'{self.ann_file!r}.')
                img_id = name_to_id[det['image_name']]
            else:
                raise KeyError(f'{name}: entry {i} of detection file '
                               f'{self.bbox_file!r} has no "image_id" field.')
            if len(det['bbox']) < 4:
                raise ValueError(
                    f'{name}: entry {i} of detection file {self.bbox_file!r}'
                    f' has "bbox" {det["bbox"]!r}; expected [x, y, w, h].')
            img = self.coco.imgs[img_id]
            if img_id not in video_fields_cache:
                if 'file_name' not in img:
                    raise KeyError(f'{name}: image {img_id} of '
                                   f'{self.ann_file!r} has no "file_name" '
                                   'field.')
                video_fields_cache[img_id] = self._video_fields(img)
            width, height = self._image_size(img)
            bbox = bbox_xywh2xyxy(
                np.array(det['bbox'][:4], dtype=np.float32).reshape(1, 4))
            data_info = {
                'img_id': img_id,
                'img_path': osp.join(self.data_prefix['img'],
                                     img['file_name']),
                'img_shape': (height, width),
                'bbox': bbox,
                'bbox_score': np.array(det['score'],
                                       dtype=np.float32).reshape(1),
                'keypoints': np.zeros((1, num_keypoints, 2), dtype=np.float32),
                'keypoints_visible': np.ones((1, num_keypoints),
                                             dtype=np.float32),
                'id': len(data_list),
                'category_id': np.array(det.get('category_id', 1)),
            }
            data_info.update(video_fields_cache[img_id])
            data_list.append(data_info)
        return data_list

    def _check_video_folders(self, data_list: List[dict]) -> None:
        """Raise if a video folder of the samples is missing or empty."""
        checked = set()
        for info in data_list:
            folder = osp.dirname(info['img_path'])
            if folder in checked:
                continue
            checked.add(folder)
            has_files = isdir(
                folder, backend_args=self.backend_args
            ) and any(True for _ in list_dir_or_file(
                folder, list_dir=False, backend_args=self.backend_args))
            if not has_files:
                raise FileNotFoundError(
                    f'{self.__class__.__name__}: video {info["video"]!r} of '
                    f'{self.ann_file!r} (image {info["img_id"]}, field '
                    f'"file_name") has no frames on disk: folder {folder!r} '
                    'is missing or empty. Check `data_root`/`data_prefix`, '
                    'or set check_videos_on_load=False to skip this check.')

    # ------------------------------------------------------------------ #
    # the window, drawn per sample
    # ------------------------------------------------------------------ #
    def get_data_info(self, idx: int) -> dict:
        """Data info of sample ``idx`` with its supporting-frame window.

        The offsets are drawn here, at every call (``frame_sampling=
        'random'``), then the border policy and the missing-frame policy are
        applied.

        Args:
            idx (int): Index of the sample.

        Returns:
            dict: The sample's data info with ``frame_paths``,
            ``frame_offsets``, ``frame_indices`` and ``frame_fallbacks``.
        """
        data_info = super().get_data_info(idx)
        return self._add_frame_window(data_info)

    def draw_offsets(self) -> List[int]:
        """The supporting-frame offsets of one sample (drawn anew in
        ``'random'`` mode)."""
        if self.frame_sampling == 'random':
            return sample_random_offsets(self.frame_offsets, self.frame_range)
        return list(self.frame_offsets)

    def _frame_exists(self, path: str) -> bool:
        return exists(path, backend_args=self.backend_args)

    def _add_frame_window(self, data_info: dict) -> dict:
        naming = FrameNaming(data_info['frame_name_format'],
                             data_info['first_frame_index'])
        key_index = data_info['frame_index']
        first = naming.first_index
        last = first + data_info['nframes'] - 1
        folder = osp.dirname(data_info['img_path'])
        video = data_info['video']
        offsets = self.draw_offsets()
        if self.static_support:
            indices = [key_index] * len(offsets)
        else:
            indices = resolve_window(key_index, offsets, first, last,
                                     self.border_policy)

        key_path = data_info['img_path']
        if not self._frame_exists(key_path):
            raise FileNotFoundError(
                f'{self.__class__.__name__}: key frame {key_index} of video '
                f'{video!r} (image {data_info["img_id"]} of '
                f'{self.ann_file!r}) is missing: expected {key_path!r}.')

        def frame_path(index: int) -> str:
            return osp.join(folder, naming.name(index))

        frame_paths = [key_path]
        used_indices = [key_index]
        fallbacks = []
        for offset, index in zip(offsets, indices):
            path = key_path if index == key_index else frame_path(index)
            if index != key_index and not self._frame_exists(path):
                if self.missing_frame == 'error':
                    raise FileNotFoundError(
                        f'{self.__class__.__name__}: supporting frame {index} '
                        f'(offset {offset:+d} from key frame {key_index}) of '
                        f'video {video!r} is missing: expected {path!r}. Fix '
                        'the frames on disk (tools/posetrack_prepare.py check '
                        "lists them) or set missing_frame='nearest'.")
                used = nearest_existing_frame(
                    index, key_index, first, last,
                    lambda i: i == key_index or self._frame_exists(
                        frame_path(i)))
                if used is None:
                    raise FileNotFoundError(
                        f'{self.__class__.__name__}: no frame of video '
                        f'{video!r} near missing frame {index} ({path!r}) '
                        'exists.')
                self._record_fallback(video, index, used, path)
                fallbacks.append((index, used))
                index = used
                path = key_path if used == key_index else frame_path(used)
            frame_paths.append(path)
            used_indices.append(index)

        data_info['frame_paths'] = frame_paths
        data_info['frame_offsets'] = [0] + offsets
        data_info['frame_indices'] = used_indices
        data_info['frame_fallbacks'] = fallbacks
        return data_info

    def _record_fallback(self, video: str, index: int, used: int,
                         path: str) -> None:
        self.missing_frame_count += 1
        self.missing_frame_videos[video] += 1
        if (video, index) not in self._logged_fallbacks:
            self._logged_fallbacks.add((video, index))
            print_log(
                f'{self.__class__.__name__}: frame {index} of video '
                f'{video!r} is missing ({path!r}); using frame {used} '
                "instead (missing_frame='nearest').",
                logger='current',
                level=logging.WARNING)

    def reset_missing_frame_stats(self) -> None:
        """Reset :attr:`missing_frame_count` and
        :attr:`missing_frame_videos`."""
        self.missing_frame_count = 0
        self.missing_frame_videos = Counter()
        self._logged_fallbacks = set()

    def missing_frame_summary(self) -> str:
        """One line on how often the nearest-frame fallback was used; it is
        also logged."""
        if not self.missing_frame_count:
            summary = (f'{self.__class__.__name__}: no missing supporting '
                       'frame so far.')
        else:
            worst = ', '.join(
                f'{v} ({n})'
                for v, n in self.missing_frame_videos.most_common(5))
            summary = (f'{self.__class__.__name__}: '
                       f'{self.missing_frame_count} missing supporting '
                       f'frame(s) replaced by the nearest existing frame in '
                       f'{len(self.missing_frame_videos)} video(s); most: '
                       f'{worst}.')
        print_log(summary, logger='current')
        return summary
