# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Prepare and check PoseTrack17/18 folders for the video datasets.

Five commands (every output is written atomically, through a temporary file,
and an existing output is never overwritten):

``rename-pt17 IMAGES_DIR [--apply]``
    PoseTrack17 frames are renamed ``%08d.jpg`` (from 1, the index kept) as
    DCPose and PoseWarper expect, e.g. ``images/bonn/000001_bonn/00001.jpg``
    -> ``00000001.jpg``. Dry run by default: prints what it would do.
    ``--apply`` renames in place; an existing target is never overwritten
    (reported as a conflict, exit status 1). Names that already have 8
    digits are left alone.

``merge ANN_DIR OUT_JSON --data-root ROOT [--all-frames]``
    Merges the official PoseTrack18 per-video files
    (``annotations/val/<video>.json``) into one COCO-style file as mmpose's
    PoseTrack18 configs expect (``annotations/posetrack18_val.json``):
    labeled frames only (``--all-frames``: every frame), ``width``/``height``
    added from the frame files (read once per video) when missing,
    ``iscrowd`` and ``num_keypoints`` added to the annotations. Refuses to
    overwrite ``OUT_JSON``.

``check ANN [--data-root ROOT] [--offsets -2 -1 1 2] [--border-policy fami]``
    Reports the videos and frames whose key frame or supporting frames are
    missing on disk for the given window, using the datasets' own window
    logic. ``ANN`` is a merged json or a folder of per-video jsons. Exit
    status 1 when something is missing; ``--report FILE`` writes the report
    as json.

``pt17-annolist ANNOLIST_DIR --images ROOT [--out-json F] [--out-gt-dir D]``
    Converts the official PoseTrack17 per-video ``annolist`` files (run
    ``rename-pt17 --apply`` on the frames first) into the merged COCO-style
    json of the datasets (``annotations/posetrack17_{train,val}.json``) and
    the per-video ground truth of ``PoseTrackAPMetric``
    (``annotations/val/``); see :func:`prepare_pt17_annolist`.

``pt17-boxes BOXES_JSON --ann MERGED_JSON --out DET_JSON``
    Converts PoseWarper's precomputed boxes (``val_boxes.json``) into
    mmpose's detection format keyed by the ``image_id`` of ``--ann``
    (``annotations/posetrack17_val_human_detections.json``); see
    :func:`convert_pt17_boxes`.

Inconsistent or malformed inputs are refused with one line naming the file,
the entry and the field, before anything is written.
"""
import argparse
import copy
import json
import math
import os
import os.path as osp
import posixpath
import re
import shutil
import sys
import tempfile
from collections import OrderedDict, defaultdict
from typing import IO, Any, Callable, Dict, List, Optional, Sequence

import numpy as np

from famipose_mmpose.datasets.frame_window import BORDER_POLICIES, FrameNaming, check_frame_offsets, resolve_window
from famipose_mmpose.evaluation.posetrack_ap import (POSETRACK18_CATEGORIES, POSETRACK18_KEYPOINT_NAMES,
                                                     POSEVAL_JOINT_NAMES, load_posetrack_video)

POSETRACK_NUM_KEYPOINTS = 17
_FRAME_FILE = re.compile(r'^(\d+)\.jpg$')


# --------------------------------------------------------------------------
# rename-pt17
# --------------------------------------------------------------------------
def plan_pt17_renames(images_dir: str, digits: int = 8) -> dict:
    """Plan the PoseTrack17 frame renaming under ``images_dir``.

    Args:
        images_dir (str): Folder holding the video folders (searched
            recursively for ``<digits>.jpg`` frame files).
        digits (int): Digits of the target names. Default: 8.

    Returns:
        dict: ``renames`` (list of ``(src, dst)``), ``conflicts`` (list of
        ``(src, dst)`` whose target already exists), ``done`` (number of
        frames already named), ``videos`` (folder -> ``(first, last)``
        index), ``not_from_one`` (folders whose first index is not 1).
    """
    if not osp.isdir(images_dir):
        raise FileNotFoundError(
            f'rename-pt17: images folder {images_dir!r} does not exist.')
    renames, conflicts, videos, not_from_one = [], [], OrderedDict(), []
    done = 0
    for folder, _, files in sorted(os.walk(images_dir)):
        indices = {}
        for name in files:
            match = _FRAME_FILE.match(name)
            if match:
                indices[name] = int(match.group(1))
        if not indices:
            continue
        first, last = min(indices.values()), max(indices.values())
        videos[folder] = (first, last)
        if first != 1:
            not_from_one.append(folder)
        for name, index in sorted(indices.items(), key=lambda kv: kv[1]):
            if len(name) - len('.jpg') == digits:
                done += 1
                continue
            src = osp.join(folder, name)
            dst = osp.join(folder, f'{index:0{digits}d}.jpg')
            (conflicts if osp.exists(dst) else renames).append((src, dst))
    return dict(
        renames=renames,
        conflicts=conflicts,
        done=done,
        videos=videos,
        not_from_one=not_from_one)


def rename_pt17(images_dir: str, apply: bool = False) -> dict:
    """Rename PoseTrack17 frames to ``%08d.jpg`` (dry run unless
    ``apply``); never overwrites a file. Returns the plan with ``applied``
    (number of files renamed)."""
    plan = plan_pt17_renames(images_dir)
    applied = 0
    if apply:
        for src, dst in plan['renames']:
            if osp.exists(dst):  # appeared since planning: never overwrite
                plan['conflicts'].append((src, dst))
                continue
            os.rename(src, dst)
            applied += 1
    plan['applied'] = applied
    return plan


# --------------------------------------------------------------------------
# writing: atomic, never overwrites
# --------------------------------------------------------------------------
def _refuse_existing(path: str, command: str) -> None:
    if osp.lexists(path):
        raise FileExistsError(
            f'{command}: {path!r} exists; refusing to overwrite it. Remove '
            'it or choose another output file.')


def _write_new(path: str, write: Callable[[IO[bytes]], None],
               command: str) -> None:
    """Write ``path`` through a temporary file in the same folder, then link
    it into place: readers never see a partial file, and an existing
    ``path`` (even one that appeared meanwhile) is never replaced."""
    _refuse_existing(path, command)
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix='.' + osp.basename(path) + '.', suffix='.tmp', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)  # mkstemp makes it owner-only; use the default
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        try:
            os.link(tmp, path)  # fails if path exists: no overwrite
        except FileExistsError:
            _refuse_existing(path, command)
            raise
        except OSError:  # no hard links on this file system
            _refuse_existing(path, command)
            os.rename(tmp, path)
    finally:
        if osp.lexists(tmp):
            os.remove(tmp)


def _per_video_files(folder: str, command: str) -> List[str]:
    """The per-video ``.json`` file names of ``folder``, sorted; refuses a
    missing folder or one without any."""
    if not osp.isdir(folder):
        raise FileNotFoundError(
            f'{command}: annotation folder {folder!r} does not exist.')
    files = sorted(f for f in os.listdir(folder) if f.endswith('.json'))
    if not files:
        raise FileNotFoundError(
            f'{command}: no per-video .json file in {folder!r}.')
    return files


def _write_json_new(path: str, obj: Any, command: str) -> None:
    """Dump ``obj`` to a new json file ``path`` (see :func:`_write_new`)."""
    data = json.dumps(obj).encode('utf-8')
    _write_new(path, lambda f: f.write(data), command)


# --------------------------------------------------------------------------
# merge
# --------------------------------------------------------------------------
def _load_json(path: str) -> dict:
    try:
        with open(path) as f:
            return json.load(f)
    except json.JSONDecodeError as err:
        raise ValueError(f'{path!r} is not valid json: {err}') from err


def _image_size(path: str) -> Sequence[int]:
    """(width, height) of an image file, from its header."""
    from PIL import Image
    with Image.open(path) as img:
        return img.size


def merge_posetrack18(ann_dir: str,
                      out_file: str,
                      data_root: str,
                      all_frames: bool = False) -> dict:
    """Merge official PoseTrack18 per-video jsons into one COCO-style json.

    Args:
        ann_dir (str): Folder of per-video jsons (e.g. ``annotations/val``).
        out_file (str): Merged json to write; must not exist.
        data_root (str): Folder the images' ``file_name`` are relative to.
        all_frames (bool): Keep unlabeled frames too. Default: ``False``.

    Returns:
        dict: ``videos``, ``images``, ``annotations`` (counts) and ``out``.
    """
    _refuse_existing(out_file, 'merge')
    files = _per_video_files(ann_dir, 'merge')
    merged = dict(categories=None, images=[], annotations=[])
    image_owner: Dict[int, str] = {}
    ann_owner: Dict[int, str] = {}
    for file in files:
        path = osp.join(ann_dir, file)
        content = _load_json(path)
        for field in ('images', 'annotations', 'categories'):
            if field not in content:
                raise KeyError(f'merge: {path!r} has no "{field}" field; '
                               'is it a PoseTrack18 per-video file?')
        if merged['categories'] is None:
            merged['categories'] = content['categories']
        elif content['categories'] != merged['categories']:
            raise ValueError(
                f'merge: {path!r} has other "categories" than '
                f'{files[0]!r}; all videos must share one category list.')
        kept = {}
        size: Optional[Sequence[int]] = None
        for img in content['images']:
            for field in ('id', 'file_name', 'nframes'):
                if field not in img:
                    raise KeyError(f'merge: an image of {path!r} (id '
                                   f'{img.get("id")}) has no "{field}" field.')
            if not all_frames and not img.get('is_labeled', True):
                continue
            if img['id'] in image_owner:
                raise ValueError(
                    f'merge: image id {img["id"]} of {path!r} is also in '
                    f'{image_owner[img["id"]]!r}; image ids must be unique.')
            image_owner[img['id']] = path
            img = dict(img)
            if 'width' not in img or 'height' not in img:
                if size is None:
                    frame = osp.join(data_root, img['file_name'])
                    if not osp.isfile(frame):
                        raise FileNotFoundError(
                            f'merge: image {img["id"]} of {path!r} has no '
                            '"width"/"height" and its frame is not on disk '
                            f'to read them from: expected {frame!r} '
                            '(check --data-root).')
                    size = _image_size(frame)
                img['width'], img['height'] = int(size[0]), int(size[1])
            kept[img['id']] = img
            merged['images'].append(img)
        all_ids = {img['id'] for img in content['images']}
        for ann in content['annotations']:
            for field in ('id', 'image_id'):
                if field not in ann:
                    raise KeyError(f'merge: an annotation of {path!r} (id '
                                   f'{ann.get("id")}) has no "{field}" '
                                   'field.')
            if ann['image_id'] not in all_ids:
                raise ValueError(
                    f'merge: annotation {ann["id"]} of {path!r} has '
                    f'"image_id" {ann["image_id"]}, which is not an image '
                    'of that file.')
            if ann['image_id'] not in kept:
                continue
            if ann['id'] in ann_owner:
                raise ValueError(
                    f'merge: annotation id {ann["id"]} of {path!r} is also '
                    f'in {ann_owner[ann["id"]]!r}.')
            ann_owner[ann['id']] = path
            ann = dict(ann)
            if 'keypoints' in ann:
                if len(ann['keypoints']) != 3 * POSETRACK_NUM_KEYPOINTS:
                    raise ValueError(
                        f'merge: annotation {ann["id"]} of {path!r} has '
                        f'{len(ann["keypoints"])} values in "keypoints", '
                        f'expected {3 * POSETRACK_NUM_KEYPOINTS} (17 '
                        'PoseTrack joints x (x, y, v)).')
                ann.setdefault('num_keypoints',
                               sum(1 for v in ann['keypoints'][2::3] if v > 0))
            ann.setdefault('iscrowd', False)
            merged['annotations'].append(ann)
    _write_json_new(out_file, merged, 'merge')
    return dict(
        videos=len(files),
        images=len(merged['images']),
        annotations=len(merged['annotations']),
        out=out_file)


# --------------------------------------------------------------------------
# pt17-annolist
# --------------------------------------------------------------------------
#: Index in the 17 PoseTrack18 (mmpose) keypoints of each poseval joint id.
POSEVAL_TO_POSETRACK18 = tuple(
    POSETRACK18_KEYPOINT_NAMES.index(name) for name in POSEVAL_JOINT_NAMES)
#: poseval asserts ``track_id < 10000`` for the ground truth.
PT17_MAX_TRACK_ID = 10000
#: Image id = video number * PT17_ID_STRIDE + frame index.
PT17_ID_STRIDE = 10000
_PT17_RENAMED = re.compile(r'^(\d{8})\.jpg$')


class _Pt17Source:
    """Where an annolist value comes from, for one-line error messages."""

    def __init__(self, path: str) -> None:
        self.path = path

    def error(self, where: str, message: str, exc: type = ValueError):
        return exc(f'pt17-annolist: {self.path!r} {where}: {message}')

    def one(self, entry: Any, key: str, where: str, kind: str) -> Any:
        """The value of a one-element list field ``entry[key]``.

        ``kind``: ``'number'`` (finite int/float), ``'int'`` or
        ``'flag'`` (0/1 or a bool).
        """
        if not isinstance(entry, dict) or key not in entry:
            raise self.error(where, f'has no field "{key}".', KeyError)
        value = entry[key]
        if not isinstance(value, list) or len(value) != 1:
            raise self.error(
                where, f'field "{key}" must be a one-element list '
                f'(PoseTrack17 layout), got {value!r}.')
        item = value[0]
        number = isinstance(item,
                            (int, float)) and not isinstance(item, bool)
        if kind == 'flag' and (isinstance(item, bool) or item in (0, 1)):
            return bool(item)
        if kind == 'int' and number and float(item).is_integer():
            return int(item)
        if kind == 'number' and number and math.isfinite(item):
            return item
        expected = dict(
            number='a finite number', int='an integer',
            flag='0 or 1')[kind]
        raise self.error(where,
                         f'field "{key}" must hold {expected}, got {item!r}.')


def _parse_pt17_person(src: _Pt17Source, rect: Any, where: str,
                       position: int) -> dict:
    """One ``annorect`` entry: points (poseval id -> (x, y)), head box,
    track id."""
    if not isinstance(rect, dict):
        raise src.error(where, f'must be an object, got {rect!r}.')
    points: Dict[int, tuple] = {}
    annopoints = rect.get('annopoints')
    if annopoints:  # absent, null or [] = a person without points
        if not isinstance(annopoints, list) or not isinstance(
                annopoints[0], dict) or not isinstance(
                    annopoints[0].get('point'), list):
            raise src.error(
                where, 'field "annopoints" must be [{"point": [...]}], got '
                f'{annopoints!r}.')
        for p, point in enumerate(annopoints[0]['point']):
            pwhere = f'{where}.annopoints[0].point[{p}]'
            joint = src.one(point, 'id', pwhere, 'int')
            if not 0 <= joint < len(POSEVAL_JOINT_NAMES):
                raise src.error(
                    pwhere, f'field "id" is {joint}; poseval joint ids are '
                    f'0..{len(POSEVAL_JOINT_NAMES) - 1}.')
            if joint in points:
                raise src.error(
                    pwhere, f'field "id": joint {joint} '
                    f'({POSEVAL_JOINT_NAMES[joint]}) is listed twice.')
            points[joint] = (src.one(point, 'x', pwhere, 'number'),
                             src.one(point, 'y', pwhere, 'number'))
    corners = [k for k in ('x1', 'y1', 'x2', 'y2') if k in rect]
    head = None
    if corners:
        if len(corners) != 4:
            missing = sorted({'x1', 'y1', 'x2', 'y2'} - set(corners))
            raise src.error(where, f'head box lacks the fields {missing}.',
                            KeyError)
        head = tuple(
            src.one(rect, k, where, 'number')
            for k in ('x1', 'y1', 'x2', 'y2'))
        if head[2] < head[0] or head[3] < head[1]:
            raise src.error(
                where, f'head box x1 y1 x2 y2 = {list(head)} has x2 < x1 or '
                'y2 < y1.')
    elif points:
        raise src.error(
            where, 'has annotated points but no head box fields "x1", '
            '"y1", "x2", "y2" (PCKh needs the head box).', KeyError)
    track_id = position  # PoseTrack17 people normally carry one
    if 'track_id' in rect:
        track_id = src.one(rect, 'track_id', where, 'int')
        if not 0 <= track_id < PT17_MAX_TRACK_ID:
            raise src.error(
                where, f'field "track_id" is {track_id}; poseval requires '
                f'0 <= track_id < {PT17_MAX_TRACK_ID}.')
    return dict(points=points, head=head, track_id=track_id)


def _parse_pt17_region(src: _Pt17Source, region: Any, where: str) -> tuple:
    """One ignore region: (xs, ys); 0 vertices allowed, 1 or 2 refused."""
    if not isinstance(region, dict) or not isinstance(
            region.get('point'), list):
        raise src.error(
            where, 'an ignore region must be {"point": [{"x": [x], "y": '
            f'[y]}}, ...]}}, got {region!r}.')
    xs, ys = [], []
    for p, point in enumerate(region['point']):
        pwhere = f'{where}.point[{p}]'
        xs.append(src.one(point, 'x', pwhere, 'number'))
        ys.append(src.one(point, 'y', pwhere, 'number'))
    if len(xs) in (1, 2):
        raise src.error(
            where, f'ignore region has {len(xs)} vertices; a polygon needs at '
            'least 3 (poseval/shapely fail on it too).')
    return xs, ys


def parse_pt17_annolist(path: str) -> dict:
    """Read and check one official PoseTrack17 per-video ``annolist`` file.

    Args:
        path (str): The json file.

    Returns:
        dict: ``path``, ``content`` (the parsed json), ``video_dir`` (the
        frames' folder as written in the image names, e.g.
        ``images/bonn_5sec/000342_mpii``) and ``frames``: per ``annolist``
        entry ``index`` (frame number of its name), ``name``, ``labeled``,
        ``flag_unlabeled_with_people``, ``regions`` (list of (xs, ys)) and
        ``people`` (see :func:`_parse_pt17_person`).
    """
    src = _Pt17Source(path)
    content = _load_json(path)
    if not isinstance(content, dict) or 'annolist' not in content:
        raise src.error(
            'the file', 'has no "annolist" field; is it a PoseTrack17 '
            'per-video file? (PoseTrack18 per-video files: use merge)',
            KeyError)
    annolist = content['annolist']
    if not isinstance(annolist, list) or not annolist:
        raise src.error('field "annolist"', 'must be a non-empty list.')
    frames: List[dict] = []
    video_dir: Optional[str] = None
    seen: Dict[int, int] = {}
    for i, entry in enumerate(annolist):
        where = f'annolist[{i}]'
        if not isinstance(entry, dict):
            raise src.error(where, f'must be an object, got {entry!r}.')
        image = entry.get('image')
        if not isinstance(image, list) or len(image) != 1 or not isinstance(
                image[0], dict) or not isinstance(image[0].get('name'), str):
            exc = KeyError if image is None else ValueError
            raise src.error(
                where, 'field "image" must be [{"name": "images/.../<video>/'
                f'<frame>.jpg"}}], got {image!r}.', exc)
        name = image[0]['name'].replace('\\', '/')
        where = f'annolist[{i}] ({name})'
        folder, base = posixpath.split(name)
        match = _FRAME_FILE.match(base)
        if name.startswith('/') or not folder or not match:
            raise src.error(
                where, 'field "image": the name must be a relative path '
                '<folders>/<video>/<number>.jpg, e.g. '
                'images/bonn_5sec/000342_mpii/00000001.jpg.')
        index = int(match.group(1))
        if index < 1:
            raise src.error(
                where, f'field "image": frame number {index}; PoseTrack17 '
                'frames are numbered from 1.')
        if index >= PT17_ID_STRIDE:
            raise src.error(
                where, f'field "image": frame number {index} is too large '
                f'(at most {PT17_ID_STRIDE - 1} frames per video).')
        if video_dir is None:
            video_dir = folder
        elif folder != video_dir:
            raise src.error(
                where, f'field "image": folder {folder!r} differs from '
                f'{video_dir!r} of annolist[0]; a file holds one video.')
        if index in seen:
            raise src.error(
                where, f'field "image": frame {index} is also annolist'
                f'[{seen[index]}].')
        seen[index] = i
        flag = (src.one(entry, 'is_labeled', where, 'flag')
                if 'is_labeled' in entry else None)
        regions = entry.get('ignore_regions') or []
        if not isinstance(regions, list):
            raise src.error(
                where, 'field "ignore_regions" must be a list of regions.')
        regions = [
            _parse_pt17_region(src, region, f'{where}.ignore_regions[{r}]')
            for r, region in enumerate(regions)
        ]
        rects = entry.get('annorect') or []
        if not isinstance(rects, list):
            raise src.error(where, 'field "annorect" must be a list.')
        people = [
            _parse_pt17_person(src, rect, f'{where}.annorect[{r}]', r)
            for r, rect in enumerate(rects)
        ]
        has_points = any(person['points'] for person in people)
        frames.append(
            dict(
                index=index,
                name=name,
                # poseval evaluates every frame with annotated people,
                # whatever is_labeled says
                labeled=bool(flag) or has_points,
                flag_unlabeled_with_people=flag is False and has_points,
                regions=regions,
                people=people))
    return dict(
        path=path, content=content, video_dir=video_dir, frames=frames)


def _pt17_person_bbox(points: Sequence[tuple],
                      head: Sequence[float]) -> List[float]:
    """``[x, y, w, h]``: the box of the annotated keypoints enlarged by 15%
    of its size on every side, as the PoseTrack18 boxes (see
    ``famipose_mmpose/synthetic/writer.py``); each side at least the head
    box's larger side, which stands in for the writer's "10% of the
    person's height" (PoseTrack17 gives no person height)."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    low, high = pts.min(0), pts.max(0)
    size = high - low
    low, high = low - 0.15 * size, high + 0.15 * size
    center = (low + high) / 2
    min_side = max(head[2] - head[0], head[3] - head[1], 1.0)
    size = np.maximum(high - low, min_side)
    box = np.concatenate([center - size / 2, size])
    return [round(float(v), 2) for v in box]


def _pt17_disk_frames(images_root: str, video: dict) -> Dict[str, Any]:
    """The renamed frames of a video on disk: indices and other names."""
    folder = osp.join(images_root, video['video_dir'])
    src = _Pt17Source(video['path'])
    if not osp.isdir(folder):
        hint = ''
        parent = osp.dirname(osp.normpath(images_root))
        if osp.isdir(osp.join(parent, video['video_dir'])):
            hint = f' (--images {parent!r} would find it)'
        raise src.error(
            f'annolist[0] ({video["frames"][0]["name"]})',
            f'video folder {folder!r} does not exist; --images must be the '
            'folder the image names are relative to, the one holding '
            f'images/{hint}.', FileNotFoundError)
    renamed, others = set(), 0
    for name in os.listdir(folder):
        if _PT17_RENAMED.match(name):
            renamed.add(int(name[:8]))
        elif _FRAME_FILE.match(name):
            others += 1
    if not renamed and others:
        raise src.error(
            f'annolist[0] ({video["frames"][0]["name"]})',
            f'the frames in {folder!r} are not renamed %08d.jpg yet; run '
            '"posetrack_prepare.py rename-pt17 <images folder> --apply" '
            'first.', FileNotFoundError)
    return dict(folder=folder, indices=renamed)


def prepare_pt17_annolist(annolist_dir: str,
                          images_root: str,
                          out_json: Optional[str] = None,
                          out_gt_dir: Optional[str] = None,
                          all_frames: bool = False) -> dict:
    """Convert official PoseTrack17 per-video ``annolist`` files.

    Writes (each optional, at least one):

    - ``out_json``: the merged COCO-style json the datasets read: image
      ``file_name`` = the renamed frame ``<video folder>/%08d.jpg`` (the
      number of the official name kept, as ``rename-pt17`` does), ``id =
      frame_id = video number * 10000 + frame number`` (videos numbered
      from 1 in file-name order), ``width``/``height`` read from a frame,
      ``nframes``, ``vid_id`` (the video folder's name), ``is_labeled``,
      ``ignore_regions_x/y``; one annotation per person with points:
      17 keypoints in PoseTrack18/mmpose order (poseval's 15 joints
      mapped, ears ``0, 0, 0``, every annotated joint visibility 1),
      ``bbox`` (see :func:`_pt17_person_bbox`), ``bbox_head`` (x, y, w, h
      from x1 y1 x2 y2), ``track_id``, ``num_keypoints``, ``iscrowd``.
      Labeled frames only unless ``all_frames``.
    - ``out_gt_dir``: the per-video ground truth for ``PoseTrackAPMetric``
      (``output_format='posetrack17'``) and poseval: each file under its
      own name, byte for byte, except that an image name that is not the
      renamed frame's is rewritten to it (the metric assigns predictions to
      frames by ``<video>/<frame file>``; poseval ignores names).

    ``nframes`` is the number of ``annolist`` entries when they are the
    frames 1..N (the official layout), else the highest frame number listed
    or renamed on disk. Nothing is written when an input is inconsistent.

    Returns:
        dict: counts (``videos``, ``images``, ``annotations``,
        ``people_without_points``, ``renamed_gt_names``,
        ``missing_unlabeled_frames``) and ``notes`` (list of str).
    """
    command = 'pt17-annolist'
    if out_json is None and out_gt_dir is None:
        raise ValueError(f'{command}: nothing to write; give --out-json '
                         'and/or --out-gt-dir.')
    if out_json is not None:
        _refuse_existing(out_json, command)
    if out_gt_dir is not None and osp.lexists(out_gt_dir):
        if not osp.isdir(out_gt_dir):
            _refuse_existing(out_gt_dir, command)
        old = sorted(f for f in os.listdir(out_gt_dir) if f.endswith('.json'))
        if old:
            raise FileExistsError(
                f'{command}: {out_gt_dir!r} already holds .json files (e.g. '
                f'{old[0]!r}); refusing to write into it: the metric reads '
                'every .json of the folder. Remove them or choose another '
                'folder.')
    files = _per_video_files(annolist_dir, command)

    videos = [parse_pt17_annolist(osp.join(annolist_dir, f)) for f in files]
    owner: Dict[str, str] = {}
    for video in videos:
        # the metric keys frames by <video folder>/<frame file>
        key = posixpath.basename(video['video_dir'])
        if key in owner:
            raise ValueError(
                f'{command}: {video["path"]!r} annolist[0]: video folder '
                f'{video["video_dir"]!r} has the same name as the video of '
                f'{owner[key]!r}; frames could not be told apart.')
        owner[key] = video['path']

    merged: Dict[str, Any] = dict(
        categories=copy.deepcopy(POSETRACK18_CATEGORIES), images=[], annotations=[])
    gt_files = []
    counts = dict(
        people_without_points=0,
        renamed_gt_names=0,
        missing_unlabeled_frames=0)
    notes: List[str] = []
    for video_no, video in enumerate(videos, 1):
        src = _Pt17Source(video['path'])
        frames = video['frames']
        disk = _pt17_disk_frames(images_root, video)
        listed = sorted(f['index'] for f in frames)
        if listed == list(range(1, len(frames) + 1)):
            nframes = len(frames)
            extra = [i for i in disk['indices'] if i > nframes]
            if extra:
                notes.append(
                    f'{video["video_dir"]}: {len(extra)} frame(s) on disk '
                    f'after the {nframes} listed ones, ignored.')
        else:
            nframes = max([listed[-1]] + list(disk['indices']))
        size = None
        renamed_names = {}
        for i, frame in enumerate(frames):
            file_name = f'{video["video_dir"]}/{frame["index"]:08d}.jpg'
            frame['file_name'] = file_name
            if file_name != frame['name']:
                renamed_names[i] = file_name
            if frame['flag_unlabeled_with_people']:
                notes.append(
                    f'{video["path"]} annolist[{i}]: is_labeled is 0 but it '
                    'has annotated people; kept as labeled (poseval '
                    'evaluates it).')
            if frame['index'] not in disk['indices']:
                if frame['labeled']:
                    raise src.error(
                        f'annolist[{i}] ({frame["name"]})',
                        'labeled frame missing on disk: expected '
                        f'{osp.join(images_root, file_name)!r}.',
                        FileNotFoundError)
                counts['missing_unlabeled_frames'] += 1
            elif size is None:
                size = _image_size(osp.join(images_root, file_name))
        if size is None:
            raise src.error('annolist', 'none of its frames is on disk.',
                            FileNotFoundError)
        for frame in frames:
            if not (frame['labeled'] or all_frames):
                continue
            image_id = video_no * PT17_ID_STRIDE + frame['index']
            merged['images'].append(
                dict(
                    id=image_id,
                    file_name=frame['file_name'],
                    width=int(size[0]),
                    height=int(size[1]),
                    nframes=nframes,
                    frame_id=image_id,
                    vid_id=posixpath.basename(video['video_dir']),
                    is_labeled=frame['labeled'],
                    ignore_regions_x=[xs for xs, _ in frame['regions']],
                    ignore_regions_y=[ys for _, ys in frame['regions']]))
            for person in frame['people']:
                if not person['points']:
                    counts['people_without_points'] += 1
                    continue
                keypoints = [0.0] * (3 * POSETRACK_NUM_KEYPOINTS)
                for joint, (x, y) in person['points'].items():
                    k = POSEVAL_TO_POSETRACK18[joint]
                    keypoints[3 * k:3 * k + 3] = [float(x), float(y), 1]
                x1, y1, x2, y2 = person['head']
                merged['annotations'].append(
                    dict(
                        id=len(merged['annotations']) + 1,
                        image_id=image_id,
                        category_id=1,
                        track_id=person['track_id'],
                        keypoints=keypoints,
                        num_keypoints=len(person['points']),
                        bbox=_pt17_person_bbox(
                            list(person['points'].values()),
                            person['head']),
                        bbox_head=[x1, y1, x2 - x1, y2 - y1],
                        iscrowd=False))
        if renamed_names:
            content = copy.deepcopy(video['content'])
            for i, file_name in renamed_names.items():
                content['annolist'][i]['image'][0]['name'] = file_name
            counts['renamed_gt_names'] += len(renamed_names)
        else:
            content = None  # copied unchanged
        # what the metric will read must load: same rules, same errors
        load_posetrack_video(content or video['content'], video['path'])
        gt_files.append((video['path'], content))

    if out_gt_dir is not None:
        for path, content in gt_files:
            dst = osp.join(out_gt_dir, osp.basename(path))
            if content is None:
                _write_new(dst,
                           lambda f, path=path: _copy_bytes(path, f),
                           command)
            else:
                _write_json_new(dst, content, command)
    if out_json is not None:
        _write_json_new(out_json, merged, command)
    return dict(
        videos=len(videos),
        images=len(merged['images']),
        annotations=len(merged['annotations']),
        notes=notes,
        **counts)


def _copy_bytes(src: str, dst: IO[bytes]) -> None:
    with open(src, 'rb') as f:
        shutil.copyfileobj(f, dst)


# --------------------------------------------------------------------------
# pt17-boxes
# --------------------------------------------------------------------------
def _path_parts(name: str) -> List[str]:
    parts = name.replace('\\', '/').split('/')
    return [p for p in parts if p not in ('', '.')]


def _frame_key(parts: Sequence[str]) -> tuple:
    """``(video folder, frame)``; numeric frame names compare as numbers
    (``00001.jpg`` = ``00000001.jpg``)."""
    match = _FRAME_FILE.match(parts[-1])
    frame = int(match.group(1)) if match else parts[-1]
    return (parts[-2] if len(parts) > 1 else '', frame)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(
        value, bool) and math.isfinite(value)


def convert_pt17_boxes(boxes_file: str, ann_file: str, out_file: str) -> dict:
    """Convert PoseWarper's precomputed boxes to mmpose's bbox-file format.

    Each entry ``{"image_name", "bbox": [x, y, w, h], "score",
    "category_id", "nframes", "frame_id"}`` becomes ``{"image_id", "bbox",
    "score", "category_id"}`` with the ``id`` of the image of ``ann_file``
    it names. A name matches an image when its last two path components
    (video folder, frame file) equal those of the image's ``file_name``,
    frame numbers compared as numbers; several candidates are decided by
    further trailing components, else refused. Entries on frames of a known
    video that ``ann_file`` does not list (unlabeled frames) are dropped
    and counted, as are non-person entries; every other mismatch, and an
    ``nframes`` that differs from the image's, is refused.

    Returns:
        dict: ``boxes`` (written), ``unlabeled`` and ``not_person``
        (dropped) counts.
    """
    command = 'pt17-boxes'
    _refuse_existing(out_file, command)
    boxes = _load_json(boxes_file)
    if not isinstance(boxes, list):
        raise ValueError(
            f'{command}: {boxes_file!r} must hold a json list of '
            '{"image_name", "bbox", "score", ...} entries (PoseWarper\'s '
            f'val_boxes.json), got {type(boxes).__name__}.')
    ann = _load_json(ann_file)
    if not isinstance(ann, dict) or not isinstance(ann.get('images'), list):
        raise KeyError(
            f'{command}: {ann_file!r} has no "images" list; --ann must be a '
            'merged COCO-style json (written by pt17-annolist, or DCPose\'s '
            'posetrack_val.json).')
    by_key: Dict[tuple, List[dict]] = defaultdict(list)
    videos: Dict[str, List[tuple]] = defaultdict(list)
    for n, img in enumerate(ann['images']):
        for field in ('id', 'file_name', 'nframes'):
            if not isinstance(img, dict) or field not in img:
                raise KeyError(f'{command}: {ann_file!r} images[{n}] has no '
                               f'"{field}" field.')
        parts = _path_parts(img['file_name'])
        by_key[_frame_key(parts)].append(dict(img, _parts=parts))
        try:
            first = FrameNaming.from_file_name(img['file_name']).first_index
        except ValueError:
            first = 1
        videos[_frame_key(parts)[0]].append((int(img['nframes']), first))

    out, unlabeled, not_person = [], 0, 0
    for i, det in enumerate(boxes):
        where = f'{command}: {boxes_file!r} entry {i}'
        if not isinstance(det, dict):
            raise ValueError(f'{where} must be an object, got {det!r}.')
        name = det.get('image_name')
        if not isinstance(name, str) or not _path_parts(name):
            raise KeyError(f'{where} has no "image_name" (a frame path).')
        where = f'{where} ("image_name" {name!r})'
        bbox = det.get('bbox')
        if not isinstance(bbox, list) or len(bbox) != 4 or not all(
                _finite(v) for v in bbox) or bbox[2] < 0 or bbox[3] < 0:
            raise ValueError(f'{where}: field "bbox" must be [x, y, w, h] '
                             f'with w, h >= 0, got {bbox!r}.')
        if not _finite(det.get('score')):
            raise ValueError(f'{where}: field "score" must be a number, got '
                             f'{det.get("score")!r}.')
        category = det.get('category_id', 1)
        if not _finite(category):
            raise ValueError(f'{where}: field "category_id" must be a '
                             f'number, got {category!r}.')
        if int(category) != 1:
            not_person += 1
            continue
        parts = _path_parts(name)
        key = _frame_key(parts)
        candidates = by_key.get(key, [])
        if len(candidates) > 1:  # decide by the components before the key

            def agree(img: dict) -> int:
                count = 0
                for a, b in zip(parts[-3::-1], img['_parts'][-3::-1]):
                    if a != b:
                        break
                    count += 1
                return count

            best = max(agree(img) for img in candidates)
            candidates = [img for img in candidates if agree(img) == best]
            if len(candidates) > 1:
                names = ', '.join(repr(c['file_name']) for c in candidates[:3])
                raise ValueError(
                    f'{where} matches several images of {ann_file!r} '
                    f'({names}); the names cannot tell them apart.')
        spans = [nframes for nframes, first in videos.get(key[0], [])
                 if isinstance(key[1], int)
                 and first <= key[1] <= first + nframes - 1]
        if not candidates and not spans:
            raise ValueError(
                f'{where} matches no image of {ann_file!r} (compared on the '
                'trailing <video>/<frame> path components), nor a frame of '
                'one of its videos; are the boxes and --ann of the same '
                'split, with the frames renamed the same way?')
        nframes = int(candidates[0]['nframes']) if candidates else spans[0]
        if 'nframes' in det and (not _finite(det['nframes'])
                                 or det['nframes'] != nframes):
            raise ValueError(
                f'{where}: field "nframes" is {det["nframes"]!r} but the '
                f'video has {nframes} frames in {ann_file!r}; the boxes '
                'belong to another version of the data.')
        if not candidates:
            unlabeled += 1  # a frame of a known video that ann lacks
            continue
        out.append(
            dict(
                image_id=candidates[0]['id'],
                category_id=1,
                bbox=[float(v) for v in bbox],
                score=float(det['score'])))
    _write_json_new(out_file, out, command)
    return dict(boxes=len(out), unlabeled=unlabeled, not_person=not_person)


# --------------------------------------------------------------------------
# check
# --------------------------------------------------------------------------
def _images_of(ann: str) -> List[dict]:
    """Image entries of a merged json or of a folder of per-video jsons."""
    if osp.isdir(ann):
        paths = [
            osp.join(ann, f) for f in sorted(os.listdir(ann))
            if f.endswith('.json')
        ]
    elif osp.isfile(ann):
        paths = [ann]
    else:
        raise FileNotFoundError(f'check: {ann!r} does not exist.')
    images = []
    for path in paths:
        content = _load_json(path)
        if 'images' not in content:
            raise KeyError(f'check: {path!r} has no "images" field.')
        for img in content['images']:
            for field in ('file_name', 'nframes'):
                if field not in img:
                    raise KeyError(
                        f'check: an image of {path!r} (id {img.get("id")}) '
                        f'has no "{field}" field.')
            images.append(dict(img, _source=path))
    return images


def check_windows(ann: str,
                  data_root: str = '',
                  offsets: Sequence[int] = (-2, -1, 1, 2),
                  border_policy: str = 'fami',
                  frame_name_format: Optional[str] = None,
                  first_frame_index: Optional[int] = None,
                  all_frames: bool = False) -> dict:
    """List missing key/supporting frames of every (labeled) image.

    Args:
        ann (str): Merged json, or folder of per-video jsons.
        data_root (str): Folder the ``file_name`` are relative to.
        offsets (Sequence[int]): Supporting-frame offsets.
        border_policy (str): ``'fami'``, ``'key'`` or ``'clip'``, as in the
            datasets.
        frame_name_format (str, optional): Frame name pattern (detected
            when ``None``).
        first_frame_index (int, optional): First frame index (detected from
            the digit count when ``None``).
        all_frames (bool): Check unlabeled images as key frames too.

    Returns:
        dict: ``videos`` and ``key_frames`` (counts checked),
        ``missing_key_frames`` (paths), ``missing`` (video -> sorted list of
        missing frame indices), ``affected_key_frames`` (video -> key frame
        indices whose window has a missing frame), ``missing_paths``.
    """
    offsets = check_frame_offsets(offsets)
    if border_policy not in BORDER_POLICIES:
        raise ValueError(f'check: border policy {border_policy!r} is not '
                         f'one of {BORDER_POLICIES}.')
    missing: Dict[str, set] = defaultdict(set)
    affected: Dict[str, set] = defaultdict(set)
    missing_paths = set()
    missing_keys = []
    videos = set()
    checked = 0
    exists_cache: Dict[str, bool] = {}

    def exists(path: str) -> bool:
        if path not in exists_cache:
            exists_cache[path] = osp.isfile(path)
        return exists_cache[path]

    for img in _images_of(ann):
        if not all_frames and not img.get('is_labeled', True):
            continue
        file_name = img['file_name']
        try:
            naming = FrameNaming.from_file_name(file_name, frame_name_format,
                                                first_frame_index)
        except ValueError as err:
            raise ValueError(f'check: image {img.get("id")} of '
                             f'{img["_source"]!r}: {err}') from err
        key = naming.index_of(file_name)
        if key is None:
            raise ValueError(
                f'check: image {img.get("id")} of {img["_source"]!r}: '
                f'"file_name" {file_name!r} does not match '
                f'{naming.pattern!r}.')
        video = osp.dirname(file_name)
        videos.add(video)
        checked += 1
        first = naming.first_index
        last = first + int(img['nframes']) - 1
        key_path = osp.join(data_root, file_name)
        if not exists(key_path):
            missing_keys.append(key_path)
            missing[video].add(key)
            affected[video].add(key)
            missing_paths.add(key_path)
        for index in resolve_window(key, offsets, first, last, border_policy):
            path = osp.join(data_root, video, naming.name(index))
            if not exists(path):
                missing[video].add(index)
                affected[video].add(key)
                missing_paths.add(path)
    return dict(
        videos=len(videos),
        key_frames=checked,
        missing_key_frames=sorted(missing_keys),
        missing={
            v: sorted(s)
            for v, s in sorted(missing.items())
        },
        affected_key_frames={
            v: sorted(s)
            for v, s in sorted(affected.items())
        },
        missing_paths=sorted(missing_paths))


# --------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------
PT17_ANNOLIST_HELP = """\
Convert the official PoseTrack17 per-video annolist files of one split.

--out-json: the merged COCO-style json the datasets read: 17 keypoints in
PoseTrack18/mmpose order (ears unannotated), file_name = the renamed frame
<video folder>/%08d.jpg, width/height read from the frames, nframes, vid_id,
frame_id, is_labeled, ignore_regions_x/y, bbox from the keypoints, bbox_head,
track_id. Labeled frames only unless --all-frames.
--out-gt-dir: the per-video ground truth the metric (and poseval) reads: each
annolist file copied under its own name, image names that are not the renamed
frame's rewritten to it (the metric matches predictions by <video>/<frame>).

Rename the frames first (rename-pt17 IMAGES --apply). From the official files:
  posetrack_prepare.py pt17-annolist ANN/train --images data/posetrack17 \\
      --out-json data/posetrack17/annotations/posetrack17_train.json
  posetrack_prepare.py pt17-annolist ANN/val --images data/posetrack17 \\
      --out-json data/posetrack17/annotations/posetrack17_val.json \\
      --out-gt-dir data/posetrack17/annotations/val
From DCPose's files, keep their merged jsons and write the ground truth only:
  posetrack_prepare.py pt17-annolist \\
      posetrack17_annotation_dirs/jsons/val --images data/posetrack17 \\
      --out-gt-dir data/posetrack17/annotations/val
"""

PT17_BOXES_HELP = """\
Convert PoseWarper's precomputed PoseTrack17 boxes ({val,test}_boxes.json, a
list of {image_name, bbox [x, y, w, h], score, category_id, nframes,
frame_id}) into mmpose's detection file ({image_id, bbox, score, category_id},
the bbox_file of the configs), image_id taken from --ann.

image_name matches a file_name of --ann on the trailing <video>/<frame> path
components (frame numbers as numbers); ambiguous or unmatched names, and an
nframes that differs from --ann's, are refused. Boxes on frames --ann does not
list (unlabeled frames of its videos) and non-person boxes are dropped and
counted. All scores are kept: the configs drop boxes below 0.2 themselves.

--ann is the merged json of the same split: the one pt17-annolist wrote, or
DCPose's posetrack17_json_files/posetrack_val.json, already a merged file the
datasets read as is (copy it to data/posetrack17/annotations/
posetrack17_val.json, and posetrack_train.json to posetrack17_train.json):
  posetrack_prepare.py pt17-boxes \\
      posetrack17_precomputed_boxes/val_boxes.json \\
      --ann data/posetrack17/annotations/posetrack17_val.json \\
      --out data/posetrack17/annotations/posetrack17_val_human_detections.json
"""


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Prepare and check PoseTrack17/18 folders for '
        'PoseTrackVideoDataset.')
    sub = parser.add_subparsers(dest='command', required=True)

    rename = sub.add_parser(
        'rename-pt17',
        help='rename PoseTrack17 frames to %%08d.jpg (dry run by default)')
    rename.add_argument('images_dir', help='folder of the video folders')
    rename.add_argument(
        '--apply', action='store_true', help='rename (default: dry run)')

    merge = sub.add_parser(
        'merge', help='merge PoseTrack18 per-video jsons into one json')
    merge.add_argument('ann_dir', help='folder of per-video jsons')
    merge.add_argument('out_json', help='merged json to write (new file)')
    merge.add_argument(
        '--data-root',
        default='',
        help='folder the images\' file_name are relative to')
    merge.add_argument(
        '--all-frames', action='store_true', help='keep unlabeled frames too')

    check = sub.add_parser(
        'check', help='report missing key/supporting frames of a window')
    check.add_argument('ann', help='merged json or folder of per-video jsons')
    check.add_argument('--data-root', default='')
    check.add_argument(
        '--offsets', type=int, nargs='*', default=[-2, -1, 1, 2])
    check.add_argument(
        '--border-policy', default='fami', choices=BORDER_POLICIES)
    check.add_argument('--frame-name-format', default=None)
    check.add_argument('--first-frame-index', type=int, default=None)
    check.add_argument(
        '--all-frames',
        action='store_true',
        help='use unlabeled images as key frames too')
    check.add_argument('--report', default=None, help='write a json report')

    pt17 = sub.add_parser(
        'pt17-annolist',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help='PoseTrack17: official per-video annolist files -> merged json '
        'and ground-truth folder',
        description=PT17_ANNOLIST_HELP)
    pt17.add_argument(
        'annolist_dir', help='folder of official per-video annolist jsons')
    pt17.add_argument(
        '--images',
        '--data-root',
        dest='images',
        required=True,
        help='folder the annolist image names are relative to (the one '
        'holding images/, e.g. data/posetrack17)')
    pt17.add_argument(
        '--out-json', default=None, help='merged COCO-style json to write')
    pt17.add_argument(
        '--out-gt-dir',
        default=None,
        help='folder for the per-video ground truth (no .json in it yet)')
    pt17.add_argument(
        '--all-frames',
        action='store_true',
        help='list unlabeled frames in the merged json too')

    boxes = sub.add_parser(
        'pt17-boxes',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help='PoseTrack17: PoseWarper precomputed boxes -> mmpose detection '
        'file',
        description=PT17_BOXES_HELP)
    boxes.add_argument(
        'boxes_json', help='PoseWarper\'s {val,test}_boxes.json')
    boxes.add_argument(
        '--ann',
        required=True,
        help='merged json of the same split (pt17-annolist --out-json, or '
        'DCPose\'s posetrack_val.json as is)')
    boxes.add_argument(
        '--out', required=True, help='detection file to write (new file)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit status."""
    args = parse_args(argv)
    if args.command == 'rename-pt17':
        plan = rename_pt17(args.images_dir, apply=args.apply)
        mode = 'renamed' if args.apply else 'would rename (dry run)'
        count = plan['applied'] if args.apply else len(plan['renames'])
        print(f'{len(plan["videos"])} video folder(s); {mode} {count} '
              f'frame(s); {plan["done"]} already named %08d.jpg; '
              f'{len(plan["conflicts"])} conflict(s).')
        for src, dst in plan['renames'][:5]:
            print(f'  {src} -> {osp.basename(dst)}')
        if len(plan['renames']) > 5:
            print(f'  ... and {len(plan["renames"]) - 5} more')
        for src, dst in plan['conflicts']:
            print(f'  CONFLICT: {dst} exists, {src} not renamed')
        for folder in plan['not_from_one']:
            first = plan['videos'][folder][0]
            print(f'  WARNING: {folder} starts at frame {first}, not 1 '
                  '(PoseTrack17 frames are numbered from 1)')
        if not args.apply and plan['renames']:
            print('Run again with --apply to rename.')
        return 1 if plan['conflicts'] else 0
    if args.command == 'merge':
        report = merge_posetrack18(
            args.ann_dir,
            args.out_json,
            args.data_root,
            all_frames=args.all_frames)
        print(f'merged {report["videos"]} video(s): {report["images"]} '
              f'image(s), {report["annotations"]} annotation(s) -> '
              f'{report["out"]}')
        return 0
    if args.command == 'pt17-annolist':
        report = prepare_pt17_annolist(
            args.annolist_dir,
            args.images,
            out_json=args.out_json,
            out_gt_dir=args.out_gt_dir,
            all_frames=args.all_frames)
        print(f'{report["videos"]} video(s): {report["images"]} image(s), '
              f'{report["annotations"]} annotation(s) '
              f'({report["people_without_points"]} people without points '
              f'skipped); {report["missing_unlabeled_frames"]} unlabeled '
              'frame(s) missing on disk; '
              f'{report["renamed_gt_names"]} image name(s) '
              'rewritten to the renamed frames in the ground truth.')
        for note in report['notes'][:10]:
            print(f'  NOTE: {note}')
        if len(report['notes']) > 10:
            print(f'  ... and {len(report["notes"]) - 10} more notes')
        for out in (args.out_json, args.out_gt_dir):
            if out is not None:
                print(f'  wrote {out}')
        return 0
    if args.command == 'pt17-boxes':
        report = convert_pt17_boxes(args.boxes_json, args.ann, args.out)
        print(f'{report["boxes"]} box(es) -> {args.out}; dropped '
              f'{report["unlabeled"]} on frames that {args.ann} does not list '
              f'and {report["not_person"]} non-person box(es).')
        return 0
    report = check_windows(
        args.ann,
        data_root=args.data_root,
        offsets=args.offsets,
        border_policy=args.border_policy,
        frame_name_format=args.frame_name_format,
        first_frame_index=args.first_frame_index,
        all_frames=args.all_frames)
    print(f'checked {report["key_frames"]} key frame(s) in '
          f'{report["videos"]} video(s), window {args.offsets}, border '
          f'policy {args.border_policy!r}: {len(report["missing_paths"])} '
          'missing frame file(s).')
    for video, indices in report['missing'].items():
        keys = report['affected_key_frames'][video]
        print(f'  {video}: missing frames {indices}; affected key frames '
              f'{keys}')
    if args.report:
        with open(args.report, 'w') as f:
            json.dump(report, f, indent=1)
    return 1 if report['missing_paths'] else 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except (FileExistsError, FileNotFoundError, KeyError, ValueError) as err:
        # one line, no traceback: the messages name the file and the entry
        print(f'error: {err.args[0] if err.args else err}', file=sys.stderr)
        sys.exit(2)
