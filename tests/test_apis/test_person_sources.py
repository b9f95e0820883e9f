"""Person boxes from a detection file."""
import json

import numpy as np
import pytest

from famipose_mmpose.apis import DetectionFilePersonSource, Frame


def frame(index, name):
    return Frame(index, name, np.zeros((4, 4, 3), np.uint8), None)


@pytest.fixture(scope='module')
def detections(synth):
    with open(synth.det_file) as f:
        return json.load(f)


@pytest.fixture(scope='module')
def video_images(synth):
    with open(synth.ann_file) as f:
        images = json.load(f)['images']
    return [img for img in images if synth.video in img['file_name']]


def expected_boxes(detections, image_id, thr=0.0):
    dets = sorted((d for d in detections
                   if d['image_id'] == image_id and d['score'] >= thr),
                  key=lambda d: -d['score'])
    return np.array([[x, y, x + w, y + h] for x, y, w, h in
                     (d['bbox'] for d in dets)]).reshape(-1, 4), \
        np.array([d['score'] for d in dets])


def test_boxes_by_file_name_and_by_position(synth, detections, video_images):
    by_name = DetectionFilePersonSource(
        synth.det_file, ann_file=synth.ann_file, bbox_thr=0.5)
    assert by_name.video == synth.video  # the only video of the file
    by_position = DetectionFilePersonSource(
        synth.det_file,
        ann_file=synth.ann_file,
        video=synth.video,
        match_by='position',
        bbox_thr=0.5)
    for index, image in enumerate(video_images):
        name = image['file_name'].rsplit('/', 1)[1]
        boxes, scores = expected_boxes(detections, image['id'], 0.5)
        for source, key in ((by_name, frame(99, name)),
                            (by_position, frame(index, 'other.png'))):
            got = source(key)
            np.testing.assert_allclose(got.bboxes, boxes, atol=1e-4)
            np.testing.assert_allclose(got.scores, scores, atol=1e-6)
            assert source.frame_record(key) == (image['id'],
                                                image['file_name'])


def test_image_ids_in_frame_order(synth, detections, video_images):
    ids = [img['id'] for img in video_images][::-1]
    source = DetectionFilePersonSource(synth.det_file, image_ids=ids)
    boxes, _ = expected_boxes(detections, ids[0])
    np.testing.assert_allclose(
        source(frame(0, 'a.jpg')).bboxes, boxes, atol=1e-4)
    assert source.frame_record(frame(0, 'a.jpg')) == (ids[0], None)


def test_unmatched_frames_have_no_people(synth):
    source = DetectionFilePersonSource(synth.det_file, ann_file=synth.ann_file)
    assert len(source(frame(0, 'zzz.jpg')).bboxes) == 0
    assert len(source(frame(len(source.images), 'yyy.jpg')).bboxes) == 0
    assert source.unmatched_frames == 2


def test_mapping_errors(synth, tmp_path):
    with pytest.raises(ValueError, match='exactly one way'):
        DetectionFilePersonSource(synth.det_file)
    with pytest.raises(ValueError, match='not in annotation file'):
        DetectionFilePersonSource(
            synth.det_file, ann_file=synth.ann_file, video='nope')
    merged = tmp_path / 'merged.json'
    with open(synth.ann_file) as f:
        data = json.load(f)
    extra = dict(data['images'][0])
    extra.update(id=1, file_name='images/val/other_video/000000.jpg')
    data['images'].append(extra)
    merged.write_text(json.dumps(data))
    with pytest.raises(ValueError, match='holds 2 videos'):
        DetectionFilePersonSource(synth.det_file, ann_file=str(merged))
    with pytest.raises(FileNotFoundError, match='missing.json'):
        DetectionFilePersonSource(
            str(tmp_path / 'missing.json'), ann_file=synth.ann_file)
    broken = tmp_path / 'broken.json'
    broken.write_text(json.dumps([{'image_id': 1, 'score': 0.5}]))
    with pytest.raises(KeyError, match='"bbox"'):
        DetectionFilePersonSource(str(broken), ann_file=synth.ann_file)


def test_position_matching_refuses_a_video_longer_than_its_mapping(synth):
    """Issue 13: frames past the mapping used to get no people silently (and the output named frames two ways)."""
    source = DetectionFilePersonSource(synth.det_file, ann_file=synth.ann_file, match_by='position')
    last = len(source.images) - 1
    assert source.frame_record(frame(last, 'x.jpg')) == source.images[last]
    with pytest.raises(ValueError, match=rf'frame {last + 1} .* lists {last + 1} images, fewer than the video'):
        source(frame(last + 1, 'y.jpg'))
