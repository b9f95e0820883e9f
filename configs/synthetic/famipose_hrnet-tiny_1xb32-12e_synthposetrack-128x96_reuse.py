# FAMI-Pose in its reuse mode on the synthetic demo data: the FAMI-Pose config of the demo with every supporting
# frame cropped with the same person's own box in that frame (not the key frame's box), the supporting features
# resampled into the key crop's coordinates by the known geometry of the two crops before GTM and LCM.  On a video
# each (person, frame) crop then goes through the backbone once and serves every key frame whose window holds it
# (famipose_mmpose.apis.iter_video_poses, tools/video_demo.py).  Trained the way it runs: in training the
# supporting boxes are the person's ground-truth boxes (by track id) moved and rescaled as a detector's boxes are,
# at test the detections linked to the key box by IoU; the key box where the person has no box in a frame.
_base_ = ['./famipose_hrnet-tiny_1xb32-12e_synthposetrack-128x96.py']

model = dict(supporting_crops='own_box')

train_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(type='RandomBBoxTransform'),
    # one augmentation draw for all frames, each frame cropped around its own box
    dict(type='VideoTopdownAffine', input_size={{_base_.codec.input_size}}),
    dict(type='GenerateTarget', encoder={{_base_.codec}}),
    dict(type='PackVideoPoseInputs'),
]
val_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='GetBBoxCenterScale'),
    dict(type='VideoTopdownAffine', input_size={{_base_.codec.input_size}}),
    dict(type='PackVideoPoseInputs'),
]
train_dataloader = dict(dataset=dict(supporting_boxes='track', pipeline=train_pipeline))
eval_dataset = dict(supporting_boxes='track', pipeline=val_pipeline)
val_dataloader = dict(dataset=eval_dataset)
test_dataloader = dict(dataset=eval_dataset)
