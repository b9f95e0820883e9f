"""The hard-case files: occluded joints really covered, blur really applied."""
import os

import cv2
import numpy as np
import pytest

from famipose_mmpose.synthetic import make_config, motion_blur, sample_scene


def _fixed(poly):
    return np.round(np.asarray(poly, dtype=np.float64) * 16).astype(np.int32)


@pytest.mark.parametrize('split', ['train', 'val'])
def test_hard_file_references_existing_frames(rich_set, split, read_json):
    root, _ = rich_set
    hard = read_json(root, 'annotations', f'{split}_hard.json')
    assert len(hard['info']['keypoint_names']) == 17
    merged = read_json(root, 'annotations', f'posetrack18_{split}.json')
    images = {im['id']: im for im in merged['images']}
    anns = {a['id']: a for a in merged['annotations']}
    assert len(hard['images']) == len(images)
    for entry in hard['images']:
        image = images[entry['image_id']]
        assert entry['file_name'] == image['file_name']
        assert os.path.isfile(os.path.join(str(root), entry['file_name']))
        assert entry['is_labeled'] == image['is_labeled']
        assert entry['blurred'] == (entry['blur_length'] > 0)
        for person in entry['people']:
            if person['annotation_id'] is None:
                continue
            ann = anns[person['annotation_id']]
            assert ann['image_id'] == entry['image_id']
            assert ann['track_id'] == person['track_id']
            kpts = np.array(ann['keypoints']).reshape(17, 3)
            # Occluded joints keep visibility 1: they count in AP.
            for j in person['occluded_joints'] + person[
                    'person_occluded_joints']:
                assert kpts[j, 2] == 1
            for j in person['outside_joints']:
                assert kpts[j, 2] == 0
    # Every labeled annotation is described.
    described = {
        p['annotation_id']
        for e in hard['images'] for p in e['people']
    }
    assert set(anns) <= described


def test_occluded_joints_lie_under_the_drawn_occluders(rich_set, read_json):
    root, summary = rich_set
    margin = None
    checked = 0
    for split in ('train', 'val'):
        hard = read_json(root, 'annotations', f'{split}_hard.json')
        margin = hard['info']['occlusion_margin_px']
        merged = read_json(root, 'annotations', f'posetrack18_{split}.json')
        anns = {a['id']: a for a in merged['annotations']}
        for entry in hard['images']:
            polys = [np.array(p, dtype=np.float32) for p in entry['occluders']]
            height = width = None
            if polys:
                img = cv2.imread(os.path.join(str(root), entry['file_name']))
                height, width = img.shape[:2]
                mask = np.zeros((height, width), dtype=np.uint8)
                for poly in polys:  # one call each: no even-odd holes
                    cv2.fillPoly(mask, [_fixed(poly)], 1, cv2.LINE_8, 4)
            for person in entry['people']:
                if person['annotation_id'] is None:
                    continue
                kpts = np.array(anns[person['annotation_id']]['keypoints'],
                                dtype=float).reshape(17, 3)
                occluded = set(person['occluded_joints'])
                for j in np.nonzero(kpts[:, 2])[0]:
                    pt = (float(kpts[j, 0]), float(kpts[j, 1]))
                    depth = max((cv2.pointPolygonTest(p, pt, True)
                                 for p in polys),
                                default=-1.0)
                    if j in occluded:
                        # Inside by the margin (rounding of the written
                        # coordinates moves a point by < 0.01 px) ...
                        assert depth >= margin - 0.02
                        # ... and the rasterised occluder covers it.
                        xi = min(width - 1, int(round(pt[0])))
                        yi = min(height - 1, int(round(pt[1])))
                        assert mask[yi, xi] == 1
                        checked += 1
                    else:
                        assert depth < margin + 0.02
    assert checked > 0
    assert checked == sum(summary['splits'][s]['occluded_joints']
                          for s in ('train', 'val'))


def test_blurred_frames_are_smoother(rich_set, read_json):
    """Blur is along a line: blurred frames lose high frequencies."""
    root, summary = rich_set
    assert summary['splits']['train']['blurred_frames'] > 0
    sharp, blurred = [], []
    for split in ('train', 'val'):
        for entry in read_json(root, 'annotations',
                               f'{split}_hard.json')['images']:
            img = cv2.imread(
                os.path.join(str(root), entry['file_name']),
                cv2.IMREAD_GRAYSCALE).astype(np.float32)
            energy = float(cv2.Laplacian(img, cv2.CV_32F).var())
            (blurred if entry['blurred'] else sharp).append(energy)
    assert np.median(blurred) < np.median(sharp)


def test_motion_blur_spreads_along_its_direction():
    img = np.zeros((21, 21, 3), dtype=np.uint8)
    img[10, 10] = 255
    horizontal = motion_blur(img, 7, 0.0)[..., 0].astype(float)
    assert horizontal[10].sum() > 0.9 * horizontal.sum()
    assert np.count_nonzero(horizontal[10]) >= 5
    vertical = motion_blur(img, 7, 90.0)[..., 0].astype(float)
    assert vertical[:, 10].sum() > 0.9 * vertical.sum()
    # Brightness is preserved (normalised kernel).
    assert abs(horizontal.sum() - 255) < 8


def test_ignore_regions_cover_the_crowd(rich_set, read_json):
    root, summary = rich_set
    frames = 0
    for split in ('train', 'val'):
        merged = read_json(root, 'annotations', f'posetrack18_{split}.json')
        for image in merged['images']:
            for xs, ys in zip(image['ignore_regions_x'],
                              image['ignore_regions_y']):
                area = cv2.contourArea(
                    np.stack([xs, ys], 1).astype(np.float32))
                assert area >= 4
                frames += 1
    assert frames == sum(summary['splits'][s]['frames_with_ignore_regions']
                         for s in ('train', 'val'))
    assert frames > 0


def _occluder_scene(**options):
    cfg = make_config('demo', frames_per_video=30, occlusion_rate=2.0, **options)
    rng = np.random.default_rng(3)
    return cfg, sample_scene(rng, cfg, num_people=3), rng


def test_default_occluders_are_unchanged():
    """occluder_scale 1.0 (the default) reproduces the occluders and the random stream of the generator before the
    option existed (figures recorded from that version), so data sets and the stages trained on them stay valid."""
    cfg, scene, rng = _occluder_scene()
    assert cfg.occluder_scale == 1.0
    assert rng.bit_generator.state['state']['state'] == 304980880636362393735517721708860361981
    assert len(scene.occluders) == 15
    fingerprint = sum(
        float(np.abs(o.outline).sum() + np.abs(o.velocity).sum() + np.abs(o.center).sum() + o.texture.sum())
        for o in scene.occluders)
    assert fingerprint == pytest.approx(1379262.9159476445, rel=1e-9)


def test_occluder_scale_grows_the_same_occluders():
    """occluder_scale changes only the occluders' size: the same count, kinds, targets and timing (same random
    draws); outlines and textures scaled, poles kept taller than the frame; each still sweeps over its target in
    the same number of frames, so it moves faster."""
    base, small_scene, small_rng = _occluder_scene()
    big, big_scene, big_rng = _occluder_scene(occluder_scale=2.0)
    assert small_rng.bit_generator.state == big_rng.bit_generator.state
    assert len(small_scene.occluders) == len(big_scene.occluders) > 4
    kinds = set()
    for small, large in zip(small_scene.occluders, big_scene.occluders):
        assert small.kind == large.kind and small.t_center == large.t_center and small.color == large.color
        kinds.add(small.kind)
        width_small, height_small = np.ptp(small.outline, axis=0)
        width_large, height_large = np.ptp(large.outline, axis=0)
        if small.kind == 'pole':
            assert width_large == pytest.approx(2 * width_small)
            assert height_large == pytest.approx(height_small) and height_large > base.image_height
            np.testing.assert_array_equal(large.texture, small.texture)
        else:
            np.testing.assert_allclose(large.outline, 2 * small.outline)
            assert large.texture.shape[0] == min(2 * small.texture.shape[0], 4 * base.image_height)
        # the speed relative to its target is (extent + 0.35 person heights) / sweep frames, the same sweep at both
        # scales, so twice the extent is between 1x and 2x the speed; the target's walk is horizontal, so the
        # vertical velocity shows the ratio
        assert 1.05 < large.velocity[1] / small.velocity[1] < 2.0
    assert len(kinds) >= 2
    with pytest.raises(ValueError, match='occluder_scale'):
        make_config('demo', occluder_scale=0.0)
