"""PoseTrack multi-person pose AP (the "mAP" of PoseTrack papers), in numpy.

This module re-implements the AP part of the official PoseTrack evaluation
kit, poseval (`leonid-pishchulin/poseval`, packaged as `svenkreiss/poseval`:
``evaluate.py -e``, i.e. ``eval_helpers.load_data_dir`` +
``evaluateAP.evaluateAP``) without its dependencies (shapely, click, tqdm),
so that the numbers equal what poseval prints for the prediction files that
:func:`build_posetrack18_predictions` / :func:`build_posetrack17_predictions`
produce. It has no mmengine / mmpose dependency.

poseval's rules, as implemented here (function names in brackets):

1. Joints. poseval scores 15 joints, numbered as in PoseTrack17
   (:data:`POSEVAL_JOINT_NAMES`); the two ears of the 17 PoseTrack18
   keypoints are dropped. PoseTrack18 files are first converted to the
   PoseTrack17 layout (``convert.py``): a keypoint whose triplet is exactly
   ``(0, 0, 0)`` (x, y, visibility) is absent; every other keypoint is
   present, whatever its visibility flag. In PoseTrack17 files a joint is
   present when it is listed in ``annopoints[0]['point']`` (the first
   listed point of an id counts). The joint score of a prediction is its
   ``scores[k]`` (PoseTrack18) or ``score[0]`` (PoseTrack17), and -9999
   when missing (:func:`load_posetrack18_video`,
   :func:`load_posetrack17_video`).
2. Frames. Prediction frames are aligned with ground-truth frames by their
   position in the video file; both files must list the same number of
   frames. A frame is evaluated if and only if its ground truth lists at
   least one person; the PoseTrack18 ``is_labeled`` flag is NOT read
   (poseval rebuilds it from the people). So predictions in a frame without
   annotated people are ignored, and a frame whose only people have no
   annotated joint (or lose them all to ignore regions) is kept: its
   predictions are all false positives (:func:`evaluate_posetrack_ap`).
3. Ignore regions (polygons of the ground-truth frame). In frames that have
   some, every ground-truth and predicted point strictly inside a polygon
   (shapely's ``Polygon.contains``: the boundary is outside) is removed,
   and a person left without points is removed
   (:func:`remove_ignored_points`). A region with no vertex is skipped;
   one with 1 or 2 vertices makes shapely (and so poseval) fail, and raises
   a ``ValueError`` here.
4. Matching, per frame (:func:`assign_frame`). Head size of a ground-truth
   person = 0.6 * the diagonal of its head box; a predicted joint is
   correct for a ground-truth joint when their distance is <= 0.5 * head
   size (PCKh@0.5). For each (prediction, ground truth) pair, PCKh = number
   of correct joints / number of annotated joints of the ground truth. Each
   prediction keeps only its best ground truth (first one on ties); each
   ground truth then takes, among the predictions that kept it, the one
   with the highest PCKh (first one on ties; none if that PCKh is 0).
   Scores play no part in the matching. Every present joint of a matched
   prediction is a true positive if it is correct for its ground truth,
   else a false positive; every present joint of an unmatched prediction is
   a false positive. The number of positives of a joint is the number of
   its annotations over all evaluated frames.
5. AP per joint (:func:`compute_rpc`, :func:`voc_ap`, :func:`compute_ap`):
   the joint's detections of all frames are sorted by decreasing score
   (``argsort()[::-1]`` of poseval's array: same order, ties included),
   precision/recall are accumulated, and AP is the area under the
   interpolated precision-recall curve (VOC style: precision made
   non-increasing, summed at recall changes), in percent. A joint without
   any prediction has AP 0; a joint with predictions but no annotation has
   AP NaN. Total = mean of the 15 joint APs that are not NaN; Head = mean of
   head_top, head_bottom (neck) and nose; every other part = mean of its left
   and right joints (a NaN joint makes its part NaN, as in poseval).

Known differences from poseval, none of which changes a number on
well-formed data: video files are read in sorted file-name order (poseval
uses ``glob`` order; the order matters only for predictions with exactly
equal scores, whose order in the sort it decides); distances are computed
vectorised, so a distance within one floating-point rounding of the
threshold could be classified differently; a ground-truth person with
annotated joints but no head box is an error at load time (poseval fails
only when that frame has predictions); malformed files raise errors that
name the file and the field instead of ``KeyError``/``AssertionError``.
"""
import copy
import json
import os
import os.path as osp
import tempfile
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Mapping, NamedTuple, Optional, Sequence, Tuple

import numpy as np

#: poseval's 15 joints, index = poseval joint id (PoseTrack17 numbering).
POSEVAL_JOINT_NAMES = ('right_ankle', 'right_knee', 'right_hip', 'left_hip',
                       'left_knee', 'left_ankle', 'right_wrist', 'right_elbow',
                       'right_shoulder', 'left_shoulder', 'left_elbow',
                       'left_wrist', 'head_bottom', 'nose', 'head_top')
NUM_JOINTS = len(POSEVAL_JOINT_NAMES)

#: The 17 PoseTrack18 keypoints in file (and mmpose) order.
POSETRACK18_KEYPOINT_NAMES = ('nose', 'head_bottom', 'head_top', 'left_ear',
                              'right_ear', 'left_shoulder', 'right_shoulder',
                              'left_elbow', 'right_elbow', 'left_wrist',
                              'right_wrist', 'left_hip', 'right_hip',
                              'left_knee', 'right_knee', 'left_ankle',
                              'right_ankle')

#: Limb list of the PoseTrack18 ``categories`` entry (1-based keypoints).
# yapf: disable
POSETRACK18_SKELETON = (
    (16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13),
    (6, 7), (6, 8), (7, 9), (8, 10), (9, 11), (2, 3), (1, 2), (1, 3), (2, 4),
    (3, 5), (4, 6), (5, 7))
# yapf: enable

#: The ``categories`` entry of PoseTrack18-format (COCO-style) files.
POSETRACK18_CATEGORIES = [
    dict(
        supercategory='person',
        id=1,
        name='person',
        keypoints=list(POSETRACK18_KEYPOINT_NAMES),
        skeleton=[list(limb) for limb in POSETRACK18_SKELETON])
]

#: PCKh threshold, as a fraction of the head size.
PCKH_THRESHOLD = 0.5
#: Head size = HEAD_SIZE_FACTOR * diagonal of the head box.
HEAD_SIZE_FACTOR = 0.6
#: Score poseval gives a predicted joint that comes without a score.
MISSING_SCORE = -9999.0

#: Reported parts and the joints each one averages; ``Total`` averages all
#: 15 joints (not the parts).
PART_JOINTS: 'OrderedDict[str, Tuple[str, ...]]' = OrderedDict([
    ('Head', ('head_top', 'head_bottom', 'nose')),
    ('Shoulder', ('right_shoulder', 'left_shoulder')),
    ('Elbow', ('right_elbow', 'left_elbow')),
    ('Wrist', ('right_wrist', 'left_wrist')),
    ('Hip', ('right_hip', 'left_hip')),
    ('Knee', ('right_knee', 'left_knee')),
    ('Ankle', ('right_ankle', 'left_ankle')),
])
PART_NAMES: Tuple[str, ...] = tuple(PART_JOINTS) + ('Total', )


@dataclass
class PoseTrackPerson:
    """One person of one frame, in poseval's joint numbering.

    Attributes:
        joint_ids (np.ndarray): Poseval joint id of each listed point, in
            file order, shape (P, ).
        coords (np.ndarray): x, y of each point, shape (P, 2).
        scores (np.ndarray): Score of each point (:data:`MISSING_SCORE`
            when the file has none), shape (P, ).
        head_box (tuple, optional): Head box ``(x1, y1, x2, y2)``; ``None``
            when the file has none.
        counted (np.ndarray, optional): Ground truth only: which points
            belong to the joint subset scored by
            :func:`evaluate_joint_subset_ap`, shape (P, ) bool; ``None``
            means every point. The PoseTrack AP ignores it.
    """
    joint_ids: np.ndarray
    coords: np.ndarray
    scores: np.ndarray
    head_box: Optional[Tuple[float, float, float, float]] = None
    counted: Optional[np.ndarray] = None

    @property
    def num_points(self) -> int:
        """Number of listed points."""
        return len(self.joint_ids)

    def keep_points(self, keep: np.ndarray) -> 'PoseTrackPerson':
        """Return a copy holding only the points where ``keep`` is True."""
        counted = None if self.counted is None else self.counted[keep]
        return PoseTrackPerson(self.joint_ids[keep], self.coords[keep],
                               self.scores[keep], self.head_box, counted)

    def dense(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-joint arrays; the first listed point of a joint id counts.

        Returns:
            tuple: coordinates (15, 2) (NaN where absent), presence (15, )
            bool and scores (15, ) (NaN where absent).
        """
        coords = np.full((NUM_JOINTS, 2), np.nan)
        scores = np.full(NUM_JOINTS, np.nan)
        present = np.zeros(NUM_JOINTS, dtype=bool)
        ids, first = np.unique(self.joint_ids, return_index=True)
        coords[ids] = self.coords[first]
        scores[ids] = self.scores[first]
        present[ids] = True
        return coords, present, scores

    def counted_joints(self) -> np.ndarray:
        """Which of the 15 joints are present and counted, (15, ) bool."""
        points = np.ones(self.num_points, dtype=bool) \
            if self.counted is None else self.counted
        ids, first = np.unique(self.joint_ids, return_index=True)
        counted = np.zeros(NUM_JOINTS, dtype=bool)
        counted[ids] = points[first]
        return counted

    def head_size(self) -> float:
        """0.6 * diagonal of the head box, NaN without a head box."""
        if self.head_box is None:
            return float('nan')
        x1, y1, x2, y2 = self.head_box
        return HEAD_SIZE_FACTOR * float(np.sqrt((x2 - x1)**2 + (y2 - y1)**2))


@dataclass
class PoseTrackFrame:
    """One frame of a PoseTrack video file.

    Attributes:
        file_name (str): Image path as written in the file.
        image_id (int, optional): PoseTrack18 image id (``None`` for
            PoseTrack17 files, which have none).
        people (list[PoseTrackPerson]): People in file order.
        ignore_regions (list[np.ndarray]): Ignore polygons, each (V, 2).
    """
    file_name: str
    image_id: Optional[int] = None
    people: List[PoseTrackPerson] = field(default_factory=list)
    ignore_regions: List[np.ndarray] = field(default_factory=list)


@dataclass
class PoseTrackAP:
    """PoseTrack AP of a set of videos, in percent.

    Attributes:
        joint_ap (np.ndarray): AP of each joint, poseval order, shape (15, ).
        joint_precision (np.ndarray): Precision at the last detection of
            each joint (poseval's ``pre``), shape (15, ).
        joint_recall (np.ndarray): Recall at the last detection of each
            joint (poseval's ``rec``), shape (15, ).
        num_gt (np.ndarray): Annotated joints of each joint type, (15, ).
        parts (OrderedDict[str, float]): AP of :data:`PART_NAMES`.
    """
    joint_ap: np.ndarray
    joint_precision: np.ndarray
    joint_recall: np.ndarray
    num_gt: np.ndarray
    parts: 'OrderedDict[str, float]'


# ----------------------------------------------------------------------------
# Loading PoseTrack files
# ----------------------------------------------------------------------------


def _field(entry: Mapping, key: str, source: str, where: str) -> Any:
    """``entry[key]``, or a KeyError that names the file and the field."""
    if not isinstance(entry, Mapping) or key not in entry:
        raise KeyError(f'{source}: {where} has no field "{key}"; the file is '
                       'not a valid PoseTrack annotation file, re-export it '
                       'or fix that entry.')
    return entry[key]


def _list_field(entry: Mapping, key: str, source: str, where: str) -> list:
    """``entry[key]`` that must be a list."""
    value = _field(entry, key, source, where)
    if not isinstance(value, list):
        raise ValueError(f'{source}: field "{key}" of {where} must be a '
                         f'list, got {type(value).__name__}.')
    return value


def _first(value: Any, source: str, where: str) -> Any:
    """First element of a PoseTrack17 one-element list field."""
    if not isinstance(value, list) or len(value) == 0:
        raise ValueError(f'{source}: {where} must be a non-empty list '
                         f'(PoseTrack17 layout), got {value!r}.')
    return value[0]


def _polygon(xs: Sequence, ys: Sequence, source: str,
             where: str) -> Optional[np.ndarray]:
    """Build an ignore polygon (V, 2); ``None`` for an empty region."""
    if len(xs) != len(ys):
        raise ValueError(f'{source}: {where} has {len(xs)} x and {len(ys)} '
                         'y coordinates; they must pair up.')
    if len(xs) == 0:
        return None
    if len(xs) < 3:
        raise ValueError(f'{source}: {where} has {len(xs)} vertices; a '
                         'polygon needs at least 3 (poseval/shapely rejects '
                         'it too). Remove or fix that region.')
    return np.stack(
        [np.asarray(xs, dtype=np.float64),
         np.asarray(ys, dtype=np.float64)],
        axis=1)


def _joint_table(names: Sequence[str], source: str) -> List[Optional[int]]:
    """Map keypoint names of a PoseTrack18 file to poseval joint ids."""
    table = [
        POSEVAL_JOINT_NAMES.index(name)
        if name in POSEVAL_JOINT_NAMES else None for name in names
    ]
    missing = [n for n in POSEVAL_JOINT_NAMES if n not in names]
    if missing:
        raise ValueError(f'{source}: categories[0]["keypoints"] lacks the '
                         f'joints {missing}; PoseTrack18 files name the 17 '
                         f'keypoints {list(POSETRACK18_KEYPOINT_NAMES)}.')
    return table


def load_posetrack18_video(
        data: Mapping,
        source: str,
        require_head_box: bool = True) -> List[PoseTrackFrame]:
    """Read a PoseTrack18 (COCO-like) video file as poseval reads it.

    Args:
        data (Mapping): The parsed json (``images``, ``annotations``,
            ``categories``).
        source (str): File name used in error messages.
        require_head_box (bool): Whether a person with at least one present
            keypoint must have ``bbox_head`` (ground truth). Defaults to
            ``True``.

    Returns:
        list[PoseTrackFrame]: Frames in the order of ``images``; people of a
        frame in the order of ``annotations``.
    """
    categories = _list_field(data, 'categories', source, 'the file')
    if len(categories) == 0:
        raise ValueError(f'{source}: "categories" is empty; it must hold the '
                         'person category with its "keypoints" names.')
    names = _list_field(categories[0], 'keypoints', source, 'categories[0]')
    joint_table = _joint_table(names, source)
    num_kpts = len(names)

    frames: List[PoseTrackFrame] = []
    frame_of_id: Dict[Any, PoseTrackFrame] = {}
    for i, image in enumerate(_list_field(data, 'images', source, 'the file')):
        where = f'images[{i}]'
        image_id = _field(image, 'id', source, where)
        if image_id in frame_of_id:
            raise ValueError(f'{source}: images[{i}] repeats the image id '
                             f'{image_id}; image ids must be unique.')
        frame = PoseTrackFrame(
            file_name=str(_field(image, 'file_name', source, where)),
            image_id=image_id)
        if 'ignore_regions_x' in image and 'ignore_regions_y' in image:
            xs_all, ys_all = image['ignore_regions_x'], image[
                'ignore_regions_y']
            if len(xs_all) != len(ys_all):
                raise ValueError(
                    f'{source}: {where} has {len(xs_all)} ignore_regions_x '
                    f'but {len(ys_all)} ignore_regions_y polygons.')
            for r, (xs, ys) in enumerate(zip(xs_all, ys_all)):
                poly = _polygon(
                    xs, ys, source, f'{where} ignore region {r} '
                    '(ignore_regions_x/_y)')
                if poly is not None:
                    frame.ignore_regions.append(poly)
        frames.append(frame)
        frame_of_id[image_id] = frame

    for a, ann in enumerate(
            _list_field(data, 'annotations', source, 'the file')):
        where = f'annotations[{a}]'
        frame = frame_of_id.get(_field(ann, 'image_id', source, where))
        if frame is None:
            # poseval never looks at annotations of unknown images
            continue
        kpts = _list_field(ann, 'keypoints', source, where)
        if len(kpts) != 3 * num_kpts:
            raise ValueError(
                f'{source}: field "keypoints" of {where} has {len(kpts)} '
                f'values; expected 3 * {num_kpts} (x, y, visibility per '
                'keypoint of categories[0]).')
        scores = ann.get('scores') or None  # poseval: empty list = no scores
        if scores is not None and len(scores) != num_kpts:
            raise ValueError(f'{source}: field "scores" of {where} has '
                             f'{len(scores)} values; expected {num_kpts}.')
        ids, coords, point_scores = [], [], []
        for k in range(num_kpts):
            x, y, v = kpts[3 * k:3 * k + 3]
            if joint_table[k] is None or (x == 0 and y == 0 and v == 0):
                continue
            ids.append(joint_table[k])
            coords.append((x, y))
            point_scores.append(MISSING_SCORE if scores is None else scores[k])
        head_box = None
        if 'bbox_head' in ann:
            box = ann['bbox_head']
            if not isinstance(box, list) or len(box) != 4:
                raise ValueError(f'{source}: field "bbox_head" of {where} '
                                 'must be [x, y, w, h].')
            # poseval stores x2 = x + w and measures x2 - x1
            head_box = (box[0], box[1], box[0] + box[2], box[1] + box[3])
        elif require_head_box and ids:
            raise KeyError(f'{source}: {where} has annotated keypoints but '
                           'no field "bbox_head"; PCKh needs the head box.')
        frame.people.append(_make_person(ids, coords, point_scores, head_box))
    return frames


def load_posetrack17_video(
        data: Mapping,
        source: str,
        require_head_box: bool = True) -> List[PoseTrackFrame]:
    """Read a PoseTrack17 (``annolist``) video file as poseval reads it.

    Args:
        data (Mapping): The parsed json with its ``annolist``.
        source (str): File name used in error messages.
        require_head_box (bool): Whether a person with at least one point
            must have the head box ``x1, y1, x2, y2``. Defaults to ``True``.

    Returns:
        list[PoseTrackFrame]: Frames in ``annolist`` order (``image_id`` is
        ``None``).
    """
    frames: List[PoseTrackFrame] = []
    for i, entry in enumerate(
            _list_field(data, 'annolist', source, 'the file')):
        where = f'annolist[{i}]'
        image = _first(
            _field(entry, 'image', source, where), source,
            f'field "image" of {where}')
        frame = PoseTrackFrame(
            file_name=str(_field(image, 'name', source, f'{where}.image[0]')))
        for r, region in enumerate(entry.get('ignore_regions') or []):
            rwhere = f'{where}.ignore_regions[{r}]'
            points = _list_field(region, 'point', source, rwhere)
            poly = _polygon(
                [_first(p.get('x'), source, f'{rwhere} x') for p in points],
                [_first(p.get('y'), source, f'{rwhere} y')
                 for p in points], source, rwhere)
            if poly is not None:
                frame.ignore_regions.append(poly)
        for r, rect in enumerate(
                _list_field(entry, 'annorect', source, where)):
            rwhere = f'{where}.annorect[{r}]'
            ids, coords, point_scores = [], [], []
            annopoints = rect.get('annopoints')
            # poseval's rectHasPoints: a rect without points stays a person
            # with no joint (harmless), so only its points are read here
            if (isinstance(annopoints, list) and len(annopoints) > 0
                    and isinstance(annopoints[0], Mapping)
                    and 'point' in annopoints[0]):
                for p, point in enumerate(annopoints[0]['point']):
                    pwhere = f'{rwhere}.annopoints[0].point[{p}]'
                    joint = _first(
                        _field(point, 'id', source, pwhere), source,
                        f'field "id" of {pwhere}')
                    if joint is None:
                        continue
                    ids.append(int(joint))
                    coords.append((_first(
                        _field(point, 'x', source, pwhere), source,
                        f'field "x" of {pwhere}'),
                                   _first(
                                       _field(point, 'y', source, pwhere),
                                       source, f'field "y" of {pwhere}')))
                    point_scores.append(
                        _first(point['score'], source, f'score of {pwhere}'
                               ) if 'score' in point else MISSING_SCORE)
            head_box = None
            if all(k in rect for k in ('x1', 'y1', 'x2', 'y2')):
                head_box = tuple(
                    _first(rect[k], source, f'field "{k}" of {rwhere}')
                    for k in ('x1', 'y1', 'x2', 'y2'))
            elif require_head_box and ids:
                raise KeyError(f'{source}: {rwhere} has annotated points but '
                               'no head box fields "x1", "y1", "x2", "y2"; '
                               'PCKh needs the head box.')
            frame.people.append(
                _make_person(ids, coords, point_scores, head_box))
        frames.append(frame)
    return frames


def _make_person(ids: List[int], coords: List[Tuple[float, float]],
                 scores: List[float],
                 head_box: Optional[tuple]) -> PoseTrackPerson:
    """Pack point lists into a :class:`PoseTrackPerson`; keep ids 0..14."""
    ids_arr = np.asarray(ids, dtype=np.int64).reshape(-1)
    coords_arr = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
    scores_arr = np.asarray(scores, dtype=np.float64).reshape(-1)
    # poseval only ever looks up ids 0..14; other ids are dead weight
    keep = (ids_arr >= 0) & (ids_arr < NUM_JOINTS)
    return PoseTrackPerson(ids_arr[keep], coords_arr[keep], scores_arr[keep],
                           head_box)


def load_posetrack_video(
        data: Mapping,
        source: str,
        require_head_box: bool = True) -> List[PoseTrackFrame]:
    """Read a PoseTrack17 or PoseTrack18 video file (format detected by the
    presence of ``annolist``, as poseval does).

    Args:
        data (Mapping): The parsed json.
        source (str): File name used in error messages.
        require_head_box (bool): See :func:`load_posetrack18_video`.
            Defaults to ``True``.

    Returns:
        list[PoseTrackFrame]: The frames of the video.
    """
    if not isinstance(data, Mapping):
        raise ValueError(f'{source}: expected a json object (PoseTrack17 '
                         '"annolist" or PoseTrack18 "images"/"annotations"), '
                         f'got {type(data).__name__}.')
    if 'annolist' in data:
        return load_posetrack17_video(data, source, require_head_box)
    return load_posetrack18_video(data, source, require_head_box)


def load_posetrack_folder(
        folder: str,
        require_head_box: bool = True
) -> 'OrderedDict[str, List[PoseTrackFrame]]':
    """Read every ``<video>.json`` of a folder (e.g. ``annotations/val``).

    Args:
        folder (str): Folder with one json file per video.
        require_head_box (bool): See :func:`load_posetrack18_video`.
            Defaults to ``True`` (ground truth).

    Returns:
        OrderedDict[str, list[PoseTrackFrame]]: Frames per video name (the
        file name without ``.json``), in sorted file-name order.
    """
    if not osp.isdir(folder):
        raise FileNotFoundError(
            f'PoseTrack annotation folder "{folder}" does not exist; point it '
            'to the folder with one <video>.json per video (e.g. '
            'posetrack18/annotations/val).')
    names = sorted(n for n in os.listdir(folder) if n.endswith('.json'))
    if not names:
        raise ValueError(f'PoseTrack annotation folder "{folder}" has no '
                         '.json file; it must hold one <video>.json per '
                         'video (e.g. posetrack18/annotations/val).')
    videos: 'OrderedDict[str, List[PoseTrackFrame]]' = OrderedDict()
    for name in names:
        path = osp.join(folder, name)
        with open(path, 'r') as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}: not valid json ({err}).') from err
        videos[name[:-len('.json')]] = load_posetrack_video(
            data, path, require_head_box)
    return videos


# ----------------------------------------------------------------------------
# Ignore regions, matching, AP
# ----------------------------------------------------------------------------


def points_in_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Which points lie strictly inside a polygon (even-odd rule).

    Points on an edge or a vertex are outside, like shapely's
    ``Polygon.contains``.

    Args:
        points (np.ndarray): Points, shape (P, 2).
        polygon (np.ndarray): Vertices, shape (V, 2), closed implicitly.

    Returns:
        np.ndarray: Inside flags, shape (P, ).
    """
    px, py = points[:, 0:1], points[:, 1:2]
    x1, y1 = polygon[:, 0], polygon[:, 1]
    x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
    cross = (x2 - x1) * (py - y1) - (y2 - y1) * (px - x1)
    in_box = ((np.minimum(x1, x2) <= px) & (px <= np.maximum(x1, x2))
              & (np.minimum(y1, y2) <= py) & (py <= np.maximum(y1, y2)))
    on_boundary = np.any((cross == 0) & in_box, axis=1)
    straddles = (y1 > py) != (y2 > py)
    with np.errstate(divide='ignore', invalid='ignore'):
        x_at_py = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
    crossings = np.sum(straddles & (px < x_at_py), axis=1)
    return (crossings % 2 == 1) & ~on_boundary


def mask_ignored_points(
        people: Sequence[PoseTrackPerson],
        regions: Sequence[np.ndarray]) -> List[PoseTrackPerson]:
    """Each person without its points inside ignore regions, in order and
    all kept (a person left without points matches nothing).

    Args:
        people (Sequence[PoseTrackPerson]): People of the frame.
        regions (Sequence[np.ndarray]): Ignore polygons, each (V, 2).

    Returns:
        list[PoseTrackPerson]: One person per input person.
    """
    if len(regions) == 0:
        return list(people)
    masked = []
    for person in people:
        inside = np.zeros(person.num_points, dtype=bool)
        for poly in regions:
            inside |= points_in_polygon(person.coords, poly)
        masked.append(person.keep_points(~inside))
    return masked


def remove_ignored_points(
        people: Sequence[PoseTrackPerson],
        regions: Sequence[np.ndarray]) -> List[PoseTrackPerson]:
    """Drop points inside ignore regions, then people left without points.

    As poseval's ``removeIgnoredPoints``, nothing happens in a frame
    without regions.

    Args:
        people (Sequence[PoseTrackPerson]): People of the frame.
        regions (Sequence[np.ndarray]): Ignore polygons, each (V, 2).

    Returns:
        list[PoseTrackPerson]: The remaining people, in order.
    """
    return [person for person in mask_ignored_points(people, regions) if person.num_points > 0]


class FrameMatch(NamedTuple):
    """poseval's matching of one frame (:func:`match_frame`).

    Attributes:
        scores (np.ndarray): Joint scores of the predictions, (Np, 15).
        correct (np.ndarray): Whether joint j is present in prediction p
            and in ground truth g and within the PCKh threshold,
            (Np, Ng, 15) bool.
        has_pred (np.ndarray): Which predicted joints exist, (Np, 15).
        has_gt (np.ndarray): Which ground-truth joints exist, (Ng, 15).
        pred_of_gt (np.ndarray): The prediction matched to each ground
            truth, -1 for none, (Ng, ).
        best_gt (np.ndarray): The ground truth each prediction overlaps
            most (highest PCKh, first on ties), -1 when it overlaps none,
            (Np, ).
    """
    scores: np.ndarray
    correct: np.ndarray
    has_pred: np.ndarray
    has_gt: np.ndarray
    pred_of_gt: np.ndarray
    best_gt: np.ndarray


def match_frame(gt_people: Sequence[PoseTrackPerson],
                pred_people: Sequence[PoseTrackPerson],
                threshold: float = PCKH_THRESHOLD) -> FrameMatch:
    """Match the predictions of one frame to its ground truth (poseval's
    ``assignGTmulti``, see rule 4 of the module docstring).

    Args:
        gt_people (Sequence[PoseTrackPerson]): Ground-truth people (with
            head boxes where they have points).
        pred_people (Sequence[PoseTrackPerson]): Predicted people.
        threshold (float): PCKh threshold. Defaults to 0.5.

    Returns:
        FrameMatch: Scores, per-joint correctness and the matching.
    """
    num_pr, num_gt = len(pred_people), len(gt_people)
    gt_xy = np.zeros((num_gt, NUM_JOINTS, 2))
    has_gt = np.zeros((num_gt, NUM_JOINTS), dtype=bool)
    for g, person in enumerate(gt_people):
        gt_xy[g], has_gt[g], _ = person.dense()
    pr_xy = np.zeros((num_pr, NUM_JOINTS, 2))
    has_pr = np.zeros((num_pr, NUM_JOINTS), dtype=bool)
    scores = np.full((num_pr, NUM_JOINTS), np.nan)
    for p, person in enumerate(pred_people):
        pr_xy[p], has_pr[p], scores[p] = person.dense()
    if num_pr == 0 or num_gt == 0:
        return FrameMatch(scores, np.zeros((num_pr, num_gt, NUM_JOINTS), dtype=bool), has_pr, has_gt,
                          np.full(num_gt, -1, dtype=np.int64), np.full(num_pr, -1, dtype=np.int64))

    head = np.array([person.head_size() for person in gt_people])
    diff = gt_xy[None, :, :, :] - pr_xy[:, None, :, :]  # (Np, Ng, 15, 2)
    with np.errstate(divide='ignore', invalid='ignore'):
        norm_dist = np.sqrt(diff[..., 0]**2 + diff[..., 1]**2) / head[None, :,
                                                                      None]
    both = has_pr[:, None, :] & has_gt[None, :, :]
    dist = np.where(both, norm_dist, np.inf)
    with np.errstate(invalid='ignore'):
        match = dist <= threshold  # NaN (zero head size) never matches

    pck = match.sum(axis=2).astype(np.float64)  # (Np, Ng)
    num_annotated = has_gt.sum(axis=1)
    pck[:, num_annotated > 0] /= num_annotated[num_annotated > 0]
    # each prediction keeps only its best ground truth (first on ties) ...
    best_gt = np.argmax(pck, axis=1)
    kept = np.zeros_like(pck)
    kept[np.arange(num_pr), best_gt] = pck[np.arange(num_pr), best_gt]
    # ... and each ground truth takes its best remaining prediction
    pred_of_gt = np.argmax(kept, axis=0)
    pred_of_gt[np.max(kept, axis=0) == 0] = -1
    best_gt[np.max(pck, axis=1) == 0] = -1
    return FrameMatch(scores, match, has_pr, has_gt, pred_of_gt, best_gt)


def assign_frame(
    gt_people: Sequence[PoseTrackPerson],
    pred_people: Sequence[PoseTrackPerson],
    threshold: float = PCKH_THRESHOLD
) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """True-positive flags of the predicted joints of one frame (poseval's
    ``assignGTmulti``): a joint of a matched prediction (:func:`match_frame`)
    is a true positive if it is correct for its ground truth. Arguments as
    for :func:`match_frame`.

    Returns:
        tuple:
        - scores (np.ndarray): Joint scores of the predictions, (Np, 15).
        - labels (np.ndarray): True-positive flags, (Np, 15) bool.
        - has_pred (np.ndarray): Which predicted joints exist, (Np, 15).
        - has_gt (np.ndarray): Which ground-truth joints exist, (Ng, 15).
    """
    matched = match_frame(gt_people, pred_people, threshold)
    labels = np.zeros(matched.has_pred.shape, dtype=bool)
    for g, p in enumerate(matched.pred_of_gt):
        if p >= 0:
            labels[p] = matched.correct[p, g]
    return matched.scores, labels, matched.has_pred, matched.has_gt


def compute_rpc(scores: np.ndarray, labels: np.ndarray,
                num_positives: float) -> Tuple[np.ndarray, np.ndarray]:
    """Precision and recall after each detection, by decreasing score
    (poseval's ``computeRPC``).

    Args:
        scores (np.ndarray): Detection scores, shape (N, ).
        labels (np.ndarray): True-positive flags, shape (N, ).
        num_positives (float): Number of ground-truth positives; 0 gives a
            NaN recall, as in poseval.

    Returns:
        tuple: precision (N, ) and recall (N, ).
    """
    order = np.asarray(scores, dtype=np.float64).argsort()[::-1]
    true_pos = np.cumsum(np.asarray(labels)[order] == 1)
    precision = true_pos / np.arange(1, len(order) + 1)
    with np.errstate(divide='ignore', invalid='ignore'):
        recall = true_pos / np.float64(num_positives)
    return precision, recall


def voc_ap(recall: np.ndarray, precision: np.ndarray) -> float:
    """Area under the interpolated precision-recall curve (poseval's
    ``VOCap``), as a fraction.

    Args:
        recall (np.ndarray): Recall after each detection, shape (N, ).
        precision (np.ndarray): Precision after each detection, (N, ).

    Returns:
        float: AP in [0, 1] (NaN when the recall is NaN).
    """
    mrec = np.concatenate(([0.], recall, [1.]))
    mpre = np.concatenate(([0.], precision, [0.]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    steps = np.flatnonzero(mrec[1:] != mrec[:-1]) + 1
    return float(np.sum((mrec[steps] - mrec[steps - 1]) * mpre[steps]))


def summarize_parts(joint_ap: np.ndarray) -> 'OrderedDict[str, float]':
    """Part APs from the 15 joint APs (poseval's ``getCum`` on
    ``evaluateAP``'s output).

    Args:
        joint_ap (np.ndarray): AP per joint in poseval order, shape (15, ).

    Returns:
        OrderedDict[str, float]: AP of each name in :data:`PART_NAMES`.
    """
    parts: 'OrderedDict[str, float]' = OrderedDict()
    for part, names in PART_JOINTS.items():
        idx = [POSEVAL_JOINT_NAMES.index(n) for n in names]
        parts[part] = float(np.mean(joint_ap[idx]))
    valid = joint_ap[~np.isnan(joint_ap)]
    parts['Total'] = float(np.mean(valid)) if len(valid) else float('nan')
    return parts


def compute_ap(scores: Sequence[np.ndarray], labels: Sequence[np.ndarray],
               num_gt: np.ndarray) -> PoseTrackAP:
    """Per-joint AP and part summary (poseval's ``computeMetrics``).

    Args:
        scores (Sequence[np.ndarray]): For each of the 15 joints, the scores
            of all its detections in frame order, each (N_j, ).
        labels (Sequence[np.ndarray]): Matching true-positive flags, each
            (N_j, ).
        num_gt (np.ndarray): Number of annotated joints, shape (15, ).

    Returns:
        PoseTrackAP: AP, precision and recall per joint and the parts.
    """
    ap = np.zeros(NUM_JOINTS)
    pre = np.zeros(NUM_JOINTS)
    rec = np.zeros(NUM_JOINTS)
    for j in range(NUM_JOINTS):
        if len(scores[j]) == 0:
            continue  # poseval leaves AP, precision and recall at 0
        precision, recall = compute_rpc(scores[j], labels[j], num_gt[j])
        ap[j] = voc_ap(recall, precision) * 100.
        pre[j] = precision[-1] * 100.
        rec[j] = recall[-1] * 100.
    return PoseTrackAP(
        joint_ap=ap,
        joint_precision=pre,
        joint_recall=rec,
        num_gt=np.asarray(num_gt, dtype=np.int64),
        parts=summarize_parts(ap))


def evaluated_frames(
    gt_videos: Mapping[str, Sequence[PoseTrackFrame]],
    pred_videos: Mapping[str, Sequence[PoseTrackFrame]]
) -> Iterator[Tuple[List[PoseTrackPerson], List[PoseTrackPerson]]]:
    """The ground-truth and predicted people of every frame poseval
    evaluates, ignore regions applied (rules 2 and 3 of the module
    docstring).

    Videos are visited in sorted name order; a prediction video without
    ground truth is ignored (poseval only opens the prediction file of each
    ground-truth file). Arguments as for :func:`evaluate_posetrack_ap`.

    Yields:
        tuple: ``(gt_people, pred_people)`` of one frame.
    """
    for video in sorted(gt_videos):
        gt_frames = gt_videos[video]
        if video not in pred_videos:
            raise KeyError(f'No predictions for the ground-truth video '
                           f'"{video}"; poseval needs a prediction file for '
                           'every ground-truth file (an empty one is fine).')
        pred_frames = pred_videos[video]
        if len(pred_frames) != len(gt_frames):
            raise ValueError(
                f'Video "{video}": {len(pred_frames)} prediction frames but '
                f'{len(gt_frames)} ground-truth frames; the prediction file '
                'must list the frames of the ground-truth file, in order.')
        for gt_frame, pred_frame in zip(gt_frames, pred_frames):
            if len(gt_frame.people) == 0:
                continue  # poseval's cleanupData drops the frame
            yield (remove_ignored_points(gt_frame.people, gt_frame.ignore_regions),
                   remove_ignored_points(pred_frame.people, gt_frame.ignore_regions))


def _ap_of_detections(scores: Sequence[List[np.ndarray]], labels: Sequence[List[np.ndarray]],
                      num_gt: np.ndarray) -> PoseTrackAP:
    """:func:`compute_ap` of per-frame detection lists."""
    return compute_ap(
        [np.concatenate(s) if s else np.zeros(0) for s in scores],
        [np.concatenate(lb) if lb else np.zeros(0, bool)
         for lb in labels], num_gt)


def evaluate_posetrack_ap(gt_videos: Mapping[str, Sequence[PoseTrackFrame]],
                          pred_videos: Mapping[str, Sequence[PoseTrackFrame]],
                          threshold: float = PCKH_THRESHOLD) -> PoseTrackAP:
    """PoseTrack AP of predictions against ground truth (``evaluate.py
    -e``), frames as in :func:`evaluated_frames`.

    Args:
        gt_videos (Mapping[str, Sequence[PoseTrackFrame]]): Ground-truth
            frames per video name.
        pred_videos (Mapping[str, Sequence[PoseTrackFrame]]): Predicted
            frames per video name, aligned by position with the ground
            truth.
        threshold (float): PCKh threshold. Defaults to 0.5.

    Returns:
        PoseTrackAP: The result.
    """
    scores: List[List[np.ndarray]] = [[] for _ in range(NUM_JOINTS)]
    labels: List[List[np.ndarray]] = [[] for _ in range(NUM_JOINTS)]
    num_gt = np.zeros(NUM_JOINTS, dtype=np.int64)
    for gt_people, pred_people in evaluated_frames(gt_videos, pred_videos):
        frame_scores, frame_labels, has_pr, has_gt = assign_frame(
            gt_people, pred_people, threshold)
        num_gt += has_gt.sum(axis=0)
        for j in range(NUM_JOINTS):
            scores[j].append(frame_scores[has_pr[:, j], j])
            labels[j].append(frame_labels[has_pr[:, j], j])
    return _ap_of_detections(scores, labels, num_gt)


def evaluate_joint_subset_ap(gt_videos: Mapping[str, Sequence[PoseTrackFrame]],
                             pred_videos: Mapping[str, Sequence[PoseTrackFrame]],
                             threshold: float = PCKH_THRESHOLD) -> PoseTrackAP:
    """AP on a subset of the annotated joints (``PoseTrackPerson.counted``
    of the ground truth), for instance the joints an occluder covers.

    People are matched exactly as for the PoseTrack AP, on all their joints
    (:func:`match_frame`), so the matching does not depend on the subset.
    Then only the counted joints are scored, with poseval's rules restricted
    to them:

    - positives: the counted ground-truth joints of each joint type;
    - the matched prediction of a person: its joint at each counted joint
      of that person is a detection (with its score), true when within the
      PCKh threshold, false otherwise; a counted joint it lacks is a miss;
    - every other prediction that overlaps a person (PCKh > 0 with it, so
      duplicates of a person included): its joints at the counted joints of
      the person it overlaps most are false positives, as poseval counts
      every joint of an unmatched prediction;
    - predictions overlapping nobody, and predicted joints at joints that
      are not counted, are left out: they say nothing about the subset.

    The maximum recall of a joint type is its PCKh on the subset. This is
    not the PoseTrack AP even when every joint is counted (it leaves out the
    predictions overlapping nobody and the predicted joints the ground truth
    does not annotate), so compare it only with the same metric of another
    model.

    Args:
        gt_videos (Mapping[str, Sequence[PoseTrackFrame]]): Ground-truth
            frames per video name, people with ``counted`` flags (``None``:
            every point counts).
        pred_videos (Mapping[str, Sequence[PoseTrackFrame]]): Predicted
            frames, aligned by position with the ground truth.
        threshold (float): PCKh threshold. Defaults to 0.5.

    Returns:
        PoseTrackAP: AP per joint type and part over the counted joints
        (``num_gt`` holds how many); a joint type without counted joints has
        AP, precision and recall NaN and is left out of the Total (its part
        is NaN).
    """
    scores: List[List[np.ndarray]] = [[] for _ in range(NUM_JOINTS)]
    labels: List[List[np.ndarray]] = [[] for _ in range(NUM_JOINTS)]
    num_gt = np.zeros(NUM_JOINTS, dtype=np.int64)
    for gt_people, pred_people in evaluated_frames(gt_videos, pred_videos):
        matched = match_frame(gt_people, pred_people, threshold)
        counted = np.array([person.counted_joints() for person in gt_people], dtype=bool).reshape(-1, NUM_JOINTS)
        num_gt += counted.sum(axis=0)
        for p, g in enumerate(matched.best_gt):
            if g < 0:
                continue  # overlaps nobody
            is_match = matched.pred_of_gt[g] == p
            for j in np.flatnonzero(counted[g] & matched.has_pred[p]):
                scores[j].append(matched.scores[p, j:j + 1])
                labels[j].append(matched.correct[p, g, j:j + 1] & is_match)
    result = _ap_of_detections(scores, labels, num_gt)
    # a joint type with nothing to find is undefined (compute_ap would report 0 for it)
    uncounted = num_gt == 0
    for values in (result.joint_ap, result.joint_precision, result.joint_recall):
        values[uncounted] = np.nan
    result.parts = summarize_parts(result.joint_ap)
    return result


def evaluate_posetrack_folders(gt_dir: str, pred_dir: str) -> PoseTrackAP:
    """Evaluate a folder of prediction files against a ground-truth folder,
    like ``python -m poseval.evaluate -g gt_dir -p pred_dir -e``.

    Args:
        gt_dir (str): Folder of ground-truth ``<video>.json`` files.
        pred_dir (str): Folder of prediction files with the same names.

    Returns:
        PoseTrackAP: The result.
    """
    gt_videos = load_posetrack_folder(gt_dir, require_head_box=True)
    pred_videos = OrderedDict()
    for video in gt_videos:
        path = osp.join(pred_dir, video + '.json')
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'Prediction file "{path}" does not exist; every '
                f'ground-truth file of "{gt_dir}" needs one.')
        with open(path, 'r') as f:
            pred_videos[video] = load_posetrack_video(
                json.load(f), path, require_head_box=False)
    return evaluate_posetrack_ap(gt_videos, pred_videos)


# ----------------------------------------------------------------------------
# Writing prediction files
# ----------------------------------------------------------------------------


@dataclass
class PredictedPose:
    """One predicted person, PoseTrack18 keypoint order.

    Attributes:
        keypoints (np.ndarray): x, y in image pixels, shape (17, 2).
        joint_scores (np.ndarray): Score of each keypoint, shape (17, ).
        score (float): Person score (not used by the AP).
    """
    keypoints: np.ndarray
    joint_scores: np.ndarray
    score: float


def build_posetrack18_predictions(
        frames: Sequence[PoseTrackFrame],
        poses: Sequence[Sequence[PredictedPose]]) -> Dict[str, Any]:
    """PoseTrack18 prediction file of one video.

    Each image of the ground truth is listed (its ``id``, or its index when
    the ground truth has no ids, and ``file_name``); each pose becomes an
    annotation with ``keypoints`` = 17 x (x, y, joint score), ``scores`` =
    the 17 joint scores, ``score`` and a ``track_id`` unique in the frame.
    Note: poseval treats a keypoint written as exactly (0, 0, 0) as absent.

    Args:
        frames (Sequence[PoseTrackFrame]): Ground-truth frames of the video.
        poses (Sequence[Sequence[PredictedPose]]): Poses of each frame.

    Returns:
        dict: The json content (``images``, ``annotations``,
        ``categories``).
    """
    images, annotations = [], []
    for index, (frame, frame_poses) in enumerate(zip(frames, poses)):
        image_id = index if frame.image_id is None else frame.image_id
        images.append(dict(id=image_id, file_name=frame.file_name))
        for track_id, pose in enumerate(frame_poses):
            joint_scores = [float(s) for s in pose.joint_scores]
            keypoints = []
            for (x, y), s in zip(pose.keypoints, joint_scores):
                keypoints.extend((float(x), float(y), s))
            annotations.append(
                dict(
                    image_id=image_id,
                    track_id=track_id,
                    category_id=1,
                    keypoints=keypoints,
                    scores=joint_scores,
                    score=float(pose.score)))
    return dict(
        images=images,
        annotations=annotations,
        categories=copy.deepcopy(POSETRACK18_CATEGORIES))


def build_posetrack17_predictions(
        frames: Sequence[PoseTrackFrame],
        poses: Sequence[Sequence[PredictedPose]]) -> Dict[str, Any]:
    """PoseTrack17 (``annolist``) prediction file of one video.

    Each ground-truth frame becomes an ``annolist`` entry with its image
    name; each pose an ``annorect`` with the 15 poseval joints (ears
    dropped) as ``annopoints[0]['point']`` (``id``, ``x``, ``y``,
    ``score``), its ``score`` and a ``track_id`` unique in the frame.

    Args:
        frames (Sequence[PoseTrackFrame]): Ground-truth frames of the video.
        poses (Sequence[Sequence[PredictedPose]]): Poses of each frame.

    Returns:
        dict: The json content (``annolist``).
    """
    to_poseval = [(k, POSEVAL_JOINT_NAMES.index(name))
                  for k, name in enumerate(POSETRACK18_KEYPOINT_NAMES)
                  if name in POSEVAL_JOINT_NAMES]
    annolist = []
    for frame, frame_poses in zip(frames, poses):
        rects = []
        for track_id, pose in enumerate(frame_poses):
            points = [
                dict(
                    id=[joint],
                    x=[float(pose.keypoints[k][0])],
                    y=[float(pose.keypoints[k][1])],
                    score=[float(pose.joint_scores[k])])
                for k, joint in to_poseval
            ]
            rects.append(
                dict(
                    track_id=[track_id],
                    score=[float(pose.score)],
                    annopoints=[dict(point=points)]))
        annolist.append(
            dict(image=[dict(name=frame.file_name)], annorect=rects))
    return dict(annolist=annolist)


def dump_json_atomic(obj: Any, path: str) -> None:
    """Write json to ``path`` through a temporary file in the same folder
    and an atomic rename: readers see the old file or the complete new one,
    never a truncated one.

    Args:
        obj (Any): Json-serialisable content.
        path (str): Destination file.
    """
    folder = osp.dirname(osp.abspath(path))
    fd, tmp_path = tempfile.mkstemp(
        prefix='.' + osp.basename(path) + '.', suffix='.tmp', dir=folder)
    try:
        with os.fdopen(fd, 'w') as f:
            json.dump(obj, f)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp creates the file readable by its owner only; give it the permissions of an ordinary new file
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, path)
    except BaseException:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
        raise
