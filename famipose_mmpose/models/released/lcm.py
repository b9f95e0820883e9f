# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""The authors' released Local Calibration Module: fuse first, then four
deformable convolutions."""
from typing import Tuple

import torch
from mmpose.models.backbones.resnet import BasicBlock, ResLayer
from mmpose.registry import MODELS
from mmpose.utils.typing import OptConfigType, OptMultiConfig
from torch import Tensor

from ..necks.lcm import LocalCalibrationModule

# number of deformable convolutions in the authors' released layout
_RELEASED_NUM_LAYERS = 4


@MODELS.register_module()
class ReleasedLCM(LocalCalibrationModule):
    """The LCM of the authors' released FAMI-Pose code (``Alignment_V15``).

    Unlike the paper's per-frame
    :class:`~famipose_mmpose.models.necks.LocalCalibrationModule`, the N
    coarsely aligned supporting features are concatenated and fused FIRST by
    ``num_fuse_blocks`` BasicBlocks (N*C -> C), giving ``fused``;
    ``combined`` = one BasicBlock on ``[fused, key]`` (2C -> C). Then four
    deformable convs, each with offsets and masks from plain dilated 3x3
    convs on a single C-channel feature: ``h1 = dcn1(combined)`` and
    ``h2 = dcn2(h1)`` (offsets from their own input), ``a = dcn3(fused)``
    with offsets from ``h2``, ``out = dcn4(a)`` with offsets from ``a``.
    Masks are used RAW (no sigmoid) by default and there is no nonlinearity
    between the convolutions.

    The module returns ONE calibrated feature per sample, ``(B, 1, C, H,
    W)``, and as its source the fused feature (what the released MI loss
    regularises), so the aggregation sees the key feature plus one feature
    (:class:`~famipose_mmpose.models.released.ConcatFeatureAggregation` with
    ``num_inputs=2``).

    Initialisation as for the paper's LCM: zero offsets, raw masks 1.0 (the
    released code initialises its predictors to near-zero weights and zero
    bias, i.e. raw masks near 0).

    Args:
        in_channels (int): Channels C of the features. Defaults to 48
        kernel_size (int): Kernel size of the deformable convs and their
            predictors. Defaults to 3
        dilation (int): Dilation of the deformable convs and of the offset /
            mask predictors. Defaults to 3
        deform_groups (int): Offset groups; must divide ``in_channels``.
            Defaults to 12
        mask_activation (str): ``'none'`` (raw masks, as released) or
            ``'sigmoid'``. Defaults to ``'none'``
        num_supporting (int): Number N of supporting frames (the fusion
            block has N*C input channels). Defaults to 4
        num_fuse_blocks (int): BasicBlocks of the fusion block. Defaults to 2
        check_finite (bool): Check offsets and masks for NaN/Inf.
            Defaults to ``True``
        norm_cfg (dict, optional): Norm config of the BasicBlocks; ``None``
            means ``dict(type='BN')``. Defaults to ``None``
        dcn_impl (str): ``'auto'``, ``'mmcv'`` or ``'sampling'`` (see the
            paper's LCM). Defaults to ``'auto'``
        init_cfg (dict, optional): Initialisation config; the predictor
            initialisation is applied after it. Defaults to ``None``
    """

    num_guide_feats = 1

    def __init__(self,
                 in_channels: int = 48,
                 kernel_size: int = 3,
                 dilation: int = 3,
                 deform_groups: int = 12,
                 mask_activation: str = 'none',
                 num_supporting: int = 4,
                 num_fuse_blocks: int = 2,
                 check_finite: bool = True,
                 norm_cfg: OptConfigType = None,
                 dcn_impl: str = 'auto',
                 init_cfg: OptMultiConfig = None):
        super().__init__(
            in_channels=in_channels,
            num_layers=_RELEASED_NUM_LAYERS,
            kernel_size=kernel_size,
            dilation=dilation,
            deform_groups=deform_groups,
            mask_activation=mask_activation,
            check_finite=check_finite,
            dcn_impl=dcn_impl,
            init_cfg=init_cfg)
        if norm_cfg is None:
            norm_cfg = dict(type='BN')
        self.num_supporting = num_supporting
        # BasicBlocks: num_fuse_blocks x (N * C -> C), then 1 x (2C -> C)
        self.fuse_block = ResLayer(
            BasicBlock, num_fuse_blocks, num_supporting * in_channels,
            in_channels, norm_cfg=norm_cfg)
        self.combine_block = ResLayer(
            BasicBlock, 1, 2 * in_channels, in_channels, norm_cfg=norm_cfg)

    def calibrate(self, key_feat: Tensor,
                  sup_feats: Tensor) -> Tuple[Tensor, Tensor]:
        """Fuse the supporting frames, then calibrate the fused feature;
        arguments and results as in :meth:`forward`, with
        ``N == num_supporting``, M = 1 and ``source`` = the fused feature."""
        num_sup = sup_feats.shape[1]
        if num_sup != self.num_supporting:
            raise ValueError(
                f'ReleasedLCM: built for num_supporting={self.num_supporting}'
                f' frames but got {num_sup}; set model.lcm.num_supporting to '
                'the number of supporting frames (len(frame_offsets) of the '
                'dataset).')
        fused = self.fuse_block(sup_feats.flatten(1, 2))
        combined = self.combine_block(torch.cat([fused, key_feat], dim=1))
        hidden = self._deform(0, combined, combined)
        hidden = self._deform(1, hidden, hidden)
        aligned = self._deform(2, fused, hidden)
        aligned = self._deform(3, aligned, aligned)
        return aligned.unsqueeze(1), fused.unsqueeze(1)
