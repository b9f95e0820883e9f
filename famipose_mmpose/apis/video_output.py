# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""What video inference writes: annotated frames (mmpose's
``PoseLocalVisualizer``), an annotated video written under a temporary name
and renamed when complete, and a PoseTrack18-format prediction file; and
:func:`render_video`, which runs video inference on one clip and writes
both."""
import os
import os.path as osp
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

import cv2
import numpy as np
from mmengine.config import Config
from mmpose.structures import PoseDataSample
from mmpose.visualization import PoseLocalVisualizer

from ..evaluation.posetrack_ap import dump_json_atomic
from .inference_video import init_video_model, iter_video_poses
from .person_sources import DetectionFilePersonSource

#: Video containers written with OpenCV and their codecs.
VIDEO_CODECS: Dict[str, str] = {'.mp4': 'mp4v', '.avi': 'MJPG'}
#: Every extension :class:`AtomicVideoWriter` writes.
VIDEO_EXTENSIONS = tuple(VIDEO_CODECS) + ('.gif', )
JOINT_SCORE_MODES = ('keypoint_x_bbox', 'keypoint')

_visualizer_count = 0


class VideoPoseVisualizer(PoseLocalVisualizer):
    """mmpose's ``PoseLocalVisualizer`` with one compatibility fix for
    NumPy >= 2.4.

    ``PoseLocalVisualizer._draw_instances_kpts`` (mmpose 1.3.2) passes each
    keypoint's radius as a one-element array, and the OpenCV backend's
    ``draw_circles`` calls ``int(radius)``, which NumPy 2.4 rejects for
    arrays ("only 0-dimensional arrays can be converted to Python
    scalars"), so drawing any keypoint fails. Here a one-element radius is
    turned into a scalar first; everything else is the stock visualizer
    (same arguments, see ``PoseLocalVisualizer``).
    """

    def draw_circles(self,
                     center: np.ndarray,
                     radius: Any,
                     face_colors: Any = 'none',
                     alpha: float = 1.0,
                     **kwargs) -> 'VideoPoseVisualizer':
        """Draw a circle (see ``OpencvBackendVisualizer.draw_circles``)."""
        if self.backend == 'opencv' and np.size(radius) == 1:
            radius = float(np.asarray(radius).reshape(-1)[0])
        return super().draw_circles(
            center, radius, face_colors=face_colors, alpha=alpha, **kwargs)


def build_pose_visualizer(
        dataset_meta: dict,
        radius: int = 3,
        line_width: int = 1,
        alpha: float = 0.8,
        skeleton_style: str = 'mmpose') -> PoseLocalVisualizer:
    """An mmpose ``PoseLocalVisualizer`` without storage backends.

    Args:
        dataset_meta (dict): The pose model's ``dataset_meta`` (skeleton and
            colours).
        radius (int): Keypoint radius. Defaults to 3.
        line_width (int): Limb width. Defaults to 1.
        alpha (float): Box transparency. Defaults to 0.8.
        skeleton_style (str): ``'mmpose'`` or ``'openpose'``. Defaults to
            ``'mmpose'``.

    Returns:
        PoseLocalVisualizer: A visualizer with a unique instance name.
    """
    global _visualizer_count
    _visualizer_count += 1
    visualizer = VideoPoseVisualizer(
        name=f'famipose_video_{os.getpid()}_{_visualizer_count}',
        radius=radius,
        line_width=line_width,
        alpha=alpha)
    visualizer.set_dataset_meta(dataset_meta, skeleton_style=skeleton_style)
    return visualizer


def track_color(track_id: int) -> tuple:
    """A stable BGR colour per track id."""
    hue = (int(track_id) * 47) % 180
    hsv = np.uint8([[[hue, 200, 255]]])
    return tuple(int(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0])


def draw_frame_poses(visualizer: PoseLocalVisualizer,
                     image: np.ndarray,
                     sample: PoseDataSample,
                     kpt_thr: float = 0.3,
                     draw_bbox: bool = True,
                     draw_track_ids: bool = True,
                     skeleton_style: str = 'mmpose') -> np.ndarray:
    """Draw the poses of one frame.

    Args:
        visualizer (PoseLocalVisualizer): See :func:`build_pose_visualizer`.
        image (np.ndarray): (H, W, 3) BGR frame.
        sample (PoseDataSample): The frame's predictions
            (``pred_instances`` with ``keypoints``, ``keypoint_scores``,
            ``bboxes`` and ``track_ids``; ``keypoints_visible``, which the
            visualizer compares with ``kpt_thr``, defaults to the keypoint
            scores).
        kpt_thr (float): Keypoints with a lower score are not drawn.
            Defaults to 0.3.
        draw_bbox (bool): Draw the person boxes. Defaults to ``True``.
        draw_track_ids (bool): Write each person's track id above its box.
            Defaults to ``True``.
        skeleton_style (str): ``'mmpose'`` or ``'openpose'``. Defaults to
            ``'mmpose'``.

    Returns:
        np.ndarray: (H, W, 3) BGR annotated frame.
    """
    instances = sample.get('pred_instances')
    if instances is not None and 'keypoints_visible' not in instances and \
            'keypoint_scores' in instances:
        # the visualizer thresholds keypoints_visible (mmpose sets it to the
        # keypoint scores in add_pred_to_datasample)
        sample = sample.clone()
        sample.pred_instances.keypoints_visible = instances.keypoint_scores
    drawn = visualizer.add_datasample(
        'frame',
        np.ascontiguousarray(image[..., ::-1]),
        data_sample=sample,
        draw_gt=False,
        draw_pred=True,
        draw_bbox=draw_bbox,
        skeleton_style=skeleton_style,
        kpt_thr=kpt_thr)
    drawn = np.ascontiguousarray(drawn[..., ::-1])
    if draw_track_ids and instances is not None and 'track_ids' in instances:
        scale = max(0.3, min(drawn.shape[:2]) / 600.0)
        for box, track_id in zip(instances.bboxes, instances.track_ids):
            x, y = int(round(box[0])), int(round(box[1]))
            cv2.putText(drawn, f'#{int(track_id)}', (x + 2, max(y - 3, 10)),
                        cv2.FONT_HERSHEY_SIMPLEX, scale, track_color(track_id),
                        1, cv2.LINE_AA)
    return drawn


class AtomicVideoWriter:
    """Write an annotated video under a temporary name in the destination
    folder and rename it into place only when complete.

    ``.mp4`` (``mp4v``) and ``.avi`` (``MJPG``) are written frame by frame
    with ``cv2.VideoWriter``; ``.gif`` frames are kept in memory and written
    with Pillow at :meth:`commit` (meant for short clips). Used as a context
    manager it commits on success and deletes the temporary file when an
    exception escapes, so a file at ``path`` is always complete.

    Args:
        path (str): The destination file.
        fps (float): Frames per second. Defaults to 25.

    Raises:
        ValueError: unknown extension, or OpenCV cannot open a writer.
    """

    def __init__(self, path: str, fps: float = 25.0) -> None:
        ext = osp.splitext(path)[1].lower()
        if ext not in VIDEO_EXTENSIONS:
            raise ValueError(
                f'Cannot write annotated video {path!r}: use one of the '
                f'extensions {", ".join(VIDEO_EXTENSIONS)}.')
        if not fps or fps <= 0:
            raise ValueError(f'AtomicVideoWriter: fps={fps!r} must be > 0.')
        self.path = path
        self.fps = float(fps)
        self.ext = ext
        folder = osp.dirname(osp.abspath(path))
        os.makedirs(folder, exist_ok=True)
        self.tmp_path = osp.join(
            folder, f'.{osp.splitext(osp.basename(path))[0]}.partial-'
            f'{os.getpid()}{ext}')
        self._writer: Optional[cv2.VideoWriter] = None
        self._gif_frames: List[Any] = []
        self._size = None
        self.num_frames = 0

    def write(self, image: np.ndarray) -> None:
        """Append one (H, W, 3) BGR uint8 frame (all frames one size)."""
        size = (image.shape[1], image.shape[0])
        if self._size is None:
            self._size = size
            if self.ext != '.gif':
                fourcc = cv2.VideoWriter_fourcc(*VIDEO_CODECS[self.ext])
                self._writer = cv2.VideoWriter(self.tmp_path, fourcc, self.fps,
                                               size)
                if not self._writer.isOpened():
                    raise ValueError(
                        f'OpenCV cannot write {self.ext} video {self.path!r} '
                        f'(codec {VIDEO_CODECS[self.ext]}); try another '
                        'extension (.avi or .gif).')
        elif size != self._size:
            raise ValueError(f'AtomicVideoWriter: frame {self.num_frames} is '
                             f'{size[0]}x{size[1]} but the video is '
                             f'{self._size[0]}x{self._size[1]}.')
        if self._writer is not None:
            self._writer.write(image)
        else:
            from PIL import Image
            self._gif_frames.append(
                Image.fromarray(np.ascontiguousarray(image[..., ::-1])))
        self.num_frames += 1

    def commit(self) -> str:
        """Finish the file and rename it to ``path``.

        Returns:
            str: ``path``.
        """
        if self.num_frames == 0:
            raise ValueError(f'AtomicVideoWriter: no frame was written to '
                             f'{self.path!r}.')
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        else:
            first, *rest = self._gif_frames
            first.save(
                self.tmp_path,
                save_all=True,
                append_images=rest,
                duration=int(round(1000.0 / self.fps)),
                loop=0)
            self._gif_frames = []
        os.replace(self.tmp_path, self.path)
        return self.path

    def abort(self) -> None:
        """Drop the partial file."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        self._gif_frames = []
        if osp.exists(self.tmp_path):
            os.remove(self.tmp_path)

    def __enter__(self) -> 'AtomicVideoWriter':
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


class PoseTrack18PredictionWriter:
    """Collect per-frame predictions into a PoseTrack18-format file.

    One ``images`` entry per frame (every frame, in order, so the file
    aligns with a ground-truth file of the same video) and one
    ``annotations`` entry per person: ``keypoints`` = K x (x, y, joint
    score), ``scores`` = the K joint scores, ``score`` = box score,
    ``track_id``, ``bbox`` = [x, y, w, h], ``category_id`` = 1. Joint score
    = keypoint score x box score (``'keypoint_x_bbox'``, the FAMI-Pose
    authors' test rule and the default of ``PoseTrackAPMetric``) or the
    keypoint score alone (``'keypoint'``). The file reads back with
    :func:`famipose_mmpose.evaluation.posetrack_ap.load_posetrack_video`.

    Args:
        dataset_meta (dict): The pose model's ``dataset_meta``
            (``keypoint_id2name``, ``skeleton_links``).
        joint_score_mode (str): ``'keypoint_x_bbox'`` or ``'keypoint'``.
            Defaults to ``'keypoint_x_bbox'``.
    """

    def __init__(self,
                 dataset_meta: dict,
                 joint_score_mode: str = 'keypoint_x_bbox') -> None:
        if joint_score_mode not in JOINT_SCORE_MODES:
            raise ValueError(f'joint_score_mode={joint_score_mode!r} must be '
                             f'one of {JOINT_SCORE_MODES}.')
        self.joint_score_mode = joint_score_mode
        id2name = dataset_meta['keypoint_id2name']
        self.keypoint_names = [id2name[k] for k in sorted(id2name)]
        links = dataset_meta.get('skeleton_links') or []
        self.skeleton = [[int(a) + 1, int(b) + 1] for a, b in links]
        self.images: List[dict] = []
        self.annotations: List[dict] = []

    def add(self, sample: PoseDataSample) -> None:
        """Add the predictions of the next frame (its metainfo ``img_id``
        and ``img_path`` name the image)."""
        image_id = sample.metainfo['img_id']
        self.images.append(
            dict(
                id=image_id,
                file_name=sample.metainfo['img_path'],
                frame_id=image_id,
                frame_index=int(sample.metainfo['frame_index'])))
        inst = sample.pred_instances
        for n in range(len(inst)):
            box_score = float(inst.bbox_scores[n])
            kpt_scores = np.asarray(inst.keypoint_scores[n], dtype=np.float64)
            joint_scores = (
                kpt_scores * box_score
                if self.joint_score_mode == 'keypoint_x_bbox' else kpt_scores)
            keypoints: List[float] = []
            for (x, y), s in zip(inst.keypoints[n], joint_scores):
                keypoints.extend((float(x), float(y), float(s)))
            x1, y1, x2, y2 = (float(v) for v in inst.bboxes[n])
            self.annotations.append(
                dict(
                    image_id=image_id,
                    track_id=int(inst.track_ids[n]),
                    category_id=1,
                    keypoints=keypoints,
                    scores=[float(s) for s in joint_scores],
                    score=box_score,
                    bbox=[x1, y1, x2 - x1, y2 - y1]))

    def to_dict(self) -> Dict[str, Any]:
        """The json content (``images``, ``annotations``, ``categories``)."""
        return dict(
            images=list(self.images),
            annotations=list(self.annotations),
            categories=[
                dict(
                    supercategory='person',
                    id=1,
                    name='person',
                    keypoints=list(self.keypoint_names),
                    skeleton=self.skeleton)
            ])

    def dump(self, path: str) -> str:
        """Write the file atomically (temporary file + rename).

        Returns:
            str: ``path``.
        """
        folder = osp.dirname(osp.abspath(path))
        os.makedirs(folder, exist_ok=True)
        dump_json_atomic(self.to_dict(), path)
        return path


# ---------------------------------------------------------------------------
# rendering one video
# ---------------------------------------------------------------------------


def _find_ann_file(frames_dir: str, det_file: str) -> str:
    """``posetrack18_<split>.json`` next to the detection file, ``<split>``
    being the folder above the video's frame folder
    (``images/<split>/<video>``)."""
    split = osp.basename(osp.dirname(osp.normpath(frames_dir)))
    candidate = osp.join(
        osp.dirname(osp.abspath(det_file)), f'posetrack18_{split}.json')
    if not osp.isfile(candidate):
        raise FileNotFoundError(
            f'render_video: no ann_file given and {candidate!r} does not '
            'exist; pass ann_file (the PoseTrack json listing the images of '
            f'{frames_dir!r}) to map the detections to the frames.')
    return candidate


def render_video(config: Union[str, Path, Config],
                 checkpoint: Optional[str],
                 frames_dir: str,
                 det_file: str,
                 out_path: str,
                 ann_file: Optional[str] = None,
                 pred_file: Optional[str] = None,
                 device: str = 'cpu',
                 bbox_thr: float = 0.2,
                 kpt_thr: float = 0.3,
                 fps: float = 10.0,
                 draw_bbox: bool = True) -> Dict[str, Any]:
    """Render one video (e.g. a synthetic PoseTrack clip) with a pose model
    into an annotated ``.mp4`` / ``.avi`` / ``.gif``.

    Boxes come from ``det_file`` (``DetectionFilePersonSource``, matched by
    frame file name); the video's images are looked up in ``ann_file``, by
    default ``posetrack18_<split>.json`` next to ``det_file`` for frames in
    ``images/<split>/<video>`` (the synthetic and PoseTrack18 layouts).
    Both outputs are written under temporary names and renamed when
    complete.

    Args:
        config (str | Path | Config): Pose config.
        checkpoint (str, optional): Pose checkpoint (``None``: random
            weights).
        frames_dir (str): Folder of the video's frames
            (``.../images/val/<video>``).
        det_file (str): Detection file (mmpose's bbox-file format).
        out_path (str): Annotated video to write.
        ann_file (str, optional): Annotation file listing the video's
            images. Defaults to ``None`` (found as described above).
        pred_file (str, optional): Also write the PoseTrack18 prediction
            file there. Defaults to ``None``.
        device (str): Device. Defaults to ``'cpu'``.
        bbox_thr (float): Detections with a lower score are dropped
            (FAMI-Pose tests with 0.2). Defaults to 0.2.
        kpt_thr (float): Keypoints with a lower score are not drawn.
            Defaults to 0.3.
        fps (float): Frame rate of the output. Defaults to 10.
        draw_bbox (bool): Draw the person boxes. Defaults to ``True``.

    Returns:
        dict: ``out_path``, ``pred_file``, ``frames`` (rendered),
        ``people`` (total person-frames), ``tracks`` (distinct track ids).
    """
    if ann_file is None:
        ann_file = _find_ann_file(frames_dir, det_file)
    model = init_video_model(config, checkpoint, device=device)
    source = DetectionFilePersonSource(
        det_file,
        ann_file=ann_file,
        video=osp.basename(osp.normpath(frames_dir)),
        match_by='file_name',
        bbox_thr=bbox_thr)
    visualizer = build_pose_visualizer(model.dataset_meta)
    predictions = PoseTrack18PredictionWriter(model.dataset_meta)
    people = 0
    tracks = set()
    with AtomicVideoWriter(out_path, fps=fps) as writer:
        for frame, sample in iter_video_poses(model, frames_dir, source):
            writer.write(
                draw_frame_poses(
                    visualizer,
                    frame.image,
                    sample,
                    kpt_thr=kpt_thr,
                    draw_bbox=draw_bbox))
            predictions.add(sample)
            people += len(sample.pred_instances)
            tracks.update(int(t) for t in sample.pred_instances.track_ids)
        num_frames = writer.num_frames
    if pred_file is not None:
        predictions.dump(pred_file)
    return dict(
        out_path=out_path,
        pred_file=pred_file,
        frames=num_frames,
        people=people,
        tracks=len(tracks))
