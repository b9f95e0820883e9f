# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Modulated deformable convolution (DCNv2) written with ``grid_sample``.

mmcv's CPU kernel for :class:`~mmcv.ops.ModulatedDeformConv2d` is a plain
reference implementation; its backward pass is about 50 times slower than a
dense convolution of the same shape (``tools/benchmark_famipose.py``).
The same function can be composed from two well-optimised PyTorch ops:

1. ``F.grid_sample`` (bilinear, zero padding, ``align_corners=True``)
   samples, for every offset group ``g`` and kernel tap ``k``, the input at
   ``p * stride - padding + k * dilation + offset``, giving the deformable
   "im2col" matrix;
2. the columns are multiplied by the modulation mask and by the flattened
   convolution weight (``torch.matmul``).

Autograd supplies the backward pass. The batch is processed in chunks whose
column matrix stays under ``max_columns`` elements (32 MB in float32 by
default): on a CPU the multiply and its backward then run in cache, which
halves the backward time at the W48 LCM shape, and peak memory stays
bounded on every device. The result equals mmcv's kernel up to
float rounding: bilinear weights and the zero value of samples whose
neighbours fall outside the feature are the same in both (mmcv:
``dmcn_im2col_bilinear``; a sample with ``y <= -1``, ``y >= H``, ``x <= -1``
or ``x >= W`` is zero in both). Offsets and masks use mmcv's channel layout:
offset channel ``g * 2 * K + 2 * k + {0: dy, 1: dx}``, mask channel
``g * K + k`` for ``K = kh * kw`` taps in row-major order.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn.modules.utils import _pair


def modulated_deform_conv2d_sampled(input: Tensor,
                                    offset: Tensor,
                                    mask: Tensor,
                                    weight: Tensor,
                                    bias: Optional[Tensor] = None,
                                    stride=1,
                                    padding=0,
                                    dilation=1,
                                    groups: int = 1,
                                    deform_groups: int = 1,
                                    max_columns: int = 1 << 23) -> Tensor:
    """Modulated deformable convolution, mmcv's semantics, pure PyTorch.

    Args:
        input (Tensor): (N, C, H, W).
        offset (Tensor): (N, deform_groups * 2 * K, Ho, Wo), ``(dy, dx)``
            pairs per tap.
        mask (Tensor): (N, deform_groups * K, Ho, Wo), used as given (apply
            any sigmoid before).
        weight (Tensor): (O, C / groups, kh, kw).
        bias (Tensor, optional): (O, ). Defaults to ``None``
        stride (int | tuple[int, int]): Defaults to 1
        padding (int | tuple[int, int]): Defaults to 0
        dilation (int | tuple[int, int]): Defaults to 1
        groups (int): Convolution groups. Defaults to 1
        deform_groups (int): Offset groups. Defaults to 1
        max_columns (int): Largest column matrix (elements) per chunk of
            the batch; at least one sample per chunk. Defaults to 2**23

    Returns:
        Tensor: (N, O, Ho, Wo).
    """
    batch, channels = input.shape[:2]
    out_channels, _, kernel_h, kernel_w = weight.shape
    taps = kernel_h * kernel_w
    out_h, out_w = offset.shape[-2:]
    height, width = input.shape[2:]
    if offset.shape[1] != deform_groups * 2 * taps or \
            mask.shape[1] != deform_groups * taps or \
            channels % deform_groups or channels % groups:
        raise ValueError(
            f'modulated_deform_conv2d_sampled: offset {tuple(offset.shape)} '
            f'and mask {tuple(mask.shape)} do not match {deform_groups} '
            f'offset groups of a {kernel_h}x{kernel_w} kernel on '
            f'{channels} input channels.')
    if height < 2 or width < 2:
        # align_corners=True cannot express positions on a 1-pixel axis
        raise ValueError(
            'modulated_deform_conv2d_sampled: the input must be at least 2x2, '
            f'got {height}x{width}; use mmcv\'s op (LCM dcn_impl=\'mmcv\').')
    chunk = max(1, max_columns // (channels * taps * out_h * out_w))
    if batch > chunk:
        return torch.cat([
            modulated_deform_conv2d_sampled(part_input, part_offset,
                                            part_mask, weight, bias, stride,
                                            padding, dilation, groups,
                                            deform_groups, max_columns)
            for part_input, part_offset, part_mask in zip(
                input.split(chunk), offset.split(chunk), mask.split(chunk))
        ])

    stride_h, stride_w = _pair(stride)
    pad_h, pad_w = _pair(padding)
    dil_h, dil_w = _pair(dilation)
    # sampling positions in input pixels: (K, Ho, Wo) base + offsets
    factory = dict(device=input.device, dtype=input.dtype)
    rows = torch.arange(out_h, **factory) * stride_h - pad_h
    cols = torch.arange(out_w, **factory) * stride_w - pad_w
    tap_y = (torch.arange(kernel_h, **factory) * dil_h).repeat_interleave(
        kernel_w)
    tap_x = (torch.arange(kernel_w, **factory) * dil_w).repeat(kernel_h)
    offset = offset.reshape(batch, deform_groups, taps, 2, out_h, out_w)
    pos_y = tap_y.view(taps, 1, 1) + rows.view(1, out_h, 1) + offset[:, :, :, 0]
    pos_x = tap_x.view(taps, 1, 1) + cols.view(1, 1, out_w) + offset[:, :, :, 1]
    # align_corners=True maps pixel i to -1 + 2 i / (size - 1)
    grid = torch.stack([
        pos_x * (2 / (width - 1)) - 1,
        pos_y * (2 / (height - 1)) - 1,
    ], dim=-1)
    grid = grid.view(batch * deform_groups, taps * out_h, out_w, 2)

    group_channels = channels // deform_groups
    sampled = F.grid_sample(
        input.reshape(batch * deform_groups, group_channels, height, width),
        grid,
        mode='bilinear',
        padding_mode='zeros',
        align_corners=True)
    # (N, G, C/G, K, Ho, Wo): channel-major (C, K) rows, as weight.flatten(1)
    sampled = sampled.view(batch, deform_groups, group_channels, taps, out_h,
                           out_w)
    sampled = sampled * mask.reshape(batch, deform_groups, 1, taps, out_h,
                                     out_w)
    columns = sampled.view(batch, groups, channels // groups * taps,
                           out_h * out_w)
    out = torch.matmul(
        weight.view(1, groups, out_channels // groups,
                    channels // groups * taps), columns)
    out = out.view(batch, out_channels, out_h, out_w)
    if bias is not None:
        out = out + bias.view(1, out_channels, 1, 1)
    return out
