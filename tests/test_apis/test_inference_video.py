"""Video inference end to end on a generated synthetic video."""
import copy
import json
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
from mmengine.dataset import pseudo_collate
from mmengine.structures import InstanceData
from mmpose.apis import inference_topdown

from famipose_mmpose.apis import (DetectionFilePersonSource, DetectorPersonSource, PoseTrack18PredictionWriter,
                                  build_crop_pipeline, inference_video, iter_video_poses, render_video,
                                  video_window_from_config)
from famipose_mmpose.datasets import PoseTrackVideoDataset
from famipose_mmpose.evaluation.posetrack_ap import evaluate_posetrack_folders, load_posetrack_video
from .conftest import FAMI_CONFIG, NUM_FRAMES


def file_source(synth, **kwargs):
    return DetectionFilePersonSource(
        synth.det_file, ann_file=synth.ann_file, video=synth.video, **kwargs)


def by_frame_and_box(samples):
    """{(img_id, rounded box): (keypoints, scores)} of a prediction list."""
    table = {}
    for sample in samples:
        inst = sample.pred_instances
        for n in range(len(inst)):
            key = (sample.metainfo['img_id'],
                   tuple(np.round(inst.bboxes[n], 2).tolist()))
            table[key] = (inst.keypoints[n], inst.keypoint_scores[n])
    return table


@pytest.fixture(scope='module')
def folder_run(synth, fami_model):
    """FAMI-Pose on the frame folder, boxes from the detection file, one
    person per forward."""
    return inference_video(
        fami_model, synth.frames_dir, file_source(synth), batch_size=1)


def test_window_of_configs(fami_model):
    window = video_window_from_config(fami_model.cfg)
    assert window.frame_offsets == [-2, -1, 1, 2]
    assert window.border_policy == 'fami' and window.video_input
    cfg = copy.deepcopy(fami_model.cfg)
    cfg.test_dataloader.dataset.border_policy = 'clip'
    cfg.test_dataloader.dataset.frame_offsets = [-3, 1]
    assert video_window_from_config(cfg) == ([-3, 1], 'clip', True)
    del cfg.test_dataloader.dataset.frame_offsets
    del cfg.test_dataloader.dataset.border_policy
    # the dataset's defaults
    assert video_window_from_config(cfg) == ([-2, -1, 1, 2], 'fami', True)
    cfg.test_dataloader.dataset.border_policy = 'mirror'
    with pytest.raises(ValueError, match='mirror'):
        video_window_from_config(cfg)
    cfg.test_dataloader.dataset.border_policy = 'fami'
    single = [dict(type='LoadImage')]
    single += list(cfg.test_dataloader.dataset.pipeline)[1:]
    cfg.test_dataloader.dataset.pipeline = single
    # no offsets: a single-frame config
    assert video_window_from_config(cfg) == ([], 'fami', False)
    cfg.test_dataloader.dataset.frame_offsets = [-1, 1]
    with pytest.raises(ValueError, match='loads single images'):
        video_window_from_config(cfg)
    cfg.test_dataloader.dataset.pipeline = [dict(type='LoadImage')]
    cfg.test_dataloader.dataset.frame_offsets = []
    with pytest.raises(ValueError, match='GetBBoxCenterScale'):
        build_crop_pipeline(cfg)


def test_same_crops_and_poses_as_the_dataset_path(synth, fami_model,
                                                  folder_run):
    """Frames read through the window buffer, cropped from GetBBoxCenterScale
    on, give the poses of the test dataset + test pipeline (video borders
    included; here with one person per forward, the reference with all
    people in one batch)."""
    ours = folder_run
    assert len(ours) == NUM_FRAMES
    assert [s.metainfo['frame_index'] for s in ours] == list(range(NUM_FRAMES))
    dataset = PoseTrackVideoDataset(
        ann_file=synth.ann_file,
        bbox_file=synth.det_file,
        data_prefix=dict(img=synth.root + '/'),
        test_mode=True,
        frame_offsets=[-2, -1, 1, 2],
        border_policy='fami',
        pipeline=fami_model.cfg.test_dataloader.dataset.pipeline)
    ref = fami_model.test_step(
        pseudo_collate([dataset[i] for i in range(len(dataset))]))
    ours_table = by_frame_and_box(ours)
    assert len(ref) == len(ours_table) > NUM_FRAMES
    windows = {s.metainfo['img_id']: s.metainfo['frame_indices'] for s in ours}
    for sample in ref:
        img_id = sample.metainfo['img_id']
        box = tuple(np.round(sample.pred_instances.bboxes[0], 2).tolist())
        keypoints, scores = ours_table[(img_id, box)]
        np.testing.assert_allclose(
            keypoints, sample.pred_instances.keypoints[0], atol=1e-3)
        np.testing.assert_allclose(
            scores, sample.pred_instances.keypoint_scores[0], atol=1e-5)
        assert windows[img_id] == sample.metainfo['frame_indices']
    assert windows[ours[0].metainfo['img_id']] == [0, 0, 0, 1, 2]
    assert windows[ours[-1].metainfo['img_id']] == [
        NUM_FRAMES - 1, NUM_FRAMES - 3, NUM_FRAMES - 2, NUM_FRAMES - 1,
        NUM_FRAMES - 1
    ]


def test_single_frame_config_matches_inference_topdown(synth,
                                                       single_frame_model):
    model = single_frame_model
    window = video_window_from_config(model.cfg)
    assert window.frame_offsets == [] and not window.video_input
    samples = inference_video(model, synth.frames_dir, file_source(synth))
    for sample, name in zip(samples, synth.frame_files):
        assert sample.metainfo['frame_indices'] == [
            sample.metainfo['frame_index']
        ]
        inst = sample.pred_instances
        if not len(inst):
            continue
        stock = inference_topdown(model, osp.join(synth.frames_dir, name),
                                  inst.bboxes)
        np.testing.assert_allclose(
            inst.keypoints,
            np.concatenate([s.pred_instances.keypoints for s in stock]),
            atol=1e-3)


def gt_people(gt_file):
    """{image_id: [(keypoints (17, 3), bbox xywh)]} of a ground-truth file."""
    with open(gt_file) as f:
        data = json.load(f)
    people = {img['id']: [] for img in data['images']}
    for ann in data['annotations']:
        people[ann['image_id']].append(
            (np.array(ann['keypoints'],
                      dtype=np.float32).reshape(-1, 3), ann['bbox']))
    return data, people


def test_video_file_frames_map_to_images_by_position(synth, single_frame_model,
                                                     video_file):
    source = file_source(synth, match_by='position', bbox_thr=0.2)
    samples = inference_video(single_frame_model, video_file, source)
    with open(synth.gt_file) as f:
        data = json.load(f)
    assert [s.metainfo['img_id']
            for s in samples] == [img['id'] for img in data['images']]
    assert [s.metainfo['img_path']
            for s in samples] == [img['file_name'] for img in data['images']]
    with open(synth.det_file) as f:
        dets = json.load(f)
    for sample in samples:
        expected = sorted(d['score'] for d in dets
                          if d['image_id'] == sample.metainfo['img_id']
                          and d['score'] >= 0.2)
        assert sorted(sample.pred_instances.bbox_scores.tolist()) == \
            pytest.approx(expected, abs=1e-6)
        assert sample.metainfo['frame_name'] == \
            f'{sample.metainfo["frame_index"]:06d}.jpg'


def test_predictions_are_scored_by_the_posetrack_metric(
        synth, fami_model, folder_run, tmp_path):
    samples = folder_run
    data, people = gt_people(synth.gt_file)

    gt_dir = tmp_path / 'gt'
    gt_dir.mkdir()
    shutil.copy(synth.gt_file, gt_dir)
    pred_dir = tmp_path / 'pred'
    writer = PoseTrack18PredictionWriter(fami_model.dataset_meta)
    for sample in samples:
        writer.add(sample)
    path = writer.dump(str(pred_dir / (synth.video + '.json')))
    with open(path) as f:
        content = json.load(f)
    frames = load_posetrack_video(content, path, require_head_box=False)
    assert [len(f.people)
            for f in frames] == [len(s.pred_instances) for s in samples]
    first = content['annotations'][0]
    inst = samples[0].pred_instances
    np.testing.assert_allclose(
        first['scores'],
        inst.keypoint_scores[0] * inst.bbox_scores[0],
        rtol=1e-5)
    assert first['track_id'] == int(inst.track_ids[0])
    result = evaluate_posetrack_folders(str(gt_dir), str(pred_dir))
    total = result.parts['Total']
    assert 0.0 <= total <= 100.0 and result.num_gt.sum() > 0

    # the same writer with the ground-truth poses scores 100
    oracle = PoseTrack18PredictionWriter(fami_model.dataset_meta)
    for sample in samples:
        persons = people[sample.metainfo['img_id']]
        oracle_sample = sample.clone()
        kpts = np.stack([p[0] for p in persons]) if persons else np.zeros(
            (0, 17, 3), np.float32)
        boxes = np.array([[x, y, x + w, y + h] for _, (x, y, w, h) in persons],
                         dtype=np.float32).reshape(-1, 4)
        oracle_sample.pred_instances = InstanceData(
            bboxes=boxes,
            bbox_scores=np.ones(len(persons), np.float32),
            keypoints=kpts[..., :2],
            keypoint_scores=(kpts[..., 2] > 0).astype(np.float32),
            track_ids=np.arange(len(persons)))
        oracle.add(oracle_sample)
    oracle.dump(str(pred_dir / (synth.video + '.json')))
    perfect = evaluate_posetrack_folders(str(gt_dir), str(pred_dir))
    assert perfect.parts['Total'] == pytest.approx(100.0)


def test_detector_person_source(synth, fami_model, video_file, mmdet_apis):
    """A randomly initialised YOLOX-tiny (one class) finds the people."""
    import mmdet
    det_config = osp.join(
        osp.dirname(mmdet.__file__), '.mim', 'configs', 'yolox',
        'yolox_tiny_8xb8-300e_coco.py')
    source = DetectorPersonSource(
        det_config,
        None,
        bbox_thr=0.0,
        nms_thr=0.3,
        max_per_frame=1,
        cfg_options={
            'model.bbox_head.num_classes': 1,
            'model.test_cfg.score_thr': 0.0,
            'test_dataloader.dataset.pipeline.1.scale': (64, 64)
        })
    first = cv2.imread(osp.join(synth.frames_dir, synth.frame_files[0]))
    raw = mmdet_apis.inference_detector(source.detector, first)
    assert len(raw.pred_instances) > 1
    results = list(iter_video_poses(fami_model, video_file, source))
    assert len(results) == NUM_FRAMES
    best = raw.pred_instances.scores.max().item()
    for frame, sample in results:
        inst = sample.pred_instances
        assert frame.image.shape == first.shape
        assert len(inst) == 1
        assert inst.keypoints.shape == (len(inst), 17, 2)
        assert np.isfinite(inst.keypoints).all()
        assert inst.track_ids.dtype == np.int64
    assert results[0][1].pred_instances.bbox_scores[0] == pytest.approx(
        best, rel=1e-4, abs=1e-6)


def test_render_video(synth, short_clip, fami_checkpoint, tmp_path):
    out = str(tmp_path / 'render' / 'clip.gif')
    pred = str(tmp_path / 'render' / 'clip.json')
    summary = render_video(
        FAMI_CONFIG,
        fami_checkpoint,
        short_clip,
        synth.det_file,
        out,
        ann_file=synth.ann_file,
        pred_file=pred)
    assert summary['frames'] == 2 and summary['people'] > 0
    from PIL import Image
    with Image.open(out) as gif:
        assert gif.n_frames == 2
        assert gif.size == (96, 72)
    assert sorted(os.listdir(tmp_path / 'render')) == ['clip.gif', 'clip.json']
    with open(pred) as f:
        assert [img['file_name'] for img in json.load(f)['images']] == [
            f'images/val/{synth.video}/{name}'
            for name in synth.frame_files[:2]
        ]


def test_render_video_finds_the_annotation_file(synth, tmp_path):
    with pytest.raises(FileNotFoundError, match='posetrack18_val.json'):
        render_video(FAMI_CONFIG, None, synth.frames_dir,
                     str(tmp_path / 'dets.json'), str(tmp_path / 'x.mp4'))
