# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Load the T frames of a video sample."""
from typing import List, Optional

import mmcv
import mmengine.fileio as fileio
import numpy as np
from mmpose.datasets.transforms import LoadImage
from mmpose.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadVideoFrames(LoadImage):
    """Load the key frame and the supporting frames of a video sample.

    Part of the FAMI-Pose data path (Liu et al., "Temporal Feature Alignment
    and Mutual Information Maximization for Video-Based Human Pose
    Estimation", CVPR 2022): the same crop is later cut from all T frames.
    mmpose's ``LoadImage`` rejects a list of paths; this transform reads the
    list ``results['frame_paths']`` (key frame first, as written by
    ``PoseTrackVideoDataset``/``JhmdbVideoDataset``) with ``LoadImage``'s
    options.

    After it, ``results['img']`` is a list of T arrays (H, W, 3) (BGR, uint8
    unless ``to_float32``), key frame first; ``img_path`` stays the key
    frame's path (a str); ``img_shape`` and ``ori_shape`` are the key frame's
    (h, w). mmpose's ``RandomFlip`` and ``TopdownAffine`` apply their single
    random draw / single warp matrix to every frame of the list, and
    ``PackPoseInputs`` stacks the list into a (T, 3, H, W) tensor.

    When ``results['img']`` is already a list of arrays (e.g. frames decoded
    by a video reader), it is checked and used as is.

    Required Keys:

        - frame_paths (list[str]; unless ``img`` is given as a list)
        - img_path (optional; must equal ``frame_paths[0]`` when present)

    Modified Keys:

        - img (list[np.ndarray])
        - img_shape
        - ori_shape
        - img_path

    Args:
        to_float32 (bool): Convert the frames to float32. Default: ``False``.
        color_type (str): ``flag`` of :func:`mmcv.imfrombytes`.
            Default: ``'color'``.
        imdecode_backend (str): Decoding backend of :func:`mmcv.imfrombytes`.
            Default: ``'cv2'``.
        file_client_args (dict, optional): Deprecated file client arguments
            (use ``backend_args``). Default: ``None``.
        ignore_empty (bool): Return ``None`` instead of raising when a frame
            cannot be read (the dataset then draws another sample in
            training). Default: ``False``.
        backend_args (dict, optional): File backend arguments
            (keyword-only). Default: ``None``.

    Raises:
        FileNotFoundError: a frame file is missing (the message names the
            video, the frame index and the path).
        ValueError: a frame cannot be decoded, or its size differs from the
            key frame's.
    """

    def transform(self, results: dict) -> Optional[dict]:
        """Load the T frames into ``results['img']``.

        Args:
            results (dict): The result dict.

        Returns:
            dict | None: The result dict, ``None`` when a frame cannot be read
            and ``ignore_empty=True``.
        """
        if isinstance(results.get('img'), (list, tuple)):
            frames = list(results['img'])
            if not frames or not all(
                    isinstance(f, np.ndarray) for f in frames):
                raise ValueError(
                    f'{self.__class__.__name__}: results["img"] must be a '
                    'non-empty list of np.ndarray frames (key frame first).')
            if self.to_float32:
                frames = [f.astype(np.float32) for f in frames]
            paths = results.get('frame_paths')
            if results.get('img_path') is None:
                results['img_path'] = paths[0] if paths else None
        else:
            paths = results.get('frame_paths')
            if not paths:
                raise KeyError(
                    f'{self.__class__.__name__} needs results["frame_paths"]'
                    ' (the T frame paths, key frame first), as written by '
                    'PoseTrackVideoDataset/JhmdbVideoDataset; use mmpose\'s '
                    'LoadImage for single-frame samples.')
            key_path = results.get('img_path')
            if key_path is not None and key_path != paths[0]:
                raise ValueError(
                    f'{self.__class__.__name__}: frame_paths[0] '
                    f'({paths[0]!r}) must be the key frame img_path '
                    f'({key_path!r}).')
            frames = []
            for t, path in enumerate(paths):
                frame = self._read_frame(path, t, results)
                if frame is None:
                    return None
                frames.append(frame)
            results['img_path'] = paths[0]

        key_shape = frames[0].shape[:2]
        for t, frame in enumerate(frames[1:], start=1):
            if frame.shape[:2] != key_shape:
                where = paths[t] if paths and t < len(paths) else f'frame {t}'
                raise ValueError(
                    f'{self.__class__.__name__}: frame {t} ({where!r}) of '
                    f'video {results.get("video")!r} is '
                    f'{frame.shape[1]}x{frame.shape[0]} (WxH) but the key '
                    f'frame ({results.get("img_path")!r}) is '
                    f'{key_shape[1]}x{key_shape[0]}; all frames of a video '
                    'must have the same size.')
        results['img'] = frames
        results['img_shape'] = key_shape
        results['ori_shape'] = key_shape
        return results

    def _read_frame(self, path: str, t: int,
                    results: dict) -> Optional[np.ndarray]:
        """Read frame ``t`` of the sample from ``path``."""
        where = self._describe(t, results)
        try:
            if self.file_client_args is not None:
                client = fileio.FileClient.infer_client(
                    self.file_client_args, path)
                img_bytes = client.get(path)
            else:
                img_bytes = fileio.get(path, backend_args=self.backend_args)
        except FileNotFoundError as err:
            if self.ignore_empty:
                return None
            raise FileNotFoundError(
                f'{self.__class__.__name__}: {where} is missing: expected '
                f'{path!r}.') from err
        img = mmcv.imfrombytes(
            img_bytes, flag=self.color_type, backend=self.imdecode_backend)
        if img is None:
            if self.ignore_empty:
                return None
            raise ValueError(f'{self.__class__.__name__}: {where} at '
                             f'{path!r} cannot be decoded as an image.')
        if self.to_float32:
            img = img.astype(np.float32)
        return img

    @staticmethod
    def _describe(t: int, results: dict) -> str:
        """Human-readable name of frame ``t`` of the sample."""
        indices: List[int] = results.get('frame_indices') or []
        offsets: List[int] = results.get('frame_offsets') or []
        parts = ['key frame' if t == 0 else f'supporting frame {t}']
        if t < len(indices):
            parts.append(f'(frame index {indices[t]}')
            if t < len(offsets):
                parts[-1] += f', offset {offsets[t]:+d}'
            parts[-1] += ')'
        if results.get('video') is not None:
            parts.append(f'of video {results["video"]!r}')
        return ' '.join(parts)
