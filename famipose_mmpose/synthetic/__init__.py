# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Synthetic occluded-video pose data in PoseTrack18 format.

PoseTrack cannot be downloaded everywhere; this subpackage draws a small
stand-in with the cases where single-frame pose estimators fail (occluders
passing in front of people, people overlapping, motion blur, truncation) and
writes it exactly as mmpose's PoseTrack18 readers expect. Only numpy and
OpenCV are used.

Example::

    from famipose_mmpose.synthetic import generate_dataset
    summary = generate_dataset('data/synthetic_posetrack', preset='demo',
                               seed=0)

or ``python tools/generate_synthetic_posetrack.py data/synthetic_posetrack
--preset demo --seed 0``.
"""
from .config import PRESETS, SyntheticConfig, make_config
from .detections import box_iou, simulate_detections
from .figures import JOINT_NAMES, MOTIONS, BodyShape, MotionStyle, Pose, forward_kinematics, motion_pose
from .generator import MARKER_FILE, generate_dataset
from .render import FrameRender, PersonFrame, motion_blur, render_frame
from .scene import VideoScene, sample_scene
from .writer import image_id, video_name

__all__ = [
    'generate_dataset', 'SyntheticConfig', 'make_config', 'PRESETS',
    'MARKER_FILE', 'JOINT_NAMES', 'MOTIONS', 'BodyShape', 'MotionStyle',
    'Pose', 'forward_kinematics', 'motion_pose', 'VideoScene',
    'sample_scene', 'FrameRender', 'PersonFrame', 'render_frame',
    'motion_blur', 'simulate_detections', 'box_iou', 'image_id', 'video_name'
]
