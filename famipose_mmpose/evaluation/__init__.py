from .posetrack_ap import (PoseTrackAP, PoseTrackFrame, PoseTrackPerson, PredictedPose, compute_ap,
                           evaluate_joint_subset_ap, evaluate_posetrack_ap, evaluate_posetrack_folders,
                           load_posetrack_folder, load_posetrack_video)
from .posetrack_metric import PoseTrackAPMetric

__all__ = [
    'PoseTrackAPMetric', 'PoseTrackAP', 'PoseTrackFrame', 'PoseTrackPerson',
    'PredictedPose', 'compute_ap', 'evaluate_joint_subset_ap', 'evaluate_posetrack_ap',
    'evaluate_posetrack_folders', 'load_posetrack_folder',
    'load_posetrack_video'
]
