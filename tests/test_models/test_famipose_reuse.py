# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""FAMI-Pose's reuse mode (``supporting_crops='own_box'``): supporting
features from each frame's own crop, resampled into the key crop by the
known geometry of the two crops."""
import numpy as np
import pytest
import torch
from mmpose.structures.bbox import get_warp_matrix

from famipose_mmpose.models.pose_estimators.famipose import (crop_warps_to_theta, mirror_crop_warps,
                                                             resample_supporting_feats)
from .test_famipose import BATCH, FRAMES, IMG_H, IMG_W, _build, _data_samples, _video


def _samples_with_warps(warps):
    samples = _data_samples()
    for sample, warp in zip(samples, warps):
        sample.set_metainfo(dict(frame_crop_warps=warp))
    return samples


def _identity_warps(batch=BATCH, frames=FRAMES):
    return np.tile(np.eye(3, dtype=np.float32)[:2], (batch, frames, 1, 1))


def test_own_box_mode_with_the_same_box_in_every_frame_equals_key_box_mode():
    """Same box in every frame: every crop warp is the identity, and both
    modes give the same losses, features and keypoints."""
    key_box = _build()
    own_box = _build(supporting_crops='own_box')
    for (name, a), b in zip(key_box.state_dict().items(),
                            own_box.state_dict().values()):
        assert torch.equal(a, b), name
    inputs = _video(seed=3)
    warps = torch.from_numpy(_identity_warps())
    key_feats = key_box.extract_video_feat(inputs)
    own_feats = own_box.extract_video_feat(inputs, warps)
    for field in ('supporting', 'coarse', 'aligned', 'enhanced'):
        torch.testing.assert_close(
            getattr(own_feats, field),
            getattr(key_feats, field),
            rtol=1e-5,
            atol=1e-5,
            msg=field)
    key_losses = key_box.loss(inputs, _data_samples())
    own_losses = own_box.loss(inputs, _samples_with_warps(_identity_warps()))
    for name, value in key_losses.items():
        torch.testing.assert_close(
            own_losses[name], value, rtol=1e-4, atol=1e-6, msg=name)
    for flip in (False, True):
        for model in (key_box, own_box):
            model.test_cfg = dict(flip_test=flip)
            model.eval()
        with torch.no_grad():
            expected = key_box.predict(inputs, _data_samples())
            got = own_box.predict(inputs,
                                  _samples_with_warps(_identity_warps()))
        for a, b in zip(got, expected):
            np.testing.assert_allclose(
                a.pred_instances.keypoints,
                b.pred_instances.keypoints,
                atol=1e-3)


def test_a_known_shift_between_two_crops_is_undone():
    """The frame crop is the key crop moved by (3, -2) feature pixels (12,
    -8 crop pixels at stride 4): resampling puts every feature pixel back
    where the key crop has it, zeros where the frame crop does not reach."""
    feat_h, feat_w = IMG_H // 4, IMG_W // 4
    key_feat = torch.randn(1, 1, 5, feat_h, feat_w)
    dx, dy = 3, -2
    # frame crop pixel = key crop pixel - (12, -8): the content at key
    # feature (u, v) sits at frame feature (u - 3, v + 2)
    frame_feat = torch.zeros_like(key_feat)
    frame_feat[..., max(0, -dy):feat_h - max(0, dy),
               max(0, -dx):feat_w - max(0, dx)] = \
        key_feat[..., max(0, dy):feat_h - max(0, -dy),
                 max(0, dx):feat_w - max(0, -dx)]
    warp = torch.tensor([[[[1., 0., -4. * dx], [0., 1., -4. * dy]]]])
    theta = crop_warps_to_theta(warp, (IMG_H, IMG_W), (feat_h, feat_w))
    back = resample_supporting_feats(frame_feat, theta)
    valid = torch.zeros(feat_h, feat_w, dtype=torch.bool)
    valid[max(0, dy):feat_h - max(0, -dy), max(0, dx):feat_w - max(0, -dx)] = 1
    torch.testing.assert_close(
        back[..., valid], key_feat[..., valid], rtol=0, atol=1e-5)
    assert back[..., ~valid].abs().max() < 1e-5  # zeros (float rounding)


def _linear_image_feature(image_to_crop, feat_size, crop_size):
    """A feature whose value at each pixel is a linear function of the image
    position it sees (bilinear resampling reproduces it exactly)."""
    feat_h, feat_w = feat_size
    crop_h, crop_w = crop_size
    v, u = np.mgrid[0:feat_h, 0:feat_w].astype(np.float64)
    crop_xy = np.stack(
        [u * crop_w / feat_w, v * crop_h / feat_h,
         np.ones_like(u)]).reshape(3, -1)
    image_xy = np.linalg.inv(np.vstack([image_to_crop, [0, 0, 1]])) @ crop_xy
    values = np.stack([image_xy[0] * 0.3 - image_xy[1] * 0.1, image_xy[1]])
    return torch.tensor(values.reshape(1, 1, 2, feat_h, feat_w),
                        dtype=torch.float64)


def test_any_affine_geometry_between_two_crops_is_undone():
    """Crops of the same image with different centres, sizes and a rotation:
    the frame crop's feature, resampled with the composed crop geometry,
    equals the key crop's wherever the frame crop sees the image."""
    crop_size, feat_size = (IMG_H, IMG_W), (IMG_H // 4, IMG_W // 4)
    key_warp = get_warp_matrix(
        np.array([100., 80.]), np.array([90., 120.]), 0., (IMG_W, IMG_H))
    frame_warp = get_warp_matrix(
        np.array([108., 74.]), np.array([75., 100.]), 12., (IMG_W, IMG_H))
    composed = np.vstack([frame_warp, [0, 0, 1]]) @ np.linalg.inv(
        np.vstack([key_warp, [0, 0, 1]]))
    theta = crop_warps_to_theta(
        torch.tensor(composed[None, None, :2]), crop_size, feat_size)
    key_feat = _linear_image_feature(key_warp, feat_size, crop_size)
    frame_feat = _linear_image_feature(frame_warp, feat_size, crop_size)
    back = resample_supporting_feats(frame_feat, theta)
    inside = resample_supporting_feats(torch.ones_like(frame_feat), theta)
    covered = inside[0, 0, 0] > 1 - 1e-9
    assert covered.float().mean() > 0.5
    torch.testing.assert_close(
        back[..., covered], key_feat[..., covered], rtol=0, atol=1e-6)


def test_mirrored_warps_describe_the_flipped_crops():
    shift = torch.tensor([[1., 0., 5.], [0., 1., -3.]])
    mirrored = mirror_crop_warps(shift, crop_width=48)
    torch.testing.assert_close(mirrored,
                               torch.tensor([[1., 0., -5.], [0., 1., -3.]]))
    identity = torch.eye(3)[:2]
    torch.testing.assert_close(mirror_crop_warps(identity, 48), identity)


def test_own_box_mode_needs_the_crop_geometry():
    model = _build(supporting_crops='own_box')
    with pytest.raises(ValueError, match='frame_crop_warps'):
        model.loss(_video(), _data_samples())
    with pytest.raises(ValueError, match="supporting_crops"):
        _build(supporting_crops='own')
