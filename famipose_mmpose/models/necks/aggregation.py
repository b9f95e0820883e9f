# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Aggregation of the key feature with the aligned supporting features."""
from mmengine.model import BaseModule
from mmpose.registry import MODELS
from mmpose.utils.typing import OptMultiConfig
from torch import Tensor


@MODELS.register_module()
class FeatureAggregation(BaseModule):
    """Aggregate the key-frame feature and the aligned supporting features
    into the enhanced feature of `FAMI-Pose`_ (Liu et al., CVPR 2022).

    As in the paper: element-wise addition ``key + sum_m aligned[:, m]``; no
    parameters. A variant overrides :meth:`aggregate` (see
    :class:`~famipose_mmpose.models.released.ConcatFeatureAggregation`, the
    authors' released concatenation).

    Args:
        init_cfg (dict, optional): Initialisation config. Defaults to
            ``None``

    .. _`FAMI-Pose`: https://arxiv.org/abs/2203.15227
    """

    def __init__(self, init_cfg: OptMultiConfig = None):
        super().__init__(init_cfg=init_cfg)

    def aggregate(self, key_feat: Tensor, aligned_feats: Tensor) -> Tensor:
        """Element-wise addition; arguments and result as in
        :meth:`forward`."""
        return key_feat + aligned_feats.sum(dim=1)

    def forward(self, key_feat: Tensor, aligned_feats: Tensor) -> Tensor:
        """Check the shapes and aggregate.

        Args:
            key_feat (Tensor): (B, C, H, W) key-frame feature.
            aligned_feats (Tensor): (B, M, C, H, W) aligned supporting
                features.

        Returns:
            Tensor: (B, C, H, W) enhanced feature.
        """
        if (aligned_feats.dim() != 5
                or aligned_feats.shape[2:] != key_feat.shape[1:]):
            raise ValueError(
                f'{type(self).__name__}: expected aligned features (B, M, C, '
                f'H, W) matching the key feature {tuple(key_feat.shape)}, got '
                f'{tuple(aligned_feats.shape)}.')
        return self.aggregate(key_feat, aligned_feats)
