# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Render one video sample after its pipeline: the T crops side by side.

Like mmpose's ``tools/misc/browse_dataset.py`` (transformed mode) for the
video datasets: the dataset of a config is built with its pipeline, sample
``--index`` is run through it, and the T crops (key frame first, then the
supporting frames in ``frame_offsets`` order) are written side by side to a
PNG, each with the key frame's transformed keypoints and skeleton drawn and a
banner ``t<offset> #<frame index>``.

    python tools/browse_video_dataset.py CONFIG --index 0 --output out.png \
        [--phase train|val|test] [--scale 2] [--cfg-options k=v ...]
"""
import argparse
import os
import os.path as osp
from typing import List, Optional, Sequence

import cv2
import numpy as np
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmpose.registry import DATASETS

import famipose_mmpose.datasets  # noqa: F401  (registers the datasets)
from famipose_mmpose.datasets import VIDEO_META_KEYS

BANNER = 14  # banner height in pixels (before --scale)
GAP = 4  # pixels between panels


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Render the T frames of one video sample after the '
        'pipeline, side by side, to a PNG.')
    parser.add_argument('config', help='config file')
    parser.add_argument('--index', type=int, default=0, help='sample index')
    parser.add_argument('--output', required=True, help='PNG file to write')
    parser.add_argument(
        '--phase', default='train', choices=['train', 'val', 'test'])
    parser.add_argument(
        '--scale', type=int, default=2, help='integer zoom of the crops')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value')
    return parser.parse_args(argv)


def dataset_config(cfg: Config, phase: str) -> dict:
    """The dataset config of ``phase`` with ``PackPoseInputs`` set to keep
    the transformed keypoints and the video meta keys."""
    loader = f'{phase}_dataloader'
    if loader not in cfg or 'dataset' not in cfg[loader]:
        raise KeyError(f'config {cfg.filename!r} has no {loader}.dataset.')
    dataset = cfg[loader]['dataset'].to_dict() if hasattr(
        cfg[loader]['dataset'], 'to_dict') else dict(cfg[loader]['dataset'])
    pipeline = list(dataset.get('pipeline', []))
    packs = [
        i for i, t in enumerate(pipeline) if t.get('type') in ('PackPoseInputs', 'PackVideoPoseInputs')
    ]
    if not packs:
        raise ValueError(
            f'config {cfg.filename!r}: the pipeline of {loader}.dataset has '
            'no PackPoseInputs step; nothing to render.')
    pack = dict(pipeline[packs[-1]])
    meta_keys = list(pack.get('meta_keys', ('id', 'img_id', 'img_path')))
    pack['meta_keys'] = tuple(
        meta_keys + [k for k in VIDEO_META_KEYS if k not in meta_keys])
    pack['pack_transformed'] = True
    pipeline[packs[-1]] = pack
    dataset['pipeline'] = pipeline
    return dataset


def draw_pose(img: np.ndarray, keypoints: np.ndarray, visible: np.ndarray,
              meta: dict, scale: int) -> np.ndarray:
    """Draw keypoints (K, 2) in crop coordinates on an upscaled crop."""
    radius = max(1, scale)
    points = (keypoints + 0.5) * scale - 0.5
    colors = meta.get('keypoint_colors')
    for (i, j), color in zip(
            meta.get('skeleton_links', []), meta.get('skeleton_link_colors',
                                                     [])):
        if visible[i] > 0 and visible[j] > 0:
            cv2.line(img, tuple(int(round(v)) for v in points[i]),
                     tuple(int(round(v)) for v in points[j]),
                     tuple(int(c) for c in color), 1, cv2.LINE_AA)
    for k, (x, y) in enumerate(points):
        if visible[k] > 0:
            color = (
                tuple(int(c) for c in colors[k]) if colors is not None else
                (0, 255, 0))
            cv2.circle(img, (int(round(x)), int(round(y))), radius, color, -1,
                       cv2.LINE_AA)
    return img


def to_uint8_bgr(frame) -> np.ndarray:
    """(3, H, W) tensor (BGR, as loaded) -> (H, W, 3) uint8 array."""
    array = frame.detach().cpu().numpy() if hasattr(frame, 'detach') else \
        np.asarray(frame)
    if array.ndim == 2:
        array = array[None]
    array = np.transpose(array, (1, 2, 0))
    if array.shape[2] == 1:
        array = np.repeat(array, 3, axis=2)
    return np.clip(array, 0, 255).astype(np.uint8)


def render_sample(packed: dict, meta: dict, scale: int = 2) -> np.ndarray:
    """The T crops of a packed sample side by side, pose drawn on each.

    Args:
        packed (dict): ``inputs`` (T, 3, H, W) or (3, H, W) and
            ``data_samples`` (with ``transformed_keypoints``).
        meta (dict): Dataset metainfo (colours, skeleton).
        scale (int): Integer zoom.

    Returns:
        np.ndarray: (BANNER * scale + H * scale, T * W * scale + gaps, 3).
    """
    inputs = packed['inputs']
    frames = [inputs] if inputs.dim() == 3 else list(inputs)
    sample = packed['data_samples']
    gt = sample.gt_instances
    keypoints = np.asarray(gt.transformed_keypoints)[0][:, :2]
    visible = np.asarray(gt.keypoints_visible)[0]
    if visible.ndim > 1:
        visible = visible[:, 0]
    offsets = sample.get('frame_offsets', [0] * len(frames))
    indices = sample.get('frame_indices', [None] * len(frames))
    panels: List[np.ndarray] = []
    for t, frame in enumerate(frames):
        crop = to_uint8_bgr(frame)
        h, w = crop.shape[:2]
        crop = cv2.resize(
            crop, (w * scale, h * scale), interpolation=cv2.INTER_NEAREST)
        crop = draw_pose(crop, keypoints, visible, meta, scale)
        banner = np.zeros((BANNER * scale, w * scale, 3), dtype=np.uint8)
        label = 'key' if t == 0 else f't{offsets[t]:+d}'
        if indices[t] is not None:
            label += f' #{indices[t]}'
        font_scale = 0.3 * scale
        while font_scale > 0.2 and cv2.getTextSize(
                label, cv2.FONT_HERSHEY_SIMPLEX, font_scale,
                1)[0][0] > w * scale - 4:
            font_scale *= 0.9
        cv2.putText(banner, label, (2, BANNER * scale - 4 * scale),
                    cv2.FONT_HERSHEY_SIMPLEX, font_scale,
                    (0, 255, 255) if t == 0 else (255, 255, 255), 1,
                    cv2.LINE_AA)
        panels.append(np.concatenate([banner, crop], axis=0))
        if t < len(frames) - 1:
            panels.append(
                np.full((panels[-1].shape[0], GAP, 3), 128, dtype=np.uint8))
    return np.concatenate(panels, axis=1)


def main(argv: Optional[Sequence[str]] = None) -> str:
    """Render the sample; returns the written PNG's path."""
    args = parse_args(argv)
    if args.scale < 1:
        raise ValueError(f'--scale must be >= 1, got {args.scale}.')
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    dataset = DATASETS.build(dataset_config(cfg, args.phase))
    if not -len(dataset) <= args.index < len(dataset):
        raise IndexError(f'--index {args.index} is out of range: the '
                         f'{args.phase} dataset of {args.config!r} has '
                         f'{len(dataset)} sample(s).')
    packed = dataset[args.index]
    canvas = render_sample(packed, dataset.metainfo, args.scale)
    folder = osp.dirname(osp.abspath(args.output))
    os.makedirs(folder, exist_ok=True)
    if not cv2.imwrite(args.output, canvas):
        raise OSError(f'cannot write {args.output!r}.')
    print(f'wrote {args.output} ({canvas.shape[1]}x{canvas.shape[0]}, '
          f'{len(packed["inputs"]) if packed["inputs"].dim() == 4 else 1} '
          f'frame(s) of sample {args.index})')
    return args.output


if __name__ == '__main__':
    main()
