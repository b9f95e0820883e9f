# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Global Transformation Module (GTM) of FAMI-Pose."""
from typing import Optional, Sequence, Tuple, Type

import torch
import torch.nn.functional as F
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmengine.model import BaseModule
from mmpose.models.backbones.resnet import BasicBlock, ResLayer
from mmpose.registry import MODELS
from mmpose.utils.typing import OptConfigType, OptMultiConfig
from torch import Tensor, nn


@MODELS.register_module(name=['GTM', 'GlobalTransformationModule'])
class GlobalTransformationModule(BaseModule):
    """Global Transformation Module of `FAMI-Pose`_ (Liu et al., CVPR 2022).

    From the key-frame feature and one supporting-frame feature, a small
    convolutional regressor predicts one global affine transform per sample
    (translation, rotation, scale, shear); the supporting feature is warped
    with it (``F.affine_grid`` + ``F.grid_sample``, bilinear, zero padding)
    to coarsely align it with the key feature. One module is shared by all
    supporting frames: the caller folds the supporting frames into the batch
    dimension.

    Regressor: it sees the concatenation ``[key, sup]`` (2C channels);
    ``BasicBlock(2C -> mid_channels)``, ``num_downsamples`` x (3x3 stride-2
    conv + norm + ReLU), flatten, Linear layers with ReLU between the hidden
    ones, and a last Linear layer giving the six entries of a 2x3 affine
    matrix. The flattened size follows ``feat_size`` (for 96x72 features and
    five downsamplings it is ``mid_channels * 3 * 3``).

    The last Linear layer is initialised to zero weights and a bias that
    encodes the identity transform, so at initialisation the output equals
    the input.

    The returned ``theta`` is always expressed the way ``F.affine_grid``
    consumes it: a (N, 2, 3) matrix mapping normalised output coordinates to
    normalised input (sampling) coordinates, with the ``align_corners``
    convention of this module.

    A variant changes what the regressor sees and predicts through the class
    attributes ``num_input_feats``, ``identity_params`` and
    ``hidden_activation`` and the methods :meth:`regressor_input` and
    :meth:`params_to_theta` (see
    :class:`~famipose_mmpose.models.released.ReleasedGTM`, the authors'
    released translation-only GTM).

    Args:
        in_channels (int): Channels C of the key and supporting features.
            Defaults to 48
        feat_size (Sequence[int]): Feature size ``(H, W)`` the regressor is
            built for. Defaults to ``(96, 72)``
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

    #: how many C-channel features :meth:`regressor_input` stacks
    num_input_feats: int = 2
    #: the regressor output that means "no transform"; its length is the
    #: number of regressed parameters (the six entries of a 2x3 matrix)
    identity_params: Tuple[float, ...] = (1., 0., 0., 0., 1., 0.)
    #: activation between the hidden Linear layers (``None``: none)
    hidden_activation: Optional[Type[nn.Module]] = nn.ReLU

    def __init__(self,
                 in_channels: int = 48,
                 feat_size: Sequence[int] = (96, 72),
                 mid_channels: int = 16,
                 num_downsamples: int = 5,
                 hidden_dims: Sequence[int] = (64, 64),
                 align_corners: bool = True,
                 norm_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = None):
        super().__init__(init_cfg=init_cfg)
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
        self.align_corners = align_corners

        trunk = [
            ResLayer(
                BasicBlock,
                num_blocks=1,
                in_channels=self.num_input_feats * in_channels,
                out_channels=mid_channels,
                norm_cfg=norm_cfg)
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

        layers = []
        prev = self.flat_dim
        for dim in hidden_dims:
            layers.append(nn.Linear(prev, dim))
            if self.hidden_activation is not None:
                layers.append(self.hidden_activation(inplace=True))
            prev = dim
        self.hidden = nn.Sequential(*layers)
        self.last_layer = nn.Linear(prev, len(self.identity_params))
        self._init_identity()

    def _init_identity(self) -> None:
        """Make the regressor output the identity transform."""
        nn.init.zeros_(self.last_layer.weight)
        with torch.no_grad():
            self.last_layer.bias.copy_(torch.tensor(self.identity_params))

    def init_weights(self) -> None:
        """Initialise from ``init_cfg``, then reset the last layer to the
        identity transform."""
        super().init_weights()
        self._init_identity()

    def regressor_input(self, key_feat: Tensor, sup_feat: Tensor) -> Tensor:
        """What the regressor sees: ``[key, sup]`` on the channel axis.

        Args:
            key_feat (Tensor): (N, C, H, W) key-frame features.
            sup_feat (Tensor): (N, C, H, W) supporting-frame features.

        Returns:
            Tensor: (N, num_input_feats * C, H, W).
        """
        return torch.cat([key_feat, sup_feat], dim=1)

    def params_to_theta(self, params: Tensor) -> Tensor:
        """Turn the regressor output into ``affine_grid`` matrices.

        Args:
            params (Tensor): (N, 6) the entries of the 2x3 matrices.

        Returns:
            Tensor: (N, 2, 3).
        """
        return params.view(-1, 2, 3)

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
        x = self.trunk(self.regressor_input(key_feat, sup_feat)).flatten(1)
        return self.params_to_theta(self.last_layer(self.hidden(x)))

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
