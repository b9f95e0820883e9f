# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""PoseTrack18-format records and files of the synthetic data set.

Layout written under the output root (PoseTrack18 conventions)::

    images/{train,val,test}/<video>/%06d.jpg         frames, from 000000
    annotations/{train,val,test}/<video>.json        official per-video files
    annotations/posetrack18_{train,val,test}.json    merged COCO-style files
    annotations/posetrack18_{val,test}_human_detections.json
                                                     detector boxes
    annotations/{train,val,test}_hard.json           occlusion / blur record
    synthetic_posetrack.json                         options + summary; the
                                                     completion marker

Ids follow PoseTrack18: a video ``<vid>`` (6 digits) is named
``<vid>_synth_<split>``; frame ``f`` has ``id == frame_id ==
int('1' + vid + '%04d' % f)``; a person's annotation has
``id = image_id * 100 + track_id``. Train videos are numbered from 000001,
val videos from 500001, test videos from 800001.

The three splits hold distinct videos drawn from the same distributions
(each video has its own seed, derived from the split and its index): ``val``
is for model selection, ``test`` for the numbers that are reported.

Ground truth honesty: a joint hidden by an occluder or by another person keeps
its true position and visibility 1 (PoseTrack annotates joints whose position
can be inferred); joints outside the image are written ``0, 0, 0``; the ears
are always ``0, 0, 0`` as in PoseTrack. The ``bbox`` of an annotation is, as
in mmpose's PoseTrack18 files, the box of its annotated keypoints enlarged by
15% of its size on every side (each side at least 10% of the person's
height); ``bbox_head`` is the box of the drawn head.

Hard-case file ``annotations/{split}_hard.json``::

    {
      "info": {"description": ..., "keypoint_names": [17 names],
               "occlusion_margin_px": 1.0},
      "images": [                         # every frame, labeled or not
        {"image_id": int, "file_name": "images/val/<video>/000012.jpg",
         "video": "<video>", "frame_index": 12, "is_labeled": bool,
         "blurred": bool, "blur_length": int (0 = sharp),
         "blur_angle_deg": float,
         "occluders": [[[x, y], ...], ...],   # occluder polygons, image px
         "people": [
           {"track_id": int,
            "annotation_id": int or null,     # null on unlabeled frames
            "occluded_joints": [joint indices covered by an occluder],
            "person_occluded_joints": [joint indices covered by a person
                                       drawn in front],
            "outside_joints": [joint indices outside the image],
            "visible_fraction": float}]}]     # of the in-image silhouette
    }

A joint is listed in ``occluded_joints`` when it lies at least
``occlusion_margin_px`` inside one of the frame's occluder polygons. Every
person of every frame is listed, also on unlabeled frames and also when it is
entirely outside the image (all joints in ``outside_joints``).
"""
import json
import os
from typing import Any, Dict, List, Optional

import numpy as np

from .figures import JOINT_NAMES, NUM_JOINTS, UNANNOTATED_JOINTS
from .render import OCCLUSION_MARGIN, FrameRender, PersonFrame

SPLITS = ('train', 'val', 'test')
#: Splits scored with detected boxes (a detection file is written for them).
EVAL_SPLITS = ('val', 'test')
VIDEO_NUMBER_BASE = {'train': 0, 'val': 500000, 'test': 800000}


def detection_file_name(split: str) -> str:
    """Base name of the detection file of an evaluation split."""
    return f'posetrack18_{split}_human_detections.json'


# The PoseTrack18 person category, as in the official files.
CATEGORIES: List[Dict[str, Any]] = [{
    'supercategory': 'person',
    'id': 1,
    'name': 'person',
    'keypoints': list(JOINT_NAMES),
    'skeleton': [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12],
                 [7, 13], [6, 7], [6, 8], [7, 9], [8, 10], [9, 11], [2, 3],
                 [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7]]
}]

HARD_INFO: Dict[str, Any] = {
    'description':
    'Synthetic PoseTrack18-format data: per frame, which annotated joints '
    'are covered by a foreground occluder (occluded_joints) or by a person '
    'drawn in front (person_occluded_joints), which lie outside the image, '
    'and whether the frame is motion-blurred. Occluded joints keep their '
    'true position and visibility 1 in the ground truth.',
    'keypoint_names':
    list(JOINT_NAMES),
    'occlusion_margin_px':
    OCCLUSION_MARGIN,
}


def video_name(split: str, index: int) -> str:
    """Folder name of the ``index``-th video of a split."""
    return f'{video_number(split, index):06d}_synth_{split}'


def video_number(split: str, index: int) -> int:
    """PoseTrack video number of the ``index``-th video of a split."""
    if split not in VIDEO_NUMBER_BASE:
        raise ValueError(f'Unknown split {split!r}: use one of {SPLITS}.')
    return VIDEO_NUMBER_BASE[split] + index + 1


def image_id(vid: int, frame: int) -> int:
    """PoseTrack18 image id: ``1``, 6 video digits, 4 frame digits."""
    return 10000000000 + vid * 10000 + frame


def _round(values: np.ndarray, ndigits: int = 2) -> List[float]:
    return [round(float(v), ndigits) for v in values]


def image_record(split: str, name: str, vid: int, frame: int,
                 num_frames: int, labeled: bool, width: int, height: int,
                 ignore_regions: List[np.ndarray]) -> Dict[str, Any]:
    """The ``images`` entry of one frame (PoseTrack18 fields)."""
    img_id = image_id(vid, frame)
    return {
        'has_no_densepose': True,
        'is_labeled': bool(labeled),
        'file_name': f'images/{split}/{name}/{frame:06d}.jpg',
        'nframes': int(num_frames),
        'frame_id': img_id,
        'vid_id': f'{vid:06d}',
        'ignore_regions_y': [_round(r[:, 1]) for r in ignore_regions],
        'ignore_regions_x': [_round(r[:, 0]) for r in ignore_regions],
        'id': img_id,
        'width': int(width),
        'height': int(height),
    }


def annotated_mask(person: PersonFrame) -> np.ndarray:
    """Joints written with visibility 1: inside the image, not the ears."""
    mask = person.in_frame.copy()
    mask[list(UNANNOTATED_JOINTS)] = False
    return mask


def keypoint_box(joints: np.ndarray, annotated: np.ndarray,
                 min_side: float) -> np.ndarray:
    """``[x, y, w, h]`` of annotated joints, enlarged 15% per side."""
    pts = joints[annotated]
    low, high = pts.min(0), pts.max(0)
    size = high - low
    low = low - 0.15 * size
    high = high + 0.15 * size
    center = (low + high) / 2
    size = np.maximum(high - low, min_side)
    return np.concatenate([center - size / 2, size])


def annotation_record(person: PersonFrame,
                      img_id: int) -> Optional[Dict[str, Any]]:
    """The ``annotations`` entry of a person, or None if no joint shows."""
    annotated = annotated_mask(person)
    num = int(annotated.sum())
    if num == 0:
        return None
    keypoints: List[float] = []
    for j in range(NUM_JOINTS):
        if annotated[j]:
            keypoints += [*_round(person.joints[j]), 1]
        else:
            keypoints += [0, 0, 0]
    return {
        'bbox_head': _round(person.head_box),
        'keypoints': keypoints,
        'track_id': int(person.track_id),
        'image_id': int(img_id),
        'bbox': _round(keypoint_box(person.joints, annotated,
                                    0.1 * person.scale)),
        'scores': [],
        'category_id': 1,
        'id': int(img_id) * 100 + int(person.track_id),
        'iscrowd': False,
        'num_keypoints': num,
    }


def hard_record(image: Dict[str, Any], name: str, frame_index: int,
                frame: FrameRender,
                annotation_ids: Dict[int, int]) -> Dict[str, Any]:
    """The hard-case entry of one frame (see the module docstring)."""
    people = []
    for person in frame.people:
        annotated = annotated_mask(person)
        people.append({
            'track_id':
            int(person.track_id),
            'annotation_id':
            annotation_ids.get(person.track_id),
            'occluded_joints':
            [int(j) for j in np.nonzero(person.occluded_by_object
                                        & annotated)[0]],
            'person_occluded_joints':
            [int(j) for j in np.nonzero(person.occluded_by_person
                                        & annotated)[0]],
            'outside_joints':
            [int(j) for j in np.nonzero(~person.in_frame)[0]],
            'visible_fraction':
            round(float(person.visible_fraction), 3),
        })
    return {
        'image_id': image['id'],
        'file_name': image['file_name'],
        'video': name,
        'frame_index': int(frame_index),
        'is_labeled': image['is_labeled'],
        'blurred': frame.blur_length > 0,
        'blur_length': int(frame.blur_length),
        'blur_angle_deg': round(float(frame.blur_angle), 2),
        'occluders': [[_round(p) for p in poly] for poly in frame.occluders],
        'people': people,
    }


def coco_file(images: List[Dict], annotations: List[Dict]) -> Dict[str, Any]:
    """A PoseTrack18 / COCO-style file body."""
    return {
        'categories': CATEGORIES,
        'images': images,
        'annotations': annotations
    }


def write_json(path: str, obj: Any) -> None:
    """Write JSON deterministically (fixed key order, no timestamps)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(obj, f)
