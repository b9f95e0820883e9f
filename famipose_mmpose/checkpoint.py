"""Safe checkpoint loading for the stock mmpose tools under torch >= 2.6.

torch >= 2.6 unpickles checkpoints with ``weights_only=True``: only tensors, plain containers and an allow-list of
globals may appear in the file.  mmengine 0.10.7 writes a few more objects into every checkpoint (numpy arrays in the
dataset meta information, numpy scalars in the runtime info, :class:`HistoryBuffer` objects in the message hub), so
the stock ``tools/test.py CONFIG CKPT`` and ``tools/train.py --resume`` fail on mmengine's own files.

Importing :mod:`famipose_mmpose` (as every config of this project does through ``custom_imports``) calls
:func:`allow_mmengine_checkpoint_globals`, which adds exactly those globals to torch's allow-list, and
:func:`register_safe_local_loader`, which replaces mmengine's loader of local files by :func:`load_local_checkpoint`:
the same ``torch.load`` with ``weights_only=True``, but a refusal names the file and the globals that were not
allowed, and a truncated or damaged file is reported with its path (torch's own zip-reader and end-of-file errors do
not name it).  ``weights_only`` is never switched off: a checkpoint is untrusted input (unpickling can run any code).
"""
import os.path as osp
import pickle
import struct
from typing import Any, Callable, Dict, List, Optional, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds a Python global outside the allow-list."""


class CorruptCheckpointError(RuntimeError):
    """A checkpoint file cannot be read: it is truncated or damaged."""


# What torch says of a file that ends early or is not a whole checkpoint (zip or legacy format). A RuntimeError
# without one of these (e.g. a CUDA storage on a machine without CUDA) is about the load, not the file, and passes.
CORRUPT_FILE_SIGNS = ('PytorchStreamReader', 'zip archive', 'central directory', 'unexpected EOF', 'corrupted')


# The statistics of a HistoryBuffer that mmengine pickles by reference (``HistoryBuffer.__getstate__`` stores its
# ``_statistics_methods``; pickle protocol 2 writes each method as ``getattr(HistoryBuffer, 'min')``).
HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')


def history_buffer_statistic(owner: Any, name: str) -> Callable:
    """Stand-in for ``builtins.getattr`` while unpickling: resolves only ``HistoryBuffer.<statistic>``.

    Allowing the real ``getattr`` would let a checkpoint reach any attribute of any allowed object (and from there
    arbitrary code); this resolves exactly the four references mmengine writes and refuses everything else.
    """
    if owner is HistoryBuffer and name in HISTORY_BUFFER_STATISTICS:
        return getattr(HistoryBuffer, name)
    raise UnsafeCheckpointError(
        f'the checkpoint asks for getattr({getattr(owner, "__qualname__", type(owner).__name__)}, {name!r}); '
        f'only HistoryBuffer.{{{", ".join(HISTORY_BUFFER_STATISTICS)}}} are allowed')


def mmengine_checkpoint_globals() -> List[Any]:
    """Every global, beyond torch's defaults, that mmengine 0.10.7 writes into a checkpoint (numpy 2).

    numpy arrays and scalars (dataset meta information, runtime info), :class:`HistoryBuffer` (message hub) and
    ``builtins.getattr`` restricted to :func:`history_buffer_statistic`.
    """
    multiarray = np._core.multiarray if hasattr(np, '_core') else np.core.multiarray
    # numpy 2 restores each dtype's state on an instance of its own class (numpy.dtypes.Float64DType, ...)
    dtype_classes = [type(np.dtype(code)) for code in '?bBhHiIlLqQefdgSUO']
    return [
        multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype, *dtype_classes, HistoryBuffer,
        (history_buffer_statistic, 'builtins.getattr')
    ]


def allow_mmengine_checkpoint_globals() -> None:
    """Allow-list :func:`mmengine_checkpoint_globals` for ``torch.load(..., weights_only=True)``."""
    torch.serialization.add_safe_globals(mmengine_checkpoint_globals())


def _unpickler_complaint(err: Exception) -> str:
    """The part of torch's weights-only error that says which object was refused."""
    text = str(err)
    for marker in ('WeightsUnpickler error:', 'from a trusted source.'):  # skip torch's advice to disable the check
        if marker in text:
            text = text[text.rindex(marker) + len(marker):]
    return ' '.join(text.split()).split(' Check the documentation')[0]


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
        CorruptCheckpointError: the file is truncated or damaged (an interrupted save, copy or download).
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'Checkpoint file {filename!r} does not exist: check the path given as '
                                '`load_from`, `--resume` or the test checkpoint.')
    try:
        return torch.load(filename, map_location=map_location, weights_only=True)
    except (EOFError, RuntimeError, OSError, IndexError, struct.error) as err:
        if isinstance(err, PermissionError) or (isinstance(err, RuntimeError)
                                                and not any(sign in str(err) for sign in CORRUPT_FILE_SIGNS)):
            raise
        reason = ' '.join(str(err).split('. ')[0].split()) or 'the file ends early'
        raise CorruptCheckpointError(
            f'Cannot read checkpoint {filename!r} ({osp.getsize(filename)} bytes): it is truncated or damaged '
            f'({type(err).__name__}: {reason}). Copy or download it again, or use another checkpoint of the run '
            '(a save that was interrupted leaves a partial file).') from err
    except pickle.UnpicklingError as err:
        raise UnsafeCheckpointError(
            f'Refusing to load checkpoint {filename!r}: it references a Python object that a weights-only load '
            f'does not allow ({_unpickler_complaint(err)}). famipose allows torch\'s defaults plus exactly the '
            'numpy and mmengine objects that mmengine itself writes; unpickling anything else can run arbitrary '
            'code, so the file is not loaded. If you made it yourself, save it again with tensors and plain '
            'containers only, e.g. torch.save({"state_dict": model.state_dict()}, path).') from err


def register_safe_local_loader() -> None:
    """Make :func:`load_local_checkpoint` mmengine's loader for local paths (the ``''`` scheme)."""
    CheckpointLoader.register_scheme(prefixes='', loader=load_local_checkpoint, force=True)
