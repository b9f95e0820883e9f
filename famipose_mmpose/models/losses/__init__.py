# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
from .vsd_mi_loss import (VSDMILoss, released_kl_div_term,
                          spatial_kl_divergence, spatial_log_softmax)

__all__ = [
    'VSDMILoss', 'spatial_kl_divergence', 'spatial_log_softmax',
    'released_kl_div_term'
]
