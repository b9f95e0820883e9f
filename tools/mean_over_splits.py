"""Mean of the metrics of several ``tools/test.py`` runs, e.g. Sub-JHMDB's three splits (the paper reports the mean).

Each argument is the ``--work-dir`` of one stock ``tools/test.py`` run; its metrics are read from the newest
``<work-dir>/<timestamp>/<timestamp>.json`` that mmengine writes at the end of a test::

    for s in 1 2 3; do
      python tools/test.py configs/famipose/famipose_hrnet-w48_8xb6-20e_sub-jhmdb-split${s}-384x288.py \\
          work_dirs/famipose_hrnet-w48_8xb6-20e_sub-jhmdb-split${s}-384x288/last.pth \\
          --work-dir work_dirs/test_sub-jhmdb-split${s}
    done
    python tools/mean_over_splits.py work_dirs/test_sub-jhmdb-split{1,2,3}

prints every metric per run and its mean (± the standard deviation over the runs). Runs that do not report the same
metrics are refused, so that no mean is taken over a subset.
"""
import argparse
import json
import os
import os.path as osp
import re
import statistics
from typing import Dict, Optional, Sequence

# keys mmengine adds to a test's metrics file that are timings, not metrics
TIMING_KEYS = ('data_time', 'time')


def newest_metrics_file(work_dir: str) -> str:
    """The metrics json of the newest test run in ``work_dir`` (``<timestamp>/<timestamp>.json``)."""
    if not osp.isdir(work_dir):
        raise SystemExit(f'{work_dir}: not a folder; give the --work-dir of a tools/test.py run')
    runs = sorted(d for d in os.listdir(work_dir)
                  if re.fullmatch(r'\d{8}_\d{6}', d) and osp.isfile(osp.join(work_dir, d, f'{d}.json')))
    if not runs:
        raise SystemExit(f'{work_dir}: no <timestamp>/<timestamp>.json metrics file; did tools/test.py finish there '
                         'with this --work-dir?')
    return osp.join(work_dir, runs[-1], f'{runs[-1]}.json')


def read_metrics(path: str) -> Dict[str, float]:
    try:
        with open(path) as f:
            record = json.load(f)
    except (OSError, json.JSONDecodeError) as error:
        raise SystemExit(f'{path}: cannot read the metrics ({error}); rerun that test')
    return {k: float(v) for k, v in record.items() if k not in TIMING_KEYS and isinstance(v, (int, float))}


def mean_table(runs: Dict[str, Dict[str, float]]) -> str:
    """A markdown table: one row per metric, one column per run, then the mean (± std with 2+ runs)."""
    names = list(runs)
    metrics = list(next(iter(runs.values())))
    for name, values in runs.items():
        if set(values) != set(metrics):
            raise SystemExit(f'{name} reports {sorted(values)} but {names[0]} reports {sorted(metrics)}: the runs '
                             'are not of the same kind; give runs of one benchmark')
    lines = ['| metric | ' + ' | '.join(names) + ' | mean |', '|---' * (len(names) + 2) + '|']
    for metric in metrics:
        values = [runs[name][metric] for name in names]
        mean = statistics.fmean(values)
        spread = f' ± {statistics.stdev(values):.2f}' if len(values) > 1 else ''
        lines.append(f'| {metric} | ' + ' | '.join(f'{v:.2f}' for v in values) + f' | {mean:.2f}{spread} |')
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('work_dirs', nargs='+', help='the --work-dir of each tools/test.py run')
    args = parser.parse_args(argv)
    runs: Dict[str, Dict[str, float]] = {}
    for work_dir in args.work_dirs:
        runs[osp.basename(osp.normpath(work_dir))] = read_metrics(newest_metrics_file(work_dir))
    if len(runs) != len(args.work_dirs):
        raise SystemExit('two work dirs have the same name; give each run its own folder name')
    table = mean_table(runs)
    print(table)
    return table


if __name__ == '__main__':
    main()
