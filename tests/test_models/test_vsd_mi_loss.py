# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Tests of the VSD mutual-information loss."""
import warnings

import pytest
import torch
import torch.nn.functional as F
from mmpose.registry import MODELS
from torch import nn

from famipose_mmpose.models.losses import VSDMILoss, spatial_kl_divergence
from famipose_mmpose.models.released import ReleasedVSDMILoss, released_kl_div_term, upgrade_legacy_cfg

B, C, K, H, W = 2, 6, 5, 8, 7
T = 0.05


def _released_literal(input_maps, target_maps, temperature):
    """The authors' expression: F.kl_div fed probabilities, 'mean'."""
    with warnings.catch_warnings():  # torch warns about 'mean'
        warnings.simplefilter('ignore', UserWarning)
        return F.kl_div(
            F.softmax(input_maps.flatten(2) / temperature, -1),
            F.softmax(target_maps.flatten(2) / temperature, -1),
            reduction='mean')


def _decoder(seed=0):
    torch.manual_seed(seed)
    dec = nn.Conv2d(C, K, 1)
    nn.init.normal_(dec.weight, std=0.05)
    return dec


def _feat(*shape, grad=True):
    return torch.randn(*shape, requires_grad=grad)


def test_spatial_kl_matches_reference_and_detaches_teacher():
    torch.manual_seed(0)
    teacher = _feat(B, K, H, W)
    student = _feat(B, K, H, W)
    value = spatial_kl_divergence(teacher, student, 0.5)
    log_p = F.log_softmax(teacher.detach().flatten(2) / 0.5, -1)
    log_q = F.log_softmax(student.detach().flatten(2) / 0.5, -1)
    reference = F.kl_div(
        log_q, log_p, log_target=True, reduction='none').sum(-1).mean()
    torch.testing.assert_close(value.detach(), reference)
    value.backward()
    assert teacher.grad is None
    assert student.grad.abs().sum() > 0
    same = torch.randn(B, K, H, W)
    assert spatial_kl_divergence(same, same.clone(), T).abs() < 1e-5


def test_spatial_kl_weights_drop_joints():
    torch.manual_seed(1)
    teacher = torch.randn(B, K, H, W)
    student = torch.randn(B, K, H, W)
    weights = torch.ones(B, K)
    weights[:, 0] = 0
    changed = student.clone()
    changed[:, 0] = torch.randn(B, H, W)
    torch.testing.assert_close(
        spatial_kl_divergence(teacher, student, T, weights),
        spatial_kl_divergence(teacher, changed, T, weights))


def _vsd_inputs():
    torch.manual_seed(2)
    return dict(
        key_feat=_feat(B, C, H, W),
        enhanced_feat=_feat(B, C, H, W),
        support_feats=_feat(B, 3, C, H, W),
        aligned_feats=_feat(B, 3, C, H, W),
        gt_heatmaps=_feat(B, K, H, W),
        keypoint_weights=torch.ones(B, K))


@pytest.mark.parametrize('term,teacher,student', [
    ('label_enhanced', 'gt_heatmaps', 'enhanced_feat'),
    ('key_enhanced', 'key_feat', 'enhanced_feat'),
    ('support_aligned', 'support_feats', 'aligned_feats'),
])
def test_vsd_terms_zero_when_agreeing_positive_otherwise(
        term, teacher, student):
    loss = MODELS.build(dict(type='VSDMILoss'))
    dec = _decoder()
    inputs = _vsd_inputs()
    terms = loss.compute_terms(dec, **inputs)
    assert set(terms) == {'label_enhanced', 'key_enhanced', 'support_aligned'}
    assert terms[term] > 1e-3
    # gradient reaches the student (and the decoder), never the teacher
    terms[term].backward()
    assert inputs[teacher].grad is None
    assert inputs[student].grad.abs().sum() > 0
    assert dec.weight.grad.abs().sum() > 0
    # make the two sides agree
    agreeing = _vsd_inputs()
    if term == 'label_enhanced':
        agreeing['gt_heatmaps'] = dec(agreeing['enhanced_feat']).detach()
    else:
        agreeing[student] = agreeing[teacher].detach().clone()
    assert loss.compute_terms(dec, **agreeing)[term].abs() < 1e-5


def test_vsd_combination_and_weight():
    loss = VSDMILoss(loss_weight=0.5, beta=0.1)
    dec = _decoder()
    inputs = _vsd_inputs()
    terms = loss.compute_terms(dec, **inputs)
    expected = 0.5 * (0.1 * terms['label_enhanced'] +
                      0.9 * terms['key_enhanced'] + terms['support_aligned'])
    torch.testing.assert_close(loss(dec, **inputs), expected)
    no_lcm = dict(inputs, aligned_feats=None)
    assert 'support_aligned' not in loss.compute_terms(dec, **no_lcm)


def test_vsd_pixelmean_divides_every_term_by_the_pixel_count():
    dec = _decoder()
    inputs = _vsd_inputs()
    per_joint = VSDMILoss().compute_terms(dec, **inputs)
    per_pixel = VSDMILoss(reduction='pixelmean').compute_terms(dec, **inputs)
    assert set(per_pixel) == set(per_joint)
    for name in per_joint:
        torch.testing.assert_close(per_pixel[name], per_joint[name] / (H * W))
    with pytest.raises(ValueError, match='reduction'):
        VSDMILoss(reduction='sum')


def test_vsd_prediction_as_label():
    loss = VSDMILoss(label_source='pred')
    assert loss.needs_prediction and not loss.needs_ground_truth
    dec = _decoder()
    inputs = _vsd_inputs()
    inputs.pop('gt_heatmaps')
    pred = _feat(B, K, H, W)
    terms = loss.compute_terms(dec, pred_heatmaps=pred, **inputs)
    terms['label_enhanced'].backward()
    assert pred.grad is None
    with pytest.raises(ValueError, match='pred_heatmaps'):
        loss.compute_terms(dec, **inputs)


def test_vsd_errors():
    dec = _decoder()
    inputs = _vsd_inputs()
    inputs.pop('gt_heatmaps')
    with pytest.raises(ValueError, match='gt_heatmaps'):
        VSDMILoss().compute_terms(dec, **inputs)
    with pytest.raises(ValueError, match='beta'):
        VSDMILoss(beta=1.5)
    with pytest.raises(ValueError, match='mode'):
        upgrade_legacy_cfg(dict(type='VSDMILoss', mode='mine'))
    bad = _vsd_inputs()
    bad['gt_heatmaps'] = torch.randn(B, K, H * 2, W * 2)
    with pytest.raises(ValueError, match='same shape'):
        VSDMILoss().compute_terms(dec, **bad)


def test_released_term_equals_kl_div_on_probabilities():
    torch.manual_seed(3)
    a = torch.randn(B, K, H, W)
    b = torch.randn(B, K, H, W)
    literal = _released_literal(a, b, 1.0)
    torch.testing.assert_close(released_kl_div_term(a, b, 1.0), literal)


def test_released_term_is_stable_where_the_literal_formula_is_nan():
    torch.manual_seed(4)
    a = torch.randn(B, K, H, W)
    b = (torch.randn(B, K, H, W) * 5).requires_grad_()
    literal_b = b.detach().clone().requires_grad_()
    literal = _released_literal(a, literal_b, T)
    literal.backward()
    assert torch.isnan(literal_b.grad).any()  # what crashed the authors' run
    value = released_kl_div_term(a, b, T)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(b.grad).all()
    torch.testing.assert_close(value.detach(), literal.detach())


def _released_inputs():
    torch.manual_seed(5)
    return dict(
        key_feat=_feat(B, C, H, W),
        enhanced_feat=_feat(B, C, H, W),
        support_feats=_feat(B, 1, C, H, W),
        pred_heatmaps=_feat(B, K, H, W))


@pytest.mark.parametrize('term,detached,receives', [
    ('y_enhanced', 'enhanced_feat', 'pred_heatmaps'),
    ('key_enhanced', 'key_feat', 'enhanced_feat'),
    ('y_key', 'key_feat', 'pred_heatmaps'),
    ('y_support', 'support_feats', 'pred_heatmaps'),
    ('support_enhanced', 'support_feats', 'enhanced_feat'),
])
def test_released_gradient_goes_to_the_target_side(term, detached, receives):
    loss = ReleasedVSDMILoss()
    assert loss.needs_prediction and not loss.needs_ground_truth
    dec = _decoder()
    inputs = _released_inputs()
    terms = loss.compute_terms(dec, **inputs)
    terms[term].backward()
    assert inputs[detached].grad is None or \
        inputs[detached].grad.abs().sum() == 0
    assert inputs[receives].grad.abs().sum() > 0
    assert dec.weight.grad is None  # decoded sides are detached


def test_released_combination_and_values():
    loss = ReleasedVSDMILoss(loss_weight=0.5, beta=0.1)
    dec = _decoder()
    inputs = _released_inputs()
    terms = loss.compute_terms(dec, **inputs)
    expected = 0.5 * (-0.1 * terms['y_enhanced'] + 0.1 * terms['key_enhanced']
                      + terms['y_support'] - terms['support_enhanced'] +
                      terms['y_key'] - terms['key_enhanced'])
    torch.testing.assert_close(loss(dec, **inputs), expected)
    # the feature-feature terms use the raw channels, as released
    enh = inputs['enhanced_feat']
    literal = _released_literal(inputs['key_feat'].detach(), enh.detach(), T)
    torch.testing.assert_close(terms['key_enhanced'].detach(), literal)
    with pytest.raises(ValueError, match='pred_heatmaps'):
        loss.compute_terms(dec, inputs['key_feat'], enh)
