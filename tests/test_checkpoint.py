"""Checkpoints load with weights_only=True: mmengine's own objects pass, anything else is refused."""
import os

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner import CheckpointLoader, load_checkpoint

import famipose_mmpose  # noqa: F401  (installs the allow-list and the loader)
from famipose_mmpose.checkpoint import CorruptCheckpointError, UnsafeCheckpointError


class _RunsShell:
    """Unpickling this calls os.system: the classic malicious checkpoint."""

    def __reduce__(self):
        return (os.system, ('echo this-must-never-run > /dev/null', ))


class _ReachesThroughGetattr:
    """Asks the (restricted) getattr for something other than a HistoryBuffer statistic."""

    def __reduce__(self):
        return (getattr, (HistoryBuffer, '__init__'))


def _mmengine_like_checkpoint(path):
    hub = MessageHub.get_instance('test_checkpoint')
    hub.update_scalar('train/loss', 0.5)
    hub.update_scalar('train/loss', 0.25)
    torch.save(
        {
            'meta': {
                'dataset_meta': {
                    'sigmas': np.linspace(0.1, 0.2, 17).astype(np.float32),
                    'flip_indices': list(range(17)),
                    'keypoint_colors': np.zeros((17, 3), dtype=np.uint8),
                    'num_keypoints': np.int64(17),
                },
                'iter': 12,
                'best_score': np.float64(0.75),
            },
            'state_dict': {
                'w': torch.ones(2)
            },
            'message_hub': hub.state_dict(),
        }, path)


def test_mmengine_objects_load(tmp_path):
    path = str(tmp_path / 'ok.pth')
    _mmengine_like_checkpoint(path)
    ckpt = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert ckpt['meta']['iter'] == 12
    assert ckpt['meta']['dataset_meta']['sigmas'].dtype == np.float32
    buffer = ckpt['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer)
    assert buffer.mean() == pytest.approx(0.375)
    # the statistics restored through the restricted getattr are the real methods
    assert buffer.statistics('max') == pytest.approx(0.5)


@pytest.mark.parametrize('payload', [_RunsShell(), _ReachesThroughGetattr()], ids=['os.system', 'getattr'])
def test_other_globals_are_refused_with_a_clear_error(tmp_path, payload):
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {'w': torch.ones(1)}, 'payload': payload}, path)
    with pytest.raises(UnsafeCheckpointError) as info:
        load_checkpoint(torch.nn.Linear(1, 1), path)
    message = str(info.value)
    assert path in message
    assert 'Refusing to load checkpoint' in message
    assert ('system' in message) or ('__init__' in message)
    assert 'weights_only set to `False`' not in message  # never advise switching the check off


@pytest.mark.parametrize('keep', [0.0, 0.5, 0.998], ids=['empty', 'half', 'tail-missing'])
def test_truncated_checkpoint_names_the_file(tmp_path, keep):
    whole = str(tmp_path / 'whole.pth')
    _mmengine_like_checkpoint(whole)
    with open(whole, 'rb') as f:
        data = f.read()
    path = str(tmp_path / 'cut.pth')
    with open(path, 'wb') as f:
        f.write(data[:int(len(data) * keep)])
    with pytest.raises(CorruptCheckpointError) as info:
        load_checkpoint(torch.nn.Linear(1, 1), path)
    message = str(info.value)
    assert path in message and 'truncated or damaged' in message and '\n' not in message
    assert isinstance(info.value, RuntimeError)  # what torch raised before: callers catching it still do


def test_load_errors_that_are_not_about_the_file_pass_unchanged(tmp_path, monkeypatch):
    path = str(tmp_path / 'ok.pth')
    _mmengine_like_checkpoint(path)

    def no_cuda(*args, **kwargs):
        raise RuntimeError('Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False.')

    monkeypatch.setattr(torch, 'load', no_cuda)
    with pytest.raises(RuntimeError, match='CUDA device') as info:
        CheckpointLoader.load_checkpoint(path)
    assert not isinstance(info.value, CorruptCheckpointError)


def test_missing_checkpoint_names_the_file(tmp_path):
    path = str(tmp_path / 'nope.pth')
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        CheckpointLoader.load_checkpoint(path)
