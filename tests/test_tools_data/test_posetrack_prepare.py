"""tools/posetrack_prepare.py on generated miniature PoseTrack layouts."""
import importlib.util
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

TOOL = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tools',
    'posetrack_prepare.py')


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location('posetrack_prepare', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_pt17_original(root, videos=2, frames=6, first=1):
    """Official-style PoseTrack17 frames: 5-digit names from ``first``."""
    for v in range(1, videos + 1):
        folder = osp.join(root, 'images', 'bonn', f'00000{v}_bonn')
        os.makedirs(folder)
        for i in range(first, first + frames):
            img = np.full((8, 8, 3), 10 * i, dtype=np.uint8)
            cv2.imwrite(osp.join(folder, f'{i:05d}.jpg'), img)


def listing(root):
    return sorted(
        osp.relpath(osp.join(d, f), root) for d, _, files in os.walk(root)
        for f in files)


def test_rename_pt17_is_a_dry_run_by_default(tool, tmp_path, capsys):
    root = str(tmp_path / 'pt17')
    write_pt17_original(root)
    before = listing(root)
    assert tool.main(['rename-pt17', osp.join(root, 'images')]) == 0
    assert listing(root) == before
    out = capsys.readouterr().out
    assert 'would rename (dry run) 12 frame(s)' in out
    assert '00001.jpg -> 00000001.jpg' in out
    assert '--apply' in out


def test_rename_pt17_apply_keeps_index_and_content(tool, tmp_path, capsys):
    root = str(tmp_path / 'pt17')
    write_pt17_original(root)
    assert tool.main(['rename-pt17', osp.join(root, 'images'), '--apply']) == 0
    names = listing(root)
    assert names[0] == 'images/bonn/000001_bonn/00000001.jpg'
    assert names[5] == 'images/bonn/000001_bonn/00000006.jpg'
    assert len(names) == 12 and all(len(osp.basename(n)) == 12 for n in names)
    img = cv2.imread(osp.join(root, 'images/bonn/000001_bonn/00000003.jpg'))
    assert abs(int(img.mean()) - 30) <= 2
    # idempotent: a second run finds everything named
    assert tool.main(['rename-pt17', osp.join(root, 'images'), '--apply']) == 0
    assert '12 already named' in capsys.readouterr().out


def test_rename_pt17_never_overwrites(tool, tmp_path, capsys):
    root = str(tmp_path / 'pt17')
    write_pt17_original(root, videos=1)
    folder = osp.join(root, 'images', 'bonn', '000001_bonn')
    with open(osp.join(folder, '00000002.jpg'), 'wb') as f:
        f.write(b'precious')
    assert tool.main(['rename-pt17', osp.join(root, 'images'), '--apply']) == 1
    out = capsys.readouterr().out
    assert 'CONFLICT' in out and '00000002.jpg' in out
    with open(osp.join(folder, '00000002.jpg'), 'rb') as f:
        assert f.read() == b'precious'
    assert osp.isfile(osp.join(folder, '00002.jpg'))  # left in place
    assert osp.isfile(osp.join(folder, '00000003.jpg'))


def test_rename_pt17_warns_about_zero_based_folders(tool, tmp_path, capsys):
    root = str(tmp_path / 'pt17')
    write_pt17_original(root, videos=1, first=0)
    tool.main(['rename-pt17', osp.join(root, 'images')])
    assert 'starts at frame 0, not 1' in capsys.readouterr().out
    with pytest.raises(FileNotFoundError, match='nowhere'):
        tool.main(['rename-pt17', str(tmp_path / 'nowhere')])


def test_merge_per_video_files_matches_the_dataset_format(
        tool, pt18, tmp_path):
    out = str(tmp_path / 'merged' / 'posetrack18_val.json')
    assert tool.main(
        ['merge', pt18['per_video_dir'], out, '--data-root',
         pt18['root']]) == 0
    with open(out) as f:
        merged = json.load(f)
    reference = pt18['merged']
    assert [i['id'] for i in merged['images']] == \
        [i['id'] for i in reference['images']]
    for ours, ref in zip(merged['images'], reference['images']):
        assert (ours['width'], ours['height']) == (64, 48)
        assert ours['nframes'] == ref['nframes']
        assert ours['file_name'] == ref['file_name']
    assert len(merged['annotations']) == len(reference['annotations'])
    for ours, ref in zip(merged['annotations'], reference['annotations']):
        assert ours['keypoints'] == ref['keypoints']
        assert ours['num_keypoints'] == ref['num_keypoints'] == 15
        assert ours['iscrowd'] is False
    # the dataset reads it
    from mmengine.registry import init_default_scope
    from mmpose.registry import DATASETS
    init_default_scope('mmpose')
    dataset = DATASETS.build(
        dict(
            type='PoseTrackVideoDataset',
            ann_file=out,
            data_root=pt18['root'],
            data_prefix=dict(img='')))
    assert len(dataset) == 7
    # never overwrite
    with pytest.raises(FileExistsError, match='refusing to overwrite'):
        tool.main(['merge', pt18['per_video_dir'], out])
    everything = str(tmp_path / 'all.json')
    tool.merge_posetrack18(
        pt18['per_video_dir'], everything, pt18['root'], all_frames=True)
    with open(everything) as f:
        assert len(json.load(f)['images']) == 12


@pytest.mark.parametrize('edit, error, words', [
    (lambda c: c.pop('annotations'), KeyError, ['"annotations"']),
    (lambda c: c['images'][0].pop('nframes'), KeyError, ['"nframes"']),
    (lambda c: c['annotations'][0].update(keypoints=[1, 2, 1]), ValueError,
     ['"keypoints"', 'expected 51']),
    (lambda c: c['annotations'][0].update(image_id=42), ValueError,
     ['"image_id" 42']),
])
def test_merge_rejects_malformed_files(tool, pt18, tmp_path, edit, error,
                                       words):
    bad_dir = tmp_path / 'bad'
    bad_dir.mkdir()
    name = '000001_mpii_test.json'
    with open(osp.join(pt18['per_video_dir'], name)) as f:
        content = json.load(f)
    edit(content)
    with open(bad_dir / name, 'w') as f:
        json.dump(content, f)
    with pytest.raises(error) as err:
        tool.merge_posetrack18(
            str(bad_dir), str(tmp_path / 'out.json'), pt18['root'])
    message = err.value.args[0]
    assert name in message
    for word in words:
        assert word in message, message
    assert not osp.exists(tmp_path / 'out.json')


def test_merge_needs_frames_for_the_image_size(tool, pt18, tmp_path):
    os.remove(
        osp.join(pt18['root'], 'images/val/000001_mpii_test/'
                 '000000.jpg'))
    with pytest.raises(FileNotFoundError) as err:
        tool.merge_posetrack18(pt18['per_video_dir'],
                               str(tmp_path / 'out.json'), pt18['root'])
    assert '000000.jpg' in str(err.value) and '--data-root' in str(err.value)


def test_check_reports_missing_supporting_frames(tool, make, tmp_path, capsys):
    layout = make.make_posetrack(
        str(tmp_path / 'holes'),
        skip_frames=['000001_mpii_test/4', '000002_mpii_test/0'])
    report_file = str(tmp_path / 'report.json')
    status = tool.main([
        'check', layout['ann_file'], '--data-root', layout['root'], '--report',
        report_file
    ])
    assert status == 1
    with open(report_file) as f:
        report = json.load(f)
    assert report['key_frames'] == 5 and report['videos'] == 2
    assert report['missing'] == {
        'images/val/000001_mpii_test': [4],
        'images/val/000002_mpii_test': [0],
    }
    # video 1 keys 0, 3, 5: frame 4 is in the windows of 3 and 5
    assert report['affected_key_frames']['images/val/000001_mpii_test'] == \
        [3, 5]
    # video 2 keys 1 and 4: frame 0 is t-1 of key 1 (t-2 is outside)
    assert report['affected_key_frames']['images/val/000002_mpii_test'] == \
        [1]
    assert report['missing_key_frames'] == []
    assert 'missing frames [4]' in capsys.readouterr().out
    # with offsets [1] only, key 3 is the only one affected
    narrow = tool.check_windows(
        layout['ann_file'], layout['root'], offsets=[1])
    assert narrow['affected_key_frames'] == {
        'images/val/000001_mpii_test': [3]
    }


def test_check_on_per_video_files_and_pt17_names(tool, make, tmp_path):
    complete = make.make_posetrack(str(tmp_path / 'pt18'))
    assert tool.main(
        ['check', complete['per_video_dir'], '--data-root',
         complete['root']]) == 0
    pt17 = make.make_posetrack(str(tmp_path / 'pt17'), style='pt17')
    report = tool.check_windows(
        pt17['ann_file'], pt17['root'], border_policy='clip')
    assert report['missing_paths'] == []  # never asks for 00000000.jpg
    with pytest.raises(ValueError, match='contains 0'):
        tool.check_windows(pt17['ann_file'], pt17['root'], offsets=[0, 1])
