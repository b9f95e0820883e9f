# Stage 2 of the embedded demo: FAMI-Pose on the synthetic PoseTrack18-format video set, key frame t plus supporting
# frames t-2, t-1, t+1, t+2 cropped with the key frame's box.  The backbone and the heatmap layer come from the
# stage-1 checkpoint (set `load_from`, as tools/run_demo.py does); the backbone is frozen, GTM, LCM and the heatmap
# layer train with the heatmap MSE plus the VSD mutual-information loss.
# Unlike the W48 configs (paper: a stack of 3x3 convs before the heatmap layer) the head here is exactly the stage-1
# head and the LCM's deformable convs start at zero, so that training starts from the stage-1 model itself
# (enhanced feature = key feature) and the short CPU schedule only has to learn what the supporting frames add.
_base_ = ['./td-hm_hrnet-tiny_1xb32-12e_synthposetrack-128x96.py']

load_from = None  # the stage-1 checkpoint, e.g. work_dirs/<stage 1>/best.pth (CheckpointAliasHook)

# the authors' recipe: Adam 1e-3, x0.1 at 2/3 and 4/5 of the schedule
train_cfg = dict(max_epochs=12, val_interval=4)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=50, start_factor=0.01, by_epoch=False),
    dict(type='MultiStepLR', begin=0, end=12, milestones=[8, 11], gamma=0.1, by_epoch=True),
]

codec = dict(type='MSRAHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=2)  # as in stage 1
feature_channels = 16  # the tiny HRNet's highest-resolution branch
frame_offsets = [-2, -1, 1, 2]

model = dict(
    _delete_=True,
    type='FAMIPose',
    data_preprocessor=dict(
        type='VideoPoseDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone={{_base_.model.backbone}},
    freeze_backbone=True,
    backbone_bn_train=False,
    # CPU: the frozen backbone runs on one batch of crops (32) per call instead of all 5 x 32 at once (same values,
    # about 2x faster here: the activations stay in cache); on a GPU set it to None
    backbone_chunk_size=32,
    gtm=dict(type='GTM', in_channels=feature_channels, feat_size=(32, 24), num_downsamples=3),
    lcm=dict(
        type='LCM',
        in_channels=feature_channels,
        deform_groups=4,
        dilation=3,
        init_cfg=dict(type='Constant', layer='ModulatedDeformConv2d', val=0.)),
    aggregation=dict(type='FeatureAggregation'),
    head=dict(
        type='HeatmapHead',
        in_channels=feature_channels,
        out_channels=17,
        deconv_out_channels=None,
        loss=dict(type='KeypointMSELoss', use_target_weight=True),
        decoder=codec),
    # alpha 0.5, beta 0.1, T 0.05 as in the paper; the KL is taken per pixel ('pixelmean'), the scale of the heatmap
    # MSE and of the authors' F.kl_div(reduction='mean'), against which alpha was chosen
    mi_loss=dict(type='VSDMILoss', loss_weight=0.5, beta=0.1, temperature=0.05, reduction='pixelmean'),
    test_cfg=dict(flip_test=False))

# data: the video dataset and frame loader; everything else is mmpose's stock top-down pipeline
dataset_type = 'PoseTrackVideoDataset'
train_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(type='RandomBBoxTransform'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackVideoPoseInputs'),
]
val_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackVideoPoseInputs'),
]
train_dataloader = dict(
    dataset=dict(
        type=dataset_type, frame_offsets=frame_offsets, border_policy='fami', pipeline=train_pipeline))
# val (model selection) and test (reported numbers) keep their base's split files and read them as videos
eval_dataset = dict(
    type=dataset_type,
    frame_offsets=frame_offsets,
    border_policy='fami',
    filter_cfg=dict(bbox_score_thr=0.2),
    pipeline=val_pipeline)
val_dataloader = dict(dataset=eval_dataset)
test_dataloader = dict(dataset=eval_dataset)
