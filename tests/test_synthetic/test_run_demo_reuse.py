# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""tools/run_demo.py reuses a data set or a trained stage only when it was
made with the same settings (a changed preset must not report stale
results)."""
import importlib.util
import json
import os
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def run_demo():
    spec = importlib.util.spec_from_file_location(
        'run_demo_under_test', osp.join(REPO, 'tools', 'run_demo.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_prepare_data_reuses_and_regenerates(run_demo, tmp_path):
    root = str(tmp_path / 'data')
    summary_file = osp.join(root, 'synthetic_posetrack.json')
    first = run_demo.prepare_data(root, dict(preset='tiny'), seed=0)
    stamp = os.stat(summary_file).st_mtime_ns
    again = run_demo.prepare_data(root, dict(preset='tiny'), seed=0)
    assert again == first
    assert os.stat(summary_file).st_mtime_ns == stamp  # not rewritten

    shorter = run_demo.prepare_data(
        root, dict(preset='tiny', frames_per_video=6), seed=0)
    assert shorter['config']['frames_per_video'] == 6
    with open(summary_file) as f:
        assert json.load(f)['config']['frames_per_video'] == 6
    other_seed = run_demo.prepare_data(
        root, dict(preset='tiny', frames_per_video=6), seed=1)
    assert other_seed['seed'] == 1
    with open(summary_file) as f:
        assert json.load(f)['seed'] == 1


def test_train_reruns_only_when_settings_change(run_demo, tmp_path,
                                                monkeypatch):
    calls = []

    def fake_stock_tool(args, log_file):
        """Stands in for tools/train.py: records the call, writes a
        checkpoint and mmengine's last_checkpoint marker."""
        work_dir = args[args.index('--work-dir') + 1]
        calls.append(args)
        ckpt = osp.join(work_dir, 'epoch_1.pth')
        open(ckpt, 'w').close()
        with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
            f.write(ckpt)

    monkeypatch.setattr(run_demo, 'run_stock_tool', fake_stock_tool)
    work_dir = str(tmp_path / 'stage')
    data_id = dict(seed=0, config=dict(frames_per_video=8))

    def train(epochs, data=data_id, force=False):
        return run_demo.train(
            run_demo.STAGE1_CONFIG,
            work_dir,
            epochs,
            0,
            str(tmp_path),
            data, [],
            force,
            val_interval=1)

    ckpt, trained = train(2)
    assert trained and len(calls) == 1
    assert osp.realpath(ckpt) == osp.join(work_dir, 'epoch_1.pth')
    assert train(2) == (ckpt, False) and len(calls) == 1
    assert train(3)[1] and len(calls) == 2
    assert train(3, data=dict(seed=1, config={}))[1] and len(calls) == 3
    assert train(3, data=dict(seed=1, config={}), force=True)[1]
    assert len(calls) == 4


def test_gain_table_mean_std_and_single_seed(run_demo):
    gains = [dict(all=2.0, occluded=4.0), dict(all=3.0, occluded=5.0), dict(all=4.0, occluded=6.0)]
    table = run_demo.gain_table(gains, [0, 1, 2]).splitlines()
    assert table[0] == '| frames | FAMI-Pose minus single-frame, Total AP (mean ± std over seeds 0, 1, 2) |'
    assert table[2:] == ['| all | +3.0 ± 1.0 |', '| occluded | +5.0 ± 1.0 |']

    single = run_demo.gain_table([dict(all=-1.25)], [7]).splitlines()
    assert single[0] == '| frames | FAMI-Pose minus single-frame, Total AP (seed 7) |'
    assert single[2:] == ['| all | -1.2 |'] and 'nan' not in '\n'.join(single)

    with pytest.raises(ValueError, match='2 results for seeds'):
        run_demo.gain_table(gains[:2], [0, 1, 2])
