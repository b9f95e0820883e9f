"""tools/diagnose_temporal.py: its measurements are zero exactly when the supporting frames carry nothing new."""
import importlib.util
import os.path as osp

import numpy as np
import pytest
import torch

from .test_famipose import _build, _video

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def diagnose():
    spec = importlib.util.spec_from_file_location('diagnose_temporal_under_test',
                                                  osp.join(REPO, 'tools', 'diagnose_temporal.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def model():
    model = _build()
    model.eval()
    torch.manual_seed(1)
    # weights of a trained model: non-zero deformable convs, a head whose output depends on its input (the head's
    # init, std 0.001, gives nearly constant heatmaps)
    for conv in list(model.lcm.dcns) + [m for m in model.head.modules() if isinstance(m, torch.nn.Conv2d)]:
        torch.nn.init.normal_(conv.weight, std=0.1)
    return model


def test_static_window_has_no_temporal_effect(diagnose, model):
    video = _video()
    static = video[:, :1].expand_as(video).contiguous()
    out = diagnose.measure(model, static)
    np.testing.assert_allclose(out['temporal_effect'], 0, atol=1e-6)
    assert (out['argmax_moved'] == 0).all()
    assert (out['support_over_key'] > 0).all()  # the branch still adds a refinement of the key feature
    slots = [key for key in out if key.startswith('support_over_key_slot')]
    assert len(slots) == video.shape[1] - 1
    assert all(key in out for key in ('gtm_shift_px_slot0', 'gtm_linear_dev_slot0'))


def test_a_moving_window_has_a_temporal_effect(diagnose, model):
    out = diagnose.measure(model, _video())
    assert (out['temporal_effect'] > 0.01).all()
    assert out['temporal_effect'].shape == out['support_over_key'].shape == (_video().shape[0], )
