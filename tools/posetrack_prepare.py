# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Prepare and check PoseTrack17/18 folders for the video datasets.

Three commands:

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
"""
import argparse
import json
import os
import os.path as osp
import re
import sys
from collections import OrderedDict, defaultdict
from typing import Dict, List, Optional, Sequence

if __name__ == '__main__':  # run from a source tree without installing
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from famipose_mmpose.datasets.frame_window import (  # noqa: E402
    BORDER_POLICIES, FrameNaming, check_frame_offsets, resolve_window)

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
    if osp.exists(out_file):
        raise FileExistsError(
            f'merge: {out_file!r} exists; refusing to overwrite it. Remove '
            'it or choose another output file.')
    if not osp.isdir(ann_dir):
        raise FileNotFoundError(
            f'merge: annotation folder {ann_dir!r} does not exist.')
    files = sorted(f for f in os.listdir(ann_dir) if f.endswith('.json'))
    if not files:
        raise FileNotFoundError(
            f'merge: no per-video .json file in {ann_dir!r}.')
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
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    with open(out_file, 'x') as f:
        json.dump(merged, f)
    return dict(
        videos=len(files),
        images=len(merged['images']),
        annotations=len(merged['annotations']),
        out=out_file)


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
    sys.exit(main())
