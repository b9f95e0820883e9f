# FAMI-Pose on Sub-JHMDB split 1 (15 joints, ground-truth boxes), PCK@0.2 normalised by the box as mmpose's
# JhmdbPCKAccuracy does. Splits 2 and 3: `split=2` / `split=3` in both datasets. Paper: 96.0 mean PCK over 3 splits.
_base_ = ['./famipose_hrnet-w48_8xb6-20e_posetrack17-384x288.py']

load_from = 'work_dirs/td-hm_hrnet-w48_8xb64-20e_sub-jhmdb-split1-384x288/epoch_20.pth'  # stage 1's last epoch
data_root = 'data/jhmdb/'
model = dict(head=dict(out_channels=15))
train_dataloader = dict(dataset=dict(type='JhmdbVideoDataset', data_root=data_root, ann_file='', split=1))
test_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='JhmdbVideoDataset',
        data_root=data_root,
        split=1,
        data_prefix=dict(img=''),
        frame_offsets={{_base_.frame_offsets}},
        border_policy='fami',
        test_mode=True,
        pipeline={{_base_.val_pipeline}}))
test_evaluator = dict(_delete_=True, type='JhmdbPCKAccuracy', thr=0.2, norm_item=['bbox', 'torso'])
# Sub-JHMDB has a train and a test split only: nothing is validated or chosen; the last epoch is tested
val_dataloader = None
val_cfg = None
val_evaluator = None
default_hooks = dict(checkpoint=dict(save_best=None))
