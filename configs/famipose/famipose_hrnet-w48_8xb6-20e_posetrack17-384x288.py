# FAMI-Pose on PoseTrack17 (frames renamed `%08d.jpg` from 1, annotations converted by tools/posetrack_prepare.py):
# the PoseTrack18 recipe (famipose_hrnet-w48_8xb6-20e_posetrack18-384x288.py) with PoseTrack17 data, evaluated in the
# PoseTrack17 format. Paper: 84.8 mAP on PoseTrack17 val (poseval, detected boxes).
_base_ = ['./famipose_hrnet-w48_8xb6-20e_posetrack18-384x288.py']

# the stage-1 single-frame model trained with ../stage1/td-hm_hrnet-w48_8xb64-20e_posetrack17-384x288.py
load_from = 'work_dirs/td-hm_hrnet-w48_8xb64-20e_posetrack17-384x288/best.pth'
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
