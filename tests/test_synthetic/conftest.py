"""Fixtures of the synthetic-data tests: tiny generated data sets.

The session-scoped sets are generated once (well under a second each) into
pytest's temporary folder; tests must not modify them.
"""
import json
import os

import pytest

from famipose_mmpose.synthetic import generate_dataset

# Options that make every hard case appear even in the tiny preset.
RICH_OPTIONS = dict(
    occlusion_rate=1.0,
    blur_rate=0.3,
    crowd_rate=1.0,
    det_false_positives=1.0,
    det_miss_rate=0.0)


def load_json(root, *parts):
    with open(os.path.join(str(root), *parts), encoding='utf-8') as f:
        return json.load(f)


@pytest.fixture(scope='session')
def rich_set(tmp_path_factory):
    """(root, summary) of the tiny preset with all hard cases switched on."""
    root = tmp_path_factory.mktemp('synthetic') / 'rich'
    summary = generate_dataset(str(root), preset='tiny', seed=0,
                               **RICH_OPTIONS)
    return root, summary


@pytest.fixture(scope='session')
def val_set(tmp_path_factory):
    """(root, summary): 4 tiny val videos, every frame labeled."""
    root = tmp_path_factory.mktemp('synthetic') / 'val'
    summary = generate_dataset(
        str(root),
        preset='tiny',
        seed=3,
        num_train_videos=0,
        num_val_videos=4,
        val_label_stride=1,
        det_miss_rate=0.0,
        det_false_positives=1.0,
        crowd_rate=1.0)
    return root, summary


@pytest.fixture(scope='session')
def read_json():
    """``read_json(root, *parts)`` loads a json file of a data set."""
    return load_json
