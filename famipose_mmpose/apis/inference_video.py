# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Video inference: from a video file (or a folder of frames) to per-frame,
per-person keypoints with track ids, in the style of ``mmpose.apis``.

Flow (FAMI-Pose, Liu et al., CVPR 2022: a key frame ``t`` and its
supporting frames ``t + offset``):

1. frames are decoded lazily into a window buffer
   (:class:`~.frame_buffer.FrameWindowBuffer`, at most
   ``2 * max(|offset|) + 1`` frames alive); video borders follow the
   config's ``border_policy``; key frame ``t`` comes out once frame
   ``t + max(offsets)`` is read (at once for a causal window);
2. as each frame is read, a person source gives its boxes
   (:class:`~.person_sources.DetectorPersonSource`: an mmdet detector;
   :class:`~.person_sources.DetectionFilePersonSource`: a detection file)
   and greedy IoU tracking (:class:`~.tracking.IoUTracker`) their track
   ids (:class:`~.tracking.TrackedFrames`), so the people of the whole
   window are known when the key frame comes out;
3. the paper's crops (``model.supporting_crops='key_box'``): every person of
   the key frame becomes one sample of the config's test pipeline from
   ``GetBBoxCenterScale`` on, with ``img`` = the T frames (key first): the
   same crop is cut from all T frames; all people of the frame go through
   the model in one forward (``model.test_step``);
4. or the reuse mode (``'own_box'``): each (track, frame) crop is cut with
   the track's own box, goes through the backbone once and is cached for
   the key frames whose window holds it (:mod:`.crop_features`); a track
   missing in a supporting frame gets that frame cut with its key box.

A single-frame config (mmpose's ``TopdownPoseEstimator`` with ``LoadImage``)
runs through the same path with T = 1, so both models can be compared on
the same video and boxes.

The window and the crop pipeline are read from the config, and checkpoints
checked, by :mod:`.model_inspection`; annotated videos and prediction files
are written by :mod:`.video_output` (:func:`~.video_output.render_video`
runs this loop on one video and renders it).
"""
import copy
import os.path as osp
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.runner.checkpoint import CheckpointLoader, load_state_dict
from mmengine.structures import InstanceData
from mmpose.apis import init_model
from mmpose.structures import PoseDataSample
from torch import nn

from ..model_inspection import (VideoWindow, build_crop_pipeline, check_checkpoint_compatibility, checkpoint_state_dict,
                                video_window_from_config)
from .crop_features import CropFeatureCache, CropKey, predict_with_cached_crops, window_crop_keys
from .frame_buffer import Frame, FrameReader, FrameWindowBuffer, WindowSample, open_frame_reader
from .person_sources import PersonBoxes, PersonSource
from .tracking import FramePeople, IoUTracker, TrackedFrames

#: Boxes smaller than this (pixels, width or height) are skipped: no crop.
MIN_BOX_SIZE = 1.0


def init_video_model(config: Union[str, Path, Config],
                     checkpoint: Optional[str] = None,
                     device: str = 'cpu',
                     cfg_options: Optional[dict] = None) -> nn.Module:
    """Build a (video or single-frame) top-down pose model for video
    inference and load its checkpoint after checking that it fits.

    The model is built with ``mmpose.apis.init_model`` (no checkpoint), the
    checkpoint read once with mmengine's loader (the project's safe
    ``weights_only`` loader for local files), checked with
    :func:`check_checkpoint_compatibility` and loaded non-strictly;
    ``dataset_meta`` comes from the checkpoint's meta when present (as in
    ``init_model``).

    Args:
        config (str | Path | Config): The pose config (a FAMI-Pose config,
            or a single-frame top-down config).
        checkpoint (str, optional): The checkpoint; ``None`` keeps random
            weights. Defaults to ``None``.
        device (str): Device. Defaults to ``'cpu'``.
        cfg_options (dict, optional): Config overrides (e.g.
            ``{'test_dataloader.dataset.frame_offsets': [-1, 1]}``).
            Defaults to ``None``.

    Returns:
        nn.Module: The model in eval mode, with ``cfg`` and
        ``dataset_meta``.

    Raises:
        FileNotFoundError: the config or the checkpoint file is missing.
        ValueError: the checkpoint does not fit (temporal modules, window,
            keypoint count, shapes).
        CorruptCheckpointError: the checkpoint file cannot be read
            (truncated or damaged; see :mod:`famipose_mmpose.checkpoint`).
        UnsafeCheckpointError: the checkpoint file holds Python objects a
            weights-only load refuses.
    """
    if isinstance(config, (str, Path)):
        if not osp.isfile(str(config)):
            raise FileNotFoundError(
                f'Pose config {str(config)!r} does not exist: check the '
                'config path.')
        config = Config.fromfile(str(config))
    elif isinstance(config, Config):
        config = copy.deepcopy(config)  # init_model edits it
    else:
        raise TypeError('config must be a file name or an mmengine Config, '
                        f'got {type(config).__name__}.')
    if checkpoint is not None and '://' not in str(checkpoint) and \
            not osp.isfile(str(checkpoint)):
        raise FileNotFoundError(
            f'Pose checkpoint {str(checkpoint)!r} does not exist: check the '
            'checkpoint path (e.g. the best checkpoint tools/train.py wrote '
            'into its work dir).')
    model = init_model(config, None, device=device, cfg_options=cfg_options)
    window = video_window_from_config(model.cfg)
    if checkpoint is not None:
        ckpt = CheckpointLoader.load_checkpoint(
            str(checkpoint), map_location='cpu')
        if not isinstance(ckpt, dict):
            raise ValueError(f'Checkpoint {checkpoint!r} is not a dict with '
                             'a state_dict.')
        check_checkpoint_compatibility(model, ckpt, window.frame_offsets,
                                       str(checkpoint))
        load_state_dict(model, checkpoint_state_dict(ckpt), strict=False)
        meta = ckpt.get('meta') or {}
        if isinstance(meta, dict) and meta.get('dataset_meta'):
            model.dataset_meta = meta['dataset_meta']
    model.to(device)
    model.eval()
    return model


# ---------------------------------------------------------------------------
# inference
# ---------------------------------------------------------------------------


def _person_info(img: Any, shape: Tuple[int, int], box: np.ndarray,
                 score: float, number: int, frame_meta: dict,
                 dataset_meta: dict) -> dict:
    """The pipeline input of one person: ``img`` (an image, or the T frames
    of the window, key first) to crop around ``box``."""
    info = dict(
        img=img,
        img_shape=shape,
        ori_shape=shape,
        id=number,
        bbox=np.asarray(box, dtype=np.float32).reshape(1, 4),
        bbox_score=np.asarray([score], dtype=np.float32),
        category_id=1,
        **frame_meta)
    info.update(dataset_meta)
    return info


def _person_samples(window: VideoWindow, sample: WindowSample,
                    boxes: PersonBoxes, frame_meta: dict,
                    dataset_meta: dict) -> List[dict]:
    """The pipeline inputs of the people of one key frame (key-box crops
    of the T frames)."""
    key = sample.key
    img = list(sample.frames) if window.video_input else key.image
    return [
        _person_info(img, key.image.shape[:2], box, score, n, frame_meta,
                     dataset_meta)
        for n, (box, score) in enumerate(zip(boxes.bboxes, boxes.scores))
    ]


def _reuse_requests(sample: WindowSample, crop_keys: List[List[CropKey]],
                    people_of: Callable[[int], FramePeople], frame_meta: dict,
                    dataset_meta: dict) -> Dict[CropKey, dict]:
    """The pipeline inputs of the crops of a key frame's windows (one image
    and one box each)."""
    images = dict(zip(sample.frame_indices, sample.frames))
    shape = sample.key.image.shape[:2]
    requests: Dict[CropKey, dict] = {}
    for n, keys in enumerate(crop_keys):
        for key in keys:
            if key in requests:
                continue
            track, index, box_index = key
            box, score = people_of(box_index).box_of(track)
            requests[key] = _person_info(images[index], shape, box, score, n,
                                         frame_meta, dataset_meta)
    return requests


def _frame_sample(key: Frame, video: str, image_id: Any, image_path: str,
                  frame_indices: List[int], boxes: PersonBoxes,
                  results: List[PoseDataSample], track_ids: np.ndarray,
                  num_keypoints: int) -> PoseDataSample:
    """Merge the per-person results of a frame into one data sample."""
    num = len(results)
    if num:
        keypoints = np.concatenate(
            [np.asarray(r.pred_instances.keypoints) for r in results])
        keypoint_scores = np.concatenate(
            [np.asarray(r.pred_instances.keypoint_scores) for r in results])
    else:
        keypoints = np.zeros((0, num_keypoints, 2), dtype=np.float32)
        keypoint_scores = np.zeros((0, num_keypoints), dtype=np.float32)
    instances = InstanceData()
    instances.bboxes = boxes.bboxes.reshape(num, 4)
    instances.bbox_scores = boxes.scores.reshape(num)
    instances.keypoints = keypoints.astype(np.float32)
    instances.keypoint_scores = keypoint_scores.astype(np.float32)
    instances.keypoints_visible = instances.keypoint_scores
    instances.track_ids = np.asarray(track_ids, dtype=np.int64).reshape(num)
    data_sample = PoseDataSample(
        metainfo=dict(
            video=video,
            frame_index=key.index,
            frame_name=key.name,
            img_id=image_id,
            img_path=image_path,
            img_shape=key.image.shape[:2],
            ori_shape=key.image.shape[:2],
            frame_indices=frame_indices))
    data_sample.pred_instances = instances
    return data_sample


def iter_video_poses(
    model: nn.Module,
    video: Union[str, FrameReader],
    person_source: PersonSource,
    track_iou_thr: float = 0.3,
    batch_size: Optional[int] = None
) -> Iterator[Tuple[Frame, PoseDataSample]]:
    """Estimate the poses of every frame of a video, lazily.

    Frames are read one at a time through a
    :class:`~.frame_buffer.FrameWindowBuffer` sized by the config's window
    (``model.cfg``: test dataset ``frame_offsets`` and ``border_policy``,
    see :func:`video_window_from_config`). Each frame's people are detected
    (boxes under 1 px are skipped) and tracked (IoU tracker) as soon as the
    frame is read, i.e. ahead of the key frame by the window's reach
    (:class:`~.tracking.TrackedFrames`). Frame ``t`` comes out as soon as
    frame ``t + max(offsets)`` is read: with a causal window (past frames
    only, e.g. ``[-4, -3, -2, -1]``) as soon as frame ``t`` itself is read,
    for live video.

    How the people of a key frame are cropped follows the model:

    - ``'key_box'`` (the paper's FAMI-Pose, and single-frame models): the
      config's test pipeline from ``GetBBoxCenterScale`` on crops every
      person from the T frames with its key-frame box; all people go
      through ``model.test_step`` together (in chunks of ``batch_size``);
    - ``'own_box'`` (``model.supporting_crops``, the reuse mode): each
      (track, frame) crop, cut with the track's own box in that frame, goes
      through the backbone once and is kept while a later key frame's
      window may need it (:class:`~.crop_features.CropFeatureCache`, at most
      the window's span of frames); a track without a box in a supporting
      frame gets that frame cut with its key-frame box instead; the temporal
      modules and the head then run on the cached features
      (:func:`~.crop_features.predict_with_cached_crops`).

    Args:
        model (nn.Module): From :func:`init_video_model` (or
            ``mmpose.apis.init_model``).
        video (str | FrameReader): A video file, a folder of frames, or an
            open reader (closed when the iteration ends).
        person_source (PersonSource): Gives the boxes of each frame.
        track_iou_thr (float): IoU threshold of the tracker. Defaults to
            0.3.
        batch_size (int, optional): Most people (or, in the reuse mode, new
            crops) per forward; ``None`` puts all of a frame in one forward.
            Defaults to ``None``.

    Yields:
        tuple[Frame, PoseDataSample]: The key frame and its predictions:
        ``pred_instances`` with ``bboxes`` (N, 4) xyxy, ``bbox_scores``
        (N, ), ``keypoints`` (N, K, 2) in image pixels,
        ``keypoint_scores`` (N, K) and ``track_ids`` (N, ); metainfo
        ``video``, ``frame_index``, ``frame_name``, ``img_id``, ``img_path``
        (the person source's image id and file name when it knows them,
        else the frame index and ``<video>/<frame name>``),
        ``frame_indices`` (the T frames used, key first).
    """
    if batch_size is not None and int(batch_size) < 1:
        raise ValueError(f'batch_size={batch_size!r} must be >= 1 or None.')
    window = video_window_from_config(model.cfg)
    pipeline = build_crop_pipeline(model.cfg)
    num_keypoints = int(model.dataset_meta['num_keypoints'])
    reuse = window.video_input and getattr(model, 'supporting_crops',
                                           'key_box') == 'own_box'
    cache = CropFeatureCache(model, pipeline, batch_size) if reuse else None
    reader = video if isinstance(video,
                                 FrameReader) else open_frame_reader(video)
    name = reader.video_name
    # the earliest frame a key frame's window can reach
    reach_back = min([0] + list(window.frame_offsets))

    def detect(frame: Frame) -> Tuple[np.ndarray, np.ndarray]:
        boxes = person_source(frame)
        sizes = boxes.bboxes[:, 2:] - boxes.bboxes[:, :2]
        keep = np.all(sizes >= MIN_BOX_SIZE, axis=1)
        return boxes.bboxes[keep], boxes.scores[keep]

    with reader:
        tracked = TrackedFrames(reader, detect, IoUTracker(track_iou_thr))
        buffer = FrameWindowBuffer(tracked, window.frame_offsets,
                                   window.border_policy)
        for sample in buffer:
            key = sample.key
            people = tracked.people(key.index)
            record = person_source.frame_record(key)
            image_id = key.index if record is None else record[0]
            image_path = (f'{name}/{key.name}' if record is None
                          or record[1] is None else record[1])
            frame_meta = dict(
                img_path=image_path,
                img_id=image_id,
                video=name,
                frame_index=key.index,
                frame_offsets=list(sample.frame_offsets),
                frame_indices=list(sample.frame_indices))
            if cache is None:
                results = _predict_key_boxes(
                    model, pipeline,
                    _person_samples(window, sample,
                                    PersonBoxes(people.bboxes, people.scores),
                                    frame_meta, model.dataset_meta),
                    batch_size)
            else:
                crop_keys = [
                    window_crop_keys(int(track), key.index,
                                     sample.frame_indices, tracked.people)
                    for track in people.track_ids
                ]
                cache.compute(
                    _reuse_requests(sample, crop_keys, tracked.people,
                                    frame_meta, model.dataset_meta))
                results = predict_with_cached_crops(model, cache, crop_keys)
                cache.forget_before(key.index + 1 + reach_back)
            tracked.forget_before(key.index + 1 + reach_back)
            yield key, _frame_sample(key, name, image_id, image_path,
                                     sample.frame_indices,
                                     PersonBoxes(people.bboxes,
                                                 people.scores), results,
                                     people.track_ids, num_keypoints)


def _predict_key_boxes(model: nn.Module, pipeline: Compose,
                       infos: List[dict],
                       batch_size: Optional[int]) -> List[PoseDataSample]:
    """The key-box crops of the people of a key frame through
    ``model.test_step`` (in chunks of ``batch_size``)."""
    results: List[PoseDataSample] = []
    step = len(infos) if batch_size is None else int(batch_size)
    for start in range(0, len(infos), max(step, 1)):
        batch = pseudo_collate(
            [pipeline(info) for info in infos[start:start + step]])
        with torch.no_grad():
            results.extend(model.test_step(batch))
    return results


def inference_video(model: nn.Module,
                    video: Union[str, FrameReader],
                    person_source: PersonSource,
                    track_iou_thr: float = 0.3,
                    batch_size: Optional[int] = None) -> List[PoseDataSample]:
    """Estimate and track the poses of every frame of a video.

    The list version of :func:`iter_video_poses` (see there): frames are
    still read lazily; only the predictions are kept.

    Args:
        model (nn.Module): From :func:`init_video_model`.
        video (str | FrameReader): A video file or a folder of frames.
        person_source (PersonSource): Gives the boxes of each frame.
        track_iou_thr (float): IoU threshold of the tracker. Defaults to
            0.3.
        batch_size (int, optional): Most people per forward. Defaults to
            ``None`` (all people of a frame).

    Returns:
        list[PoseDataSample]: One per frame, in order.
    """
    return [
        sample for _, sample in iter_video_poses(model, video, person_source,
                                                 track_iou_thr, batch_size)
    ]
