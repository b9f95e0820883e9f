# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Reading person-detection files in mmpose's bbox-file format.

mmpose's top-down test configs read person boxes from a json list of
``{"image_id", "bbox": [x, y, w, h], "score", "category_id"}`` entries
(``bbox_file``, e.g. PoseTrack18's ``posetrack18_val_human_detections.json``).
:func:`load_detection_file` checks such a file entry by entry and refuses it
with the file, the entry and the field named; the video datasets and the
video demo's person source read detections through it. (PoseWarper's
precomputed boxes, keyed by ``image_name``, are converted to this format by
``tools/posetrack_prepare.py pt17-boxes``.)
"""
import json
import math
from typing import Any, List, NamedTuple, Optional, Tuple

from mmengine.fileio import exists, load

__all__ = ['PersonDetection', 'load_detection_file']


class PersonDetection(NamedTuple):
    """One checked entry of a detection file.

    Attributes:
        index (int): Position of the entry in the file.
        image (Any): The entry's ``image_id``.
        bbox (tuple[float, float, float, float]): ``x, y, w, h`` in pixels.
        score (float): Detection score.
        category_id (int): Category of the box (1 is "person" in COCO and
            PoseTrack files).
    """
    index: int
    image: Any
    bbox: Tuple[float, float, float, float]
    score: float
    category_id: int


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(
        value, bool) and math.isfinite(value)


def load_detection_file(path: str,
                        source: str = 'Detection file',
                        default_category_id: Optional[int] = None,
                        backend_args: Optional[dict] = None
                        ) -> List[PersonDetection]:
    """Read and check a detection file.

    Every entry must be a json object with ``image_id``, ``bbox`` (at
    least four finite numbers ``x, y, w, h`` with ``w, h >= 0``; values
    after the fourth are ignored, as mmpose does), ``score`` (a finite
    number) and ``category_id`` (a number; optional when
    ``default_category_id`` is given). An empty list is returned as is.

    Args:
        path (str): The detection file (json).
        source (str): How error messages name the file, e.g.
            ``'PoseTrackVideoDataset: detection file (bbox_file)'``.
            Defaults to ``'Detection file'``.
        default_category_id (int, optional): Category of entries without
            ``category_id``; ``None`` requires the field. Defaults to
            ``None``.
        backend_args (dict, optional): mmengine file backend arguments.
            Defaults to ``None``.

    Returns:
        list[PersonDetection]: The entries, in file order.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file is not json, not a list, an entry is not an
            object, or a field has a wrong value.
        KeyError: an entry lacks a field.
    """
    where = f'{source} {path!r}'
    if not exists(path, backend_args=backend_args):
        raise FileNotFoundError(f'{where} does not exist.')
    try:
        entries = load(path, file_format='json', backend_args=backend_args)
    except json.JSONDecodeError as err:
        raise ValueError(f'{where} is not valid json: {err}') from err
    if not isinstance(entries, list):
        raise ValueError(
            f'{where} must hold a json list of {{"image_id", "bbox": [x, y, '
            'w, h], "score", "category_id"}} entries, got a '
            f'{type(entries).__name__}.')
    detections = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ValueError(f'{where}: entry {i} is not a json object.')
        required = ['image_id', 'bbox', 'score']
        if default_category_id is None:
            required.append('category_id')
        for field in required:
            if field not in entry:
                hint = ''
                if field == 'image_id' and 'image_name' in entry:
                    hint = (' Entries keyed by "image_name" (PoseWarper\'s '
                            'boxes) are converted to image ids by tools/'
                            'posetrack_prepare.py pt17-boxes.')
                raise KeyError(
                    f'{where}: entry {i} has no "{field}" field.{hint}')
        bbox = entry['bbox']
        if not isinstance(bbox, (list, tuple)) or len(bbox) < 4 or not all(
                _is_number(v) for v in bbox[:4]) or min(bbox[2:4]) < 0:
            raise ValueError(
                f'{where}: entry {i} has "bbox" {bbox!r}; expected [x, y, w, '
                'h] with finite numbers and w, h >= 0.')
        if not _is_number(entry['score']):
            raise ValueError(f'{where}: entry {i} has "score" '
                             f'{entry["score"]!r}; expected a number.')
        category = entry.get('category_id', default_category_id)
        if not _is_number(category):
            raise ValueError(f'{where}: entry {i} has "category_id" '
                             f'{category!r}; expected a number.')
        detections.append(
            PersonDetection(
                index=i,
                image=entry['image_id'],
                bbox=tuple(float(v) for v in bbox[:4]),
                score=float(entry['score']),
                category_id=int(category)))
    return detections
