"""Hand-computed PoseTrack AP cases for the poseval replica.

Figures come from ``conftest.py``: head size 30 px, so a predicted joint is
correct within 15 px of its ground truth. AP arithmetic used below (poseval's
VOCap): detections sorted by decreasing score give precision p_i and recall
r_i; AP = sum over recall steps of (r_i - r_{i-1}) * max_{k >= i} p_k.
"""
import json

import numpy as np
import pytest

from famipose_mmpose.evaluation.posetrack_ap import (NUM_JOINTS, POSEVAL_JOINT_NAMES, PoseTrackPerson, PredictedPose,
                                                     assign_frame, build_posetrack17_predictions,
                                                     build_posetrack18_predictions, compute_ap, compute_rpc,
                                                     dump_json_atomic, evaluate_posetrack_ap,
                                                     evaluate_posetrack_folders, load_posetrack17_video,
                                                     load_posetrack18_video, load_posetrack_folder,
                                                     load_posetrack_video, points_in_polygon, voc_ap)


def J(name: str) -> int:
    return POSEVAL_JOINT_NAMES.index(name)


def evaluate(ptdata, frames):
    gt, pred = ptdata.video(frames)
    return evaluate_posetrack_ap(
        {'v': load_posetrack18_video(gt, 'gt/v.json')},
        {'v': load_posetrack18_video(pred, 'pred/v.json', False)})


def assert_all(result, value):
    np.testing.assert_allclose(result.joint_ap, value)
    for part, ap in result.parts.items():
        assert ap == pytest.approx(value), part


A, B, C = (100, 100), (400, 100), (700, 100)


def test_perfect_predictions_give_100(ptdata):
    # every joint: all detections true positives, recall reaches 1 -> 100
    frames = [
        dict(
            gt=[ptdata.gt_person(A), ptdata.gt_person(B)],
            pred=[ptdata.pred_person(B, 0.6),
                  ptdata.pred_person(A, 0.8)]),
        dict(
            gt=[ptdata.gt_person(A), ptdata.gt_person(C)],
            pred=[ptdata.pred_person(A, 0.3),
                  ptdata.pred_person(C, 0.9)]),
    ]
    result = evaluate(ptdata, frames)
    assert_all(result, 100.)
    np.testing.assert_allclose(result.joint_precision, 100.)
    np.testing.assert_allclose(result.joint_recall, 100.)
    np.testing.assert_array_equal(result.num_gt, 4)
    assert list(result.parts) == [
        'Head', 'Shoulder', 'Elbow', 'Wrist', 'Hip', 'Knee', 'Ankle', 'Total'
    ]


@pytest.mark.parametrize(
    'offset, wrist_ap',
    [
        ((16, 0), 0.),  # 16 / 30 = 0.533 > 0.5: wrong
        ((15, 0), 100.),  # 15 / 30 = 0.5: correct (<=)
        ((9, 12), 100.),  # |(9, 12)| = 15: correct
        ((12, 12), 0.),  # |(12, 12)| = 16.97: wrong
    ])
def test_single_joint_beyond_pckh_threshold(ptdata, offset, wrist_ap):
    # The person still matches (PCKh 14/15). The left wrist is one detection:
    # wrong -> precision 0, recall 0 -> AP 0; right -> AP 100.
    frames = [
        dict(
            gt=[ptdata.gt_person(A)],
            pred=[ptdata.pred_person(A, 0.9, {'left_wrist': offset})])
    ]
    result = evaluate(ptdata, frames)
    expected = np.full(NUM_JOINTS, 100.)
    expected[J('left_wrist')] = wrist_ap
    np.testing.assert_allclose(result.joint_ap, expected)
    # Wrist = mean(left, right); Total = mean of the 15 joints
    assert result.parts['Wrist'] == pytest.approx((wrist_ap + 100) / 2)
    assert result.parts['Total'] == pytest.approx((14 * 100 + wrist_ap) / 15)
    assert result.parts['Elbow'] == 100.


@pytest.mark.parametrize(
    'extra_score, ap',
    [
        # sorted: TP 0.9, FP 0.5 -> precision (1, .5), recall (1, 1)
        # AP = (1 - 0) * max(1, .5) = 1 -> 100
        (0.5, 100.),
        # sorted: FP 0.95, TP 0.9 -> precision (0, .5), recall (0, 1)
        # AP = (1 - 0) * 0.5 -> 50
        (0.95, 50.),
    ])
def test_unmatched_extra_prediction(ptdata, extra_score, ap):
    frames = [
        dict(
            gt=[ptdata.gt_person(A)],
            pred=[
                ptdata.pred_person(A, 0.9),
                ptdata.pred_person(C, extra_score)
            ])
    ]
    assert_all(evaluate(ptdata, frames), ap)


def test_extra_prediction_in_other_frame_counts(ptdata):
    # frame 0: TP 0.9; frame 1: TP 0.7 and a far FP 0.8.
    # sorted: TP .9, FP .8, TP .7 -> precision (1, .5, .667),
    # recall (.5, .5, 1) -> AP = .5 * 1 + .5 * .667 = .8333
    frames = [
        dict(gt=[ptdata.gt_person(A)], pred=[ptdata.pred_person(A, 0.9)]),
        dict(
            gt=[ptdata.gt_person(A)],
            pred=[ptdata.pred_person(C, 0.8),
                  ptdata.pred_person(A, 0.7)]),
    ]
    assert_all(evaluate(ptdata, frames), 100 * (0.5 + 0.5 * 2 / 3))


@pytest.mark.parametrize(
    'scores, ap',
    [
        # both copies have PCKh 1 with the same person: the FIRST one is
        # matched, whatever its score.
        # first 0.9 (TP), second 0.8 (FP): sorted TP, FP -> AP 100
        ((0.9, 0.8), 100.),
        # first 0.8 (TP), second 0.9 (FP): sorted FP, TP -> AP 50
        ((0.8, 0.9), 50.),
    ])
def test_duplicate_predictions_of_one_person(ptdata, scores, ap):
    frames = [
        dict(
            gt=[ptdata.gt_person(A)],
            pred=[ptdata.pred_person(A, s) for s in scores])
    ]
    assert_all(evaluate(ptdata, frames), ap)


def test_prediction_keeps_only_its_first_best_ground_truth(ptdata):
    # Two people 10 px apart: gt0 at p0 without left ankle, gt1 at p1 without
    # right ankle. The prediction drawn on p1 is within 15 px of every joint
    # of both, so PCKh = 14/14 with each: it keeps gt0 (first on ties) and
    # gt1 is matched by no prediction although the prediction lies on it.
    # left ankle: gt0 has none -> the prediction's left ankle is a FP, the
    #   only annotation (gt1) is missed -> AP 0;
    # right ankle: correct for gt0, its only annotation -> AP 100;
    # other joints: 1 TP of 2 annotations -> AP .5 * 1 = 50.
    p0, p1 = (100, 100), (110, 100)
    frames = [
        dict(
            gt=[
                ptdata.gt_person(p0, ['left_ankle']),
                ptdata.gt_person(p1, ['right_ankle'])
            ],
            pred=[ptdata.pred_person(p1, 0.9)])
    ]
    result = evaluate(ptdata, frames)
    expected = np.full(NUM_JOINTS, 50.)
    expected[J('left_ankle')] = 0.
    expected[J('right_ankle')] = 100.
    np.testing.assert_allclose(result.joint_ap, expected)


UPPER = ('nose', 'head_bottom', 'head_top', 'left_shoulder', 'right_shoulder',
         'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist')
LOWER = ('left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle',
         'right_ankle')


def test_pckh_is_normalised_by_annotated_joints(ptdata):
    # gt0 at A has 15 joints; gt1 at B only its 6 lower joints. The
    # prediction puts its upper joints on gt0 and its lower joints on gt1:
    # 9 correct of 15 with gt0 (PCKh .6), 6 of 6 with gt1 (PCKh 1) -> it
    # matches gt1 (raw counts would have chosen gt0).
    # upper joints: FPs for gt1, gt0's single annotation missed -> AP 0;
    # lower joints: TP of 2 annotations -> AP 50; Total = 6 * 50 / 15 = 20.
    frames = [
        dict(
            gt=[ptdata.gt_person(A),
                ptdata.gt_person(B, UPPER)],
            pred=[
                ptdata.pred_person(
                    A, 0.9, offsets={n: (B[0] - A[0], 0)
                                     for n in LOWER})
            ])
    ]
    result = evaluate(ptdata, frames)
    expected = [50. if n in LOWER else 0. for n in POSEVAL_JOINT_NAMES]
    np.testing.assert_allclose(result.joint_ap, expected)
    assert result.parts['Total'] == pytest.approx(20.)


SQUARE_AROUND_B = [(330, 50), (470, 50), (470, 330), (330, 330)]


@pytest.mark.parametrize('ignore, ap', [(None, 50.),
                                        ([SQUARE_AROUND_B], 100.)])
def test_prediction_inside_ignore_region_is_dropped(ptdata, ignore, ap):
    # FP at B with score 0.95 above the TP 0.9 -> 50 (see extra-prediction
    # case); inside an ignore region all its points go -> 100.
    frames = [
        dict(
            gt=[ptdata.gt_person(A)],
            pred=[ptdata.pred_person(A, 0.9),
                  ptdata.pred_person(B, 0.95)],
            ignore=ignore)
    ]
    assert_all(evaluate(ptdata, frames), ap)


def test_ignore_region_removes_single_points(ptdata):
    # The region covers only y >= 190 around B: hips (y 200), knees (240)
    # and ankles (280) of the FP at B are dropped; its wrists (y 190, on the
    # region's edge) and other upper joints stay FPs scored above the TP
    # -> 50; the lower joints -> 100.
    lower_b = [(330, 190), (470, 190), (470, 330), (330, 330)]
    frames = [
        dict(
            gt=[ptdata.gt_person(A)],
            pred=[ptdata.pred_person(A, 0.9),
                  ptdata.pred_person(B, 0.95)],
            ignore=[lower_b])
    ]
    result = evaluate(ptdata, frames)
    lower = {
        'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle',
        'right_ankle'
    }
    expected = [100. if n in lower else 50. for n in POSEVAL_JOINT_NAMES]
    np.testing.assert_allclose(result.joint_ap, expected)
    # Total = (6 * 100 + 9 * 50) / 15 = 70
    assert result.parts['Total'] == pytest.approx(70.)


def test_ground_truth_inside_ignore_region_is_not_counted(ptdata):
    # Person B lies in an ignore region and has no prediction. Without the
    # region each joint has 1 TP of 2 annotations -> AP 50; with it B does
    # not count -> 100 (and 1 annotation per joint).
    for ignore, ap, num_gt in ((None, 50., 2), ([SQUARE_AROUND_B], 100., 1)):
        frames = [
            dict(
                gt=[ptdata.gt_person(A),
                    ptdata.gt_person(B)],
                pred=[ptdata.pred_person(A, 0.9)],
                ignore=ignore)
        ]
        result = evaluate(ptdata, frames)
        assert_all(result, ap)
        np.testing.assert_array_equal(result.num_gt, num_gt)


def test_points_in_polygon_strict_interior():
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], dtype=float)
    pts = np.array([[5, 5], [0, 5], [10, 10], [5, 0], [11, 5], [-1, -1],
                    [9.999, 0.001]])
    np.testing.assert_array_equal(
        points_in_polygon(pts, square),
        [True, False, False, False, False, False, True])
    # concave "L": the notch (7, 7) is outside, the arm (2, 8) inside
    ell = np.array([[0, 0], [10, 0], [10, 4], [4, 4], [4, 10], [0, 10]],
                   dtype=float)
    np.testing.assert_array_equal(
        points_in_polygon(np.array([[7., 7.], [2., 8.], [7., 2.]]), ell),
        [False, True, True])


def test_points_in_polygon_agrees_with_shapely():
    # poseval tests ignore regions with shapely's Polygon.contains; compare on
    # random integer polygons (mostly self-intersecting, like hand-drawn
    # regions) with points on grid nodes, edges and vertices.
    geometry = pytest.importorskip('shapely.geometry')
    rng = np.random.default_rng(1)
    for _ in range(100):
        poly = rng.integers(0, 20, (rng.integers(3, 12), 2)).astype(float)
        pts = np.concatenate([
            rng.integers(-1, 21, (30, 2)).astype(float),
            rng.uniform(-1, 21, (30, 2)), poly
        ])
        shape = geometry.Polygon(poly.tolist())
        expected = [shape.contains(geometry.Point(*p)) for p in pts]
        np.testing.assert_array_equal(points_in_polygon(pts, poly), expected)


@pytest.mark.parametrize('labeled', [True, False])
def test_frame_without_annotated_people_is_skipped(ptdata, labeled):
    # poseval drops every frame whose ground truth lists no person (whatever
    # its is_labeled flag): the FP in frame 1 is ignored -> 100.
    frames = [
        dict(gt=[ptdata.gt_person(A)], pred=[ptdata.pred_person(A, 0.9)]),
        dict(gt=[], pred=[ptdata.pred_person(A, 0.95)], labeled=labeled),
    ]
    assert_all(evaluate(ptdata, frames), 100.)


def test_is_labeled_flag_is_not_read(ptdata):
    # A frame flagged unlabeled but with an annotated person is evaluated
    # (poseval rebuilds is_labeled from the people). Its person is missed:
    # 1 TP of 2 annotations per joint -> AP 50.
    frames = [
        dict(gt=[ptdata.gt_person(A)], pred=[ptdata.pred_person(A, 0.9)]),
        dict(gt=[ptdata.gt_person(A)], labeled=False),
    ]
    result = evaluate(ptdata, frames)
    assert_all(result, 50.)
    np.testing.assert_array_equal(result.num_gt, 2)


def test_labeled_frame_with_pointless_person_gives_false_positives(ptdata):
    # Frame 1 lists a person without annotated joint: the frame is kept and
    # its prediction (0.95) is a FP above the TP 0.9 of frame 0 -> AP 50.
    frames = [
        dict(gt=[ptdata.gt_person(A)], pred=[ptdata.pred_person(A, 0.9)]),
        dict(
            gt=[ptdata.gt_person(A, missing=list(ptdata.figure))],
            pred=[ptdata.pred_person(A, 0.95)]),
    ]
    result = evaluate(ptdata, frames)
    assert_all(result, 50.)
    np.testing.assert_array_equal(result.num_gt, 1)


def test_joint_absent_in_ground_truth(ptdata):
    # Person B has no left ankle annotation; it still matches (14/14).
    # Its predicted left ankle (0.95) is a FP above A's TP (0.9):
    # left ankle AP 50, all else 100; Ankle = 75, Total = (1400 + 50) / 15.
    frames = [
        dict(
            gt=[ptdata.gt_person(A),
                ptdata.gt_person(B, ['left_ankle'])],
            pred=[ptdata.pred_person(A, 0.9),
                  ptdata.pred_person(B, 0.95)])
    ]
    result = evaluate(ptdata, frames)
    expected = np.full(NUM_JOINTS, 100.)
    expected[J('left_ankle')] = 50.
    np.testing.assert_allclose(result.joint_ap, expected)
    assert result.num_gt[J('left_ankle')] == 1
    assert result.parts['Ankle'] == pytest.approx(75.)
    assert result.parts['Total'] == pytest.approx(1450. / 15)


def test_joint_never_annotated_is_nan_and_left_out_of_total(ptdata):
    # No left ankle annotated anywhere but predicted: recall 0 / 0 -> NaN
    # (poseval). Ankle = mean(NaN, 100) = NaN; Total = mean of the other 14.
    frames = [
        dict(
            gt=[ptdata.gt_person(A, ['left_ankle'])],
            pred=[ptdata.pred_person(A, 0.9)])
    ]
    result = evaluate(ptdata, frames)
    assert np.isnan(result.joint_ap[J('left_ankle')])
    assert np.isnan(result.parts['Ankle'])
    assert result.parts['Total'] == pytest.approx(100.)


def test_joint_never_predicted_has_ap_zero(ptdata):
    # The right ankle is written as (0, 0, 0): absent for poseval. No
    # detection -> AP 0 (poseval's default), Total = 1400 / 15.
    frames = [
        dict(
            gt=[ptdata.gt_person(A)],
            pred=[ptdata.pred_person(A, 0.9, omit=['right_ankle'])])
    ]
    result = evaluate(ptdata, frames)
    assert result.joint_ap[J('right_ankle')] == 0.
    assert result.parts['Ankle'] == pytest.approx(50.)
    assert result.parts['Total'] == pytest.approx(1400. / 15)


def test_visibility_zero_point_with_coordinates_counts(ptdata):
    # Only (0, 0, 0) means absent: a ground-truth point with visibility 0 but
    # real coordinates is annotated (2 annotations, 1 found -> 50 for nose).
    gt_b = ptdata.gt_person(B)
    gt_b['keypoints'][2] = 0  # nose of B: visibility 0, coordinates kept
    frames = [
        dict(
            gt=[ptdata.gt_person(A), gt_b],
            pred=[
                ptdata.pred_person(A, 0.9),
                ptdata.pred_person(B, 0.8, omit=['nose'])
            ])
    ]
    result = evaluate(ptdata, frames)
    assert result.num_gt[J('nose')] == 2
    assert result.joint_ap[J('nose')] == pytest.approx(50.)


@pytest.mark.parametrize(
    'labels, precision, recall, ap',
    [
        # sorted scores .9 .8 .7 .6 with labels 1 0 1 0, 3 positives:
        # precision 1, .5, .667, .5; recall 1/3, 1/3, 2/3, 2/3; interpolated
        # precision at the recall steps 1/3, 2/3, 1: 1, .667, 0
        # AP = 1/3 * 1 + 1/3 * 2/3 + 1/3 * 0 = 5/9
        ([1, 0, 1, 0], [1, .5, 2 / 3, .5], [1 / 3, 1 / 3, 2 / 3, 2 / 3], 5 / 9
         ),
        # labels 1 0 1 1: precision 1, .5, .667, .75; recall 1/3, 1/3, 2/3, 1
        # at recall 2/3 the precision .667 is raised to the later .75:
        # AP = 1/3 * 1 + 1/3 * .75 + 1/3 * .75 = 5/6 (not .806 uninterpolated)
        ([1, 0, 1, 1], [1, .5, 2 / 3, .75], [1 / 3, 1 / 3, 2 / 3, 1], 5 / 6),
    ])
def test_compute_rpc_and_voc_ap_by_hand(labels, precision, recall, ap):
    scores = np.array([.7, .9, .6, .8])  # sorted: .9, .8, .7, .6
    unsorted_labels = np.array(labels)[[2, 0, 3, 1]]
    got_precision, got_recall = compute_rpc(scores, unsorted_labels, 3)
    np.testing.assert_allclose(got_precision, precision)
    np.testing.assert_allclose(got_recall, recall)
    assert voc_ap(got_recall, got_precision) == pytest.approx(ap)
    result = compute_ap([scores] * NUM_JOINTS, [unsorted_labels] * NUM_JOINTS,
                        np.full(NUM_JOINTS, 3))
    np.testing.assert_allclose(result.joint_ap, 100 * ap)
    assert result.parts['Total'] == pytest.approx(100 * ap)
    np.testing.assert_allclose(result.joint_precision, 100 * precision[-1])
    np.testing.assert_allclose(result.joint_recall, 100 * recall[-1])


def _reference_assign(gt_people, pred_people, thr=0.5):
    """Straightforward loop version of poseval's per-frame matching."""
    labels = np.zeros((len(pred_people), NUM_JOINTS), dtype=bool)
    if not gt_people or not pred_people:
        return labels
    pck = np.zeros((len(pred_people), len(gt_people)))
    match = np.zeros((len(pred_people), len(gt_people), NUM_JOINTS), bool)
    for g, gp in enumerate(gt_people):
        gxy, ghas, _ = gp.dense()
        x1, y1, x2, y2 = gp.head_box
        head = 0.6 * np.hypot(x2 - x1, y2 - y1)
        for p, pp in enumerate(pred_people):
            pxy, phas, _ = pp.dense()
            for j in range(NUM_JOINTS):
                if ghas[j] and phas[j]:
                    match[p, g, j] = np.hypot(*(gxy[j] - pxy[j])) / head <= thr
            pck[p, g] = match[p, g].sum() / max(ghas.sum(), 1)
    for p in range(len(pred_people)):
        best = int(np.argmax(pck[p]))
        pck[p, [g for g in range(len(gt_people)) if g != best]] = 0
    for g in range(len(gt_people)):
        p = int(np.argmax(pck[:, g]))
        if pck[p, g] > 0:
            labels[p] = match[p, g]
    return labels


def test_vectorised_matching_equals_loop_version():
    rng = np.random.default_rng(0)
    for _ in range(30):
        gts, preds = [], []
        for _ in range(rng.integers(1, 5)):
            ids = rng.permutation(NUM_JOINTS)[:rng.integers(0, 16)]
            xy = rng.uniform(0, 200, (len(ids), 2))
            box = tuple(rng.uniform(0, 100, 2)) + tuple(
                rng.uniform(100, 160, 2))
            gts.append(PoseTrackPerson(ids, xy, np.zeros(len(ids)), box))
        for _ in range(rng.integers(1, 6)):
            src = gts[rng.integers(len(gts))]
            jitter = rng.normal(0, 25, src.coords.shape)
            preds.append(
                PoseTrackPerson(src.joint_ids, src.coords + jitter,
                                rng.uniform(0, 1, len(src.joint_ids))))
        _, labels, has_pr, _ = assign_frame(gts, preds)
        np.testing.assert_array_equal(labels & has_pr,
                                      _reference_assign(gts, preds))


def test_posetrack17_layout_gives_same_ap(ptdata):
    # The partial-ignore case of above, with ground truth and predictions in
    # the PoseTrack17 layout.
    lower_b = [(330, 190), (470, 190), (470, 330), (330, 330)]
    frames = [
        dict(
            gt=[ptdata.gt_person(A),
                ptdata.gt_person(C, ['nose'])],
            pred=[ptdata.pred_person(A, 0.9),
                  ptdata.pred_person(B, 0.95)],
            ignore=[lower_b]),
        dict(gt=[]),
    ]
    gt18, pred18 = ptdata.video(frames)
    gt_frames = load_posetrack18_video(gt18, 'gt.json')
    pred_frames = load_posetrack18_video(pred18, 'pred.json', False)
    expected = evaluate_posetrack_ap({'v': gt_frames}, {'v': pred_frames})

    annolist = []
    for frame in gt_frames:
        rects = []
        for person in frame.people:
            x1, y1, x2, y2 = person.head_box
            points = [
                dict(id=[int(j)], x=[float(x)], y=[float(y)])
                for j, (x, y) in zip(person.joint_ids, person.coords)
            ]
            rects.append(
                dict(
                    x1=[x1],
                    y1=[y1],
                    x2=[x2],
                    y2=[y2],
                    track_id=[0],
                    annopoints=[dict(point=points)]))
        entry = dict(
            image=[dict(name=frame.file_name)],
            annorect=rects,
            is_labeled=[1 if rects else 0])
        if frame.ignore_regions:
            entry['ignore_regions'] = [
                dict(point=[dict(x=[x], y=[y]) for x, y in poly])
                for poly in frame.ignore_regions
            ]
        annolist.append(entry)
    gt17 = load_posetrack_video(dict(annolist=annolist), 'gt17.json')
    assert [len(f.people) for f in gt17] == [2, 0]

    poses = []
    for i, frame in enumerate(frames):
        poses.append([
            PredictedPose(
                np.array(ann['keypoints']).reshape(17, 3)[:, :2],
                np.array(ann['scores']), ann['score'])
            for ann in frame.get('pred', [])
        ])
    pred17 = load_posetrack17_video(
        build_posetrack17_predictions(gt17, poses), 'pred17.json', False)
    pred18_rt = load_posetrack18_video(
        build_posetrack18_predictions(gt17, poses), 'pred18.json', False)
    for preds in (pred17, pred18_rt):
        got = evaluate_posetrack_ap({'v': gt17}, {'v': preds})
        np.testing.assert_allclose(got.joint_ap, expected.joint_ap)
    # A is found (0.9); the FP at B (0.95) keeps its upper joints (wrists at
    # y = 190 lie on the region's edge: kept); C (no nose) is missed.
    # nose: FP, TP of 1 annotation -> 50; 8 other upper joints: FP, TP of 2
    # -> precision (0, .5), recall (0, .5) -> AP .5 * .5 = 25; 6 lower
    # joints: TP of 2 -> 50. Total = (50 + 8 * 25 + 6 * 50) / 15.
    assert expected.joint_ap[J('nose')] == pytest.approx(50.)
    assert expected.joint_ap[J('left_wrist')] == pytest.approx(25.)
    assert expected.joint_ap[J('left_knee')] == pytest.approx(50.)
    assert expected.parts['Total'] == pytest.approx(550. / 15)


def test_folders_like_poseval_cli(ptdata, tmp_path):
    frames = [
        dict(
            gt=[ptdata.gt_person(A)],
            pred=[ptdata.pred_person(A, 0.9),
                  ptdata.pred_person(C, 0.95)])
    ]
    gt, pred = ptdata.video(frames)
    ptdata.write(tmp_path / 'gt', '000001_mpii_test', gt)
    ptdata.write(tmp_path / 'pred', '000001_mpii_test', pred)
    # predictions of a video without ground truth are ignored (as poseval)
    ptdata.write(tmp_path / 'pred', '000999_mpii_test',
                 ptdata.video(frames, '000999_mpii_test')[1])
    result = evaluate_posetrack_folders(
        str(tmp_path / 'gt'), str(tmp_path / 'pred'))
    assert_all(result, 50.)
    # a ground-truth video without prediction file is an error
    ptdata.write(tmp_path / 'gt', '000002_mpii_test',
                 ptdata.video(frames, '000002_mpii_test')[0])
    with pytest.raises(FileNotFoundError, match='000002_mpii_test.json'):
        evaluate_posetrack_folders(
            str(tmp_path / 'gt'), str(tmp_path / 'pred'))


def test_prediction_frames_must_align(ptdata):
    gt, pred = ptdata.video([dict(gt=[ptdata.gt_person(A)]), dict()])
    pred['images'] = pred['images'][:1]
    with pytest.raises(ValueError, match='1 prediction frames but 2'):
        evaluate_posetrack_ap(
            {'v': load_posetrack18_video(gt, 'gt.json')},
            {'v': load_posetrack18_video(pred, 'pred.json', False)})
    with pytest.raises(KeyError, match='"v"'):
        evaluate_posetrack_ap({'v': load_posetrack18_video(gt, 'gt.json')}, {})


def _write_gt(ptdata, tmp_path, mutate):
    gt, _ = ptdata.video([dict(gt=[ptdata.gt_person(A)])])
    mutate(gt)
    ptdata.write(tmp_path, '000001_mpii_test', gt)
    return str(tmp_path)


@pytest.mark.parametrize('mutate, error, pattern', [
    (lambda gt: gt['annotations'][0].pop('keypoints'), KeyError,
     r'000001_mpii_test\.json.*annotations\[0\].*"keypoints"'),
    (lambda gt: gt['annotations'][0].update(keypoints=[1, 2, 1] * 15),
     ValueError, r'000001_mpii_test\.json.*"keypoints".*45 values'),
    (lambda gt: gt['annotations'][0].pop('bbox_head'), KeyError,
     r'000001_mpii_test\.json.*"bbox_head"'),
    (lambda gt: gt['images'][0].pop('file_name'), KeyError,
     r'000001_mpii_test\.json.*images\[0\].*"file_name"'),
    (lambda gt: gt.pop('categories'), KeyError,
     r'000001_mpii_test\.json.*"categories"'),
    (lambda gt: gt['images'][0].update(
        ignore_regions_x=[[1, 2]], ignore_regions_y=[[1, 2]]), ValueError,
     r'000001_mpii_test\.json.*ignore region 0.*2 vertices'),
])
def test_malformed_ground_truth_names_file_and_field(ptdata, tmp_path, mutate,
                                                     error, pattern):
    folder = _write_gt(ptdata, tmp_path, mutate)
    with pytest.raises(error, match=pattern):
        load_posetrack_folder(folder)


def test_missing_or_empty_ground_truth_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere'):
        load_posetrack_folder(str(tmp_path / 'nowhere'))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(ValueError, match='no .json file'):
        load_posetrack_folder(str(tmp_path / 'empty'))
    (tmp_path / 'bad').mkdir()
    (tmp_path / 'bad' / 'x.json').write_text('{"images": [')
    with pytest.raises(ValueError, match='x.json: not valid json'):
        load_posetrack_folder(str(tmp_path / 'bad'))


def test_written_posetrack18_file_is_valid_json(ptdata, tmp_path):
    gt, _ = ptdata.video([dict(gt=[ptdata.gt_person(A)]), dict()])
    frames = load_posetrack18_video(gt, 'gt.json')
    kpts = np.array(ptdata.pred_keypoints(A), dtype=np.float32) + 0.25
    pose = PredictedPose(kpts, np.full(17, 0.5, np.float32), 0.7)
    content = build_posetrack18_predictions(frames, [[pose], []])
    path = tmp_path / 'v.json'
    dump_json_atomic(content, str(path))
    back = json.loads(path.read_text())
    assert [im['id']
            for im in back['images']] == [im['id'] for im in gt['images']]
    assert len(back['annotations']) == 1
    ann = back['annotations'][0]
    np.testing.assert_allclose(
        np.reshape(ann['keypoints'], (17, 3))[:, :2], kpts)
    assert ann['scores'] == [0.5] * 17 and ann['track_id'] == 0
    assert back['categories'][0]['keypoints'] == list(ptdata.keypoint_names)
    assert [p.name for p in tmp_path.iterdir()] == ['v.json']
