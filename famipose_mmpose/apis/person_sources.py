# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Where the person boxes of each frame come from: an mmdet detector run on
the frame, or a detection file in mmpose's bbox-file format."""
import logging
import os.path as osp
from collections import defaultdict
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
from mmengine.fileio import load as load_file
from mmengine.logging import print_log
from mmpose.evaluation.functional import nms
from mmpose.structures.bbox import bbox_xywh2xyxy

from ..utils.detection_file import load_detection_file
from .frame_buffer import Frame, natural_sort_key

MATCH_MODES = ('file_name', 'position')


class PersonBoxes(NamedTuple):
    """The person boxes of one frame.

    Attributes:
        bboxes (np.ndarray): (N, 4) float32 boxes ``x1, y1, x2, y2`` in
            image pixels, best score first.
        scores (np.ndarray): (N, ) float32 box scores.
    """
    bboxes: np.ndarray
    scores: np.ndarray


def empty_person_boxes() -> PersonBoxes:
    """A frame without people."""
    return PersonBoxes(
        np.zeros((0, 4), dtype=np.float32), np.zeros(0, dtype=np.float32))


def _sorted_boxes(bboxes: np.ndarray, scores: np.ndarray) -> PersonBoxes:
    """Boxes as float32, sorted by decreasing score (stable)."""
    bboxes = np.asarray(bboxes, dtype=np.float32).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float32).reshape(-1)
    order = np.argsort(-scores, kind='stable')
    return PersonBoxes(bboxes[order], scores[order])


class PersonSource:
    """Base class: ``source(frame)`` gives the :class:`PersonBoxes` of a
    :class:`~famipose_mmpose.apis.frame_buffer.Frame`."""

    def __call__(self, frame: Frame) -> PersonBoxes:
        raise NotImplementedError

    def frame_record(self,
                     frame: Frame) -> Optional[Tuple[Any, Optional[str]]]:
        """``(image_id, file_name)`` of the frame in an annotation file, when
        the source knows it (used to write prediction files that match the
        ground truth; ``file_name`` may be ``None``); ``None`` otherwise."""
        return None


def _drop_pretrained_init(model: Any) -> None:
    """Remove ``Pretrained`` entries from the ``init_cfg`` of every module
    (so that ``init_weights`` downloads nothing)."""
    for module in model.modules():
        init_cfg = getattr(module, 'init_cfg', None)
        if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
            module.init_cfg = None
        elif isinstance(init_cfg, list):
            module.init_cfg = [
                c for c in init_cfg
                if not (isinstance(c, dict) and c.get('type') == 'Pretrained')
            ] or None


class DetectorPersonSource(PersonSource):
    """Person boxes from an MMDetection detector, as mmpose's
    ``demo/topdown_demo_with_mmdet.py`` gets them.

    The detector is built with ``mmdet.apis.init_detector`` (its test
    pipeline adapted to run from mmpose's scope with
    ``mmpose.utils.adapt_mmdet_pipeline``) and run on every frame with
    ``mmdet.apis.inference_detector``. Boxes of class ``det_cat_id`` with a
    score above ``bbox_thr`` are kept, then mmpose's greedy ``nms`` with
    ``nms_thr`` removes duplicates; ``max_per_frame`` optionally keeps only
    the best boxes.

    Without a checkpoint the detector gets MMDetection's own random
    initialisation (``init_weights``; ``Pretrained`` entries of its
    ``init_cfg`` are dropped, nothing is downloaded): meant for tests.

    Args:
        det_config (str | mmengine.Config): The detector's config.
        det_checkpoint (str, optional): The detector's checkpoint; ``None``
            keeps random weights (tests). Defaults to ``None``.
        device (str): Device of the detector. Defaults to ``'cpu'``.
        det_cat_id (int): Class index of "person" in the detector's classes
            (0 for COCO-trained detectors). Defaults to 0.
        bbox_thr (float): Minimum box score (exclusive). Defaults to 0.3.
        nms_thr (float): IoU threshold of the NMS. Defaults to 0.3.
        cfg_options (dict, optional): Overrides of the detector config.
            Defaults to ``None``.
        max_per_frame (int, optional): Keep at most this many boxes per
            frame (the best ones). Defaults to ``None`` (all).

    Raises:
        FileNotFoundError: the config or the checkpoint file is missing.
        ImportError: ``mmdet.apis`` cannot be imported.
    """

    def __init__(self,
                 det_config: Any,
                 det_checkpoint: Optional[str] = None,
                 device: str = 'cpu',
                 det_cat_id: int = 0,
                 bbox_thr: float = 0.3,
                 nms_thr: float = 0.3,
                 cfg_options: Optional[dict] = None,
                 max_per_frame: Optional[int] = None) -> None:
        try:
            from mmdet.apis import inference_detector, init_detector
        except ImportError as err:
            raise ImportError(
                f'DetectorPersonSource cannot import mmdet.apis ({err}); '
                'install mmdet and its runtime requirements, or read the '
                'boxes from a detection file (DetectionFilePersonSource, '
                '--det-file).') from err
        from mmpose.utils import adapt_mmdet_pipeline

        if isinstance(det_config, str) and not osp.isfile(det_config):
            raise FileNotFoundError(
                f'Detector config {det_config!r} does not exist: check '
                '--det-config.')
        if det_checkpoint is not None and '://' not in det_checkpoint and \
                not osp.isfile(det_checkpoint):
            raise FileNotFoundError(
                f'Detector checkpoint {det_checkpoint!r} does not exist: '
                'check --det-checkpoint.')
        if max_per_frame is not None and int(max_per_frame) < 1:
            raise ValueError(f'DetectorPersonSource: max_per_frame='
                             f'{max_per_frame!r} must be >= 1 or None.')
        self.detector = init_detector(
            det_config, det_checkpoint, device=device, cfg_options=cfg_options)
        if det_checkpoint is None:
            _drop_pretrained_init(self.detector)
            self.detector.init_weights()
            self.detector.eval()
        self.detector.cfg = adapt_mmdet_pipeline(self.detector.cfg)
        self._inference_detector = inference_detector
        self.det_cat_id = int(det_cat_id)
        self.bbox_thr = float(bbox_thr)
        self.nms_thr = float(nms_thr)
        self.max_per_frame = max_per_frame

    def __call__(self, frame: Frame) -> PersonBoxes:
        """Detect the people of a frame.

        Args:
            frame (Frame): The frame (BGR image).

        Returns:
            PersonBoxes: Boxes after the class filter, threshold and NMS.
        """
        result = self._inference_detector(self.detector, frame.image)
        instances = result.pred_instances.cpu().numpy()
        keep = np.logical_and(instances.labels == self.det_cat_id,
                              instances.scores > self.bbox_thr)
        dets = np.concatenate(
            [instances.bboxes[keep], instances.scores[keep, None]], axis=1)
        dets = dets[nms(dets, self.nms_thr)] if len(dets) else dets
        boxes = _sorted_boxes(dets[:, :4], dets[:, 4])
        if self.max_per_frame is not None:
            boxes = PersonBoxes(boxes.bboxes[:self.max_per_frame],
                                boxes.scores[:self.max_per_frame])
        return boxes


class DetectionFilePersonSource(PersonSource):
    """Person boxes read from a detection file (mmpose's bbox-file format,
    e.g. PoseTrack18's ``posetrack18_val_human_detections.json``).

    The file is a json list of ``{'image_id', 'bbox': [x, y, w, h],
    'score', 'category_id'}``. Image ids are mapped to the frames of the
    video either through an annotation file (``ann_file``: a PoseTrack18 /
    COCO-style json, merged over videos or per video, whose ``images`` have
    ``id`` and ``file_name`` such as ``images/val/<video>/000012.jpg``) or
    through ``image_ids`` (the image id of every frame, in frame order).

    With ``ann_file``, the images of one video are used: those whose
    ``file_name`` lies in a folder named ``video`` (required when the file
    holds several videos). A frame is then matched to an image by file
    name (``match_by='file_name'``: the frame file's name equals the base
    name of the image's ``file_name``; for frame folders) or by position
    (``match_by='position'``: frame ``i`` is the ``i``-th image of the
    video in natural file-name order; for video files). A
    frame without an image, or an image without detections, has no people.

    Args:
        det_file (str): The detection file.
        ann_file (str, optional): Annotation file mapping image ids to
            frames. Defaults to ``None``.
        video (str, optional): Folder name of the video in ``ann_file``.
            Defaults to ``None``.
        image_ids (Sequence, optional): Image id of each frame, in frame
            order (instead of ``ann_file``). Defaults to ``None``.
        match_by (str): ``'file_name'`` or ``'position'`` (with
            ``ann_file``; ``image_ids`` always match by position). Defaults
            to ``'file_name'``.
        bbox_thr (float): Detections with a lower score are dropped.
            Defaults to 0.0.
        category_id (int): Category id of "person" in the file. Defaults
            to 1.

    Raises:
        FileNotFoundError: ``det_file`` or ``ann_file`` does not exist.
        ValueError: the detection file is empty or malformed, no mapping is
            given, the video is not in ``ann_file``, or no detection belongs
            to the video's images.
        KeyError: a detection lacks ``bbox``, ``score`` or ``image_id``.
    """

    def __init__(self,
                 det_file: str,
                 ann_file: Optional[str] = None,
                 video: Optional[str] = None,
                 image_ids: Optional[Sequence[Any]] = None,
                 match_by: str = 'file_name',
                 bbox_thr: float = 0.0,
                 category_id: int = 1) -> None:
        if match_by not in MATCH_MODES:
            raise ValueError(f'DetectionFilePersonSource: match_by='
                             f'{match_by!r} must be one of {MATCH_MODES}.')
        if (ann_file is None) == (image_ids is None):
            raise ValueError(
                'DetectionFilePersonSource: detection file '
                f'{det_file!r} needs exactly one way to map its image ids to '
                'frames: ann_file (the PoseTrack json listing the images of '
                'the video, --ann-file) or image_ids (one id per frame).')
        self.det_file = det_file
        self.bbox_thr = float(bbox_thr)
        self.category_id = int(category_id)
        if image_ids is not None:
            self.match_by = 'position'
            self.video = video
            self.images: List[Tuple[Any, Optional[str]]] = [
                (image_id, None) for image_id in image_ids
            ]
        else:
            self.match_by = match_by
            self.video, self.images = self._video_images(ann_file, video)
        self._by_name = {
            osp.basename(file_name): (image_id, file_name)
            for image_id, file_name in self.images if file_name is not None
        }
        self._boxes = self._load_detections(det_file)
        #: Frames seen so far that matched no image (they get no people).
        self.unmatched_frames = 0

    @staticmethod
    def _video_images(
            ann_file: str, video: Optional[str]
    ) -> Tuple[str, List[Tuple[Any, Optional[str]]]]:
        """The video's ``(image_id, file_name)`` in frame order."""
        if not osp.isfile(ann_file):
            raise FileNotFoundError(
                f'Annotation file {ann_file!r} (--ann-file) does not exist.')
        data = load_file(ann_file)
        if not isinstance(data, dict) or not isinstance(
                data.get('images'), list):
            raise ValueError(
                f'Annotation file {ann_file!r} has no "images" list: pass a '
                'PoseTrack18 / COCO-style json (e.g. '
                'annotations/posetrack18_val.json or annotations/val/'
                '<video>.json).')
        per_video: Dict[str, List[dict]] = defaultdict(list)
        for i, image in enumerate(data['images']):
            if not isinstance(image, dict) or 'id' not in image or \
                    'file_name' not in image:
                raise KeyError(
                    f'Annotation file {ann_file!r}: images[{i}] needs "id" '
                    'and "file_name".')
            folder = osp.basename(
                osp.dirname(str(image['file_name']).replace('\\', '/')))
            per_video[folder].append(image)
        if not per_video:
            raise ValueError(f'Annotation file {ann_file!r} lists no image.')
        if video is None:
            if len(per_video) > 1:
                raise ValueError(
                    f'Annotation file {ann_file!r} holds {len(per_video)} '
                    f'videos (e.g. {sorted(per_video)[:3]}); name the one to '
                    'use (video=..., --video-name).')
            video = next(iter(per_video))
        if video not in per_video:
            raise ValueError(
                f'Video {video!r} is not in annotation file {ann_file!r} (its '
                f'images lie in folders such as {sorted(per_video)[:3]}); '
                'set the video name (--video-name) to the folder name of the '
                'video in the file.')
        images = sorted(
            per_video[video],
            key=lambda img: natural_sort_key(osp.basename(img['file_name'])))
        return video, [(img['id'], str(img['file_name'])) for img in images]

    def _load_detections(self, det_file: str) -> Dict[Any, PersonBoxes]:
        """Boxes of every image of the video."""
        detections = load_detection_file(
            det_file,
            source='Detection file (--det-file)',
            default_category_id=self.category_id)
        if not detections:
            raise ValueError(
                f'Detection file {det_file!r} is empty: it lists no '
                'detection. Run a person detector first, or use '
                '--det-config/--det-checkpoint.')
        wanted = {image_id for image_id, _ in self.images}
        boxes: Dict[Any, list] = defaultdict(list)
        scores: Dict[Any, list] = defaultdict(list)
        num_in_video = 0
        for det in detections:
            if det.image not in wanted:
                continue
            num_in_video += 1
            if det.category_id != self.category_id or \
                    det.score < self.bbox_thr:
                continue
            boxes[det.image].append(det.bbox)
            scores[det.image].append(det.score)
        if num_in_video == 0:
            raise ValueError(
                f'None of the {len(detections)} detections of {det_file!r} '
                f'belongs to an image of video {self.video!r} (image ids '
                f'{sorted(wanted)[:3]}...); the detection file and the '
                'frame mapping (--ann-file / --video-name) must describe the '
                'same video.')
        return {
            image_id:
            _sorted_boxes(
                bbox_xywh2xyxy(np.asarray(boxes[image_id], np.float32)),
                scores[image_id])
            for image_id in boxes
        }

    def frame_record(self,
                     frame: Frame) -> Optional[Tuple[Any, Optional[str]]]:
        if self.match_by == 'file_name':
            return self._by_name.get(frame.name)
        if frame.index >= len(self.images):
            mapping = 'image_ids' if self.images and self.images[0][1] is None else f'video {self.video!r}'
            raise ValueError(
                f'DetectionFilePersonSource (match_by=position): frame {frame.index} ({frame.name!r}) has no image: '
                f'{mapping} of the mapping for {self.det_file!r} lists {len(self.images)} images, fewer than the '
                'video has frames, so positions cannot tell which frames the detections belong to. Give the '
                'annotation file of this very video (--ann-file / --video-name), or frames named as in it '
                '(a folder of frames, --match-by file_name).')
        return self.images[frame.index]

    def __call__(self, frame: Frame) -> PersonBoxes:
        """The detections of the image matched to ``frame``.

        Args:
            frame (Frame): The frame.

        Returns:
            PersonBoxes: Its boxes (none when no image matches).
        """
        record = self.frame_record(frame)
        if record is None:
            self.unmatched_frames += 1
            if self.unmatched_frames == 1:
                print_log(
                    f'DetectionFilePersonSource: frame {frame.index} '
                    f'({frame.name!r}) matches no image of video '
                    f'{self.video!r} (match_by={self.match_by!r}); it gets '
                    'no people (logged once; see unmatched_frames).',
                    logger='current',
                    level=logging.WARNING)
            return empty_person_boxes()
        if record[0] not in self._boxes:
            return empty_person_boxes()
        return self._boxes[record[0]]
