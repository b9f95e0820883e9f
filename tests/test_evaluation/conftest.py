"""Hand-made PoseTrack18 data for the evaluation tests.

Every person is the same stick figure placed at an origin (ox, oy). Its head
box is 30 x 40 px, so its head size is 0.6 * 50 = 30 px and a predicted joint
is correct within 0.5 * 30 = 15 px. Joints of one figure are at least 20 px
apart. Ears are never annotated (as in PoseTrack18).
"""
import json
from typing import Dict, List, Optional, Sequence, Tuple

import pytest

KEYPOINT_NAMES = ('nose', 'head_bottom', 'head_top', 'left_ear', 'right_ear',
                  'left_shoulder', 'right_shoulder', 'left_elbow',
                  'right_elbow', 'left_wrist', 'right_wrist', 'left_hip',
                  'right_hip', 'left_knee', 'right_knee', 'left_ankle',
                  'right_ankle')
EARS = ('left_ear', 'right_ear')
FIGURE = {
    'nose': (0, 0),
    'head_bottom': (0, 20),
    'head_top': (0, -20),
    'left_shoulder': (20, 30),
    'right_shoulder': (-20, 30),
    'left_elbow': (30, 60),
    'right_elbow': (-30, 60),
    'left_wrist': (35, 90),
    'right_wrist': (-35, 90),
    'left_hip': (15, 100),
    'right_hip': (-15, 100),
    'left_knee': (15, 140),
    'right_knee': (-15, 140),
    'left_ankle': (15, 180),
    'right_ankle': (-15, 180)
}


class PoseTrackData:
    """Builders of PoseTrack18 ground-truth and prediction json."""

    keypoint_names = KEYPOINT_NAMES
    figure = FIGURE

    @staticmethod
    def joint_xy(origin: Tuple[float, float],
                 name: str) -> Tuple[float, float]:
        dx, dy = FIGURE[name]
        return (origin[0] + dx, origin[1] + dy)

    def gt_person(self,
                  origin: Tuple[float, float],
                  missing: Sequence[str] = (),
                  track_id: int = 0) -> dict:
        """Ground-truth annotation (image_id added by :meth:`video`)."""
        kpts = []
        for name in KEYPOINT_NAMES:
            if name in EARS or name in missing:
                kpts.extend([0, 0, 0])
            else:
                kpts.extend([*self.joint_xy(origin, name), 1])
        return dict(
            keypoints=kpts,
            bbox_head=[origin[0] - 15, origin[1] - 20, 30, 40],
            track_id=track_id,
            scores=[],
            category_id=1)

    def pred_keypoints(
        self,
        origin: Tuple[float, float],
        offsets: Optional[Dict[str, Tuple[float, float]]] = None,
        omit: Sequence[str] = ()
    ) -> List[Tuple[float, float]]:
        """17 predicted (x, y); ears and omitted joints at (0, 0)."""
        offsets = offsets or {}
        out = []
        for name in KEYPOINT_NAMES:
            if name in EARS or name in omit:
                out.append((0.0, 0.0))
            else:
                x, y = self.joint_xy(origin, name)
                dx, dy = offsets.get(name, (0, 0))
                out.append((x + dx, y + dy))
        return out

    def pred_person(self,
                    origin: Tuple[float, float],
                    score: float,
                    offsets: Optional[Dict[str, Tuple[float, float]]] = None,
                    omit: Sequence[str] = (),
                    joint_scores: Optional[Dict[str, float]] = None) -> dict:
        """Prediction annotation; ears and omitted joints are (0, 0, 0)."""
        joint_scores = joint_scores or {}
        kpts, scores = [], []
        for name, (x, y) in zip(KEYPOINT_NAMES,
                                self.pred_keypoints(origin, offsets, omit)):
            s = 0.0 if name in EARS or name in omit else joint_scores.get(
                name, score)
            kpts.extend([x, y, s])
            scores.append(s)
        return dict(keypoints=kpts, scores=scores, score=score, category_id=1)

    def video(self,
              frames: Sequence[dict],
              video: str = '000001_mpii_test') -> Tuple[dict, dict]:
        """Ground truth and predictions of one video.

        Each frame dict may hold ``gt`` (annotations), ``pred``
        (annotations), ``labeled`` (bool, default True) and ``ignore``
        (list of polygons, each a list of (x, y)).
        """
        gt = dict(images=[], annotations=[], categories=self.categories())
        pred = dict(images=[], annotations=[], categories=self.categories())
        for i, frame in enumerate(frames):
            image_id = self.image_id(video, i)
            file_name = f'images/val/{video}/{i:06d}.jpg'
            image = dict(
                id=image_id,
                file_name=file_name,
                is_labeled=frame.get('labeled', True),
                frame_id=image_id,
                vid_id=video.split('_')[0],
                nframes=len(frames),
                has_no_densepose=True)
            if frame.get('ignore'):
                image['ignore_regions_x'] = [[p[0] for p in poly]
                                             for poly in frame['ignore']]
                image['ignore_regions_y'] = [[p[1] for p in poly]
                                             for poly in frame['ignore']]
            gt['images'].append(image)
            pred['images'].append(dict(id=image_id, file_name=file_name))
            for k, ann in enumerate(frame.get('gt', [])):
                gt['annotations'].append(
                    dict(ann, image_id=image_id, id=image_id * 100 + k))
            for k, ann in enumerate(frame.get('pred', [])):
                pred['annotations'].append(
                    dict(ann, image_id=image_id, track_id=k))
        return gt, pred

    @staticmethod
    def image_id(video: str, index: int) -> int:
        """PoseTrack18-style image id of frame ``index`` of ``video``."""
        return 10000000000 + int(video.split('_')[0]) * 10000 + index

    @staticmethod
    def categories() -> list:
        return [
            dict(
                supercategory='person',
                id=1,
                name='person',
                keypoints=list(KEYPOINT_NAMES),
                skeleton=[[16, 14], [14, 12], [17, 15], [15, 13], [12, 13],
                          [6, 12], [7, 13], [6, 7], [6, 8], [7, 9], [8, 10],
                          [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5],
                          [4, 6], [5, 7]])
        ]

    @staticmethod
    def write(folder, name: str, content: dict) -> str:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f'{name}.json'
        path.write_text(json.dumps(content))
        return str(path)


@pytest.fixture
def ptdata() -> PoseTrackData:
    return PoseTrackData()
