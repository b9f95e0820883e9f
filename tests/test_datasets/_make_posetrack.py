"""Write miniature PoseTrack17/18 and Sub-JHMDB layouts for the tests.

Every frame is a small image (64x48 by default) whose flat background level
encodes its frame index (``background_level``) and which holds a bright
3x3 dot at the nose of the first person, so a test can tell which frame was
read and where the crop put it. Nothing here reads real data.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np

POSETRACK_JOINTS = [
    'nose', 'head_bottom', 'head_top', 'left_ear', 'right_ear',
    'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow',
    'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee',
    'right_knee', 'left_ankle', 'right_ankle'
]
JHMDB_JOINTS = [
    'neck', 'belly', 'head', 'right_shoulder', 'left_shoulder', 'right_hip',
    'left_hip', 'right_elbow', 'left_elbow', 'right_knee', 'left_knee',
    'right_wrist', 'left_wrist', 'right_ankle', 'left_ankle'
]

#: A standing person in a 64x48 frame, PoseTrack order (x, y); ears unset.
BASE_POSE = np.array(
    [[32, 12], [32, 16], [32, 8], [0, 0], [0, 0], [26, 18], [38, 18], [24, 25],
     [40, 25], [23, 31], [41, 31], [28, 32], [36, 32], [28, 38], [36, 38],
     [28, 43], [36, 43]],
    dtype=np.float64)
BASE_VISIBLE = np.array([1, 1, 1, 0, 0] + [1] * 12)

#: The videos of the miniature layout: name -> labeled frame indices
#: (0-based position in the video) and persons per labeled frame.
DEFAULT_VIDEOS = {
    '000001_mpii_test': dict(labeled=(0, 3, 5), persons=1),
    '000002_mpii_test': dict(labeled=(1, 4), persons=2),
}


def background_level(position: int, video_no: int = 0) -> int:
    """Grey level of frame ``position`` (0-based) of video ``video_no``."""
    return 30 + 25 * position + 5 * video_no


def write_frame(path: str, level: int, dot_xy: Sequence[float],
                size: Sequence[int] = (64, 48)) -> None:
    """Write a flat ``level`` grey frame with a 3x3 white dot at
    ``dot_xy``."""
    w, h = size
    img = np.full((h, w, 3), level, dtype=np.uint8)
    x, y = int(round(dot_xy[0])), int(round(dot_xy[1]))
    img[y - 1:y + 2, x - 1:x + 2] = 255
    os.makedirs(osp.dirname(path), exist_ok=True)
    if not cv2.imwrite(path, img):
        raise OSError(f'cannot write {path}')


def person_pose(video_no: int, person: int) -> np.ndarray:
    """Keypoints (17, 2) of a person: the base pose shifted per person."""
    pose = BASE_POSE.copy()
    pose[BASE_VISIBLE > 0, 0] += 12 * person - 6 * (person > 0)
    pose[BASE_VISIBLE > 0, 1] += video_no
    return pose


def keypoint_list(pose: np.ndarray, visible: np.ndarray) -> List[float]:
    out: List[float] = []
    for (x, y), v in zip(pose, visible):
        out += [float(x), float(y), int(v)] if v else [0, 0, 0]
    return out


def box_of(pose: np.ndarray, visible: np.ndarray) -> List[float]:
    pts = pose[visible > 0]
    x1, y1 = pts.min(axis=0) - 3
    x2, y2 = pts.max(axis=0) + 3
    return [float(x1), float(y1), float(x2 - x1), float(y2 - y1)]


def make_posetrack(
    root: str,
    style: str = 'pt18',
    split: str = 'val',
    nframes: int = 6,
    videos: Optional[Dict[str, dict]] = None,
    size: Sequence[int] = (64, 48),
    skip_frames: Sequence[str] = ()
) -> dict:
    """Write a miniature PoseTrack layout under ``root``.

    Layout (PoseTrack18 style; PoseTrack17 style names frames ``%08d.jpg``
    from 1 instead of ``%06d.jpg`` from 0)::

        images/<split>/<video>/000000.jpg ...       nframes frames per video
        annotations/posetrack18_<split>.json        merged COCO style, labeled
                                                    frames only, with width,
                                                    height, iscrowd, ...
        annotations/<split>/<video>.json            official per-video style:
                                                    every frame, no width
        annotations/posetrack18_<split>_human_detections.json

    Args:
        root (str): Output folder.
        style (str): ``'pt18'`` or ``'pt17'``.
        split (str): Split name. Default ``'val'``.
        nframes (int): Frames per video.
        videos (dict, optional): Video name -> ``dict(labeled=(positions),
            persons=n)``; :data:`DEFAULT_VIDEOS` by default.
        size (Sequence[int]): Frame (width, height).
        skip_frames (Sequence[str]): ``'<video>/<position>'`` frames NOT to
            write (to simulate missing frames).

    Returns:
        dict: ``root``, ``ann_file``, ``det_file``, ``per_video_dir``,
        ``first_index``, ``digits``, ``videos`` (name -> list of frame
        paths, in order), ``merged`` (the merged json as a dict),
        ``labeled`` (list of ``(video, position, image_id)``).
    """
    if style not in ('pt18', 'pt17'):
        raise ValueError(style)
    first, digits = (0, 6) if style == 'pt18' else (1, 8)
    videos = DEFAULT_VIDEOS if videos is None else videos
    width, height = size
    category = dict(
        supercategory='person',
        id=1,
        name='person',
        keypoints=POSETRACK_JOINTS,
        skeleton=[[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12],
                  [7, 13], [6, 7], [6, 8], [7, 9], [8, 10], [9, 11], [2, 3],
                  [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7]])
    merged = dict(categories=[category], images=[], annotations=[])
    dets = []
    frame_paths: Dict[str, List[str]] = {}
    labeled_list = []
    os.makedirs(osp.join(root, 'annotations', split), exist_ok=True)
    for video_no, (video, spec) in enumerate(sorted(videos.items()), 1):
        vid_id = video.split('_')[0]
        per_video = dict(categories=[category], images=[], annotations=[])
        frame_paths[video] = []
        for position in range(nframes):
            index = first + position
            file_name = f'images/{split}/{video}/{index:0{digits}d}.jpg'
            path = osp.join(root, file_name)
            frame_paths[video].append(path)
            if f'{video}/{position}' not in skip_frames:
                write_frame(path, background_level(position, video_no),
                            person_pose(video_no, 0)[0], size)
            image_id = int(f'1{vid_id}{position:04d}')
            labeled = position in spec['labeled']
            image = dict(
                has_no_densepose=True,
                is_labeled=labeled,
                file_name=file_name,
                nframes=nframes,
                frame_id=image_id,
                vid_id=vid_id,
                ignore_regions_y=[],
                ignore_regions_x=[],
                id=image_id)
            per_video['images'].append(dict(image))
            if not labeled:
                continue
            labeled_list.append((video, position, image_id))
            merged['images'].append(dict(image, width=width, height=height))
            for person in range(spec['persons']):
                pose = person_pose(video_no, person)
                ann = dict(
                    bbox_head=[
                        float(pose[2, 0] - 3),
                        float(pose[2, 1]), 6.0, 8.0
                    ],
                    keypoints=keypoint_list(pose, BASE_VISIBLE),
                    track_id=person,
                    image_id=image_id,
                    bbox=box_of(pose, BASE_VISIBLE),
                    scores=[],
                    category_id=1,
                    id=int(f'1{vid_id}{position:04d}{person:02d}'))
                per_video['annotations'].append(dict(ann))
                x, y, w, h = ann['bbox']
                merged['annotations'].append(
                    dict(
                        ann,
                        iscrowd=False,
                        num_keypoints=int(BASE_VISIBLE.sum()),
                        area=w * h))
                dets.append(
                    dict(
                        bbox=[x - 1, y - 1, w + 2, h + 2],
                        category_id=1,
                        image_id=image_id,
                        score=0.9 - 0.5 * person))
        with open(osp.join(root, 'annotations', split, f'{video}.json'),
                  'w') as f:
            json.dump(per_video, f)
    ann_file = osp.join(root, 'annotations', f'posetrack18_{split}.json')
    with open(ann_file, 'w') as f:
        json.dump(merged, f)
    det_file = osp.join(root, 'annotations',
                        f'posetrack18_{split}_human_detections.json')
    with open(det_file, 'w') as f:
        json.dump(dets, f)
    return dict(
        root=root,
        ann_file=ann_file,
        det_file=det_file,
        per_video_dir=osp.join(root, 'annotations', split),
        first_index=first,
        digits=digits,
        videos=frame_paths,
        merged=merged,
        labeled=labeled_list)


def make_jhmdb(root: str,
               clips: Optional[Dict[str, int]] = None,
               size: Sequence[int] = (64, 48),
               with_nframes: bool = True) -> dict:
    """Write a miniature Sub-JHMDB layout (mmpose's annotation format).

    ``Rename_Images/<action>/<clip>/00001.png ...`` and
    ``annotations/Sub1_train.json`` / ``Sub1_test.json``: every frame is
    annotated (15 joints, 1-based MATLAB coordinates, visibility 2). The
    first clip is the test split, the others the train split.

    Args:
        root (str): Output folder.
        clips (dict, optional): ``'<action>/<clip>'`` -> number of frames.
        size (Sequence[int]): Frame (width, height).
        with_nframes (bool): Whether image entries carry ``nframes``.

    Returns:
        dict: ``root``, ``train``, ``test`` (annotation paths), ``clips``
        (clip -> list of frame paths), ``poses`` (image id -> (15, 2)
        0-based keypoints).
    """
    clips = clips or {'catch/clip_a': 5, 'catch/clip_b': 4}
    width, height = size
    category = dict(
        supercategory='person',
        id=1,
        name='person',
        keypoints=JHMDB_JOINTS,
        skeleton=[[1, 3], [1, 4], [1, 5], [1, 2], [4, 8], [8, 12], [5, 9],
                  [9, 13], [2, 6], [2, 7], [6, 10], [10, 14], [7, 11],
                  [11, 15]])
    # 0-based keypoints of a person, JHMDB order
    base = np.array([[32, 16], [32, 28], [32, 9], [26, 17], [38, 17], [28, 32],
                     [36, 32], [24, 24], [40, 24], [28, 38], [36, 38],
                     [23, 30], [41, 30], [28, 44], [36, 44]],
                    dtype=np.float64)
    splits = {
        'test': dict(categories=[category], images=[], annotations=[]),
        'train': dict(categories=[category], images=[], annotations=[])
    }
    paths: Dict[str, List[str]] = {}
    poses = {}
    for clip_no, (clip, n) in enumerate(sorted(clips.items()), 1):
        split = 'test' if clip_no == 1 else 'train'
        paths[clip] = []
        for position in range(n):
            index = position + 1
            file_name = f'Rename_Images/{clip}/{index:05d}.png'
            path = osp.join(root, file_name)
            pose = base + [position, clip_no]
            write_frame(path, background_level(position, clip_no), pose[2],
                        size)
            paths[clip].append(path)
            image_id = int(f'{clip_no:05d}{index:05d}')
            image = dict(
                is_labeled=True,
                file_name=file_name,
                frame_id=image_id,
                vid_id=f'{clip_no:05d}',
                id=image_id,
                width=width,
                height=height)
            if with_nframes:
                image['nframes'] = n
            splits[split]['images'].append(image)
            kpts = []
            for x, y in pose + 1:  # MATLAB 1-based
                kpts += [float(x), float(y), 2.0]
            x1, y1 = pose.min(axis=0) + 1 - 2
            x2, y2 = pose.max(axis=0) + 1 + 2
            splits[split]['annotations'].append(
                dict(
                    keypoints=kpts,
                    track_id=0,
                    image_id=image_id,
                    bbox=[
                        float(x1),
                        float(y1),
                        float(x2 - x1),
                        float(y2 - y1)
                    ],
                    scores=[],
                    category_id=1,
                    id=int(f'1{image_id}')))
            poses[image_id] = pose
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    out = dict(root=root, clips=paths, poses=poses)
    for split, content in splits.items():
        path = osp.join(root, 'annotations', f'Sub1_{split}.json')
        with open(path, 'w') as f:
            json.dump(content, f)
        out[split] = path
    return out
