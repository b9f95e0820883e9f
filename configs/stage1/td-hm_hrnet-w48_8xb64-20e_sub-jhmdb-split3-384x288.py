# Stage 1 for Sub-JHMDB split 3: the split-1 recipe on split 3's train and test lists.
_base_ = ['./td-hm_hrnet-w48_8xb64-20e_sub-jhmdb-split1-384x288.py']

train_dataloader = dict(dataset=dict(ann_file='annotations/Sub3_train.json'))
test_dataloader = dict(dataset=dict(ann_file='annotations/Sub3_test.json'))
