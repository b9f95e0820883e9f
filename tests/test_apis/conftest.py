"""Fixtures of the video-inference tests: one small synthetic PoseTrack18
video (frames, ground truth, simulated detections), the same video as an
.mp4 file, and tiny pose models with random weights."""
import os
import os.path as osp
import shutil

import cv2
import pytest
import torch

import famipose_mmpose  # noqa: F401  (registers the plugin)

CONFIG_DIR = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    'synthetic')
FAMI_CONFIG = osp.join(
    CONFIG_DIR, 'famipose_hrnet-tiny_1xb32-12e_synthposetrack-128x96.py')
SINGLE_CONFIG = osp.join(
    CONFIG_DIR, 'td-hm_hrnet-tiny_1xb32-12e_synthposetrack-128x96.py')
NUM_FRAMES = 5


class SynthVideo:
    """Paths of the generated video."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.video = sorted(os.listdir(osp.join(root, 'images', 'val')))[0]
        self.frames_dir = osp.join(root, 'images', 'val', self.video)
        self.ann_file = osp.join(root, 'annotations', 'posetrack18_val.json')
        self.det_file = osp.join(root, 'annotations',
                                 'posetrack18_val_human_detections.json')
        self.gt_file = osp.join(root, 'annotations', 'val',
                                self.video + '.json')
        self.frame_files = sorted(os.listdir(self.frames_dir))


@pytest.fixture(scope='session')
def synth(tmp_path_factory) -> SynthVideo:
    """One 5-frame val video of 2 people, every frame labeled, simulated
    detections."""
    from famipose_mmpose.synthetic import generate_dataset
    root = str(tmp_path_factory.mktemp('apis') / 'synth')
    generate_dataset(
        root,
        preset='tiny',
        seed=5,
        num_train_videos=0,
        num_val_videos=1,
        frames_per_video=NUM_FRAMES,
        people_per_video=(2, 2),
        val_label_stride=1,
        det_miss_rate=0.0,
        det_false_positives=0.0)
    return SynthVideo(root)


@pytest.fixture(scope='session')
def video_file(synth, tmp_path_factory) -> str:
    """The synthetic frames encoded as an .mp4 (mp4v) file."""
    path = str(tmp_path_factory.mktemp('video') / (synth.video + '.mp4'))
    first = cv2.imread(osp.join(synth.frames_dir, synth.frame_files[0]))
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 10,
                             (first.shape[1], first.shape[0]))
    assert writer.isOpened()
    for name in synth.frame_files:
        writer.write(cv2.imread(osp.join(synth.frames_dir, name)))
    writer.release()
    return path


@pytest.fixture(scope='session')
def fami_model():
    """The tiny FAMI-Pose model of the synthetic config, random weights."""
    from famipose_mmpose.apis import init_video_model
    torch.manual_seed(0)
    return init_video_model(FAMI_CONFIG, None, device='cpu')


@pytest.fixture(scope='session')
def single_frame_model():
    """The tiny single-frame (stage-1) model of the synthetic configs."""
    from famipose_mmpose.apis import init_video_model
    torch.manual_seed(0)
    return init_video_model(SINGLE_CONFIG, None, device='cpu')


@pytest.fixture(scope='session')
def short_clip(synth, tmp_path_factory) -> str:
    """The first 2 frames of the video in a PoseTrack-like folder
    ``images/val/<video>`` of their own (for the slower end-to-end runs)."""
    folder = tmp_path_factory.mktemp('short') / 'images' / 'val' / synth.video
    folder.mkdir(parents=True)
    for name in synth.frame_files[:2]:
        shutil.copy(osp.join(synth.frames_dir, name), str(folder))
    return str(folder)


@pytest.fixture(scope='session')
def fami_checkpoint(fami_model, tmp_path_factory) -> str:
    """A checkpoint of :func:`fami_model` saved the plain way."""
    path = str(tmp_path_factory.mktemp('ckpt') / 'famipose_tiny.pth')
    torch.save(
        {
            'state_dict': fami_model.state_dict(),
            'meta': {
                'frame_offsets': [-2, -1, 1, 2]
            }
        }, path)
    return path


@pytest.fixture(scope='session')
def mmdet_apis():
    """``mmdet.apis`` (the environment build installs mmdet and its runtime needs)."""
    import mmdet.apis
    return mmdet.apis
