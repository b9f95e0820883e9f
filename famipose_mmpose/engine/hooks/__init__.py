# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Hooks the FAMI-Pose configs enable through ``custom_hooks``."""
from .checkpoint_alias_hook import CheckpointAliasHook
from .exact_resume_hook import ExactResumeHook
from .frame_window_hook import FrameWindowCheckpointHook
from .loss_guard_hook import LossGuardHook, NonFiniteTrainingError

__all__ = [
    'CheckpointAliasHook', 'ExactResumeHook', 'FrameWindowCheckpointHook', 'LossGuardHook', 'NonFiniteTrainingError'
]
