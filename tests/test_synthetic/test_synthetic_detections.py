"""The simulated detector file of val (mmpose's bbox-file format)."""
from collections import defaultdict

import numpy as np

from famipose_mmpose.synthetic import box_iou


def _clip(box, width, height):
    x1, y1 = max(0.0, box[0]), max(0.0, box[1])
    x2 = min(float(width), box[0] + box[2])
    y2 = min(float(height), box[1] + box[3])
    return [x1, y1, x2 - x1, y2 - y1]


def test_detection_records_and_coverage(val_set, read_json):
    root, _ = val_set
    merged = read_json(root, 'annotations', 'posetrack18_val.json')
    dets = read_json(root, 'annotations',
                     'posetrack18_val_human_detections.json')
    hard = read_json(root, 'annotations', 'val_hard.json')['images']
    images = {im['id']: im for im in merged['images']}
    by_image = defaultdict(list)
    for det in dets:
        assert set(det) == {'image_id', 'bbox', 'score', 'category_id'}
        assert det['category_id'] == 1
        assert 0 < det['score'] <= 1
        assert det['image_id'] in images
        x, y, w, h = det['bbox']
        image = images[det['image_id']]
        assert w > 0 and h > 0
        assert x >= 0 and y >= 0
        assert x + w <= image['width'] + 1e-6
        assert y + h <= image['height'] + 1e-6
        by_image[det['image_id']].append(det)
    # With no misses, every frame showing a fairly visible person has boxes.
    anns = {a['id']: a for a in merged['annotations']}
    for entry in hard:
        wanted = [
            p for p in entry['people']
            if p['annotation_id'] is not None and p['visible_fraction'] > 0.5
            and anns[p['annotation_id']]['num_keypoints'] >= 10
        ]
        if wanted:
            assert by_image[entry['image_id']], entry['file_name']


def test_detections_overlap_ground_truth(val_set, read_json):
    root, _ = val_set
    merged = read_json(root, 'annotations', 'posetrack18_val.json')
    dets = read_json(root, 'annotations',
                     'posetrack18_val_human_detections.json')
    images = {im['id']: im for im in merged['images']}
    by_image = defaultdict(list)
    for det in dets:
        by_image[det['image_id']].append(det)
    gts = defaultdict(list)
    best = []
    for ann in merged['annotations']:
        image = images[ann['image_id']]
        gt = _clip(ann['bbox'], image['width'], image['height'])
        gts[ann['image_id']].append(gt)
        best.append(
            max((box_iou(gt, d['bbox']) for d in by_image[ann['image_id']]),
                default=0.0))
    assert len(best) > 20
    assert np.mean(np.array(best) > 0.5) > 0.75
    # False positives: boxes far from every annotated person.
    false_pos = [
        d for d in dets if max((box_iou(d['bbox'], g)
                                for g in gts[d['image_id']]),
                               default=0.0) < 0.1
    ]
    assert false_pos
    assert np.mean([d['score'] for d in false_pos]) < np.mean(
        [d['score'] for d in dets if d not in false_pos])


def test_box_iou():
    assert box_iou([0, 0, 10, 10], [0, 0, 10, 10]) == 1.0
    assert box_iou([0, 0, 10, 10], [5, 0, 10, 10]) == 50 / 150
    assert box_iou([0, 0, 10, 10], [20, 20, 5, 5]) == 0.0


def test_unlabeled_frames_get_detections(rich_set, read_json):
    root, _ = rich_set
    hard = read_json(root, 'annotations', 'val_hard.json')['images']
    dets = read_json(root, 'annotations',
                     'posetrack18_val_human_detections.json')
    with_boxes = {d['image_id'] for d in dets}
    unlabeled = 0
    for entry in hard:
        if any(p['visible_fraction'] > 0.5 and len(p['outside_joints']) < 5
               for p in entry['people']):
            assert entry['image_id'] in with_boxes, entry['file_name']
            unlabeled += not entry['is_labeled']
    assert unlabeled > 0
