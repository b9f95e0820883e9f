"""Fixtures of the multi-process tests."""
import os
import os.path as osp
import pickle

import pytest
from distributed_utils import METRIC_CASES, group_worker, spawn, write_ground_truth


@pytest.fixture(scope='session')
def tiny_synthetic_root(tmp_path_factory) -> str:
    """A 2+2-video, 8-frame synthetic PoseTrack18 data root (96x72 frames), with a trailing ``/``."""
    from famipose_mmpose.synthetic import generate_dataset
    root = str(tmp_path_factory.mktemp('dist_data') / 'synthetic_posetrack')
    generate_dataset(root, preset='tiny', seed=3)
    return root + '/'


@pytest.fixture(scope='session')
def hand_made_gt_dir(tmp_path_factory) -> str:
    """Hand-made PoseTrack18 ground truth (see ``distributed_utils.GT_VIDEOS``)."""
    folder = str(tmp_path_factory.mktemp('dist_metric') / 'annotations' / 'val')
    write_ground_truth(folder)
    return folder


@pytest.fixture(scope='session')
def spawned_group(tiny_synthetic_root, hand_made_gt_dir, tmp_path_factory) -> dict:
    """One 2-process gloo group runs the metric cases and the DDP model variants (one start-up for both).

    Returns ``metric_out`` (folder with ``<case>/rank<r>.pkl`` and ``<case>/ddp/``) and ``variants`` (rank 0's
    per-variant results).
    """
    metric_out = str(tmp_path_factory.mktemp('dist_metric_out'))
    for case in METRIC_CASES:
        os.makedirs(osp.join(metric_out, case))
    variants_out = str(tmp_path_factory.mktemp('ddp_variants'))
    spawn(group_worker, hand_made_gt_dir, metric_out, tiny_synthetic_root, variants_out)
    with open(osp.join(variants_out, 'variants.pkl'), 'rb') as f:
        variants = pickle.load(f)
    return dict(metric_out=metric_out, variants=variants)
