"""A toy model, dataset and metric, and an mmengine Runner built from them, for the tests of the training hooks.

The model's loss can be scripted (one value per training step, multiplied by its single weight so that a NaN or an
infinite value reaches the weight through its gradient, as a diverging loss does); the dataset can draw an
"augmentation" from python's, numpy's and torch's generators; the metric scores every evaluation higher than the
previous one, so that any validated model would become the best checkpoint.
"""
import logging
import os.path as osp
import random
import uuid
from typing import List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset


class ToyDataset(Dataset):
    """``n`` samples ``{'inputs': [i + noise], 'index': i}``; the noise is drawn from three generators."""

    def __init__(self, n: int = 4, augment: bool = False) -> None:
        self.n = n
        self.augment = augment
        self.metainfo = dict(name='toy')

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> dict:
        value = float(index)
        if self.augment:
            value += random.random() + float(np.random.rand()) + float(torch.rand(()))
        return dict(inputs=torch.tensor([value]), index=index)


class ToyModel(BaseModel):
    """``y = w * dropout(x) + b``.

    Args:
        losses (Sequence[float], optional): The loss of each training step, in order (``loss_main = value * w``);
            ``None``: a regression loss on the inputs.
        dropout (float): Dropout probability (randomness of the training process itself).
    """

    def __init__(self, losses: Optional[Sequence[float]] = None, dropout: float = 0.) -> None:
        super().__init__()
        self.linear = nn.Linear(1, 1)
        nn.init.ones_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)
        self.dropout = nn.Dropout(dropout)
        self.losses = None if losses is None else list(losses)
        self.steps = 0
        self.seen: List[torch.Tensor] = []  # the inputs of every training step

    def forward(self, inputs, index=None, data_samples=None, mode: str = 'tensor'):
        out = self.linear(self.dropout(inputs))
        if mode == 'loss':
            self.seen.append(inputs.detach().clone())
            if self.losses is None:
                return dict(loss_main=(out - 1).pow(2).mean())
            value = self.losses[self.steps]
            self.steps += 1
            return dict(loss_main=value * self.linear.weight.sum(), loss_aux=out.mean() * 0)
        if mode == 'predict':
            return list(out.detach())
        return out


class WiderToyModel(ToyModel):
    """The toy model plus a layer: a checkpoint of :class:`ToyModel` is its (partial) initialisation."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.extra = nn.Linear(1, 1)


class CountingMetric(BaseMetric):
    """``toy/score`` = 1, 2, 3, ... at successive evaluations: every validated model is the best so far."""

    default_prefix = 'toy'

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def process(self, data_batch, data_samples) -> None:
        self.results.append(0)

    def compute_metrics(self, results) -> dict:
        self.calls += 1
        return dict(score=float(self.calls))


class RecordHandler(logging.Handler):
    """Keeps every log record."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: List[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, level: int = logging.WARNING) -> List[str]:
        return [r.getMessage() for r in self.records if r.levelno >= level]


def loader(n: int, *, augment: bool = False, batch_size: int = 1, num_workers: int = 0, persistent: bool = False,
           shuffle: bool = False, infinite: bool = False) -> dict:
    return dict(
        dataset=ToyDataset(n, augment),
        sampler=dict(type='InfiniteSampler' if infinite else 'DefaultSampler', shuffle=shuffle),
        batch_size=batch_size,
        num_workers=num_workers,
        persistent_workers=persistent and num_workers > 0,
        collate_fn=dict(type='default_collate'))


def make_runner(work_dir: str,
                model: nn.Module,
                hooks: Sequence = (),
                *,
                n: int = 4,
                max_epochs: int = 2,
                max_iters: Optional[int] = None,
                lr: float = 0.,
                val: bool = False,
                checkpoint: Optional[dict] = None,
                seed: Optional[int] = 0,
                **kwargs) -> Runner:
    """A Runner on the toy data, SGD with ``lr``, a checkpoint every epoch (or as ``checkpoint`` says).

    ``max_iters`` switches to iteration-based training; other keyword arguments go to :func:`loader` when they are
    its own (``augment``, ``num_workers``, ...) and to the Runner otherwise (``resume``, ``load_from``, ``cfg``).
    """
    loader_keys = ('augment', 'batch_size', 'num_workers', 'persistent', 'shuffle')
    loader_args = {k: kwargs.pop(k) for k in loader_keys if k in kwargs}
    if max_iters is None:
        train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
    else:
        train_cfg = dict(by_epoch=False, max_iters=max_iters, val_interval=10**6)
        loader_args['infinite'] = True
    checkpoint_cfg = dict(type='CheckpointHook', interval=1)
    checkpoint_cfg.update(checkpoint or {})
    name = f'toy_{uuid.uuid4().hex[:12]}'
    runner = Runner(
        model=model,
        work_dir=work_dir,
        train_dataloader=loader(n, **loader_args),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=lr)),
        train_cfg=train_cfg,
        val_dataloader=loader(2) if val else None,
        val_cfg=dict() if val else None,
        val_evaluator=[CountingMetric()] if val else None,
        default_hooks=dict(checkpoint=checkpoint_cfg, logger=dict(type='LoggerHook', interval=1)),
        custom_hooks=list(hooks),
        randomness=dict(seed=seed) if seed is not None else dict(seed=None),
        experiment_name=name,
        **kwargs)
    return runner


def attach_records(runner: Runner) -> RecordHandler:
    handler = RecordHandler()
    runner.logger.addHandler(handler)
    return handler


def read_last_checkpoint(work_dir: str) -> Optional[str]:
    path = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return f.read().strip()


def load_state(path: str) -> dict:
    import famipose_mmpose  # noqa: F401  (allow-lists mmengine's globals for weights_only loading)
    return torch.load(path, map_location='cpu', weights_only=True)
