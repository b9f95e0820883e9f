"""PoseTrackAPMetric through its mmengine API (dataset_meta, process,
evaluate), on hand-made ground truth (see ``conftest.py``: a joint is correct
within 15 px)."""
import json
import os
import pickle

import mmpose
import numpy as np
import pytest
import torch
from mmpose.datasets.datasets.utils import parse_pose_metainfo
from mmpose.registry import METRICS

from famipose_mmpose.evaluation import PoseTrackAPMetric, posetrack_ap
from famipose_mmpose.evaluation.posetrack_ap import evaluate_posetrack_folders

META = parse_pose_metainfo(
    dict(
        from_file=os.path.join(
            os.path.dirname(mmpose.__file__),
            '.mim/configs/_base_/datasets/posetrack18.py')))
KEYS = [
    'posetrack/Head AP', 'posetrack/Shoulder AP', 'posetrack/Elbow AP',
    'posetrack/Wrist AP', 'posetrack/Hip AP', 'posetrack/Knee AP',
    'posetrack/Ankle AP', 'posetrack/Total AP'
]
A, B, C = (100, 100), (400, 100), (700, 100)
V1, V2 = '000001_mpii_test', '000002_mpii_test'


def make_sample(ptdata,
                sid,
                video,
                frame,
                origin,
                bbox_score,
                kpt_scores=None,
                offsets=None,
                root='/data/posetrack18/images/val'):
    """A top-down data sample as mmengine hands it to ``process``."""
    kpts = np.array(ptdata.pred_keypoints(origin, offsets), np.float32)
    if kpt_scores is None:
        kpt_scores = np.ones(17, np.float32)
    return dict(
        id=sid,
        img_id=ptdata.image_id(video, frame),
        img_path=f'{root}/{video}/{frame:06d}.jpg',
        pred_instances=dict(
            keypoints=kpts[None],
            keypoint_scores=np.asarray(kpt_scores, np.float32)[None],
            bbox_scores=np.array([bbox_score], np.float32)),
        gt_instances=dict(bbox_scales=np.array([[120., 240.]], np.float32)))


@pytest.fixture
def gt_dir(ptdata, tmp_path):
    """Two videos: V1 (frame 0: A, B; frame 1: A), V2 (frame 0: A; frame 1:
    no annotation)."""
    folder = tmp_path / 'annotations' / 'val'
    gt1, _ = ptdata.video([
        dict(gt=[ptdata.gt_person(A), ptdata.gt_person(B)]),
        dict(gt=[ptdata.gt_person(A)])
    ], V1)
    gt2, _ = ptdata.video(
        [dict(gt=[ptdata.gt_person(A)]),
         dict(labeled=False)], V2)
    ptdata.write(folder, V1, gt1)
    ptdata.write(folder, V2, gt2)
    return str(folder)


def standard_samples(ptdata):
    # Per joint, sorted by score: FP .95 (C in V1 frame 1), then TPs .9, .8,
    # .7, .6; the .99 prediction lies in V2's frame without people
    # (ignored). 4 annotations: precision 0, .5, .667, .75, .8; recall 0,
    # .25, .5, .75, 1; interpolated precision .8 at every recall step
    # -> AP = 4 * .25 * .8 = 80 for every joint and part.
    return [
        make_sample(ptdata, 1, V1, 0, A, 0.9),
        make_sample(ptdata, 2, V1, 0, B, 0.8),
        make_sample(ptdata, 3, V1, 1, A, 0.7),
        make_sample(ptdata, 4, V1, 1, C, 0.95),
        make_sample(ptdata, 5, V2, 0, A, 0.6),
        make_sample(ptdata, 6, V2, 1, A, 0.99),
    ]


def run(metric, samples, batch=2):
    metric.dataset_meta = META
    for i in range(0, len(samples), batch):
        metric.process({}, samples[i:i + batch])
    return metric.evaluate(len(metric.results))


def test_metric_end_to_end_writes_posetrack18_files(ptdata, gt_dir, tmp_path):
    out_dir = tmp_path / 'preds'
    metric = PoseTrackAPMetric(gt_dir=gt_dir, out_dir=str(out_dir))
    metrics = run(metric, standard_samples(ptdata))
    assert list(metrics) == KEYS
    for key in KEYS:
        assert metrics[key] == pytest.approx(80.), key

    assert sorted(os.listdir(out_dir)) == [f'{V1}.json', f'{V2}.json']
    gt1 = json.loads(
        (tmp_path / 'annotations' / 'val' / f'{V1}.json').read_text())
    pred1 = json.loads((out_dir / f'{V1}.json').read_text())
    assert [(im['id'], im['file_name']) for im in pred1['images']
            ] == [(im['id'], im['file_name']) for im in gt1['images']]
    cat = pred1['categories'][0]
    assert cat['name'] == 'person'
    assert cat['keypoints'] == list(ptdata.keypoint_names)
    anns = pred1['annotations']
    assert [(a['image_id'], a['track_id'])
            for a in anns] == [(ptdata.image_id(V1, 0), 0),
                               (ptdata.image_id(V1, 0), 1),
                               (ptdata.image_id(V1, 1), 0),
                               (ptdata.image_id(V1, 1), 1)]
    expected_xy = [ptdata.pred_keypoints(o) for o in (A, B, A, C)]
    for ann, xy, score in zip(anns, expected_xy, (0.9, 0.8, 0.7, 0.95)):
        kpts = np.reshape(ann['keypoints'], (17, 3))
        np.testing.assert_allclose(kpts[:, :2], xy)
        # FAMI joint score = keypoint score (1) x box score
        np.testing.assert_allclose(ann['scores'], score, rtol=1e-6)
        np.testing.assert_allclose(kpts[:, 2], ann['scores'])
    # the written files alone give the same numbers (what poseval reads)
    again = evaluate_posetrack_folders(gt_dir, str(out_dir))
    assert again.parts['Total'] == pytest.approx(80.)


def test_metric_matches_by_image_id(ptdata, gt_dir):
    samples = standard_samples(ptdata)
    for s in samples:
        s['img_path'] = '/elsewhere/frame.jpg'
    metric = PoseTrackAPMetric(gt_dir=gt_dir, match_by='img_id')
    metrics = run(metric, samples)
    assert metrics['posetrack/Total AP'] == pytest.approx(80.)


def test_metric_posetrack17_output(ptdata, gt_dir, tmp_path):
    out_dir = tmp_path / 'preds17'
    metric = PoseTrackAPMetric(
        gt_dir=gt_dir, out_dir=str(out_dir), output_format='posetrack17')
    metrics = run(metric, standard_samples(ptdata))
    assert metrics['posetrack/Total AP'] == pytest.approx(80.)
    pred1 = json.loads((out_dir / f'{V1}.json').read_text())
    assert [len(e['annorect']) for e in pred1['annolist']] == [2, 2]
    rect = pred1['annolist'][0]['annorect'][0]
    points = rect['annopoints'][0]['point']
    assert sorted(p['id'][0] for p in points) == list(range(15))
    nose = next(p for p in points if p['id'][0] == 13)
    assert (nose['x'][0], nose['y'][0]) == (float(A[0]), float(A[1]))
    assert pred1['annolist'][1]['image'][0]['name'] == (
        f'images/val/{V1}/000001.jpg')


def test_unknown_frames_ignored_and_padding_counted_once(ptdata, gt_dir):
    samples = standard_samples(ptdata)
    # a frame of V1 that its ground truth does not list: ignored
    samples.append(make_sample(ptdata, 8, V1, 99, A, 0.99))
    # distributed padding repeats samples: counted once (else sample 1 is
    # a duplicate FP of .9 and the AP drops)
    samples += [samples[0], samples[1]]
    metric = PoseTrackAPMetric(gt_dir=gt_dir)
    metrics = run(metric, samples, batch=3)
    assert metrics['posetrack/Total AP'] == pytest.approx(80.)


def test_video_without_ground_truth_file_refuses(ptdata, gt_dir):
    """Evaluation is complete or refuses: predictions of a video whose
    ground-truth file is missing name the video, the file and the fix
    (they used to be dropped with a warning, and the AP of the other videos
    reported)."""
    samples = standard_samples(ptdata)
    samples.append(make_sample(ptdata, 7, '000777_mpii_test', 0, A, 0.99))
    samples.append(make_sample(ptdata, 9, '000778_mpii_test', 1, B, 0.5))
    metric = PoseTrackAPMetric(gt_dir=gt_dir)
    with pytest.raises(FileNotFoundError) as err:
        run(metric, samples)
    message = str(err.value)
    for word in ('2 video(s)', '000777_mpii_test', '000778_mpii_test',
                 os.path.join(gt_dir, '000777_mpii_test.json'),
                 os.path.join(gt_dir, '000778_mpii_test.json'), 'gt_dir'):
        assert word in message, (word, message)


def test_gt_video_without_predictions_counts_as_missed(ptdata, gt_dir,
                                                       tmp_path):
    # Only V1 is predicted: V2's person is missed. Per joint: FP .95,
    # TPs .9 .8 .7 of 4 annotations -> precision 0, .5, .667, .75, recall
    # 0, .25, .5, .75 -> AP = 3 * .25 * .75 = 56.25. V2 still gets a file.
    out_dir = tmp_path / 'preds'
    metric = PoseTrackAPMetric(gt_dir=gt_dir, out_dir=str(out_dir))
    metrics = run(metric, standard_samples(ptdata)[:4])
    assert metrics['posetrack/Total AP'] == pytest.approx(56.25)
    pred2 = json.loads((out_dir / f'{V2}.json').read_text())
    assert len(pred2['images']) == 2 and pred2['annotations'] == []


def test_oks_nms_and_joint_score_modes(ptdata, gt_dir, tmp_path):
    # Two copies of A in V1 frame 1 (ids 3 and 9, box .7 and .75). Without
    # NMS the first (id 3, .7) is matched and the copy (.75) is a FP:
    # per joint FP .95, FP .75, TPs .9 .8 .7 .6 -> sorted .95 F, .9 T,
    # .8 T, .75 F, .7 T, .6 T: precision 0, .5, .667, .5, .6, .667; recall
    # 0, .25, .5, .5, .75, 1 -> AP = .25 * .667 * 2 + .25 * .667 * 2
    # = .6667. OKS-NMS keeps only the copy with the higher person score
    # (.75) -> back to the 80 case with .75 instead of .7.
    samples = standard_samples(ptdata)
    samples.append(
        make_sample(ptdata, 9, V1, 1, A, 0.75, offsets={'nose': (1, 0)}))
    plain = run(PoseTrackAPMetric(gt_dir=gt_dir), samples)
    assert plain['posetrack/Total AP'] == pytest.approx(200. / 3)
    out_dir = tmp_path / 'nms'
    nms = run(
        PoseTrackAPMetric(
            gt_dir=gt_dir, out_dir=str(out_dir), nms_mode='oks_nms'), samples)
    assert nms['posetrack/Total AP'] == pytest.approx(80.)
    frame1 = [
        a for a in json.loads((out_dir /
                               f'{V1}.json').read_text())['annotations']
        if a['image_id'] == ptdata.image_id(V1, 1)
    ]
    assert len(frame1) == 2
    assert sorted(round(a['scores'][0], 4) for a in frame1) == [0.75, 0.95]

    # joint_score_mode='keypoint': joint scores are the raw keypoint scores
    kpt_scores = np.linspace(0.11, 0.91, 17)  # none at the 0.2 threshold
    out_dir = tmp_path / 'raw'
    run(
        PoseTrackAPMetric(
            gt_dir=gt_dir, out_dir=str(out_dir), joint_score_mode='keypoint'),
        [make_sample(ptdata, 1, V1, 0, A, 0.5, kpt_scores=kpt_scores)])
    ann = json.loads((out_dir / f'{V1}.json').read_text())['annotations'][0]
    np.testing.assert_allclose(ann['scores'], kpt_scores, rtol=1e-6)
    # person score: box x mean of keypoint scores above 0.2
    assert ann['score'] == pytest.approx(
        0.5 * kpt_scores[kpt_scores > 0.2].mean(), rel=1e-6)


def test_results_are_plain_picklable_data(ptdata, gt_dir):
    from mmengine.structures import InstanceData
    from mmpose.structures import PoseDataSample
    metric = PoseTrackAPMetric(gt_dir=gt_dir)
    metric.dataset_meta = META
    tensor_sample = make_sample(ptdata, 1, V1, 0, A, 0.9)
    tensor_sample['pred_instances'] = {
        k: torch.from_numpy(v)
        for k, v in tensor_sample['pred_instances'].items()
    }
    data_sample = PoseDataSample(
        metainfo=dict(
            id=2,
            img_id=ptdata.image_id(V1, 0),
            img_path=f'/x/{V1}/000000.jpg'))
    data_sample.pred_instances = InstanceData(
        keypoints=np.array([ptdata.pred_keypoints(B)], np.float32),
        keypoint_scores=np.ones((1, 17), np.float32),
        bbox_scores=np.array([0.8], np.float32))
    metric.process({}, [tensor_sample, data_sample])

    def walk(obj):
        if isinstance(obj, dict):
            for v in obj.values():
                walk(v)
        else:
            assert isinstance(obj, (np.ndarray, int, float, str, type(None),
                                    np.integer)), type(obj)

    for res in metric.results:
        walk(res)
    restored = pickle.loads(pickle.dumps(metric.results))
    assert [r['file_key'] for r in restored] == [f'{V1}/000000.jpg'] * 2
    metrics = metric.evaluate(2)
    # frame 0 of V1 fully found; V1 frame 1 and V2 missed: 2 TPs of 4
    # annotations per joint -> AP 50
    assert metrics['posetrack/Total AP'] == pytest.approx(50.)


def test_files_are_written_atomically(ptdata, gt_dir, tmp_path, monkeypatch):
    out_dir = tmp_path / 'preds'
    out_dir.mkdir()
    (out_dir / f'{V1}.json').write_text('{"old": true}')

    def broken_dump(obj, f, **kwargs):
        f.write('{"images": [')  # half a file, then a crash
        raise OSError('disk full')

    monkeypatch.setattr(posetrack_ap.json, 'dump', broken_dump)
    metric = PoseTrackAPMetric(gt_dir=gt_dir, out_dir=str(out_dir))
    metric.dataset_meta = META
    metric.process({}, standard_samples(ptdata))
    with pytest.raises(OSError, match='disk full'):
        metric.compute_metrics(metric.results)
    assert os.listdir(out_dir) == [f'{V1}.json']
    assert json.loads((out_dir / f'{V1}.json').read_text()) == {'old': True}


def test_configuration_errors(ptdata, gt_dir, tmp_path):
    with pytest.raises(ValueError, match='output_format'):
        PoseTrackAPMetric(gt_dir=gt_dir, output_format='coco')
    with pytest.raises(ValueError, match='joint_score_mode'):
        PoseTrackAPMetric(gt_dir=gt_dir, joint_score_mode='bbox')
    with pytest.raises(FileNotFoundError, match='gt_dir'):
        PoseTrackAPMetric(gt_dir=str(tmp_path / 'missing'))
    metric = PoseTrackAPMetric(gt_dir=gt_dir)
    metric.dataset_meta = META
    sample = make_sample(ptdata, 1, V1, 0, A, 0.9)
    sample['pred_instances']['keypoints'] = np.zeros((1, 15, 2), np.float32)
    sample['pred_instances']['keypoint_scores'] = np.zeros((1, 15))
    metric.process({}, [sample])
    with pytest.raises(ValueError, match='17 PoseTrack18 keypoints'):
        metric.compute_metrics(metric.results)
    no_score = make_sample(ptdata, 1, V1, 0, A, 0.9)
    del no_score['pred_instances']['bbox_scores']
    del no_score['gt_instances']
    with pytest.raises(KeyError, match='box score'):
        metric.process({}, [no_score])


def test_registered_for_configs(gt_dir):
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmpose'):  # as a config's default_scope; other tests change it
        metric = METRICS.build(dict(type='PoseTrackAPMetric', gt_dir=gt_dir))
    assert isinstance(metric, PoseTrackAPMetric)
    assert metric.prefix == 'posetrack'
    assert [f'posetrack/{n}' for n in PoseTrackAPMetric.METRIC_NAMES] == KEYS
