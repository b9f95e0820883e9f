# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""PoseTrack17/18 as a top-down video dataset: one sample = one person in a
key frame plus a window of supporting frames."""
import copy
import json
import logging
import os.path as osp
from collections import Counter
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.fileio import exists, isdir, list_dir_or_file
from mmengine.logging import print_log
from mmpose.datasets.datasets.base import BaseCocoStyleDataset
from mmpose.registry import DATASETS

from ..utils.boxes import bbox_iou_matrix
from ..utils.detection_file import PersonDetection, load_detection_file
from .frame_window import (BORDER_POLICIES, DEFAULT_FIRST_INDEX_BY_DIGITS, FRAME_SAMPLINGS, MISSING_FRAME_POLICIES,
                           FrameNaming, check_frame_offsets, check_frame_range, nearest_existing_frame, resolve_window,
                           sample_random_offsets)

#: The video fields of a sample that reach ``data_sample.metainfo`` (and so
#: the model and the metrics): ``PackVideoPoseInputs`` packs them with
#: mmpose's default meta keys. A new video field of the samples is added in
#: :meth:`PoseTrackVideoDataset._video_fields` (or ``_add_frame_window``)
#: and, if the model or a metric needs it, here.
#: The fields of the reuse mode (``supporting_boxes='track'``), present only
#: in its samples: ``frame_bboxes`` (the dataset's) and ``frame_crop_warps``
#: (``VideoTopdownAffine``'s).
SUPPORTING_BOX_FIELDS = ('frame_bboxes', 'frame_crop_warps')
VIDEO_META_KEYS = ('frame_paths', 'frame_offsets', 'frame_indices', 'video',
                   'frame_index', 'nframes') + SUPPORTING_BOX_FIELDS

#: Where the supporting crops of a sample are cut (``supporting_boxes``).
SUPPORTING_BOXES = ('key', 'track')


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

    Supporting boxes (``supporting_boxes``): ``'key'`` (default, the
    paper's) crops every frame with the key frame's box. ``'track'`` (for
    FAMI-Pose's reuse mode, ``model.supporting_crops='own_box'``) gives
    each supporting frame the same person's box in that frame:

    - ground-truth samples: the box of the annotation with the key
      annotation's ``track_id`` in that frame; in training
      (``test_mode=False``) moved and rescaled at random as a detector's box
      would be (``supporting_box_jitter``);
    - detection samples (``bbox_file``): the detection of that frame that
      overlaps most (IoU above ``supporting_box_iou_thr``) with the person's
      box in the frame next to it toward the key frame (the key box for the
      nearest frames), i.e. the person tracked from the key frame outward
      by IoU, as video inference tracks it;
    - the key box where the person has no box in that frame (and in the key
      frame itself, e.g. a border slot that repeats the key frame).

    Such samples carry ``frame_bboxes`` ((T, 4) float32 ``x1, y1, x2, y2``,
    key box first) and ``frame_bbox_sources`` (``'key'`` or ``'own'`` per
    frame); ``VideoTopdownAffine`` crops each frame with its box under the
    one augmentation draw of the sample and records the crops' geometry
    (``frame_crop_warps``).

    Loading extends mmpose's ``BaseCocoStyleDataset``: its samples (ground
    truth, or detections with ``bbox_file``) get the video fields above,
    its ``filter_cfg=dict(bbox_score_thr=...)`` drops low-score detections,
    and the persons it drops (crowd, no labeled keypoint, a box of zero or
    negative size) are counted in the log by reason.

    Use ``LoadVideoFrames`` to load the T frames, and ``PackVideoPoseInputs``
    to pack the video fields (:data:`VIDEO_META_KEYS`: ``frame_paths``,
    ``frame_offsets``, ``frame_indices``, ``video``, ``frame_index``,
    ``nframes``) into the data samples with mmpose's default meta keys. With
    mmpose's ``LoadImage`` instead, the same dataset gives single-frame
    samples.

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
            filter_cfg=dict(bbox_score_thr=0.2),
            pipeline=[
                dict(type='LoadVideoFrames'),
                dict(type='GetBBoxCenterScale'),
                dict(type='TopdownAffine', input_size=(288, 384)),
                dict(type='PackVideoPoseInputs'),
            ])

    Args:
        ann_file (str): Merged COCO-style annotation file. Default: ``''``.
        bbox_file (str, optional): Person detections in mmpose's format (a
            json list of ``{'image_id', 'bbox': [x, y, w, h], 'score',
            'category_id'}``; PoseWarper's boxes keyed by ``image_name`` are
            converted by ``tools/posetrack_prepare.py pt17-boxes``). Used
            instead of the ground-truth boxes; only with ``test_mode=True``.
            Not joined with ``data_root``. Drop the low-score ones with
            ``filter_cfg=dict(bbox_score_thr=0.2)`` (FAMI's test setting); the
            detection samples kept are numbered (``id``) 0, 1, ... in file
            order. Default: ``None``.
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
        supporting_boxes (str): ``'key'`` or ``'track'`` (see above).
            Default: ``'key'``.
        supporting_box_jitter (Sequence[float]): ``(shift, log_scale)``
            standard deviations of the random change of the supporting boxes
            in training with ``supporting_boxes='track'``: the centre moves
            by ``N(0, shift) * size``, the size is multiplied by
            ``exp(N(0, log_scale))`` per axis (the synthetic detector's
            jitter). ``(0, 0)`` disables it. Default: ``(0.04, 0.06)``.
        supporting_box_iou_thr (float): Least IoU (exclusive) that links a
            detection to the person's box in the next frame toward the key
            frame (``supporting_boxes='track'`` with ``bbox_file``).
            Default: ``0.3``.
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
        filter_cfg (dict, optional): mmpose's data filter config, e.g.
            ``dict(bbox_score_thr=0.2)``: samples whose box score is lower
            are dropped. Default: ``None``.
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
        det_bbox_thr (float, optional): Removed: giving it raises a
            ``ValueError`` that asks for
            ``filter_cfg=dict(bbox_score_thr=...)``. Default: ``None``.
    """

    METAINFO: dict = dict(from_file='configs/_base_/datasets/posetrack18.py')

    #: Digit count -> first frame index, used when ``first_frame_index`` is
    #: not given (PoseTrack18 ``%06d`` from 0, PoseTrack17 ``%08d`` from 1).
    FIRST_INDEX_BY_DIGITS: Dict[int, int] = DEFAULT_FIRST_INDEX_BY_DIGITS

    def __init__(self,
                 ann_file: str = '',
                 bbox_file: Optional[str] = None,
                 frame_offsets: Sequence[int] = (-2, -1, 1, 2),
                 frame_sampling: str = 'fixed',
                 frame_range: Optional[Sequence[int]] = None,
                 border_policy: str = 'fami',
                 static_support: bool = False,
                 supporting_boxes: str = 'key',
                 supporting_box_jitter: Sequence[float] = (0.04, 0.06),
                 supporting_box_iou_thr: float = 0.3,
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
                 sample_interval: int = 1,
                 det_bbox_thr: Optional[float] = None) -> None:
        name = self.__class__.__name__
        if det_bbox_thr is not None:
            raise ValueError(
                f'{name}: det_bbox_thr={det_bbox_thr!r} is no longer an '
                'argument; filter the detections with mmpose\'s filter_cfg: '
                f'filter_cfg=dict(bbox_score_thr={det_bbox_thr!r}).')
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
        if supporting_boxes not in SUPPORTING_BOXES:
            raise ValueError(
                f'{name} got supporting_boxes={supporting_boxes!r}; use one '
                f'of {SUPPORTING_BOXES}.')
        jitter = tuple(float(v) for v in supporting_box_jitter)
        if len(jitter) != 2 or min(jitter) < 0:
            raise ValueError(
                f'{name} got supporting_box_jitter={supporting_box_jitter!r};'
                ' give two standard deviations >= 0: (shift, log_scale).')
        if not 0. <= float(supporting_box_iou_thr) < 1.:
            raise ValueError(
                f'{name} got supporting_box_iou_thr='
                f'{supporting_box_iou_thr!r}; use a value in [0, 1).')
        self.supporting_boxes = supporting_boxes
        self.supporting_box_jitter = jitter
        self.supporting_box_iou_thr = float(supporting_box_iou_thr)
        #: (video, frame index) -> (boxes (n, 4) xyxy, track ids (n, ), -1
        #: where unknown) of all samples, in ``'track'`` mode
        self._frame_persons: Dict[Tuple[str, int],
                                  Tuple[np.ndarray, np.ndarray]] = {}
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
    # loading: mmpose's readers, plus the video fields
    # ------------------------------------------------------------------ #
    def _check_ann_file(self) -> None:
        """Raise :class:`FileNotFoundError` naming ``ann_file`` if it is
        missing (mmpose only asserts)."""
        if not exists(self.ann_file):
            raise FileNotFoundError(
                f'{self.__class__.__name__}: annotation file '
                f'{self.ann_file!r} (ann_file) does not exist; check '
                '`data_root` and `ann_file`.')

    def _read_annotation_file(
            self,
            read: Callable[[], Any],
            detections: Optional[List[PersonDetection]] = None) -> Any:
        """Run one of mmpose's readers of ``ann_file`` (``read``) so that a
        bare ``KeyError`` of xtcocotools or mmpose names the file, the entry
        and the missing field; ``detections`` are the checked entries of
        ``bbox_file`` when ``read`` reads them too."""
        self.coco = None
        try:
            return read()
        except json.JSONDecodeError as err:
            raise ValueError(
                f'{self.__class__.__name__}: annotation file '
                f'{self.ann_file!r} is not valid json ({err}); it is '
                'truncated or damaged: copy or regenerate it (tools/'
                'posetrack_prepare.py merge / pt17-annolist).') from err
        except KeyError as err:
            named = self._name_missing_field(err, detections)
            if named is None:
                raise
            raise named from err

    def _name_missing_field(
            self, err: KeyError,
            detections: Optional[List[PersonDetection]]) -> Optional[KeyError]:
        """The ``KeyError`` to raise instead of ``err``, or ``None`` when
        ``err`` already names what is missing (one of this class's)."""
        name, ann_file = self.__class__.__name__, self.ann_file
        field = err.args[0] if len(err.args) == 1 else None
        if self.coco is None:  # xtcocotools could not index the file
            return KeyError(
                f'{name}: annotation file {ann_file!r} has an entry without '
                f'the field {field!r} (every annotation needs "image_id", '
                '"id"; every image "id").')
        for det in detections or []:
            if det.category_id == 1 and det.image not in self.coco.imgs:
                return KeyError(
                    f'{name}: entry {det.index} of detection file '
                    f'{self.bbox_file!r} has "image_id" {det.image!r}, which '
                    f'is not an image of {ann_file!r}; detections and '
                    'ann_file must come from the same split.')
        if field in ('file_name', 'width', 'height'):
            for img_id, img in self.coco.imgs.items():
                if field not in img:
                    hint = '' if field == 'file_name' else (
                        '; the official PoseTrack per-video files lack the '
                        'image sizes: convert them with tools/'
                        'posetrack_prepare.py merge')
                    return KeyError(f'{name}: image {img_id} of {ann_file!r} '
                                    f'has no "{field}" field{hint}.')
        return None

    def load_data_list(self) -> List[dict]:
        """Load the samples and check the video folders once."""
        data_list = super().load_data_list()
        if self.check_videos_on_load:
            self._check_video_folders(data_list)
        return data_list

    def _load_annotations(self) -> Tuple[List[dict], List[dict]]:
        """mmpose's reading of ``ann_file`` (COCO style), with the missing
        file or field named and the skipped annotations counted in the
        log."""
        self._check_ann_file()
        instance_list, image_list = self._read_annotation_file(
            super()._load_annotations)
        name = self.__class__.__name__
        if 'images' not in self.coco.dataset:
            raise KeyError(
                f'{name}: annotation file {self.ann_file!r} has no "images" '
                'field; it must be a COCO-style json with "images", '
                '"annotations" and "categories" (see tools/'
                'posetrack_prepare.py merge).')
        orphans = sum(1 for ann in self.coco.anns.values()
                      if ann['image_id'] not in self.coco.imgs)
        if orphans:
            print_log(
                f'{name}: {orphans} annotation(s) of {self.ann_file!r} refer '
                'to image ids that are not in its "images"; they are '
                'ignored.',
                logger='current',
                level=logging.WARNING)
        skipped = sum(
            len(self.coco.getAnnIds(imgIds=img['img_id']))
            for img in image_list) - len(instance_list)
        if skipped:
            print_log(
                f'{name}: {skipped} box(es) dropped (annotation without box '
                f'or labeled keypoint) in {self.ann_file!r}.',
                logger='current')
        return instance_list, image_list

    def parse_data_info(self, raw_data_info: dict) -> Optional[dict]:
        """Parse one ground-truth person: mmpose's sample, checked first,
        plus the video fields of its key frame.

        Annotations without ``bbox`` or ``keypoints``, or with all-zero
        keypoints, are skipped. Without ``num_keypoints`` the sample counts
        its visible joints; without ``category_id`` it is a person (1).

        Args:
            raw_data_info (dict): ``raw_ann_info`` (the annotation) and
                ``raw_img_info`` (its image entry, with ``img_path``).

        Returns:
            dict | None: The sample's data info, ``None`` when skipped.
        """
        ann = raw_data_info['raw_ann_info']
        img = raw_data_info['raw_img_info']
        if 'bbox' not in ann or not ann.get('keypoints') or max(
                ann['keypoints']) == 0:
            return None
        self._check_annotation(ann, img)
        person = ann if 'category_id' in ann else dict(ann, category_id=1)
        data_info = super().parse_data_info(
            dict(raw_data_info, raw_ann_info=person))
        if person is not ann:
            data_info['raw_ann_info'] = copy.deepcopy(ann)
        if 'num_keypoints' not in ann:
            data_info['num_keypoints'] = int(
                np.count_nonzero(data_info['keypoints_visible']))
        data_info.update(self._video_fields(img))
        return data_info

    def _check_annotation(self, ann: dict, img: dict) -> None:
        """Raise, naming the file, the entry and the field, if mmpose cannot
        parse annotation ``ann`` of image entry ``img``."""
        name = self.__class__.__name__
        if 'id' not in ann:
            raise KeyError(f'{name}: an annotation of image {img.get("id")} '
                           f'in {self.ann_file!r} has no "id" field.')
        num_keypoints = self.metainfo['num_keypoints']
        if len(ann['keypoints']) != 3 * num_keypoints:
            raise ValueError(
                f'{name}: annotation {ann.get("id")} of {self.ann_file!r} '
                f'has {len(ann["keypoints"])} values in "keypoints", '
                f'expected {3 * num_keypoints} (x, y, v for each of the '
                f'{num_keypoints} joints of {self.metainfo["dataset_name"]}).'
                ' Check that the annotation file and the dataset metainfo '
                'match.')
        if len(ann['bbox']) != 4:
            raise ValueError(
                f'{name}: annotation {ann.get("id")} of {self.ann_file!r} '
                f'has "bbox" {ann["bbox"]!r}; expected [x, y, w, h].')
        for field in ('width', 'height'):
            if field not in img:
                raise KeyError(
                    f'{name}: image {img.get("id")} ({img.get("file_name")}) '
                    f'of {self.ann_file!r} has no "{field}" field; the '
                    'official PoseTrack per-video files lack it: convert '
                    'them with tools/posetrack_prepare.py merge.')

    def _get_topdown_data_infos(self, instance_list: List[dict]) -> List[dict]:
        """mmpose's sanitising of the ground-truth persons, with the
        persons it drops counted in the log by reason."""
        data_list = super()._get_topdown_data_infos(instance_list)
        if len(data_list) < len(instance_list):
            reasons = Counter(
                self._drop_reason(info) for info in instance_list
                if not self._is_valid_instance(info))
            print_log(
                f'{self.__class__.__name__}: ' + ', '.join(
                    f'{count} box(es) dropped ({reason})'
                    for reason, count in reasons.most_common()) +
                f' in {self.ann_file!r}.',
                logger='current',
                level=logging.WARNING)
        return data_list

    @staticmethod
    def _drop_reason(data_info: dict) -> str:
        """Why mmpose's ``_is_valid_instance`` drops a person (its checks,
        in its order)."""
        if data_info.get('iscrowd'):
            return 'crowd annotation'
        if data_info.get('num_keypoints') == 0:
            return 'no labeled keypoint'
        x1, y1, x2, y2 = data_info['bbox'][0]
        if x2 <= x1 or y2 <= y1:
            return 'box width or height <= 0 inside the image'
        return 'no keypoint with a positive coordinate'

    def _load_detection_results(self) -> List[dict]:
        """mmpose's samples of the person detections of ``bbox_file``
        (dummy keypoints), each with its category and the video fields of
        its key frame. The file is checked entry by entry first
        (:func:`~famipose_mmpose.utils.load_detection_file`)."""
        detections = load_detection_file(
            self.bbox_file,
            source=f'{self.__class__.__name__}: detection file (bbox_file)')
        if not detections:
            raise ValueError(
                f'{self.__class__.__name__}: detection file (bbox_file) '
                f'{self.bbox_file!r} holds no detections, so there is '
                'nothing to test; give the detector\'s output for this '
                'split, or bbox_file=None to test on the ground-truth boxes.')
        self._check_ann_file()
        data_list = self._read_annotation_file(
            super()._load_detection_results, detections)
        video_fields: Dict[Any, dict] = {}
        for data_info in data_list:
            img_id = data_info['img_id']
            if img_id not in video_fields:
                video_fields[img_id] = self._video_fields(
                    self.coco.imgs[img_id])
            data_info['category_id'] = np.array(1)  # mmpose keeps persons
            data_info.update(video_fields[img_id])
        return data_list

    def filter_data(self) -> List[dict]:
        """mmpose's filter: ``filter_cfg=dict(bbox_score_thr=...)`` drops
        the samples whose box score is lower. The detection samples kept
        are then numbered 0, 1, ... (``id``) in file order."""
        data_list = super().filter_data()
        if self.bbox_file and len(data_list) < len(self.data_list):
            data_list = [dict(info, id=i) for i, info in enumerate(data_list)]
        if self.supporting_boxes == 'track':
            self._index_frame_persons(data_list)
        return data_list

    def _index_frame_persons(self, data_list: List[dict]) -> None:
        """Index the boxes and track ids of all samples by frame (before
        ``indices`` keeps a subset), for ``supporting_boxes='track'``."""
        persons: Dict[Tuple[str, int], list] = {}
        for info in data_list:
            track = self._track_id(info)
            persons.setdefault((info['video'], info['frame_index']), []).append(
                (np.asarray(info['bbox'], dtype=np.float32).reshape(4),
                 -1 if track is None else track))
        self._frame_persons = {
            frame: (np.stack([box for box, _ in people]),
                    np.array([track for _, track in people], dtype=np.int64))
            for frame, people in persons.items()
        }

    @staticmethod
    def _track_id(data_info: dict) -> Optional[int]:
        """The PoseTrack ``track_id`` of a ground-truth sample; ``None`` for
        detections."""
        track = (data_info.get('raw_ann_info') or {}).get('track_id')
        return None if track is None else int(track)

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
        if self.supporting_boxes == 'track':
            boxes, sources = self._supporting_bboxes(data_info, used_indices)
            data_info['frame_bboxes'] = boxes
            data_info['frame_bbox_sources'] = sources
        return data_info

    def _supporting_bboxes(self, data_info: dict,
                           frame_indices: List[int]
                           ) -> Tuple[np.ndarray, List[str]]:
        """The person's box in each frame of the window (key first) and
        where it comes from (``'own'`` or ``'key'``), see the class docs."""
        key_box = np.asarray(data_info['bbox'], dtype=np.float32).reshape(4)
        key_index = frame_indices[0]
        track = self._track_id(data_info)
        boxes = {key_index: (key_box, 'key')}
        # outward from the key frame on each side, nearest frames first
        order = sorted(set(frame_indices[1:]) - {key_index},
                       key=lambda i: (abs(i - key_index), i))
        last = {-1: key_box, 1: key_box}  # the person's box nearer the key
        for index in order:
            side = 1 if index > key_index else -1
            own = self._person_box(data_info['video'], index, track,
                                   last[side])
            if own is None:
                boxes[index] = (key_box, 'key')
                continue
            last[side] = own
            if not self.test_mode and track is not None:
                own = self._jitter_box(own)
            boxes[index] = (own, 'own')
        return (np.stack([boxes[i][0] for i in frame_indices]),
                [boxes[i][1] for i in frame_indices])

    def _person_box(self, video: str, index: int, track: Optional[int],
                    nearer_box: np.ndarray) -> Optional[np.ndarray]:
        """The person's box in frame ``index``: by track id, or (no track
        id) the detection overlapping most with ``nearer_box``."""
        frame_boxes, tracks = self._frame_persons.get(
            (video, index), (np.zeros((0, 4), np.float32), np.zeros(0)))
        if track is not None:
            match = np.flatnonzero(tracks == track)
            return frame_boxes[match[0]] if len(match) else None
        if not len(frame_boxes):
            return None
        ious = bbox_iou_matrix(nearer_box[None], frame_boxes)[0]
        best = int(np.argmax(ious))
        return frame_boxes[best] \
            if ious[best] > self.supporting_box_iou_thr else None

    def _jitter_box(self, box: np.ndarray) -> np.ndarray:
        """``box`` moved and rescaled at random (``supporting_box_jitter``,
        numpy's global random state as mmpose's transforms use)."""
        shift, log_scale = self.supporting_box_jitter
        size = box[2:] - box[:2]
        offset = np.random.normal(0, shift, 2) * size
        center = (box[:2] + box[2:]) / 2 + offset
        size = size * np.exp(np.random.normal(0, log_scale, 2))
        return np.concatenate([center - size / 2,
                               center + size / 2]).astype(np.float32)

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
