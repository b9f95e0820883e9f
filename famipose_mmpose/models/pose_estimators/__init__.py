# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
from .famipose import FAMIPose, VideoFeatures

__all__ = ['FAMIPose', 'VideoFeatures']
