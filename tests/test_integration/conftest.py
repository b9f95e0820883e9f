"""Fixtures of the integration tests."""
import pytest


@pytest.fixture(scope='session')
def tiny_posetrack(tmp_path_factory) -> str:
    """A 2+2-video, 8-frame synthetic PoseTrack18 data root (96x72 frames)."""
    from famipose_mmpose.synthetic import generate_dataset
    root = str(tmp_path_factory.mktemp('data') / 'synthetic_posetrack')
    generate_dataset(root, preset='tiny', seed=3)
    return root + '/'
