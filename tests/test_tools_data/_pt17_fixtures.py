"""Miniature PoseTrack17 inputs in the formats users have, for the
``pt17-annolist`` / ``pt17-boxes`` tests: official per-video ``annolist``
files with their frames, PoseWarper's precomputed boxes and a DCPose-style
merged COCO json (see /work/shared/DATA_FORMATS.md). Nothing here reads real
data; the frames are flat 64x48 images written with cv2.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np

SIZE = (64, 48)  # width, height

#: A standing person, poseval joint id -> (x, y) (ids 0..14: right_ankle,
#: right_knee, right_hip, left_hip, left_knee, left_ankle, right_wrist,
#: right_elbow, right_shoulder, left_shoulder, left_elbow, left_wrist, neck,
#: nose, head_top).
BASE = {
    0: (36, 43), 1: (36, 38), 2: (36, 32), 3: (28, 32), 4: (28, 38),
    5: (28, 43), 6: (41, 31), 7: (40, 25), 8: (38, 18), 9: (26, 18),
    10: (24, 25), 11: (23, 31), 12: (32, 16), 13: (32, 12), 14: (32, 8)
}
HEAD = (29, 7, 35, 16)  # x1, y1, x2, y2 of BASE's head

#: PoseTrack18/mmpose keypoint index of each poseval joint id, by hand from
#: the two name lists (the ears, 3 and 4, have no poseval joint).
PT18_OF_POSEVAL = {
    13: 0, 12: 1, 14: 2, 9: 5, 8: 6, 10: 7, 7: 8, 11: 9, 6: 10, 3: 11,
    2: 12, 4: 13, 1: 14, 5: 15, 0: 16
}
PT18_NAMES = [
    'nose', 'head_bottom', 'head_top', 'left_ear', 'right_ear',
    'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow',
    'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee',
    'right_knee', 'left_ankle', 'right_ankle'
]


def person(dx: float = 0, dy: float = 0, track_id: int = 0,
           joints: Optional[Sequence[int]] = None) -> dict:
    """A person: ``points`` (poseval id -> (x, y)), ``head`` box and
    ``track_id``; ``joints`` keeps only these ids (all 15 by default)."""
    ids = sorted(BASE) if joints is None else list(joints)
    return dict(
        points={j: (BASE[j][0] + dx, BASE[j][1] + dy)
                for j in ids},
        head=(HEAD[0] + dx, HEAD[1] + dy, HEAD[2] + dx, HEAD[3] + dy),
        track_id=track_id)


def default_videos() -> Dict[str, dict]:
    """Two val videos, as the official release names them: ``A`` with
    5-digit frame names (renamed later), ``B`` already ``%08d.jpg``.

    ``labeled``: frame number -> people; ``regions``: frame number ->
    ignore polygons; ``pointless``: frame number -> annorects without
    points."""
    return {
        'A':
        dict(
            file='000001_bonn_relpath_5sec_testsub.json',
            folder='images/bonn/000001_bonn',
            digits=5,
            nframes=6,
            labeled={
                1: [person(0, 0, 0)],
                4: [
                    person(-8, 0, 0),
                    # no right_wrist (6), no left_ankle (5)
                    person(14, 1, 1, joints=[j for j in BASE
                                             if j not in (5, 6)])
                ]
            },
            regions={4: [[(0, 0), (10, 0), (10, 10), (0, 10)]]},
            pointless={4: 1}),
        'B':
        dict(
            file='000342_mpii_relpath_5sec_testsub.json',
            folder='images/bonn_5sec/000342_mpii',
            digits=8,
            nframes=5,
            labeled={
                2: [person(-8, 1, 3),
                    person(14, 0, 7, joints=[13])],  # the nose only
                5: [person(0, 0, 3)]
            },
            # covers the head_top (32, 8) of frame 5's person
            regions={5: [[(30, 5), (34, 5), (34, 10), (30, 10)]]},
            pointless={}),
    }


def _one(value) -> list:
    return [value]


def annorect(p: dict) -> dict:
    """A PoseTrack17 ``annorect`` entry of a :func:`person`."""
    x1, y1, x2, y2 = p['head']
    return dict(
        x1=[x1],
        y1=[y1],
        x2=[x2],
        y2=[y2],
        track_id=[p['track_id']],
        annopoints=[
            dict(point=[
                dict(id=[j], x=[x], y=[y], is_visible=[1])
                for j, (x, y) in sorted(p['points'].items())
            ])
        ])


def annolist(spec: dict) -> dict:
    """The official per-video file of a video spec (every frame listed)."""
    frames = []
    for index in range(1, spec['nframes'] + 1):
        people = spec['labeled'].get(index, [])
        rects = [annorect(p) for p in people]
        rects += [
            dict(x1=[1], y1=[1], x2=[5], y2=[6], track_id=[90 + k])
            for k in range(spec['pointless'].get(index, 0))
        ]
        entry = dict(
            image=[
                dict(name=f'{spec["folder"]}/{index:0{spec["digits"]}d}.jpg')
            ],
            imgnum=[index],
            is_labeled=[1 if index in spec['labeled'] else 0],
            annorect=rects)
        if index in spec['regions']:
            entry['ignore_regions'] = [
                dict(point=[dict(x=[x], y=[y]) for x, y in poly])
                for poly in spec['regions'][index]
            ]
        frames.append(entry)
    return dict(annolist=frames)


def write_frames(root: str, spec: dict, digits: int) -> List[str]:
    """Flat frames (grey level = frame number) of a video spec."""
    folder = osp.join(root, spec['folder'])
    os.makedirs(folder, exist_ok=True)
    paths = []
    for index in range(1, spec['nframes'] + 1):
        path = osp.join(folder, f'{index:0{digits}d}.jpg')
        img = np.full((SIZE[1], SIZE[0], 3), 20 * index, dtype=np.uint8)
        if not cv2.imwrite(path, img):
            raise OSError(path)
        paths.append(path)
    return paths


def make_pt17_official(root: str, renamed: bool = True,
                       videos: Optional[Dict[str, dict]] = None) -> dict:
    """Write the official PoseTrack17 val files under ``root``::

        images/<...>/<video>/<frame>.jpg      renamed %08d.jpg if ``renamed``
                                              else the annolist's names
        official/annotations/val/<file>.json  the per-video annolist files

    Returns:
        dict: ``root``, ``annolist_dir``, ``videos`` (the specs).
    """
    videos = default_videos() if videos is None else videos
    annolist_dir = osp.join(root, 'official', 'annotations', 'val')
    os.makedirs(annolist_dir, exist_ok=True)
    for spec in videos.values():
        write_frames(root, spec, 8 if renamed else spec['digits'])
        with open(osp.join(annolist_dir, spec['file']), 'w') as f:
            json.dump(annolist(spec), f)
    return dict(root=root, annolist_dir=annolist_dir, videos=videos)


def renamed_name(spec: dict, index: int) -> str:
    return f'{spec["folder"]}/{index:08d}.jpg'


def person_box(p: dict) -> List[float]:
    pts = np.array(list(p['points'].values()), dtype=np.float64)
    (x1, y1), (x2, y2) = pts.min(0) - 3, pts.max(0) + 3
    return [float(x1), float(y1), float(x2 - x1), float(y2 - y1)]


def make_posewarper_boxes(path: str, videos: Dict[str, dict],
                          prefix: str = '') -> List[dict]:
    """PoseWarper's ``val_boxes.json``: one box per labeled person (score
    0.9, the second of a frame 0.1), one box on an unlabeled frame and one
    non-person box. ``prefix`` is put before every ``image_name``."""
    boxes = []
    for spec in videos.values():
        for index, people in sorted(spec['labeled'].items()):
            for k, p in enumerate(people):
                boxes.append(
                    dict(
                        image_name=prefix + renamed_name(spec, index),
                        bbox=person_box(p),
                        score=0.9 if k == 0 else 0.1,
                        category_id=1,
                        nframes=spec['nframes'],
                        frame_id=index))
    spec = videos['A']
    unlabeled = next(i for i in range(1, spec['nframes'] + 1)
                     if i not in spec['labeled'])
    boxes.append(
        dict(
            image_name=prefix + renamed_name(spec, unlabeled),
            bbox=[10.0, 10.0, 20.0, 30.0],
            score=0.8,
            category_id=1,
            nframes=spec['nframes'],
            frame_id=unlabeled))
    boxes.append(dict(boxes[0], category_id=2, score=0.7))
    with open(path, 'w') as f:
        json.dump(boxes, f)
    return boxes


def make_dcpose_json(path: str, videos: Dict[str, dict]) -> dict:
    """A DCPose/PoseWarper-style ``posetrack_val.json``: COCO style, labeled
    frames, renamed frame paths, its own ids, keypoint visibility 2."""
    images, annotations = [], []
    for video_no, spec in enumerate(videos.values()):
        for index, people in sorted(spec['labeled'].items()):
            image_id = 1000 + 100 * video_no + index
            images.append(
                dict(
                    file_name=renamed_name(spec, index),
                    width=SIZE[0],
                    height=SIZE[1],
                    nframes=spec['nframes'],
                    frame_id=image_id,
                    id=image_id,
                    is_labeled=True))
            for p in people:
                keypoints = [0.0] * 51
                for j, (x, y) in p['points'].items():
                    k = PT18_OF_POSEVAL[j]
                    keypoints[3 * k:3 * k + 3] = [float(x), float(y), 2.0]
                box = person_box(p)
                annotations.append(
                    dict(
                        keypoints=keypoints,
                        track_id=p['track_id'],
                        image_id=image_id,
                        bbox=box,
                        area=box[2] * box[3],
                        iscrowd=0,
                        category_id=1,
                        id=len(annotations) + 1))
    content = dict(
        images=images,
        annotations=annotations,
        categories=[
            dict(
                supercategory='person',
                id=1,
                name='person',
                keypoints=PT18_NAMES,
                skeleton=[[16, 14], [14, 12], [17, 15], [15, 13], [12, 13],
                          [6, 12], [7, 13], [6, 7], [6, 8], [7, 9], [8, 10],
                          [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5],
                          [4, 6], [5, 7]])
        ])
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(content, f)
    return content
