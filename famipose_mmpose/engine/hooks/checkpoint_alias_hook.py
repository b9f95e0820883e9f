# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Fixed names for the best and the latest checkpoint of a run."""
import os
import os.path as osp
from typing import Dict, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook, Hook
from mmpose.registry import HOOKS


@HOOKS.register_module()
class CheckpointAliasHook(Hook):
    """Keep ``best.pth`` and ``last.pth`` pointing at the run's best and latest checkpoints.

    mmengine's :class:`~mmengine.hooks.CheckpointHook` names checkpoints after the epoch they were written at
    (``epoch_20.pth``, ``best_posetrack_Total AP_epoch_17.pth``), which the next stage cannot know in advance.
    After each save this hook points two symbolic links in the checkpoint folder at them, so that a stage-2 config
    can say ``load_from = 'work_dirs/<stage 1>/best.pth'`` (or ``last.pth`` when nothing is validated) whatever
    epoch was best. ``best.pth`` follows the first ``save_best`` key and exists only when one is set.

    A regular file already standing under one of the two names is never replaced: the hook warns once and leaves
    that name alone.

    Args:
        best_name (str): Name of the link to the best checkpoint. Defaults to ``'best.pth'``.
        last_name (str): Name of the link to the latest checkpoint. Defaults to ``'last.pth'``.
    """

    priority = 'LOWEST'  # after CheckpointHook (VERY_LOW) has saved

    def __init__(self, best_name: str = 'best.pth', last_name: str = 'last.pth') -> None:
        self.names = dict(best=best_name, last=last_name)
        self._blocked: Dict[str, bool] = {}
        self._pointed: Dict[str, str] = {}  # name -> the checkpoint it was last pointed at

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self._update(runner)

    def after_train_epoch(self, runner) -> None:
        self._update(runner)

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._update(runner)

    def _update(self, runner) -> None:
        hook = next((h for h in runner.hooks if isinstance(h, CheckpointHook)), None)
        if hook is None or not is_main_process():
            return
        targets = dict(last=getattr(hook, 'last_ckpt', None), best=self._best_checkpoint(hook))
        for which, target in targets.items():
            if target and self._pointed.get(which) != str(target):  # touch the disk only when a save happened
                if self._point(runner, self.names[which], str(target)):
                    self._pointed[which] = str(target)

    @staticmethod
    def _best_checkpoint(hook: CheckpointHook) -> Optional[str]:
        best = getattr(hook, 'best_ckpt_path', None)
        if best is None and getattr(hook, 'best_ckpt_path_dict', None):
            best = hook.best_ckpt_path_dict.get(hook.key_indicators[0])
        return best

    def _point(self, runner, name: str, target: str) -> bool:
        """Make ``<folder of target>/name`` a relative link to ``target`` (atomically replaced); whether the name
        is settled (linked, or left alone for good)."""
        if self._blocked.get(name):
            return True
        if not osp.isfile(target):
            return False
        folder = osp.dirname(osp.abspath(target))
        link = osp.join(folder, name)
        if osp.lexists(link) and not osp.islink(link):
            self._blocked[name] = True
            runner.logger.warning(f'{link} is a file this run did not write; it is left as it is, so it does not '
                                  f'point to {osp.basename(target)} (move it away to get the link)')
            return True
        if osp.islink(link) and os.readlink(link) == osp.basename(target):
            return True
        temporary = osp.join(folder, f'.{name}.{os.getpid()}.tmp')
        if osp.lexists(temporary):
            os.remove(temporary)
        os.symlink(osp.basename(target), temporary)
        os.replace(temporary, link)
        return True
