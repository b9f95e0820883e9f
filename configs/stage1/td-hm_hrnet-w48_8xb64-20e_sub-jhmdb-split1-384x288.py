# Stage 1 for Sub-JHMDB split 1 (15 joints): single-frame HRNet-W48 at 384x288, PCK@0.2 (mmpose's JhmdbPCKAccuracy).
# Splits 2 and 3: change the two `ann_file`s (annotations/Sub{2,3}_{train,test}.json).
_base_ = ['mmpose::body_2d_keypoint/topdown_heatmap/jhmdb/td-hm_res50_8xb64-20e_jhmdb-sub1-256x256.py']

custom_imports = dict(imports=['famipose_mmpose'], allow_failed_imports=False)
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
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# Sub-JHMDB has a train and a test split only: nothing is validated (choosing the best epoch on the split that is
# reported would inflate it); the model of the last epoch is tested, `epoch_20.pth`, which FAMI-Pose loads.
test_dataloader = dict(dataset=dict(pipeline=val_pipeline))
val_dataloader = None
val_cfg = None
val_evaluator = None
default_hooks = dict(checkpoint=dict(save_best=None, interval=1))
