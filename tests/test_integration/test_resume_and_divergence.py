"""Issue 13 through mmpose's STOCK tools/train.py, on the tiny synthetic set.

- a run killed after epoch 1 and continued with ``--resume`` ends with the weights and the AP of the uninterrupted
  run, with the training dataloader as the configs ship it (a data worker, shuffling, random augmentation);
- stage 2 run as tools/run_demo.py runs it (``--cfg-options load_from=<stage 1>``) can be ``--resume``d;
- a run whose loss turns NaN stops there and leaves no checkpoint with non-finite weights.

Every run here has 2 iterations of 8 samples per epoch; validation only where a test compares it.
"""
import glob
import json
import os
import os.path as osp
import re
import subprocess
import sys
from typing import Dict, List

import pytest
import torch
from integration_utils import FAMI_CONFIG, STAGE1_CONFIG, STOCK_TOOLS, data_options, run_tool

pytestmark = pytest.mark.integration

TRAIN = osp.join(STOCK_TOOLS, 'train.py')
ITERS_PER_EPOCH = 2


def options(root: str) -> List[str]:
    """:func:`data_options` with the training loader's workers as the config ships them, 16 training samples,
    validation at epoch 2 only, and a fixed seed with deterministic algorithms."""
    shipped = ('train_dataloader.num_workers', 'train_dataloader.persistent_workers')
    return [o for o in data_options(root) if not o.startswith(shipped)] + [
        'train_dataloader.dataset.indices=16', 'train_cfg.val_interval=2', 'randomness.seed=0',
        'randomness.deterministic=True'
    ]


def checkpoint(path: str) -> dict:
    import famipose_mmpose  # noqa: F401  (allow-lists mmengine's globals for weights_only loading)
    return torch.load(path, map_location='cpu', weights_only=True)


def last_checkpoint(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def validation_at(work_dir: str, epoch: int) -> Dict[str, float]:
    """The PoseTrack AP values logged by the validation of ``epoch`` (in any run of ``work_dir``)."""
    found = []
    for scalars in glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')):
        with open(scalars) as f:
            for line in f:
                record = json.loads(line)
                if record.get('step') == epoch and 'posetrack/Total AP' in record:
                    found.append({k: v for k, v in record.items() if k.startswith('posetrack/')})
    assert len(found) == 1, f'{len(found)} validations of epoch {epoch} in {work_dir}'
    return found[0]


def assert_same_state(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    different = [key for key in a if not torch.equal(a[key], b[key])]
    assert not different, f'{len(different)} tensors differ, e.g. {different[:5]}'


@pytest.fixture(scope='module')
def uninterrupted(tiny_posetrack, tmp_path_factory) -> str:
    """Stage 1 for 2 epochs in one go."""
    work_dir = str(tmp_path_factory.mktemp('uninterrupted'))
    run_tool([sys.executable, TRAIN, STAGE1_CONFIG, '--work-dir', work_dir, '--cfg-options',
              *options(tiny_posetrack), 'train_cfg.max_epochs=2'], cwd=work_dir)
    return work_dir


def test_resume_after_epoch_1_reproduces_the_uninterrupted_run(uninterrupted, tiny_posetrack, tmp_path):
    work_dir = str(tmp_path)
    run_tool([sys.executable, TRAIN, STAGE1_CONFIG, '--work-dir', work_dir, '--cfg-options',
              *options(tiny_posetrack), 'train_cfg.max_epochs=1'], cwd=work_dir)
    assert last_checkpoint(work_dir) == osp.join(work_dir, 'epoch_1.pth')
    proc = run_tool([sys.executable, TRAIN, STAGE1_CONFIG, '--work-dir', work_dir, '--resume', '--cfg-options',
                     *options(tiny_posetrack), 'train_cfg.max_epochs=2'], cwd=work_dir)
    assert 'resumed epoch: 1' in proc.stdout + proc.stderr

    resumed = checkpoint(osp.join(work_dir, 'epoch_2.pth'))
    whole = checkpoint(osp.join(uninterrupted, 'epoch_2.pth'))
    assert resumed['meta']['iter'] == whole['meta']['iter'] == 2 * ITERS_PER_EPOCH
    assert_same_state(resumed['state_dict'], whole['state_dict'])
    assert validation_at(work_dir, 2) == validation_at(uninterrupted, 2)


def test_stage2_resumes_with_load_from_on_the_command_line(uninterrupted, tiny_posetrack, tmp_path):
    """`--resume --cfg-options load_from=<stage 1>`, first in a new work dir (starts from stage 1), then again
    after epoch 1 (continues it). mmengine alone would resume the stage-1 file and fail on its optimizer."""
    stage1 = osp.join(uninterrupted, 'epoch_2.pth')
    work_dir = str(tmp_path)
    command = [
        sys.executable, TRAIN, FAMI_CONFIG, '--work-dir', work_dir, '--resume', '--cfg-options',
        *options(tiny_posetrack), 'train_cfg.val_interval=10', f'load_from={stage1}'
    ]
    proc = run_tool(command + ['train_cfg.max_epochs=1'], cwd=work_dir)
    assert 'starting the run from load_from' in proc.stdout + proc.stderr
    first = checkpoint(osp.join(work_dir, 'epoch_1.pth'))
    assert first['meta']['iter'] == ITERS_PER_EPOCH

    proc = run_tool(command + ['train_cfg.max_epochs=2'], cwd=work_dir)
    assert "resuming the work directory's latest checkpoint" in proc.stdout + proc.stderr
    assert 'resumed epoch: 1' in proc.stdout + proc.stderr
    second = checkpoint(osp.join(work_dir, 'epoch_2.pth'))
    assert second['meta']['iter'] == 2 * ITERS_PER_EPOCH
    # the frozen backbone is stage 1's: the stage-1 weights were the initialisation and were never replaced
    stage1_state = checkpoint(stage1)['state_dict']
    backbone = [key for key in second['state_dict'] if key.startswith('backbone.')]
    assert backbone
    for key in backbone:
        assert torch.equal(second['state_dict'][key], stage1_state[key]), key


def test_training_stops_at_a_nan_loss_without_saving_non_finite_weights(tiny_posetrack, tmp_path):
    """SGD whose learning rate is multiplied by 1e10 after epoch 1: the loss explodes in epoch 2 and is NaN soon
    after. Without the hook mmengine logs `nan`, trains on and saves the NaN weights as the last checkpoint."""
    work_dir = str(tmp_path)
    command = [
        sys.executable, TRAIN, STAGE1_CONFIG, '--work-dir', work_dir, '--cfg-options', *options(tiny_posetrack),
        'train_dataloader.num_workers=0', 'train_cfg.max_epochs=4', 'train_cfg.val_interval=10',
        'optim_wrapper.optimizer.type=SGD', 'param_scheduler.1.milestones=[1]', 'param_scheduler.1.gamma=1e10'
    ]
    env = dict(os.environ, PYTHONWARNINGS='ignore', OMP_NUM_THREADS='2')
    proc = subprocess.run(command, cwd=work_dir, env=env, capture_output=True, text=True, timeout=600)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, f'training did not stop\n{output[-3000:]}'
    match = re.search(r'NonFiniteTrainingError: Non-finite loss at iteration (\d+) \(Epoch\(train\) \[(\d+)\]'
                      r'\[\d+/2\]\): (.*) not finite \((.*)\)', output)
    assert match, output[-3000:]
    iteration, epoch = int(match.group(1)), int(match.group(2))
    assert epoch >= 2 and 'loss_kpt' in match.group(3) and 'loss_kpt=nan' in match.group(4)
    saved = glob.glob(osp.join(work_dir, '*.pth'))
    assert saved, 'the checkpoint of epoch 1 is missing'
    for path in saved:
        state = checkpoint(osp.realpath(path))
        assert state['meta']['iter'] < iteration
        assert all(bool(torch.isfinite(t).all()) for t in state['state_dict'].values()), path
    assert osp.isfile(last_checkpoint(work_dir))
    assert checkpoint(last_checkpoint(work_dir))['meta']['epoch'] == epoch - 1
