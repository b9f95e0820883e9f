# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""What a pose config and a checkpoint say about a model, and whether they
fit together.

A config tells the supporting-frame window of its datasets
(:func:`video_window_from_config`, :func:`dataset_window`) and the part of
its test pipeline that crops one person (:func:`build_crop_pipeline`).

A checkpoint tells the window it was trained with
(:func:`checkpoint_frame_offsets`), read from, in this order:

1. ``meta['frame_window']``, a :class:`VideoWindow` as a dict
   (:meth:`VideoWindow.to_meta`), written by
   :class:`~famipose_mmpose.engine.hooks.FrameWindowCheckpointHook` into
   every checkpoint the configs of this project save; a single-frame model
   records ``frame_offsets=[]`` and ``video_input=False``;
2. ``meta['frame_offsets']``, a plain list (checkpoints saved by hand);
3. the training config mmengine's runner stores as text in ``meta['cfg']``,
   parsed with :mod:`ast`, never executed (checkpoints saved before the
   hook existed).

:func:`check_checkpoint_compatibility` refuses a checkpoint that does not fit
a model (temporal modules, window, keypoint count, shapes); its temporal-module
part, :func:`check_temporal_weights`, is also what the hook runs when the
stock ``tools/test.py`` loads a checkpoint.
"""
import ast
import inspect
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope
from mmpose.registry import DATASETS
from torch import nn

from .datasets.frame_window import BORDER_POLICIES, check_frame_offsets

#: State-dict prefixes of FAMI-Pose's temporal modules: a checkpoint with
#: them was trained on a supporting-frame window.
TEMPORAL_PREFIXES = ('gtm.', 'lcm.', 'aggregation.')
#: The transform from which the config's test pipeline is reused.
CROP_START_TRANSFORM = 'GetBBoxCenterScale'
#: Loading transform of video configs.
VIDEO_LOADER = 'LoadVideoFrames'
#: Key of the window in a checkpoint's ``meta``.
WINDOW_META_KEY = 'frame_window'
#: The dataloaders whose dataset gives a config's window, for each use.
WINDOW_LOADERS = {
    'test': ('test_dataloader', 'val_dataloader'),
    'train': ('train_dataloader', ),
}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class VideoWindow(NamedTuple):
    """The supporting-frame window a pose config asks for.

    Attributes:
        frame_offsets (list[int]): Supporting-frame offsets (``[]`` for
            single-frame configs).
        border_policy (str): ``'fami'``, ``'key'`` or ``'clip'``.
        video_input (bool): Whether the model takes the T frames as a list
            (``LoadVideoFrames`` configs); ``False`` for single-image
            configs (T = 1).
    """
    frame_offsets: List[int]
    border_policy: str
    video_input: bool

    def to_meta(self) -> Dict[str, Any]:
        """The window as the plain dict stored in ``meta['frame_window']``
        (ints, a string and a bool: loadable with ``weights_only=True``)."""
        return dict(
            frame_offsets=[int(o) for o in self.frame_offsets],
            border_policy=str(self.border_policy),
            video_input=bool(self.video_input))

    @classmethod
    def from_meta(cls, value: Any) -> 'VideoWindow':
        """Read a ``meta['frame_window']`` dict (see :meth:`to_meta`).

        Raises:
            ValueError: the value is not such a dict.
        """
        if isinstance(value, dict):
            offsets = value.get('frame_offsets')
            policy = value.get('border_policy', 'fami')
            if isinstance(offsets, (list, tuple)) and all(
                    _is_int(o) for o in offsets) and policy in BORDER_POLICIES:
                video_input = value.get('video_input', bool(offsets))
                return cls(list(offsets), policy, bool(video_input))
        raise ValueError(
            f'The checkpoint\'s meta["{WINDOW_META_KEY}"] must be a dict such '
            'as {"frame_offsets": [-2, -1, 1, 2], "border_policy": "fami", '
            f'"video_input": True}}, got {value!r}.')


# ---------------------------------------------------------------------------
# configs
# ---------------------------------------------------------------------------


def _transform_name(transform: Any) -> str:
    """Type name of a transform config (scope prefix dropped)."""
    kind = transform.get('type') if isinstance(transform, dict) else None
    if isinstance(kind, type):
        return kind.__name__
    return str(kind).split('.')[-1]


def _dataset_cfg(cfg: Config, use: str = 'test') -> dict:
    """The dataset config (with a pipeline) of the dataloaders of ``use``
    (:data:`WINDOW_LOADERS`); dataset wrappers (``dataset=dict(...)``) are
    looked through."""
    for name in WINDOW_LOADERS[use]:
        loader = cfg.get(name)
        dataset = loader.get('dataset') if loader is not None else None
        while isinstance(dataset, dict) and dataset.get('pipeline') is None \
                and isinstance(dataset.get('dataset'), dict):
            dataset = dataset['dataset']
        if isinstance(dataset, dict) and dataset.get('pipeline') is not None:
            return dataset
    if use == 'test':
        raise ValueError(
            'The pose config has no test_dataloader.dataset.pipeline (nor a '
            'val_dataloader one); video inference reuses that test pipeline '
            '(GetBBoxCenterScale, TopdownAffine, PackPoseInputs).')
    raise ValueError(
        f'The pose config has no {" or ".join(WINDOW_LOADERS[use])}.dataset.'
        'pipeline: its frame window cannot be read.')


def _dataset_default(dataset_cfg: dict, name: str) -> Any:
    """Default of argument ``name`` of the dataset class, if any."""
    kind = dataset_cfg.get('type')
    if not kind:
        return None
    try:
        cls = kind if isinstance(kind, type) else DATASETS.get(kind)
    except KeyError:
        return None
    if cls is None:
        return None
    param = inspect.signature(cls.__init__).parameters.get(name)
    if param is None or param.default is inspect.Parameter.empty:
        return None
    return param.default


def dataset_window(dataset_cfg: dict, name: str = 'test') -> VideoWindow:
    """Read the supporting-frame window of one dataset config.

    The dataset's ``frame_offsets`` and ``border_policy`` are used (the
    dataset class's defaults when absent). A pipeline that loads with
    ``LoadVideoFrames`` takes the T frames as a list; any other (e.g.
    mmpose's ``LoadImage``) is single-frame: T = 1.

    Args:
        dataset_cfg (dict): A dataset config with a ``pipeline``.
        name (str): What the dataset is, for messages (``'test'``,
            ``'train'``). Defaults to ``'test'``.

    Returns:
        VideoWindow: The window.

    Raises:
        ValueError: a single-image pipeline with supporting-frame offsets,
            or an invalid offset / border policy.
    """
    names = [_transform_name(t) for t in dataset_cfg['pipeline']]
    video_input = VIDEO_LOADER in names
    offsets = dataset_cfg.get('frame_offsets')
    if offsets is None:
        offsets = _dataset_default(dataset_cfg, 'frame_offsets') \
            if video_input else []
    offsets = check_frame_offsets(list(offsets or []))
    if offsets and not video_input:
        raise ValueError(
            f'The pose config asks for supporting frames ({name} dataset '
            f'frame_offsets={offsets}) but its {name} pipeline {names} loads '
            f'single images; video configs load with {VIDEO_LOADER}.')
    policy = dataset_cfg.get('border_policy')
    if policy is None:
        policy = _dataset_default(dataset_cfg, 'border_policy') or 'fami'
    if policy not in BORDER_POLICIES:
        raise ValueError(f'The pose config has border_policy={policy!r}; use '
                         f'one of {BORDER_POLICIES}.')
    return VideoWindow(offsets, policy, video_input)


def video_window_from_config(cfg: Config, use: str = 'test') -> VideoWindow:
    """Read the supporting-frame window of a pose config.

    The window of the test (else val) dataset, or with ``use='train'`` of
    the train dataset; see :func:`dataset_window`.

    Args:
        cfg (Config): The pose config.
        use (str): ``'test'`` or ``'train'``. Defaults to ``'test'``.

    Returns:
        VideoWindow: The window.

    Raises:
        ValueError: no such dataset with a pipeline, a single-image pipeline
            with supporting-frame offsets, or an invalid offset / border
            policy.
    """
    if use not in WINDOW_LOADERS:
        raise ValueError(f'use={use!r}: use one of {tuple(WINDOW_LOADERS)}.')
    return dataset_window(_dataset_cfg(cfg, use), use)


def build_crop_pipeline(cfg: Config) -> Compose:
    """The config's test pipeline from ``GetBBoxCenterScale`` on.

    Args:
        cfg (Config): The pose config.

    Returns:
        Compose: Transforms that take ``img`` (an array, or a list of T
        arrays key first) plus ``bbox``/``bbox_score`` and pack a sample.
    """
    pipeline = list(_dataset_cfg(cfg)['pipeline'])
    names = [_transform_name(t) for t in pipeline]
    if CROP_START_TRANSFORM not in names:
        raise ValueError(
            f'The pose config\'s test pipeline {names} has no '
            f'{CROP_START_TRANSFORM}; top-down video inference starts the '
            'test pipeline there (then TopdownAffine, PackPoseInputs).')
    scope = cfg.get('default_scope', 'mmpose')
    if scope is not None:
        init_default_scope(scope)
    return Compose(pipeline[names.index(CROP_START_TRANSFORM):])


# ---------------------------------------------------------------------------
# checkpoints
# ---------------------------------------------------------------------------


def _literal_offsets(node: ast.AST) -> Optional[List[int]]:
    """A literal list of ints in a config's syntax tree, else ``None``."""
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError):
        return None
    if isinstance(value, (list, tuple)) and all(_is_int(v) for v in value):
        return list(value)
    return None


def _offsets_in_config_text(text: str) -> Optional[List[int]]:
    """``frame_offsets`` of the test (else val, else train) dataset written
    in a config's text, read with ``ast`` (the text is never executed)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None

    def find(node: ast.AST) -> Optional[List[int]]:
        for sub in ast.walk(node):
            value = None
            if isinstance(sub, ast.keyword) and sub.arg == 'frame_offsets':
                value = sub.value
            elif isinstance(sub, ast.Dict):
                for key, val in zip(sub.keys, sub.values):
                    if isinstance(key, ast.Constant) and \
                            key.value == 'frame_offsets':
                        value = val
            if value is not None:
                offsets = _literal_offsets(value)
                if offsets is not None:
                    return offsets
        return None

    assigned: Dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned[target.id] = node.value
    for name in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        if name in assigned:
            offsets = find(assigned[name])
            if offsets is not None:
                return offsets
    if 'frame_offsets' in assigned:
        return _literal_offsets(assigned['frame_offsets'])
    return None


def _checkpoint_meta(checkpoint: Any) -> Optional[dict]:
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    return meta if isinstance(meta, dict) else None


def checkpoint_window(checkpoint: dict) -> Optional[VideoWindow]:
    """The window recorded in ``meta['frame_window']`` of a checkpoint.

    Args:
        checkpoint (dict): The loaded checkpoint.

    Returns:
        VideoWindow | None: The window, ``None`` when the checkpoint has no
        such entry (saved without
        :class:`~famipose_mmpose.engine.hooks.FrameWindowCheckpointHook`).

    Raises:
        ValueError: the entry is malformed.
    """
    meta = _checkpoint_meta(checkpoint)
    if meta is None or meta.get(WINDOW_META_KEY) is None:
        return None
    return VideoWindow.from_meta(meta[WINDOW_META_KEY])


def checkpoint_frame_offsets(checkpoint: dict) -> Optional[List[int]]:
    """The supporting-frame window a checkpoint was trained with.

    Read from ``meta['frame_window']`` when present (no config text is
    parsed then), else from ``meta['frame_offsets']``, else from the training
    config that mmengine's runner stores as text in ``meta['cfg']`` (parsed,
    not executed).

    Args:
        checkpoint (dict): The loaded checkpoint.

    Returns:
        list[int] | None: The offsets (``[]`` for a single-frame model),
        ``None`` when the checkpoint does not tell.
    """
    window = checkpoint_window(checkpoint)
    if window is not None:
        return list(window.frame_offsets)
    meta = _checkpoint_meta(checkpoint)
    if meta is None:
        return None
    if meta.get('frame_offsets') is not None:
        offsets = meta['frame_offsets']
        if not isinstance(offsets, (list, tuple)) or not all(
                _is_int(o) for o in offsets):
            raise ValueError(
                f'The checkpoint\'s meta["frame_offsets"] must be a list of '
                f'ints such as [-2, -1, 1, 2], got {offsets!r}.')
        return list(offsets)
    if isinstance(meta.get('cfg'), str):
        return _offsets_in_config_text(meta['cfg'])
    return None


def checkpoint_state_dict(checkpoint: Any) -> Dict[str, torch.Tensor]:
    """The state dict of a checkpoint, ``module.`` prefixes removed.

    Raises:
        ValueError: the checkpoint holds no state dict.
    """
    state = checkpoint.get('state_dict', checkpoint) if isinstance(
        checkpoint, dict) else None
    if not isinstance(state, dict):
        raise ValueError('the checkpoint holds no state_dict.')
    return {
        (key[len('module.'):] if key.startswith('module.') else key): value
        for key, value in state.items()
    }


def check_temporal_weights(model_keys: Iterable[str],
                           checkpoint_keys: Iterable[str],
                           frame_offsets: Sequence[int],
                           source: str = 'checkpoint') -> None:
    """Refuse to mix single-frame and video (FAMI-Pose) models and weights.

    A model with temporal modules (state-dict keys under
    :data:`TEMPORAL_PREFIXES`) needs a checkpoint that has their weights,
    and a checkpoint with them needs a model that has them.

    Args:
        model_keys (Iterable[str]): The model's state-dict keys.
        checkpoint_keys (Iterable[str]): The checkpoint's state-dict keys
            (``module.`` prefixes removed).
        frame_offsets (Sequence[int]): The config's window, for messages.
        source (str): The checkpoint's name for messages. Defaults to
            ``'checkpoint'``.

    Raises:
        ValueError: naming the checkpoint, the first key and the fix.
    """
    ckpt_temporal = sorted(
        k for k in checkpoint_keys if k.startswith(TEMPORAL_PREFIXES))
    own_temporal = sorted(
        k for k in model_keys if k.startswith(TEMPORAL_PREFIXES))
    if own_temporal and not ckpt_temporal:
        raise ValueError(
            f'Checkpoint {source!r} has no weights for the temporal modules '
            f'of the config ({own_temporal[0]}, ...): it is a single-frame '
            f'checkpoint, but the config is a video model with '
            f'frame_offsets={list(frame_offsets)}. Use the single-frame '
            'config it was trained with, or a FAMI-Pose checkpoint.')
    if ckpt_temporal and not own_temporal:
        raise ValueError(
            f'Checkpoint {source!r} holds temporal-module weights '
            f'({ckpt_temporal[0]}, ...): it was trained on a supporting-frame'
            ' window, but the config builds a model without them. Use the '
            'FAMI-Pose config the checkpoint was trained with.')


def check_checkpoint_compatibility(model: nn.Module,
                                   checkpoint: dict,
                                   frame_offsets: Sequence[int],
                                   source: str = 'checkpoint') -> None:
    """Refuse a checkpoint that does not fit the config's model and window.

    Checks, in order:

    1. the temporal modules (:func:`check_temporal_weights`): a checkpoint
       with temporal-module weights (``gtm.``, ``lcm.``, ``aggregation.``)
       needs a model that has them and vice versa;
    2. the window: the checkpoint's frame offsets
       (:func:`checkpoint_frame_offsets`) must equal ``frame_offsets``;
    3. the keypoint count: ``head.final_layer.weight`` of the checkpoint
       must have the config's ``head.out_channels`` rows;
    4. every other parameter present in both must have the same shape.

    Args:
        model (nn.Module): The model built from the config.
        checkpoint (dict): The loaded checkpoint.
        frame_offsets (Sequence[int]): The config's window (``[]`` for a
            single-frame config).
        source (str): The checkpoint's name for messages. Defaults to
            ``'checkpoint'``.

    Raises:
        ValueError: naming the checkpoint, the field and the fix.
    """
    try:
        state = checkpoint_state_dict(checkpoint)
    except ValueError as err:
        raise ValueError(f'Checkpoint {source!r}: {err} Save it with '
                         'torch.save({"state_dict": model.state_dict(), '
                         '"meta": {...}}).') from err
    own = model.state_dict()
    offsets = list(frame_offsets)
    check_temporal_weights(own, state, offsets, source)
    ckpt_offsets = checkpoint_frame_offsets(checkpoint)
    if ckpt_offsets is not None and ckpt_offsets != offsets:
        raise ValueError(
            f'Checkpoint {source!r} was trained with frame_offsets='
            f'{ckpt_offsets} (its meta), but the config asks for '
            f'{offsets or "a single frame"}. Use the config the checkpoint '
            'was trained with, or set test_dataloader.dataset.frame_offsets='
            f'{ckpt_offsets}.')
    head_key = 'head.final_layer.weight'
    if head_key in state and head_key in own and \
            state[head_key].shape[0] != own[head_key].shape[0]:
        raise ValueError(
            f'Checkpoint {source!r} predicts {state[head_key].shape[0]} '
            f'keypoints ({head_key} has shape {tuple(state[head_key].shape)})'
            f' but the config\'s model.head.out_channels is '
            f'{own[head_key].shape[0]}. Use the config (and dataset '
            'metainfo) the checkpoint was trained with.')
    mismatched = [
        f'{key}: checkpoint {tuple(state[key].shape)} vs config '
        f'{tuple(own[key].shape)}' for key in own
        if key in state and hasattr(state[key], 'shape')
        and tuple(state[key].shape) != tuple(own[key].shape)
    ]
    if mismatched:
        raise ValueError(
            f'Checkpoint {source!r} does not fit the config\'s model: '
            f'{len(mismatched)} parameter shapes differ (' +
            '; '.join(mismatched[:3]) +
            '). Use the config the checkpoint was trained with.')
