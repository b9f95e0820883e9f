# Stage 1 for PoseTrack18: mmpose's single-frame HRNet-W48 (COCO-pretrained, fine-tuned on PoseTrack18), evaluated
# with this project's PoseTrack AP (mmpose's PoseTrack18Metric needs poseval; its save_best key does not exist).
# Its checkpoint is the `load_from` of famipose_hrnet-w48_8xb6-20e_posetrack18-384x288.py.
_base_ = ['mmpose::body_2d_keypoint/topdown_heatmap/posetrack18/td-hm_hrnet-w48_8xb64-20e_posetrack18-384x288.py']

custom_imports = dict(imports=['famipose_mmpose'], allow_failed_imports=False)
data_root = 'data/posetrack18/'

default_hooks = dict(checkpoint=dict(save_best='posetrack/Total AP', rule='greater', interval=1))
# SyncBuffersHook as mmpose's runtime; best.pth / last.pth for the next stage's load_from; the frame window (none:
# single frame) in each checkpoint's meta, checked by tools/test.py
custom_hooks = [
    dict(type='SyncBuffersHook'),
    dict(type='CheckpointAliasHook'),
    dict(type='FrameWindowCheckpointHook'),
    dict(type='LossGuardHook'),  # stops at a NaN/inf loss or weight, before anything of it is saved
    dict(type='ExactResumeHook'),  # --resume repeats the uninterrupted run (and resumes stage 2 given load_from)
]
# tested as FAMI-Pose is (the paper, the authors' code): no flip, so the two numbers compare like for like (mmpose's
# recipe flips; `--cfg-options model.test_cfg.flip_test=True` gives its number)
model = dict(test_cfg=dict(flip_test=False))
# detected boxes with score >= 0.2, as FAMI-Pose is tested
# persistent_workers=False: workers restart each epoch, reseeded by ExactResumeHook, so --resume is exact
train_dataloader = dict(persistent_workers=False)
val_dataloader = dict(dataset=dict(filter_cfg=dict(bbox_score_thr=0.2)))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='PoseTrackAPMetric', gt_dir=data_root + 'annotations/val/')
test_evaluator = val_evaluator
