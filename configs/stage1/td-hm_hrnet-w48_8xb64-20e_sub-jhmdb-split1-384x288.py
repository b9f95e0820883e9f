# Stage 1 for Sub-JHMDB split 1 (15 joints): single-frame HRNet-W48 at 384x288, PCK@0.2 (mmpose's JhmdbPCKAccuracy).
# mmpose's Sub-JHMDB recipe (schedule, augmentation, data) with the paper's network: HRNet-W48 at 384x288 from
# mmpose's COCO-pretrained checkpoint. Splits 2 and 3: the `_split2` / `_split3` configs.
_base_ = ['mmpose::body_2d_keypoint/topdown_heatmap/jhmdb/td-hm_res50_8xb64-20e_jhmdb-sub1-256x256.py']

custom_imports = dict(imports=['famipose_mmpose'], allow_failed_imports=False)
# the paper starts from a COCO-pretrained HRNet-W48 (mmpose's; its 17-joint heatmap layer is not loaded: 15 here)
load_from = ('https://download.openmmlab.com/mmpose/v1/body_2d_keypoint/topdown_heatmap/coco/'
             'td-hm_hrnet-w48_8xb32-210e_coco-384x288-c161b7de_20220915.pth')
codec = dict(type='MSRAHeatmap', input_size=(288, 384), heatmap_size=(72, 96), sigma=3)
model = dict(
    backbone=dict(
        _delete_=True,
        type='HRNet',
        in_channels=3,
        extra=dict(
            stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(4, ), num_channels=(64, )),
            stage2=dict(num_modules=1, num_branches=2, block='BASIC', num_blocks=(4, 4), num_channels=(48, 96)),
            stage3=dict(
                num_modules=4, num_branches=3, block='BASIC', num_blocks=(4, 4, 4), num_channels=(48, 96, 192)),
            stage4=dict(
                num_modules=3,
                num_branches=4,
                block='BASIC',
                num_blocks=(4, 4, 4, 4),
                num_channels=(48, 96, 192, 384)))),
    head=dict(in_channels=48, out_channels=15, deconv_out_channels=None, decoder=codec),
    test_cfg=dict(flip_test=False))  # tested as FAMI-Pose is: no flip
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomBBoxTransform', rotate_factor=60, scale_factor=(0.75, 1.25)),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]
# persistent_workers=False: workers restart each epoch, reseeded by ExactResumeHook, so --resume is exact
train_dataloader = dict(persistent_workers=False, dataset=dict(pipeline=train_pipeline))
# Sub-JHMDB has a train and a test split only: nothing is validated (choosing the best epoch on the split that is
# reported would inflate it); the model of the last epoch is tested; FAMI-Pose loads it as `last.pth`
# (CheckpointAliasHook).
test_dataloader = dict(dataset=dict(pipeline=val_pipeline))
val_dataloader = None
val_cfg = None
val_evaluator = None
default_hooks = dict(checkpoint=dict(save_best=None, interval=1))
# SyncBuffersHook as mmpose's runtime; best.pth / last.pth for the next stage's load_from; the frame window (none:
# single frame) in each checkpoint's meta, checked by tools/test.py
custom_hooks = [
    dict(type='SyncBuffersHook'),
    dict(type='CheckpointAliasHook'),
    dict(type='FrameWindowCheckpointHook'),
    dict(type='LossGuardHook'),  # stops at a NaN/inf loss or weight, before anything of it is saved
    dict(type='ExactResumeHook'),  # --resume repeats the uninterrupted run (and resumes stage 2 given load_from)
]
