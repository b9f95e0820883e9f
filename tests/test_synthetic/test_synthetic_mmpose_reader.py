"""mmpose's stock PoseTrack18 video reader loads the generated data set."""
import os

from mmpose.datasets import PoseTrack18VideoDataset


def _dataset(root, **kwargs):
    return PoseTrack18VideoDataset(
        ann_file='annotations/posetrack18_val.json',
        data_root=str(root),
        data_prefix=dict(img=''),
        frame_sampler_mode='fixed',
        frame_indices=[-2, -1, 0, 1, 2],
        frame_weights=[0.0, 0.0, 1.0, 0.0, 0.0],
        pipeline=[],
        **kwargs)


def test_stock_reader_loads_ground_truth(rich_set, read_json):
    root, _ = rich_set
    merged = read_json(root, 'annotations', 'posetrack18_val.json')
    dataset = _dataset(root)
    assert len(dataset) == len(merged['annotations']) > 0
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        paths = info['img_path']
        assert len(paths) == 6  # key frame first, then the 5 fixed indices
        for path in paths:
            assert os.path.isfile(path), path
        assert info['keypoints'].shape == (1, 17, 2)
        x1, y1, x2, y2 = info['bbox'][0]
        assert x2 > x1 and y2 > y1


def test_stock_reader_loads_detections(rich_set, read_json):
    root, _ = rich_set
    dets = read_json(root, 'annotations',
                     'posetrack18_val_human_detections.json')
    dataset = _dataset(
        root,
        bbox_file=os.path.join(
            str(root), 'annotations',
            'posetrack18_val_human_detections.json'),
        test_mode=True)
    # mmpose keeps every box; frames without labels get boxes too.
    assert len(dataset) == len(dets) > 0
    for index in range(len(dataset)):
        for path in dataset.get_data_info(index)['img_path']:
            assert os.path.isfile(path), path
