# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Articulated stick-and-volume figures with the 17 PoseTrack joints.

A figure is a small 3D skeleton (a body shape plus joint angles) that is
projected orthographically onto the image plane. Working in 3D keeps the
figures honest: turning a figure around swaps its left and right limbs on
screen, limbs foreshorten, and a limb behind the body is drawn behind it,
exactly the ambiguities a pose estimator meets in real video.

Body frame (units of the figure's standing height, floor to head top)::

    x: the figure's LEFT,  y: up,  z: the figure's forward direction

With ``yaw = 0`` the figure faces the camera, so its left side appears on the
right of the image. ``yaw = +pi/2`` makes it face the image's right border.
Image coordinates are ``u = x``, ``v = -y`` (scaled and translated by the
scene), and ``z`` is the depth towards the camera (bigger is closer).

Motion cycles (``walk``, ``wave``, ``jump``, ``turn``) map a cycle phase in
[0, 1) to joint angles; a per-person :class:`MotionStyle` sets amplitudes and
adds a slow "wobble" so that two figures never move identically.
"""
import math
from dataclasses import dataclass, field
from typing import Dict, Tuple

import numpy as np

JOINT_NAMES: Tuple[str, ...] = (
    'nose', 'head_bottom', 'head_top', 'left_ear', 'right_ear',
    'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow',
    'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee',
    'right_knee', 'left_ankle', 'right_ankle')
NUM_JOINTS = len(JOINT_NAMES)
# PoseTrack never annotates the ears: they are written with visibility 0.
UNANNOTATED_JOINTS: Tuple[int, ...] = (3, 4)

# Extra points of the figure used for drawing (indices after the 17 joints).
HEAD_CENTER = 17
PELVIS = 18
CHEST = 19
LEFT_TOE = 20
RIGHT_TOE = 21
NUM_POINTS = 22

MOTIONS: Tuple[str, ...] = ('walk', 'wave', 'jump', 'turn')

# Side indices of the per-side angle arrays and their sign along body x.
LEFT, RIGHT = 0, 1
_SIDE_SIGN = (1.0, -1.0)


@dataclass(frozen=True)
class BodyShape:
    """Proportions of one figure, in units of its standing height.

    Args:
        shoulder_half_width (float): Half distance between the shoulders.
            Defaults to 0.115.
        hip_half_width (float): Half distance between the hip joints.
            Defaults to 0.08.
        upper_arm (float): Shoulder to elbow. Defaults to 0.17.
        forearm (float): Elbow to wrist. Defaults to 0.15.
        thigh (float): Hip to knee. Defaults to 0.245.
        shin (float): Knee to ankle. Defaults to 0.245.
        ankle_height (float): Ankle above the floor. Defaults to 0.04.
        torso (float): Hip line to head_bottom (the neck). Defaults to 0.325.
        shoulder_drop (float): How far the shoulder line lies below the neck.
            Defaults to 0.045.
        head_length (float): head_bottom to head_top. Defaults to 0.145.
        upper_arm_width (float): Drawn width of the upper arm.
            Defaults to 0.05.
        forearm_width (float): Drawn width of the forearm. Defaults to 0.042.
        thigh_width (float): Drawn width of the thigh. Defaults to 0.075.
        shin_width (float): Drawn width of the shin. Defaults to 0.058.
        torso_depth (float): Drawn thickness of the torso seen from the side.
            Defaults to 0.12.
        foot_length (float): Ankle to toe. Defaults to 0.07.
    """
    shoulder_half_width: float = 0.115
    hip_half_width: float = 0.08
    upper_arm: float = 0.17
    forearm: float = 0.15
    thigh: float = 0.245
    shin: float = 0.245
    ankle_height: float = 0.04
    torso: float = 0.325
    shoulder_drop: float = 0.045
    head_length: float = 0.145
    upper_arm_width: float = 0.05
    forearm_width: float = 0.042
    thigh_width: float = 0.075
    shin_width: float = 0.058
    torso_depth: float = 0.12
    foot_length: float = 0.07

    @property
    def head_radius(self) -> float:
        """Radius of the drawn head (half the head length)."""
        return 0.5 * self.head_length


def sample_body_shape(rng: np.random.Generator) -> BodyShape:
    """Draw a body shape: slim or broad, long or short limbs.

    Lengths are jittered by a few percent and widths by up to 30%, then all
    vertical lengths are rescaled so that the standing height stays 1.

    Args:
        rng (np.random.Generator): Random source.

    Returns:
        BodyShape: The sampled proportions.
    """
    base = BodyShape()
    build = rng.uniform(0.8, 1.3)  # slim .. broad, shared by all widths
    lengths = {
        name: getattr(base, name) * rng.uniform(0.94, 1.06)
        for name in ('upper_arm', 'forearm', 'thigh', 'shin', 'torso',
                     'head_length')
    }
    vertical = (base.ankle_height + lengths['thigh'] + lengths['shin'] +
                lengths['torso'] + lengths['head_length'])
    lengths = {name: value / vertical for name, value in lengths.items()}
    widths = {
        name: getattr(base, name) * build * rng.uniform(0.9, 1.1)
        for name in ('upper_arm_width', 'forearm_width', 'thigh_width',
                     'shin_width', 'torso_depth')
    }
    return BodyShape(
        shoulder_half_width=base.shoulder_half_width * rng.uniform(
            0.85, 1.15) * math.sqrt(build),
        hip_half_width=base.hip_half_width * rng.uniform(0.85, 1.15),
        ankle_height=base.ankle_height / vertical,
        shoulder_drop=base.shoulder_drop,
        foot_length=base.foot_length,
        **lengths,
        **widths)


@dataclass
class Pose:
    """Joint angles of a figure (radians) at one instant.

    Per-side arrays hold ``[left, right]``. A limb direction is given by a
    flexion angle (rotation forward, about the body's x axis) and an
    abduction angle (rotation outwards, away from the body's mid-plane); both
    zero means the limb hangs straight down. Forearm and shin angles are
    absolute (not relative to the upper segment).

    Args:
        lean (float): Forward lean of the torso. Defaults to 0.
        twist (float): Rotation of the shoulder line about the vertical.
            Defaults to 0.
        head_turn (float): Head rotation about the vertical, relative to the
            body. Defaults to 0.
        head_nod (float): Forward tilt of the head. Defaults to 0.
        lift (float): Height of the feet above the floor (jumps), in
            standing heights. Defaults to 0.
        shoulder_flex, shoulder_abd, forearm_flex, forearm_abd, hip_flex,
        hip_abd, shin_flex (np.ndarray): Per-side angles, shape (2,).
            Default to zeros.
    """
    lean: float = 0.0
    twist: float = 0.0
    head_turn: float = 0.0
    head_nod: float = 0.0
    lift: float = 0.0
    shoulder_flex: np.ndarray = field(default_factory=lambda: np.zeros(2))
    shoulder_abd: np.ndarray = field(default_factory=lambda: np.zeros(2))
    forearm_flex: np.ndarray = field(default_factory=lambda: np.zeros(2))
    forearm_abd: np.ndarray = field(default_factory=lambda: np.zeros(2))
    hip_flex: np.ndarray = field(default_factory=lambda: np.zeros(2))
    hip_abd: np.ndarray = field(default_factory=lambda: np.zeros(2))
    shin_flex: np.ndarray = field(default_factory=lambda: np.zeros(2))


# Pose fields that receive the slow per-person wobble, with its amplitude.
_WOBBLE_FIELDS: Dict[str, float] = {
    'lean': 0.03,
    'twist': 0.05,
    'head_turn': 0.15,
    'head_nod': 0.05,
    'shoulder_flex': 0.08,
    'shoulder_abd': 0.06,
    'forearm_flex': 0.1,
    'forearm_abd': 0.06,
    'hip_flex': 0.04,
    'hip_abd': 0.02,
}


@dataclass
class MotionStyle:
    """How one person performs its motion cycle.

    Args:
        amplitude (float): Scale of the main swing (1 = typical).
        arm_amplitude (float): Scale of arm swings.
        wave_sides (Tuple[int, ...]): Arms that wave (``wave`` only):
            ``(0,)`` left, ``(1,)`` right or ``(0, 1)`` both.
        jump_height (float): Peak lift of a jump in standing heights.
        elbow_bend (float): Resting elbow flexion.
        wobble_freq (Dict[str, np.ndarray]): Per pose field, 2 frequencies
            (cycles per frame) of the slow wobble.
        wobble_phase (Dict[str, np.ndarray]): Per pose field, phases of the
            wobble, shape (2, 2) (two sinusoids x two sides).
    """
    amplitude: float
    arm_amplitude: float
    wave_sides: Tuple[int, ...]
    jump_height: float
    elbow_bend: float
    wobble_freq: Dict[str, np.ndarray]
    wobble_phase: Dict[str, np.ndarray]


def sample_motion_style(rng: np.random.Generator) -> MotionStyle:
    """Draw the amplitudes and the wobble of one person's motion.

    Args:
        rng (np.random.Generator): Random source.

    Returns:
        MotionStyle: The sampled style.
    """
    sides = ((LEFT, ), (RIGHT, ), (LEFT, RIGHT))[int(rng.integers(3))]
    return MotionStyle(
        amplitude=float(rng.uniform(0.8, 1.2)),
        arm_amplitude=float(rng.uniform(0.6, 1.4)),
        wave_sides=sides,
        jump_height=float(rng.uniform(0.12, 0.25)),
        elbow_bend=float(rng.uniform(0.15, 0.5)),
        wobble_freq={
            name: rng.uniform(0.01, 0.06, size=2)
            for name in _WOBBLE_FIELDS
        },
        wobble_phase={
            name: rng.uniform(0, 2 * math.pi, size=(2, 2))
            for name in _WOBBLE_FIELDS
        })


def _bump(phase: float, center: float, width: float) -> float:
    """A periodic Gaussian bump on the unit cycle."""
    d = (phase - center + 0.5) % 1.0 - 0.5
    return math.exp(-0.5 * (d / width)**2)


def _walk(a: float, style: MotionStyle) -> Pose:
    amp = 0.45 * style.amplitude
    swing = np.array([math.sin(a), -math.sin(a)])
    # The knee bends most in mid-swing, when the leg moves forward.
    knee = 0.1 + 0.85 * style.amplitude * np.maximum(
        0.0, np.array([math.cos(a), -math.cos(a)]))
    hip_flex = amp * swing
    arm = -0.4 * style.arm_amplitude * swing
    elbow = style.elbow_bend + 0.35 * np.maximum(0.0, arm)
    return Pose(
        lean=0.06,
        twist=0.12 * style.arm_amplitude * math.sin(a),
        shoulder_flex=arm,
        shoulder_abd=np.full(2, 0.1),
        forearm_flex=arm + elbow,
        forearm_abd=np.full(2, 0.1),
        hip_flex=hip_flex,
        hip_abd=np.full(2, 0.03),
        shin_flex=hip_flex - knee)


def _wave(a: float, style: MotionStyle) -> Pose:
    pose = Pose(
        twist=0.08 * math.sin(a),
        shoulder_flex=np.full(2, 0.05) + 0.05 * math.sin(a),
        shoulder_abd=np.full(2, 0.12),
        forearm_flex=np.full(2, 0.05 + style.elbow_bend),
        forearm_abd=np.full(2, 0.1),
        hip_flex=np.full(2, 0.02),
        hip_abd=np.full(2, 0.07),
        shin_flex=np.full(2, 0.0))
    for k, side in enumerate(style.wave_sides):
        # Two waving arms move in anti-phase.
        s = math.sin(a + math.pi * k)
        pose.shoulder_abd[side] = 1.6 + 0.12 * s
        pose.shoulder_flex[side] = 0.25
        pose.forearm_abd[side] = 2.7 + 0.45 * style.arm_amplitude * s
        pose.forearm_flex[side] = 0.3
    return pose


def _jump(phase: float, style: MotionStyle) -> Pose:
    # Crouch, take off (arms swing up), fly, land in a crouch, stand up.
    crouch = _bump(phase, 0.15, 0.1) + _bump(phase, 0.82, 0.08)
    air = 0.0
    if 0.35 <= phase <= 0.7:
        air = math.sin(math.pi * (phase - 0.35) / 0.35)
    raise_arms = _bump(phase, 0.5, 0.16)
    hip_flex = 0.9 * crouch + 0.3 * air
    knee = 1.6 * crouch + 0.5 * air
    arm = -0.6 * crouch + 1.8 * min(style.arm_amplitude, 1.2) * raise_arms
    return Pose(
        lean=0.4 * crouch,
        shoulder_flex=np.full(2, arm),
        shoulder_abd=np.full(2, 0.1 + 0.3 * raise_arms),
        forearm_flex=np.full(2, arm + style.elbow_bend),
        forearm_abd=np.full(2, 0.1 + 0.2 * raise_arms),
        hip_flex=np.full(2, hip_flex),
        hip_abd=np.full(2, 0.05),
        shin_flex=np.full(2, hip_flex - knee),
        lift=style.jump_height * air)


def _turn(a: float, style: MotionStyle) -> Pose:
    # Small steps on the spot while the scene rotates the whole figure.
    step = 0.3 * style.amplitude * np.maximum(
        0.0, np.array([math.sin(a), -math.sin(a)]))
    arm = 0.15 * style.arm_amplitude * np.array([math.sin(a), -math.sin(a)])
    return Pose(
        head_turn=0.25,
        shoulder_flex=arm,
        shoulder_abd=np.full(2, 0.2),
        forearm_flex=arm + 0.4 + style.elbow_bend,
        forearm_abd=np.full(2, 0.15),
        hip_flex=step,
        hip_abd=np.full(2, 0.05),
        shin_flex=step - 2.0 * step)


def motion_pose(motion: str, phase: float, frame: float,
                style: MotionStyle) -> Pose:
    """Joint angles of a motion cycle at a phase, plus the person's wobble.

    Args:
        motion (str): One of :data:`MOTIONS`.
        phase (float): Cycle phase; only its fractional part matters.
        frame (float): Frame time, drives the slow wobble.
        style (MotionStyle): The person's style.

    Returns:
        Pose: The joint angles.
    """
    phase = phase % 1.0
    a = 2 * math.pi * phase
    if motion == 'walk':
        pose = _walk(a, style)
    elif motion == 'wave':
        pose = _wave(a, style)
    elif motion == 'jump':
        pose = _jump(phase, style)
    elif motion == 'turn':
        pose = _turn(a, style)
    else:
        raise ValueError(f'Unknown motion {motion!r}: use one of {MOTIONS}.')
    for name, amp in _WOBBLE_FIELDS.items():
        freq = style.wobble_freq[name]
        ph = style.wobble_phase[name]
        # Two incommensurate sinusoids per side give a smooth random drift.
        wob = amp * 0.5 * (
            np.sin(2 * math.pi * freq[0] * frame + ph[0]) +
            np.sin(2 * math.pi * freq[1] * frame + ph[1]))
        value = getattr(pose, name)
        if isinstance(value, np.ndarray):
            setattr(pose, name, value + wob)
        else:
            setattr(pose, name, value + float(wob[0]))
    return pose


def _limb_dir(flex: float, abd: float, side_sign: float) -> np.ndarray:
    """Unit direction of a limb from its flexion and abduction angles."""
    return np.array([
        side_sign * math.sin(abd), -math.cos(abd) * math.cos(flex),
        math.cos(abd) * math.sin(flex)
    ])


def forward_kinematics(shape: BodyShape, pose: Pose,
                       yaw: float) -> Tuple[np.ndarray, np.ndarray]:
    """3D points of a figure standing on the floor at the origin.

    Args:
        shape (BodyShape): The body proportions.
        pose (Pose): The joint angles.
        yaw (float): Rotation of the whole body about the vertical axis
            (0 faces the camera, +pi/2 faces the image's right border).

    Returns:
        tuple:
        - points (np.ndarray): Shape (22, 3): the 17 PoseTrack joints then
          head centre, pelvis, chest (shoulder centre), left toe, right toe;
          x right on screen, y up, z towards the camera; the lower foot
          touches y = 0 unless the figure is lifted.
        - head_forward (np.ndarray): Shape (3,), unit facing direction of
          the head in the same frame.
    """
    pts = np.zeros((NUM_POINTS, 3))
    # Legs first, relative to the hip joints, to put the feet on the floor.
    hip_offsets = []
    leg_drop = []
    for side in (LEFT, RIGHT):
        sign = _SIDE_SIGN[side]
        thigh = _limb_dir(pose.hip_flex[side], pose.hip_abd[side], sign)
        shin = _limb_dir(pose.shin_flex[side], pose.hip_abd[side], sign)
        knee = thigh * shape.thigh
        ankle = knee + shin * shape.shin
        hip_offsets.append((knee, ankle))
        leg_drop.append(-ankle[1])
    pelvis = np.array(
        [0.0, shape.ankle_height + max(leg_drop) + pose.lift, 0.0])
    pts[PELVIS] = pelvis
    for side in (LEFT, RIGHT):
        sign = _SIDE_SIGN[side]
        hip = pelvis + np.array([sign * shape.hip_half_width, 0.0, 0.0])
        knee, ankle = hip_offsets[side]
        pts[11 + side] = hip
        pts[13 + side] = hip + knee
        pts[15 + side] = hip + ankle
        pts[LEFT_TOE + side] = hip + ankle + np.array(
            [0.0, -0.6 * shape.ankle_height, shape.foot_length])

    spine = np.array([0.0, math.cos(pose.lean), math.sin(pose.lean)])
    neck = pelvis + spine * shape.torso
    chest = pelvis + spine * (shape.torso - shape.shoulder_drop)
    pts[1] = neck
    pts[CHEST] = chest
    head_dir = np.array([
        0.0, math.cos(pose.lean + pose.head_nod),
        math.sin(pose.lean + pose.head_nod)
    ])
    radius = shape.head_radius
    pts[HEAD_CENTER] = neck + head_dir * radius
    pts[2] = neck + head_dir * shape.head_length
    forward = np.array(
        [math.sin(pose.head_turn), 0.0,
         math.cos(pose.head_turn)])
    ear_axis = np.array(
        [math.cos(pose.head_turn), 0.0, -math.sin(pose.head_turn)])
    pts[0] = pts[HEAD_CENTER] + forward * radius * 0.95 + np.array(
        [0.0, -0.15 * radius, 0.0])
    pts[3] = pts[HEAD_CENTER] + ear_axis * radius
    pts[4] = pts[HEAD_CENTER] - ear_axis * radius

    shoulder_axis = np.array(
        [math.cos(pose.twist), 0.0, -math.sin(pose.twist)])
    for side in (LEFT, RIGHT):
        sign = _SIDE_SIGN[side]
        shoulder = chest + sign * shoulder_axis * shape.shoulder_half_width
        upper = _limb_dir(pose.shoulder_flex[side], pose.shoulder_abd[side],
                          sign)
        lower = _limb_dir(pose.forearm_flex[side], pose.forearm_abd[side],
                          sign)
        pts[5 + side] = shoulder
        pts[7 + side] = shoulder + upper * shape.upper_arm
        pts[9 + side] = pts[7 + side] + lower * shape.forearm

    # Rotate the whole body about the vertical axis through the pelvis.
    cos_y, sin_y = math.cos(yaw), math.sin(yaw)
    rot = np.array([[cos_y, 0.0, sin_y], [0.0, 1.0, 0.0],
                    [-sin_y, 0.0, cos_y]])
    pts = pts @ rot.T
    return pts, rot @ forward
