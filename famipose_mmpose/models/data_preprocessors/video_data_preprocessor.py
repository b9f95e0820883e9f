# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Batch video samples (T, 3, H, W) into a normalised (B, T, 3, H, W)
tensor."""
import math
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmpose.models.data_preprocessors import PoseDataPreprocessor
from mmpose.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class VideoPoseDataPreprocessor(PoseDataPreprocessor):
    """Data preprocessor for video top-down pose estimation.

    Feeds FAMI-Pose (Liu et al., "Temporal Feature Alignment and Mutual
    Information Maximization for Video-Based Human Pose Estimation", CVPR
    2022), whose input is (B, T, 3, H, W) with ``inputs[:, 0]`` the key frame
    and ``inputs[:, 1:]`` the supporting frames. mmpose's
    ``PoseDataPreprocessor`` cannot take (T, 3, H, W) samples: it swaps
    channels on dim 0 (the frame axis) and its normalisation asserts a
    (3, H, W) input. Here every frame is normalised on its own channel axis:

    - each sample is (T, 3, H, W) (as ``PackPoseInputs`` stacks the frames
      of ``LoadVideoFrames``) or a plain (3, H, W) image;
    - ``bgr_to_rgb``/``rgb_to_bgr`` reverse the channel axis (dim -3);
    - ``(x - mean) / std`` per channel, the same for every frame;
    - samples are padded (after normalisation, with ``pad_value``) to the
      largest H, W of the batch rounded up to ``pad_size_divisor``, then
      stacked: (B, T, 3, H, W) for video samples, (B, 3, H, W) for plain
      images (T = 1, single-frame models). A (1, 3, H, W) sample stays a
      one-frame video: (B, 1, 3, H, W).

    All samples of a batch must have the same number of frames T. Like the
    stock preprocessor it sets ``batch_input_shape`` and ``pad_shape`` in
    each data sample's metainfo. ``batch_augments`` (mmpose batch transforms
    on (B, 3, H, W)) run only on plain-image batches.

    Example::

        data_preprocessor = dict(
            type='VideoPoseDataPreprocessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True)

    Args:
        mean (Sequence[float], optional): Per-channel mean (of the channels
            after the colour conversion). ``None`` disables normalisation.
            Default: ``None``.
        std (Sequence[float], optional): Per-channel standard deviation.
            Default: ``None``.
        pad_size_divisor (int): Padded H and W are multiples of it.
            Default: ``1``.
        pad_value (float | int): Value of the padded pixels (in normalised
            units). Default: ``0``.
        bgr_to_rgb (bool): Convert BGR frames to RGB. Default: ``False``.
        rgb_to_bgr (bool): Convert RGB frames to BGR. Default: ``False``.
        non_blocking (bool, optional): Non-blocking device transfer.
            Default: ``False``.
        batch_augments (list[dict], optional): Batch augmentations for
            plain-image batches. Default: ``None``.
    """

    def __init__(self,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 pad_size_divisor: int = 1,
                 pad_value: Union[float, int] = 0,
                 bgr_to_rgb: bool = False,
                 rgb_to_bgr: bool = False,
                 non_blocking: Optional[bool] = False,
                 batch_augments: Optional[List[dict]] = None) -> None:
        if bgr_to_rgb and rgb_to_bgr:
            raise ValueError(
                f'{self.__class__.__name__}: bgr_to_rgb and rgb_to_bgr '
                'cannot both be True.')
        if (mean is None) != (std is None):
            raise ValueError(
                f'{self.__class__.__name__}: give both mean and std (got '
                f'mean={mean!r}, std={std!r}), or neither.')
        for name, value in (('mean', mean), ('std', std)):
            if value is not None and len(value) not in (1, 3):
                raise ValueError(
                    f'{self.__class__.__name__}: {name} must have 1 or 3 '
                    f'values, got {list(value)!r}.')
        if not isinstance(pad_size_divisor, int) or pad_size_divisor < 1:
            raise ValueError(f'{self.__class__.__name__}: pad_size_divisor '
                             f'must be a positive int, got '
                             f'{pad_size_divisor!r}.')
        super().__init__(
            mean=mean,
            std=std,
            pad_size_divisor=pad_size_divisor,
            pad_value=pad_value,
            bgr_to_rgb=bgr_to_rgb,
            rgb_to_bgr=rgb_to_bgr,
            non_blocking=non_blocking,
            batch_augments=batch_augments)

    def forward(self, data: dict, training: bool = False) -> dict:
        """Stack, convert, normalise and pad a batch.

        Args:
            data (dict): ``inputs``: a list of B tensors (T, 3, H, W) or
                (3, H, W) (``pseudo_collate``), or one tensor (B, T, 3, H, W)
                or (B, 3, H, W) (``default_collate``); ``data_samples``.
            training (bool): Whether batch augmentations may run.

        Returns:
            dict: ``inputs``: float tensor (B, T, 3, H', W') or
            (B, 3, H', W'); ``data_samples`` with ``batch_input_shape`` and
            ``pad_shape`` set.
        """
        data = self.cast_data(data)
        samples = self._split_samples(data['inputs'])
        frame_dims = {s.dim() for s in samples}
        if len(frame_dims) != 1:
            raise ValueError(
                f'{self.__class__.__name__}: a batch mixes video samples '
                '(T, C, H, W) and plain images (C, H, W): '
                f'{[tuple(s.shape) for s in samples]}.')
        if frame_dims == {4} and len({s.shape[0] for s in samples}) != 1:
            raise ValueError(
                f'{self.__class__.__name__}: the samples of a batch have '
                f'different numbers of frames T: '
                f'{[tuple(s.shape) for s in samples]}; use the same '
                '`frame_offsets` for every sample of a dataset.')

        normalised = [self._normalise(s) for s in samples]
        max_h = max(s.shape[-2] for s in normalised)
        max_w = max(s.shape[-1] for s in normalised)
        target_h = math.ceil(max_h / self.pad_size_divisor) * \
            self.pad_size_divisor
        target_w = math.ceil(max_w / self.pad_size_divisor) * \
            self.pad_size_divisor
        padded = [
            F.pad(s, (0, target_w - s.shape[-1], 0, target_h - s.shape[-2]),
                  'constant', self.pad_value) for s in normalised
        ]
        inputs = torch.stack(padded)

        data_samples = data.get('data_samples')
        if data_samples is not None:
            batch_input_shape = (target_h, target_w)
            for sample, data_sample in zip(samples, data_samples):
                data_sample.set_metainfo({
                    'batch_input_shape':
                    batch_input_shape,
                    'pad_shape':
                    self._pad_shape(sample.shape[-2:])
                })

        if training and self.batch_augments is not None:
            if inputs.dim() != 4:
                raise ValueError(
                    f'{self.__class__.__name__}: batch_augments work on '
                    '(B, 3, H, W) batches; this batch is (B, T, 3, H, W) = '
                    f'{tuple(inputs.shape)}. Remove batch_augments for video '
                    'models.')
            for batch_aug in self.batch_augments:
                inputs, data_samples = batch_aug(inputs, data_samples)

        return {'inputs': inputs, 'data_samples': data_samples}

    def _split_samples(
            self, inputs: Union[Tensor, Sequence[Tensor]]) -> List[Tensor]:
        """The samples of a batch as a list of (T, C, H, W) or (C, H, W)."""
        if isinstance(inputs, Tensor):
            if inputs.dim() not in (4, 5):
                raise ValueError(
                    f'{self.__class__.__name__}: a collated batch must be '
                    '(B, T, C, H, W) or (B, C, H, W), got '
                    f'{tuple(inputs.shape)}.')
            samples = list(inputs)
        elif isinstance(inputs, Sequence) and inputs and all(
                isinstance(s, Tensor) for s in inputs):
            samples = list(inputs)
        else:
            raise TypeError(
                f'{self.__class__.__name__}: data["inputs"] must be a tensor '
                'or a non-empty list of tensors, got '
                f'{type(inputs).__name__}.')
        for sample in samples:
            if sample.dim() not in (3, 4):
                raise ValueError(
                    f'{self.__class__.__name__}: a sample must be '
                    '(T, C, H, W) or (C, H, W), got '
                    f'{tuple(sample.shape)}.')
        return samples

    def _normalise(self, sample: Tensor) -> Tensor:
        """Colour conversion and per-channel normalisation on dim -3.

        Args:
            sample (Tensor): (T, C, H, W) or (C, H, W), any dtype.

        Returns:
            Tensor: float tensor of the same shape.
        """
        channels = sample.shape[-3]
        if self._channel_conversion:
            if channels != 3:
                raise ValueError(
                    f'{self.__class__.__name__}: bgr_to_rgb/rgb_to_bgr need '
                    f'3 channels on dim -3, got a sample of shape '
                    f'{tuple(sample.shape)}.')
            sample = sample.flip(-3)
        sample = sample.float()
        if self._enable_normalize:
            if self.mean.shape[0] == 3 and channels != 3:
                raise ValueError(
                    f'{self.__class__.__name__}: mean/std have 3 values but '
                    f'a sample of shape {tuple(sample.shape)} has {channels} '
                    'channels on dim -3.')
            sample = (sample - self.mean) / self.std
        return sample

    def _pad_shape(self, size: Tuple[int, int]) -> Tuple[int, int]:
        """(h, w) of one sample padded to ``pad_size_divisor``."""
        h, w = int(size[0]), int(size[1])
        d = self.pad_size_divisor
        return math.ceil(h / d) * d, math.ceil(w / d) * d
