# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
from .loading import LoadVideoFrames

__all__ = ['LoadVideoFrames']
