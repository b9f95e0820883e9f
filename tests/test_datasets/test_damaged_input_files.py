"""Damaged input files give one error naming the file and the fix (issue 13): a truncated merged annotation json,
an empty (0-byte) detection file and a detection file holding ``[]``."""
import pytest
from mmengine.registry import init_default_scope
from mmpose.registry import DATASETS

import famipose_mmpose.datasets  # noqa: F401


def _build(pt18, **kwargs):
    init_default_scope('mmpose')
    cfg = dict(type='PoseTrackVideoDataset', data_root=pt18['root'], ann_file=pt18['ann_file'],
               data_prefix=dict(img=''), test_mode=True, pipeline=[])
    return DATASETS.build(dict(cfg, **kwargs))


def test_truncated_annotation_file_is_named(pt18, tmp_path):
    truncated = tmp_path / 'posetrack18_val.json'
    truncated.write_text(open(pt18['ann_file']).read()[:200])
    with pytest.raises(ValueError, match=rf"annotation file '{truncated}' is not valid json .*truncated or damaged"):
        _build(pt18, ann_file=str(truncated))


def test_empty_detection_file_is_named(pt18, tmp_path):
    empty = tmp_path / 'detections.json'
    empty.write_bytes(b'')
    with pytest.raises(ValueError, match=rf"detection file \(bbox_file\) '{empty}' is not valid json"):
        _build(pt18, bbox_file=str(empty))


def test_detection_file_without_detections_is_refused(pt18, tmp_path):
    no_boxes = tmp_path / 'detections.json'
    no_boxes.write_text('[]')
    with pytest.raises(ValueError, match=rf"'{no_boxes}' holds no detections.*bbox_file=None"):
        _build(pt18, bbox_file=str(no_boxes))


def test_the_intact_files_still_load(pt18):
    assert len(_build(pt18, bbox_file=pt18['det_file'])) > 0
