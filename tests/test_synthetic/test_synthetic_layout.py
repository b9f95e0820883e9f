"""Layout and PoseTrack18 fields of a generated synthetic data set."""
import os
import re

import cv2
import numpy as np
import pytest

from famipose_mmpose.synthetic import JOINT_NAMES, generate_dataset

IMAGE_KEYS = {
    'has_no_densepose', 'is_labeled', 'file_name', 'nframes', 'frame_id',
    'vid_id', 'ignore_regions_y', 'ignore_regions_x', 'id', 'width', 'height'
}
ANN_KEYS = {
    'bbox_head', 'keypoints', 'track_id', 'image_id', 'bbox', 'scores',
    'category_id', 'id', 'iscrowd', 'num_keypoints'
}


def _videos(root, split):
    return sorted(os.listdir(os.path.join(str(root), 'images', split)))


def test_layout_and_frames_on_disk(rich_set, read_json):
    root, summary = rich_set
    cfg = summary['config']
    for split, count in (('train', 2), ('val', 2)):
        videos = _videos(root, split)
        assert len(videos) == count
        for video in videos:
            assert re.fullmatch(rf'\d{{6}}_synth_{split}', video)
            frames = sorted(
                os.listdir(os.path.join(str(root), 'images', split, video)))
            assert frames == [f'{i:06d}.jpg' for i in range(8)]
            per_video = read_json(root, 'annotations', split,
                                  f'{video}.json')
            assert len(per_video['images']) == len(frames)
            for image in per_video['images']:
                assert image['nframes'] == len(frames)
            img = cv2.imread(
                os.path.join(str(root), per_video['images'][0]['file_name']))
            assert img.shape == (cfg['image_height'], cfg['image_width'], 3)
    for name in ('posetrack18_train.json', 'posetrack18_val.json',
                 'posetrack18_val_human_detections.json', 'train_hard.json',
                 'val_hard.json'):
        assert os.path.isfile(os.path.join(str(root), 'annotations', name))
    assert os.path.isfile(os.path.join(str(root), 'synthetic_posetrack.json'))


@pytest.mark.parametrize('split', ['train', 'val'])
def test_image_records_follow_posetrack18(rich_set, split, read_json):
    root, _ = rich_set
    stride = 1 if split == 'train' else 2
    for video in _videos(root, split):
        images = read_json(root, 'annotations', split,
                           f'{video}.json')['images']
        for frame, image in enumerate(images):
            assert IMAGE_KEYS <= set(image)
            vid = video[:6]
            assert image['vid_id'] == vid
            assert image['id'] == image['frame_id'] == int(
                f'1{vid}{frame:04d}')
            assert image['file_name'] == (
                f'images/{split}/{video}/{frame:06d}.jpg')
            assert image['is_labeled'] == (frame % stride == 0)
            xs, ys = image['ignore_regions_x'], image['ignore_regions_y']
            assert isinstance(xs, list) and isinstance(ys, list)
            assert len(xs) == len(ys)
            for px, py in zip(xs, ys):
                assert len(px) == len(py) >= 3
                assert 0 <= min(px) and max(px) <= image['width'] - 1
                assert 0 <= min(py) and max(py) <= image['height'] - 1


@pytest.mark.parametrize('split', ['train', 'val'])
def test_annotation_records(rich_set, split, read_json):
    root, _ = rich_set
    merged = read_json(root, 'annotations', f'posetrack18_{split}.json')
    images = {im['id']: im for im in merged['images']}
    assert merged['annotations']
    for ann in merged['annotations']:
        assert ANN_KEYS <= set(ann)
        image = images[ann['image_id']]
        assert image['is_labeled']
        assert ann['id'] == ann['image_id'] * 100 + ann['track_id']
        assert ann['category_id'] == 1 and ann['iscrowd'] is False
        kpts = np.array(ann['keypoints'], dtype=float).reshape(17, 3)
        assert set(kpts[:, 2]) <= {0.0, 1.0}
        assert (kpts[3:5] == 0).all(), 'ears are never annotated'
        assert ann['num_keypoints'] == int(kpts[:, 2].sum()) > 0
        shown = kpts[kpts[:, 2] == 1]
        # Keypoints lie inside the image or are written as 0, 0, 0.
        assert (shown[:, 0] >= 0).all()
        assert (shown[:, 0] <= image['width'] - 1).all()
        assert (shown[:, 1] >= 0).all()
        assert (shown[:, 1] <= image['height'] - 1).all()
        assert (kpts[kpts[:, 2] == 0] == 0).all()
        x, y, w, h = ann['bbox']
        assert w > 0 and h > 0
        assert (shown[:, 0] >= x).all() and (shown[:, 0] <= x + w).all()
        assert (shown[:, 1] >= y).all() and (shown[:, 1] <= y + h).all()
        hx, hy, hw, hh = ann['bbox_head']
        assert hw > 0 and hh > 0
    # One annotation per person and frame.
    keys = [(a['image_id'], a['track_id']) for a in merged['annotations']]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize('split', ['train', 'val'])
def test_merged_file_agrees_with_per_video_files(rich_set, split, read_json):
    root, _ = rich_set
    merged = read_json(root, 'annotations', f'posetrack18_{split}.json')
    images, annotations = [], []
    for video in _videos(root, split):
        per_video = read_json(root, 'annotations', split, f'{video}.json')
        assert per_video['categories'] == merged['categories']
        images += per_video['images']
        annotations += per_video['annotations']
    assert merged['images'] == images
    assert merged['annotations'] == annotations
    category = merged['categories'][0]
    assert category['id'] == 1 and category['name'] == 'person'
    assert category['keypoints'] == list(JOINT_NAMES)
    assert len(category['skeleton']) == 19


def test_summary_matches_files(rich_set, read_json):
    root, summary = rich_set
    marker = read_json(root, 'synthetic_posetrack.json')
    assert marker['splits'] == summary['splits']
    for split in ('train', 'val'):
        merged = read_json(root, 'annotations', f'posetrack18_{split}.json')
        hard = read_json(root, 'annotations', f'{split}_hard.json')['images']
        stats = summary['splits'][split]
        assert stats['frames'] == len(merged['images'])
        assert stats['labeled_frames'] == sum(
            im['is_labeled'] for im in merged['images'])
        assert stats['annotations'] == len(merged['annotations'])
        assert stats['blurred_frames'] == sum(h['blurred'] for h in hard)
        assert stats['occluded_joints'] == sum(
            len(p['occluded_joints']) for h in hard for p in h['people']
            if p['annotation_id'] is not None)
    dets = read_json(root, 'annotations',
                     'posetrack18_val_human_detections.json')
    assert summary['splits']['val']['detections'] == len(dets)


def test_label_strides_are_flags(tmp_path, read_json):
    root = tmp_path / 'strided'
    generate_dataset(
        str(root),
        preset='tiny',
        seed=1,
        num_train_videos=1,
        num_val_videos=1,
        train_label_stride=3,
        val_label_stride=4)
    for split, stride in (('train', 3), ('val', 4)):
        merged = read_json(root, 'annotations', f'posetrack18_{split}.json')
        labeled = [
            int(im['file_name'][-10:-4]) for im in merged['images']
            if im['is_labeled']
        ]
        assert labeled == list(range(0, 8, stride))
        # Every frame is listed (supporting frames need nframes and files).
        assert len(merged['images']) == 8
        labeled_ids = {
            im['id']
            for im in merged['images'] if im['is_labeled']
        }
        assert {a['image_id'] for a in merged['annotations']} <= labeled_ids


def test_people_size_and_count_flags(tmp_path, read_json):
    root = tmp_path / 'sized'
    summary = generate_dataset(
        str(root),
        preset='tiny',
        seed=2,
        num_train_videos=3,
        num_val_videos=0,
        image_width=128,
        image_height=96,
        people_per_video=(3, 3),
        person_height=(40, 50),
        occlusion_rate=0.0,
        blur_rate=0.0)
    assert summary['splits']['train']['people'] == 9
    assert summary['splits']['train']['blurred_frames'] == 0
    assert summary['splits']['train']['occluded_joints'] == 0
    merged = read_json(root, 'annotations', 'posetrack18_train.json')
    assert {(im['width'], im['height']) for im in merged['images']} == {
        (128, 96)
    }
    heights = []
    for ann in merged['annotations']:
        kpts = np.array(ann['keypoints'], dtype=float).reshape(17, 3)
        if kpts[[2, 15, 16], 2].all():  # head top and both ankles shown
            heights.append(kpts[2, 1] - kpts[15:17, 1].max())
    # Head top to ankle is a bit under the standing height (zoom ~0.8-1.3).
    assert heights and 25 < -np.median(heights) < 65
