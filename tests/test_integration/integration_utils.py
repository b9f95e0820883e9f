"""Helpers of the integration tests: paths of the stock tools and a runner that reports failures in full."""
import os
import os.path as osp
import subprocess
import sys
from typing import List, Sequence

import mmpose
import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
STOCK_TOOLS = osp.join(osp.dirname(mmpose.__file__), '.mim', 'tools')
MIM = osp.join(osp.dirname(sys.executable), 'mim')
STAGE1_CONFIG = osp.join(REPO, 'configs', 'synthetic', 'td-hm_hrnet-tiny_1xb32-12e_synthposetrack-128x96.py')
FAMI_CONFIG = osp.join(REPO, 'configs', 'synthetic', 'famipose_hrnet-tiny_1xb32-12e_synthposetrack-128x96.py')


def data_options(root: str) -> List[str]:
    """``--cfg-options`` that point a synthetic config at ``root``, small and fast enough for a test."""
    options = [
        f'train_dataloader.dataset.data_root={root}', 'train_dataloader.batch_size=8',
        'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False', 'train_cfg.val_interval=1',
        'default_hooks.checkpoint.interval=1', 'default_hooks.logger.interval=1'
    ]
    for split in ('val', 'test'):  # each loader reads its own split (the synthetic configs test on test)
        options += [
            f'{split}_dataloader.dataset.data_root={root}',
            f'{split}_dataloader.dataset.bbox_file={root}annotations/posetrack18_{split}_human_detections.json',
            f'{split}_evaluator.gt_dir={root}annotations/{split}/', f'{split}_dataloader.num_workers=0',
            f'{split}_dataloader.persistent_workers=False'
        ]
    return options


def run_tool(args: Sequence[str], cwd: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run a command from ``cwd`` (not the repository), fail the test with its output if it fails."""
    env = dict(os.environ, PYTHONWARNINGS='ignore', OMP_NUM_THREADS='2')
    proc = subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(f'{" ".join(args)} exited {proc.returncode}\n--- stdout ---\n{proc.stdout[-4000:]}'
                    f'\n--- stderr ---\n{proc.stderr[-6000:]}')
    return proc
