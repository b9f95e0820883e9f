"""The PoseTrack17 configs, as shipped, through the stock tools/test.py on miniatures of the files PoseTrack17
users have (issue 12, point 2): official annolist files with head boxes and ignore regions, frames renamed
``%08d.jpg`` from 1, PoseWarper's precomputed boxes; converted by tools/posetrack_prepare.py, then read by the
stage-1 (mmpose's PoseTrack18Dataset) and FAMI-Pose (PoseTrackVideoDataset) data paths and scored by the metric in
the PoseTrack17 format. The weights are random (HRNet-W48 at 384x288): the data path and the metric are tested."""
import importlib.util
import json
import os
import os.path as osp
import sys

import pytest
import torch
from integration_utils import REPO, STOCK_TOOLS, run_tool

pytestmark = pytest.mark.integration

FIXTURES = osp.join(REPO, 'tests', 'test_tools_data', '_pt17_fixtures.py')
PREPARE = osp.join(REPO, 'tools', 'posetrack_prepare.py')
CONFIGS = {
    'stage 1': osp.join(REPO, 'configs', 'stage1', 'td-hm_hrnet-w48_8xb64-20e_posetrack17-384x288.py'),
    'FAMI-Pose': osp.join(REPO, 'configs', 'famipose', 'famipose_hrnet-w48_8xb6-20e_posetrack17-384x288.py'),
}


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def posetrack17(tmp_path_factory):
    """A PoseTrack17 data root prepared with the documented commands (README "Preparing PoseTrack17")."""
    fx, tool = _load('pt17_fixtures_stock', FIXTURES), _load('posetrack_prepare_stock', PREPARE)
    root = str(tmp_path_factory.mktemp('posetrack17'))
    src = fx.make_pt17_official(root, renamed=False)
    annotations = osp.join(root, 'annotations')
    assert tool.main(['rename-pt17', osp.join(root, 'images'), '--apply']) == 0
    assert tool.main([
        'pt17-annolist', src['annolist_dir'], '--images', root, '--out-json',
        osp.join(annotations, 'posetrack17_val.json'), '--out-gt-dir',
        osp.join(annotations, 'val')
    ]) == 0
    boxes = osp.join(root, 'val_boxes.json')
    fx.make_posewarper_boxes(boxes, src['videos'])
    assert tool.main([
        'pt17-boxes', boxes, '--ann',
        osp.join(annotations, 'posetrack17_val.json'), '--out',
        osp.join(annotations, 'posetrack17_val_human_detections.json')
    ]) == 0
    return root + '/'


def _random_checkpoint(config: str, path: str) -> str:
    """The config's model with its initial weights, saved as a checkpoint."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS

    import famipose_mmpose  # noqa: F401
    init_default_scope('mmpose')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(config).model)
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return path


@pytest.mark.parametrize('stage', list(CONFIGS))
def test_posetrack17_config_tests_through_the_stock_tool(stage, posetrack17, tmp_path):
    config = CONFIGS[stage]
    checkpoint = _random_checkpoint(config, str(tmp_path / 'model.pth'))
    predictions = str(tmp_path / 'predictions')
    proc = run_tool([
        sys.executable,
        osp.join(STOCK_TOOLS, 'test.py'), config, checkpoint, '--work-dir',
        str(tmp_path / 'work'), '--cfg-options', f'test_dataloader.dataset.data_root={posetrack17}',
        f'test_dataloader.dataset.bbox_file={posetrack17}annotations/posetrack17_val_human_detections.json',
        'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False', 'test_dataloader.batch_size=2',
        f'test_evaluator.gt_dir={posetrack17}annotations/val/', f'test_evaluator.out_dir={predictions}'
    ],
                    cwd=str(tmp_path),
                    timeout=900)
    assert 'posetrack/Total AP' in proc.stdout + proc.stderr
    gt_files = sorted(os.listdir(osp.join(posetrack17, 'annotations', 'val')))
    assert sorted(os.listdir(predictions)) == gt_files  # one PoseTrack17 (annolist) file per ground-truth video
    for name in gt_files:
        with open(osp.join(predictions, name)) as f:
            content = json.load(f)
        assert 'annolist' in content, f'{name} is not in the PoseTrack17 format'
