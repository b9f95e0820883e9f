# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Pack a video sample: mmpose's ``PackPoseInputs`` with the video fields in
the metainfo."""
import inspect
from typing import Sequence

from mmpose.datasets.transforms import PackPoseInputs
from mmpose.registry import TRANSFORMS

from ..posetrack_video_dataset import VIDEO_META_KEYS

#: mmpose's default ``PackPoseInputs`` meta keys followed by
#: :data:`~famipose_mmpose.datasets.VIDEO_META_KEYS`: the default
#: ``meta_keys`` of :class:`PackVideoPoseInputs`.
RECOMMENDED_VIDEO_META_KEYS = tuple(
    inspect.signature(PackPoseInputs.__init__).parameters['meta_keys'].default
) + VIDEO_META_KEYS


@TRANSFORMS.register_module()
class PackVideoPoseInputs(PackPoseInputs):
    """mmpose's ``PackPoseInputs`` whose default meta keys include the video
    fields of ``PoseTrackVideoDataset``/``JhmdbVideoDataset`` samples.

    Part of the FAMI-Pose data path (Liu et al., "Temporal Feature Alignment
    and Mutual Information Maximization for Video-Based Human Pose
    Estimation", CVPR 2022). Packing is mmpose's: the list of T frames
    becomes a (T, 3, H, W) tensor, the targets and instances go where mmpose
    puts them. Only the default ``meta_keys`` differ: mmpose's defaults
    followed by ``frame_paths``, ``frame_offsets``, ``frame_indices``,
    ``video``, ``frame_index`` and ``nframes``
    (:data:`RECOMMENDED_VIDEO_META_KEYS`), so that a video config writes
    ``dict(type='PackVideoPoseInputs')`` and a new video field is listed
    once, in ``VIDEO_META_KEYS``. Keys absent from a sample are skipped, as
    mmpose does.

    Args:
        meta_keys (Sequence[str]): Keys of the results stored in the data
            sample's metainfo. Default: :data:`RECOMMENDED_VIDEO_META_KEYS`.
        pack_transformed (bool): Also pack ``transformed_keypoints`` (for
            browsing the augmentation). Default: ``False``.
    """

    def __init__(self,
                 meta_keys: Sequence[str] = RECOMMENDED_VIDEO_META_KEYS,
                 pack_transformed: bool = False) -> None:
        super().__init__(
            meta_keys=meta_keys, pack_transformed=pack_transformed)
