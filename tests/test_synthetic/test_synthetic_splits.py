"""The synthetic set's train / val / test splits are disjoint, and no training or validation setting reads the test
split (model selection looks at val only; the reported numbers come from test)."""
import glob
import json
import os
import os.path as osp
import re

import pytest
from mmengine.config import Config

from famipose_mmpose.synthetic import generate_dataset

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TEST_SPLIT = re.compile(r'(^|[/_.])test([/_.]|$)')


@pytest.fixture(scope='module')
def three_splits(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('splits') / 'data')
    generate_dataset(root, preset='tiny', seed=3, num_train_videos=2, num_val_videos=2, num_test_videos=2,
                     frames_per_video=4)
    return root


def _load(path):
    with open(path) as f:
        return json.load(f)


def test_three_splits_are_written_and_disjoint(three_splits):
    root = three_splits
    videos, image_ids, files = {}, {}, {}
    for split in ('train', 'val', 'test'):
        coco = _load(osp.join(root, 'annotations', f'posetrack18_{split}.json'))
        videos[split] = {image['vid_id'] for image in coco['images']}
        image_ids[split] = {image['id'] for image in coco['images']}
        files[split] = {image['file_name'] for image in coco['images']}
        assert len(videos[split]) == 2
        assert all(name.startswith(f'images/{split}/') for name in files[split])
        assert sorted(os.listdir(osp.join(root, 'annotations', split))) == sorted(
            {f'{name.split("/")[2]}.json' for name in files[split]})
        hard = _load(osp.join(root, 'annotations', f'{split}_hard.json'))
        assert {image['image_id'] for image in hard['images']} == image_ids[split]
    for a, b in (('train', 'val'), ('train', 'test'), ('val', 'test')):
        assert not videos[a] & videos[b], (a, b)
        assert not image_ids[a] & image_ids[b], (a, b)
        assert not files[a] & files[b], (a, b)
    # detected boxes for both evaluation splits, each on its own split's frames only
    for split in ('val', 'test'):
        dets = _load(osp.join(root, 'annotations', f'posetrack18_{split}_human_detections.json'))
        assert dets and {d['image_id'] for d in dets} <= image_ids[split]
    assert not osp.exists(osp.join(root, 'annotations', 'posetrack18_train_human_detections.json'))


def test_val_and_test_come_from_the_same_distributions(three_splits):
    summary = _load(osp.join(three_splits, 'synthetic_posetrack.json'))
    assert summary['config']['num_test_videos'] == 2
    val, test = summary['splits']['val'], summary['splits']['test']
    assert val['videos'] == test['videos'] and val['frames'] == test['frames']
    assert val['labeled_frames'] == test['labeled_frames']  # same label stride


def test_adding_a_test_split_keeps_train_and_val_videos(tmp_path):
    with_test = str(tmp_path / 'a')
    without = str(tmp_path / 'b')
    generate_dataset(with_test, preset='tiny', seed=1, num_train_videos=1, num_val_videos=1, num_test_videos=1,
                     frames_per_video=3)
    generate_dataset(without, preset='tiny', seed=1, num_train_videos=1, num_val_videos=1, num_test_videos=0,
                     frames_per_video=3)
    for split in ('train', 'val'):
        a = _load(osp.join(with_test, 'annotations', f'posetrack18_{split}.json'))
        b = _load(osp.join(without, 'annotations', f'posetrack18_{split}.json'))
        assert a == b


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _strings(value)


CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True))


@pytest.mark.parametrize('path', CONFIGS, ids=[osp.relpath(p, REPO) for p in CONFIGS])
def test_no_training_or_validation_setting_reads_a_test_split(path):
    cfg = Config.fromfile(path).to_dict()
    if 'jhmdb' in osp.basename(path):
        # Sub-JHMDB has train and test splits only: no validation, nothing chosen, the last epoch is tested
        assert cfg['val_dataloader'] is None and cfg['val_evaluator'] is None and cfg['val_cfg'] is None
        assert cfg['default_hooks']['checkpoint']['save_best'] is None
    for field in ('train_dataloader', 'val_dataloader', 'val_evaluator', 'load_from'):
        for value in _strings(cfg.get(field)):
            assert not TEST_SPLIT.search(value), f'{field} of {osp.relpath(path, REPO)} reads {value!r}'


@pytest.mark.parametrize('name', [
    'td-hm_hrnet-tiny_1xb32-12e_synthposetrack-128x96.py', 'famipose_hrnet-tiny_1xb32-12e_synthposetrack-128x96.py',
    'td-hm_hrnet-tiny_1xb32-12e_synthposetrack-128x96_matched-budget.py'
])
def test_synthetic_configs_test_on_the_test_split_and_validate_on_val(name):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'synthetic', name))
    assert cfg.test_dataloader.dataset.ann_file == 'annotations/posetrack18_test.json'
    assert cfg.test_dataloader.dataset.bbox_file.endswith('annotations/posetrack18_test_human_detections.json')
    assert cfg.test_evaluator.gt_dir.endswith('annotations/test/')
    assert cfg.val_dataloader.dataset.ann_file == 'annotations/posetrack18_val.json'
    assert cfg.val_evaluator.gt_dir.endswith('annotations/val/')
    assert cfg.default_hooks.checkpoint.save_best == 'posetrack/Total AP'  # chosen on val (val_evaluator)
