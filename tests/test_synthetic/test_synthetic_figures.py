"""The person model: kinematics, motion cycles and what the renderer draws."""
import math

import numpy as np
import pytest

from famipose_mmpose.synthetic import (JOINT_NAMES, MOTIONS, BodyShape, Pose, forward_kinematics, make_config,
                                       motion_pose, render_frame, sample_scene)
from famipose_mmpose.synthetic.figures import sample_body_shape, sample_motion_style
from famipose_mmpose.synthetic.scene import MOTION_FREQ

BONES = {
    (5, 7): 'upper_arm',
    (6, 8): 'upper_arm',
    (7, 9): 'forearm',
    (8, 10): 'forearm',
    (11, 13): 'thigh',
    (12, 14): 'thigh',
    (13, 15): 'shin',
    (14, 16): 'shin',
    (1, 2): 'head_length',
}


def test_standing_figure_faces_the_camera():
    shape = BodyShape()
    pts, forward = forward_kinematics(shape, Pose(), yaw=0.0)
    assert pts.shape == (22, 3) and len(JOINT_NAMES) == 17
    # The figure's left side is on the image's right when it faces us.
    assert pts[JOINT_NAMES.index('left_shoulder'), 0] > 0
    assert pts[JOINT_NAMES.index('right_shoulder'), 0] < 0
    assert pts[JOINT_NAMES.index('nose'), 2] > 0
    assert forward == pytest.approx([0, 0, 1])
    assert pts[15, 1] == pytest.approx(shape.ankle_height)
    assert pts[2, 1] == pytest.approx(1.0)
    # Turned around, left and right swap on screen.
    back, _ = forward_kinematics(shape, Pose(), yaw=math.pi)
    assert back[5, 0] < 0 < back[6, 0]


@pytest.mark.parametrize('motion', MOTIONS)
def test_motion_cycles_keep_bones_and_feet(motion):
    rng = np.random.default_rng(0)
    shape = sample_body_shape(rng)
    style = sample_motion_style(rng)
    # The fastest cycle the scenes use, and a fast turn.
    freq = max(MOTION_FREQ[motion])
    previous = None
    for t in range(60):
        pose = motion_pose(motion, freq * t, t, style)
        pts, _ = forward_kinematics(shape, pose, yaw=0.14 * t)
        for (a, b), name in BONES.items():
            assert np.linalg.norm(pts[a] - pts[b]) == pytest.approx(
                getattr(shape, name))
        lowest = min(pts[15, 1], pts[16, 1])
        assert lowest == pytest.approx(shape.ankle_height + pose.lift)
        if previous is not None:
            # Smooth motion: no joint moves a quarter height in one frame.
            assert np.abs(pts[:17] - previous[:17]).max() < 0.25
        previous = pts
    with pytest.raises(ValueError, match='motion'):
        motion_pose('dance', 0.0, 0, style)


def test_jump_leaves_the_floor():
    style = sample_motion_style(np.random.default_rng(1))
    lifts = [motion_pose('jump', p / 20, 0, style).lift for p in range(20)]
    assert max(lifts) > 0.1 and min(lifts) == 0.0


def test_rendered_joints_follow_the_people():
    cfg = make_config(
        'tiny', occlusion_rate=0.0, crowd_rate=0.0, blur_rate=0.0)
    scene = sample_scene(np.random.default_rng(7), cfg, num_people=1)
    frame = render_frame(scene, 0, np.random.default_rng(0))
    person = frame.people[0]
    assert person.in_frame.sum() >= 10
    assert person.visible_fraction == 1.0
    assert not person.occluded_by_object.any()
    assert not person.occluded_by_person.any()
    x1, y1, x2, y2 = person.body_box
    inside = person.joints[person.in_frame]
    # Joints lie in the drawn silhouette's box (head top on its border).
    assert ((inside[:, 0] >= x1 - 1) & (inside[:, 0] <= x2 + 1)).all()
    assert ((inside[:, 1] >= y1 - 1) & (inside[:, 1] <= y2 + 1)).all()
    # The same frame without the person (same noise) differs at the joints.
    scene.people = []
    empty = render_frame(scene, 0, np.random.default_rng(0))
    diff = np.abs(frame.image.astype(int) - empty.image.astype(int)).sum(2)
    cols = np.clip(np.round(inside[:, 0]).astype(int), 0, cfg.image_width - 1)
    rows = np.clip(
        np.round(inside[:, 1]).astype(int), 0, cfg.image_height - 1)
    assert np.mean(diff[rows, cols] > 0) > 0.8
    assert diff[:, :max(0, int(x1) - 2)].sum() == 0
