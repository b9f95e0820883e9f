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


def test_set_made_before_a_new_generator_option_is_still_reused(run_demo, tmp_path):
    """A set (and the stages trained on it) recorded before the generator gained an option matches the same set
    asked for with that option at its default; asking for another value regenerates it."""
    root = str(tmp_path / 'data')
    summary_file = osp.join(root, 'synthetic_posetrack.json')
    first = run_demo.prepare_data(root, dict(preset='tiny'), seed=0)
    with open(summary_file) as f:
        summary = json.load(f)
    del summary['config']['occluder_scale']  # as written before the option existed
    with open(summary_file, 'w') as f:
        json.dump(summary, f)
    stamp = os.stat(summary_file).st_mtime_ns
    assert run_demo.prepare_data(root, dict(preset='tiny'), seed=0) == first
    assert os.stat(summary_file).st_mtime_ns == stamp  # reused, not regenerated
    old_record = dict(seed=0, config={k: v for k, v in first['config'].items() if k != 'occluder_scale'})
    assert run_demo.data_identity(old_record) == first
    # only the options added later are filled in: a record missing any other option does not match
    assert run_demo.data_identity(dict(seed=0, config={})) != first
    bigger = run_demo.prepare_data(root, dict(preset='tiny', occluder_scale=2.0), seed=0)
    assert bigger != first
    with open(summary_file) as f:
        assert json.load(f)['config']['occluder_scale'] == 2.0


def _fake_tool(calls):
    """Stands in for tools/train.py and tools/test.py: records the call; a training writes a checkpoint, mmengine's
    last_checkpoint marker and the CheckpointAliasHook link last.pth; a test writes a prediction file."""

    def run(args, log_file, threads=None):
        calls.append(args)
        work_dir = args[args.index('--work-dir') + 1]
        if osp.basename(args[1]) == 'test.py':
            pred_dir = next(a for a in args if a.startswith('test_evaluator.out_dir=')).split('=', 1)[1]
            os.makedirs(pred_dir, exist_ok=True)
            open(osp.join(pred_dir, 'video.json'), 'w').close()
            return
        ckpt = osp.join(work_dir, 'epoch_1.pth')
        open(ckpt, 'w').close()
        with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
            f.write(ckpt)
        if not osp.lexists(osp.join(work_dir, 'last.pth')):
            os.symlink('epoch_1.pth', osp.join(work_dir, 'last.pth'))

    return run


def test_stages_recorded_before_a_new_option_are_reused_and_tests_follow_the_data(run_demo, tmp_path,
                                                                                   monkeypatch):
    """A trained stage and a test recorded before occluder_scale existed are reused for the same data; a stage
    or a test of a regenerated set (other options) is redone, even when its checkpoint is unchanged."""
    calls = []
    monkeypatch.setattr(run_demo, 'run_stock_tool', _fake_tool(calls))
    work_dir = str(tmp_path / 'stage')
    data_id = run_demo.data_identity(dict(seed=0, config=dict(frames_per_video=8)))
    assert data_id['config']['occluder_scale'] == 1.0
    old_id = dict(seed=0, config=dict(frames_per_video=8))  # as recorded before the option existed

    def train(data):
        return run_demo.train(run_demo.STAGE1_CONFIG, work_dir, 2, 0, str(tmp_path), data, [], False,
                              val_interval=1)

    ckpt, trained = train(old_id)
    assert trained and len(calls) == 1
    assert train(data_id) == (ckpt, False) and len(calls) == 1
    bigger = dict(seed=0, config=dict(frames_per_video=8, occluder_scale=2.0))

    def test(data):
        return run_demo.test(run_demo.STAGE1_CONFIG, ckpt, work_dir, str(tmp_path), [], False, 'val', None, data)

    pred_dir = test(old_id)
    assert os.listdir(pred_dir) and len(calls) == 2
    assert test(data_id) == pred_dir and len(calls) == 2  # same set: the predictions are reused
    test(bigger)
    assert len(calls) == 3  # a regenerated set is tested anew with the same checkpoint
    assert train(bigger)[1] and len(calls) == 4


def test_train_reruns_only_when_settings_change(run_demo, tmp_path,
                                                monkeypatch):
    calls = []

    monkeypatch.setattr(run_demo, 'run_stock_tool', _fake_tool(calls))
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


def test_data_options_validate_on_val_and_test_on_test(run_demo):
    options = run_demo.data_options('/d', pred_dir='/p')
    val = [o for o in options if o.startswith(('train_', 'val_'))]
    test = [o for o in options if o.startswith('test_')]
    assert val and test and len(val) + len(test) == len(options)
    assert not any('test' in o.split('=', 1)[1] for o in val), val
    assert 'test_dataloader.dataset.ann_file=annotations/posetrack18_test.json' in test
    assert 'test_evaluator.gt_dir=/d/annotations/test/' in test
    assert 'val_evaluator.gt_dir=/d/annotations/val/' in val


def test_static_support_arm_applies_to_training_and_testing(run_demo):
    arm = run_demo.ARMS['static support']
    assert arm.config == run_demo.FAMI_CONFIG
    assert sorted(arm.options) == sorted(f'{loader}.dataset.static_support=True'
                                         for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'))
    assert run_demo.ARMS['matched budget'].config == run_demo.MATCHED_CONFIG


def test_plan_runs_each_arm_on_its_repeats(run_demo):
    arms = run_demo.PRESETS['bench']['arms']
    schedule = run_demo.plan(arms, None, None)
    assert list(schedule) == [0, 1, 2]
    assert schedule[0] == list(run_demo.ARMS)  # every arm on repeat 0, in ARMS order
    assert schedule[1] == ['single-frame', 'matched budget', 'static support', 'FAMI-Pose']
    # a repeat the preset does not list runs the arms of every repeat; single-frame always runs first
    assert run_demo.plan(arms, [5], None)[5] == schedule[1]
    assert run_demo.plan(arms, [0], ['FAMI-Pose']) == {0: ['single-frame', 'FAMI-Pose']}
    with pytest.raises(ValueError, match='unknown arms'):
        run_demo.plan({'nope': [0]}, None, None)


def test_summary_tables_pair_differences_per_repeat(run_demo):
    totals = {
        0: {'single-frame': dict(all=10.0, occluded=8.0), 'static support': dict(all=11.0, occluded=9.0),
            'FAMI-Pose': dict(all=13.0, occluded=12.0), 'GTM only': dict(all=12.0, occluded=10.0)},
        1: {'single-frame': dict(all=20.0, occluded=18.0), 'static support': dict(all=22.0, occluded=19.0),
            'FAMI-Pose': dict(all=23.0, occluded=21.0)},
    }
    lines = run_demo.summary_tables(totals).splitlines()
    assert lines[0] == '| arm | repeats | all | occluded |'
    assert '| single-frame | 2 (0, 1) | 15.0 ± 7.1 | 13.0 ± 7.1 |' in lines
    assert '| GTM only | 1 (0) | 12.0 | 10.0 |' in lines  # one value: no std
    # paired: (13-11, 23-22) = (+2, +1); (12-9, 21-19) = (+3, +2)
    assert '| FAMI-Pose minus static support | 2 | +1.5 ± 0.7 (+2.0 / +1.0) | +2.5 ± 0.7 (+3.0 / +2.0) |' in lines
    assert '| FAMI-Pose minus single-frame | 2 | +3.0 ± 0.0 (+3.0 / +3.0) | +3.5 ± 0.7 (+4.0 / +3.0) |' in lines
    assert not any('matched budget' in line for line in lines)  # not run: no row
    assert 'nan' not in '\n'.join(lines)
    with pytest.raises(ValueError, match='no results'):
        run_demo.summary_tables({})


def test_run_jobs_runs_side_by_side_and_reports_every_failure(run_demo):
    import threading
    barrier = threading.Barrier(2, timeout=10)  # passes only when both jobs run at once

    def job(name):
        barrier.wait()
        return name.upper()

    out = run_demo.run_jobs([('a', lambda: job('a')), ('b', lambda: job('b'))], workers=2)
    assert list(out.items()) == [('a', 'A'), ('b', 'B')]

    order = []

    def failing():
        order.append('bad')
        raise SystemExit('tools/train.py failed (exit 1); full log: x/train.log')

    # side by side: the other job still runs to its end, the failure is named
    with pytest.raises(SystemExit) as info:
        run_demo.run_jobs([('bad', failing), ('good', lambda: order.append('good'))], workers=2)
    assert sorted(order) == ['bad', 'good']
    assert 'bad: tools/train.py failed (exit 1); full log: x/train.log' in str(info.value)
    assert 'good' not in str(info.value)

    # one at a time: in order, stopping at the first failure
    order.clear()
    with pytest.raises(SystemExit, match='full log: x/train.log'):
        run_demo.run_jobs([('bad', failing), ('good', lambda: order.append('good'))], workers=1)
    assert order == ['bad']


@pytest.mark.parametrize('jobs', [1, 2])
def test_run_repeat_gives_each_arm_its_checkpoint_and_thread_share(run_demo, tmp_path, monkeypatch, jobs):
    """The wiring of a repeat, the tools stubbed: every arm trains from the stage-1 checkpoint and is tested with
    its own checkpoint and options; side by side every tool gets cores / jobs threads, one at a time none is set."""
    import argparse
    trained, tested, reported = [], [], {}

    def fake_train(config, work_dir, epochs, seed, root, data_id, extra, force, val_interval, threads=None):
        trained.append(dict(dir=osp.basename(work_dir), extra=list(extra), threads=threads))
        return osp.join(work_dir, 'best.pth'), True

    def fake_test(config, checkpoint, work_dir, root, extra, force, split='test', threads=None, data_id=None):
        assert data_id == dict(seed=0)  # every test records the data set it scored
        tested.append(dict(dir=osp.basename(work_dir), checkpoint=checkpoint, extra=list(extra), threads=threads))
        return osp.join(work_dir, 'predictions')

    def fake_report(root, runs, out_dir, split='test'):
        reported.update(runs)
        return {name: {'all': 0.0} for name in runs}

    monkeypatch.setattr(run_demo, 'prepare_data', lambda root, options, seed: dict(seed=seed))
    monkeypatch.setattr(run_demo, 'train', fake_train)
    monkeypatch.setattr(run_demo, 'test', fake_test)
    monkeypatch.setattr(run_demo, 'report', fake_report)
    monkeypatch.setattr(run_demo, 'scalars_file', lambda work_dir: osp.join(work_dir, 'scalars.json'))
    monkeypatch.setattr(run_demo, 'cpu_cores', lambda: 4)
    args = argparse.Namespace(data=[], stage1_from=None, force=False, split='test', fami_options=[],
                              skip_video=True)
    names = ['single-frame', 'static support', 'FAMI-Pose']
    totals = run_demo.run_repeat(0, names, run_demo.PRESETS['demo'], args, str(tmp_path), 1, 1, jobs, render=False)

    assert list(totals) == names and list(reported) == names
    stage1 = osp.join(str(tmp_path), 'repeat0', 'stage1_single_frame', 'best.pth')
    assert trained[0]['dir'] == 'stage1_single_frame' and trained[0]['threads'] is None  # stage 1 runs alone
    share = None if jobs == 1 else 2
    by_dir = {t['dir']: t for t in trained[1:]}
    assert sorted(by_dir) == ['stage2_famipose', 'static_support']
    for t in by_dir.values():
        assert t['extra'][0] == f'load_from={stage1}' and t['threads'] == share
    assert 'train_dataloader.dataset.static_support=True' in by_dir['static_support']['extra']
    assert not any('static_support' in o for o in by_dir['stage2_famipose']['extra'])
    for t in tested:
        assert osp.basename(osp.dirname(t['checkpoint'])) == t['dir'] and t['threads'] == share
    assert reported['FAMI-Pose']['checkpoint'].endswith(osp.join('stage2_famipose', 'best.pth'))
    assert reported['static support']['pred_dir'].endswith(osp.join('static_support', 'predictions'))


def test_run_stock_tool_caps_threads_and_keeps_the_log(run_demo, tmp_path):
    import sys
    log_file = str(tmp_path / 'arm' / 'train.log')
    os.makedirs(osp.dirname(log_file))
    show = 'import os; print("threads", os.environ.get("OMP_NUM_THREADS"), os.environ.get("MKL_NUM_THREADS"))'
    run_demo.run_stock_tool([sys.executable, '-c', show], log_file, threads=1)
    with open(log_file) as f:
        assert f.read().split() == ['threads', '1', '1']
    run_demo.run_stock_tool([sys.executable, '-c', show], log_file)
    with open(log_file) as f:
        assert f.read().split()[1] == str(os.environ.get('OMP_NUM_THREADS'))  # None: left as it was
    with pytest.raises(SystemExit, match='exit 3'):
        run_demo.run_stock_tool([sys.executable, '-c', 'raise SystemExit(3)'], log_file)
