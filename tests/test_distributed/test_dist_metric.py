"""PoseTrackAPMetric gathered over 2 gloo processes gives exactly the single-process numbers.

Each rank processes the shard that mmengine's ``DefaultSampler`` (shuffle off, ``round_up=True``) gives it and
calls ``evaluate(size)``; with an odd number of samples the sampler pads rank 1 with sample 0 and
``collect_results`` must drop it again.
"""
import math
import os
import os.path as osp
import pickle

import pytest
from distributed_utils import METRIC_CASES, WORLD_SIZE, build_metric, prediction_samples, process_in_batches


@pytest.fixture
def gt_dir(hand_made_gt_dir) -> str:
    return hand_made_gt_dir


@pytest.fixture
def distributed(spawned_group) -> str:
    """Folder of the 2-process outputs of every case of METRIC_CASES."""
    return spawned_group['metric_out']


def single_process(gt_dir: str, out_dir: str, num: int) -> dict:
    samples = prediction_samples(num)
    metric = build_metric(gt_dir, out_dir)
    process_in_batches(metric, samples, range(num))
    return dict(metric.evaluate(num))


def same_number(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


@pytest.mark.integration
@pytest.mark.parametrize('case', list(METRIC_CASES))
def test_gathered_metric_equals_single_process(case, gt_dir, distributed, tmp_path):
    num, _ = METRIC_CASES[case]
    expected = single_process(gt_dir, str(tmp_path / 'single'), num)
    # the hand-made set must be informative: some joints right, some wrong
    assert 0 < expected['posetrack/Total AP'] < 100, expected

    outputs = []
    for rank in range(WORLD_SIZE):
        with open(osp.join(distributed, case, f'rank{rank}.pkl'), 'rb') as f:
            outputs.append(pickle.load(f))
    for rank, output in enumerate(outputs):
        got = output['metrics']
        assert list(got) == list(expected), f'rank {rank}'
        mismatched = {k: (got[k], expected[k]) for k in expected if not same_number(got[k], expected[k])}
        assert not mismatched, f'rank {rank} differs from one process: {mismatched}'

    # every sample processed by exactly one rank, plus the sampler's padding
    processed = [output['processed_ids'] for output in outputs]
    assert sorted(set(processed[0]) | set(processed[1])) == list(range(num))
    assert len(processed[0]) == len(processed[1]) == math.ceil(num / WORLD_SIZE)
    if num % WORLD_SIZE:  # rank 1 ends with sample 0 again
        assert set(processed[0]) & set(processed[1]) == {0} and processed[1][-1] == 0, processed
    else:
        assert not set(processed[0]) & set(processed[1]), processed

    # rank 0 wrote the same prediction files as one process
    ddp_dir, single_dir = osp.join(distributed, case, 'ddp'), str(tmp_path / 'single')
    assert sorted(os.listdir(ddp_dir)) == sorted(os.listdir(single_dir))
    for name in os.listdir(single_dir):
        with open(osp.join(ddp_dir, name)) as f_ddp, open(osp.join(single_dir, name)) as f_single:
            assert f_ddp.read() == f_single.read(), name


def test_duplicate_prediction_would_change_the_numbers(gt_dir, tmp_path):
    """The padded cases can fail: the padded sample, counted as a second person, lowers the AP."""
    num = METRIC_CASES['padded_cpu_collect'][0]
    samples = prediction_samples(num)
    expected = single_process(gt_dir, str(tmp_path / 'single'), num)
    duplicate = dict(samples[0], id=num)  # the same person again, under a new sample id
    metric = build_metric(gt_dir, str(tmp_path / 'dup'))
    process_in_batches(metric, samples + [duplicate], range(num + 1))
    with_duplicate = metric.evaluate(num + 1)
    assert with_duplicate['posetrack/Total AP'] < expected['posetrack/Total AP']
