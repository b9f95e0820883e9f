# FAMI-Pose on Sub-JHMDB split 1 (15 joints, ground-truth boxes), PCK@0.2 normalised by the box as mmpose's
# JhmdbPCKAccuracy does: the PoseTrack18 recipe with Sub-JHMDB data, from the stage-1 model of
# ../stage1/td-hm_hrnet-w48_8xb64-20e_sub-jhmdb-split1-384x288.py. Splits 2 and 3: the `_split2` / `_split3` configs.
# Paper: 96.0 mean PCK over the 3 splits (tools/mean_over_splits.py averages the three test runs).
_base_ = ['./famipose_hrnet-w48_8xb6-20e_posetrack18-384x288.py']

# stage 1's last epoch under a fixed name (nothing is validated on Sub-JHMDB, so there is no best)
load_from = 'work_dirs/td-hm_hrnet-w48_8xb64-20e_sub-jhmdb-split1-384x288/last.pth'
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
