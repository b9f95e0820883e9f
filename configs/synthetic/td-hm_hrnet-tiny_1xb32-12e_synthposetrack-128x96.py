# Stage 1 of the embedded demo: a single-frame top-down HRNet (tiny widths, CPU-sized) trained on the synthetic
# PoseTrack18-format video set written by tools/generate_synthetic_posetrack.py.  Stock mmpose components only,
# except the PoseTrack AP metric (mmpose's own needs poseval).  Its checkpoint initialises the frozen backbone and the
# shared heatmap layer of famipose_hrnet-tiny_1xb32-12e_synthposetrack-128x96.py.
_base_ = ['mmpose::_base_/default_runtime.py']

custom_imports = dict(imports=['famipose_mmpose'], allow_failed_imports=False)

# runtime
train_cfg = dict(max_epochs=12, val_interval=4)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=2e-3))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=100, start_factor=0.01, by_epoch=False),
    dict(type='MultiStepLR', begin=0, end=12, milestones=[8, 11], gamma=0.1, by_epoch=True),
]
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(type='CheckpointHook', interval=4, save_best='posetrack/Total AP', rule='greater',
                    max_keep_ckpts=1))
# SyncBuffersHook keeps BN statistics equal across processes (no-op on one); best.pth / last.pth for stage 2;
# FrameWindowCheckpointHook records the frame window in each checkpoint's meta and checks it in tools/test.py
custom_hooks = [
    dict(type='SyncBuffersHook'),
    dict(type='CheckpointAliasHook'),
    dict(type='FrameWindowCheckpointHook'),
    dict(type='LossGuardHook'),  # stops at a NaN/inf loss or weight, before anything of it is saved
    dict(type='ExactResumeHook'),  # --resume repeats the uninterrupted run (and resumes stage 2 given load_from)
]
env_cfg = dict(mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0))

# codec
codec = dict(type='MSRAHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=2)

# model: HRNet with 16/32/64/128 channels and one module per stage (about 0.4 M parameters)
model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(
        type='HRNet',
        in_channels=3,
        extra=dict(
            stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(2, ), num_channels=(32, )),
            stage2=dict(num_modules=1, num_branches=2, block='BASIC', num_blocks=(2, 2), num_channels=(16, 32)),
            stage3=dict(
                num_modules=1, num_branches=3, block='BASIC', num_blocks=(2, 2, 2), num_channels=(16, 32, 64)),
            stage4=dict(
                num_modules=1,
                num_branches=4,
                block='BASIC',
                num_blocks=(2, 2, 2, 2),
                num_channels=(16, 32, 64, 128)))),
    head=dict(
        type='HeatmapHead',
        in_channels=16,
        out_channels=17,
        deconv_out_channels=None,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=codec),
    test_cfg=dict(flip_test=False))

# data
dataset_type = 'PoseTrack18Dataset'
data_root = 'data/synthetic_posetrack/'
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(type='RandomBBoxTransform'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=1,
    persistent_workers=False,  # workers restart each epoch, reseeded by ExactResumeHook: --resume is exact
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode='topdown',
        ann_file='annotations/posetrack18_train.json',
        data_prefix=dict(img=''),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=1,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_mode='topdown',
        ann_file='annotations/posetrack18_val.json',
        bbox_file=data_root + 'annotations/posetrack18_val_human_detections.json',
        filter_cfg=dict(bbox_score_thr=0.2),
        data_prefix=dict(img=''),
        test_mode=True,
        pipeline=val_pipeline))
# model selection (save_best) looks at val only; the reported numbers come from the held-out test split, which no
# training or validation setting reads
test_dataloader = dict(
    val_dataloader,
    dataset=dict(
        val_dataloader['dataset'],
        ann_file='annotations/posetrack18_test.json',
        bbox_file=data_root + 'annotations/posetrack18_test_human_detections.json'))
val_evaluator = dict(type='PoseTrackAPMetric', gt_dir=data_root + 'annotations/val/')
test_evaluator = dict(type='PoseTrackAPMetric', gt_dir=data_root + 'annotations/test/')
