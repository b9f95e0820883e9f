"""tools/mean_over_splits.py: the mean over Sub-JHMDB's three test runs, and refusals instead of partial means."""
import importlib.util
import json
import os.path as osp

import pytest

TOOL = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tools', 'mean_over_splits.py')


def _tool():
    spec = importlib.util.spec_from_file_location('mean_over_splits', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _test_run(root, name, metrics, stamp='20261130_101010'):
    folder = root / name / stamp
    folder.mkdir(parents=True)
    (folder / f'{stamp}.json').write_text(json.dumps(dict(metrics, data_time=0.1, time=0.5)))
    return str(root / name)


def test_mean_and_spread_over_three_splits(tmp_path):
    pck = {1: 95.0, 2: 96.0, 3: 97.0}
    runs = [_test_run(tmp_path, f'split{s}', {'PCK': pck[s], 'tPCK': 90.0}) for s in (1, 2, 3)]
    table = _tool().main(runs)
    assert '| PCK | 95.00 | 96.00 | 97.00 | 96.00 ± 1.00 |' in table
    assert '| tPCK | 90.00 | 90.00 | 90.00 | 90.00 ± 0.00 |' in table
    assert 'time' not in table.replace('tPCK', '')


def test_newest_run_of_a_work_dir_is_used(tmp_path):
    _test_run(tmp_path, 'split1', {'PCK': 10.0}, stamp='20261130_090000')
    newer = tmp_path / 'split1' / '20261130_100000'
    newer.mkdir()
    (newer / '20261130_100000.json').write_text(json.dumps({'PCK': 50.0}))
    assert '| PCK | 50.00 | 50.00 |' in _tool().main([str(tmp_path / 'split1')])


def test_runs_reporting_other_metrics_are_refused(tmp_path):
    runs = [_test_run(tmp_path, 'split1', {'PCK': 95.0}), _test_run(tmp_path, 'split2', {'AP': 70.0})]
    with pytest.raises(SystemExit, match='split2 reports .*AP.* but split1 reports .*PCK'):
        _tool().main(runs)


def test_a_work_dir_without_a_finished_test_is_named(tmp_path):
    (tmp_path / 'split3').mkdir()
    with pytest.raises(SystemExit, match='split3: no <timestamp>/<timestamp>.json'):
        _tool().main([_test_run(tmp_path, 'split1', {'PCK': 95.0}), str(tmp_path / 'split3')])
