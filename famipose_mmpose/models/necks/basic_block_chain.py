# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""A chain of ResNet BasicBlocks that changes the channel count once.

The FAMI-Pose authors' code fuses and projects features with short chains of
ResNet BasicBlocks (e.g. ``2C -> C`` with one, two or three blocks). The GTM
(translation mode), the LCM (released layout) and the concatenating feature
aggregation all build such a chain, so it lives in its own module.
"""
from typing import Optional

from mmcv.cnn import build_conv_layer, build_norm_layer
from mmpose.models.backbones.resnet import BasicBlock
from mmpose.utils.typing import OptConfigType
from torch import nn


def build_basic_block_chain(in_channels: int,
                            out_channels: int,
                            num_blocks: int = 1,
                            norm_cfg: OptConfigType = None) -> nn.Sequential:
    """Build ``num_blocks`` ResNet BasicBlocks mapping ``in_channels`` to
    ``out_channels``.

    The first block changes the channel count; its identity branch is then a
    1x1 convolution followed by a norm layer. The following blocks keep
    ``out_channels``. Spatial size is preserved (stride 1 everywhere).

    Args:
        in_channels (int): Channels of the input feature.
        out_channels (int): Channels of the output feature.
        num_blocks (int): Number of BasicBlocks, at least 1. Defaults to 1
        norm_cfg (dict, optional): Config of the norm layers. ``None`` means
            ``dict(type='BN')``. Defaults to ``None``

    Returns:
        nn.Sequential: The blocks, input (N, in_channels, H, W) ->
        output (N, out_channels, H, W).
    """
    if num_blocks < 1:
        raise ValueError(
            f'build_basic_block_chain: num_blocks must be >= 1, got '
            f'{num_blocks}; set the module\'s num_blocks/num_fuse_blocks '
            'field in the model config to a positive integer.')
    if norm_cfg is None:
        norm_cfg = dict(type='BN')

    downsample: Optional[nn.Module] = None
    if in_channels != out_channels:
        downsample = nn.Sequential(
            build_conv_layer(
                None,
                in_channels,
                out_channels,
                kernel_size=1,
                stride=1,
                bias=False),
            build_norm_layer(norm_cfg, out_channels)[1])

    blocks = [
        BasicBlock(
            in_channels,
            out_channels,
            downsample=downsample,
            norm_cfg=norm_cfg)
    ]
    for _ in range(num_blocks - 1):
        blocks.append(
            BasicBlock(out_channels, out_channels, norm_cfg=norm_cfg))
    return nn.Sequential(*blocks)
