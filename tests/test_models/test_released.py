# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""The authors' released-code variants: their config and the old mode
flags that named them."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpose.registry import MODELS

from famipose_mmpose.models.losses import VSDMILoss
from famipose_mmpose.models.necks import FeatureAggregation, GlobalTransformationModule, LocalCalibrationModule
from famipose_mmpose.models.released import (ConcatFeatureAggregation, ReleasedGTM, ReleasedLCM, ReleasedVSDMILoss,
                                             upgrade_legacy_cfg)
from .test_famipose import RELEASED_COMPONENTS, _model_cfg

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
RELEASED_CONFIG = osp.join(
    REPO, 'configs', 'famipose', 'released',
    'famipose-released_hrnet-w48_1xb48-21e_posetrack17-384x288.py')


def test_released_config_builds_the_released_model():
    cfg = Config.fromfile(RELEASED_CONFIG)
    with DefaultScope.overwrite_default_scope('mmpose'):
        model = MODELS.build(cfg.model)
    assert type(model.gtm) is ReleasedGTM
    assert type(model.lcm) is ReleasedLCM
    assert type(model.aggregation) is ConcatFeatureAggregation
    assert type(model.mi_loss) is ReleasedVSDMILoss
    # the released regressor: BasicBlock 48 -> 16, ..., Linear 144-64-64-2
    assert model.gtm.flat_dim == 144
    assert [m.out_features for m in model.gtm.hidden] == [64, 64]
    assert model.gtm.last_layer.out_features == 2
    # one fused + calibrated feature: the aggregation concatenates two
    assert len(model.lcm.dcns) == 4
    assert model.lcm.num_supporting == len(
        cfg.train_dataloader.dataset.frame_offsets)
    assert model.aggregation.num_inputs == 2
    assert len(model.aggregation.blocks) == 3
    # released head: a 3x3 conv straight to the 17 heatmaps
    assert isinstance(model.head.conv_layers, torch.nn.Identity)
    assert model.head.final_layer.kernel_size == (3, 3)
    assert model.backbone_bn_train and model.freeze_backbone
    assert cfg.train_cfg.max_epochs == 21
    assert cfg.param_scheduler[0].milestones == [8, 12, 16]
    assert cfg.train_dataloader.batch_size == 48


# the tiny model's released components as the old mode flags wrote them
LEGACY_RELEASED = dict(
    gtm=dict(RELEASED_COMPONENTS['gtm'], type='GTM', mode='translation'),
    lcm=dict(
        RELEASED_COMPONENTS['lcm'],
        type='LCM',
        layout='released',
        num_layers=2),  # ignored by the released layout
    aggregation=dict(
        RELEASED_COMPONENTS['aggregation'],
        type='FeatureAggregation',
        mode='concat'),
    mi_loss=dict(type='VSDMILoss', mode='released'))
LEGACY_PAPER = dict(
    gtm=dict(_model_cfg()['gtm'], mode='affine'),
    lcm=dict(_model_cfg()['lcm'], layout='per_frame'),
    aggregation=dict(type='FeatureAggregation', mode='sum'),
    mi_loss=dict(type='VSDMILoss', mode='vsd'))


@pytest.mark.parametrize('legacy,current,classes', [
    (LEGACY_RELEASED, RELEASED_COMPONENTS,
     (ReleasedGTM, ReleasedLCM, ConcatFeatureAggregation, ReleasedVSDMILoss)),
    (LEGACY_PAPER, {}, (GlobalTransformationModule, LocalCalibrationModule,
                        FeatureAggregation, VSDMILoss)),
])
def test_old_mode_flags_build_the_same_model(legacy, current, classes):
    models = []
    for overrides in (legacy, current):
        torch.manual_seed(0)
        models.append(MODELS.build(_model_cfg(**copy.deepcopy(overrides))))
    old, new = models
    for name, cls in zip(('gtm', 'lcm', 'aggregation', 'mi_loss'), classes):
        assert type(getattr(old, name)) is cls
        assert type(getattr(new, name)) is cls
    old_state, new_state = old.state_dict(), new.state_dict()
    assert list(old_state) == list(new_state)
    for key, value in new_state.items():
        assert torch.equal(old_state[key], value), key


def test_upgrade_leaves_current_configs_alone():
    for cfg in (None, dict(type='GTM'), dict(type='ReleasedLCM', layout='x'),
                dict(type='HRNet', mode='translation')):
        assert upgrade_legacy_cfg(cfg) is cfg
    legacy = dict(type='LCM', layout='released', num_layers=3)
    assert upgrade_legacy_cfg(legacy) == dict(type='ReleasedLCM')
    assert legacy == dict(type='LCM', layout='released', num_layers=3)
