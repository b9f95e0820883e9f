"""Stage 2 finds stage 1's best checkpoint under a fixed name, whatever epoch was best (issue 12, point 5).

Stage 1 runs three epochs through the stock tools/train.py with a metric scripted to peak at epoch 2; the FAMI-Pose
config then loads ``<stage 1>/best.pth`` through the stock tool, and its frozen backbone must be epoch 2's.
"""
import os
import os.path as osp
import sys

import pytest
import torch
from integration_utils import FAMI_CONFIG, STAGE1_CONFIG, STOCK_TOOLS, data_options, run_tool

pytestmark = pytest.mark.integration

HERE = osp.dirname(osp.abspath(__file__))


def _state(checkpoint: str) -> dict:
    import famipose_mmpose  # noqa: F401  (allow-lists mmengine's globals)
    return torch.load(checkpoint, map_location='cpu', weights_only=True)['state_dict']


def test_stage2_loads_the_best_stage1_epoch_by_its_fixed_name(tiny_posetrack, tmp_path, monkeypatch):
    monkeypatch.setenv('PYTHONPATH', os.pathsep.join(filter(None, [HERE, os.environ.get('PYTHONPATH')])))
    config = tmp_path / 'stage1_scripted.py'  # the stage-1 config, validated by a metric that peaks at epoch 2
    config.write_text(f"_base_ = ['{STAGE1_CONFIG}']\n"
                      "custom_imports = dict(imports=['famipose_mmpose', 'scripted_metric'])\n"
                      "val_evaluator = dict(_delete_=True, type='ScriptedScoreMetric', scores=[0.2, 0.9, 0.5])\n")
    stage1 = str(tmp_path / 'stage1')
    run_tool([
        sys.executable,
        osp.join(STOCK_TOOLS, 'train.py'),
        str(config), '--work-dir', stage1, '--cfg-options', *data_options(tiny_posetrack), 'train_cfg.max_epochs=3',
        'default_hooks.checkpoint.max_keep_ckpts=-1'
    ],
             cwd=str(tmp_path))
    assert os.readlink(osp.join(stage1, 'best.pth')) == 'best_posetrack_Total AP_epoch_2.pth'
    assert os.readlink(osp.join(stage1, 'last.pth')) == 'epoch_3.pth'

    stage2 = str(tmp_path / 'stage2')
    run_tool([
        sys.executable,
        osp.join(STOCK_TOOLS, 'train.py'), FAMI_CONFIG, '--work-dir', stage2, '--cfg-options',
        *data_options(tiny_posetrack), 'train_cfg.max_epochs=1', f'load_from={stage1}/best.pth'
    ],
             cwd=str(tmp_path))
    fami = _state(osp.join(stage2, 'last.pth'))
    best, last = _state(osp.join(stage1, 'epoch_2.pth')), _state(osp.join(stage1, 'epoch_3.pth'))
    backbone = [k for k in best if k.startswith('backbone.') and k.endswith('.weight')]
    assert backbone
    for key in backbone:  # the backbone is frozen in stage 2: it is still the loaded epoch's
        torch.testing.assert_close(fami[key], best[key])
    assert any(not torch.equal(best[k], last[k]) for k in backbone), 'epochs 2 and 3 have the same backbone'
