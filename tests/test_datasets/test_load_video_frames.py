"""LoadVideoFrames and the geometric consistency of mmpose's top-down
pipeline over the T frames of a sample."""
import os.path as osp

import cv2
import numpy as np
import pytest
from mmcv.transforms import Compose
from mmengine.registry import init_default_scope
from mmpose.datasets.datasets.utils import parse_pose_metainfo
from mmpose.registry import TRANSFORMS

from famipose_mmpose.datasets import LoadVideoFrames

W, H = 80, 60
DOT = (37, 25)  # (x, y) of the 3x3 white dot in every frame
T = 5


@pytest.fixture(autouse=True)
def mmpose_scope():
    init_default_scope('mmpose')


def level(t):
    return 20 + 30 * t


@pytest.fixture
def frames(tmp_path):
    """T lossless frames: background level(t), the same dot in each."""
    paths = []
    for t in range(T):
        img = np.full((H, W, 3), level(t), dtype=np.uint8)
        img[DOT[1] - 1:DOT[1] + 2, DOT[0] - 1:DOT[0] + 2] = 255
        path = str(tmp_path / f'{t:06d}.png')
        cv2.imwrite(path, img)
        paths.append(path)
    return paths


def sample(paths, **extra):
    """A top-down sample as PoseTrackVideoDataset would give it: 17
    keypoints around the dot, the nose on it."""
    meta = parse_pose_metainfo(
        dict(from_file='configs/_base_/datasets/posetrack18.py'))
    rng = np.random.RandomState(1)
    keypoints = np.array(
        DOT, dtype=np.float32) + rng.uniform(
            -6, 6, size=(17, 2)).astype(np.float32)
    keypoints[0] = DOT
    results = dict(
        img_path=paths[0],
        frame_paths=list(paths),
        frame_offsets=[0, -2, -1, 1, 2][:len(paths)],
        frame_indices=[2, 0, 1, 3, 4][:len(paths)],
        video='images/val/clip',
        bbox=np.array([[DOT[0] - 14, DOT[1] - 10, DOT[0] + 10, DOT[1] + 12]],
                      dtype=np.float32),
        bbox_score=np.ones(1, dtype=np.float32),
        keypoints=keypoints[None],
        keypoints_visible=np.ones((1, 17), dtype=np.float32),
        id=0,
        img_id=0)
    for key in ('flip_indices', 'upper_body_ids', 'lower_body_ids',
                'dataset_keypoint_weights', 'flip_pairs', 'dataset_name'):
        results[key] = meta[key]
    results.update(extra)
    return results


def dot_centroid(crop):
    """Centroid (x, y) of the dot in a (3, h, w) uint8 crop."""
    gray = crop.float().mean(0).numpy()
    excess = np.clip(gray - np.median(gray) - 8, 0, None)
    ys, xs = np.nonzero(excess)
    weights = excess[ys, xs]
    return np.array([(xs * weights).sum(),
                     (ys * weights).sum()]) / weights.sum()


def test_every_frame_gets_the_same_random_geometric_transform(frames):
    pipeline = Compose([
        dict(type='LoadVideoFrames'),
        dict(type='GetBBoxCenterScale', padding=1.25),
        dict(type='RandomFlip', direction='horizontal', prob=1.0),
        dict(type='RandomHalfBody', prob=1.0, min_total_keypoints=8),
        dict(
            type='RandomBBoxTransform',
            shift_prob=1.0,
            scale_factor=(0.8, 1.3),
            rotate_factor=40,
            rotate_prob=1.0),
        dict(type='TopdownAffine', input_size=(48, 64)),
        dict(type='PackPoseInputs', pack_transformed=True),
    ])
    plain = Compose([
        dict(type='LoadVideoFrames'),
        dict(type='GetBBoxCenterScale', padding=1.25),
        dict(type='TopdownAffine', input_size=(48, 64)),
        dict(type='PackPoseInputs', pack_transformed=True),
    ])
    unaugmented = dot_centroid(plain(sample(frames))['inputs'][0])
    for seed in range(4):
        np.random.seed(seed)
        packed = pipeline(sample(frames))
        inputs = packed['inputs']
        assert tuple(inputs.shape) == (T, 3, 64, 48)
        assert packed['data_samples'].flip
        centroids = np.stack([dot_centroid(inputs[t]) for t in range(T)])
        # the same output pixel in every frame ...
        assert np.abs(centroids - centroids[0]).max() < 0.05, centroids
        # ... which is where the key frame's keypoint went
        nose = packed['data_samples'].gt_instances.transformed_keypoints[0, 0]
        assert np.abs(centroids[0] - nose).max() < 0.5, (centroids[0], nose)
        # the augmentation did move the crop
        assert np.abs(centroids[0] - unaugmented).max() > 1.0
        # and the frames are the T different frames, key first, in order
        for t in range(T):
            background = np.median(inputs[t].float().mean(0).numpy())
            assert abs(background - level(t)) < 1.5, (t, background)


def test_load_keeps_key_path_and_shape(frames):
    results = LoadVideoFrames()(sample(frames))
    assert results['img_path'] == frames[0]
    assert isinstance(results['img'], list) and len(results['img']) == T
    assert results['img_shape'] == (H, W) == results['ori_shape']
    assert all(img.dtype == np.uint8 for img in results['img'])
    assert [int(img[0, 0, 0]) for img in results['img']] == \
        [level(t) for t in range(T)]
    floats = TRANSFORMS.build(dict(type='LoadVideoFrames', to_float32=True))(
        sample(frames))
    assert all(img.dtype == np.float32 for img in floats['img'])
    gray = LoadVideoFrames(color_type='grayscale')(sample(frames))
    assert gray['img'][1].shape == (H, W)


def test_frames_of_another_size_are_refused(frames, tmp_path):
    small = str(tmp_path / 'small.png')
    cv2.imwrite(small, np.zeros((H // 2, W, 3), dtype=np.uint8))
    paths = frames[:2] + [small]
    with pytest.raises(ValueError) as err:
        LoadVideoFrames()(sample(paths))
    assert 'small.png' in str(err.value) and '80x30' in str(err.value)
    assert '80x60' in str(err.value) and 'images/val/clip' in str(err.value)


def test_missing_frame_names_video_frame_and_path(frames, tmp_path):
    missing = str(tmp_path / 'gone' / '000003.png')
    paths = frames[:3] + [missing]
    with pytest.raises(FileNotFoundError) as err:
        LoadVideoFrames()(sample(paths))
    message = str(err.value)
    assert missing in message and 'images/val/clip' in message
    assert 'frame index 3' in message and 'offset +1' in message
    assert LoadVideoFrames(ignore_empty=True)(sample(paths)) is None


def test_undecodable_frame(frames, tmp_path):
    broken = str(tmp_path / 'broken.png')
    with open(broken, 'wb') as f:
        f.write(b'not an image')
    with pytest.raises(ValueError, match='broken.png'):
        LoadVideoFrames()(sample(frames[:1] + [broken]))


def test_preloaded_frames_and_bad_inputs(frames):
    imgs = [np.full((H, W, 3), t, dtype=np.uint8) for t in range(3)]
    results = LoadVideoFrames()(dict(img=imgs, img_path='key.jpg'))
    assert results['img_shape'] == (H, W) and results['img'][2][0, 0, 0] == 2
    with pytest.raises(KeyError, match='frame_paths'):
        LoadVideoFrames()(dict(img_path=frames[0]))
    with pytest.raises(ValueError, match='must be the key frame'):
        LoadVideoFrames()(sample(frames, img_path=frames[1]))
    assert osp.isfile(frames[0])
