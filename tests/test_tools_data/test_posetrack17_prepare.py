"""tools/posetrack_prepare.py pt17-annolist / pt17-boxes on miniatures of
the PoseTrack17 files users have (``_pt17_fixtures.py``): the outputs are
read back by the stock datasets and the metric."""
import copy
import importlib.util
import json
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmpose.registry import DATASETS

from famipose_mmpose.evaluation import PoseTrackAPMetric

HERE = osp.dirname(osp.abspath(__file__))
TOOL = osp.join(
    osp.dirname(osp.dirname(HERE)), 'tools', 'posetrack_prepare.py')


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def tool():
    return _load('posetrack_prepare_pt17', TOOL)


fx = _load('famipose_tests_pt17_fixtures', osp.join(HERE, '_pt17_fixtures.py'))


def build(**cfg):
    init_default_scope('mmpose')
    return DATASETS.build(dict(cfg, data_prefix=dict(img='')))


@pytest.fixture
def official(tool, tmp_path, capsys):
    """Official files, frames renamed by rename-pt17, converted: returns
    paths and the specs."""
    src = fx.make_pt17_official(str(tmp_path / 'pt17'), renamed=False)
    root = src['root']
    assert tool.main(['rename-pt17', osp.join(root, 'images'), '--apply']) == 0
    out = dict(
        src,
        ann=osp.join(root, 'annotations', 'posetrack17_val.json'),
        gt_dir=osp.join(root, 'annotations', 'val'),
        det=osp.join(root, 'annotations',
                     'posetrack17_val_human_detections.json'))
    assert tool.main([
        'pt17-annolist', src['annolist_dir'], '--images', root, '--out-json',
        out['ann'], '--out-gt-dir', out['gt_dir']
    ]) == 0
    out['stdout'] = capsys.readouterr().out
    return out


def expected_keypoints(p):
    kpts = [0.0] * 51
    for j, (x, y) in p['points'].items():
        kpts[3 * fx.PT18_OF_POSEVAL[j]:3 * fx.PT18_OF_POSEVAL[j] + 3] = \
            [x, y, 1]
    return kpts


def test_pt17_annolist_writes_the_merged_json(official):
    assert '6 image name(s) rewritten' in official['stdout']
    with open(official['ann']) as f:
        merged = json.load(f)
    a, b = official['videos']['A'], official['videos']['B']
    # labeled frames only, renamed %08d.jpg paths
    assert [i['file_name'] for i in merged['images']] == [
        'images/bonn/000001_bonn/00000001.jpg',
        'images/bonn/000001_bonn/00000004.jpg',
        'images/bonn_5sec/000342_mpii/00000002.jpg',
        'images/bonn_5sec/000342_mpii/00000005.jpg'
    ]
    images = {i['file_name']: i for i in merged['images']}
    for img in merged['images']:
        assert (img['width'], img['height']) == fx.SIZE
        assert img['frame_id'] == img['id'] and img['is_labeled'] is True
    assert [i['nframes'] for i in merged['images']] == [6, 6, 5, 5]
    assert [i['vid_id'] for i in merged['images']] == \
        ['000001_bonn'] * 2 + ['000342_mpii'] * 2
    a4 = images['images/bonn/000001_bonn/00000004.jpg']
    assert a4['ignore_regions_x'] == [[0, 10, 10, 0]]
    assert a4['ignore_regions_y'] == [[0, 0, 10, 10]]
    assert images['images/bonn/000001_bonn/00000001.jpg'][
        'ignore_regions_x'] == []
    assert len({i['id'] for i in merged['images']}) == 4
    assert merged['categories'][0]['keypoints'] == fx.PT18_NAMES

    anns = merged['annotations']
    # A1: 1, A4: 2 (+1 annorect without points, skipped), B2: 2, B5: 1
    assert len(anns) == 6 and len({a['id'] for a in anns}) == 6
    by_image = {}
    for ann in anns:
        by_image.setdefault(ann['image_id'], []).append(ann)
    people = [
        (a, 1, a['labeled'][1]), (a, 4, a['labeled'][4]),
        (b, 2, b['labeled'][2]), (b, 5, b['labeled'][5])
    ]
    for spec, index, persons in people:
        image = images[fx.renamed_name(spec, index)]
        got = by_image[image['id']]
        assert len(got) == len(persons)
        for ann, p in zip(got, persons):
            assert ann['keypoints'] == expected_keypoints(p)
            assert ann['keypoints'][9:15] == [0] * 6  # the ears
            assert ann['num_keypoints'] == len(p['points'])
            assert ann['track_id'] == p['track_id']
            x1, y1, x2, y2 = p['head']
            assert ann['bbox_head'] == [x1, y1, x2 - x1, y2 - y1]
            assert ann['category_id'] == 1 and ann['iscrowd'] is False
    # bbox: keypoint box enlarged 15% per side (x 23..41, y 8..43)
    full = by_image[images['images/bonn/000001_bonn/00000001.jpg']['id']][0]
    assert full['bbox'] == pytest.approx([20.3, 2.75, 23.4, 45.5])
    # a single point: a square of the head box's larger side around it
    nose = by_image[images['images/bonn_5sec/000342_mpii/00000002.jpg']
                    ['id']][1]
    assert nose['bbox'] == pytest.approx([46 - 4.5, 12 - 4.5, 9, 9])


def test_pt17_annolist_writes_the_ground_truth_folder(official):
    a, b = official['videos']['A'], official['videos']['B']
    assert sorted(os.listdir(official['gt_dir'])) == sorted(
        [a['file'], b['file']])
    # already %08d names: copied byte for byte
    with open(osp.join(official['annolist_dir'], b['file']), 'rb') as f:
        original = f.read()
    with open(osp.join(official['gt_dir'], b['file']), 'rb') as f:
        assert f.read() == original
    # official 5-digit names: only the names change
    with open(osp.join(official['annolist_dir'], a['file'])) as f:
        original = json.load(f)
    with open(osp.join(official['gt_dir'], a['file'])) as f:
        written = json.load(f)
    assert [e['image'][0]['name'] for e in written['annolist']] == \
        [fx.renamed_name(a, i) for i in range(1, 7)]
    for entry in original['annolist'] + written['annolist']:
        entry.pop('image')
    assert written == original
    # no temporary file left behind
    assert not [f for f in os.listdir(official['gt_dir']) if f.startswith('.')]


def _perfect_samples(dataset):
    samples = []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        samples.append(
            dict(
                id=info['id'],
                img_id=info['img_id'],
                img_path=info['img_path'],
                pred_instances=dict(
                    keypoints=info['keypoints'],
                    keypoint_scores=info['keypoints_visible'].astype(
                        np.float32),
                    bbox_scores=np.ones(1, np.float32))))
    return samples


def test_pt17_outputs_feed_the_datasets_and_the_metric(
        tool, official, tmp_path):
    root = official['root']
    boxes = fx.make_posewarper_boxes(
        str(tmp_path / 'val_boxes.json'), official['videos'])
    assert tool.main([
        'pt17-boxes',
        str(tmp_path / 'val_boxes.json'), '--ann', official['ann'], '--out',
        official['det']
    ]) == 0
    with open(official['det']) as f:
        dets = json.load(f)
    with open(official['ann']) as f:
        ids = {i['file_name']: i['id'] for i in json.load(f)['images']}
    # 6 person boxes kept; the unlabeled-frame and non-person ones dropped
    assert len(dets) == 6
    for det, box in zip(dets, boxes):
        assert det == dict(
            image_id=ids[box['image_name']],
            category_id=1,
            bbox=box['bbox'],
            score=box['score'])

    # train mode: one sample per annotated person, windows inside videos
    train = build(
        type='PoseTrackVideoDataset', ann_file=official['ann'], data_root=root)
    assert len(train) == 6
    windows = {
        (osp.basename(info['video']), info['frame_index']):
        info['frame_indices']
        for info in (train.get_data_info(i) for i in range(len(train)))
    }
    assert windows[('000001_bonn', 1)] == [1, 1, 1, 2, 3]  # first frame
    assert windows[('000342_mpii', 5)] == [5, 3, 4, 5, 5]  # last frame
    info = train.get_data_info(0)
    assert all(osp.isfile(p) for p in info['frame_paths'])
    assert osp.basename(info['frame_paths'][3]) == '00000002.jpg'

    # test mode with the converted boxes (score >= 0.2 as the configs)
    test = build(
        type='PoseTrackVideoDataset',
        ann_file=official['ann'],
        data_root=root,
        bbox_file=official['det'],
        filter_cfg=dict(bbox_score_thr=0.2),
        test_mode=True)
    assert len(test) == 4
    info = test.get_data_info(0)
    assert info['img_id'] == ids['images/bonn/000001_bonn/00000001.jpg']
    assert info['nframes'] == 6 and info['frame_indices'] == [1, 1, 1, 2, 3]
    x, y, w, h = boxes[0]['bbox']
    assert info['bbox'][0].tolist() == pytest.approx([x, y, x + w, y + h])
    # mmpose's own single-frame dataset (stage 1) reads the same files
    stage1 = build(
        type='PoseTrack18Dataset',
        ann_file=official['ann'],
        data_root=root,
        bbox_file=official['det'],
        test_mode=True)
    assert len(stage1) == 6 and osp.isfile(stage1.get_data_info(5)['img_path'])

    # perfect predictions score 100 against the written ground truth
    samples = _perfect_samples(train)
    metric = PoseTrackAPMetric(
        gt_dir=official['gt_dir'], output_format='posetrack17')
    metric.dataset_meta = train.metainfo
    metric.process([], copy.deepcopy(samples))
    result = metric.evaluate(len(samples))
    for name, value in result.items():
        assert value == pytest.approx(100.), name
    # ... and the ground truth is not vacuous: missing video A costs AP
    metric = PoseTrackAPMetric(
        gt_dir=official['gt_dir'], output_format='posetrack17')
    metric.dataset_meta = train.metainfo
    kept = [s for s in samples if '000342_mpii' in s['img_path']]
    metric.process([], kept)
    assert metric.evaluate(len(kept))['posetrack/Total AP'] < 60


def test_pt17_boxes_with_dcpose_files(tool, tmp_path, capsys):
    """DCPose route: its merged json as is, the ground truth from its
    annolist files, PoseWarper's boxes under another path prefix."""
    src = fx.make_pt17_official(str(tmp_path / 'pt17'), renamed=True)
    root, videos = src['root'], src['videos']
    dcpose = fx.make_dcpose_json(
        osp.join(root, 'annotations', 'posetrack17_val.json'), videos)
    boxes_file = str(tmp_path / 'val_boxes.json')
    boxes = fx.make_posewarper_boxes(
        boxes_file, videos, prefix='/data/PoseTrack2017/posetrack_data/')
    det = osp.join(root, 'annotations', 'dets.json')
    ann = osp.join(root, 'annotations', 'posetrack17_val.json')
    assert tool.main(['pt17-boxes', boxes_file, '--ann', ann, '--out',
                      det]) == 0
    assert '6 box(es)' in capsys.readouterr().out
    with open(det) as f:
        dets = json.load(f)
    ids = {i['file_name']: i['id'] for i in dcpose['images']}
    prefix = len('/data/PoseTrack2017/posetrack_data/')
    assert [d['image_id'] for d in dets] == \
        [ids[b['image_name'][prefix:]] for b in boxes[:6]]
    test = build(
        type='PoseTrackVideoDataset',
        ann_file=ann,
        data_root=root,
        bbox_file=det,
        test_mode=True)
    assert len(test) == 6
    info = test.get_data_info(5)
    assert info['frame_index'] == 5 and info['frame_indices'] == \
        [5, 3, 4, 5, 5]
    train = build(type='PoseTrackVideoDataset', ann_file=ann, data_root=root)
    assert len(train) == 6
    # ground truth only (DCPose's merged json is kept)
    gt_dir = osp.join(root, 'annotations', 'val')
    assert tool.main([
        'pt17-annolist', src['annolist_dir'], '--data-root', root,
        '--out-gt-dir', gt_dir
    ]) == 0
    assert sorted(os.listdir(osp.join(root, 'annotations'))) == \
        ['dets.json', 'posetrack17_val.json', 'val']
    samples = _perfect_samples(train)
    metric = PoseTrackAPMetric(gt_dir=gt_dir, output_format='posetrack17')
    metric.dataset_meta = train.metainfo
    metric.process([], samples)
    assert metric.evaluate(len(samples))['posetrack/Total AP'] == \
        pytest.approx(100.)


def test_pt17_never_overwrites(tool, official, tmp_path):
    with open(official['ann'], 'rb') as f:
        before = f.read()
    new_gt = str(tmp_path / 'gt')
    with pytest.raises(FileExistsError, match='refusing to overwrite'):
        tool.main([
            'pt17-annolist', official['annolist_dir'], '--images',
            official['root'], '--out-json', official['ann'], '--out-gt-dir',
            new_gt
        ])
    with open(official['ann'], 'rb') as f:
        assert f.read() == before
    assert not osp.exists(new_gt)  # nothing written on refusal
    with pytest.raises(FileExistsError, match='already holds .json'):
        tool.main([
            'pt17-annolist', official['annolist_dir'], '--images',
            official['root'], '--out-gt-dir', official['gt_dir']
        ])
    fx.make_posewarper_boxes(str(tmp_path / 'b.json'), official['videos'])
    with open(official['det'], 'w') as f:
        f.write('precious')
    with pytest.raises(FileExistsError, match='refusing to overwrite'):
        tool.main([
            'pt17-boxes',
            str(tmp_path / 'b.json'), '--ann', official['ann'], '--out',
            official['det']
        ])
    with open(official['det']) as f:
        assert f.read() == 'precious'


def _rect(content, frame, person=0):
    return content['annolist'][frame - 1]['annorect'][person]


@pytest.mark.parametrize('edit, error, words', [
    (lambda c: _rect(c, 4)['annopoints'][0]['point'][2].update(id=[15]),
     ValueError, ['annolist[3] (images/bonn/000001_bonn/00004.jpg)',
                  'annorect[0].annopoints[0].point[2]', '"id" is 15']),
    (lambda c: _rect(c, 1).pop('x2'), KeyError,
     ['annolist[0] (images/bonn/000001_bonn/00001.jpg).annorect[0]', 'x2']),
    (lambda c: [_rect(c, 4, 1).pop(k) for k in ('x1', 'y1', 'x2', 'y2')],
     KeyError, ['annolist[3]', 'annorect[1]', 'head box']),
    (lambda c: _rect(c, 1)['annopoints'][0]['point'][0].update(x=3.5),
     ValueError, ['annorect[0].annopoints[0].point[0]', '"x"',
                  'one-element list']),
    (lambda c: _rect(c, 1).update(track_id=[10000]), ValueError,
     ['annorect[0]', '"track_id" is 10000']),
    (lambda c: c['annolist'][3]['ignore_regions'][0]['point'].__delitem__(
        slice(2, None)), ValueError,
     ['annolist[3]', 'ignore_regions[0]', '2 vertices']),
    (lambda c: c['annolist'][2]['image'][0].update(
        name='images/bonn/000001_bonn/00002.jpg'), ValueError,
     ['annolist[2] (images/bonn/000001_bonn/00002.jpg)', '"image"',
      'also annolist[1]']),
    (lambda c: c.update(annolist=[]), ValueError, ['"annolist"', 'non-empty']),
    (lambda c: c.update(images=c.pop('annolist')), KeyError,
     ['has no "annolist" field']),
])
def test_pt17_annolist_refuses_malformed_entries(
        tool, tmp_path, edit, error, words):
    src = fx.make_pt17_official(str(tmp_path / 'pt17'))
    path = osp.join(src['annolist_dir'], src['videos']['A']['file'])
    with open(path) as f:
        content = json.load(f)
    edit(content)
    with open(path, 'w') as f:
        json.dump(content, f)
    out = str(tmp_path / 'out.json')
    with pytest.raises(error) as err:
        tool.main([
            'pt17-annolist', src['annolist_dir'], '--images', src['root'],
            '--out-json', out, '--out-gt-dir',
            str(tmp_path / 'gt')
        ])
    message = err.value.args[0]
    assert '\n' not in message and src['videos']['A']['file'] in message
    for word in words:
        assert word in message, message
    assert not osp.exists(out) and not osp.exists(tmp_path / 'gt')


def test_pt17_annolist_needs_the_renamed_frames(tool, tmp_path):
    def run(src, images):
        tool.main([
            'pt17-annolist', src['annolist_dir'], '--images', images,
            '--out-json',
            str(tmp_path / 'o.json')
        ])

    src = fx.make_pt17_official(str(tmp_path / 'pt17'), renamed=False)
    with pytest.raises(FileNotFoundError, match='rename-pt17'):
        run(src, src['root'])
    with pytest.raises(FileNotFoundError) as err:  # the wrong root
        run(src, osp.join(src['root'], 'images'))
    assert f'--images {src["root"]!r}' in str(err.value)
    src = fx.make_pt17_official(str(tmp_path / 'renamed'))
    os.remove(osp.join(src['root'], 'images/bonn/000001_bonn/00000004.jpg'))
    with pytest.raises(FileNotFoundError) as err:  # a labeled frame
        run(src, src['root'])
    assert 'annolist[3]' in str(err.value) and '00000004.jpg' in str(
        err.value)


def test_pt17_boxes_refuses_unmatched_and_ambiguous_names(
        tool, official, tmp_path):
    boxes_file = str(tmp_path / 'boxes.json')
    out = str(tmp_path / 'dets.json')
    boxes = fx.make_posewarper_boxes(boxes_file, official['videos'])

    def run(entries, ann=official['ann']):
        with open(boxes_file, 'w') as f:
            json.dump(entries, f)
        return tool.main(
            ['pt17-boxes', boxes_file, '--ann', ann, '--out', out])

    bad = copy.deepcopy(boxes)
    bad[2]['image_name'] = 'images/bonn/000099_bonn/00000001.jpg'
    with pytest.raises(ValueError) as err:
        run(bad)
    message = err.value.args[0]
    assert all(w in message for w in [
        boxes_file, 'entry 2', "'images/bonn/000099_bonn/00000001.jpg'",
        'matches no image'
    ]), message
    bad = copy.deepcopy(boxes)
    bad[1]['image_name'] = 'images/bonn/000001_bonn/00000009.jpg'  # > 6
    with pytest.raises(ValueError, match='entry 1 .*matches no image'):
        run(bad)
    bad = copy.deepcopy(boxes)
    bad[0]['nframes'] = 7
    with pytest.raises(ValueError, match='entry 0 .*"nframes" is 7'):
        run(bad)
    bad = copy.deepcopy(boxes)
    bad[3]['bbox'] = [1, 2, 3]
    with pytest.raises(ValueError, match=r'entry 3 .*"bbox"'):
        run(bad)
    # two videos named alike under different folders
    ann = str(tmp_path / 'twins.json')
    with open(ann, 'w') as f:
        json.dump(
            dict(images=[
                dict(id=1, file_name='images/a/v_1/00000001.jpg', nframes=3),
                dict(id=2, file_name='images/b/v_1/00000001.jpg', nframes=3)
            ]), f)
    entry = dict(image_name='v_1/00000001.jpg', bbox=[1, 2, 3, 4], score=1)
    with pytest.raises(ValueError, match='entry 0 .*matches several images'):
        run([entry], ann)
    assert not osp.exists(out)
    # further components decide, and 5-digit names match by number
    assert run([dict(entry, image_name='x/images/b/v_1/00001.jpg')], ann) == 0
    with open(out) as f:
        assert [d['image_id'] for d in json.load(f)] == [2]
