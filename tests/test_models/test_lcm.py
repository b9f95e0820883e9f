# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Tests of the Local Calibration Module."""
import pytest
import torch
import torch.nn.functional as F
from mmpose.registry import MODELS

from famipose_mmpose.models.necks import LocalCalibrationModule

C, H, W = 8, 10, 9


def _plain_conv(lcm, index, x):
    """The deformable conv's weights as an ordinary dilated convolution."""
    dcn = lcm.dcns[index]
    return F.conv2d(
        x, dcn.weight, None, padding=dcn.padding, dilation=dcn.dilation)


def _per_frame(**kwargs):
    cfg = dict(in_channels=C, deform_groups=2, num_layers=1)
    cfg.update(kwargs)
    lcm = LocalCalibrationModule(**cfg)
    lcm.init_weights()
    with torch.no_grad():  # a nonzero bias must survive the comparison
        for dcn in lcm.dcns:
            dcn.bias.normal_()
    return lcm


def test_registered_under_both_names():
    for name in ('LCM', 'LocalCalibrationModule'):
        lcm = MODELS.build(dict(type=name, in_channels=C, deform_groups=4))
        assert isinstance(lcm, LocalCalibrationModule)


def test_zero_offsets_sigmoid_mask_is_half_plain_conv():
    torch.manual_seed(0)
    lcm = _per_frame()
    key = torch.randn(2, C, H, W)
    sup = torch.randn(2, 3, C, H, W)
    aligned, source = lcm(key, sup)
    assert aligned.shape == (2, 3, C, H, W)
    assert source is sup
    expected = 0.5 * _plain_conv(lcm, 0, sup.flatten(0, 1)) + \
        lcm.dcns[0].bias.view(1, -1, 1, 1)
    torch.testing.assert_close(
        aligned.flatten(0, 1), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('activation,bias,mask_value', [
    ('sigmoid', 2.0, torch.sigmoid(torch.tensor(2.0)).item()),
    ('none', 0.3, 0.3),
])
def test_zero_offsets_constant_mask(activation, bias, mask_value):
    torch.manual_seed(1)
    lcm = _per_frame(mask_activation=activation)
    with torch.no_grad():
        lcm.mask_convs[0].bias.fill_(bias)
    key = torch.randn(1, C, H, W)
    sup = torch.randn(1, 2, C, H, W)
    aligned, _ = lcm(key, sup)
    expected = mask_value * _plain_conv(lcm, 0, sup[0]) + \
        lcm.dcns[0].bias.view(1, -1, 1, 1)
    torch.testing.assert_close(aligned[0], expected, rtol=1e-4, atol=1e-5)


def test_offset_channel_layout_dy_dx():
    """Offset channel 2i is dy, 2i+1 is dx (mmcv layout): a constant dx=+1
    samples one pixel to the right."""
    torch.manual_seed(2)
    lcm = _per_frame(mask_activation='none')  # raw masks start at 1.0
    with torch.no_grad():
        bias = torch.zeros_like(lcm.offset_convs[0].bias)
        bias[1::2] = 1.0  # every dx
        lcm.offset_convs[0].bias.copy_(bias)
    key = torch.randn(1, C, H, W)
    sup = torch.randn(1, 1, C, H, W)
    aligned, _ = lcm(key, sup)
    # tap j of output x reads input x + 3 * (j - 1) + 1 (zero outside):
    # pad 2 left / 4 right and convolve without padding
    dcn = lcm.dcns[0]
    padded = F.pad(sup[0], (2, 4, 3, 3))
    expected = F.conv2d(padded, dcn.weight, dcn.bias, dilation=3)
    torch.testing.assert_close(aligned[0], expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('layout', ['per_frame', 'released'])
def test_gradients_reach_predictors_on_cpu(layout):
    torch.manual_seed(3)
    lcm = LocalCalibrationModule(
        in_channels=C,
        layout=layout,
        num_layers=2,
        deform_groups=4,
        num_supporting=3)
    lcm.init_weights()
    optimizer = torch.optim.SGD(lcm.parameters(), lr=0.1)
    key = torch.randn(2, C, H, W, requires_grad=True)
    sup = torch.randn(2, 3, C, H, W, requires_grad=True)
    target = torch.randn(2, 3 if layout == 'per_frame' else 1, C, H, W)
    num_layers = 2 if layout == 'per_frame' else 4
    assert len(lcm.dcns) == num_layers

    def step():
        optimizer.zero_grad()
        key.grad = sup.grad = None
        aligned, source = lcm(key, sup)
        assert aligned.shape == target.shape == source.shape
        (aligned - target).square().mean().backward()
        optimizer.step()
        return [[
            module.weight.grad.abs().sum().item()
            for module in (lcm.offset_convs[index], lcm.mask_convs[index],
                           lcm.dcns[index])
        ] for index in range(num_layers)]

    first = step()
    # at initialisation the per-frame predictors already get gradients; in
    # the released cascade the first two convolutions only steer the third
    # one's offsets, whose predictor starts at zero: they get gradients from
    # the second step on
    live_at_init = range(num_layers) if layout == 'per_frame' else (2, 3)
    for index in live_at_init:
        assert all(g > 0 for g in first[index]), (layout, index, first)
    assert sup.grad.abs().sum() > 0
    second = step()
    for index in range(num_layers):
        assert all(g > 0 for g in second[index]), (layout, index, second)
    assert key.grad.abs().sum() > 0 and sup.grad.abs().sum() > 0


def test_released_layout_checks_frame_count():
    lcm = LocalCalibrationModule(
        in_channels=C, layout='released', deform_groups=4, num_supporting=4)
    assert lcm.mask_activation == 'none'
    with pytest.raises(ValueError, match='num_supporting'):
        lcm(torch.randn(1, C, H, W), torch.randn(1, 2, C, H, W))


def test_non_finite_offsets_raise():
    lcm = _per_frame()
    key = torch.randn(1, C, H, W)
    sup = torch.randn(1, 1, C, H, W)
    sup[0, 0, 0, 3, 3] = float('nan')
    with torch.no_grad():  # make the NaN reach the offsets
        lcm.offset_convs[0].weight.fill_(0.01)
    with pytest.raises(FloatingPointError, match='non-finite'):
        lcm(key, sup)


def test_bad_configs_raise():
    with pytest.raises(ValueError, match='deform_groups'):
        LocalCalibrationModule(in_channels=C, deform_groups=3)
    with pytest.raises(ValueError, match='layout'):
        LocalCalibrationModule(in_channels=C, deform_groups=2, layout='x')
