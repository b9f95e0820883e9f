# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
from .frame_window import (FrameNaming, check_frame_offsets, nearest_existing_frame, resolve_window,
                           sample_random_offsets)
from .jhmdb_video_dataset import JhmdbVideoDataset
from .posetrack_video_dataset import SUPPORTING_BOX_FIELDS, VIDEO_META_KEYS, PoseTrackVideoDataset
from .transforms import RECOMMENDED_VIDEO_META_KEYS, LoadVideoFrames, PackVideoPoseInputs, VideoTopdownAffine

__all__ = [
    'PoseTrackVideoDataset', 'JhmdbVideoDataset', 'LoadVideoFrames',
    'PackVideoPoseInputs', 'FrameNaming', 'check_frame_offsets',
    'resolve_window', 'sample_random_offsets', 'nearest_existing_frame',
    'VIDEO_META_KEYS', 'RECOMMENDED_VIDEO_META_KEYS', 'SUPPORTING_BOX_FIELDS',
    'VideoTopdownAffine'
]
