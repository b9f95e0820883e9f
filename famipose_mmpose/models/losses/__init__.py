# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
from .vsd_mi_loss import MIInputs, VSDMILoss, WeightedTerm, spatial_kl_divergence, spatial_log_softmax

__all__ = [
    'VSDMILoss', 'MIInputs', 'WeightedTerm', 'spatial_kl_divergence',
    'spatial_log_softmax'
]
