# FAMI-Pose on Sub-JHMDB split 3: the split-1 recipe on split 3, from split 3's stage-1 model.
_base_ = ['./famipose_hrnet-w48_8xb6-20e_sub-jhmdb-split1-384x288.py']

load_from = 'work_dirs/td-hm_hrnet-w48_8xb64-20e_sub-jhmdb-split3-384x288/last.pth'
train_dataloader = dict(dataset=dict(split=3))
test_dataloader = dict(dataset=dict(split=3))
