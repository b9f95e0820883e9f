"""tools/dist_cpu.py: FAMI-Pose trains through mmengine's Runner with DDP on 2 CPU processes, then tests.

``torchrun --nproc_per_node=2 tools/dist_cpu.py train|test ...`` on the tiny synthetic set, from a folder outside
the repository, with no stage-1 checkpoint (``load_from=None``) and mmengine's default
``find_unused_parameters=False``. ``log_level=DEBUG`` makes mmengine write one log file per rank.
"""
import glob
import os
import os.path as osp
import re
import subprocess
import sys
from typing import List, Sequence

import pytest
from distributed_utils import DIST_CPU, FAMI_CONFIG, WORLD_SIZE

pytestmark = pytest.mark.integration

BATCH_SIZE = 4


def data_options(root: str) -> List[str]:
    """``--cfg-options`` pointing the synthetic config at ``root``: batch 4, no workers, a log line per step."""
    options = [
        f'train_dataloader.dataset.data_root={root}', f'train_dataloader.batch_size={BATCH_SIZE}',
        'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
        'default_hooks.logger.interval=1'
    ]
    for split in ('val', 'test'):  # each loader reads its own split (the synthetic configs test on test)
        options += [
            f'{split}_dataloader.dataset.data_root={root}',
            f'{split}_dataloader.dataset.bbox_file={root}annotations/posetrack18_{split}_human_detections.json',
            f'{split}_evaluator.gt_dir={root}annotations/{split}/', f'{split}_dataloader.num_workers=0',
            f'{split}_dataloader.persistent_workers=False'
        ]
    return options


def torchrun(args: Sequence[str], cwd: str) -> str:
    """``torchrun --standalone --nproc_per_node=2 tools/dist_cpu.py ARGS`` from ``cwd``; its output, or a failure."""
    cmd = [
        sys.executable, '-m', 'torch.distributed.run', '--standalone', f'--nproc_per_node={WORLD_SIZE}', DIST_CPU,
        *args
    ]
    env = dict(os.environ, PYTHONWARNINGS='ignore', OMP_NUM_THREADS='1')
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:  # stderr first: torchrun's summary and a rank's traceback or abort message are there
        pytest.fail(f'{" ".join(cmd)} exited {proc.returncode}\n--- end of stderr ---\n{proc.stderr[-5000:]}\n'
                    f'--- end of stdout ---\n{proc.stdout[-3000:]}')
    return proc.stdout + proc.stderr


def train_dataset_size(root: str) -> int:
    """Length of the config's training set on ``root``, as each rank builds it."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpose.registry import DATASETS

    import famipose_mmpose  # noqa: F401
    init_default_scope('mmpose')
    dataset_cfg = Config.fromfile(FAMI_CONFIG).train_dataloader.dataset
    dataset_cfg.update(data_root=root, pipeline=[])
    return len(DATASETS.build(dataset_cfg))


@pytest.fixture(scope='module')
def trained(tiny_synthetic_root, tmp_path_factory) -> str:
    """One epoch under DDP, validated at its end; returns the work dir."""
    work_dir = str(tmp_path_factory.mktemp('dist_train'))
    torchrun([
        'train', FAMI_CONFIG, '--work-dir', work_dir, '--cfg-options', *data_options(tiny_synthetic_root),
        'train_cfg.max_epochs=1', 'train_cfg.val_interval=1', 'default_hooks.checkpoint.interval=1',
        'load_from=None', 'model_wrapper_cfg.find_unused_parameters=False', 'log_level=DEBUG'
    ],
             cwd=work_dir)
    return work_dir


def test_ddp_train_runs_one_epoch_on_both_ranks(trained, tiny_synthetic_root):
    size = train_dataset_size(tiny_synthetic_root)
    assert size % (WORLD_SIZE * BATCH_SIZE) == 0, f'pick a batch size that divides the {size} training samples'
    iters = size // (WORLD_SIZE * BATCH_SIZE)

    logs = sorted(glob.glob(osp.join(trained, '*', '*_rank[0-9].log')))
    assert [re.search(r'rank(\d)\.log$', p).group(1) for p in logs] == [str(r) for r in range(WORLD_SIZE)], logs
    for rank, path in enumerate(logs):
        with open(path) as f:
            text = f.read()
        steps = re.findall(r'Epoch\(train\) \[1\]\[\s*(\d+)/(\d+)\]', text)
        assert steps == [(str(i), str(iters)) for i in range(1, iters + 1)], f'rank {rank}: {steps}'
        assert 'loss_mi' in text, f'rank {rank} did not log the MI loss'
        if rank == 0:
            assert 'Distributed training: True' in text and f'GPU number: {WORLD_SIZE}' in text

    with open(osp.join(trained, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    assert osp.isfile(checkpoint) and osp.basename(checkpoint) == 'epoch_1.pth'
    import torch

    import famipose_mmpose  # noqa: F401  (allow-lists mmengine's checkpoint globals)
    meta = torch.load(checkpoint, map_location='cpu', weights_only=True)['meta']
    assert meta['iter'] == iters and meta['epoch'] == 1


def test_ddp_test_reports_posetrack_ap(trained, tiny_synthetic_root, tmp_path):
    with open(osp.join(trained, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    output = torchrun(['test', FAMI_CONFIG, checkpoint, '--work-dir', str(tmp_path), '--cfg-options',
                       *data_options(tiny_synthetic_root)],
                      cwd=str(tmp_path))
    assert re.search(r'posetrack/Total AP: \d+\.\d+', output), output[-3000:]
