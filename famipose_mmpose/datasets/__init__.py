# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
from .frame_window import (FrameNaming, check_frame_offsets,
                           nearest_existing_frame, resolve_window,
                           sample_random_offsets)
from .jhmdb_video_dataset import JhmdbVideoDataset
from .posetrack_video_dataset import (RECOMMENDED_VIDEO_META_KEYS,
                                      VIDEO_META_KEYS, PoseTrackVideoDataset)
from .transforms import LoadVideoFrames

__all__ = [
    'PoseTrackVideoDataset', 'JhmdbVideoDataset', 'LoadVideoFrames',
    'FrameNaming', 'check_frame_offsets', 'resolve_window',
    'sample_random_offsets', 'nearest_existing_frame', 'VIDEO_META_KEYS',
    'RECOMMENDED_VIDEO_META_KEYS'
]
