# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
from .formatting import RECOMMENDED_VIDEO_META_KEYS, PackVideoPoseInputs
from .loading import LoadVideoFrames
from .video_topdown_affine import VideoTopdownAffine

__all__ = [
    'LoadVideoFrames', 'PackVideoPoseInputs', 'RECOMMENDED_VIDEO_META_KEYS',
    'VideoTopdownAffine'
]
