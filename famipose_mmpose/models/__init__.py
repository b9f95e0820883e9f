# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
from .data_preprocessors import VideoPoseDataPreprocessor
from .losses import VSDMILoss
from .necks import FeatureAggregation, GlobalTransformationModule, LocalCalibrationModule
from .pose_estimators import FAMIPose, VideoFeatures
from .released import ConcatFeatureAggregation, ReleasedGTM, ReleasedLCM, ReleasedVSDMILoss

__all__ = [
    'VideoPoseDataPreprocessor', 'VSDMILoss', 'GlobalTransformationModule',
    'LocalCalibrationModule', 'FeatureAggregation', 'FAMIPose',
    'VideoFeatures', 'ReleasedGTM', 'ReleasedLCM', 'ConcatFeatureAggregation',
    'ReleasedVSDMILoss'
]
