# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Video inference: from a video file (or a folder of frames) to per-frame,
per-person keypoints with track ids, in the style of ``mmpose.apis``.

Flow, per key frame ``t`` (FAMI-Pose, Liu et al., CVPR 2022: the key frame's
person box is cropped from the key frame and from the supporting frames
``t + offset``):

1. frames are decoded lazily into a window buffer
   (:class:`~.frame_buffer.FrameWindowBuffer`, at most
   ``2 * max(|offset|) + 1`` frames alive); video borders follow the
   config's ``border_policy``;
2. a person source gives the boxes of frame ``t``
   (:class:`~.person_sources.DetectorPersonSource`: an mmdet detector;
   :class:`~.person_sources.DetectionFilePersonSource`: a detection file);
3. every person becomes one sample of the config's test pipeline from
   ``GetBBoxCenterScale`` on, with ``img`` = the T frames (key first): the
   same crop is cut from all T frames; all people of the frame go through
   the model in one forward (``model.test_step``);
4. greedy IoU tracking (:class:`~.tracking.IoUTracker`) gives track ids.

A single-frame config (mmpose's ``TopdownPoseEstimator`` with ``LoadImage``)
runs through the same path with T = 1, so both models can be compared on
the same video and boxes.
"""
import ast
import copy
import inspect
import os.path as osp
from pathlib import Path
from typing import (Any, Dict, Iterator, List, NamedTuple, Optional, Sequence,
                    Tuple, Union)

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import CheckpointLoader, load_state_dict
from mmengine.structures import InstanceData
from mmpose.apis import init_model
from mmpose.registry import DATASETS
from mmpose.structures import PoseDataSample
from torch import nn

from ..datasets.frame_window import BORDER_POLICIES, check_frame_offsets
from .frame_buffer import (Frame, FrameReader, FrameWindowBuffer, WindowSample,
                           open_frame_reader)
from .person_sources import (DetectionFilePersonSource, PersonBoxes,
                             PersonSource)
from .tracking import IoUTracker
from .video_output import (AtomicVideoWriter, PoseTrack18PredictionWriter,
                           build_pose_visualizer, draw_frame_poses)

#: State-dict prefixes of FAMI-Pose's temporal modules: a checkpoint with
#: them was trained on a supporting-frame window.
TEMPORAL_PREFIXES = ('gtm.', 'lcm.', 'aggregation.')
#: The transform from which the config's test pipeline is reused.
CROP_START_TRANSFORM = 'GetBBoxCenterScale'
#: Loading transform of video configs.
VIDEO_LOADER = 'LoadVideoFrames'
#: Boxes smaller than this (pixels, width or height) are skipped: no crop.
MIN_BOX_SIZE = 1.0


class VideoWindow(NamedTuple):
    """The supporting-frame window a pose config asks for.

    Attributes:
        frame_offsets (list[int]): Supporting-frame offsets (``[]`` for
            single-frame configs).
        border_policy (str): ``'fami'``, ``'key'`` or ``'clip'``.
        video_input (bool): Whether the model takes the T frames as a list
            (``LoadVideoFrames`` configs); ``False`` for single-image
            configs (T = 1).
    """
    frame_offsets: List[int]
    border_policy: str
    video_input: bool


def _transform_name(transform: Any) -> str:
    """Type name of a transform config (scope prefix dropped)."""
    kind = transform.get('type') if isinstance(transform, dict) else None
    if isinstance(kind, type):
        return kind.__name__
    return str(kind).split('.')[-1]


def _test_dataset_cfg(cfg: Config) -> dict:
    """The config's test (else val) dataset config."""
    for name in ('test_dataloader', 'val_dataloader'):
        loader = cfg.get(name)
        if loader is not None and loader.get('dataset') is not None:
            dataset = loader['dataset']
            if dataset.get('pipeline') is not None:
                return dataset
    raise ValueError(
        'The pose config has no test_dataloader.dataset.pipeline (nor a '
        'val_dataloader one); video inference reuses that test pipeline '
        '(GetBBoxCenterScale, TopdownAffine, PackPoseInputs).')


def _dataset_default(dataset_cfg: dict, name: str) -> Any:
    """Default of argument ``name`` of the dataset class, if any."""
    kind = dataset_cfg.get('type')
    if not kind:
        return None
    try:
        cls = kind if isinstance(kind, type) else DATASETS.get(kind)
    except KeyError:
        return None
    if cls is None:
        return None
    param = inspect.signature(cls.__init__).parameters.get(name)
    if param is None or param.default is inspect.Parameter.empty:
        return None
    return param.default


def video_window_from_config(cfg: Config) -> VideoWindow:
    """Read the supporting-frame window of a pose config.

    The test dataset's ``frame_offsets`` and ``border_policy`` are used (the
    dataset class's defaults when absent). A test pipeline that loads with
    ``LoadVideoFrames`` takes the T frames as a list; any other (e.g.
    mmpose's ``LoadImage``) is single-frame: T = 1.

    Args:
        cfg (Config): The pose config.

    Returns:
        VideoWindow: The window.

    Raises:
        ValueError: a single-image pipeline with supporting-frame offsets,
            or an invalid offset / border policy.
    """
    dataset_cfg = _test_dataset_cfg(cfg)
    names = [_transform_name(t) for t in dataset_cfg['pipeline']]
    video_input = VIDEO_LOADER in names
    offsets = dataset_cfg.get('frame_offsets')
    if offsets is None:
        offsets = _dataset_default(dataset_cfg, 'frame_offsets') \
            if video_input else []
    offsets = check_frame_offsets(list(offsets or []))
    if offsets and not video_input:
        raise ValueError(
            f'The pose config asks for supporting frames (test dataset '
            f'frame_offsets={offsets}) but its test pipeline {names} loads '
            f'single images; video configs load with {VIDEO_LOADER}.')
    policy = dataset_cfg.get('border_policy')
    if policy is None:
        policy = _dataset_default(dataset_cfg, 'border_policy') or 'fami'
    if policy not in BORDER_POLICIES:
        raise ValueError(f'The pose config has border_policy={policy!r}; use '
                         f'one of {BORDER_POLICIES}.')
    return VideoWindow(offsets, policy, video_input)


def build_crop_pipeline(cfg: Config) -> Compose:
    """The config's test pipeline from ``GetBBoxCenterScale`` on.

    Args:
        cfg (Config): The pose config.

    Returns:
        Compose: Transforms that take ``img`` (an array, or a list of T
        arrays key first) plus ``bbox``/``bbox_score`` and pack a sample.
    """
    pipeline = list(_test_dataset_cfg(cfg)['pipeline'])
    names = [_transform_name(t) for t in pipeline]
    if CROP_START_TRANSFORM not in names:
        raise ValueError(
            f'The pose config\'s test pipeline {names} has no '
            f'{CROP_START_TRANSFORM}; top-down video inference starts the '
            'test pipeline there (then TopdownAffine, PackPoseInputs).')
    scope = cfg.get('default_scope', 'mmpose')
    if scope is not None:
        init_default_scope(scope)
    return Compose(pipeline[names.index(CROP_START_TRANSFORM):])


# ---------------------------------------------------------------------------
# checkpoints
# ---------------------------------------------------------------------------


def _literal_offsets(node: ast.AST) -> Optional[List[int]]:
    """A literal list of ints in a config's syntax tree, else ``None``."""
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError):
        return None
    if isinstance(value, (list, tuple)) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        return list(value)
    return None


def _offsets_in_config_text(text: str) -> Optional[List[int]]:
    """``frame_offsets`` of the test (else val, else train) dataset written
    in a config's text, read with ``ast`` (the text is never executed)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None

    def find(node: ast.AST) -> Optional[List[int]]:
        for sub in ast.walk(node):
            value = None
            if isinstance(sub, ast.keyword) and sub.arg == 'frame_offsets':
                value = sub.value
            elif isinstance(sub, ast.Dict):
                for key, val in zip(sub.keys, sub.values):
                    if isinstance(key, ast.Constant) and \
                            key.value == 'frame_offsets':
                        value = val
            if value is not None:
                offsets = _literal_offsets(value)
                if offsets is not None:
                    return offsets
        return None

    assigned: Dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned[target.id] = node.value
    for name in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        if name in assigned:
            offsets = find(assigned[name])
            if offsets is not None:
                return offsets
    if 'frame_offsets' in assigned:
        return _literal_offsets(assigned['frame_offsets'])
    return None


def checkpoint_frame_offsets(checkpoint: dict) -> Optional[List[int]]:
    """The supporting-frame window a checkpoint was trained with.

    Read from ``meta['frame_offsets']`` when present, else from the training
    config that mmengine's runner stores as text in ``meta['cfg']`` (parsed,
    not executed).

    Args:
        checkpoint (dict): The loaded checkpoint.

    Returns:
        list[int] | None: The offsets, ``None`` when the checkpoint does not
        tell.
    """
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    if not isinstance(meta, dict):
        return None
    if meta.get('frame_offsets') is not None:
        offsets = meta['frame_offsets']
        if not isinstance(offsets, (list, tuple)) or not all(
                isinstance(o, int) and not isinstance(o, bool)
                for o in offsets):
            raise ValueError(
                f'The checkpoint\'s meta["frame_offsets"] must be a list of '
                f'ints such as [-2, -1, 1, 2], got {offsets!r}.')
        return list(offsets)
    if isinstance(meta.get('cfg'), str):
        return _offsets_in_config_text(meta['cfg'])
    return None


def _state_dict(checkpoint: Any) -> Dict[str, torch.Tensor]:
    """The state dict of a checkpoint, ``module.`` prefixes removed."""
    state = checkpoint.get('state_dict', checkpoint) if isinstance(
        checkpoint, dict) else None
    if not isinstance(state, dict):
        raise ValueError('the checkpoint holds no state_dict.')
    return {
        (key[len('module.'):] if key.startswith('module.') else key): value
        for key, value in state.items()
    }


def check_checkpoint_compatibility(model: nn.Module,
                                   checkpoint: dict,
                                   frame_offsets: Sequence[int],
                                   source: str = 'checkpoint') -> None:
    """Refuse a checkpoint that does not fit the config's model and window.

    Checks, in order:

    1. the window: the checkpoint's frame offsets
       (:func:`checkpoint_frame_offsets`) must equal ``frame_offsets``; a
       checkpoint with temporal-module weights (``gtm.``, ``lcm.``,
       ``aggregation.``) needs a model that has them and vice versa;
    2. the keypoint count: ``head.final_layer.weight`` of the checkpoint
       must have the config's ``head.out_channels`` rows;
    3. every other parameter present in both must have the same shape.

    Args:
        model (nn.Module): The model built from the config.
        checkpoint (dict): The loaded checkpoint.
        frame_offsets (Sequence[int]): The config's window (``[]`` for a
            single-frame config).
        source (str): The checkpoint's name for messages. Defaults to
            ``'checkpoint'``.

    Raises:
        ValueError: naming the checkpoint, the field and the fix.
    """
    try:
        state = _state_dict(checkpoint)
    except ValueError as err:
        raise ValueError(f'Checkpoint {source!r}: {err} Save it with '
                         'torch.save({"state_dict": model.state_dict(), '
                         '"meta": {...}}).') from err
    own = model.state_dict()
    offsets = list(frame_offsets)
    ckpt_offsets = checkpoint_frame_offsets(checkpoint)
    if ckpt_offsets is not None and ckpt_offsets != offsets:
        raise ValueError(
            f'Checkpoint {source!r} was trained with frame_offsets='
            f'{ckpt_offsets} (its meta), but the config asks for '
            f'{offsets or "a single frame"}. Use the config the checkpoint '
            'was trained with, or set test_dataloader.dataset.frame_offsets='
            f'{ckpt_offsets}.')
    ckpt_temporal = sorted(k for k in state if k.startswith(TEMPORAL_PREFIXES))
    own_temporal = sorted(k for k in own if k.startswith(TEMPORAL_PREFIXES))
    if own_temporal and not ckpt_temporal:
        raise ValueError(
            f'Checkpoint {source!r} has no weights for the temporal modules '
            f'of the config ({own_temporal[0]}, ...): it is a single-frame '
            f'checkpoint, but the config is a video model with '
            f'frame_offsets={offsets}. Use the single-frame config it was '
            'trained with, or a FAMI-Pose checkpoint.')
    if ckpt_temporal and not own_temporal:
        raise ValueError(
            f'Checkpoint {source!r} holds temporal-module weights '
            f'({ckpt_temporal[0]}, ...): it was trained on a supporting-frame'
            ' window, but the config builds a model without them. Use the '
            'FAMI-Pose config the checkpoint was trained with.')
    head_key = 'head.final_layer.weight'
    if head_key in state and head_key in own and \
            state[head_key].shape[0] != own[head_key].shape[0]:
        raise ValueError(
            f'Checkpoint {source!r} predicts {state[head_key].shape[0]} '
            f'keypoints ({head_key} has shape {tuple(state[head_key].shape)})'
            f' but the config\'s model.head.out_channels is '
            f'{own[head_key].shape[0]}. Use the config (and dataset '
            'metainfo) the checkpoint was trained with.')
    mismatched = [
        f'{key}: checkpoint {tuple(state[key].shape)} vs config '
        f'{tuple(own[key].shape)}' for key in own
        if key in state and hasattr(state[key], 'shape')
        and tuple(state[key].shape) != tuple(own[key].shape)
    ]
    if mismatched:
        raise ValueError(
            f'Checkpoint {source!r} does not fit the config\'s model: '
            f'{len(mismatched)} parameter shapes differ (' +
            '; '.join(mismatched[:3]) +
            '). Use the config the checkpoint was trained with.')


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
        ValueError: the checkpoint does not fit (window, keypoint count,
            shapes).
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
        load_state_dict(model, _state_dict(ckpt), strict=False)
        meta = ckpt.get('meta') or {}
        if isinstance(meta, dict) and meta.get('dataset_meta'):
            model.dataset_meta = meta['dataset_meta']
    model.to(device)
    model.eval()
    return model


# ---------------------------------------------------------------------------
# inference
# ---------------------------------------------------------------------------


def _person_samples(window: VideoWindow, sample: WindowSample,
                    boxes: PersonBoxes, video: str, image_id: Any,
                    image_path: str, dataset_meta: dict) -> List[dict]:
    """The pipeline inputs of the people of one key frame."""
    key = sample.key
    shape = key.image.shape[:2]
    infos = []
    for n, (box, score) in enumerate(zip(boxes.bboxes, boxes.scores)):
        info = dict(
            img=list(sample.frames) if window.video_input else key.image,
            img_shape=shape,
            ori_shape=shape,
            img_path=image_path,
            img_id=image_id,
            id=n,
            bbox=np.asarray(box, dtype=np.float32).reshape(1, 4),
            bbox_score=np.asarray([score], dtype=np.float32),
            video=video,
            frame_index=key.index,
            frame_offsets=list(sample.frame_offsets),
            frame_indices=list(sample.frame_indices),
            category_id=1)
        info.update(dataset_meta)
        infos.append(info)
    return infos


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
    see :func:`video_window_from_config`). For each key frame the person
    source gives the boxes (boxes under 1 px are skipped), the config's
    test pipeline from ``GetBBoxCenterScale`` on crops every person from
    the T frames with its key-frame box, all people go through
    ``model.test_step`` together (in chunks of ``batch_size`` when set),
    and the IoU tracker assigns track ids.

    Args:
        model (nn.Module): From :func:`init_video_model` (or
            ``mmpose.apis.init_model``).
        video (str | FrameReader): A video file, a folder of frames, or an
            open reader (closed when the iteration ends).
        person_source (PersonSource): Gives the boxes of each frame.
        track_iou_thr (float): IoU threshold of the tracker. Defaults to
            0.3.
        batch_size (int, optional): Most people per forward; ``None`` puts
            all people of a frame in one forward. Defaults to ``None``.

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
    tracker = IoUTracker(track_iou_thr)
    reader = video if isinstance(video,
                                 FrameReader) else open_frame_reader(video)
    name = reader.video_name
    with reader:
        buffer = FrameWindowBuffer(reader, window.frame_offsets,
                                   window.border_policy)
        for sample in buffer:
            key = sample.key
            boxes = person_source(key)
            sizes = boxes.bboxes[:, 2:] - boxes.bboxes[:, :2]
            keep = np.all(sizes >= MIN_BOX_SIZE, axis=1)
            boxes = PersonBoxes(boxes.bboxes[keep], boxes.scores[keep])
            record = person_source.frame_record(key)
            image_id = key.index if record is None else record[0]
            image_path = (f'{name}/{key.name}' if record is None
                          or record[1] is None else record[1])
            infos = _person_samples(window, sample, boxes, name, image_id,
                                    image_path, model.dataset_meta)
            results: List[PoseDataSample] = []
            step = len(infos) if batch_size is None else int(batch_size)
            for start in range(0, len(infos), max(step, 1)):
                batch = pseudo_collate(
                    [pipeline(info) for info in infos[start:start + step]])
                with torch.no_grad():
                    results.extend(model.test_step(batch))
            track_ids = tracker.update(boxes.bboxes)
            yield key, _frame_sample(key, name, image_id, image_path,
                                     sample.frame_indices, boxes, results,
                                     track_ids, num_keypoints)


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


def _find_ann_file(frames_dir: str, det_file: str) -> str:
    """``posetrack18_<split>.json`` next to the detection file, ``<split>``
    being the folder above the video's frame folder
    (``images/<split>/<video>``)."""
    split = osp.basename(osp.dirname(osp.normpath(frames_dir)))
    candidate = osp.join(
        osp.dirname(osp.abspath(det_file)), f'posetrack18_{split}.json')
    if not osp.isfile(candidate):
        raise FileNotFoundError(
            f'render_video: no ann_file given and {candidate!r} does not '
            'exist; pass ann_file (the PoseTrack json listing the images of '
            f'{frames_dir!r}) to map the detections to the frames.')
    return candidate


def render_video(config: Union[str, Path, Config],
                 checkpoint: Optional[str],
                 frames_dir: str,
                 det_file: str,
                 out_path: str,
                 ann_file: Optional[str] = None,
                 pred_file: Optional[str] = None,
                 device: str = 'cpu',
                 bbox_thr: float = 0.2,
                 kpt_thr: float = 0.3,
                 fps: float = 10.0,
                 draw_bbox: bool = True) -> Dict[str, Any]:
    """Render one video (e.g. a synthetic PoseTrack clip) with a pose model
    into an annotated ``.mp4`` / ``.avi`` / ``.gif``.

    Boxes come from ``det_file`` (``DetectionFilePersonSource``, matched by
    frame file name); the video's images are looked up in ``ann_file``, by
    default ``posetrack18_<split>.json`` next to ``det_file`` for frames in
    ``images/<split>/<video>`` (the synthetic and PoseTrack18 layouts).
    Both outputs are written under temporary names and renamed when
    complete.

    Args:
        config (str | Path | Config): Pose config.
        checkpoint (str, optional): Pose checkpoint (``None``: random
            weights).
        frames_dir (str): Folder of the video's frames
            (``.../images/val/<video>``).
        det_file (str): Detection file (mmpose's bbox-file format).
        out_path (str): Annotated video to write.
        ann_file (str, optional): Annotation file listing the video's
            images. Defaults to ``None`` (found as described above).
        pred_file (str, optional): Also write the PoseTrack18 prediction
            file there. Defaults to ``None``.
        device (str): Device. Defaults to ``'cpu'``.
        bbox_thr (float): Detections with a lower score are dropped
            (FAMI-Pose tests with 0.2). Defaults to 0.2.
        kpt_thr (float): Keypoints with a lower score are not drawn.
            Defaults to 0.3.
        fps (float): Frame rate of the output. Defaults to 10.
        draw_bbox (bool): Draw the person boxes. Defaults to ``True``.

    Returns:
        dict: ``out_path``, ``pred_file``, ``frames`` (rendered),
        ``people`` (total person-frames), ``tracks`` (distinct track ids).
    """
    if ann_file is None:
        ann_file = _find_ann_file(frames_dir, det_file)
    model = init_video_model(config, checkpoint, device=device)
    source = DetectionFilePersonSource(
        det_file,
        ann_file=ann_file,
        video=osp.basename(osp.normpath(frames_dir)),
        match_by='file_name',
        bbox_thr=bbox_thr)
    visualizer = build_pose_visualizer(model.dataset_meta)
    predictions = PoseTrack18PredictionWriter(model.dataset_meta)
    people = 0
    tracks = set()
    with AtomicVideoWriter(out_path, fps=fps) as writer:
        for frame, sample in iter_video_poses(model, frames_dir, source):
            writer.write(
                draw_frame_poses(
                    visualizer,
                    frame.image,
                    sample,
                    kpt_thr=kpt_thr,
                    draw_bbox=draw_bbox))
            predictions.add(sample)
            people += len(sample.pred_instances)
            tracks.update(int(t) for t in sample.pred_instances.track_ids)
        num_frames = writer.num_frames
    if pred_file is not None:
        predictions.dump(pred_file)
    return dict(
        out_path=out_path,
        pred_file=pred_file,
        frames=num_frames,
        people=people,
        tracks=len(tracks))
