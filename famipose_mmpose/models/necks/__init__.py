# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
from .aggregation import FeatureAggregation
from .gtm import GlobalTransformationModule
from .lcm import LocalCalibrationModule

__all__ = [
    'GlobalTransformationModule', 'LocalCalibrationModule',
    'FeatureAggregation'
]
