import logging
import os
import os.path as osp
import tempfile
from collections import OrderedDict, defaultdict
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmpose.evaluation.functional import oks_nms
from mmpose.registry import METRICS
from mmpose.utils.tensor_utils import to_numpy

from ..utils.frames import frame_file_key
from .posetrack_ap import (PART_NAMES, POSETRACK18_KEYPOINT_NAMES, PoseTrackFrame, PredictedPose,
                           build_posetrack17_predictions, build_posetrack18_predictions, dump_json_atomic,
                           evaluate_posetrack_ap, load_posetrack_folder, load_posetrack_video)


@METRICS.register_module()
class PoseTrackAPMetric(BaseMetric):
    """PoseTrack multi-person pose AP, computed as the official poseval does,
    without poseval.

    PoseTrack: `PoseTrack: A Benchmark for Human Pose Estimation and
    Tracking <https://arxiv.org/abs/1710.10000>`_ (CVPR 2018); evaluation
    kit: `poseval <https://github.com/leonid-pishchulin/poseval>`_. The
    rules replicated (PCKh@0.5 matching with head-size normalisation,
    ignore regions, which joints and frames count, VOC-style AP, part
    averaging) are listed in :mod:`famipose_mmpose.evaluation.posetrack_ap`.

    The metric collects the top-down predictions, writes one prediction
    file per ground-truth video into ``out_dir`` (``<video>.json``, the
    ground truth's file name, each written atomically), then computes AP
    from exactly what it wrote, so that ``python -m poseval.evaluate -g
    <gt_dir>/ -p <out_dir>/ -e`` gives the same numbers. Every ground-truth
    video gets a file, with no people where nothing was predicted (poseval
    requires the file; its annotated people count as missed).

    Predictions are matched to ground-truth frames by file name (default):
    the last two components of the sample's ``img_path`` (video folder and
    image file) must equal those of the frame's ``file_name`` (PoseTrack18)
    or ``image[0].name`` (PoseTrack17); or by image id (``img_id`` ==
    PoseTrack18 ``images[].id``). Predictions of frames that the ground
    truth of their video does not list are ignored (with a warning naming
    the video), as poseval ignores them. Predictions of a video whose
    ground-truth file is missing from ``gt_dir`` (no ground-truth frame lies
    in the video folder of their ``img_path``) stop the evaluation with a
    :class:`FileNotFoundError` naming the videos and the expected files:
    the AP would otherwise silently leave those videos out. Samples
    processed twice (the
    padding of distributed samplers) are counted once (same ``id``). Within
    a frame, people are written in increasing sample ``id``; poseval's
    matching prefers the first of two equally good people.

    Reported keys (with the default prefix): ``posetrack/Head AP``,
    ``posetrack/Shoulder AP``, ``posetrack/Elbow AP``, ``posetrack/Wrist AP``,
    ``posetrack/Hip AP``, ``posetrack/Knee AP``, ``posetrack/Ankle AP`` and
    ``posetrack/Total AP`` (mean over the 15 joints; use it for
    ``save_best``). Values are percentages; a part is NaN when one of its
    joints has predictions but no annotation.

    Args:
        gt_dir (str): Folder of ground-truth files, one ``<video>.json`` per
            video: PoseTrack18 (e.g. ``posetrack18/annotations/val``) or
            PoseTrack17 (``annolist``) layout.
        out_dir (str, optional): Folder for the prediction files (created if
            needed). ``None`` writes them to a temporary folder deleted
            after evaluation. Defaults to ``None``.
        output_format (str): ``'posetrack18'`` (``images`` /
            ``annotations`` / ``categories``) or ``'posetrack17'``
            (``annolist``, for PoseTrack17 evaluation). Defaults to
            ``'posetrack18'``.
        match_by (str): ``'file_name'`` or ``'img_id'``, see above.
            Defaults to ``'file_name'``.
        joint_score_mode (str): Score of each predicted joint:
            ``'keypoint_x_bbox'`` = keypoint score (heatmap maximum) x box
            score, as the FAMI-Pose authors do; ``'keypoint'`` = keypoint
            score alone, as mmpose's ``PoseTrack18Metric`` writes it.
            Defaults to ``'keypoint_x_bbox'``.
        nms_mode (str): ``'none'`` (FAMI-Pose) or ``'oks_nms'`` (mmpose's
            ``oks_nms`` per frame, with the dataset's ``sigmas``). Defaults
            to ``'none'``.
        nms_thr (float): OKS threshold of ``'oks_nms'``. Defaults to 0.9.
        keypoint_score_thr (float): Person score = box score x mean of the
            keypoint scores above this threshold (mmpose's
            ``'bbox_keypoint'`` rescoring). It orders OKS-NMS and is written
            as the person ``score``; the AP does not use it. Defaults to
            0.2.
        collect_device (str): Device for collecting results across ranks,
            ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names. Defaults to
            ``None`` (``'posetrack'``).
        collect_dir (str, optional): Folder for collecting results across
            ranks with ``collect_device='cpu'``. Defaults to ``None``.
    """
    default_prefix: Optional[str] = 'posetrack'
    #: Metric names, without prefix, in reporting order.
    METRIC_NAMES: Tuple[str, ...] = tuple(f'{part} AP' for part in PART_NAMES)

    def __init__(self,
                 gt_dir: str,
                 out_dir: Optional[str] = None,
                 output_format: str = 'posetrack18',
                 match_by: str = 'file_name',
                 joint_score_mode: str = 'keypoint_x_bbox',
                 nms_mode: str = 'none',
                 nms_thr: float = 0.9,
                 keypoint_score_thr: float = 0.2,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(
            collect_device=collect_device,
            prefix=prefix,
            collect_dir=collect_dir)
        choices = dict(
            output_format=('posetrack18', 'posetrack17'),
            match_by=('file_name', 'img_id'),
            joint_score_mode=('keypoint_x_bbox', 'keypoint'),
            nms_mode=('none', 'oks_nms'))
        given = dict(
            output_format=output_format,
            match_by=match_by,
            joint_score_mode=joint_score_mode,
            nms_mode=nms_mode)
        for name, value in given.items():
            if value not in choices[name]:
                raise ValueError(f'PoseTrackAPMetric: `{name}` must be one of '
                                 f'{choices[name]}, got {value!r}.')
        if not osp.isdir(gt_dir):
            raise FileNotFoundError(
                f'PoseTrackAPMetric: `gt_dir` "{gt_dir}" does not exist; set '
                'it to the folder of per-video ground-truth files, e.g. '
                'data/posetrack18/annotations/val.')
        self.gt_dir = gt_dir
        self.out_dir = out_dir
        self.output_format = output_format
        self.match_by = match_by
        self.joint_score_mode = joint_score_mode
        self.nms_mode = nms_mode
        self.nms_thr = nms_thr
        self.keypoint_score_thr = keypoint_score_thr

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Keep the predictions of a batch as plain numpy data.

        Args:
            data_batch (Any): The batch (unused).
            data_samples (Sequence[dict]): Outputs of the model, each with
                ``pred_instances`` (``keypoints`` (N, K, 2) in image pixels,
                ``keypoint_scores`` (N, K), ``bbox_scores`` (N, ) or the box
                score in ``gt_instances.bbox_scores`` / ``bbox_score``), and
                the metainfo ``id``, ``img_id``, ``img_path``.
        """
        for sample in data_samples:
            if hasattr(sample, 'to_dict'):
                sample = sample.to_dict()
            if 'pred_instances' not in sample:
                raise ValueError('PoseTrackAPMetric needs `pred_instances` in '
                                 'each data sample (the model predictions).')
            if 'id' not in sample:
                raise KeyError('PoseTrackAPMetric needs the sample `id` in '
                               'the metainfo; keep "id" in the meta_keys of '
                               'PackPoseInputs.')
            pred = sample['pred_instances']
            keypoints = to_numpy(pred['keypoints'])
            keypoint_scores = to_numpy(pred['keypoint_scores'])
            if (keypoints.ndim != 3 or keypoints.shape[-1] != 2
                    or keypoint_scores.shape != keypoints.shape[:2]):
                raise ValueError(
                    'PoseTrackAPMetric: pred_instances.keypoints must be '
                    '(N, K, 2) and keypoint_scores (N, K), got '
                    f'{keypoints.shape} and {keypoint_scores.shape}.')
            num = keypoints.shape[0]
            img_path = sample.get('img_path')
            if isinstance(img_path, (list, tuple)):
                img_path = img_path[0]  # video samples: key frame first
            gt_instances = sample.get('gt_instances', {})
            areas = None
            if 'bbox_scales' in gt_instances:
                scales = to_numpy(gt_instances['bbox_scales']).reshape(-1, 2)
                if len(scales) == num:
                    areas = np.prod(scales, axis=1)
            self.results.append(
                dict(
                    id=sample['id'],
                    img_id=sample.get('img_id'),
                    file_key=None
                    if img_path is None else frame_file_key(img_path),
                    keypoints=keypoints,
                    keypoint_scores=keypoint_scores,
                    bbox_scores=self._bbox_scores(sample, num),
                    areas=areas))

    @staticmethod
    def _bbox_scores(sample: dict, num: int) -> np.ndarray:
        """Box scores (N, ) from the prediction, the gt instances or the
        metainfo."""
        for holder, key in ((sample['pred_instances'], 'bbox_scores'),
                            (sample.get('gt_instances', {}),
                             'bbox_scores'), (sample, 'bbox_score')):
            if key in holder:
                scores = to_numpy(holder[key]).astype(np.float64).reshape(-1)
                if len(scores) == 1 and num != 1:
                    scores = np.repeat(scores, num)
                if len(scores) != num:
                    raise ValueError(
                        f'PoseTrackAPMetric: {len(scores)} box scores for '
                        f'{num} predicted instances (sample id '
                        f'{sample["id"]}).')
                return scores
        raise KeyError(
            'PoseTrackAPMetric needs the person box score: '
            '`pred_instances.bbox_scores`, `gt_instances.bbox_scores` or the '
            f'metainfo `bbox_score` (sample id {sample["id"]}); keep the '
            'detection score in the dataset annotations ("bbox_score").')

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Write the per-video prediction files and compute PoseTrack AP.

        Args:
            results (list): The results of :meth:`process` of all ranks.

        Returns:
            Dict[str, float]: AP of each name in :attr:`METRIC_NAMES`.
        """
        gt_videos = load_posetrack_folder(self.gt_dir, require_head_box=True)
        poses = self._group_poses(results, gt_videos)

        tmp_dir = None
        if self.out_dir is None:
            tmp_dir = tempfile.TemporaryDirectory()
            out_dir = tmp_dir.name
        else:
            out_dir = self.out_dir
            os.makedirs(out_dir, exist_ok=True)
        try:
            pred_videos = OrderedDict()
            for video, frames in gt_videos.items():
                if self.output_format == 'posetrack18':
                    content = build_posetrack18_predictions(
                        frames, poses[video])
                else:
                    content = build_posetrack17_predictions(
                        frames, poses[video])
                path = osp.join(out_dir, video + '.json')
                dump_json_atomic(content, path)
                # evaluate what was written, read as poseval reads it
                pred_videos[video] = load_posetrack_video(
                    content, path, require_head_box=False)
            result = evaluate_posetrack_ap(gt_videos, pred_videos)
        finally:
            if tmp_dir is not None:
                tmp_dir.cleanup()
        if self.out_dir is not None:
            print_log(
                f'PoseTrack prediction files written to {out_dir}',
                logger='current')

        metrics = OrderedDict(
            (f'{part} AP', value) for part, value in result.parts.items())
        print_log(
            'PoseTrack AP: ' + ' | '.join(f'{name} {value:.1f}'
                                          for name, value in metrics.items()),
            logger='current')
        return metrics

    def _frame_index(
        self,
        gt_videos: Dict[str,
                        List[PoseTrackFrame]]) -> Dict[Any, Tuple[str, int]]:
        """Map each ground-truth frame's key to (video, frame index)."""
        index: Dict[Any, Tuple[str, int]] = {}
        for video, frames in gt_videos.items():
            for i, frame in enumerate(frames):
                if self.match_by == 'img_id':
                    if frame.image_id is None:
                        raise ValueError(
                            f'PoseTrackAPMetric: the ground truth of video '
                            f'"{video}" has no image ids (PoseTrack17 '
                            'layout); use match_by="file_name".')
                    key = frame.image_id
                else:
                    key = frame_file_key(frame.file_name)
                if key in index:
                    raise ValueError(
                        f'PoseTrackAPMetric: frames "{index[key][0]}"[#'
                        f'{index[key][1]}] and "{video}"[#{i}] of {self.gt_dir} '
                        f'share the {self.match_by} key {key!r}; predictions '
                        'could not be assigned to one of them.')
                index[key] = (video, i)
        return index

    def _check_keypoints(self, num_keypoints: int) -> None:
        """Check that predictions use the 17 PoseTrack18 keypoints."""
        names = None
        if self.dataset_meta and 'keypoint_id2name' in self.dataset_meta:
            id2name = self.dataset_meta['keypoint_id2name']
            names = tuple(id2name[k] for k in sorted(id2name))
        if num_keypoints != len(POSETRACK18_KEYPOINT_NAMES) or (
                names is not None and names != POSETRACK18_KEYPOINT_NAMES):
            raise ValueError(
                'PoseTrackAPMetric expects the 17 PoseTrack18 keypoints in '
                f'the order {list(POSETRACK18_KEYPOINT_NAMES)}, got '
                f'{num_keypoints} keypoints named {names}; use mmpose\'s '
                'posetrack18 metainfo.')

    def _group_poses(
        self, results: list, gt_videos: Dict[str, List[PoseTrackFrame]]
    ) -> Dict[str, List[List[PredictedPose]]]:
        """Assign predictions to ground-truth frames, score them and apply
        the optional NMS."""
        self._check_keypoints(len(POSETRACK18_KEYPOINT_NAMES))
        index = self._frame_index(gt_videos)
        per_frame: Dict[Tuple[str, int], list] = defaultdict(list)
        seen_ids = set()
        unmatched: List[dict] = []
        for res in results:
            if res['id'] in seen_ids:
                continue  # padding of a distributed sampler
            seen_ids.add(res['id'])
            if res['keypoints'].shape[1] != len(POSETRACK18_KEYPOINT_NAMES):
                self._check_keypoints(res['keypoints'].shape[1])
            key = res['img_id'] if self.match_by == 'img_id' else res[
                'file_key']
            where = index.get(key)
            if where is None:
                unmatched.append(res)
                continue
            for n in range(len(res['keypoints'])):
                per_frame[where].append((res['id'], n, res))
        num_ignored, ignored_videos = self._check_unmatched(
            unmatched, gt_videos)

        poses: Dict[str, List[List[PredictedPose]]] = {
            video: [[] for _ in frames]
            for video, frames in gt_videos.items()
        }
        for (video, i), entries in per_frame.items():
            entries.sort(key=lambda entry: (entry[0], entry[1]))
            poses[video][i] = self._frame_poses(
                [self._instance(res, n) for _, n, res in entries])

        if num_ignored:
            videos = ''
            if ignored_videos:
                videos = (f' (videos {", ".join(ignored_videos[:5])}'
                          f'{", ..." if len(ignored_videos) > 5 else ""})')
            print_log(
                f'PoseTrackAPMetric: {num_ignored} predicted people belong to '
                f'frames{videos} that the ground truth in {self.gt_dir} does '
                f'not list (matched by {self.match_by}); they are ignored, as '
                'poseval ignores them.',
                logger='current',
                level=logging.WARNING)
        empty = [v for v, frames in poses.items() if not any(frames)]
        if empty:
            print_log(
                f'PoseTrackAPMetric: {len(empty)} of {len(poses)} '
                f'ground-truth videos have no prediction (e.g. {empty[0]}); '
                'their annotated people count as missed.',
                logger='current',
                level=logging.WARNING)
        return poses

    def _check_unmatched(
            self, unmatched: List[dict],
            gt_videos: Dict[str, List[PoseTrackFrame]]) -> Tuple[int, list]:
        """Refuse predictions of videos without ground truth; count the
        others (frames the ground truth does not list).

        Args:
            unmatched (list[dict]): Results of :meth:`process` that match no
                ground-truth frame.
            gt_videos (dict): The ground truth, video name -> frames.

        Returns:
            tuple[int, list[str]]: The number of predicted people ignored and
            the video folders they belong to (when known), sorted.

        Raises:
            FileNotFoundError: some predictions lie in a video folder that
                no ground-truth file covers.
        """
        gt_folders = {
            frame_file_key(frame.file_name).rpartition('/')[0]
            for frames in gt_videos.values() for frame in frames
        }
        num_ignored, ignored, missing = 0, set(), set()
        for res in unmatched:
            folder = (res['file_key'] or '').rpartition('/')[0]
            if folder and folder not in gt_folders:
                missing.add(folder)
                continue
            num_ignored += len(res['keypoints'])
            if folder:
                ignored.add(folder)
        if missing:
            names = sorted(missing)
            expected = ', '.join(
                repr(osp.join(self.gt_dir, name + '.json'))
                for name in names[:10])
            more = f' and {len(names) - 10} more' if len(names) > 10 else ''
            raise FileNotFoundError(
                f'PoseTrackAPMetric: {len(names)} video(s) with predictions '
                f'have no ground truth in gt_dir={self.gt_dir!r}: '
                f'{", ".join(names[:10])}{more}; expected {expected}{more}. '
                'An AP without them would silently leave them out. Put '
                'their per-video ground-truth files into gt_dir (PoseTrack18:'
                ' annotations/val/<video>.json of the release; PoseTrack17: '
                'tools/posetrack_prepare.py pt17-annolist --out-gt-dir), or '
                'set the evaluator\'s gt_dir to the ground truth of the split '
                'the dataloader reads.')
        return num_ignored, sorted(ignored)

    def _instance(self, res: dict, n: int) -> dict:
        """One predicted person with its joint and person scores."""
        keypoints = res['keypoints'][n].astype(np.float64)
        kpt_scores = res['keypoint_scores'][n].astype(np.float64)
        bbox_score = float(res['bbox_scores'][n])
        if self.joint_score_mode == 'keypoint_x_bbox':
            joint_scores = kpt_scores * bbox_score
        else:
            joint_scores = kpt_scores
        valid = kpt_scores > self.keypoint_score_thr
        mean_valid = float(kpt_scores[valid].mean()) if valid.any() else 0.
        person_score = bbox_score * mean_valid
        if res['areas'] is not None:
            area = float(res['areas'][n])
        else:
            extent = keypoints.max(axis=0) - keypoints.min(axis=0)
            area = float(extent[0] * extent[1])
        return dict(
            keypoints=np.concatenate([keypoints, kpt_scores[:, None]], 1),
            joint_scores=joint_scores,
            score=person_score,
            area=area)

    def _frame_poses(self, instances: List[dict]) -> List[PredictedPose]:
        """Apply the NMS of ``nms_mode`` to the people of one frame."""
        if self.nms_mode == 'oks_nms' and len(instances) > 1:
            sigmas = None
            if self.dataset_meta and 'sigmas' in self.dataset_meta:
                sigmas = np.asarray(self.dataset_meta['sigmas'])
            keep = sorted(oks_nms(instances, self.nms_thr, sigmas=sigmas))
            instances = [instances[k] for k in keep]
        return [
            PredictedPose(
                keypoints=inst['keypoints'][:, :2],
                joint_scores=inst['joint_scores'],
                score=inst['score']) for inst in instances
        ]
