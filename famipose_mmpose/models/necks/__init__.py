# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
from .aggregation import FeatureAggregation
from .basic_block_chain import build_basic_block_chain
from .gtm import GlobalTransformationModule
from .lcm import LocalCalibrationModule

__all__ = [
    'GlobalTransformationModule', 'LocalCalibrationModule',
    'FeatureAggregation', 'build_basic_block_chain'
]
