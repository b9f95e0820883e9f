# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Generate a whole synthetic PoseTrack18-format data set on disk.

Every video is sampled from its own seed, derived from ``(seed, split,
video index)``, so a video does not change when other videos are added and
the result does not depend on the number of worker processes. The data set
is written into a hidden sibling folder and renamed into place only when
complete (the marker file ``synthetic_posetrack.json`` is written last), so a
crash never leaves a folder that looks finished.
"""
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Dict, List

import cv2
import numpy as np

from .config import SyntheticConfig, make_config
from .detections import simulate_detections
from .render import render_frame
from .scene import sample_scene
from .writer import (EVAL_SPLITS, HARD_INFO, SPLITS, annotation_record, coco_file, detection_file_name, hard_record,
                     image_record, video_name, video_number, write_json)

MARKER_FILE = 'synthetic_posetrack.json'
FORMAT_VERSION = 1

_STAT_KEYS = ('videos', 'frames', 'labeled_frames', 'people', 'annotations',
              'occluded_joints', 'person_occluded_joints', 'blurred_frames',
              'blurred_labeled_frames', 'frames_with_ignore_regions',
              'occluders', 'detections')


@dataclass(frozen=True)
class _VideoJob:
    cfg: SyntheticConfig
    seed: int
    split: str
    index: int
    root: str


def _video_seed(seed: int, split: str, index: int) -> np.random.SeedSequence:
    return np.random.SeedSequence([seed, SPLITS.index(split), index])


def _encode_jpeg(image: np.ndarray, quality: int) -> bytes:
    ok, buf = cv2.imencode('.jpg', image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError('OpenCV could not encode a JPEG frame.')
    return buf.tobytes()


def _make_video(job: _VideoJob) -> Dict[str, Any]:
    """Render one video, write its frames and per-video json.

    Returns:
        dict: ``images``, ``annotations``, ``hard`` and ``detections``
        records of the video and its ``stats``.
    """
    cfg, split = job.cfg, job.split
    scene_ss, noise_ss, det_ss = _video_seed(job.seed, split,
                                             job.index).spawn(3)
    scene = sample_scene(np.random.default_rng(scene_ss), cfg)
    noise_rng = np.random.default_rng(noise_ss)
    det_rng = np.random.default_rng(det_ss)
    name = video_name(split, job.index)
    vid = video_number(split, job.index)
    stride = (cfg.train_label_stride
              if split == 'train' else cfg.val_label_stride)
    frame_dir = os.path.join(job.root, 'images', split, name)
    os.makedirs(frame_dir, exist_ok=True)

    stats = dict.fromkeys(_STAT_KEYS, 0)
    stats.update(videos=1, people=len(scene.people),
                 occluders=len(scene.occluders))
    images, annotations, hard, detections = [], [], [], []
    for t in range(scene.num_frames):
        frame = render_frame(scene, t, noise_rng)
        with open(os.path.join(frame_dir, f'{t:06d}.jpg'), 'wb') as f:
            f.write(_encode_jpeg(frame.image, cfg.jpeg_quality))
        labeled = t % stride == 0
        image = image_record(split, name, vid, t, scene.num_frames, labeled,
                             cfg.image_width, cfg.image_height,
                             frame.ignore_regions)
        images.append(image)
        ann_ids = {}
        if labeled:
            for person in frame.people:
                record = annotation_record(person, image['id'])
                if record is None:
                    continue
                annotations.append(record)
                ann_ids[person.track_id] = record['id']
        entry = hard_record(image, name, t, frame, ann_ids)
        hard.append(entry)
        if split in EVAL_SPLITS:
            detections += simulate_detections(frame, image['id'], cfg,
                                              det_rng)
        blurred = frame.blur_length > 0
        stats['frames'] += 1
        stats['blurred_frames'] += int(blurred)
        stats['frames_with_ignore_regions'] += int(bool(frame.ignore_regions))
        if labeled:
            stats['labeled_frames'] += 1
            stats['blurred_labeled_frames'] += int(blurred)
            for person in entry['people']:
                if person['annotation_id'] is not None:
                    stats['occluded_joints'] += len(person['occluded_joints'])
                    stats['person_occluded_joints'] += len(
                        person['person_occluded_joints'])
    stats['annotations'] = len(annotations)
    stats['detections'] = len(detections)
    write_json(
        os.path.join(job.root, 'annotations', split, f'{name}.json'),
        coco_file(images, annotations))
    return dict(
        images=images,
        annotations=annotations,
        hard=hard,
        detections=detections,
        stats=stats)


def _prepare_output(out_dir: str, overwrite: bool) -> None:
    """Refuse to clobber an existing non-empty folder unless allowed."""
    if not os.path.lexists(out_dir):
        return
    if not os.path.isdir(out_dir) or os.path.islink(out_dir):
        raise FileExistsError(
            f'Output path {out_dir} exists and is not a folder: choose '
            'another output folder.')
    if not os.listdir(out_dir):
        return
    if not overwrite:
        raise FileExistsError(
            f'Output folder {out_dir} is not empty: pass overwrite=True '
            '(--overwrite) to replace it, or choose another folder.')
    if not os.path.isfile(os.path.join(out_dir, MARKER_FILE)):
        raise FileExistsError(
            f'Output folder {out_dir} is not empty and has no '
            f'{MARKER_FILE}, so it was not written by this generator; '
            'overwrite only replaces generated data sets: delete it yourself '
            'or choose another folder.')


def _run_jobs(jobs: List[_VideoJob], workers: int) -> List[Dict[str, Any]]:
    if workers <= 1 or len(jobs) <= 1:
        return [_make_video(job) for job in jobs]
    with ProcessPoolExecutor(
            max_workers=workers,
            initializer=cv2.setNumThreads,
            initargs=(1, )) as pool:
        return list(pool.map(_make_video, jobs))


def generate_dataset(out_dir: str,
                     preset: str = 'demo',
                     seed: int = 0,
                     overwrite: bool = False,
                     workers: int = 1,
                     **options: Any) -> Dict[str, Any]:
    """Generate a synthetic occluded-video pose data set (PoseTrack18 format).

    Args:
        out_dir (str): Output root; must not exist, be empty, or (with
            ``overwrite``) hold a data set written by this generator.
        preset (str): ``tiny``, ``demo`` or ``bench``. Defaults to
            ``'demo'``.
        seed (int): Random seed; the same seed and options give
            byte-identical files. Defaults to 0.
        overwrite (bool): Replace an existing generated data set.
            Defaults to False.
        workers (int): Processes rendering videos in parallel (the output
            does not depend on it). Defaults to 1.
        **options: Fields of :class:`~.config.SyntheticConfig` overriding
            the preset (``None`` keeps the preset's value).

    Returns:
        dict: Summary: ``out_dir``, ``preset``, ``seed``, ``config``,
        per-split counts under ``splits`` (videos, frames, labeled_frames,
        people, annotations, occluded_joints, person_occluded_joints,
        blurred_frames, blurred_labeled_frames, frames_with_ignore_regions,
        occluders, detections) and ``seconds``.
    """
    start = time.perf_counter()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or (
            seed < 0):
        raise ValueError(f'seed={seed!r} must be a non-negative integer.')
    if isinstance(workers, bool) or not isinstance(workers, int) or (
            workers < 1):
        raise ValueError(f'workers={workers!r} must be a positive integer.')
    cfg = make_config(preset, **options)
    out_dir = os.path.abspath(os.fspath(out_dir))
    _prepare_output(out_dir, overwrite)
    parent = os.path.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    partial = f'.{os.path.basename(out_dir)}.partial-{os.getpid()}'
    tmp_dir = os.path.join(parent, partial)
    if os.path.lexists(tmp_dir):
        shutil.rmtree(tmp_dir)
    threads = cv2.getNumThreads()
    try:
        cv2.setNumThreads(1)
        os.makedirs(tmp_dir)
        counts = {
            'train': cfg.num_train_videos,
            'val': cfg.num_val_videos,
            'test': cfg.num_test_videos
        }
        jobs = [
            _VideoJob(cfg, int(seed), split, index, tmp_dir)
            for split in SPLITS for index in range(counts[split])
        ]
        results = _run_jobs(jobs, workers)
        splits: Dict[str, Dict[str, int]] = {}
        for split in SPLITS:
            mine = [r for job, r in zip(jobs, results) if job.split == split]
            os.makedirs(
                os.path.join(tmp_dir, 'annotations', split), exist_ok=True)
            os.makedirs(os.path.join(tmp_dir, 'images', split), exist_ok=True)
            write_json(
                os.path.join(tmp_dir, 'annotations',
                             f'posetrack18_{split}.json'),
                coco_file([i for r in mine for i in r['images']],
                          [a for r in mine for a in r['annotations']]))
            write_json(
                os.path.join(tmp_dir, 'annotations', f'{split}_hard.json'), {
                    'info': HARD_INFO,
                    'images': [h for r in mine for h in r['hard']]
                })
            if split in EVAL_SPLITS:
                write_json(
                    os.path.join(tmp_dir, 'annotations',
                                 detection_file_name(split)),
                    [d for r in mine for d in r['detections']])
            splits[split] = {
                key: sum(r['stats'][key] for r in mine)
                for key in _STAT_KEYS
            }
        summary = {
            'out_dir': out_dir,
            'preset': preset,
            'seed': int(seed),
            'config': cfg.to_dict(),
            'splits': splits,
        }
        marker = {
            'generator': 'famipose_mmpose.synthetic',
            'format_version': FORMAT_VERSION,
            'preset': preset,
            'seed': int(seed),
            'config': cfg.to_dict(),
            'splits': splits,
        }
        # The marker is written last: its presence means "complete".
        write_json(os.path.join(tmp_dir, MARKER_FILE), marker)
        if os.path.lexists(out_dir):
            shutil.rmtree(out_dir)  # empty, or a generated set (checked)
        os.rename(tmp_dir, out_dir)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    finally:
        cv2.setNumThreads(threads)
    summary['seconds'] = round(time.perf_counter() - start, 2)
    return summary
