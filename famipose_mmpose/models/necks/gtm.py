# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Global Transformation Module (GTM) of FAMI-Pose."""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmengine.model import BaseModule
from mmpose.registry import MODELS
from mmpose.utils.typing import OptConfigType, OptMultiConfig
from torch import Tensor, nn

from .basic_block_chain import build_basic_block_chain

_GTM_MODES = ('affine', 'translation')


@MODELS.register_module(name=['GTM', 'GlobalTransformationModule'])
class GlobalTransformationModule(BaseModule):
    """Global Transformation Module of `FAMI-Pose`_ (Liu et al., CVPR 2022).

    From the key-frame feature and one supporting-frame feature, a small
    convolutional regressor predicts one global transform per sample; the
    supporting feature is warped with it (``F.affine_grid`` +
    ``F.grid_sample``, bilinear, zero padding) to coarsely align it with the
    key feature. One module is shared by all supporting frames: the caller
    folds the supporting frames into the batch dimension.

    Regressor: ``BasicBlock(in -> mid_channels)``, ``num_downsamples`` x
    (3x3 stride-2 conv + norm + ReLU), flatten, a stack of Linear layers. The
    flattened size follows ``feat_size`` (for 96x72 features and five
    downsamplings it is ``mid_channels * 3 * 3``).

    Modes:

    - ``'affine'`` (default, the paper): the regressor sees the concatenation
      ``[key, sup]`` (2C channels) and outputs the six entries of a full 2x3
      affine matrix (translation, rotation, scale, shear). ReLU between the
      hidden Linear layers.
    - ``'translation'`` (the authors' released code): the regressor sees the
      difference ``sup - key`` (C channels) and outputs ``(tx, ty)`` in
      feature pixels; the warp is ``out(x, y) = sup(x - tx, y - ty)`` (what
      ``kornia.geometry.warp_affine`` does with ``[[1, 0, tx], [0, 1, ty]]``
      and ``align_corners=True``). No activation between the Linear layers, as
      released.

    In both modes the last Linear layer is initialised to zero weights and a
    bias that encodes the identity transform, so at initialisation the output
    equals the input (the released code does not do this).

    The returned ``theta`` is always expressed the way ``F.affine_grid``
    consumes it: a (N, 2, 3) matrix mapping normalised output coordinates to
    normalised input (sampling) coordinates, with the ``align_corners``
    convention of this module.

    Args:
        in_channels (int): Channels C of the key and supporting features.
            Defaults to 48
        feat_size (Sequence[int]): Feature size ``(H, W)`` the regressor is
            built for. Defaults to ``(96, 72)``
        mode (str): ``'affine'`` or ``'translation'``. Defaults to
            ``'affine'``
        mid_channels (int): Channels of the regressor's conv trunk.
            Defaults to 16
        num_downsamples (int): Number of 3x3 stride-2 conv layers.
            Defaults to 5
        hidden_dims (Sequence[int]): Widths of the hidden Linear layers.
            Defaults to ``(64, 64)``
        align_corners (bool): ``align_corners`` of ``affine_grid`` and
            ``grid_sample``. Defaults to ``True``
        norm_cfg (dict, optional): Norm layer config; ``None`` means
            ``dict(type='BN')``. Defaults to ``None``
        init_cfg (dict, optional): Initialisation config. The identity
            initialisation of the last Linear layer is applied after it.
            Defaults to ``None``

    .. _`FAMI-Pose`: https://arxiv.org/abs/2203.15227
    """

    def __init__(self,
                 in_channels: int = 48,
                 feat_size: Sequence[int] = (96, 72),
                 mode: str = 'affine',
                 mid_channels: int = 16,
                 num_downsamples: int = 5,
                 hidden_dims: Sequence[int] = (64, 64),
                 align_corners: bool = True,
                 norm_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = None):
        super().__init__(init_cfg=init_cfg)
        if mode not in _GTM_MODES:
            raise ValueError(f'GTM: unknown mode {mode!r} in the model config '
                             f'(model.gtm.mode); use one of {_GTM_MODES}.')
        feat_size = tuple(int(s) for s in feat_size)
        if len(feat_size) != 2 or min(feat_size) < 2:
            raise ValueError(
                f'GTM: feat_size must be (H, W) with H, W >= 2, got '
                f'{feat_size}; set model.gtm.feat_size to the backbone '
                'feature size (input size / 4 for HRNet).')
        if norm_cfg is None:
            norm_cfg = dict(type='BN')

        self.in_channels = in_channels
        self.feat_size = feat_size
        self.mode = mode
        self.align_corners = align_corners

        regressor_in = 2 * in_channels if mode == 'affine' else in_channels
        trunk = [
            build_basic_block_chain(
                regressor_in, mid_channels, num_blocks=1, norm_cfg=norm_cfg)
        ]
        height, width = feat_size
        for _ in range(num_downsamples):
            trunk.append(
                build_conv_layer(
                    None,
                    mid_channels,
                    mid_channels,
                    kernel_size=3,
                    stride=2,
                    padding=1,
                    bias=False))
            trunk.append(build_norm_layer(norm_cfg, mid_channels)[1])
            trunk.append(nn.ReLU(inplace=True))
            # output size of a 3x3, stride-2, padding-1 convolution
            height, width = (height + 1) // 2, (width + 1) // 2
        self.trunk = nn.Sequential(*trunk)
        self.flat_dim = mid_channels * height * width

        num_params = 6 if mode == 'affine' else 2
        layers = []
        prev = self.flat_dim
        for dim in hidden_dims:
            layers.append(nn.Linear(prev, dim))
            if mode == 'affine':
                layers.append(nn.ReLU(inplace=True))
            prev = dim
        self.hidden = nn.Sequential(*layers)
        self.last_layer = nn.Linear(prev, num_params)
        self._init_identity()

    def _init_identity(self) -> None:
        """Make the regressor output the identity transform."""
        nn.init.zeros_(self.last_layer.weight)
        with torch.no_grad():
            if self.mode == 'affine':
                self.last_layer.bias.copy_(
                    torch.tensor([1., 0., 0., 0., 1., 0.]))
            else:
                self.last_layer.bias.zero_()

    def init_weights(self) -> None:
        """Initialise from ``init_cfg``, then reset the last layer to the
        identity transform."""
        super().init_weights()
        self._init_identity()

    def translation_to_theta(self, translation: Tensor) -> Tensor:
        """Convert per-sample shifts in feature pixels into ``affine_grid``
        matrices.

        Args:
            translation (Tensor): (N, 2) shifts ``(tx, ty)`` in feature
                pixels; the warped feature is ``sup(x - tx, y - ty)``.

        Returns:
            Tensor: (N, 2, 3) matrices in normalised coordinates.
        """
        height, width = self.feat_size
        if self.align_corners:
            scale_x, scale_y = 2.0 / (width - 1), 2.0 / (height - 1)
        else:
            scale_x, scale_y = 2.0 / width, 2.0 / height
        num = translation.shape[0]
        theta = translation.new_zeros(num, 2, 3)
        theta[:, 0, 0] = 1.0
        theta[:, 1, 1] = 1.0
        theta[:, 0, 2] = -translation[:, 0] * scale_x
        theta[:, 1, 2] = -translation[:, 1] * scale_y
        return theta

    def regress_theta(self, key_feat: Tensor, sup_feat: Tensor) -> Tensor:
        """Predict the transform that aligns ``sup_feat`` with ``key_feat``.

        Args:
            key_feat (Tensor): (N, C, H, W) key-frame features.
            sup_feat (Tensor): (N, C, H, W) supporting-frame features.

        Returns:
            Tensor: (N, 2, 3) ``affine_grid`` matrices (see class docs).
        """
        if key_feat.shape != sup_feat.shape:
            raise ValueError(
                f'GTM: key feature {tuple(key_feat.shape)} and supporting '
                f'feature {tuple(sup_feat.shape)} must have the same shape.')
        if tuple(key_feat.shape[-2:]) != self.feat_size:
            raise ValueError(
                f'GTM: built for features of size {self.feat_size} '
                f'(model.gtm.feat_size) but got {tuple(key_feat.shape[-2:])};'
                ' set model.gtm.feat_size to the backbone output size.')
        if self.mode == 'affine':
            x = torch.cat([key_feat, sup_feat], dim=1)
        else:
            x = sup_feat - key_feat
        x = self.trunk(x).flatten(1)
        params = self.last_layer(self.hidden(x))
        if self.mode == 'affine':
            return params.view(-1, 2, 3)
        return self.translation_to_theta(params)

    def warp(self, feat: Tensor, theta: Tensor) -> Tensor:
        """Warp features with ``affine_grid`` matrices.

        Args:
            feat (Tensor): (N, C, H, W) features.
            theta (Tensor): (N, 2, 3) matrices.

        Returns:
            Tensor: (N, C, H, W) warped features (zero outside the input).
        """
        grid = F.affine_grid(
            theta.to(feat.dtype),
            list(feat.shape),
            align_corners=self.align_corners)
        return F.grid_sample(
            feat,
            grid,
            mode='bilinear',
            padding_mode='zeros',
            align_corners=self.align_corners)

    def forward(self, key_feat: Tensor,
                sup_feat: Tensor) -> Tuple[Tensor, Tensor]:
        """Coarsely align a supporting feature with the key feature.

        Args:
            key_feat (Tensor): (N, C, H, W) key-frame features.
            sup_feat (Tensor): (N, C, H, W) supporting-frame features.

        Returns:
            tuple:
            - aligned (Tensor): (N, C, H, W) warped supporting features.
            - theta (Tensor): (N, 2, 3) the transforms used.
        """
        theta = self.regress_theta(key_feat, sup_feat)
        return self.warp(sup_feat, theta), theta
