"""Config and checkpoint inspection: the window recorded in ``meta['frame_window']`` (FrameWindowCheckpointHook) is
what video inference reads; older checkpoints keep working through their stored config text."""
import pytest
import torch
from mmengine.config import Config

from famipose_mmpose import model_inspection
from famipose_mmpose.apis import (VideoWindow, check_checkpoint_compatibility, checkpoint_frame_offsets,
                                  checkpoint_window, init_video_model, video_window_from_config)
from .conftest import FAMI_CONFIG, SINGLE_CONFIG

FAMI_WINDOW = dict(frame_offsets=[-2, -1, 1, 2], border_policy='fami', video_input=True)
SINGLE_WINDOW = dict(frame_offsets=[], border_policy='fami', video_input=False)


def save(path, state_dict, meta):
    torch.save({'state_dict': state_dict, 'meta': meta}, str(path))
    return str(path)


def test_train_window_of_the_configs():
    assert video_window_from_config(Config.fromfile(FAMI_CONFIG), use='train').to_meta() == FAMI_WINDOW
    assert video_window_from_config(Config.fromfile(SINGLE_CONFIG), use='train').to_meta() == SINGLE_WINDOW
    with pytest.raises(ValueError, match='train_dataloader.dataset.pipeline'):
        video_window_from_config(Config(dict()), use='train')
    with pytest.raises(ValueError, match='use one of'):
        video_window_from_config(Config(dict()), use='val')


def test_window_meta_round_trip_and_malformed_entries():
    window = VideoWindow([-1, 1], 'clip', True)
    assert VideoWindow.from_meta(window.to_meta()) == window
    assert checkpoint_window({'meta': {'frame_window': window.to_meta()}}) == window
    assert checkpoint_window({'meta': {'frame_offsets': [-1, 1]}}) is None
    for bad in ([-1, 1], {'frame_offsets': [-1, 1.5]}, {'frame_offsets': [1], 'border_policy': 'mirror'}):
        with pytest.raises(ValueError, match=r'meta\["frame_window"\]'):
            checkpoint_frame_offsets({'meta': {'frame_window': bad}})


def test_meta_window_is_read_without_parsing_the_config_text(fami_model, monkeypatch):
    def no_parsing(text):
        raise AssertionError('the config text was parsed')

    monkeypatch.setattr(model_inspection, '_offsets_in_config_text', no_parsing)
    text = fami_model.cfg.pretty_text.replace('-2,', '-4,')
    ckpt = {'meta': {'frame_window': dict(FAMI_WINDOW, frame_offsets=[-1, 1]), 'cfg': text}}
    assert checkpoint_frame_offsets(ckpt) == [-1, 1]
    assert checkpoint_frame_offsets({'meta': {'frame_window': SINGLE_WINDOW, 'cfg': text}}) == []


def test_init_video_model_reads_the_meta_window(fami_model, tmp_path):
    ok = save(tmp_path / 'fami.pth', fami_model.state_dict(), {'frame_window': FAMI_WINDOW})
    model = init_video_model(FAMI_CONFIG, ok)
    for key, value in fami_model.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    window = dict(FAMI_WINDOW, frame_offsets=[-1, 1])
    other = save(tmp_path / 'other.pth', fami_model.state_dict(), {'frame_window': window})
    with pytest.raises(ValueError, match=r"'.*other\.pth' was trained with frame_offsets=\[-1, 1\]"):
        init_video_model(FAMI_CONFIG, other)


def test_init_video_model_still_reads_old_checkpoints(fami_model, tmp_path):
    """Saved before the hook: the window comes from the stored training config, or is not known."""
    text = fami_model.cfg.pretty_text
    init_video_model(FAMI_CONFIG, save(tmp_path / 'old.pth', fami_model.state_dict(), {'cfg': text}))
    init_video_model(FAMI_CONFIG, save(tmp_path / 'bare.pth', fami_model.state_dict(), {}))
    changed = save(tmp_path / 'old_other.pth', fami_model.state_dict(), {'cfg': text.replace('-2,', '-3,')})
    with pytest.raises(ValueError, match=r'frame_offsets=\[-3, -1, 1, 2\]'):
        init_video_model(FAMI_CONFIG, changed)


def test_stage1_checkpoint_with_its_window_is_named_single_frame(fami_model, single_frame_model):
    """A stage-1 checkpoint records no window (``[]``); for a FAMI-Pose config the message names what it is."""
    ckpt = {'state_dict': single_frame_model.state_dict(), 'meta': {'frame_window': SINGLE_WINDOW}}
    with pytest.raises(ValueError, match="'stage1.pth' has no weights for the temporal modules"):
        check_checkpoint_compatibility(fami_model, ckpt, [-2, -1, 1, 2], 'stage1.pth')
    check_checkpoint_compatibility(single_frame_model, ckpt, [], 'stage1.pth')
