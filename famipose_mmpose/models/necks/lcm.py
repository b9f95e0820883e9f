# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Local Calibration Module (LCM) of FAMI-Pose."""
from typing import Tuple

import torch
from mmcv.ops import ModulatedDeformConv2d
from mmengine.model import BaseModule
from mmpose.registry import MODELS
from mmpose.utils.typing import OptMultiConfig
from torch import Tensor, nn

from .deform_sampling import modulated_deform_conv2d_sampled

_MASK_ACTIVATIONS = ('sigmoid', 'none')
_DCN_IMPLS = ('auto', 'mmcv', 'sampling')


def _all_finite(*tensors: Tensor) -> bool:
    """Whether every element of ``tensors`` is finite (one device sync).

    One sum per tensor: NaN and Inf propagate through a sum (and Inf - Inf
    is NaN), cheaper than an element-wise ``isfinite``. float16 tensors are
    summed in float32: finite float16 maps overflow float16's range (max
    65504), e.g. the 108 mask channels of a 96x72 W48 feature under AMP,
    whereas float32 holds any sum of float16 values (at most numel * 65504),
    so the check stays exact. Other dtypes are summed in their own dtype
    (bfloat16 has float32's exponent range).
    """
    total = sum(
        tensor.sum(
            dtype=torch.float32 if tensor.dtype == torch.float16 else None)
        for tensor in tensors)
    return bool(torch.isfinite(total))


@MODELS.register_module(name=['LCM', 'LocalCalibrationModule'])
class LocalCalibrationModule(BaseModule):
    """Local Calibration Module of `FAMI-Pose`_ (Liu et al., CVPR 2022).

    Modulated deformable convolutions (DCNv2, mmcv
    :class:`~mmcv.ops.ModulatedDeformConv2d`) move and modulate every pixel of
    the coarsely aligned (GTM output) supporting feature. Offsets and masks
    are predicted by plain convolutions; mmcv's layout is used as is: offset
    channel ``g * 2 * k * k + 2 * i + {0: dy, 1: dx}`` and mask channel
    ``g * k * k + i`` for offset group ``g`` and kernel tap ``i``.

    As in the paper, the module runs on each supporting frame separately
    (weights shared). Each of ``num_layers`` deformable convs predicts its
    offsets and masks from ``[key, current]`` concatenated (2C channels),
    where ``current`` is the coarsely aligned feature for the first layer and
    the previous deformable conv's output afterwards. Masks go through a
    sigmoid (DCNv2) unless ``mask_activation='none'``.

    Initialisation: the offset predictors output zero; the mask predictors
    output 0.5 (sigmoid masks: zero logits) or 1.0 (raw masks), so at
    initialisation each deformable conv is its plain (dilated) convolution
    scaled by 0.5, resp. unscaled.

    Non-finite offsets or masks raise ``FloatingPointError`` before they reach
    the deformable convolution (a NaN offset has crashed a CPU deformable
    conv); set ``check_finite=False`` to skip the check (it costs one
    device synchronisation per layer).

    Deformable-conv kernels (``dcn_impl``): the weights always live in mmcv
    ``ModulatedDeformConv2d`` modules (same state dict for every choice).
    ``'mmcv'`` runs mmcv's op on every device; ``'sampling'`` runs
    :func:`modulated_deform_conv2d_sampled` (``grid_sample`` + matmul, the
    same function to float rounding); ``'auto'`` (default) uses mmcv's op on
    CUDA tensors and the sampling form elsewhere, because mmcv's CPU kernel
    is a reference implementation (forward about 1.5x and backward about 7x
    slower than the sampling form at the W48 LCM shape on a 2-core CPU).

    A variant with another calibration order overrides :meth:`calibrate`
    and, if its predictors see a single C-channel feature,
    ``num_guide_feats`` (see
    :class:`~famipose_mmpose.models.released.ReleasedLCM`, the authors'
    released layout).

    Args:
        in_channels (int): Channels C of the features. Defaults to 48
        num_layers (int): Deformable convs per supporting frame.
            Defaults to 1
        kernel_size (int): Kernel size of all convolutions. Defaults to 3
        dilation (int): Dilation of the deformable convs and of the offset /
            mask predictors. Defaults to 3
        deform_groups (int): Offset groups; must divide ``in_channels``.
            Defaults to 12
        mask_activation (str): ``'sigmoid'`` or ``'none'`` (raw masks).
            Defaults to ``'sigmoid'``
        check_finite (bool): Check offsets and masks for NaN/Inf.
            Defaults to ``True``
        dcn_impl (str): ``'auto'``, ``'mmcv'`` or ``'sampling'`` (see
            above). Defaults to ``'auto'``
        init_cfg (dict, optional): Initialisation config; the predictor
            initialisation above is applied after it. Defaults to ``None``

    .. _`FAMI-Pose`: https://arxiv.org/abs/2203.15227
    """

    #: how many C-channel features the offset / mask predictors see
    num_guide_feats: int = 2

    def __init__(self,
                 in_channels: int = 48,
                 num_layers: int = 1,
                 kernel_size: int = 3,
                 dilation: int = 3,
                 deform_groups: int = 12,
                 mask_activation: str = 'sigmoid',
                 check_finite: bool = True,
                 dcn_impl: str = 'auto',
                 init_cfg: OptMultiConfig = None):
        super().__init__(init_cfg=init_cfg)
        if mask_activation not in _MASK_ACTIVATIONS:
            raise ValueError(
                f'LCM: unknown mask_activation {mask_activation!r} '
                f'(model.lcm.mask_activation); use one of '
                f'{_MASK_ACTIVATIONS}.')
        if dcn_impl not in _DCN_IMPLS:
            raise ValueError(
                f'LCM: unknown dcn_impl {dcn_impl!r} (model.lcm.dcn_impl); '
                f'use one of {_DCN_IMPLS}.')
        if in_channels % deform_groups != 0:
            raise ValueError(
                f'LCM: in_channels={in_channels} is not divisible by '
                f'deform_groups={deform_groups}; set model.lcm.deform_groups '
                'to a divisor of the feature channels.')
        if num_layers < 1:
            raise ValueError(f'LCM: num_layers must be >= 1, got {num_layers} '
                             '(model.lcm.num_layers).')

        self.in_channels = in_channels
        self.num_layers = num_layers
        self.deform_groups = deform_groups
        self.mask_activation = mask_activation
        self.check_finite = check_finite
        self.dcn_impl = dcn_impl

        taps = kernel_size * kernel_size
        padding = dilation * (kernel_size - 1) // 2
        guide_channels = self.num_guide_feats * in_channels
        self.offset_convs = nn.ModuleList()
        self.mask_convs = nn.ModuleList()
        self.dcns = nn.ModuleList()
        for _ in range(num_layers):
            self.offset_convs.append(
                nn.Conv2d(
                    guide_channels,
                    deform_groups * 2 * taps,
                    kernel_size,
                    padding=padding,
                    dilation=dilation))
            self.mask_convs.append(
                nn.Conv2d(
                    guide_channels,
                    deform_groups * taps,
                    kernel_size,
                    padding=padding,
                    dilation=dilation))
            self.dcns.append(
                ModulatedDeformConv2d(
                    in_channels,
                    in_channels,
                    kernel_size,
                    stride=1,
                    padding=padding,
                    dilation=dilation,
                    deform_groups=deform_groups))
        self._init_predictors()

    def _init_predictors(self) -> None:
        """Zero offsets; masks 0.5 (sigmoid) or 1.0 (raw)."""
        mask_bias = 0.0 if self.mask_activation == 'sigmoid' else 1.0
        for offset_conv, mask_conv in zip(self.offset_convs, self.mask_convs):
            nn.init.zeros_(offset_conv.weight)
            nn.init.zeros_(offset_conv.bias)
            nn.init.zeros_(mask_conv.weight)
            nn.init.constant_(mask_conv.bias, mask_bias)

    def init_weights(self) -> None:
        """Initialise from ``init_cfg``, then reset the predictors."""
        super().init_weights()
        self._init_predictors()

    def _deform(self, index: int, x: Tensor, guide: Tensor) -> Tensor:
        """Apply the ``index``-th deformable conv to ``x`` with offsets and
        masks predicted from ``guide``.

        Args:
            index (int): Layer index.
            x (Tensor): (N, C, H, W) feature to sample from.
            guide (Tensor): (N, num_guide_feats * C, H, W) predictor input.

        Returns:
            Tensor: (N, C, H, W).
        """
        offset = self.offset_convs[index](guide)
        mask = self.mask_convs[index](guide)
        if self.mask_activation == 'sigmoid':
            mask = torch.sigmoid(mask)
        if self.check_finite and not _all_finite(offset, mask):
            raise FloatingPointError(
                f'{type(self).__name__}: non-finite offsets or masks at '
                f'deformable conv {index}. The features feeding the LCM '
                'already contain NaN/Inf or the training diverged: check '
                'the learning rate and the loss terms (loss_mi) of the '
                'previous iterations.')
        dcn = self.dcns[index]
        if self.dcn_impl == 'mmcv' or (self.dcn_impl == 'auto'
                                       and x.is_cuda):
            return dcn(x, offset, mask)
        return modulated_deform_conv2d_sampled(
            x,
            offset,
            mask,
            dcn.weight,
            dcn.bias,
            stride=dcn.stride,
            padding=dcn.padding,
            dilation=dcn.dilation,
            groups=dcn.groups,
            deform_groups=dcn.deform_groups)

    def calibrate(self, key_feat: Tensor,
                  sup_feats: Tensor) -> Tuple[Tensor, Tensor]:
        """Calibrate each supporting frame separately (the paper);
        arguments and results as in :meth:`forward`, with M = N and
        ``source`` = ``sup_feats``."""
        flat_sup = sup_feats.flatten(0, 1)
        flat_key = key_feat.unsqueeze(1).expand_as(sup_feats).flatten(0, 1)
        current = flat_sup
        for index in range(self.num_layers):
            current = self._deform(index, current,
                                   torch.cat([flat_key, current], dim=1))
        return current.view_as(sup_feats), sup_feats

    def forward(self, key_feat: Tensor,
                sup_feats: Tensor) -> Tuple[Tensor, Tensor]:
        """Calibrate the coarsely aligned supporting features.

        Args:
            key_feat (Tensor): (B, C, H, W) key-frame feature.
            sup_feats (Tensor): (B, N, C, H, W) coarsely aligned supporting
                features.

        Returns:
            tuple:
            - aligned (Tensor): (B, M, C, H, W) calibrated features; M = N
              here, a variant may return fewer (the released layout: 1).
            - source (Tensor): (B, M, C, H, W) the supporting features the
              calibration started from, one per calibrated feature (here
              ``sup_feats``).
        """
        if sup_feats.dim() != 5 or sup_feats.shape[2:] != key_feat.shape[1:]:
            raise ValueError(
                f'LCM: expected supporting features (B, N, C, H, W) matching '
                f'the key feature {tuple(key_feat.shape)}, got '
                f'{tuple(sup_feats.shape)}.')
        return self.calibrate(key_feat, sup_feats)
