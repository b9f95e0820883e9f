# Stage 1 for PoseTrack17: the single-frame HRNet-W48 of mmpose's PoseTrack18 recipe on PoseTrack17 (frames renamed
# `%08d.jpg` from 1 and annotations converted by tools/posetrack_prepare.py), PoseTrack AP in the PoseTrack17 format.
_base_ = ['./td-hm_hrnet-w48_8xb64-20e_posetrack18-384x288.py']

data_root = 'data/posetrack17/'
train_dataloader = dict(dataset=dict(data_root=data_root, ann_file='annotations/posetrack17_train.json'))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/posetrack17_val.json',
        bbox_file=data_root + 'annotations/posetrack17_val_human_detections.json'))
test_dataloader = val_dataloader
val_evaluator = dict(gt_dir=data_root + 'annotations/val/', output_format='posetrack17')
test_evaluator = val_evaluator
