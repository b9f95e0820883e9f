# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""The authors' released feature aggregation: concatenation + BasicBlocks."""
import torch
from mmpose.models.backbones.resnet import BasicBlock, ResLayer
from mmpose.registry import MODELS
from mmpose.utils.typing import OptConfigType, OptMultiConfig
from torch import Tensor

from ..necks.aggregation import FeatureAggregation


@MODELS.register_module()
class ConcatFeatureAggregation(FeatureAggregation):
    """The aggregation of the authors' released FAMI-Pose code: concatenate
    ``[key, aligned[:, 0], ..., aligned[:, M-1]]`` on channels and project
    ``num_inputs * C -> C`` with ``num_blocks`` ResNet BasicBlocks (the
    released model: 2 inputs, 3 blocks, 96 -> 48). The paper's aggregation,
    :class:`~famipose_mmpose.models.necks.FeatureAggregation`, adds them.

    Args:
        in_channels (int): Channels C of every input feature. Defaults to 48
        num_inputs (int): Number of features concatenated, key included: 2
            with :class:`~famipose_mmpose.models.released.ReleasedLCM` (one
            calibrated feature), N + 1 with the paper's per-frame LCM.
            Defaults to 2
        num_blocks (int): BasicBlocks of the projection. Defaults to 3
        norm_cfg (dict, optional): Norm config; ``None`` means
            ``dict(type='BN')``. Defaults to ``None``
        init_cfg (dict, optional): Initialisation config. Defaults to
            ``None``
    """

    def __init__(self,
                 in_channels: int = 48,
                 num_inputs: int = 2,
                 num_blocks: int = 3,
                 norm_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = None):
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.num_inputs = num_inputs
        # num_blocks BasicBlocks, num_inputs * C -> C
        self.blocks = ResLayer(
            BasicBlock, num_blocks, num_inputs * in_channels, in_channels,
            norm_cfg=norm_cfg if norm_cfg is not None else dict(type='BN'))

    def aggregate(self, key_feat: Tensor, aligned_feats: Tensor) -> Tensor:
        """Concatenate and project; arguments and result as in
        :meth:`forward`, with ``M + 1 == num_inputs``."""
        num_inputs = aligned_feats.shape[1] + 1
        if num_inputs != self.num_inputs:
            raise ValueError(
                f'ConcatFeatureAggregation: built for num_inputs='
                f'{self.num_inputs} but got the key feature plus '
                f'{num_inputs - 1} aligned features; set '
                'model.aggregation.num_inputs to 2 with the released LCM '
                'layout or to 1 + number of supporting frames otherwise.')
        # [key, aligned_0, ..., aligned_{M-1}] on the channel axis
        return self.blocks(
            torch.cat([key_feat, aligned_feats.flatten(1, 2)], dim=1))
