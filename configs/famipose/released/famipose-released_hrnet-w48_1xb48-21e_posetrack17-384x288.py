# FAMI-Pose on PoseTrack17 as the authors' released code builds and trains it (Pose-Group/FAMI-Pose, config
# `Alignment_V15`), from the paper's recipe in ../famipose_hrnet-w48_8xb6-20e_posetrack17-384x288.py with what the
# released code does differently (see the README's comparison table and famipose_mmpose/models/released/):
# - GTM: translation (tx, ty) regressed from `sup - key`, no activation between the Linear layers;
# - LCM: the 4 GTM outputs are fused first (2 BasicBlocks, 192 -> 48), then 4 dilated deformable convs, raw masks;
# - aggregation: concatenation [key, calibrated] + 3 BasicBlocks (96 -> 48), then one 3x3 conv -> 17 heatmaps;
# - MI loss: the released formula (F.kl_div fed probabilities, y = the network's own heatmaps), numerically stable;
# - the frozen backbone's BN layers stay in train mode (running statistics drift);
# - Adam 1e-3, x0.1 at epochs 8/12/16, 21 epochs, 48 key frames per batch on 1 GPU.
# The authors report 84.8 mAP for the paper's model; users of the released code report 82.2.
_base_ = ['../famipose_hrnet-w48_8xb6-20e_posetrack17-384x288.py']

# runtime
train_cfg = dict(max_epochs=21)
param_scheduler = [dict(type='MultiStepLR', begin=0, end=21, milestones=[8, 12, 16], gamma=0.1, by_epoch=True)]

# model
model = dict(
    backbone_bn_train=True,
    gtm=dict(_delete_=True, type='ReleasedGTM', in_channels=48, feat_size=(96, 72)),
    lcm=dict(
        _delete_=True, type='ReleasedLCM', in_channels=48, num_supporting=4, num_fuse_blocks=2, deform_groups=12,
        dilation=3),
    aggregation=dict(_delete_=True, type='ConcatFeatureAggregation', in_channels=48, num_inputs=2, num_blocks=3),
    # no conv stack before the heatmap layer: the released head is one 3x3 conv (it does not load the stage-1
    # checkpoint's 1x1 heatmap layer and starts from its initialisation)
    head=dict(conv_out_channels=None, conv_kernel_sizes=None, final_layer=dict(kernel_size=3, padding=1)),
    mi_loss=dict(_delete_=True, type='ReleasedVSDMILoss', loss_weight=0.5, beta=0.1, temperature=0.05))

# data: 1 GPU x 48 key frames
train_dataloader = dict(batch_size=48)
