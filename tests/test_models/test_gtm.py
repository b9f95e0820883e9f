# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Tests of the Global Transformation Module."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmpose.registry import MODELS

from famipose_mmpose.models.necks import GlobalTransformationModule
from famipose_mmpose.models.released import ReleasedGTM, upgrade_legacy_cfg

CHANNELS = 16
HEIGHT, WIDTH = 24, 18
MARGIN = 8
# the paper's affine GTM and the authors' released translation-only one
GTM_CLASSES = dict(affine=GlobalTransformationModule, translation=ReleasedGTM)


def _tiny_gtm(mode: str) -> GlobalTransformationModule:
    return GTM_CLASSES[mode](
        in_channels=CHANNELS,
        feat_size=(HEIGHT, WIDTH),
        mid_channels=16,
        num_downsamples=3,
        hidden_dims=(64, 64))


def _pixel_grid(num: int) -> torch.Tensor:
    """(num, H, W, 2) pixel coordinates (x, y) of every output pixel."""
    ys, xs = torch.meshgrid(
        torch.arange(HEIGHT, dtype=torch.float32),
        torch.arange(WIDTH, dtype=torch.float32),
        indexing='ij')
    return torch.stack([xs, ys], dim=-1).expand(num, HEIGHT, WIDTH, 2)


def _theta_to_pixel_grid(theta: torch.Tensor) -> torch.Tensor:
    """Sampling positions in pixels (align_corners=True) of affine_grid."""
    grid = F.affine_grid(
        theta, [theta.shape[0], 1, HEIGHT, WIDTH], align_corners=True)
    scale = torch.tensor([(WIDTH - 1) / 2.0, (HEIGHT - 1) / 2.0])
    return (grid + 1.0) * scale


def _scenes(num: int, gen: torch.Generator) -> torch.Tensor:
    """Smooth non-negative random features (like ReLU features) on a canvas
    MARGIN pixels larger than the feature on every side: sparse positive
    impulses blurred by a Gaussian (sigma 2 px)."""
    height, width = HEIGHT + 2 * MARGIN, WIDTH + 2 * MARGIN
    impulses = (torch.rand(num * CHANNELS, 1, height, width, generator=gen)
                < 0.03).float()
    impulses = impulses * torch.rand(impulses.shape, generator=gen)
    taps = torch.arange(-6, 7, dtype=torch.float32)
    kernel = torch.exp(-taps**2 / 8.0)
    kernel = kernel / kernel.sum()
    blurred = F.conv2d(impulses, kernel.view(1, 1, 1, -1), padding=(0, 6))
    blurred = F.conv2d(blurred, kernel.view(1, 1, -1, 1), padding=(6, 0))
    return 60.0 * blurred.view(num, CHANNELS, height, width)


def _sample_scene(scenes: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Bilinear samples of the scenes at feature pixel positions."""
    height, width = scenes.shape[-2:]
    pos = points + MARGIN
    grid = torch.stack([
        pos[..., 0] / (width - 1) * 2 - 1, pos[..., 1] / (height - 1) * 2 - 1
    ], -1)
    return F.grid_sample(scenes, grid, align_corners=True)


def _make_pairs(scenes: torch.Tensor, num: int, mode: str,
                gen: torch.Generator):
    """Key/supporting pairs related by a known sampling map S (pixels),
    ``S(p) = A (p - c) + c + t``: ``sup(S(p)) = key(p)``, i.e.
    ``sup(q) = scene(S^-1(q))``. Shifts up to 2.5 px; in affine mode also
    rotations up to 6 degrees and scales 0.94-1.06.

    Returns key, sup (num, C, H, W) and the true theta (num, 2, 3) in the
    affine_grid convention.
    """
    picked = scenes[torch.randint(0, scenes.shape[0], (num, ), generator=gen)]
    shift = (torch.rand(num, 2, generator=gen) * 2 - 1) * 2.5
    if mode == 'affine':
        angle = (torch.rand(num, generator=gen) * 2 - 1) * math.radians(6)
        scale = 1.0 + (torch.rand(num, generator=gen) * 2 - 1) * 0.06
    else:
        angle = torch.zeros(num)
        scale = torch.ones(num)
    cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
    mat = torch.stack(
        [torch.stack([cos, -sin], -1),
         torch.stack([sin, cos], -1)], -2)  # (num, 2, 2)
    center = torch.tensor([(WIDTH - 1) / 2.0, (HEIGHT - 1) / 2.0])
    pix = _pixel_grid(num)
    key = _sample_scene(picked, pix)
    rel = pix - center - shift[:, None, None]
    src = torch.einsum('bij,bhwj->bhwi', torch.linalg.inv(mat), rel) + center
    sup = _sample_scene(picked, src)
    # normalised coordinates (align_corners=True): n = p / h - 1 with
    # h = ((W-1)/2, (H-1)/2) = c, so S becomes n -> D^-1 A D n + D^-1 t
    lin = mat / center[None, :, None] * center[None, None, :]
    theta = torch.cat([lin, (shift / center)[..., None]], dim=-1)
    return key, sup, theta


def test_registered_under_both_names():
    for name in ('GTM', 'GlobalTransformationModule'):
        gtm = MODELS.build(
            dict(
                type=name,
                in_channels=CHANNELS,
                feat_size=(HEIGHT, WIDTH),
                num_downsamples=3))
        assert isinstance(gtm, GlobalTransformationModule)


@pytest.mark.parametrize('mode', ['affine', 'translation'])
def test_identity_at_initialisation(mode):
    torch.manual_seed(0)
    gtm = _tiny_gtm(mode)
    gtm.init_weights()
    key = torch.randn(3, CHANNELS, HEIGHT, WIDTH)
    sup = torch.randn(3, CHANNELS, HEIGHT, WIDTH)
    out, theta = gtm(key, sup)
    eye = torch.tensor([[1., 0., 0.], [0., 1., 0.]]).expand(3, 2, 3)
    assert theta.shape == (3, 2, 3)
    torch.testing.assert_close(theta, eye, rtol=0, atol=1e-6)
    torch.testing.assert_close(out, sup, rtol=0, atol=1e-5)


def test_true_theta_construction_matches_sampling_map():
    """The test's own ground truth: warping sup with the true theta
    reproduces key (up to bilinear resampling of a smooth field)."""
    gen = torch.Generator().manual_seed(1)
    key, sup, theta = _make_pairs(_scenes(4, gen), 16, 'affine', gen)
    gtm = _tiny_gtm('affine')
    warped = gtm.warp(sup, theta)
    inner = (Ellipsis, slice(4, -4), slice(4, -4))
    err = (warped[inner] - key[inner]).abs().mean()
    assert err < 0.05 * key[inner].abs().mean()
    assert (sup[inner] - key[inner]).abs().mean() > \
        0.3 * key[inner].abs().mean()


def test_translation_convention_matches_kornia_warp_affine():
    """(tx, ty) moves content by +tx, +ty pixels: out(x, y) = in(x-tx, y-ty),
    zero where it comes from outside."""
    gtm = _tiny_gtm('translation')
    feat = torch.randn(2, CHANNELS, HEIGHT, WIDTH)
    theta = gtm.translation_to_theta(torch.tensor([[2.0, 1.0], [-1.0, -3.0]]))
    out = gtm.warp(feat, theta)
    torch.testing.assert_close(
        out[0, :, 1:, 2:], feat[0, :, :-1, :-2], rtol=0, atol=1e-5)
    assert out[0, :, 0, :].abs().max() < 1e-6
    assert out[0, :, :, :2].abs().max() < 1e-6
    torch.testing.assert_close(
        out[1, :, :-3, :-1], feat[1, :, 3:, 1:], rtol=0, atol=1e-5)


def test_wrong_feature_size_and_mode_raise():
    gtm = _tiny_gtm('affine')
    with pytest.raises(ValueError, match='feat_size'):
        gtm(torch.zeros(1, CHANNELS, 16, 12), torch.zeros(1, CHANNELS, 16, 12))
    with pytest.raises(ValueError, match='mode'):
        upgrade_legacy_cfg(dict(type='GTM', mode='homography'))


@pytest.mark.parametrize('mode,steps', [('translation', 150), ('affine', 400)])
def test_learns_known_transforms(mode, steps):
    """Trained alone with a photometric loss (warp(sup) ~ key; the true
    transforms are never shown to it) on pairs cut from eight generated
    scenes, the GTM recovers unseen transforms of those scenes to within
    half a feature pixel (mean displacement of its sampling grid from the
    true one)."""
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(2)
    scenes = _scenes(8, gen)
    test_key, test_sup, test_theta = _make_pairs(scenes, 64, mode, gen)

    gtm = _tiny_gtm(mode)
    gtm.init_weights()
    optimizer = torch.optim.Adam(gtm.parameters(), lr=2e-3)
    gtm.train()
    inner = (Ellipsis, slice(3, -3), slice(3, -3))
    for _ in range(steps):
        key, sup, _ = _make_pairs(scenes, 32, mode, gen)
        warped, _ = gtm(key, sup)
        loss = (warped - key)[inner].square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    gtm.eval()
    with torch.no_grad():
        warped, theta = gtm(test_key, test_sup)
    true_grid = _theta_to_pixel_grid(test_theta)
    displacement = (_theta_to_pixel_grid(theta) - true_grid).norm(dim=-1)
    untrained = (_theta_to_pixel_grid(torch.eye(3)[:2].expand(64, 2, 3)) -
                 true_grid).norm(dim=-1)
    assert untrained.mean() > 1.5  # the task is not trivial
    assert displacement.mean() < 0.5, displacement.mean()
    # and the warp with the learnt theta aligns the features
    before = (test_sup - test_key)[inner].abs().mean()
    after = (warped - test_key)[inner].abs().mean()
    assert after < 0.5 * before
