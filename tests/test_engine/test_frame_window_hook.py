"""FrameWindowCheckpointHook: checkpoints record the train window; a test run refuses a checkpoint without the
model's temporal weights and warns when the checkpoint's window is not the test window (issues 11 and 13)."""
import logging
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
from engine_toys import CountingMetric, ToyModel, attach_records, load_state, loader, make_runner
from mmengine.config import Config
from torch import nn

from famipose_mmpose.apis import VideoWindow, checkpoint_frame_offsets, checkpoint_window, init_video_model
from famipose_mmpose.engine.hooks import FrameWindowCheckpointHook

CONFIGS = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs', 'synthetic')
FAMI_CONFIG = osp.join(CONFIGS, 'famipose_hrnet-tiny_1xb32-12e_synthposetrack-128x96.py')
SINGLE_CONFIG = osp.join(CONFIGS, 'td-hm_hrnet-tiny_1xb32-12e_synthposetrack-128x96.py')
HOOK = dict(type='FrameWindowCheckpointHook')
MISMATCH = 'FRAME WINDOW MISMATCH'


class TemporalToyModel(ToyModel):
    """The toy model with a ``gtm`` layer: its state dict has temporal-module keys, as FAMI-Pose's has."""

    def __init__(self) -> None:
        super().__init__()
        self.gtm = nn.Linear(1, 1)


def dataset(offsets):
    """A video dataset config with ``offsets`` (border policy 'clip'), or a single-frame one for ``None``."""
    if offsets is None:
        return dict(type='CocoDataset', pipeline=[dict(type='LoadImage'), dict(type='GetBBoxCenterScale')])
    return dict(
        type='PoseTrackVideoDataset',
        frame_offsets=offsets,
        border_policy='clip',
        pipeline=[dict(type='LoadVideoFrames'), dict(type='GetBBoxCenterScale')])


def window_cfg(train=None, test=None, load_from=None) -> Config:
    """The parts of a config the hook reads (tools/test.py puts the checkpoint into ``load_from``)."""
    return Config(
        dict(
            train_dataloader=dict(dataset=dataset(train)),
            test_dataloader=dict(dataset=dataset(test)),
            load_from=load_from))


def train(work_dir, model, cfg, **kwargs) -> str:
    runner = make_runner(str(work_dir), model, [HOOK], max_epochs=1, cfg=cfg, default_scope='mmpose', **kwargs)
    runner.train()
    return osp.join(str(work_dir), 'epoch_1.pth')


def test_runner(work_dir, model, checkpoint, test_offsets):
    """A Runner that tests ``model`` from ``checkpoint`` as tools/test.py does, and its log records."""
    runner = make_runner(
        str(work_dir),
        model, [HOOK],
        cfg=window_cfg(test=test_offsets, load_from=checkpoint),
        default_scope='mmpose',
        load_from=checkpoint,
        test_dataloader=loader(2),
        test_cfg=dict(),
        test_evaluator=[CountingMetric()])
    return runner, attach_records(runner)


test_runner.__test__ = False  # a helper, not a test


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    """Stage 1 (a single-frame toy) and stage 2 (a temporal toy on the window [-1, 1], from stage 1's weights)."""
    root = tmp_path_factory.mktemp('window_hook')
    single = train(root / 'single', ToyModel(), window_cfg(train=None))
    # loading a single-frame checkpoint to train a temporal model is FAMI-Pose's stage 2: not refused
    video = train(root / 'video', TemporalToyModel(), window_cfg(train=[-1, 1]), load_from=single)
    return dict(single=single, video=video)


def test_checkpoints_record_the_train_window(checkpoints):
    single = load_state(checkpoints['single'])
    assert single['meta']['frame_window'] == dict(frame_offsets=[], border_policy='fami', video_input=False)
    assert checkpoint_frame_offsets(single) == []
    video = load_state(checkpoints['video'])
    assert video['meta']['frame_window'] == dict(frame_offsets=[-1, 1], border_policy='clip', video_input=True)
    assert checkpoint_window(video) == VideoWindow([-1, 1], 'clip', True)
    assert checkpoint_frame_offsets(video) == [-1, 1]
    assert 'gtm.weight' in video['state_dict'] and 'gtm.weight' not in single['state_dict']


def test_single_frame_checkpoint_is_refused_before_testing(checkpoints, tmp_path):
    runner, _ = test_runner(tmp_path, TemporalToyModel(), checkpoints['single'], [-1, 1])
    with pytest.raises(ValueError) as info:
        runner.test()
    message = str(info.value)
    assert checkpoints['single'] in message and 'single-frame checkpoint' in message
    assert '(gtm.bias, ...)' in message and 'FAMI-Pose checkpoint' in message
    assert '\n' not in message
    assert runner.test_evaluator.metrics[0].calls == 0  # refused before any test batch was scored


def test_window_mismatch_warns_before_testing(checkpoints, tmp_path):
    runner, records = test_runner(tmp_path / 'other', TemporalToyModel(), checkpoints['video'], [-2, -1, 1, 2])
    runner.test()
    warnings = [m for m in records.messages() if MISMATCH in m]
    assert len(warnings) == 1
    assert checkpoints['video'] in warnings[0]
    assert 'frame_offsets=[-1, 1]' in warnings[0] and 'frame_offsets=[-2, -1, 1, 2]' in warnings[0]

    runner, records = test_runner(tmp_path / 'same', TemporalToyModel(), checkpoints['video'], [-1, 1])
    runner.test()
    assert not [m for m in records.messages() if MISMATCH in m]
    assert runner.test_evaluator.metrics[0].calls == 1


# --------------------------------------------------------------------------
# the real models, the hook called as the runner calls it
# --------------------------------------------------------------------------


@pytest.fixture(scope='module')
def models():
    torch.manual_seed(0)
    return dict(fami=init_video_model(FAMI_CONFIG), single=init_video_model(SINGLE_CONFIG))


def fake_runner(model, load_from='work_dirs/stage1/best.pth'):
    cfg = model.cfg.copy()
    cfg.load_from = load_from
    return SimpleNamespace(cfg=cfg, model=model, logger=logging.getLogger('frame-window-hook-test'))


def test_stage1_checkpoint_on_the_famipose_test_config_is_refused(models, caplog):
    runner = fake_runner(models['fami'])
    hook = FrameWindowCheckpointHook()
    stage1 = {'state_dict': models['single'].state_dict(), 'meta': {}}
    hook.before_save_checkpoint(fake_runner(models['single']), stage1)
    assert stage1['meta']['frame_window']['frame_offsets'] == []
    hook.after_load_checkpoint(runner, stage1)
    with pytest.raises(ValueError, match=r"'work_dirs/stage1/best\.pth' has no weights for the temporal modules"):
        hook.before_test(runner)

    # a FAMI-Pose checkpoint of the same window: accepted, no warning
    fami = {'state_dict': models['fami'].state_dict(), 'meta': {}}
    hook.before_save_checkpoint(runner, fami)
    assert fami['meta']['frame_window'] == dict(frame_offsets=[-2, -1, 1, 2], border_policy='fami', video_input=True)
    with caplog.at_level(logging.WARNING, logger='frame-window-hook-test'):
        hook.after_load_checkpoint(runner, fami)
        hook.before_test(runner)
    assert not caplog.records

    # the FAMI-Pose checkpoint given to the single-frame config: refused too (the check video inference runs)
    single_runner = fake_runner(models['single'], 'fami.pth')
    hook.after_load_checkpoint(single_runner, fami)
    with pytest.raises(ValueError, match="'fami.pth' holds temporal-module weights"):
        hook.before_test(single_runner)


def test_checkpoint_loaded_for_training_is_not_checked(models):
    """FAMI-Pose's stage 2 loads the stage-1 checkpoint (load_from) before training: not a test checkpoint."""
    runner = fake_runner(models['fami'])
    hook = FrameWindowCheckpointHook()
    hook.after_load_checkpoint(runner, {'state_dict': models['single'].state_dict()})
    hook.before_train(runner)
    hook.before_test(runner)  # e.g. a test after training in the same process


def test_frozen_backbone_that_nothing_initialised_is_reported(models, caplog):
    """Issue 13: FAMI-Pose with its default load_from=None would train on a frozen random backbone silently."""
    hook = FrameWindowCheckpointHook()
    runner = fake_runner(models['fami'], load_from=None)
    with caplog.at_level(logging.WARNING, logger='frame-window-hook-test'):
        hook.before_train(runner)  # nothing loaded
    assert 'FROZEN RANDOM BACKBONE' in caplog.text and 'load_from=' in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger='frame-window-hook-test'):
        hook.after_load_checkpoint(runner, {'state_dict': models['single'].state_dict()})  # the stage-1 weights
        hook.before_train(runner)
        hook.before_train(fake_runner(models['single'], load_from=None))  # a backbone that trains
    assert not caplog.records


def test_window_of_an_old_checkpoint_is_read_from_its_config_text(models, caplog):
    """A checkpoint saved before the hook: its window comes from the training config mmengine stored."""
    runner = fake_runner(models['fami'], 'old.pth')
    hook = FrameWindowCheckpointHook()
    text = models['fami'].cfg.pretty_text.replace('-2,', '-3,')
    hook.after_load_checkpoint(runner, {'state_dict': models['fami'].state_dict(), 'meta': {'cfg': text}})
    with caplog.at_level(logging.WARNING, logger='frame-window-hook-test'):
        hook.before_test(runner)
    assert len(caplog.records) == 1
    assert "'old.pth'" in caplog.text and 'frame_offsets=[-3, -1, 1, 2]' in caplog.text
    assert 'frame_offsets=[-2, -1, 1, 2]' in caplog.text


def test_unreadable_train_window_leaves_the_meta_alone(caplog):
    runner = SimpleNamespace(cfg=Config(dict()), logger=logging.getLogger('frame-window-hook-test'))
    checkpoint = {'meta': {'epoch': 1}}
    with caplog.at_level(logging.WARNING, logger='frame-window-hook-test'):
        FrameWindowCheckpointHook().before_save_checkpoint(runner, checkpoint)
    assert checkpoint == {'meta': {'epoch': 1}}
    assert 'train_dataloader' in caplog.text
