"""What the demo reports: PoseTrack AP on the hard frames of a synthetic set, a picture of predictions and the
training curves.

The synthetic generator records, for every frame, the joints covered by an occluder and whether the frame is
motion-blurred (``annotations/<split>_hard.json``, see :mod:`famipose_mmpose.synthetic.writer`).  The subsets here
are sets of frames: the PoseTrack AP of a subset is poseval's AP computed on those frames only (ground truth and
predictions of the other frames are left out), so it is comparable with the AP of the whole set.

A frame subset still scores every joint of its frames, and most joints of an "occluded" frame are not occluded (an
occluder covers 1-3 of a person's joints), so it measures the repair of occluded joints diluted. The joint subsets
(:data:`JOINT_SUBSETS`) score only the joints the generator recorded as covered, with people matched on all their
joints as for the PoseTrack AP (:func:`~famipose_mmpose.evaluation.evaluate_joint_subset_ap`).
"""
import json
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional, Sequence, Set

import cv2
import numpy as np

from ..evaluation.posetrack_ap import (POSEVAL_JOINT_NAMES, PoseTrackAP, PoseTrackFrame, evaluate_joint_subset_ap,
                                       evaluate_posetrack_ap, load_posetrack_folder, load_posetrack_video,
                                       mask_ignored_points, match_frame)
from ..utils.frames import frame_file_key

#: Frame subsets reported by the demo: name -> description.
SUBSETS = OrderedDict([
    ('all', 'every labeled frame'),
    ('occluded', 'labeled frames where an occluder covers at least one annotated joint'),
    ('blurred', 'labeled, motion-blurred frames'),
])


#: Joint subsets reported by the demo: name -> (field of a person in the hard-case file, description).
JOINT_SUBSETS = OrderedDict([
    ('occluded joints', ('occluded_joints', 'annotated joints covered by an occluder')),
    ('person-occluded joints', ('person_occluded_joints', 'annotated joints covered by a person drawn in front')),
])


def hard_frame_keys(hard_file: str) -> Dict[str, Set[str]]:
    """Frame keys of each subset of :data:`SUBSETS` (``'all'`` is every frame of the file)."""
    with open(hard_file) as f:
        images = json.load(f)['images']
    subsets: Dict[str, Set[str]] = {name: set() for name in SUBSETS}
    for image in images:
        key = frame_file_key(image['file_name'])
        subsets['all'].add(key)
        if any(person['occluded_joints'] for person in image['people']):
            subsets['occluded'].add(key)
        if image['blurred']:
            subsets['blurred'].add(key)
    return subsets


def load_predictions(gt_dir: str, pred_dir: str) -> Dict[str, list]:
    """The prediction frames of every ground-truth video (one ``<video>.json`` per video in ``pred_dir``)."""
    preds = OrderedDict()
    for name in sorted(load_posetrack_folder(gt_dir, require_head_box=True)):
        path = osp.join(pred_dir, name + '.json')
        if not osp.isfile(path):
            raise FileNotFoundError(f'Prediction file {path!r} is missing: every ground-truth video of {gt_dir!r} '
                                    'needs one (the PoseTrack metric writes them into its out_dir).')
        with open(path) as f:
            preds[name] = load_posetrack_video(json.load(f), path, require_head_box=False)
    return preds


def mark_joint_subset(gt_dir: str, gt_videos: Mapping[str, List[PoseTrackFrame]], hard_file: str,
                      field: str) -> None:
    """Set ``counted`` on every ground-truth person: the points the hard-case file lists under ``field``.

    A frame's people are its annotations in file order (as :func:`load_posetrack_folder` reads them); each is found
    in the hard-case file by its annotation id, and its joints by the file's ``info.keypoint_names``.
    """
    with open(hard_file) as f:
        hard = json.load(f)
    names = hard['info']['keypoint_names']
    poseval_id = [POSEVAL_JOINT_NAMES.index(name) if name in POSEVAL_JOINT_NAMES else None for name in names]
    hard_people = {}
    for image in hard['images']:
        for person in image['people']:
            if person['annotation_id'] is not None:  # a person without annotated joints has none
                hard_people[person['annotation_id']] = person
    for video, frames in gt_videos.items():
        path = osp.join(gt_dir, video + '.json')
        with open(path) as f:
            annotations = json.load(f)['annotations']
        ids_by_image: Dict[int, List[int]] = {}
        for ann in annotations:
            ids_by_image.setdefault(ann['image_id'], []).append(ann['id'])
        for frame in frames:
            ann_ids = ids_by_image.get(frame.image_id, [])
            if len(ann_ids) != len(frame.people):
                raise ValueError(f'{path}: image {frame.image_id} has {len(ann_ids)} annotations but '
                                 f'{len(frame.people)} loaded people; the ground truth changed while it was read.')
            for person, ann_id in zip(frame.people, ann_ids):
                if ann_id not in hard_people:
                    raise KeyError(f'{hard_file}: no person with annotation_id {ann_id} (annotation of image '
                                   f'{frame.image_id} in {path}); the hard-case file must come from the same '
                                   'generator run as the ground truth.')
                covered = {poseval_id[j] for j in hard_people[ann_id][field]} - {None}
                person.counted = np.isin(person.joint_ids, list(covered))


def subset_ap(gt_dir: str, pred_dir: str, hard_file: str) -> 'OrderedDict[str, PoseTrackAP]':
    """PoseTrack AP of the predictions in ``pred_dir`` on each frame subset of :data:`SUBSETS`, then the AP on each
    joint subset of :data:`JOINT_SUBSETS` (all frames).

    Args:
        gt_dir (str): Folder of per-video ground-truth files (``annotations/val``).
        pred_dir (str): Folder of per-video prediction files written by ``PoseTrackAPMetric``.
        hard_file (str): The synthetic set's ``annotations/val_hard.json``.

    Returns:
        OrderedDict[str, PoseTrackAP]: One result per subset.
    """
    gt_videos = load_posetrack_folder(gt_dir, require_head_box=True)
    pred_videos = load_predictions(gt_dir, pred_dir)
    results = frame_subset_ap(gt_videos, pred_videos, hard_file)
    for name, (field, _) in JOINT_SUBSETS.items():
        mark_joint_subset(gt_dir, gt_videos, hard_file, field)
        results[name] = evaluate_joint_subset_ap(gt_videos, pred_videos)
    return results


def frame_subset_ap(gt_videos: Mapping[str, List[PoseTrackFrame]], pred_videos: Mapping[str, List[PoseTrackFrame]],
                    hard_file: str) -> 'OrderedDict[str, PoseTrackAP]':
    """PoseTrack AP of loaded predictions on each frame subset of :data:`SUBSETS` (frames of the hard-case file)."""
    results = OrderedDict()
    for name, keys in hard_frame_keys(hard_file).items():
        gt_sub, pred_sub = OrderedDict(), OrderedDict()
        for video, gt_frames in gt_videos.items():
            pred_by_key = {frame_file_key(frame.file_name): frame for frame in pred_videos[video]}
            kept = [frame for frame in gt_frames if frame_file_key(frame.file_name) in keys and frame.people]
            gt_sub[video] = kept
            pred_sub[video] = [pred_by_key[frame_file_key(frame.file_name)] for frame in kept]
        results[name] = evaluate_posetrack_ap(gt_sub, pred_sub)
    return results


def oracle_joint_ap(gt_dir: str, pred_dir: str, hard_file: str,
                    field: str = 'occluded_joints') -> 'OrderedDict[str, PoseTrackAP]':
    """The frame-subset AP the predictions would have if the joints listed under ``field`` in the hard-case file
    (e.g. the occluder-covered ones) were placed exactly: what repairing those joints' positions gains on those
    frames with the model's own scores and people held fixed (not a bound on what other scores could give).

    Each ground-truth person's listed joints are copied into the prediction the PoseTrack AP matches to it
    (:func:`~famipose_mmpose.evaluation.posetrack_ap.match_frame` on the people with their points in ignore regions
    removed, as the metric does), keeping the prediction's scores; a person no prediction is matched to stays missed.
    Arguments as for :func:`subset_ap`; ``field`` is a field of :data:`JOINT_SUBSETS`.

    Returns:
        OrderedDict[str, PoseTrackAP]: One result per frame subset of :data:`SUBSETS`.
    """
    fields = [known for known, _ in JOINT_SUBSETS.values()]
    if field not in fields:
        raise ValueError(f'oracle_joint_ap: field={field!r} is not a joint subset of the hard-case file; use one of '
                         f'{fields}')
    gt_videos = load_posetrack_folder(gt_dir, require_head_box=True)
    mark_joint_subset(gt_dir, gt_videos, hard_file, field)
    pred_videos = load_predictions(gt_dir, pred_dir)
    for video, gt_frames in gt_videos.items():
        pred_by_key = {frame_file_key(frame.file_name): frame for frame in pred_videos[video]}
        for gt_frame in gt_frames:
            pred_frame = pred_by_key.get(frame_file_key(gt_frame.file_name))
            if pred_frame is None or not gt_frame.people:
                continue
            matched = match_frame(mask_ignored_points(gt_frame.people, gt_frame.ignore_regions),
                                  mask_ignored_points(pred_frame.people, gt_frame.ignore_regions))
            for gt_person, p in zip(gt_frame.people, matched.pred_of_gt):
                if p < 0:
                    continue
                coords, _, _ = gt_person.dense()  # the first listed point of a joint, as the metric reads it
                pred_person = pred_frame.people[p]
                for joint in np.flatnonzero(gt_person.counted_joints()):
                    pred_person.coords[pred_person.joint_ids == joint] = coords[joint]
    return frame_subset_ap(gt_videos, pred_videos, hard_file)


def format_ap_table(results: Mapping[str, Mapping[str, PoseTrackAP]],
                    subsets: Sequence[str] = tuple(SUBSETS) + tuple(JOINT_SUBSETS)) -> str:
    """A markdown table: one row per (model, subset), columns Head ... Ankle, Total ('-' where a part has no
    counted joint), then a legend of the subsets shown."""
    models = list(results)
    parts = list(next(iter(results[models[0]].values())).parts)
    lines = ['| model | subset | ' + ' | '.join(parts) + ' |', '|---|---|' + '---|' * len(parts)]
    for subset in subsets:
        for model in models:
            ap = results[model][subset]
            cells = ['-' if np.isnan(ap.parts[p]) else f'{ap.parts[p]:.1f}' for p in parts]
            lines.append(f'| {model} | {subset} | ' + ' | '.join(cells) + ' |')
    legend = {**SUBSETS, **{name: description for name, (_, description) in JOINT_SUBSETS.items()}}
    lines += ['', "Frame subsets: poseval's AP on those frames. Joint subsets: AP on those joints only (people "
              'matched on all joints), a different metric; compare models within a subset.']
    lines += [f'- {subset}: {legend[subset]}' for subset in subsets if subset in legend]
    return '\n'.join(lines)


# ---------------------------------------------------------------------------------------------------------------
# Pictures
# ---------------------------------------------------------------------------------------------------------------

#: PoseTrack skeleton (0-based joint indices) drawn in the pictures.
SKELETON = [(15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7), (6, 8), (7, 9),
            (8, 10), (1, 2), (0, 1), (0, 2)]


def _people_of(frame_json: Mapping, image_id) -> List[np.ndarray]:
    return [
        np.asarray(ann['keypoints'], dtype=float).reshape(-1, 3) for ann in frame_json['annotations']
        if ann['image_id'] == image_id
    ]


def draw_people(img: np.ndarray, people: Sequence[np.ndarray], color, score_thr: float = 0.0) -> np.ndarray:
    """Draw (17, 3) keypoint arrays (x, y, visibility-or-score) on a copy of ``img``."""
    out = img.copy()
    for kpts in people:
        ok = kpts[:, 2] > score_thr
        for a, b in SKELETON:
            if ok[a] and ok[b]:
                cv2.line(out, tuple(int(v) for v in kpts[a, :2]), tuple(int(v) for v in kpts[b, :2]), color, 1,
                         cv2.LINE_AA)
        for x, y in kpts[ok, :2]:
            cv2.circle(out, (int(x), int(y)), 2, color, -1, cv2.LINE_AA)
    return out


#: BGR colours of the model rows of :func:`comparison_strip` (ground truth is green).
MODEL_COLORS = ((0, 128, 255), (255, 64, 255), (255, 200, 0), (0, 0, 255))


def comparison_strip(data_root: str,
                     gt_file: str,
                     pred_files: Mapping[str, str],
                     frame_indices: Sequence[int],
                     out_path: str,
                     score_thr: float = 0.2,
                     scale: int = 2) -> str:
    """Rows: ground truth, then one row per model; columns: the given frames of one video. Saves a PNG.

    Args:
        data_root (str): Data root the frame ``file_name`` entries are relative to.
        gt_file (str): The video's ground-truth json.
        pred_files (Mapping[str, str]): Model name -> that model's prediction json of the same video.
        frame_indices (Sequence[int]): Positions in the video's ``images`` list to show (labeled frames).
        out_path (str): The PNG to write.
        score_thr (float): Joints with a lower score are not drawn. Defaults to 0.2.
        scale (int): Upscaling of the frames. Defaults to 2.
    """
    with open(gt_file) as f:
        gt = json.load(f)
    preds = {}
    for name, path in pred_files.items():
        with open(path) as f:
            preds[name] = json.load(f)
    if len(preds) > len(MODEL_COLORS):
        raise ValueError(f'comparison_strip draws at most {len(MODEL_COLORS)} models, got {list(preds)}.')
    rows = []
    for row_name, source, color, thr in [('ground truth', gt, (0, 255, 0), 0.0)] + [
        (name, pred, c, score_thr) for (name, pred), c in zip(preds.items(), MODEL_COLORS)
    ]:
        tiles = []
        for idx in frame_indices:
            image = gt['images'][idx]
            img = cv2.imread(osp.join(data_root, image['file_name']))
            if img is None:
                raise FileNotFoundError(f'Frame {image["file_name"]!r} of {gt_file!r} is missing under '
                                        f'{data_root!r}.')
            source_image = source['images'][idx]
            tile = draw_people(img, _people_of(source, source_image['id']), color, thr)
            tile = cv2.resize(tile, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
            cv2.putText(tile, f'{row_name}  frame {osp.basename(image["file_name"])}', (4, 14),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
            tiles.append(tile)
        rows.append(np.concatenate(tiles, axis=1))
    cv2.imwrite(out_path, np.concatenate(rows, axis=0))
    return out_path


def plot_training_curves(scalar_files: Mapping[str, str],
                         out_path: str,
                         continues: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """Plot the training loss and validation Total AP of each run (mmengine ``vis_data/scalars.json``).

    ``continues`` maps a run to the run it starts from (FAMI-Pose -> its stage-1 model): its curves are drawn
    after the end of that run, so the two stages read as one timeline.
    """
    continues = continues or {}
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_ap) = plt.subplots(1, 2, figsize=(10, 3.6))
    records = {}
    for name, path in scalar_files.items():
        with open(path) as f:
            records[name] = [json.loads(line) for line in f if line.strip()]

    def end_of(name):  # last iteration and epoch of a run, plus those of the run it continues
        if name not in continues:
            return 0, 0
        iters, epochs = end_of(continues[name])
        train = [r for r in records[continues[name]] if 'iter' in r]
        return iters + max(r['iter'] for r in train), epochs + max(r.get('epoch', 0) for r in train)

    for name in scalar_files:
        iter0, epoch0 = end_of(name)
        train = [r for r in records[name] if 'loss_kpt' in r]
        val = [r for r in records[name] if 'posetrack/Total AP' in r]
        ax_loss.plot([iter0 + r['iter'] for r in train], [r['loss_kpt'] for r in train], label=f'{name} loss_kpt')
        if any('loss_mi' in r for r in train):
            ax_loss.plot([iter0 + r['iter'] for r in train if 'loss_mi' in r],
                         [r['loss_mi'] for r in train if 'loss_mi' in r], '--', label=f'{name} loss_mi')
        ax_ap.plot([epoch0 + r['step'] for r in val], [r['posetrack/Total AP'] for r in val], 'o-', label=name)
    ax_loss.set_yscale('log')
    ax_loss.set_xlabel('iteration')
    ax_loss.set_title('training loss')
    ax_loss.legend(fontsize=7)
    ax_ap.set_xlabel('epoch')
    ax_ap.set_title('validation PoseTrack Total AP')
    ax_ap.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
    return out_path
