# FAMI-Pose (Liu et al., CVPR 2022), the authors' recipe, on PoseTrack18 (`%06d.jpg` frames from 0): the stage-1
# HRNet-W48 at 384x288 (../stage1/td-hm_hrnet-w48_8xb64-20e_posetrack18-384x288.py, inherited here), frozen from the
# stage-1 checkpoint; key frame t plus supporting frames t-2, t-1, t+1, t+2 cropped with the key frame's box;
# GTM (global affine) -> LCM (DCNv2) per supporting frame -> addition -> heatmap head; heatmap MSE + 0.5 * VSD-MI
# (beta 0.1, temperature 0.05). Adam 1e-3, x0.1 at epochs 8/12/16, 20 epochs, 48 key frames per batch (8 GPUs x 6),
# detected boxes with score >= 0.2 (stage 1's filter) and no flip at test.
# Paper: 82.2 mAP on PoseTrack18 val. PoseTrack17 (paper: 84.8): famipose_hrnet-w48_8xb6-20e_posetrack17-384x288.py.
_base_ = ['../stage1/td-hm_hrnet-w48_8xb64-20e_posetrack18-384x288.py']

# the stage-1 single-frame model: its best checkpoint under a fixed name (written by CheckpointAliasHook)
load_from = 'work_dirs/td-hm_hrnet-w48_8xb64-20e_posetrack18-384x288/best.pth'

# runtime: FAMI-Pose's stage-2 schedule replaces stage 1's
train_cfg = dict(max_epochs=20, val_interval=1)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3, weight_decay=0.))
param_scheduler = [dict(type='MultiStepLR', begin=0, end=20, milestones=[8, 12, 16], gamma=0.1, by_epoch=True)]
auto_scale_lr = dict(base_batch_size=48)

# model: stage 1's backbone and head (plus three 3x3 convs), with the temporal modules between them
model = dict(
    type='FAMIPose',
    data_preprocessor=dict(type='VideoPoseDataPreprocessor'),
    freeze_backbone=True,
    backbone_bn_train=False,  # True: BN running statistics drift as in the released code
    gtm=dict(type='GTM', in_channels=48, feat_size=(96, 72)),
    lcm=dict(type='LCM', in_channels=48, deform_groups=12, dilation=3),
    aggregation=dict(type='FeatureAggregation'),
    head=dict(conv_out_channels=(48, 48, 48), conv_kernel_sizes=(3, 3, 3)),
    # alpha 0.5, beta 0.1, T 0.05 as in the paper; the KL is taken per pixel ('pixelmean'), the scale of the heatmap
    # MSE and of the authors' F.kl_div(reduction='mean'), against which alpha was chosen
    mi_loss=dict(type='VSDMILoss', loss_weight=0.5, beta=0.1, temperature=0.05, reduction='pixelmean'),
    test_cfg=dict(flip_test=False))

# data: the video dataset gives every sample its supporting frames
dataset_type = 'PoseTrackVideoDataset'
frame_offsets = [-2, -1, 1, 2]
# One random draw for all frames.  The authors rotate by clip(N(0, 45), -90, 90) with p 0.6 and scale by
# clip(N(1, 0.35), 0.65, 1.35); mmpose draws from a normal truncated at one sigma (rotation within +-45).
train_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal', prob=0.5),
    dict(type='RandomHalfBody', prob=0.3),
    dict(type='RandomBBoxTransform', shift_prob=0., rotate_factor=45., rotate_prob=0.6, scale_factor=(0.65, 1.35)),
    dict(type='TopdownAffine', input_size={{_base_.codec.input_size}}),
    dict(type='GenerateTarget', encoder={{_base_.codec}}),
    dict(type='PackVideoPoseInputs'),
]
val_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size={{_base_.codec.input_size}}),
    dict(type='PackVideoPoseInputs'),
]
train_dataloader = dict(
    batch_size=6,
    num_workers=4,
    dataset=dict(type=dataset_type, frame_offsets=frame_offsets, border_policy='fami', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=6,
    num_workers=4,
    dataset=dict(type=dataset_type, frame_offsets=frame_offsets, border_policy='fami', pipeline=val_pipeline))
test_dataloader = val_dataloader
