# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Video inference APIs: video file / frame folder -> tracked poses."""
from ..model_inspection import (VideoWindow, build_crop_pipeline, check_checkpoint_compatibility,
                                check_temporal_weights, checkpoint_frame_offsets, checkpoint_window,
                                video_window_from_config)
from .crop_features import CropFeatureCache, CropFeatures, predict_with_cached_crops, window_crop_keys
from .frame_buffer import (Frame, FrameReader, FrameWindowBuffer, ImageFolderReader, VideoFileReader, WindowSample,
                           open_frame_reader, window_capacity)
from .inference_video import inference_video, init_video_model, iter_video_poses
from .person_sources import DetectionFilePersonSource, DetectorPersonSource, PersonBoxes, PersonSource
from .tracking import FramePeople, IoUTracker, TrackedFrames, bbox_iou_matrix
from .video_output import (AtomicVideoWriter, PoseTrack18PredictionWriter, build_pose_visualizer, draw_frame_poses,
                           render_video)

__all__ = [
    'init_video_model', 'inference_video', 'iter_video_poses', 'render_video',
    'video_window_from_config', 'VideoWindow', 'build_crop_pipeline',
    'check_checkpoint_compatibility', 'checkpoint_frame_offsets',
    'checkpoint_window', 'check_temporal_weights', 'Frame', 'FrameReader',
    'VideoFileReader', 'ImageFolderReader', 'open_frame_reader',
    'FrameWindowBuffer', 'WindowSample', 'window_capacity', 'PersonSource',
    'PersonBoxes', 'DetectorPersonSource', 'DetectionFilePersonSource',
    'IoUTracker', 'bbox_iou_matrix', 'AtomicVideoWriter',
    'PoseTrack18PredictionWriter', 'build_pose_visualizer', 'draw_frame_poses',
    'FramePeople', 'TrackedFrames', 'CropFeatures', 'CropFeatureCache',
    'predict_with_cached_crops', 'window_crop_keys'
]
