# FAMI-Pose (Liu et al., CVPR 2022) on PoseTrack17, the authors' recipe: HRNet-W48 at 384x288 frozen from the
# stage-1 checkpoint, key frame t plus supporting frames t-2, t-1, t+1, t+2 cropped with the key frame's box,
# GTM (global affine) -> LCM (DCNv2) per supporting frame -> addition -> heatmap head; heatmap MSE + 0.5 * VSD-MI
# (beta 0.1, temperature 0.05). Adam 1e-3, x0.1 at epochs 8/12/16, 20 epochs, 48 key frames per batch (8 GPUs x 6),
# detected boxes with score >= 0.2 and no flip at test.
# Paper: 84.8 mAP on PoseTrack17 val (poseval, detected boxes).
_base_ = ['mmpose::_base_/default_runtime.py']

custom_imports = dict(imports=['famipose_mmpose'], allow_failed_imports=False)

# the stage-1 single-frame model trained with ../stage1/td-hm_hrnet-w48_8xb64-20e_posetrack17-384x288.py
load_from = 'work_dirs/td-hm_hrnet-w48_8xb64-20e_posetrack17-384x288/best_posetrack_Total AP_epoch_20.pth'

# runtime
train_cfg = dict(max_epochs=20, val_interval=1)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3, weight_decay=0.))
param_scheduler = [dict(type='MultiStepLR', begin=0, end=20, milestones=[8, 12, 16], gamma=0.1, by_epoch=True)]
auto_scale_lr = dict(base_batch_size=48)
default_hooks = dict(checkpoint=dict(save_best='posetrack/Total AP', rule='greater', interval=1))

# codec
codec = dict(type='MSRAHeatmap', input_size=(288, 384), heatmap_size=(72, 96), sigma=3)

# model
model = dict(
    type='FAMIPose',
    data_preprocessor=dict(
        type='VideoPoseDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
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
    freeze_backbone=True,
    backbone_bn_train=False,  # True: BN running statistics drift as in the released code
    gtm=dict(type='GTM', in_channels=48, feat_size=(96, 72), mode='affine'),
    lcm=dict(type='LCM', in_channels=48, layout='per_frame', deform_groups=12, dilation=3),
    aggregation=dict(type='FeatureAggregation', mode='sum'),
    head=dict(
        type='HeatmapHead',
        in_channels=48,
        out_channels=17,
        deconv_out_channels=None,
        conv_out_channels=(48, 48, 48),
        conv_kernel_sizes=(3, 3, 3),
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=codec),
    # alpha 0.5, beta 0.1, T 0.05 as in the paper; the KL is taken per pixel ('pixelmean'), the scale of the heatmap
    # MSE and of the authors' F.kl_div(reduction='mean'), against which alpha was chosen
    mi_loss=dict(type='VSDMILoss', loss_weight=0.5, beta=0.1, temperature=0.05, reduction='pixelmean'),
    test_cfg=dict(flip_test=False))

# data
dataset_type = 'PoseTrackVideoDataset'
data_root = 'data/posetrack17/'
frame_offsets = [-2, -1, 1, 2]
meta_keys = ('id', 'img_id', 'img_path', 'category_id', 'crowd_index', 'ori_shape', 'img_shape', 'input_size',
             'input_center', 'input_scale', 'flip', 'flip_direction', 'flip_indices', 'raw_ann_info', 'dataset_name',
             'frame_paths', 'frame_offsets', 'frame_indices', 'video', 'frame_index', 'nframes')
# One random draw for all frames.  The authors rotate by clip(N(0, 45), -90, 90) with p 0.6 and scale by
# clip(N(1, 0.35), 0.65, 1.35); mmpose draws from a normal truncated at one sigma (rotation within +-45).
train_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal', prob=0.5),
    dict(type='RandomHalfBody', prob=0.3),
    dict(type='RandomBBoxTransform', shift_prob=0., rotate_factor=45., rotate_prob=0.6, scale_factor=(0.65, 1.35)),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs', meta_keys=meta_keys),
]
val_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs', meta_keys=meta_keys),
]
train_dataloader = dict(
    batch_size=6,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/posetrack17_train.json',
        data_prefix=dict(img=''),
        frame_offsets=frame_offsets,
        border_policy='fami',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=6,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/posetrack17_val.json',
        bbox_file=data_root + 'annotations/posetrack17_val_human_detections.json',
        det_bbox_thr=0.2,
        data_prefix=dict(img=''),
        frame_offsets=frame_offsets,
        border_policy='fami',
        test_mode=True,
        pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='PoseTrackAPMetric',
    gt_dir=data_root + 'annotations/val/',
    output_format='posetrack17',
    joint_score_mode='keypoint_x_bbox',
    nms_mode='none')
test_evaluator = val_evaluator
