"""Safe checkpoint loading for the stock mmpose tools under torch >= 2.6.

torch >= 2.6 unpickles checkpoints with ``weights_only=True``: only tensors, plain containers and an allow-list of
globals may appear in the file.  mmengine 0.10.7 writes a few more objects into every checkpoint (numpy arrays in the
dataset meta information, numpy scalars in the runtime info, :class:`HistoryBuffer` objects in the message hub), so
the stock ``tools/test.py CONFIG CKPT`` and ``tools/train.py --resume`` fail on mmengine's own files.

Importing :mod:`famipose_mmpose` (as every config of this project does through ``custom_imports``) calls
:func:`allow_mmengine_checkpoint_globals`, which adds exactly those globals to torch's allow-list, and
:func:`register_safe_local_loader`, which replaces mmengine's loader of local files by :func:`load_local_checkpoint`:
the same ``torch.load`` with ``weights_only=True``, but a refusal names the file and the globals that were not
allowed.  ``weights_only`` is never switched off: a checkpoint is untrusted input (unpickling can run any code).
"""
import os.path as osp
import pickle
from typing import Any, Callable, Dict, List, Optional, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds a Python global outside the allow-list."""


def _numpy_globals() -> List[Any]:
    """The numpy callables and classes that pickled arrays, dtypes and scalars refer to."""
    # numpy 2 pickles arrays through numpy._core (numpy 1: numpy.core); `np.dtype(...).__class__` are the
    # numpy.dtypes.*DType classes that numpy 2 writes for each dtype.
    multiarray = getattr(np, '_core', None)
    multiarray = multiarray.multiarray if multiarray is not None else np.core.multiarray
    dtype_classes = [
        type(np.dtype(code)) for code in ('b', 'B', 'h', 'H', 'i', 'I', 'l', 'L', 'q', 'Q', 'e', 'f', 'd', 'g',
                                          '?', 'U', 'S', 'O')
    ]
    return [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype, *dtype_classes]


def mmengine_checkpoint_globals() -> List[Any]:
    """Every global, beyond torch's defaults, that mmengine 0.10.7 writes into a checkpoint."""
    return [*_numpy_globals(), HistoryBuffer]


def allow_mmengine_checkpoint_globals() -> None:
    """Allow-list :func:`mmengine_checkpoint_globals` for ``torch.load(..., weights_only=True)``."""
    torch.serialization.add_safe_globals(mmengine_checkpoint_globals())


def _describe_unsafe_globals(filename: str) -> str:
    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(filename)
    except Exception:  # the file may not even be a zip checkpoint; the caller reports the original error
        return 'unknown globals'
    allowed = {f'{obj.__module__}.{obj.__qualname__}' for obj in torch.serialization.get_safe_globals()
               if hasattr(obj, '__qualname__')}
    refused = [name for name in names if name not in allowed]
    return ', '.join(refused) if refused else ', '.join(names)


def load_local_checkpoint(filename: str, map_location: Optional[Union[str, Callable, Dict]] = None) -> Any:
    """Load a local checkpoint with ``weights_only=True``; refuse unknown globals with a clear error.

    Args:
        filename (str): Path of the checkpoint file (``~`` is expanded).
        map_location (str | callable | dict, optional): As in :func:`torch.load`. Defaults to ``None``.

    Returns:
        Any: The unpickled checkpoint, usually a dict with ``state_dict`` and ``meta``.

    Raises:
        FileNotFoundError: ``filename`` does not exist.
        UnsafeCheckpointError: the file references a Python global that is neither one of torch's defaults nor one
            of :func:`mmengine_checkpoint_globals`.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'Checkpoint file {filename!r} does not exist: check the path given as '
                                '`load_from`, `--resume` or the test checkpoint.')
    try:
        return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise UnsafeCheckpointError(
            f'Refusing to load checkpoint {filename!r}: it references Python objects that a weights-only load does '
            f'not allow ({_describe_unsafe_globals(filename)}). famipose allows torch\'s defaults plus the numpy '
            'and mmengine objects that mmengine itself writes. Unpickling other objects can run arbitrary code, so '
            'a file like this is not loaded. If you made it yourself, save it again with tensors and plain '
            'containers only (for example torch.save({"state_dict": model.state_dict()}, path)). '
            f'torch said: {str(err).splitlines()[0]}') from err


def register_safe_local_loader() -> None:
    """Make :func:`load_local_checkpoint` mmengine's loader for local paths (the ``''`` scheme)."""
    CheckpointLoader.register_scheme(prefixes='', loader=load_local_checkpoint, force=True)
