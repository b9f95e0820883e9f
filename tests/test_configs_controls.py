"""The matched-budget controls get exactly FAMI-Pose's stage-2 training (start, schedule, epochs, head layers, test
settings), so a FAMI-Pose gain over them is not extra epochs or head capacity."""
import os.path as osp

import pytest
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

PAIRS = [
    ('configs/synthetic/td-hm_hrnet-tiny_1xb32-12e_synthposetrack-128x96_matched-budget.py',
     'configs/synthetic/famipose_hrnet-tiny_1xb32-12e_synthposetrack-128x96.py'),
    ('configs/famipose/td-hm_hrnet-w48_8xb6-20e_posetrack17-384x288_matched-budget.py',
     'configs/famipose/famipose_hrnet-w48_8xb6-20e_posetrack17-384x288.py'),
]
HEAD_LAYERS = ('in_channels', 'out_channels', 'deconv_out_channels', 'conv_out_channels', 'conv_kernel_sizes')


def _unscoped(cfg):
    return {key: value for key, value in cfg.items() if key != '_scope_'}


@pytest.mark.parametrize('matched,fami', PAIRS, ids=[osp.basename(p[0]) for p in PAIRS])
def test_matched_budget_gets_famiposes_stage2_training(matched, fami):
    control = Config.fromfile(osp.join(REPO, matched))
    model = Config.fromfile(osp.join(REPO, fami))
    assert control.model.type == 'TopdownPoseEstimator' and model.model.type == 'FAMIPose'
    assert control.load_from == model.load_from
    assert control.train_cfg.max_epochs == model.train_cfg.max_epochs
    assert _unscoped(control.optim_wrapper.optimizer) == _unscoped(model.optim_wrapper.optimizer)
    assert control.param_scheduler == model.param_scheduler
    assert control.train_dataloader.batch_size == model.train_dataloader.batch_size
    assert control.model.backbone == model.model.backbone
    for key in HEAD_LAYERS:
        assert control.model.head.get(key) == model.model.head.get(key), key
    assert control.model.test_cfg.get('flip_test', False) == model.model.test_cfg.get('flip_test', False) is False
    assert control.train_dataloader.dataset.ann_file == model.train_dataloader.dataset.ann_file
    assert control.test_dataloader.dataset.ann_file == model.test_dataloader.dataset.ann_file


STAGES = [
    ('configs/stage1/td-hm_hrnet-w48_8xb64-20e_posetrack17-384x288.py',
     'configs/famipose/famipose_hrnet-w48_8xb6-20e_posetrack17-384x288.py'),
    ('configs/stage1/td-hm_hrnet-w48_8xb64-20e_posetrack18-384x288.py',
     'configs/famipose/famipose_hrnet-w48_8xb6-20e_posetrack18-384x288.py'),
    ('configs/stage1/td-hm_hrnet-w48_8xb64-20e_sub-jhmdb-split1-384x288.py',
     'configs/famipose/famipose_hrnet-w48_8xb6-20e_sub-jhmdb-split1-384x288.py'),
    ('configs/synthetic/td-hm_hrnet-tiny_1xb32-12e_synthposetrack-128x96.py',
     'configs/synthetic/famipose_hrnet-tiny_1xb32-12e_synthposetrack-128x96.py'),
]


@pytest.mark.parametrize('stage1,fami', STAGES, ids=[osp.basename(p[0]) for p in STAGES])
def test_stage1_and_famipose_are_tested_alike(stage1, fami):
    """Both without flip, as the paper and the authors' code test FAMI-Pose."""
    single = Config.fromfile(osp.join(REPO, stage1)).model.test_cfg
    model = Config.fromfile(osp.join(REPO, fami)).model.test_cfg
    assert single.get('flip_test', False) is False and model.get('flip_test', False) is False
