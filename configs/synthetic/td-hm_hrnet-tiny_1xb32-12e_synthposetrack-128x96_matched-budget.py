# The matched-budget control of the embedded demo: the single-frame model given the same extra training as
# FAMI-Pose's stage 2.  It starts from the same stage-1 checkpoint (set `load_from`, as tools/run_demo.py does) and
# trains for the same epochs with FAMI-Pose's stage-2 optimizer and schedule, on the same key frames.  FAMI-Pose's
# synthetic head is exactly the stage-1 head (no extra head layers), so the model is the stage-1 model; its backbone
# is NOT frozen here (FAMI-Pose's is), which gives the control at least the trainable capacity FAMI-Pose trains.
# If FAMI-Pose beats this model, its gain is not extra epochs.  (Capacity at fixed information is the other control:
# FAMI-Pose with `static_support=True`, every supporting frame replaced by the key frame.)
_base_ = ['./td-hm_hrnet-tiny_1xb32-12e_synthposetrack-128x96.py']

load_from = None  # the stage-1 checkpoint, e.g. work_dirs/<stage 1>/best.pth

# FAMI-Pose's stage 2 (famipose_hrnet-tiny_1xb32-12e_synthposetrack-128x96.py): Adam 1e-3, x0.1 at 2/3 and 11/12
train_cfg = dict(max_epochs=12, val_interval=4)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=50, start_factor=0.01, by_epoch=False),
    dict(type='MultiStepLR', begin=0, end=12, milestones=[8, 11], gamma=0.1, by_epoch=True),
]
