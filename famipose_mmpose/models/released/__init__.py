# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""The authors' released-code variants of the FAMI-Pose components.

The paper's components live in :mod:`famipose_mmpose.models.necks` and
:mod:`famipose_mmpose.models.losses`; each class here subclasses one of them
and overrides what the authors' released code (``Alignment_V15``) does
differently. ``configs/famipose/released/`` assembles them into the released
recipe.
"""
from .aggregation import ConcatFeatureAggregation
from .gtm import ReleasedGTM
from .lcm import ReleasedLCM
from .legacy_config import upgrade_legacy_cfg
from .vsd_mi_loss import ReleasedVSDMILoss, released_kl_div_term

__all__ = [
    'ReleasedGTM', 'ReleasedLCM', 'ConcatFeatureAggregation',
    'ReleasedVSDMILoss', 'released_kl_div_term', 'upgrade_legacy_cfg'
]
