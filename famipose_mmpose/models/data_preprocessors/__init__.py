# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
from .video_data_preprocessor import VideoPoseDataPreprocessor

__all__ = ['VideoPoseDataPreprocessor']
