# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Training-loop components (hooks) registered into mmpose's registries."""
from .hooks import (CheckpointAliasHook, ExactResumeHook, FrameWindowCheckpointHook, LossGuardHook,
                    NonFiniteTrainingError)

__all__ = [
    'CheckpointAliasHook', 'ExactResumeHook', 'FrameWindowCheckpointHook', 'LossGuardHook', 'NonFiniteTrainingError'
]
