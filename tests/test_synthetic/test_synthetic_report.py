"""The demo's report: AP on frame subsets of the hard-case file, the comparison picture and the curves."""
import json
import os

import cv2
import numpy as np
import pytest

from famipose_mmpose.synthetic.report import (comparison_strip, format_ap_table, hard_frame_keys, oracle_joint_ap,
                                              plot_training_curves, subset_ap)


def _copy_gt_as_predictions(root, out_dir, spoil=None):
    """Write the ground truth as prediction files (joint score 1); ``spoil(file_key)`` -> True moves the joints
    of that frame 40 px away (far beyond the PCKh threshold)."""
    gt_dir = os.path.join(str(root), 'annotations', 'val')
    os.makedirs(out_dir, exist_ok=True)
    for name in os.listdir(gt_dir):
        with open(os.path.join(gt_dir, name)) as f:
            gt = json.load(f)
        spoiled = {
            image['id']
            for image in gt['images'] if spoil is not None and spoil('/'.join(image['file_name'].split('/')[-2:]))
        }
        annotations = []
        for ann in gt['annotations']:
            kpts = np.asarray(ann['keypoints'], dtype=float).reshape(-1, 3)
            present = kpts[:, 2] > 0
            kpts[present, 2] = 1.0
            if ann['image_id'] in spoiled:
                kpts[present, 0] += 40
            annotations.append(dict(image_id=ann['image_id'], track_id=ann['track_id'], keypoints=kpts.ravel().tolist(),
                                    scores=kpts[:, 2].tolist()))
        with open(os.path.join(out_dir, name), 'w') as f:
            json.dump(dict(images=gt['images'], annotations=annotations, categories=gt['categories']), f)


def test_subsets_follow_the_hard_file(rich_set):
    root, _ = rich_set
    subsets = hard_frame_keys(os.path.join(str(root), 'annotations', 'val_hard.json'))
    assert subsets['occluded'] and subsets['occluded'] < subsets['all']
    assert subsets['blurred'] <= subsets['all']


def test_subset_ap_perfect_and_spoiled(rich_set, tmp_path):
    root, _ = rich_set
    gt_dir = os.path.join(str(root), 'annotations', 'val')
    hard_file = os.path.join(str(root), 'annotations', 'val_hard.json')
    perfect = str(tmp_path / 'perfect')
    _copy_gt_as_predictions(root, perfect)
    results = subset_ap(gt_dir, perfect, hard_file)
    for subset in ('all', 'occluded'):
        assert results[subset].parts['Total'] == 100.0

    # spoil exactly the occluded frames: their subset drops to 0, the whole set stays between
    occluded = hard_frame_keys(hard_file)['occluded']
    spoiled = str(tmp_path / 'spoiled')
    _copy_gt_as_predictions(root, spoiled, spoil=lambda key: key in occluded)
    results = subset_ap(gt_dir, spoiled, hard_file)
    assert results['occluded'].parts['Total'] == 0.0
    assert 0.0 < results['all'].parts['Total'] < 100.0
    table = format_ap_table({'spoiled': results})
    assert '| spoiled | occluded |' in table and 'Total' in table


def test_comparison_strip_and_curves(rich_set, tmp_path):
    root, _ = rich_set
    gt_dir = os.path.join(str(root), 'annotations', 'val')
    video = sorted(os.listdir(gt_dir))[0]
    preds = str(tmp_path / 'preds')
    _copy_gt_as_predictions(root, preds)
    out = comparison_strip(str(root), os.path.join(gt_dir, video), {'model': os.path.join(preds, video)}, [0, 1],
                           str(tmp_path / 'strip.png'), scale=1)
    img = cv2.imread(out)
    frame = cv2.imread(os.path.join(str(root), json.load(open(os.path.join(gt_dir, video)))['images'][0]['file_name']))
    assert img.shape[0] == 2 * frame.shape[0] and img.shape[1] == 2 * frame.shape[1]

    scalars = tmp_path / 'scalars.json'
    scalars.write_text('\n'.join(
        json.dumps(r) for r in [dict(iter=1, loss_kpt=0.01), dict(iter=2, loss_kpt=0.008, loss_mi=0.5),
                                dict(step=1, **{'posetrack/Total AP': 12.5})]))
    curves = plot_training_curves({'model': str(scalars)}, str(tmp_path / 'curves.png'))
    assert cv2.imread(curves) is not None


def _covered_joints(hard_file):
    """annotation id -> the joints an occluder covers (hard-case file)."""
    with open(hard_file) as f:
        return {
            person['annotation_id']: set(person['occluded_joints'])
            for image in json.load(f)['images'] for person in image['people']
        }


def _shift_joints(root, out_dir, joints_of, shuffle=False):
    """Write the ground truth as predictions (score 1) with the joints ``joints_of(annotation id)`` moved 40 px;
    ``shuffle``: the people of each frame in reverse order, with scores between 0.5 and 1."""
    gt_dir = os.path.join(str(root), 'annotations', 'val')
    os.makedirs(out_dir)
    for name in os.listdir(gt_dir):
        with open(os.path.join(gt_dir, name)) as f:
            gt = json.load(f)
        annotations = []
        for ann in gt['annotations']:
            kpts = np.asarray(ann['keypoints'], dtype=float).reshape(-1, 3)
            kpts[kpts[:, 2] > 0, 2] = 1.0
            for joint in joints_of(ann['id']):
                kpts[joint, 0] += 40
            if shuffle:
                varied = 0.5 + 0.5 * ((ann['id'] * 7919 + np.arange(len(kpts))) % 97) / 97
                kpts[kpts[:, 2] > 0, 2] = varied[kpts[:, 2] > 0]
            annotations.append(dict(image_id=ann['image_id'], track_id=ann['track_id'], keypoints=kpts.ravel().tolist(),
                                    scores=kpts[:, 2].tolist()))
        if shuffle:
            annotations = annotations[::-1]  # the files list frames' people in another order than the ground truth
        with open(os.path.join(out_dir, name), 'w') as f:
            json.dump(dict(images=gt['images'], annotations=annotations, categories=gt['categories']), f)


def test_joint_subsets_score_only_the_covered_joints(rich_set, tmp_path):
    """Moving exactly the occluder-covered joints away: the joint subset drops to 0 while the frame subsets, which
    score every joint of their frames, barely move (the dilution the joint subsets remove)."""
    root, _ = rich_set
    gt_dir = os.path.join(str(root), 'annotations', 'val')
    hard_file = os.path.join(str(root), 'annotations', 'val_hard.json')
    covered = _covered_joints(hard_file)
    assert any(covered.values())
    perfect = str(tmp_path / 'perfect')
    _copy_gt_as_predictions(root, perfect)
    assert subset_ap(gt_dir, perfect, hard_file)['occluded joints'].parts['Total'] == 100.0

    spoiled = str(tmp_path / 'spoiled')
    _shift_joints(root, spoiled, lambda ann_id: covered[ann_id])
    results = subset_ap(gt_dir, spoiled, hard_file)
    assert results['occluded joints'].parts['Total'] == 0.0
    assert results['occluded'].parts['Total'] > 80.0
    assert results['person-occluded joints'].parts['Total'] > 80.0
    assert '| spoiled | occluded joints |' in format_ap_table({'spoiled': results})


def test_oracle_repairs_exactly_the_covered_joints(rich_set, tmp_path):
    """The oracle puts the covered joints back on the ground truth: covered joints moved away are fully repaired
    (100 AP again), a moved joint that is not covered stays wrong."""
    root, _ = rich_set
    gt_dir = os.path.join(str(root), 'annotations', 'val')
    hard_file = os.path.join(str(root), 'annotations', 'val_hard.json')
    covered = _covered_joints(hard_file)
    spoiled = str(tmp_path / 'covered_moved')
    # people listed in reverse order: copying joints by list position instead of by the matching would fail
    _shift_joints(root, spoiled, lambda ann_id: covered[ann_id], shuffle=True)
    assert subset_ap(gt_dir, spoiled, hard_file)['occluded'].parts['Total'] < 100.0
    oracle = oracle_joint_ap(gt_dir, spoiled, hard_file)
    assert list(oracle) == ['all', 'occluded', 'blurred']
    assert oracle['occluded'].parts['Total'] == 100.0 and oracle['all'].parts['Total'] == 100.0

    # move every person's first uncovered joint as well: the oracle does not touch it
    others = str(tmp_path / 'uncovered_moved_too')
    with open(hard_file) as f:
        names = json.load(f)['info']['keypoint_names']
    head = names.index('nose') if 'nose' in names else 0
    _shift_joints(root, others, lambda ann_id: covered[ann_id] | ({head} - covered[ann_id]))
    repaired = oracle_joint_ap(gt_dir, others, hard_file)
    assert repaired['occluded'].parts['Total'] < 100.0
    assert repaired['occluded'].parts['Total'] > subset_ap(gt_dir, others, hard_file)['occluded'].parts['Total']
    with pytest.raises(ValueError, match='not a joint subset'):
        oracle_joint_ap(gt_dir, spoiled, hard_file, field='blurred')


def test_oracle_tool_prints_the_gain_per_prediction_folder(rich_set, tmp_path, capsys):
    import importlib.util
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    spec = importlib.util.spec_from_file_location('oracle_tool', os.path.join(repo, 'tools', 'oracle_joint_ap.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    root, _ = rich_set
    covered = _covered_joints(os.path.join(str(root), 'annotations', 'val_hard.json'))
    spoiled = str(tmp_path / 'covered_moved')
    _shift_joints(root, spoiled, lambda ann_id: covered[ann_id])
    tool.main([str(root), spoiled])
    row = [line for line in capsys.readouterr().out.splitlines() if line.startswith(f'| {spoiled} |')]
    assert len(row) == 1
    cells = [cell.strip() for cell in row[0].strip('|').split('|')[1:]]
    assert len(cells) == 3 and all(cell.split(' -> ')[1].startswith('100.0') for cell in cells[:2]), cells
