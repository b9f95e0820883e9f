"""FAMIPose refuses, when it is built, parts made for different feature widths (issue 13: a head whose in_channels
does not match the backbone used to build and fail at the first iteration)."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpose.registry import MODELS

import famipose_mmpose  # noqa: F401

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FAMI_CONFIG = osp.join(REPO, 'configs', 'synthetic', 'famipose_hrnet-tiny_1xb32-12e_synthposetrack-128x96.py')


def _build(**options):
    init_default_scope('mmpose')
    cfg = Config.fromfile(FAMI_CONFIG)
    cfg.merge_from_dict(options)
    return MODELS.build(cfg.model)


def test_head_wider_than_the_backbone_is_refused_at_build():
    with pytest.raises(ValueError, match=r'backbone output .* = 16, .*model\.head\.in_channels = 32'):
        _build(**{'model.head.in_channels': 32})


def test_gtm_of_another_width_is_refused_at_build():
    with pytest.raises(ValueError, match=r'model\.gtm\.in_channels = 8'):
        _build(**{'model.gtm.in_channels': 8})


def test_the_shipped_widths_build():
    assert _build().head.in_channels == 16
