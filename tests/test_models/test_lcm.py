# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Tests of the Local Calibration Module."""
import pytest
import torch
import torch.nn.functional as F
from mmcv.ops import ModulatedDeformConv2d
from mmpose.registry import MODELS

from famipose_mmpose.models.necks import LocalCalibrationModule
from famipose_mmpose.models.necks import lcm as lcm_module
from famipose_mmpose.models.necks.deform_sampling import modulated_deform_conv2d_sampled
from famipose_mmpose.models.released import ReleasedLCM, upgrade_legacy_cfg
from .test_famipose import _build, _data_samples, _video

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


@pytest.mark.parametrize('dcn_impl', ['mmcv', 'sampling'])
def test_offset_channel_layout_dy_dx(dcn_impl):
    """Offset channel 2i is dy, 2i+1 is dx (mmcv layout): a constant dx=+1
    samples one pixel to the right."""
    torch.manual_seed(2)
    # raw masks start at 1.0
    lcm = _per_frame(mask_activation='none', dcn_impl=dcn_impl)
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
    if layout == 'per_frame':
        lcm = LocalCalibrationModule(
            in_channels=C, num_layers=2, deform_groups=4)
    else:
        lcm = ReleasedLCM(in_channels=C, deform_groups=4, num_supporting=3)
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
    lcm = ReleasedLCM(in_channels=C, deform_groups=4, num_supporting=4)
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


@pytest.mark.parametrize(
    'stride,dilation,groups,deform_groups',
    [(1, 3, 1, 4), (2, 1, 2, 2), (1, 2, 1, 1)])
def test_sampling_matches_mmcv_kernel(stride, dilation, groups,
                                      deform_groups):
    """Outputs and all gradients of the grid_sample form equal mmcv's op.

    Offsets are an integer plus a fraction in [0.1, 0.9], so no sampling
    point lies within rounding distance of a pixel row or column (where the
    two could disagree on whether a neighbour is inside); the integers reach
    up to 4 pixels, so many points fall partly or wholly outside.
    """
    torch.manual_seed(5)
    dcn = ModulatedDeformConv2d(
        C,
        6,
        3,
        stride=stride,
        padding=dilation,
        dilation=dilation,
        groups=groups,
        deform_groups=deform_groups)
    with torch.no_grad():
        dcn.bias.normal_()
    x = torch.randn(3, C, H, W, requires_grad=True)
    out_h = (H - 1) // stride + 1
    out_w = (W - 1) // stride + 1
    offset_shape = (3, deform_groups * 18, out_h, out_w)
    offset = (torch.randint(-4, 4, offset_shape).float() +
              0.1 + 0.8 * torch.rand(offset_shape)).requires_grad_()
    mask = torch.rand(3, deform_groups * 9, out_h,
                      out_w).requires_grad_()
    expected = dcn(x, offset, mask)
    actual = modulated_deform_conv2d_sampled(
        x,
        offset,
        mask,
        dcn.weight,
        dcn.bias,
        stride=dcn.stride,
        padding=dcn.padding,
        dilation=dcn.dilation,
        groups=groups,
        deform_groups=deform_groups)
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-5)
    upstream = torch.randn_like(expected)
    inputs = (x, offset, mask, dcn.weight, dcn.bias)
    grads_expected = torch.autograd.grad(expected, inputs, upstream)
    grads_actual = torch.autograd.grad(actual, inputs, upstream)
    for name, got, want in zip(('input', 'offset', 'mask', 'weight', 'bias'),
                               grads_actual, grads_expected):
        assert want.abs().sum() > 0, name
        torch.testing.assert_close(
            got, want, rtol=1e-4, atol=1e-4, msg=lambda m: f'{name}: {m}')


def test_sampling_chunks_give_the_same_result():
    torch.manual_seed(6)
    x = torch.randn(5, C, H, W)
    offset = 2 * torch.randn(5, 2 * 18, H, W)
    mask = torch.rand(5, 2 * 9, H, W)
    weight = torch.randn(4, C, 3, 3)
    whole = modulated_deform_conv2d_sampled(
        x, offset, mask, weight, padding=1, deform_groups=2)
    # one sample's column matrix is C * 9 * H * W elements: chunks of 2
    chunked = modulated_deform_conv2d_sampled(
        x,
        offset,
        mask,
        weight,
        padding=1,
        deform_groups=2,
        max_columns=2 * C * 9 * H * W)
    torch.testing.assert_close(chunked, whole)


def test_sampling_rejects_a_one_pixel_axis():
    with pytest.raises(ValueError, match='at least 2x2'):
        modulated_deform_conv2d_sampled(
            torch.randn(1, C, 1, W), torch.zeros(1, 18, 1, W),
            torch.ones(1, 9, 1, W), torch.randn(4, C, 3, 3), padding=1)


def test_sampling_rejects_mismatched_offsets():
    with pytest.raises(ValueError, match='offset groups'):
        modulated_deform_conv2d_sampled(
            torch.randn(1, C, H, W),
            torch.zeros(1, 18, H, W),
            torch.ones(1, 9, H, W),
            torch.randn(4, C, 3, 3),
            padding=1,
            deform_groups=2)


def test_dcn_impls_agree_in_the_module():
    """'auto' on CPU (the sampling form) and 'mmcv' give the same LCM."""
    torch.manual_seed(7)
    lcms = {
        impl: LocalCalibrationModule(
            in_channels=C, deform_groups=2, num_layers=2, dcn_impl=impl)
        for impl in ('auto', 'mmcv')
    }
    with torch.no_grad():
        for param in lcms['auto'].parameters():
            param.normal_(std=0.1)
    lcms['mmcv'].load_state_dict(lcms['auto'].state_dict())
    key = torch.randn(2, C, H, W)
    sup = torch.randn(2, 3, C, H, W)
    torch.testing.assert_close(
        lcms['auto'](key, sup)[0],
        lcms['mmcv'](key, sup)[0],
        rtol=1e-4,
        atol=1e-5)


def test_bad_configs_raise():
    with pytest.raises(ValueError, match='dcn_impl'):
        LocalCalibrationModule(in_channels=C, deform_groups=2, dcn_impl='x')
    with pytest.raises(ValueError, match='deform_groups'):
        LocalCalibrationModule(in_channels=C, deform_groups=3)
    with pytest.raises(ValueError, match='layout'):
        upgrade_legacy_cfg(
            dict(type='LCM', in_channels=C, deform_groups=2, layout='x'))


# the LCM of configs/famipose/famipose_hrnet-w48_8xb6-20e_posetrack17-
# 384x288.py: 48-channel 96x72 features, 4 supporting frames
W48_LCM = dict(in_channels=48, deform_groups=12, dilation=3)
W48_C, W48_H, W48_W, W48_SUP = 48, 96, 72, 4


def test_w48_lcm_runs_in_float16():
    """Under AMP the offsets and masks are float16; their sums exceed
    float16's range (65504) although every value is finite, which must not
    trip the finiteness check."""
    torch.manual_seed(8)
    lcm = LocalCalibrationModule(**W48_LCM)
    lcm.init_weights()
    with torch.no_grad():  # finite offsets of 2 pixels and masks near 1
        lcm.offset_convs[0].bias.fill_(2.0)
        lcm.mask_convs[0].bias.fill_(4.0)
    lcm.half()
    key = torch.randn(1, W48_C, W48_H, W48_W, dtype=torch.float16)
    sup = torch.randn(1, W48_SUP, W48_C, W48_H, W48_W, dtype=torch.float16)
    guide = torch.cat([key.expand_as(sup[0]), sup[0]], dim=1)
    with torch.no_grad():
        offset = lcm.offset_convs[0](guide)
        mask = torch.sigmoid(lcm.mask_convs[0](guide))
        # the case at hand: finite values, float16 sums overflow
        assert torch.isfinite(offset).all() and torch.isfinite(mask).all()
        assert not torch.isfinite(offset.sum() + mask.sum())
        aligned, _ = lcm(key, sup)
    assert aligned.shape == sup.shape and aligned.dtype == torch.float16
    assert torch.isfinite(aligned).all()


def _w48_offset_and_mask(dtype=torch.float16):
    """Finite offsets and masks of the W48 LCM's shapes for one sample
    whose float16 sums overflow; one offset is float16's largest value."""
    gen = torch.Generator().manual_seed(9)
    groups, taps = W48_LCM['deform_groups'], 9
    offset = 100 * torch.rand(
        W48_SUP, groups * 2 * taps, W48_H, W48_W, generator=gen)
    offset[0, 0, 0, 0] = torch.finfo(torch.float16).max
    mask = torch.rand(W48_SUP, groups * taps, W48_H, W48_W, generator=gen)
    return offset.to(dtype), mask.to(dtype)


def test_finite_check_is_exact_in_float16():
    offset, mask = _w48_offset_and_mask()
    assert not torch.isfinite(offset.sum()) and not torch.isfinite(
        mask.sum())
    assert lcm_module._all_finite(offset, mask)
    assert lcm_module._all_finite(mask)
    # float32 and bfloat16 keep their own sums
    assert lcm_module._all_finite(offset.float(), mask.float())
    assert lcm_module._all_finite(offset.bfloat16(), mask.bfloat16())


@pytest.mark.parametrize('bad', [float('nan'), float('inf'), -float('inf')])
@pytest.mark.parametrize('where', ['offset', 'mask'])
def test_finite_check_catches_one_bad_float16_value(bad, where):
    offset, mask = _w48_offset_and_mask()
    (offset if where == 'offset' else mask)[3, 7, 50, 40] = bad
    assert not lcm_module._all_finite(offset, mask)


def test_finite_check_opposite_infs_do_not_cancel():
    offset, mask = _w48_offset_and_mask()
    offset[3, 7, 50, 40] = float('inf')
    mask[0, 0, 0, 0] = -float('inf')
    assert not lcm_module._all_finite(offset, mask)


def test_w48_lcm_raises_on_a_float16_nan():
    lcm = LocalCalibrationModule(**W48_LCM).half()
    key = torch.randn(1, W48_C, W48_H, W48_W, dtype=torch.float16)
    sup = torch.randn(1, 1, W48_C, W48_H, W48_W, dtype=torch.float16)
    sup[0, 0, 0, 40, 30] = float('nan')
    with torch.no_grad():  # make the NaN reach the offsets
        lcm.offset_convs[0].weight.fill_(0.01)
    with pytest.raises(FloatingPointError, match='non-finite'):
        with torch.no_grad():
            lcm(key, sup)


def test_tiny_famipose_loss_under_bfloat16_autocast():
    # compute_acc=False: mmpose's HeatmapHead turns the heatmaps into a
    # NumPy array for the accuracy, and NumPy has no bfloat16
    model = _build(train_cfg=dict(compute_acc=False))
    model.train()
    dtypes = []
    model.lcm.offset_convs[0].register_forward_hook(
        lambda module, args, out: dtypes.append(out.dtype))
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = model(_video(), _data_samples(), mode='loss')
    assert dtypes == [torch.bfloat16]
    for name, value in losses.items():
        assert torch.isfinite(torch.as_tensor(value)).all(), name
    assert losses['loss_kpt'] > 0 and losses['loss_mi'] > 0
    (losses['loss_kpt'] + losses['loss_mi']).backward()
