# FAMI-Pose on PoseTrack18 (`%06d.jpg` frames from 0): the PoseTrack17 recipe with PoseTrack18 data.
# Paper: 82.2 mAP on PoseTrack18 val.
_base_ = ['./famipose_hrnet-w48_8xb6-20e_posetrack17-384x288.py']

load_from = 'work_dirs/td-hm_hrnet-w48_8xb64-20e_posetrack18-384x288/best_posetrack_Total AP_epoch_20.pth'
data_root = 'data/posetrack18/'
train_dataloader = dict(dataset=dict(data_root=data_root, ann_file='annotations/posetrack18_train.json'))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/posetrack18_val.json',
        bbox_file=data_root + 'annotations/posetrack18_val_human_detections.json'))
test_dataloader = val_dataloader
val_evaluator = dict(gt_dir=data_root + 'annotations/val/', output_format='posetrack18')
test_evaluator = val_evaluator
