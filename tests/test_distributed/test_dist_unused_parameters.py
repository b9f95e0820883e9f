"""FAMI-Pose variants train under DDP on 2 gloo processes without tripping DDP's unused-parameter check.

Each variant of the synthetic config is wrapped exactly as mmengine's Runner wraps it under tools/dist_cpu.py (the
launcher's ``model_wrapper_cfg``, ``find_unused_parameters=False``) and runs 2 ``train_step``s on each rank's own
shard of the tiny synthetic set: a trainable parameter that got no gradient in step 1 makes DDP raise in step 2.
"""
import math

import pytest
from distributed_utils import MODEL_VARIANTS, NUM_STEPS

pytestmark = pytest.mark.integration


@pytest.fixture
def variants(spawned_group) -> dict:
    return spawned_group['variants']


@pytest.mark.parametrize('name', list(MODEL_VARIANTS))
def test_variant_trains_under_ddp_without_unused_parameters(name, variants):
    result = variants[name]
    assert result['error'] is None, f'{name}: {result["error"]}'
    assert result['wrapper'] == 'MMDistributedDataParallel'
    assert result['device_ids'] is None and result['find_unused_parameters'] is False
    assert len(result['losses']) == NUM_STEPS and all(math.isfinite(v) for v in result['losses']), result['losses']
    assert result['params_changed'], 'the optimizer did not move any trainable parameter'
    assert result['params_equal_across_ranks'], 'gradients were not averaged across the ranks'
    assert result['frozen_without_grad'] and result['frozen_params_unchanged'], 'the frozen backbone was trained'
    # eval-mode BN keeps the frozen backbone's running statistics; backbone_bn_train lets them drift
    assert result['frozen_buffers_unchanged'] == (name != 'backbone_bn_train')


def test_unused_trainable_parameter_is_refused(variants):
    """The check is live under the CPU launcher: a parameter no loss uses fails the second step."""
    result = variants['negative_control_unused_parameter']
    assert result['error'] is not None and 'unused_probe' in result['error'], result
    assert len(result['losses']) == 1
