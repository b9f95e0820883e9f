# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Aggregation of the key feature with the aligned supporting features."""
import torch
from mmengine.model import BaseModule
from mmpose.registry import MODELS
from mmpose.utils.typing import OptConfigType, OptMultiConfig
from torch import Tensor

from .basic_block_chain import build_basic_block_chain

_AGGREGATION_MODES = ('sum', 'concat')


@MODELS.register_module()
class FeatureAggregation(BaseModule):
    """Aggregate the key-frame feature and the aligned supporting features
    into the enhanced feature of `FAMI-Pose`_ (Liu et al., CVPR 2022).

    Modes:

    - ``'sum'`` (default, the paper): element-wise addition
      ``key + sum_m aligned[:, m]``; no parameters.
    - ``'concat'`` (the authors' released code): concatenate
      ``[key, aligned[:, 0], ..., aligned[:, M-1]]`` on channels and project
      ``num_inputs * C -> C`` with ``num_blocks`` ResNet BasicBlocks (the
      released model: 2 inputs, 3 blocks, 96 -> 48).

    Args:
        mode (str): ``'sum'`` or ``'concat'``. Defaults to ``'sum'``
        in_channels (int): Channels C of every input feature (``'concat'``
            only). Defaults to 48
        num_inputs (int): Number of features concatenated, key included
            (``'concat'`` only): 2 with the released LCM layout, N + 1 with
            the per-frame LCM. Defaults to 2
        num_blocks (int): BasicBlocks of the projection (``'concat'`` only).
            Defaults to 3
        norm_cfg (dict, optional): Norm config; ``None`` means
            ``dict(type='BN')``. Defaults to ``None``
        init_cfg (dict, optional): Initialisation config. Defaults to
            ``None``

    .. _`FAMI-Pose`: https://arxiv.org/abs/2203.15227
    """

    def __init__(self,
                 mode: str = 'sum',
                 in_channels: int = 48,
                 num_inputs: int = 2,
                 num_blocks: int = 3,
                 norm_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = None):
        super().__init__(init_cfg=init_cfg)
        if mode not in _AGGREGATION_MODES:
            raise ValueError(
                f'FeatureAggregation: unknown mode {mode!r} '
                f'(model.aggregation.mode); use one of {_AGGREGATION_MODES}.')
        self.mode = mode
        self.in_channels = in_channels
        self.num_inputs = num_inputs
        if mode == 'concat':
            self.blocks = build_basic_block_chain(
                num_inputs * in_channels,
                in_channels,
                num_blocks=num_blocks,
                norm_cfg=norm_cfg)

    def forward(self, key_feat: Tensor, aligned_feats: Tensor) -> Tensor:
        """Aggregate.

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
                'FeatureAggregation: expected aligned features (B, M, C, H, '
                f'W) matching the key feature {tuple(key_feat.shape)}, got '
                f'{tuple(aligned_feats.shape)}.')
        if self.mode == 'sum':
            return key_feat + aligned_feats.sum(dim=1)
        num_inputs = aligned_feats.shape[1] + 1
        if num_inputs != self.num_inputs:
            raise ValueError(
                f'FeatureAggregation (concat): built for num_inputs='
                f'{self.num_inputs} but got the key feature plus '
                f'{num_inputs - 1} aligned features; set '
                'model.aggregation.num_inputs to 2 with the released LCM '
                'layout or to 1 + number of supporting frames otherwise.')
        # [key, aligned_0, ..., aligned_{M-1}] on the channel axis
        return self.blocks(
            torch.cat([key_feat, aligned_feats.flatten(1, 2)], dim=1))
