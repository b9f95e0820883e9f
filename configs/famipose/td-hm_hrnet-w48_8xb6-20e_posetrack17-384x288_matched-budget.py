# The matched-budget control of famipose_hrnet-w48_8xb6-20e_posetrack17-384x288.py: the single-frame HRNet-W48 given
# the same extra training as FAMI-Pose's stage 2, so that extra epochs and head capacity are accounted for.  Same
# start (the stage-1 checkpoint), the same head as FAMI-Pose (three 3x3 convs before the heatmap layer, trained from
# scratch), the same optimizer, schedule, batch and epochs, tested the same way (detected boxes, no flip).  The
# backbone trains (FAMI-Pose's is frozen), so the control has at least the trainable capacity FAMI-Pose has.
# The other control, same model without temporal information: the FAMI-Pose config with
#   --cfg-options {train,val,test}_dataloader.dataset.static_support=True
_base_ = ['../stage1/td-hm_hrnet-w48_8xb64-20e_posetrack17-384x288.py']

# the stage-1 single-frame model, as for FAMI-Pose
load_from = 'work_dirs/td-hm_hrnet-w48_8xb64-20e_posetrack17-384x288/best.pth'

# FAMI-Pose's stage-2 recipe
train_cfg = dict(max_epochs=20, val_interval=1)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3, weight_decay=0.))
param_scheduler = [dict(type='MultiStepLR', begin=0, end=20, milestones=[8, 12, 16], gamma=0.1, by_epoch=True)]
auto_scale_lr = dict(base_batch_size=48)
train_dataloader = dict(batch_size=6)

model = dict(
    head=dict(conv_out_channels=(48, 48, 48), conv_kernel_sizes=(3, 3, 3)),
    test_cfg=dict(flip_test=False))
