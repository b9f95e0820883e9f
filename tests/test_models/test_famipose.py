# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Tests of the FAMIPose estimator with a tiny HRNet."""
import copy

import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData, PixelData
from mmpose.models.utils.tta import flip_heatmaps
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample

import famipose_mmpose  # noqa: F401  (registers the components)
from famipose_mmpose.models.pose_estimators import FAMIPose

NUM_KPTS = 17
# PoseTrack order: nose, head_bottom, head_top, l/r ear, l/r shoulder, ...
FLIP_INDICES = [0, 1, 2, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
IMG_H, IMG_W = 64, 48
HM_H, HM_W = 16, 12
FEAT_C = 8
BATCH, FRAMES = 2, 5

TINY_HRNET = dict(
    type='HRNet',
    in_channels=3,
    extra=dict(
        stage1=dict(
            num_modules=1,
            num_branches=1,
            block='BOTTLENECK',
            num_blocks=(1, ),
            num_channels=(8, )),
        stage2=dict(
            num_modules=1,
            num_branches=2,
            block='BASIC',
            num_blocks=(1, 1),
            num_channels=(8, 16)),
        stage3=dict(
            num_modules=1,
            num_branches=2,
            block='BASIC',
            num_blocks=(1, 1),
            num_channels=(8, 16)),
        stage4=dict(
            num_modules=1,
            num_branches=2,
            block='BASIC',
            num_blocks=(1, 1),
            num_channels=(8, 16))))
CODEC = dict(
    type='MSRAHeatmap',
    input_size=(IMG_W, IMG_H),
    heatmap_size=(HM_W, HM_H),
    sigma=2)


def _head(conv_layers=True):
    head = dict(
        type='HeatmapHead',
        in_channels=FEAT_C,
        out_channels=NUM_KPTS,
        deconv_out_channels=None,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=CODEC)
    if conv_layers:
        head.update(
            conv_out_channels=(FEAT_C, ) * 3, conv_kernel_sizes=(3, 3, 3))
    return head


def _model_cfg(**overrides):
    cfg = dict(
        type='FAMIPose',
        backbone=copy.deepcopy(TINY_HRNET),
        head=_head(),
        gtm=dict(
            type='GTM',
            in_channels=FEAT_C,
            feat_size=(HM_H, HM_W),
            mid_channels=8,
            num_downsamples=3),
        lcm=dict(type='LCM', in_channels=FEAT_C, deform_groups=2),
        aggregation=dict(type='FeatureAggregation'),
        mi_loss=dict(type='VSDMILoss'),
        test_cfg=dict(flip_test=False))
    cfg.update(overrides)
    return cfg


# the authors' released variant of every component, for the tiny model
RELEASED_COMPONENTS = dict(
    gtm=dict(
        type='ReleasedGTM',
        in_channels=FEAT_C,
        feat_size=(HM_H, HM_W),
        mid_channels=8,
        num_downsamples=3),
    lcm=dict(
        type='ReleasedLCM',
        in_channels=FEAT_C,
        deform_groups=2,
        num_supporting=FRAMES - 1),
    aggregation=dict(
        type='ConcatFeatureAggregation', in_channels=FEAT_C, num_inputs=2),
    mi_loss=dict(type='ReleasedVSDMILoss'))


def _build(**overrides) -> FAMIPose:
    torch.manual_seed(0)
    model = MODELS.build(_model_cfg(**overrides))
    model.init_weights()
    return model


def _data_samples(batch=BATCH):
    rng = np.random.RandomState(0)
    samples = []
    for i in range(batch):
        center = np.array([[100.0 + 20 * i, 80.0]], dtype=np.float32)
        scale = np.array([[90.0, 120.0]], dtype=np.float32)
        sample = PoseDataSample(
            metainfo=dict(
                id=i,
                img_id=i,
                img_shape=(240, 320),
                input_size=(IMG_W, IMG_H),
                input_center=center,
                input_scale=scale,
                flip_indices=FLIP_INDICES))
        gt_instances = InstanceData()
        gt_instances.bboxes = np.concatenate(
            [center - scale / 2, center + scale / 2], axis=1)
        gt_instances.bbox_centers = center
        gt_instances.bbox_scales = scale
        gt_instances.bbox_scores = np.ones(1, dtype=np.float32)
        sample.gt_instances = gt_instances
        labels = InstanceData()
        weights = torch.ones(1, NUM_KPTS)
        weights[0, 3:5] = 0  # ears are never annotated in PoseTrack
        labels.keypoint_weights = weights
        sample.gt_instance_labels = labels
        fields = PixelData()
        fields.heatmaps = torch.from_numpy(
            rng.rand(NUM_KPTS, HM_H, HM_W).astype(np.float32))
        sample.gt_fields = fields
        samples.append(sample)
    return samples


def _video(batch=BATCH, frames=FRAMES, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(batch, frames, 3, IMG_H, IMG_W, generator=gen)


def _bn_means(module):
    return [
        m.running_mean.clone() for m in module.modules()
        if isinstance(m, torch.nn.BatchNorm2d)
    ]


def test_video_shapes_and_intermediate_features():
    model = _build()
    model.eval()
    inputs = _video()
    with torch.no_grad():
        feats = model.extract_video_feat(inputs)
        heatmaps = model(inputs, None, mode='tensor')
    n_sup = FRAMES - 1
    assert feats.key.shape == (BATCH, FEAT_C, HM_H, HM_W)
    assert feats.supporting.shape == (BATCH, n_sup, FEAT_C, HM_H, HM_W)
    assert feats.thetas.shape == (BATCH, n_sup, 2, 3)
    assert feats.coarse.shape == feats.supporting.shape
    assert feats.aligned.shape == feats.supporting.shape
    assert feats.lcm_source is feats.coarse
    assert feats.enhanced.shape == (BATCH, FEAT_C, HM_H, HM_W)
    assert heatmaps.shape == (BATCH, NUM_KPTS, HM_H, HM_W)
    # the backbone ran once on all B*T crops: key/supporting split matches
    with torch.no_grad():
        single = model.backbone(inputs[:, 2])[-1]
    torch.testing.assert_close(feats.supporting[:, 1], single)
    # GTM starts at the identity
    torch.testing.assert_close(feats.coarse, feats.supporting)


def test_loss_keys_values_and_gradients():
    model = _build()
    model.train()
    losses = model(_video(), _data_samples(), mode='loss')
    assert set(losses) == {
        'loss_kpt', 'acc_pose', 'loss_mi', 'mi_label_enhanced',
        'mi_key_enhanced', 'mi_support_aligned'
    }
    for name, value in losses.items():
        assert torch.isfinite(torch.as_tensor(value)).all(), name
    assert losses['loss_mi'] > 0
    total = losses['loss_kpt'] + losses['loss_mi']
    total.backward()
    for name, param in model.named_parameters():
        if name.startswith('backbone.'):
            assert not param.requires_grad and param.grad is None, name
        else:
            # every trainable parameter takes part (DDP-safe)
            assert param.grad is not None, name


@pytest.mark.parametrize('bn_train', [False, True])
def test_frozen_backbone_bn_flag(bn_train):
    model = _build(backbone_bn_train=bn_train)
    model.train()
    assert model.backbone.training is bn_train
    backbone_before = _bn_means(model.backbone)
    head_before = _bn_means(model.head)
    model(_video(), _data_samples(), mode='loss')
    backbone_moved = any(
        not torch.equal(a, b)
        for a, b in zip(backbone_before, _bn_means(model.backbone)))
    assert backbone_moved is bn_train
    assert any(not torch.equal(a, b)
               for a, b in zip(head_before, _bn_means(model.head)))


def test_unfrozen_backbone_trains():
    model = _build(freeze_backbone=False)
    model.train()
    losses = model(_video(), _data_samples(), mode='loss')
    (losses['loss_kpt'] + losses['loss_mi']).backward()
    grads = [p.grad for p in model.backbone.parameters()]
    assert all(p.requires_grad for p in model.backbone.parameters())
    assert any(g is not None and g.abs().sum() > 0 for g in grads)


def _sharpen_head(model):
    """The head's default init (std 0.001 per layer) gives ~1e-18 heatmaps;
    use larger weights so that the decoded maxima are well separated."""
    gen = torch.Generator().manual_seed(4)
    with torch.no_grad():
        for module in model.head.modules():
            if isinstance(module, torch.nn.Conv2d):
                module.weight.copy_(
                    torch.randn(module.weight.shape, generator=gen) * 0.3)


def _manual_keypoints(model, heatmaps, samples):
    """Stock decoding + crop-to-image transform, done by hand."""
    preds = model.head.decode(heatmaps)
    out = []
    for pred, sample in zip(preds, samples):
        meta = sample.metainfo
        out.append(pred.keypoints / np.array(meta['input_size']) *
                   meta['input_scale'] + meta['input_center'] -
                   0.5 * meta['input_scale'])
    return out


@pytest.mark.parametrize('flip', [False, True])
def test_predict_video_in_image_space(flip):
    model = _build(test_cfg=dict(flip_test=flip))
    _sharpen_head(model)
    model.eval()
    inputs = _video(seed=1)
    with torch.no_grad():
        results = model(inputs, _data_samples(), mode='predict')
        heatmaps = model(inputs, None, mode='tensor')
        if flip:
            flipped = model(inputs.flip(-1), None, mode='tensor')
            heatmaps = 0.5 * (
                heatmaps + flip_heatmaps(
                    flipped,
                    flip_mode='heatmap',
                    flip_indices=FLIP_INDICES,
                    shift_heatmap=False))
    expected = _manual_keypoints(model, heatmaps, _data_samples())
    assert len(results) == BATCH
    for result, exp, sample in zip(results, expected, _data_samples()):
        kpts = result.pred_instances.keypoints
        assert kpts.shape == (1, NUM_KPTS, 2)
        np.testing.assert_allclose(kpts, exp, rtol=1e-5, atol=1e-4)
        # inside the person box (image space, not crop space); joints with
        # a non-positive maximum are decoded to -1 by mmpose, skip them
        scores = result.pred_instances.keypoint_scores
        assert scores.shape == (1, NUM_KPTS)
        found = kpts[scores > 0]
        assert len(found) > 0
        low = sample.metainfo['input_center'] - \
            0.5 * sample.metainfo['input_scale']
        high = low + sample.metainfo['input_scale']
        assert (found >= low - 2).all() and (found <= high + 2).all()


def test_flip_test_flips_all_frames():
    """With flip test the supporting frames are flipped too: the result
    differs from flipping only the key frame."""
    model = _build(test_cfg=dict(flip_test=True))
    model.eval()
    inputs = _video(seed=2)
    with torch.no_grad():
        both = model.extract_feat(inputs.flip(-1))[0]
        key_only = inputs.clone()
        key_only[:, 0] = key_only[:, 0].flip(-1)
        partial = model.extract_feat(key_only)[0]
        # (the tiny HRNet's default init gives ~1e-9 features: compare
        # relative to their scale)
        assert (both - partial).abs().max() > 1e-2 * both.abs().max()
        results = model(inputs, _data_samples(), mode='predict')
    assert np.isfinite(results[0].pred_instances.keypoints).all()


@pytest.mark.parametrize('with_time_axis', [False, True])
def test_single_frame_equals_topdown(with_time_axis):
    torch.manual_seed(1)
    topdown = MODELS.build(
        dict(
            type='TopdownPoseEstimator',
            backbone=copy.deepcopy(TINY_HRNET),
            head=_head(),
            test_cfg=dict(flip_test=True)))
    topdown.init_weights()
    model = _build(test_cfg=dict(flip_test=True))
    incompatible = model.load_state_dict(topdown.state_dict(), strict=False)
    assert not incompatible.unexpected_keys
    topdown.eval()
    model.eval()
    frames = _video(frames=1, seed=3)
    inputs = frames if with_time_axis else frames[:, 0]
    with torch.no_grad():
        torch.testing.assert_close(
            model(inputs, None, mode='tensor'),
            topdown(frames[:, 0], None, mode='tensor'))
        ours = model(inputs, _data_samples(), mode='predict')
        theirs = topdown(frames[:, 0], _data_samples(), mode='predict')
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.pred_instances.keypoints,
                                   b.pred_instances.keypoints)
    # single-frame training: only the head's loss
    model.train()
    losses = model(inputs, _data_samples(), mode='loss')
    assert set(losses) == {'loss_kpt', 'acc_pose'}


def test_stage1_checkpoint_loads_by_name():
    """A single-frame HRNet + HeatmapHead(deconv_out_channels=None) state dict
    fills backbone.* and head.final_layer.*; only FAMI parts stay missing."""
    torch.manual_seed(2)
    stage1 = MODELS.build(
        dict(
            type='TopdownPoseEstimator',
            backbone=copy.deepcopy(TINY_HRNET),
            head=_head(conv_layers=False)))
    stage1.init_weights()
    model = _build()
    state = stage1.state_dict()
    incompatible = model.load_state_dict(state, strict=False)
    assert not incompatible.unexpected_keys
    prefixes = ('gtm.', 'lcm.', 'head.conv_layers.')
    assert incompatible.missing_keys
    assert all(k.startswith(prefixes) for k in incompatible.missing_keys)
    own = model.state_dict()
    for name in ('head.final_layer.weight', 'backbone.conv1.weight'):
        torch.testing.assert_close(own[name], state[name])


@pytest.mark.parametrize(
    'overrides,mi_keys',
    [
        (dict(gtm=None), {'label_enhanced', 'key_enhanced', 'support_aligned'
                          }),
        (dict(lcm=None), {'label_enhanced', 'key_enhanced'}),
        (dict(mi_loss=None), None),
        (dict(gtm=None, lcm=None, mi_loss=dict(type='VSDMILoss')),
         {'label_enhanced', 'key_enhanced'}),
        (dict(mi_loss=dict(type='VSDMILoss', label_source='pred')),
         {'label_enhanced', 'key_enhanced', 'support_aligned'}),
        (dict(
            aggregation=dict(
                type='ConcatFeatureAggregation',
                in_channels=FEAT_C,
                num_inputs=FRAMES,
                num_blocks=1)),
         {'label_enhanced', 'key_enhanced', 'support_aligned'}),
        # the authors' released variant end to end
        (dict(RELEASED_COMPONENTS, backbone_bn_train=True), {
                'y_enhanced', 'key_enhanced', 'y_key', 'y_support',
                'support_enhanced'
            }),
    ])
def test_ablations_build_and_train(overrides, mi_keys):
    model = _build(**overrides)
    model.train()
    losses = model(_video(batch=1), _data_samples(batch=1), mode='loss')
    expected = {'loss_kpt', 'acc_pose'}
    if mi_keys is not None:
        expected |= {'loss_mi'} | {f'mi_{k}' for k in mi_keys}
    assert set(losses) == expected
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    total.backward()
    for name, param in model.named_parameters():
        if param.requires_grad:
            assert param.grad is not None, name
    model.eval()
    with torch.no_grad():
        assert model(
            _video(batch=1), None,
            mode='tensor').shape == (1, NUM_KPTS, HM_H, HM_W)


def test_mi_loss_needs_matching_decoder():
    model = _build(
        head=dict(_head(), conv_out_channels=(16, ), conv_kernel_sizes=(3, )))
    model.train()
    with pytest.raises(ValueError, match='final_layer'):
        model(_video(batch=1), _data_samples(batch=1), mode='loss')


def test_hrnet_w48_real_sizes():
    """HRNet-W48 at 384x288 with T=5: 48-channel 96x72 features."""
    w48 = dict(
        type='HRNet',
        in_channels=3,
        extra=dict(
            stage1=dict(
                num_modules=1,
                num_branches=1,
                block='BOTTLENECK',
                num_blocks=(4, ),
                num_channels=(64, )),
            stage2=dict(
                num_modules=1,
                num_branches=2,
                block='BASIC',
                num_blocks=(4, 4),
                num_channels=(48, 96)),
            stage3=dict(
                num_modules=4,
                num_branches=3,
                block='BASIC',
                num_blocks=(4, 4, 4),
                num_channels=(48, 96, 192)),
            stage4=dict(
                num_modules=3,
                num_branches=4,
                block='BASIC',
                num_blocks=(4, 4, 4, 4),
                num_channels=(48, 96, 192, 384))))
    head = dict(
        type='HeatmapHead',
        in_channels=48,
        out_channels=NUM_KPTS,
        deconv_out_channels=None,
        conv_out_channels=(48, 48, 48),
        conv_kernel_sizes=(3, 3, 3),
        loss=dict(type='KeypointMSELoss', use_target_weight=True))
    model = MODELS.build(
        dict(
            type='FAMIPose',
            backbone=w48,
            head=head,
            gtm=dict(type='GTM', in_channels=48, feat_size=(96, 72)),
            lcm=dict(type='LCM', in_channels=48, deform_groups=12),
            mi_loss=dict(type='VSDMILoss')))
    model.eval()
    inputs = torch.randn(1, 5, 3, 384, 288)
    with torch.no_grad():
        feats = model.extract_video_feat(inputs)
        heatmaps = model.head.forward((feats.enhanced, ))
    assert feats.key.shape == (1, 48, 96, 72)
    assert feats.aligned.shape == (1, 4, 48, 96, 72)
    assert feats.thetas.shape == (1, 4, 2, 3)
    assert heatmaps.shape == (1, NUM_KPTS, 96, 72)
    assert torch.isfinite(heatmaps).all()


def test_backbone_chunks_give_the_same_features():
    """``backbone_chunk_size`` splits the frozen backbone's B*T crops into
    calls of that many crops; with eval-mode BN nothing changes."""
    whole = _build()
    chunked = _build(backbone_chunk_size=3)  # 2 x 5 crops: 3 + 3 + 3 + 1
    chunked.load_state_dict(whole.state_dict())
    calls = []
    chunked.backbone.register_forward_hook(
        lambda module, args, output: calls.append(args[0].shape[0]))
    inputs = _video()
    for model in (whole, chunked):
        model.train()  # the frozen backbone stays in eval mode
    with torch.no_grad():
        expected = whole.extract_video_feat(inputs)
        actual = chunked.extract_video_feat(inputs)
    assert calls == [3, 3, 3, 1]
    torch.testing.assert_close(actual.key, expected.key)
    torch.testing.assert_close(actual.supporting, expected.supporting)
    torch.testing.assert_close(actual.enhanced, expected.enhanced)


def test_backbone_chunks_only_in_eval_mode():
    """A backbone in train mode (batch statistics) gets all crops at once."""
    calls = []
    for bn_train in (False, True):
        model = _build(backbone_chunk_size=4, backbone_bn_train=bn_train)
        model.backbone.register_forward_hook(
            lambda module, args, output: calls.append(args[0].shape[0]))
        model.train()
        model.loss(_video(), _data_samples())
    assert calls == [4, 4, 2, BATCH * FRAMES]


@pytest.mark.parametrize('value', [0, -1, 2.5, True, '4'])
def test_backbone_chunk_size_rejects_bad_values(value):
    with pytest.raises(ValueError, match='backbone_chunk_size'):
        MODELS.build(_model_cfg(backbone_chunk_size=value))
