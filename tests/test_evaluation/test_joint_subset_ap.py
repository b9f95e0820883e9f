"""AP on a subset of the annotated joints (``evaluate_joint_subset_ap``): people are matched on all their joints,
only the counted joints are scored."""
import numpy as np
import pytest

from famipose_mmpose.evaluation.posetrack_ap import (NUM_JOINTS, POSEVAL_JOINT_NAMES, PoseTrackFrame, PoseTrackPerson,
                                                     evaluate_joint_subset_ap, evaluate_posetrack_ap)

WRIST = POSEVAL_JOINT_NAMES.index('left_wrist')
KNEE = POSEVAL_JOINT_NAMES.index('right_knee')


def person(x0, score=1.0, counted=(), move=None, head=True):
    """15 joints on a row starting at x0 (10 px apart); head box 50x50 -> head size 42.4, threshold 21.2 px.
    ``move`` maps joint id -> (dx, dy) added to that joint."""
    coords = np.stack([x0 + 10.0 * np.arange(NUM_JOINTS), np.full(NUM_JOINTS, 100.0)], axis=1)
    for joint, delta in (move or {}).items():
        coords[joint] += delta
    return PoseTrackPerson(
        joint_ids=np.arange(NUM_JOINTS),
        coords=coords,
        scores=np.full(NUM_JOINTS, score),
        head_box=(x0, 50.0, x0 + 50.0, 100.0) if head else None,
        counted=np.isin(np.arange(NUM_JOINTS), list(counted)) if counted is not None else None)


def evaluate(gt_frames, pred_frames):
    gt = {'v': [PoseTrackFrame(f'{i}.jpg', people=list(p)) for i, p in enumerate(gt_frames)]}
    pred = {'v': [PoseTrackFrame(f'{i}.jpg', people=list(p)) for i, p in enumerate(pred_frames)]}
    return evaluate_joint_subset_ap(gt, pred), evaluate_posetrack_ap(gt, pred)


def test_only_counted_joints_are_scored():
    # the wrist is counted and predicted 100 px off; every other joint is exact but not counted
    subset, full = evaluate([[person(0, counted=[WRIST])]], [[person(0, move={WRIST: (0, 100)})]])
    assert subset.num_gt[WRIST] == 1 and subset.num_gt.sum() == 1
    assert subset.joint_ap[WRIST] == 0.0
    assert full.parts['Total'] == pytest.approx(100.0 * 14 / 15)  # the whole-person AP barely notices
    # joint types with detections but no counted joint: NaN, left out of the Total
    assert np.isnan(subset.joint_ap[KNEE])
    assert subset.parts['Total'] == 0.0  # the Total averages only the joint types that have counted joints
    assert np.isnan(subset.parts['Knee'])
    subset_ok, _ = evaluate([[person(0, counted=[WRIST])]], [[person(0)]])
    assert subset_ok.joint_ap[WRIST] == 100.0


def test_people_are_matched_on_all_joints_not_on_the_subset():
    # GT person A at x=0 (wrist counted), GT person B at x=1000. Prediction P1 has A's body with the wrist 100 px
    # off; prediction P2 has A's wrist right but the rest of its body at B. Matching on all joints gives P1 -> A
    # and P2 -> B, so A's counted wrist is scored with P1's wrong wrist.
    gt = [person(0, counted=[WRIST]), person(1000, counted=[])]
    p1 = person(0, score=0.9, move={WRIST: (0, 100)})
    p2 = person(1000, score=0.8, move={WRIST: (-1000, 0)})
    subset, _ = evaluate([gt], [[p1, p2]])
    assert subset.num_gt[WRIST] == 1
    assert subset.joint_ap[WRIST] == 0.0  # P2's correct wrist does not rescue A's: P2 is B's prediction


def test_missed_person_and_unmatched_predictions():
    # two frames, the counted wrist of each; frame 1's person is missed (no prediction): recall 1/2
    gt = [[person(0, counted=[WRIST])], [person(0, counted=[WRIST])]]
    pred = [[person(0)], []]
    subset, _ = evaluate(gt, pred)
    assert subset.num_gt[WRIST] == 2
    assert subset.joint_recall[WRIST] == 50.0 and subset.joint_ap[WRIST] == 50.0
    # a prediction matched to nobody (far from everyone) is left out, not a false positive
    subset_extra, full_extra = evaluate(gt, [[person(0, score=0.5), person(5000, score=0.9, head=False)], []])
    assert subset_extra.joint_ap[WRIST] == 50.0
    assert full_extra.joint_ap[WRIST] < 50.0  # the PoseTrack AP counts it as a false positive


def test_counted_flags_follow_ignore_regions():
    gt_person = person(0, counted=[WRIST, KNEE])
    region = np.array([[0.0, 0.0], [25.0, 0.0], [25.0, 200.0], [0.0, 200.0]])  # covers joints at x=0, 10, 20
    gt = {'v': [PoseTrackFrame('0.jpg', people=[gt_person], ignore_regions=[region])]}
    pred = {'v': [PoseTrackFrame('0.jpg', people=[person(0)])]}
    subset = evaluate_joint_subset_ap(gt, pred)
    # the knee (joint 1, x=10) lies in the region and is no longer counted; the wrist (x=110) still is
    assert subset.num_gt[KNEE] == 0 and subset.num_gt[WRIST] == 1 and subset.num_gt.sum() == 1
    assert subset.joint_ap[WRIST] == 100.0


def test_without_counted_flags_every_joint_counts():
    subset, full = evaluate([[person(0, counted=None)]], [[person(0)]])
    np.testing.assert_array_equal(subset.num_gt, full.num_gt)
    assert subset.parts['Total'] == full.parts['Total'] == 100.0


def test_duplicates_of_a_person_are_false_positives_as_in_poseval():
    # a wrong-wrist duplicate (score 0.9) next to the matched, right prediction (0.8): FP then TP -> AP 50, as
    # poseval gives for the wrist; the duplicate cannot be dropped in favour of the right one
    gt = [[person(0, counted=[WRIST])]]
    pred = [[person(0, score=0.9, move={WRIST: (0, 100), KNEE: (0, 100)}), person(0, score=0.8)]]
    subset, full = evaluate(gt, pred)
    assert subset.joint_ap[WRIST] == 50.0 == full.joint_ap[WRIST]
    assert subset.joint_precision[WRIST] == 50.0 and subset.joint_recall[WRIST] == 100.0


def test_a_counted_joint_the_matched_prediction_lacks_is_a_miss():
    lacking = person(0)
    keep = lacking.joint_ids != WRIST
    lacking = PoseTrackPerson(lacking.joint_ids[keep], lacking.coords[keep], lacking.scores[keep], lacking.head_box)
    subset, _ = evaluate([[person(0, counted=[WRIST, KNEE])]], [[lacking]])
    assert subset.num_gt[WRIST] == 1 and subset.joint_ap[WRIST] == 0.0
    assert subset.joint_ap[KNEE] == 100.0


def test_joints_the_ground_truth_does_not_annotate_are_left_out():
    # the ground truth lacks the knee; the prediction has one (poseval: a false positive of the knee)
    gt_person = person(0, counted=None)
    keep = gt_person.joint_ids != KNEE
    gt_person = PoseTrackPerson(gt_person.joint_ids[keep], gt_person.coords[keep], gt_person.scores[keep],
                                gt_person.head_box)
    subset, full = evaluate([[gt_person], [person(0, counted=None)]], [[person(0, score=0.9)], [person(0, score=0.5)]])
    assert subset.num_gt[KNEE] == 1 and subset.joint_ap[KNEE] == 100.0
    assert full.joint_ap[KNEE] == 50.0
