"""The plugin runs through mmpose's STOCK tools and openmim, from outside the source tree (issue: foundation).

Each test trains/tests the tiny synthetic stage-1 config for one short epoch on 2+2 generated videos.
"""
import json
import os.path as osp
import sys

import pytest
import torch
from integration_utils import FAMI_CONFIG, MIM, STAGE1_CONFIG, STOCK_TOOLS, data_options, run_tool

pytestmark = pytest.mark.integration


def _last_checkpoint(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def _iteration_of(checkpoint: str) -> int:
    import famipose_mmpose  # noqa: F401  (allow-lists mmengine's globals)
    return torch.load(checkpoint, map_location='cpu', weights_only=True)['meta']['iter']


@pytest.fixture(scope='module')
def trained(tiny_posetrack, tmp_path_factory):
    """One epoch of the stage-1 config with the stock tools/train.py, run from an unrelated directory."""
    work_dir = str(tmp_path_factory.mktemp('stock_train'))
    run_tool([
        sys.executable,
        osp.join(STOCK_TOOLS, 'train.py'), STAGE1_CONFIG, '--work-dir', work_dir, '--cfg-options',
        *data_options(tiny_posetrack), 'train_cfg.max_epochs=1'
    ],
             cwd=work_dir)
    return work_dir


def test_stock_train_writes_checkpoint_and_posetrack_ap(trained):
    checkpoint = _last_checkpoint(trained)
    assert osp.isfile(checkpoint)
    assert _iteration_of(checkpoint) > 0
    scalars = [osp.join(trained, d, 'vis_data', 'scalars.json') for d in __import__('os').listdir(trained)
               if osp.isdir(osp.join(trained, d, 'vis_data'))]
    assert scalars, 'no vis_data/scalars.json was written'
    with open(scalars[0]) as f:
        records = [json.loads(line) for line in f]
    assert any('posetrack/Total AP' in r for r in records), 'validation did not report posetrack/Total AP'


def test_stock_test_loads_checkpoint_weights_only(trained, tiny_posetrack, tmp_path):
    proc = run_tool([
        sys.executable,
        osp.join(STOCK_TOOLS, 'test.py'), STAGE1_CONFIG,
        _last_checkpoint(trained), '--work-dir',
        str(tmp_path), '--cfg-options', *data_options(tiny_posetrack)
    ],
                    cwd=str(tmp_path))
    assert 'posetrack/Total AP' in proc.stdout + proc.stderr


def test_stock_train_resume_continues_to_same_iteration_count(trained, tiny_posetrack, tmp_path):
    """Resume the 1-epoch run to 2 epochs: the result has exactly twice the iterations of one epoch."""
    import shutil
    work_dir = str(tmp_path / 'resumed')
    shutil.copytree(trained, work_dir)
    first = _last_checkpoint(trained)
    one_epoch = _iteration_of(first)
    # last_checkpoint holds an absolute path into the original work dir; point it at the copy
    with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(work_dir, osp.basename(first)))
    proc = run_tool([
        sys.executable,
        osp.join(STOCK_TOOLS, 'train.py'), STAGE1_CONFIG, '--work-dir', work_dir, '--resume', '--cfg-options',
        *data_options(tiny_posetrack), 'train_cfg.max_epochs=2'
    ],
                    cwd=str(tmp_path))
    assert 'resumed' in (proc.stdout + proc.stderr).lower()
    assert _iteration_of(_last_checkpoint(work_dir)) == 2 * one_epoch


@pytest.mark.parametrize('package', ['mmpose', 'famipose'])
def test_mim_train(package, tiny_posetrack, tmp_path):
    run_tool([
        MIM, 'train', package, STAGE1_CONFIG, '--work-dir',
        str(tmp_path), '--cfg-options', *data_options(tiny_posetrack), 'train_cfg.max_epochs=1'
    ],
             cwd=str(tmp_path))
    assert _iteration_of(_last_checkpoint(str(tmp_path))) > 0


@pytest.mark.parametrize('package', ['mmpose', 'famipose'])
def test_mim_test(package, trained, tiny_posetrack, tmp_path):
    proc = run_tool([
        MIM, 'test', package, STAGE1_CONFIG, '--checkpoint',
        _last_checkpoint(trained), '--work-dir',
        str(tmp_path), '--cfg-options', *data_options(tiny_posetrack)
    ],
                    cwd=str(tmp_path))
    assert 'posetrack/Total AP' in proc.stdout + proc.stderr


def test_stage1_checkpoint_initialises_famipose(trained):
    """The stock-trained stage-1 checkpoint fills FAMI-Pose's whole backbone and its heatmap layer."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint
    from mmpose.registry import MODELS
    init_default_scope('mmpose')
    model = MODELS.build(Config.fromfile(FAMI_CONFIG).model)
    checkpoint = _last_checkpoint(trained)
    state = torch.load(checkpoint, map_location='cpu', weights_only=True)['state_dict']
    load_checkpoint(model, checkpoint, map_location='cpu', strict=False)
    own = model.state_dict()
    backbone_keys = [k for k in own if k.startswith('backbone.')]
    assert backbone_keys and all(k in state for k in backbone_keys), 'backbone keys missing from the stage-1 file'
    for key in backbone_keys + ['head.final_layer.weight', 'head.final_layer.bias']:
        torch.testing.assert_close(own[key], state[key])


def test_famipose_trains_and_tests_with_the_stock_tools(trained, tiny_posetrack, tmp_path):
    """Stage 2 through the stock tools: FAMI-Pose from the stage-1 checkpoint, one epoch, then tools/test.py."""
    work_dir = str(tmp_path / 'fami')
    run_tool([
        sys.executable,
        osp.join(STOCK_TOOLS, 'train.py'), FAMI_CONFIG, '--work-dir', work_dir, '--cfg-options',
        *data_options(tiny_posetrack), 'train_cfg.max_epochs=1', f'load_from={_last_checkpoint(trained)}'
    ],
             cwd=str(tmp_path))
    proc = run_tool([
        sys.executable,
        osp.join(STOCK_TOOLS, 'test.py'), FAMI_CONFIG,
        _last_checkpoint(work_dir), '--work-dir', work_dir, '--cfg-options', *data_options(tiny_posetrack)
    ],
                    cwd=str(tmp_path))
    assert 'posetrack/Total AP' in proc.stdout + proc.stderr
