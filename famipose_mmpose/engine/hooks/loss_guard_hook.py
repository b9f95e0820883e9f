# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Stop training on a non-finite loss, and warn once when the loss explodes."""
import math
import os.path as osp
from collections import deque
from typing import Deque, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.hooks import CheckpointHook, Hook
from mmengine.runner import EpochBasedTrainLoop, find_latest_checkpoint
from mmpose.registry import HOOKS
from torch import Tensor, nn


class NonFiniteTrainingError(FloatingPointError):
    """Training produced a NaN or infinite loss or weight; raised before any checkpoint of that state is written."""


def _scalar(value) -> Tuple[bool, str]:
    """Whether a logged value is finite, and how to print it."""
    if isinstance(value, Tensor):
        value = value.detach()
        finite = bool(torch.isfinite(value).all())
        shown = f'{value.item():.6g}' if value.numel() == 1 else f'tensor of shape {tuple(value.shape)}'
        return finite, shown
    number = float(value)
    return math.isfinite(number), f'{number:.6g}'


def _as_float(value) -> float:
    return float(value.detach().sum()) if isinstance(value, Tensor) else float(value)


def non_finite_tensors(module: nn.Module) -> List[str]:
    """Names of the floating-point parameters and buffers of ``module`` that hold a NaN or an infinity."""
    return [
        name for name, tensor in module.state_dict().items()
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())
    ]


@HOOKS.register_module()
class LossGuardHook(Hook):
    """Refuse to go on training, or to checkpoint, once the loss or the weights are not finite.

    mmengine logs a ``nan`` loss and carries on: the optimizer step has already written NaNs into the weights, the
    next epoch checkpoint holds them and ``last_checkpoint`` points to it (with ``max_keep_ckpts`` the last good
    checkpoint is even deleted first).  This hook checks, with a priority above every hook that saves or schedules:

    - after every training iteration, each loss term of the model's output (the keys containing ``loss``, as
      :meth:`mmengine.model.BaseModel.parse_losses` sums them): a NaN or an infinity raises
      :class:`NonFiniteTrainingError` naming the iteration, the epoch and the value of every loss term, before the
      :class:`~mmengine.hooks.CheckpointHook` of that iteration runs;
    - the weights (floating-point parameters and buffers) at the end of every epoch, before each validation during
      training and at each iteration where an iteration-based ``CheckpointHook`` saves, so that a step that overflows
      the weights while its loss was still finite cannot be saved, nor be validated and kept as the best checkpoint;
    - every checkpoint in ``before_save_checkpoint``, as a last line of defence (raising there writes nothing).

    It also warns once when the total loss explodes without being NaN yet: the median of the last ``window``
    iterations is more than ``growth_factor`` times the median of the first ``reference_iters`` iterations (both of
    absolute values; counted from the start of this process, i.e. from the resumed iteration after ``--resume``).
    The defaults (1000x, the first 20 iterations, a window of 10) never fire on a healthy run, whose loss falls from
    its first values, and a sustained explosion (not one outlier batch) is what they catch; the warning names the
    iteration, the loss, both medians and the learning rate, and suggests lowering it.  A reference of 0 disables it.

    Cost: the loss values are the ones mmengine's logger has already copied to the host; the weights are read once
    per epoch, validation and checkpoint.

    In distributed training each process checks its own loss; NaN gradients reach every process through the
    all-reduce, so every process stops within one iteration and the launcher ends the job.

    Args:
        growth_factor (float): Warn when the recent loss exceeds the reference loss by this factor. Defaults to 1000.
        reference_iters (int): Number of first iterations whose median is the reference loss. Defaults to 20.
        window (int): Number of last iterations whose median is the recent loss. Defaults to 10.
    """

    priority = 'HIGH'  # after RuntimeInfoHook (VERY_HIGH); before logger, param scheduler and checkpoint hooks

    def __init__(self, growth_factor: float = 1000., reference_iters: int = 20, window: int = 10) -> None:
        if not growth_factor > 1:
            raise ValueError(f'LossGuardHook: growth_factor must be > 1, got {growth_factor}.')
        if reference_iters < 1 or window < 1:
            raise ValueError(f'LossGuardHook: reference_iters ({reference_iters}) and window ({window}) must be >= 1.')
        self.growth_factor = float(growth_factor)
        self.reference_iters = int(reference_iters)
        self.window = int(window)
        self._first: List[float] = []
        self._recent: Deque[float] = deque(maxlen=self.window)
        self._warned = False
        self._training = False

    # ----------------------------------------------------------------------------------------------------- state
    def before_train(self, runner) -> None:
        self._training = True

    def after_train(self, runner) -> None:
        self._training = False

    # ------------------------------------------------------------------------------------------------ the checks
    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs: Optional[dict] = None) -> None:
        """Raise on a non-finite loss term; track the total loss for the growth warning."""
        if outputs:
            self._check_losses(runner, batch_idx, outputs)
        if self._iteration_checkpoint_due(runner):
            self._check_weights(runner, f'after iteration {runner.iter + 1}', batch_idx)

    def after_train_epoch(self, runner) -> None:
        """Check the weights before the epoch's checkpoint (CheckpointHook runs after this hook)."""
        self._check_weights(runner, f'at the end of epoch {runner.epoch + 1}')

    def before_val_epoch(self, runner) -> None:
        """Check the weights before a validation during training: a non-finite model must never become the best."""
        if self._training:
            self._check_weights(runner, f'before the validation after iteration {runner.iter}')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Refuse to write a checkpoint whose ``state_dict`` holds a NaN or an infinity."""
        state = checkpoint.get('state_dict', {})
        bad = [
            name for name, tensor in state.items()
            if isinstance(tensor, Tensor) and tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())
        ]
        if bad:
            meta = checkpoint.get('meta', {})
            self._fail(
                runner, f'Refusing to save the checkpoint of epoch {meta.get("epoch")}, iteration {meta.get("iter")}: '
                f'{self._name_list(bad)} hold NaN or infinite values. {self._advice(runner)}')

    # ---------------------------------------------------------------------------------------------------- helpers
    def _check_losses(self, runner, batch_idx: int, outputs: Dict) -> None:
        terms = [(key, value) for key, value in outputs.items() if 'loss' in key]
        shown, bad = [], []
        for key, value in terms:
            finite, text = _scalar(value)
            shown.append(f'{key}={text}')
            if not finite:
                bad.append(key)
        if bad:
            self._fail(
                runner, f'Non-finite loss at iteration {runner.iter + 1} ({self._where(runner, batch_idx)}): '
                f'{", ".join(bad)} not finite ({", ".join(shown)}). Training stopped before anything of this '
                f'iteration was saved. {self._advice(runner)}')
        if 'loss' in outputs:  # mmengine's total of the terms
            self._track_growth(runner, batch_idx, abs(_as_float(outputs['loss'])))
        elif terms:
            self._track_growth(runner, batch_idx, abs(sum(_as_float(value) for _, value in terms)))

    def _track_growth(self, runner, batch_idx: int, value: float) -> None:
        if len(self._first) < self.reference_iters:
            self._first.append(value)
            return
        self._recent.append(value)
        if self._warned or len(self._recent) < self.window:
            return
        reference = float(np.median(self._first))
        recent = float(np.median(self._recent))
        if reference > 0 and recent > self.growth_factor * reference:
            self._warned = True
            runner.logger.warning(
                f'LossGuardHook: the loss has grown {recent / reference:.3g}x at iteration {runner.iter + 1} '
                f'({self._where(runner, batch_idx)}): loss {value:.6g}, median of the last {self.window} iterations '
                f'{recent:.6g}, median of the first {self.reference_iters} {reference:.6g} (warning once; threshold '
                f'{self.growth_factor:g}x). Training is likely diverging: lower the learning rate '
                f'({self._lr_text(runner)}), e.g. optim_wrapper.optimizer.lr, or clip gradients '
                '(optim_wrapper.clip_grad).')

    def _iteration_checkpoint_due(self, runner) -> bool:
        """Whether an iteration-based CheckpointHook saves after this iteration."""
        for hook in runner.hooks:
            if isinstance(hook, CheckpointHook) and not hook.by_epoch:
                if hook.every_n_train_iters(runner, hook.interval, hook.save_begin) or (
                        hook.save_last and hook.is_last_train_iter(runner)):
                    return True
        return False

    def _check_weights(self, runner, when: str, batch_idx: Optional[int] = None) -> None:
        bad = non_finite_tensors(runner.model)
        if bad:
            where = f' ({self._where(runner, batch_idx)})' if batch_idx is not None else ''
            self._fail(
                runner, f'Non-finite weights {when}{where}: {self._name_list(bad)} hold NaN or infinite values; '
                f'training stopped before they were saved or validated. {self._advice(runner)}')

    def _fail(self, runner, message: str) -> None:
        runner.logger.error(message)
        raise NonFiniteTrainingError(message)

    @staticmethod
    def _where(runner, batch_idx: int) -> str:
        """The iteration as mmengine's logger names it."""
        if not isinstance(runner.train_loop, EpochBasedTrainLoop):
            return f'Iter(train) [{runner.iter + 1}/{runner.max_iters}]'
        return f'Epoch(train) [{runner.epoch + 1}][{batch_idx + 1}/{len(runner.train_dataloader)}]'

    @staticmethod
    def _name_list(names: Sequence[str], shown: int = 5) -> str:
        more = f' and {len(names) - shown} more' if len(names) > shown else ''
        return f'{len(names)} tensor(s) ({", ".join(names[:shown])}{more})'

    @staticmethod
    def _lr_text(runner) -> str:
        try:
            rates = runner.optim_wrapper.get_lr()
        except (AttributeError, TypeError):
            return 'learning rate unknown'
        return ', '.join(f'{name}={values[0]:.3g}' for name, values in rates.items() if values)

    def _advice(self, runner) -> str:
        has_last = osp.isfile(osp.join(runner.work_dir, 'last_checkpoint'))
        last = find_latest_checkpoint(runner.work_dir) if has_last else None
        kept = f'The last checkpoint is {last}. ' if last else 'No checkpoint was written. '
        return (f'{kept}Likely cause: the learning rate is too high ({self._lr_text(runner)}); lower '
                'optim_wrapper.optimizer.lr (or the warm-up), or clip gradients with optim_wrapper.clip_grad.')
