"""CheckpointAliasHook: best.pth / last.pth follow CheckpointHook's files; files it did not write are kept."""
import logging
import os
import os.path as osp
from types import SimpleNamespace

from mmengine.hooks import CheckpointHook

from famipose_mmpose.engine.hooks import CheckpointAliasHook


def _runner(work_dir, last=None, best=None):
    checkpoint_hook = CheckpointHook(interval=1, save_best='posetrack/Total AP', rule='greater')
    checkpoint_hook.last_ckpt = last
    checkpoint_hook.best_ckpt_path = best
    return SimpleNamespace(hooks=[checkpoint_hook], logger=logging.getLogger('alias-test'), work_dir=str(work_dir))


def _touch(path):
    with open(path, 'wb') as f:
        f.write(b'weights')
    return str(path)


def test_links_follow_the_latest_and_the_best_checkpoint(tmp_path):
    hook = CheckpointAliasHook()
    first = _touch(tmp_path / 'epoch_1.pth')
    best = _touch(tmp_path / 'best_posetrack_Total AP_epoch_1.pth')
    hook.after_val_epoch(_runner(tmp_path, last=first, best=best))
    assert os.readlink(tmp_path / 'last.pth') == 'epoch_1.pth'
    assert os.readlink(tmp_path / 'best.pth') == 'best_posetrack_Total AP_epoch_1.pth'

    second = _touch(tmp_path / 'epoch_2.pth')
    hook.after_train_epoch(_runner(tmp_path, last=second, best=best))
    assert os.readlink(tmp_path / 'last.pth') == 'epoch_2.pth'
    assert os.readlink(tmp_path / 'best.pth') == 'best_posetrack_Total AP_epoch_1.pth'
    assert not [f for f in os.listdir(tmp_path) if f.endswith('.tmp')]


def test_no_best_link_without_save_best(tmp_path):
    runner = _runner(tmp_path, last=_touch(tmp_path / 'epoch_1.pth'))
    runner.hooks = [CheckpointHook(interval=1)]
    runner.hooks[0].last_ckpt = str(tmp_path / 'epoch_1.pth')
    CheckpointAliasHook().after_train_epoch(runner)
    assert os.readlink(tmp_path / 'last.pth') == 'epoch_1.pth'
    assert not osp.lexists(tmp_path / 'best.pth')


def test_a_regular_file_under_the_name_is_kept_with_a_warning(tmp_path, caplog):
    (tmp_path / 'last.pth').write_bytes(b'the user file')
    runner = _runner(tmp_path, last=_touch(tmp_path / 'epoch_1.pth'))
    with caplog.at_level(logging.WARNING, logger='alias-test'):
        CheckpointAliasHook().after_train_epoch(runner)
    assert (tmp_path / 'last.pth').read_bytes() == b'the user file'
    assert 'last.pth is a file this run did not write' in caplog.text
