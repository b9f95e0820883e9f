# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Make ``tools/train.py --resume`` continue a run exactly as if it had not been interrupted."""
import ast
import os.path as osp
import random
from functools import partial
from typing import Optional, Set

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import DefaultSampler
from mmengine.dataset import worker_init_fn as mmengine_worker_init_fn
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner.checkpoint import CheckpointLoader
from mmpose.registry import HOOKS


def epoch_seed(seed: int, epoch: int, rank: int, stream: int) -> int:
    """The 64-bit seed of one random stream of one training epoch.

    Args:
        seed (int): The run's seed (``runner.seed``; restored from the checkpoint on resume).
        epoch (int): 0-based training epoch.
        rank (int): Process rank.
        stream (int): 0 for the training process itself, ``1 + i`` for data-loading worker ``i``.

    Returns:
        int: A seed in ``[0, 2**64)``, independent across the four arguments (numpy's ``SeedSequence``).
    """
    words = np.random.SeedSequence(seed % 2**64, spawn_key=(epoch, rank, stream)).generate_state(2, np.uint32)
    return int(words[0]) | int(words[1]) << 32


def seed_all(seed: int) -> None:
    """Seed python's ``random``, numpy's global generator and torch (all devices) of this process."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def epoch_worker_init_fn(worker_id: int, seed: int, epoch: int, rank: int) -> None:
    """``worker_init_fn`` of the training dataloader: seeds worker ``worker_id`` from (seed, epoch, rank, worker)."""
    seed_all(epoch_seed(seed, epoch, rank, 1 + worker_id))


def last_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint named by ``work_dir/last_checkpoint`` (what ``--resume`` without a path resumes), if any."""
    path = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return f.read().strip() or None


def recorded_load_from(checkpoint: dict) -> Optional[str]:
    """The ``load_from`` of the run that wrote ``checkpoint`` (read from the config text mmengine stores in it)."""
    text = checkpoint.get('meta', {}).get('cfg')
    if not isinstance(text, str):
        return None
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, 'id', None) == 'load_from' for t in node.targets):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                return None
            return value if isinstance(value, str) else None
    return None


def _same_file(a: str, b: str) -> bool:
    return a == b or osp.realpath(a) == osp.realpath(b)


@HOOKS.register_module()
class ExactResumeHook(Hook):
    """Make ``tools/train.py --resume`` reproduce the uninterrupted run, and make it work for stage 2.

    1. **Random state per epoch.**  A checkpoint stores weights, optimizer, schedulers and the seed, not the state of
       the random generators; mmengine seeds every data worker once from ``seed + worker id``.  With persistent
       workers the augmentations of epoch 2 continue the workers' streams of epoch 1, so a run resumed at epoch 2
       draws different ones; without them every epoch replays the same streams.  This hook seeds, at the start of
       every training epoch, the training process from ``(seed, epoch, rank)`` and each data worker from
       ``(seed, epoch, rank, worker id)`` (a ``worker_init_fn`` set on the training dataloader), and resets the
       shuffling seed of a ``DefaultSampler`` to the seed restored from the checkpoint (mmengine builds the sampler
       before it resumes, so a run without a configured seed would shuffle with a new one).  A resumed epoch then
       sees the same samples, augmentations and model randomness as in the uninterrupted run: bit for bit on CPU
       (tested), on GPU as far as ``randomness.deterministic=True`` makes its kernels deterministic.  Every epoch
       also draws new augmentations (mmengine's seeding replays the same ones when workers restart).  Workers must
       start at every epoch for this:
       ``persistent_workers=False`` for the training dataloader (the cost is one worker start per epoch); with
       persistent workers the hook warns and cannot reseed them.  A ``worker_init_fn`` of the config's own is kept.

    2. **``--resume`` together with ``load_from``.**  The stock ``tools/train.py`` turns ``--resume`` into
       ``resume=True, load_from=None`` and only then applies ``--cfg-options``, so stage 2 run as
       ``tools/run_demo.py`` runs it (``--cfg-options load_from=<stage-1 checkpoint>``) with ``--resume`` makes
       mmengine *resume* the stage-1 file: it loads those weights (non-strict), takes stage 1's epoch and iteration,
       and fails restoring the optimizer (``ValueError: loaded state dict contains a parameter group that doesn't
       match the size of optimizer's group``).  Before the runner loads anything (``before_run``) this hook treats
       ``load_from`` as the run's initialisation, not as the state to resume, when the work directory's latest
       checkpoint was trained from it (the ``load_from`` recorded in that checkpoint) or when its weights are not
       this model's (different parameter names: it cannot be this run's state).  It then resumes the work
       directory's latest checkpoint, or, in a work directory without one, starts the run from ``load_from``.  A
       checkpoint of this model given as ``--resume PATH`` is resumed as before; so is, in a work directory without
       a checkpoint, a ``load_from`` with exactly this model's parameter names (nothing tells it from
       ``--resume PATH`` there).  Also, ``--resume`` alone in an empty work directory would start from random
       weights (train.py cleared ``load_from``): the hook loads the ``load_from`` of the config file instead.
       The decision reads the checkpoints involved once (on CPU) before training; it uses the runner's private
       ``_resume`` / ``_load_from``, which mmengine 0.10 gives no public way to change before it loads.

    Args:
        seed_workers (bool): Apply 1. Defaults to True.
        fix_resume_source (bool): Apply 2. Defaults to True.
    """

    priority = 'VERY_HIGH'  # seed before any other hook of the epoch draws a random number

    def __init__(self, seed_workers: bool = True, fix_resume_source: bool = True) -> None:
        self.seed_workers = seed_workers
        self.fix_resume_source = fix_resume_source

    # ----------------------------------------------------------------------------------- 2. what --resume loads
    def before_run(self, runner) -> None:
        """Decide, before the runner loads or resumes, whether ``load_from`` is an initialisation."""
        if not self.fix_resume_source or not getattr(runner, '_resume', False) or getattr(runner, '_has_loaded', 0):
            return
        load_from = runner._load_from
        latest = last_checkpoint(runner.work_dir)
        if load_from is None:
            if latest is None:
                self._start_from_config_file_init(runner)
            return
        if latest is not None and _same_file(latest, load_from):
            return
        if self._is_this_models_state(runner, load_from) and not (
                latest is not None and self._was_trained_from(latest, load_from)):
            return  # an explicit `--resume PATH` of this model: mmengine's behaviour
        if latest is not None:
            runner.logger.info(
                f'ExactResumeHook: load_from={load_from} is this run\'s initialisation, not a state to resume; '
                f'resuming the work directory\'s latest checkpoint {latest}.')
            runner._load_from = latest
        else:
            runner.logger.info(
                f'ExactResumeHook: nothing to resume in {runner.work_dir}; starting the run from '
                f'load_from={load_from} (its initialisation).')
            runner._resume = False

    def _start_from_config_file_init(self, runner) -> None:
        filename = getattr(runner.cfg, 'filename', None)
        if not filename or not osp.isfile(filename):
            return
        init = Config.fromfile(filename).get('load_from')
        if init:
            runner.logger.info(
                f'ExactResumeHook: nothing to resume in {runner.work_dir}; starting the run from the config\'s '
                f'load_from={init} (tools/train.py --resume had cleared it).')
            runner._load_from = init
            runner._resume = False

    @staticmethod
    def _model_keys(runner) -> Set[str]:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        return set(model.state_dict())

    def _is_this_models_state(self, runner, filename: str) -> bool:
        checkpoint = CheckpointLoader.load_checkpoint(filename, map_location='cpu')
        state = checkpoint.get('state_dict', checkpoint)
        keys = {key[len('module.'):] if key.startswith('module.') else key for key in state}
        return keys == self._model_keys(runner)

    @staticmethod
    def _was_trained_from(latest: str, load_from: str) -> bool:
        if not osp.isfile(latest):
            return False
        recorded = recorded_load_from(CheckpointLoader.load_checkpoint(latest, map_location='cpu'))
        return recorded is not None and _same_file(recorded, load_from)

    # -------------------------------------------------------------------------------------- 1. random state
    def before_train(self, runner) -> None:
        """Check the workers can be reseeded; give the sampler the (restored) seed of the run."""
        if not self.seed_workers:
            return
        loader = runner.train_dataloader
        if loader.num_workers > 0 and loader.persistent_workers:
            runner.logger.warning(
                'ExactResumeHook: train_dataloader.persistent_workers=True: the data workers keep their random '
                'state from epoch to epoch and cannot be reseeded, so a run resumed with --resume draws other '
                'augmentations than the uninterrupted run. Set train_dataloader.persistent_workers=False for an '
                'exact resume (one worker start per epoch).')
        sampler = loader.sampler
        if not isinstance(sampler, DefaultSampler):  # a configured batch sampler wraps it
            sampler = getattr(loader.batch_sampler, 'sampler', None)
        diff_rank_seed = getattr(runner, '_randomness_cfg', {}).get('diff_rank_seed', False)
        if isinstance(sampler, DefaultSampler) and not diff_rank_seed and sampler.seed != runner.seed:
            runner.logger.info(f'ExactResumeHook: the training sampler shuffles with the run\'s seed {runner.seed} '
                               f'(was {sampler.seed}).')
            sampler.seed = runner.seed

    def before_train_epoch(self, runner) -> None:
        """Seed this process and the epoch's data workers from (seed, epoch, rank[, worker])."""
        if not self.seed_workers:
            return
        seed, epoch, rank = runner.seed, runner.epoch, get_rank()
        seed_all(epoch_seed(seed, epoch, rank, 0))
        loader = runner.train_dataloader
        current = loader.worker_init_fn
        ours = current is None or (isinstance(current, partial)
                                   and current.func in (mmengine_worker_init_fn, epoch_worker_init_fn))
        if loader.num_workers > 0 and ours:
            loader.worker_init_fn = partial(epoch_worker_init_fn, seed=seed, epoch=epoch, rank=rank)
