# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Small helpers shared by the datasets, the metric, the video APIs and the
tools (plain Python and numpy; nothing here registers anything)."""
from .boxes import bbox_iou_matrix
from .detection_file import PersonDetection, load_detection_file
from .frames import frame_file_key

__all__ = [
    'bbox_iou_matrix', 'PersonDetection', 'load_detection_file',
    'frame_file_key'
]
