"""Streaming video inference in FAMI-Pose's reuse mode
(``supporting_crops='own_box'``): each (track, frame) crop through the
backbone once, fallback to the key box, causal windows."""
import importlib
import importlib.util
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from famipose_mmpose.apis import (DetectionFilePersonSource, FrameReader, ImageFolderReader, inference_video,
                                  init_video_model, iter_video_poses)
from famipose_mmpose.apis.crop_features import CropFeatureCache
from famipose_mmpose.apis.person_sources import PersonBoxes, PersonSource
from .conftest import FAMI_CONFIG, NUM_FRAMES

#: the module (``famipose_mmpose.apis.inference_video`` is the function)
inference_module = importlib.import_module(
    'famipose_mmpose.apis.inference_video')
CAUSAL = [-4, -3, -2, -1]


def reuse_model_like(model, **cfg_options):
    """The reuse mode of ``model``'s config, with ``model``'s weights."""
    reuse = init_video_model(
        FAMI_CONFIG,
        None,
        cfg_options=dict({'model.supporting_crops': 'own_box'},
                         **cfg_options))
    reuse.load_state_dict(model.state_dict())
    return reuse


@pytest.fixture(scope='module')
def reuse_model(fami_model):
    return reuse_model_like(fami_model)


def file_source(synth):
    return DetectionFilePersonSource(
        synth.det_file, ann_file=synth.ann_file, video=synth.video)


class FixedBoxes(PersonSource):
    """The same boxes in every frame."""

    def __init__(self, bboxes):
        self.boxes = PersonBoxes(
            np.asarray(bboxes, dtype=np.float32),
            np.linspace(0.9, 0.8, len(bboxes)).astype(np.float32))

    def __call__(self, frame):
        return self.boxes


class DropTrack(PersonSource):
    """Another source's boxes, without its ``number``-th box in the frames
    ``frames``."""

    def __init__(self, source, number, frames):
        self.source, self.number, self.frames = source, number, set(frames)

    def __call__(self, frame):
        boxes = self.source(frame)
        if frame.index not in self.frames:
            return boxes
        keep = np.arange(len(boxes.scores)) != self.number
        return PersonBoxes(boxes.bboxes[keep], boxes.scores[keep])


class CountingReader(FrameReader):
    """A frame folder that counts the frames read so far."""

    def __init__(self, folder):
        super().__init__(folder)
        self.inner = ImageFolderReader(folder)
        self.read = 0

    def __iter__(self):
        for frame in self.inner:
            self.read += 1
            yield frame


@pytest.fixture
def recorded_caches(monkeypatch):
    """The crop caches the next runs create: they keep every crop (no
    eviction) and record the requests and the largest size reached."""
    caches = []

    class Recording(CropFeatureCache):

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.requests, self.largest = {}, 0
            caches.append(self)

        def compute(self, requests):
            # shallow copies: the pipeline replaces 'img' by the crop
            self.requests.update({k: dict(v) for k, v in requests.items()})
            super().compute(requests)

        def forget_before(self, frame_index):
            self.largest = max(self.largest, len(self))

    monkeypatch.setattr(inference_module, 'CropFeatureCache', Recording)
    return caches


def count_backbone_crops(model):
    counts = []
    handle = model.backbone.register_forward_hook(
        lambda module, args, out: counts.append(args[0].shape[0]))
    return counts, handle


@pytest.mark.parametrize('flip', [False, True])
def test_reuse_mode_equals_the_paper_mode_with_the_same_box_in_every_frame(
        synth, fami_model, reuse_model, flip):
    if flip:  # flip test: the mirrored crops are cached and aligned too
        flip_option = {'model.test_cfg.flip_test': True}
        paper_model = init_video_model(
            FAMI_CONFIG, None, cfg_options=flip_option)
        paper_model.load_state_dict(fami_model.state_dict())
        fami_model, reuse_model = paper_model, reuse_model_like(
            fami_model, **flip_option)
    height, width = cv2.imread(
        osp.join(synth.frames_dir, synth.frame_files[0])).shape[:2]
    source = FixedBoxes([[0.1 * width, 0.1 * height, 0.5 * width,
                          0.9 * height],
                         [0.45 * width, 0.2 * height, 0.9 * width,
                          0.95 * height]])
    paper = inference_video(fami_model, synth.frames_dir, source)
    reuse = inference_video(reuse_model, synth.frames_dir, source)
    assert len(paper) == len(reuse) == NUM_FRAMES
    for a, b in zip(paper, reuse):
        np.testing.assert_array_equal(a.pred_instances.track_ids,
                                      b.pred_instances.track_ids)
        np.testing.assert_allclose(
            b.pred_instances.keypoints, a.pred_instances.keypoints, atol=1e-2)
        np.testing.assert_allclose(
            b.pred_instances.keypoint_scores,
            a.pred_instances.keypoint_scores,
            atol=1e-4)


def test_each_track_frame_crop_goes_through_the_backbone_once(
        synth, fami_model, reuse_model, recorded_caches):
    counts, handle = count_backbone_crops(reuse_model)
    try:
        frames = inference_video(reuse_model, synth.frames_dir,
                                 file_source(synth))
    finally:
        handle.remove()
    pairs = {(int(track), sample.metainfo['frame_index'])
             for sample in frames
             for track in sample.pred_instances.track_ids}
    assert len(pairs) == sum(len(s.pred_instances) for s in frames) == 10
    assert sum(counts) == len(pairs)  # every (track, frame) crop once
    cache = recorded_caches[0]
    assert cache.crops_computed == len(pairs)
    assert set(cache.requests) == {(t, i, i) for t, i in pairs}
    # the paper's crops: every key frame runs its 5 frames again
    paper_counts, handle = count_backbone_crops(fami_model)
    try:
        inference_video(fami_model, synth.frames_dir, file_source(synth))
    finally:
        handle.remove()
    assert sum(paper_counts) == 5 * len(pairs)


def test_the_crop_cache_is_bounded_by_the_window(synth, reuse_model,
                                                 monkeypatch):
    """With eviction, at most the window's span of frames is held (2 people
    x 5 frames)."""
    held = []
    original = CropFeatureCache.forget_before

    def forget_before(self, frame_index):
        held.append(len(self))
        original(self, frame_index)
        assert all(key[1] >= frame_index for key in self._entries)

    monkeypatch.setattr(CropFeatureCache, 'forget_before', forget_before)
    inference_video(reuse_model, synth.frames_dir, file_source(synth))
    assert len(held) == NUM_FRAMES and 0 < max(held) <= 2 * 5


def test_a_missing_track_falls_back_to_the_key_box_crop(
        synth, reuse_model, recorded_caches):
    source = DropTrack(file_source(synth), number=1, frames=[2])
    frames = inference_video(reuse_model, synth.frames_dir, source)
    ids = [list(s.pred_instances.track_ids) for s in frames]
    assert len(ids[2]) == 1
    dropped = next(t for t in ids[1] if t not in ids[2])
    assert dropped not in ids[3]  # the tracker gives it a new id there
    cache = recorded_caches[0]
    # key frame 1: window [1, 1, 0, 2, 3] ('fami' border); the dropped
    # track has no box in frames 2 and 3: they are cut with its key box
    for frame in (2, 3):
        key = (dropped, frame, 1)
        assert key in cache.requests
        request = cache.requests[key]
        np.testing.assert_array_equal(
            request['bbox'], cache.requests[(dropped, 1, 1)]['bbox'])
        image = cv2.imread(osp.join(synth.frames_dir,
                                    synth.frame_files[frame]))
        np.testing.assert_array_equal(request['img'], image)
        np.testing.assert_array_equal(
            cache[key].data_sample.input_center,
            cache[(dropped, 1, 1)].data_sample.input_center)
    own = {(t, i, i) for i, tracks in enumerate(ids) for t in tracks}
    assert own <= set(cache.requests)
    assert cache.crops_computed == len(cache.requests)


@pytest.mark.parametrize('mode', ['key_box', 'own_box'])
def test_a_causal_window_gives_frame_t_as_soon_as_frame_t_is_read(
        synth, fami_model, mode):
    model = init_video_model(
        FAMI_CONFIG,
        None,
        cfg_options={
            'test_dataloader.dataset.frame_offsets': CAUSAL,
            'model.supporting_crops': mode
        })
    model.load_state_dict(fami_model.state_dict())
    reader = CountingReader(synth.frames_dir)
    read_when_yielded = []
    for frame, sample in iter_video_poses(model, reader, file_source(synth)):
        read_when_yielded.append(reader.read)
        assert sample.metainfo['frame_indices'][0] == frame.index
        assert all(i <= frame.index for i in sample.metainfo['frame_indices'])
        assert len(sample.pred_instances) == 2
    assert read_when_yielded == [t + 1 for t in range(NUM_FRAMES)]
    # the paper's window (-2..2) waits for frame t + 2
    reader = CountingReader(synth.frames_dir)
    waited = [reader.read for _ in iter_video_poses(
        fami_model, reader, file_source(synth))]
    assert waited == [3, 4, 5, 5, 5]


def test_reuse_mode_batches_new_crops(synth, reuse_model):
    """``batch_size`` splits the backbone passes, not the results."""
    whole = inference_video(reuse_model, synth.frames_dir, file_source(synth))
    counts, handle = count_backbone_crops(reuse_model)
    try:
        split = inference_video(
            reuse_model, synth.frames_dir, file_source(synth), batch_size=1)
    finally:
        handle.remove()
    assert max(counts) == 1
    for a, b in zip(whole, split):
        torch.testing.assert_close(
            torch.as_tensor(b.pred_instances.keypoints),
            torch.as_tensor(a.pred_instances.keypoints),
            atol=1e-3,
            rtol=0)


@pytest.fixture(scope='module')
def demo():
    path = osp.join(
        osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
        'tools', 'video_demo.py')
    spec = importlib.util.spec_from_file_location('video_demo_reuse', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_video_demo_help_shows_the_mode_and_a_causal_window(demo, capsys):
    with pytest.raises(SystemExit):
        demo.parse_args(['--help'])
    text = ' '.join(capsys.readouterr().out.split())
    assert '--mode {paper,reuse}' in text
    assert '--frame-offsets -4 -3 -2 -1' in text
    args = demo.parse_args([
        'c.py', 'k.pth', '--input', 'v.mp4', '--output-root', 'o', '--det-file',
        'd.json', '--ann-file', 'a.json', '--mode', 'reuse',
        '--frame-offsets', '-4', '-3', '-2', '-1'
    ])
    assert args.mode == 'reuse' and args.frame_offsets == CAUSAL
    args.pose_config = FAMI_CONFIG
    assert demo.model_cfg_options(args) == {
        'model.supporting_crops': 'own_box',
        'test_dataloader.dataset.frame_offsets': CAUSAL
    }


def test_video_demo_in_reuse_mode_with_a_causal_window(
        demo, capsys, synth, short_clip, fami_model, tmp_path):
    checkpoint = str(tmp_path / 'causal.pth')
    torch.save(
        {
            'state_dict': fami_model.state_dict(),
            'meta': {
                'frame_offsets': CAUSAL
            }
        }, checkpoint)
    out_dir = tmp_path / 'out'
    code = demo.main([
        FAMI_CONFIG, checkpoint, '--input', short_clip, '--output-root',
        str(out_dir), '--det-file', synth.det_file, '--ann-file',
        synth.ann_file, '--mode', 'reuse', '--frame-offsets', '-4', '-3',
        '-2', '-1'
    ])
    assert code == 0, capsys.readouterr().err
    with open(out_dir / (synth.video + '.json')) as f:
        predictions = json.load(f)
    assert len(predictions['annotations']) == 4  # 2 frames x 2 people
    # the paper's window does not fit that checkpoint: refused, named
    code = demo.main([
        FAMI_CONFIG, checkpoint, '--input', short_clip, '--output-root',
        str(tmp_path / 'out2'), '--det-file', synth.det_file, '--ann-file',
        synth.ann_file, '--mode', 'reuse'
    ])
    assert code == 1
    assert 'frame_offsets' in capsys.readouterr().err


def test_streaming_reuse_gives_the_poses_of_the_reuse_test_dataset(
        synth, fami_model):
    """The reuse config's test data (each frame cropped around the
    detection linked to the key box, VideoTopdownAffine) through the model
    gives the poses of the streaming loop (tracks, cached crops): the model
    runs at test time on what it is trained with."""
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate

    from famipose_mmpose.datasets import PoseTrackVideoDataset
    reuse_cfg = Config.fromfile(
        FAMI_CONFIG.replace('-128x96.py', '-128x96_reuse.py'))
    model = init_video_model(reuse_cfg, None)
    model.load_state_dict(fami_model.state_dict())
    test = reuse_cfg.test_dataloader.dataset
    dataset = PoseTrackVideoDataset(
        ann_file=synth.ann_file,
        bbox_file=synth.det_file,
        data_prefix=dict(img=synth.root + '/'),
        test_mode=True,
        frame_offsets=test.frame_offsets,
        border_policy=test.border_policy,
        supporting_boxes=test.supporting_boxes,
        pipeline=test.pipeline)
    reference = model.test_step(
        pseudo_collate([dataset[i] for i in range(len(dataset))]))
    ours = {}
    for sample in inference_video(model, synth.frames_dir,
                                  file_source(synth)):
        for n, box in enumerate(sample.pred_instances.bboxes):
            key = (sample.metainfo['img_id'], tuple(np.round(box, 2)))
            ours[key] = sample.pred_instances.keypoints[n]
    assert len(reference) == len(ours) == 10
    own = 0
    for i, sample in enumerate(reference):
        own += dataset.get_data_info(i)['frame_bbox_sources'].count('own')
        box = tuple(np.round(sample.pred_instances.bboxes[0], 2))
        np.testing.assert_allclose(
            ours[(sample.metainfo['img_id'], box)],
            sample.pred_instances.keypoints[0],
            atol=1e-2)
    assert own > 20  # most supporting crops are the person's own box
