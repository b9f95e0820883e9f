# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Tests of the feature aggregation."""
import pytest
import torch
from mmpose.registry import MODELS

from famipose_mmpose.models.released import ConcatFeatureAggregation, upgrade_legacy_cfg


def test_sum_is_elementwise_addition():
    agg = MODELS.build(dict(type='FeatureAggregation'))
    assert len(list(agg.parameters())) == 0
    key = torch.randn(2, 4, 5, 6)
    aligned = torch.randn(2, 3, 4, 5, 6)
    out = agg(key, aligned)
    torch.testing.assert_close(
        out, key + aligned[:, 0] + aligned[:, 1] + aligned[:, 2])


def test_concat_projects_to_input_channels_and_uses_every_input():
    torch.manual_seed(0)
    agg = ConcatFeatureAggregation(in_channels=4, num_inputs=3, num_blocks=2)
    key = torch.randn(2, 4, 5, 6, requires_grad=True)
    aligned = torch.randn(2, 2, 4, 5, 6, requires_grad=True)
    out = agg(key, aligned)
    assert out.shape == (2, 4, 5, 6)
    out.sum().backward()
    assert key.grad.abs().sum() > 0
    assert aligned.grad[:, 0].abs().sum() > 0
    assert aligned.grad[:, 1].abs().sum() > 0


def test_concat_input_count_mismatch_raises():
    agg = ConcatFeatureAggregation(in_channels=4, num_inputs=2)
    with pytest.raises(ValueError, match='num_inputs'):
        agg(torch.randn(1, 4, 5, 6), torch.randn(1, 4, 4, 5, 6))
    with pytest.raises(ValueError, match='mode'):
        upgrade_legacy_cfg(dict(type='FeatureAggregation', mode='max'))
