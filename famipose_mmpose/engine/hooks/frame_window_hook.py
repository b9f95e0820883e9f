# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Record the supporting-frame window in checkpoints; check the checkpoint
the stock ``tools/test.py`` loads against the model and the test window."""
from typing import FrozenSet, List, NamedTuple, Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpose.registry import HOOKS

from ...model_inspection import (WINDOW_META_KEY, VideoWindow, check_temporal_weights, checkpoint_frame_offsets,
                                 checkpoint_state_dict, video_window_from_config)


class LoadedCheckpoint(NamedTuple):
    """What the test-time checks need of a loaded checkpoint.

    Attributes:
        source (str): The checkpoint's name (``load_from``), for messages.
        keys (frozenset[str]): Its state-dict keys (``module.`` removed).
        frame_offsets (list[int] | None): The window it was trained with
            (``[]``: a single-frame model; ``None``: not recorded).
    """
    source: str
    keys: FrozenSet[str]
    frame_offsets: Optional[List[int]]


@HOOKS.register_module()
class FrameWindowCheckpointHook(Hook):
    """Write the model's frame window into checkpoints and check the window
    and the temporal weights of a checkpoint before testing with it.

    FAMI-Pose (Liu et al., CVPR 2022) estimates the key frame's pose from the
    key frame and the supporting frames ``t + offset``; a checkpoint is only
    meaningful with the window it was trained on. This hook:

    - ``before_save_checkpoint``: stores the train dataset's window as
      ``checkpoint['meta']['frame_window']`` =
      ``{'frame_offsets': [...], 'border_policy': ..., 'video_input': ...}``
      (see :class:`~famipose_mmpose.model_inspection.VideoWindow`); a
      single-frame model (a pipeline that loads with ``LoadImage``) records
      ``frame_offsets=[]`` and ``video_input=False``: it has no window.
      :func:`~famipose_mmpose.apis.checkpoint_frame_offsets` (video
      inference) reads it there, without parsing the config text;
    - ``after_load_checkpoint``: keeps the loaded checkpoint's name, keys and
      window (the checkpoint may be the stage-1 weights a FAMI-Pose training
      starts from, or a resumed one; forgotten in ``before_train``);
    - ``before_test`` (the stock ``tools/test.py CONFIG CHECKPOINT``):

      * refuses a checkpoint without the weights of the model's temporal
        modules (GTM, LCM: e.g. a single-frame stage-1 checkpoint given to a
        FAMI-Pose config), and a FAMI-Pose checkpoint given to a
        single-frame config, with the check video inference uses
        (:func:`~famipose_mmpose.apis.check_temporal_weights`);
      * warns when the checkpoint's window differs from the test dataset's
        ``frame_offsets``, naming both.

    Checkpoints saved without this hook keep working: their window is read
    from the training config stored in their meta, or is unknown (no window
    warning).

    Enable it in a config::

        custom_hooks = [dict(type='SyncBuffersHook'),
                        dict(type='FrameWindowCheckpointHook')]
    """

    priority = 'NORMAL'

    def __init__(self) -> None:
        self._loaded: Optional[LoadedCheckpoint] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Store the train dataset's window in ``checkpoint['meta']``."""
        try:
            window = video_window_from_config(runner.cfg, use='train')
        except ValueError as err:
            runner.logger.warning(
                f'{type(self).__name__}: the checkpoint gets no '
                f'meta["{WINDOW_META_KEY}"]: {err}')
            return
        meta = checkpoint.setdefault('meta', {})
        meta[WINDOW_META_KEY] = window.to_meta()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Keep what :meth:`before_test` checks of the loaded checkpoint."""
        try:
            keys = frozenset(checkpoint_state_dict(checkpoint))
        except ValueError:
            keys = frozenset()
        try:
            offsets = checkpoint_frame_offsets(checkpoint)
        except ValueError as err:
            runner.logger.warning(f'{type(self).__name__}: {err}')
            offsets = None
        source = runner.cfg.get('load_from') or 'the loaded checkpoint'
        self._loaded = LoadedCheckpoint(str(source), keys, offsets)

    def before_train(self, runner) -> None:
        """A checkpoint loaded for training is not a test checkpoint; a frozen backbone that nothing initialised
        (no checkpoint loaded, no ``Pretrained`` ``init_cfg``) is reported loudly: it would train the temporal
        modules on random features."""
        loaded, self._loaded = self._loaded, None
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if loaded is None and getattr(model, 'freeze_backbone', False) and not _pretrained(model.backbone):
            runner.logger.warning(
                'FROZEN RANDOM BACKBONE: the model freezes its backbone (freeze_backbone=True) but no checkpoint '
                'was loaded (load_from is None) and the backbone has no Pretrained init_cfg, so it trains on the '
                'features of a random network. Set load_from=<the stage-1 checkpoint> (e.g. --cfg-options '
                'load_from=work_dirs/<stage 1>/best.pth) or model.freeze_backbone=False.')

    def before_test(self, runner) -> None:
        """Check the loaded checkpoint against the model and the test
        dataset's window.

        Raises:
            ValueError: the model has temporal modules and the checkpoint
                none of their weights, or the other way round.
        """
        loaded, self._loaded = self._loaded, None
        if loaded is None:
            return
        window = self._test_window(runner)
        offsets = window.frame_offsets if window is not None else []
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        check_temporal_weights(model.state_dict().keys(), loaded.keys,
                               offsets, loaded.source)
        if window is None or loaded.frame_offsets is None or \
                loaded.frame_offsets == offsets:
            return
        runner.logger.warning(
            f'FRAME WINDOW MISMATCH: checkpoint {loaded.source!r} was trained '
            f'with frame_offsets={loaded.frame_offsets} (its meta), but the '
            'test dataset uses frame_offsets='
            f'{offsets}: the model sees other supporting frames than it was '
            'trained on and its scores are not those of the trained model. '
            'Test with the config the checkpoint was trained with, or set '
            'test_dataloader.dataset.frame_offsets='
            f'{loaded.frame_offsets}.')

    def _test_window(self, runner) -> Optional[VideoWindow]:
        """The test dataset's window, ``None`` (with a warning) when the
        config does not tell."""
        try:
            return video_window_from_config(runner.cfg, use='test')
        except ValueError as err:
            runner.logger.warning(
                f'{type(self).__name__}: the test window is not checked: '
                f'{err}')
            return None


def _pretrained(module) -> bool:
    """Whether ``module`` (or one of its submodules) is initialised from a checkpoint by its ``init_cfg``."""
    for sub in module.modules():
        init_cfg = getattr(sub, 'init_cfg', None)
        for cfg in init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]:
            if isinstance(cfg, dict) and cfg.get('type') == 'Pretrained':
                return True
    return False
