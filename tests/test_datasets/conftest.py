"""Fixtures of the video data-path tests: miniature datasets in tmp_path."""
import importlib.util
import os.path as osp

import pytest


def _load_helper():
    path = osp.join(osp.dirname(__file__), '_make_posetrack.py')
    spec = importlib.util.spec_from_file_location(
        'famipose_tests_make_posetrack', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_data = _load_helper()


@pytest.fixture
def make():
    """The helper module :mod:`_make_posetrack` (make_posetrack,
    make_jhmdb, background_level, write_frame, ...)."""
    return make_data


@pytest.fixture
def pt18(tmp_path):
    """A miniature PoseTrack18 layout: 2 videos x 6 frames of 64x48."""
    return make_data.make_posetrack(str(tmp_path / 'pt18'), style='pt18')


@pytest.fixture
def pt17(tmp_path):
    """The same layout with PoseTrack17's renamed frames (%08d.jpg from 1)."""
    return make_data.make_posetrack(str(tmp_path / 'pt17'), style='pt17')
