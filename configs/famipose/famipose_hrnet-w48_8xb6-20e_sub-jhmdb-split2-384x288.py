# FAMI-Pose on Sub-JHMDB split 2: the split-1 recipe on split 2, from split 2's stage-1 model.
_base_ = ['./famipose_hrnet-w48_8xb6-20e_sub-jhmdb-split1-384x288.py']

load_from = 'work_dirs/td-hm_hrnet-w48_8xb64-20e_sub-jhmdb-split2-384x288/last.pth'
train_dataloader = dict(dataset=dict(split=2))
test_dataloader = dict(dataset=dict(split=2))
