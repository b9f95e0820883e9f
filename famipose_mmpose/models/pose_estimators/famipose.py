# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""The FAMI-Pose video top-down pose estimator."""
from typing import NamedTuple, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, OptConfigType, OptMultiConfig, SampleList
from torch import Tensor, nn

from ..released.legacy_config import upgrade_legacy_cfg

#: How the supporting crops of a sample are cut (``FAMIPose(supporting_crops=
#: ...)``): ``'key_box'``, the paper's (every frame cropped with the key
#: frame's box), or ``'own_box'``, the reuse mode (every frame cropped with
#: the person's own box in that frame, the features resampled into the key
#: crop's coordinates).
SUPPORTING_CROPS = ('key_box', 'own_box')

#: Key of the crop geometry in a data sample's metainfo (``own_box`` mode):
#: (T, 2, 3) affine maps from key-crop pixel coordinates to each frame's
#: crop pixel coordinates, key frame first (written by
#: ``VideoTopdownAffine``).
CROP_WARPS_KEY = 'frame_crop_warps'


def _homogeneous(mats: Tensor) -> Tensor:
    """(..., 2, 3) affine matrices as (..., 3, 3)."""
    last = mats.new_tensor([0., 0., 1.]).expand(*mats.shape[:-2], 1, 3)
    return torch.cat([mats, last], dim=-2)


def mirror_crop_warps(crop_warps: Tensor, crop_width: int) -> Tensor:
    """The crop warps of horizontally flipped crops (``inputs.flip(-1)``).

    A flip maps crop pixel ``x`` to ``crop_width - 1 - x`` in every crop, so
    a warp ``M`` between two crops becomes ``F M F``.

    Args:
        crop_warps (Tensor): (..., 2, 3) key-crop -> frame-crop pixel maps.
        crop_width (int): Width W of the crops.

    Returns:
        Tensor: (..., 2, 3) the same maps between the flipped crops.
    """
    flip = crop_warps.new_tensor([[-1., 0., crop_width - 1.], [0., 1., 0.],
                                  [0., 0., 1.]])
    return (flip @ _homogeneous(crop_warps) @ flip)[..., :2, :]


def crop_warps_to_theta(crop_warps: Tensor, input_size: Sequence[int],
                        feat_size: Sequence[int]) -> Tensor:
    """``F.affine_grid`` matrices (``align_corners=True``) that resample a
    frame crop's feature map into the key crop's feature coordinates.

    Feature pixel ``(i, j)`` of an ``(h, w)`` map of an ``(H, W)`` crop sits
    at crop pixel ``(x, y) = (j * W / w, i * H / h)`` (mmpose's heatmap
    convention, and the centre of a stride-``W / w`` backbone's receptive
    field); with ``align_corners=True`` its normalised coordinate is
    ``2 j / (w - 1) - 1``. For a key-crop -> frame-crop map ``x' = L x + t``
    and ``x = a (n + 1)`` (``a = (w - 1) W / (2 w)`` per axis) the sampling
    grid is ``n' = A^-1 L A n + A^-1 (L a + t) - 1``.

    Args:
        crop_warps (Tensor): (..., 2, 3) maps from key-crop pixel
            coordinates to frame-crop pixel coordinates.
        input_size (Sequence[int]): Crop size ``(H, W)``.
        feat_size (Sequence[int]): Feature size ``(h, w)``, both >= 2.

    Returns:
        Tensor: (..., 2, 3) matrices for ``F.affine_grid(...,
        align_corners=True)``.
    """
    (crop_h, crop_w), (feat_h, feat_w) = input_size, feat_size
    if min(feat_h, feat_w) < 2:
        raise ValueError('crop_warps_to_theta: the feature map must be at '
                         f'least 2x2, got {tuple(feat_size)}.')
    half = crop_warps.new_tensor([(feat_w - 1) * crop_w / (2 * feat_w),
                                  (feat_h - 1) * crop_h / (2 * feat_h)])
    linear, shift = crop_warps[..., :2], crop_warps[..., 2]
    theta_linear = linear * half[None, :] / half[:, None]
    theta_shift = ((linear @ half.unsqueeze(-1)).squeeze(-1) + shift) / half
    return torch.cat([theta_linear, (theta_shift - 1).unsqueeze(-1)], dim=-1)


def resample_supporting_feats(supporting: Tensor, thetas: Tensor) -> Tensor:
    """Bring supporting features into the key crop's coordinates.

    The same resampling as the GTM's warp (``F.affine_grid`` +
    ``F.grid_sample``, bilinear, zeros outside, ``align_corners=True``),
    here with the known geometry of the crops
    (:func:`crop_warps_to_theta`).

    Args:
        supporting (Tensor): (B, N, C, h, w) features of the frame crops.
        thetas (Tensor): (B, N, 2, 3) ``affine_grid`` matrices.

    Returns:
        Tensor: (B, N, C, h, w) the features on the key crop's grid.
    """
    flat = supporting.flatten(0, 1)
    grid = F.affine_grid(
        thetas.flatten(0, 1).to(flat.dtype),
        list(flat.shape),
        align_corners=True)
    resampled = F.grid_sample(
        flat, grid, mode='bilinear', padding_mode='zeros', align_corners=True)
    return resampled.view_as(supporting)


class VideoFeatures(NamedTuple):
    """Intermediate features of one FAMI-Pose forward pass.

    Shapes use B (batch), N (supporting frames), M (calibrated features the
    LCM returns: N for the paper's per-frame LCM, 1 for
    :class:`~famipose_mmpose.models.released.ReleasedLCM`), C, H, W
    (backbone feature).

    Attributes:
        key (Tensor): (B, C, H, W) key-frame feature ``z_t``.
        supporting (Tensor): (B, N, C, H, W) raw supporting features.
        thetas (Tensor, optional): (B, N, 2, 3) GTM transforms
            (``F.affine_grid`` convention); ``None`` without GTM.
        coarse (Tensor): (B, N, C, H, W) GTM outputs (``supporting`` without
            GTM).
        lcm_source (Tensor, optional): (B, M, C, H, W) the supporting
            features the LCM calibrated, one per calibrated feature (the GTM
            outputs for the paper's LCM, the fused feature for the released
            one); ``None`` without LCM.
        aligned (Tensor, optional): (B, M, C, H, W) LCM outputs; ``None``
            without LCM.
        enhanced (Tensor): (B, C, H, W) aggregated feature ``z~``.
    """
    key: Tensor
    supporting: Tensor
    thetas: Optional[Tensor]
    coarse: Tensor
    lcm_source: Optional[Tensor]
    aligned: Optional[Tensor]
    enhanced: Tensor


@MODELS.register_module()
class FAMIPose(TopdownPoseEstimator):
    """Video top-down pose estimator `FAMI-Pose`_ (Liu et al., "Temporal
    Feature Alignment and Mutual Information Maximization for Video-Based
    Human Pose Estimation", CVPR 2022).

    Input (B, T, 3, H, W) with the key frame at ``inputs[:, 0]`` and the
    supporting frames at ``inputs[:, 1:]``. The backbone runs once on all
    B*T crops; from its ``feature_index``-th output (HRNet: the highest
    resolution branch) the key feature and the supporting features are
    split. Each supporting feature is coarsely aligned by the GTM, then
    calibrated by the LCM; the aggregation merges the key feature with the
    aligned features and the stock heatmap head decodes the result. A
    (B, 3, H, W) input (or T = 1) is the single-frame model: backbone ->
    head, no GTM/LCM/aggregation.

    Training returns the head's losses (``loss_kpt``, ``acc_pose``), the MI
    loss ``loss_mi`` and its unweighted terms as ``mi_<term>`` (logged,
    not summed: their names do not contain ``loss``). ``predict`` is the
    stock :meth:`TopdownPoseEstimator.predict`: with
    ``test_cfg=dict(flip_test=True)`` all T frames are flipped together
    (``inputs.flip(-1)``) and :meth:`extract_feat` returns the head input
    for both passes.

    The MI loss decodes features with the head's final 1x1 layer
    (``head.final_layer``), so ``head.final_layer`` must take the backbone's
    C channels (FAMI configs: ``HeatmapHead(in_channels=48,
    deconv_out_channels=None, conv_out_channels=(48, 48, 48),
    conv_kernel_sizes=(3, 3, 3))``). A single-frame checkpoint (HRNet-W48 +
    ``HeatmapHead(in_channels=48, deconv_out_channels=None)``) then loads
    into ``backbone.*`` and ``head.final_layer.*`` by name (non-strict).
    When the MI loss needs the final heatmaps (its ``needs_prediction``:
    ``label_source='pred'`` or the released MI loss) the head runs a second
    time on the same features.

    Frozen backbone (``freeze_backbone=True``): its parameters get
    ``requires_grad=False`` and it runs under ``torch.no_grad()`` (no
    activations kept). ``backbone_bn_train`` selects its BN behaviour while
    the model trains: ``False`` keeps the backbone in eval mode (running
    statistics fixed, the default); ``True`` lets its BN layers follow the
    model's mode, as in the authors' code (batch statistics, running
    statistics drift). ``backbone_chunk_size`` runs the backbone on at most
    that many crops per call whenever it is in eval mode (on a CPU, 5 calls
    of B crops are about 20% faster per crop than one call of 5B crops, the
    activations staying in cache; on a GPU one large call is faster). An
    eval-mode BN treats every crop alone, so chunking changes no value (up to
    float rounding); a backbone in train mode (``backbone_bn_train=True``
    while training, or a trainable backbone) always gets all crops in one
    call, as its batch statistics require.

    Supporting crops (``supporting_crops``): ``'key_box'`` (default, the
    paper's) cuts every frame with the key frame's box, so all T feature
    maps share the key crop's coordinates. ``'own_box'`` (the reuse mode)
    takes each supporting frame cut with the person's own box in that frame
    (the key box where the person has no box there): its features are
    resampled into the key crop's coordinates by the known geometry of the
    two crops (:func:`crop_warps_to_theta`, :func:`resample_supporting_feats`:
    the GTM's ``affine_grid``/``grid_sample`` warp, zeros outside) before the
    GTM and the LCM. The geometry comes from each data sample's metainfo
    ``frame_crop_warps`` ((T, 2, 3) key-crop -> frame-crop pixel maps,
    written by ``VideoTopdownAffine`` for a dataset with
    ``supporting_boxes='track'``). A crop of one person in one frame then
    serves every key frame whose window holds that frame, so video inference
    runs the backbone once per (person, frame)
    (:func:`famipose_mmpose.apis.iter_video_poses`). With the same box in
    every frame both modes compute the same output (up to float rounding).

    Every trainable parameter takes part in ``loss`` on video input, so DDP
    needs no ``find_unused_parameters``; training on single-frame input
    leaves the GTM/LCM/aggregation unused and then needs
    ``find_unused_parameters=True``.

    Args:
        backbone (dict): Backbone config.
        head (dict): Head config (a ``HeatmapHead``).
        gtm (dict, optional): GTM config (type ``'GTM'``, or
            ``'ReleasedGTM'``); ``None`` disables it. Defaults to ``None``
        lcm (dict, optional): LCM config (type ``'LCM'``, or
            ``'ReleasedLCM'``); ``None`` disables it. Defaults to ``None``
        aggregation (dict, optional): Aggregation config (type
            ``'FeatureAggregation'``, or ``'ConcatFeatureAggregation'``);
            ``None`` means the paper's element-wise sum. Defaults to ``None``
        mi_loss (dict, optional): MI loss config (type ``'VSDMILoss'``, or
            ``'ReleasedVSDMILoss'``); ``None`` disables it. Defaults to
            ``None``
        neck (dict, optional): Neck applied to the backbone outputs of every
            frame before the split (trainable even with a frozen backbone).
            Defaults to ``None``
        freeze_backbone (bool): Freeze the backbone. Defaults to ``True``
        backbone_bn_train (bool): With a frozen backbone, keep its BN layers
            in train mode while the model trains. Defaults to ``False``
        backbone_chunk_size (int, optional): Crops per backbone call while
            the backbone is in eval mode; ``None`` runs all B*T crops in one
            call. Defaults to ``None``
        feature_index (int): Which backbone (or neck) output feeds the
            temporal modules. Defaults to -1
        train_cfg (dict, optional): Runtime training config. Defaults to
            ``None``
        test_cfg (dict, optional): Runtime test config. Defaults to ``None``
        data_preprocessor (dict, optional): Data preprocessor config (a
            ``VideoPoseDataPreprocessor`` for video input). Defaults to
            ``None``
        init_cfg (dict, optional): Initialisation config. Defaults to
            ``None``
        metainfo (dict, optional): Dataset meta information overriding the
            data samples'. Defaults to ``None``
        supporting_crops (str): ``'key_box'`` (the paper's crops) or
            ``'own_box'`` (the reuse mode, see above). Defaults to
            ``'key_box'``

    .. _`FAMI-Pose`: https://arxiv.org/abs/2203.15227
    """

    def __init__(self,
                 backbone: ConfigType,
                 head: ConfigType,
                 gtm: OptConfigType = None,
                 lcm: OptConfigType = None,
                 aggregation: OptConfigType = None,
                 mi_loss: OptConfigType = None,
                 neck: OptConfigType = None,
                 freeze_backbone: bool = True,
                 backbone_bn_train: bool = False,
                 backbone_chunk_size: Optional[int] = None,
                 feature_index: int = -1,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None,
                 metainfo: Optional[dict] = None,
                 supporting_crops: str = 'key_box'):
        if supporting_crops not in SUPPORTING_CROPS:
            raise ValueError(
                f'FAMIPose: model.supporting_crops={supporting_crops!r}; use '
                f'one of {SUPPORTING_CROPS}.')
        if head is None:
            raise ValueError(
                'FAMIPose: a head config is required (model.head), e.g. '
                "dict(type='HeatmapHead', in_channels=48, out_channels=17, "
                'deconv_out_channels=None, ...).')
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg,
            metainfo=metainfo)
        # configs written with the old mode flags (e.g. GTM(mode='affine'),
        # saved next to checkpoints) still build the same modules
        gtm, lcm, aggregation, mi_loss = (
            upgrade_legacy_cfg(cfg) for cfg in (gtm, lcm, aggregation, mi_loss))
        self.gtm = MODELS.build(gtm) if gtm is not None else None
        self.lcm = MODELS.build(lcm) if lcm is not None else None
        if aggregation is None:
            aggregation = dict(type='FeatureAggregation')
        self.aggregation = MODELS.build(aggregation)
        self.mi_loss = MODELS.build(mi_loss) if mi_loss is not None else None
        if self.mi_loss is not None and not isinstance(
                getattr(self.head, 'final_layer', None), nn.Conv2d):
            raise ValueError(
                'FAMIPose: the MI loss decodes features with '
                'head.final_layer, which must be a Conv2d (a HeatmapHead with '
                'has_final_layer=True); fix model.head or set '
                'model.mi_loss=None.')

        if backbone_chunk_size is not None and (
                isinstance(backbone_chunk_size, bool)
                or not isinstance(backbone_chunk_size, int)
                or backbone_chunk_size < 1):
            raise ValueError(
                'FAMIPose: model.backbone_chunk_size must be a positive int '
                f'or None, got {backbone_chunk_size!r}.')
        self.freeze_backbone = freeze_backbone
        self.backbone_bn_train = backbone_bn_train
        self.backbone_chunk_size = backbone_chunk_size
        self.feature_index = feature_index
        self.supporting_crops = supporting_crops
        self._check_feature_channels()
        if freeze_backbone:
            for param in self.backbone.parameters():
                param.requires_grad_(False)
            # the default (eval-mode BN) takes effect immediately
            self.train(self.training)

    def _check_feature_channels(self) -> None:
        """Refuse parts built for different feature widths (otherwise the first forward fails deep inside one).

        Compared: the backbone's output width where it can be read from its config (an HRNet with one output
        branch and no neck), and the ``in_channels`` of the GTM, the LCM, the aggregation and the head.

        Raises:
            ValueError: naming each part's width and the config field to change.
        """
        widths = {}
        stage4 = getattr(self.backbone, 'extra', {}).get('stage4') if isinstance(
            getattr(self.backbone, 'extra', None), dict) else None
        if not self.with_neck and stage4 is not None and not stage4.get('multiscale_output', False):
            widths['the backbone output (model.backbone.extra.stage4.num_channels[0])'] = stage4['num_channels'][0]
        for name in ('gtm', 'lcm', 'aggregation', 'head'):
            width = getattr(getattr(self, name, None), 'in_channels', None)
            if isinstance(width, int):
                widths[f'model.{name}.in_channels'] = width
        if len(set(widths.values())) > 1:
            listed = ', '.join(f'{field} = {width}' for field, width in widths.items())
            raise ValueError(f'FAMIPose: the parts are built for different feature widths: {listed}; set them all '
                             'to the width of the feature the backbone gives (the first of these).')

    def train(self, mode: bool = True) -> 'FAMIPose':
        """Set train/eval mode; a frozen backbone stays in eval mode unless
        ``backbone_bn_train``.

        Args:
            mode (bool): Train mode. Defaults to ``True``

        Returns:
            FAMIPose: self.
        """
        super().train(mode)
        if getattr(self, 'freeze_backbone', False) and \
                not self.backbone_bn_train:
            self.backbone.eval()
        return self

    def _extract_frame_feat(self, inputs: Tensor) -> Tuple[Tensor, ...]:
        """Backbone (and neck) on a batch of crops.

        Args:
            inputs (Tensor): (N, 3, H, W) crops.

        Returns:
            tuple[Tensor]: The backbone's (or neck's) outputs.
        """
        if self.freeze_backbone:
            with torch.no_grad():
                feats = self._run_backbone(inputs)
        else:
            feats = self._run_backbone(inputs)
        if self.with_neck:
            feats = self.neck(feats)
        if isinstance(feats, Tensor):
            feats = (feats, )
        return tuple(feats)

    def _run_backbone(self, inputs: Tensor):
        """The backbone on ``inputs``; in eval mode ``backbone_chunk_size``
        crops per call."""
        chunk = self.backbone_chunk_size
        if chunk is None or self.backbone.training or inputs.shape[0] <= chunk:
            return self.backbone(inputs)
        outputs = [self.backbone(part) for part in inputs.split(chunk)]
        if isinstance(outputs[0], Tensor):
            return torch.cat(outputs)
        return tuple(torch.cat(level) for level in zip(*outputs))

    def extract_video_feat(self,
                           inputs: Tensor,
                           crop_warps: Optional[Tensor] = None
                           ) -> VideoFeatures:
        """Run backbone, GTM, LCM and aggregation on a video batch.

        Args:
            inputs (Tensor): (B, T, 3, H, W), key frame first, T >= 2.
            crop_warps (Tensor, optional): (B, T, 2, 3) key-crop ->
                frame-crop pixel maps (``'own_box'`` mode, where they are
                required); ``None`` in ``'key_box'`` mode. Defaults to
                ``None``

        Returns:
            VideoFeatures: All intermediate features (see its docs).
        """
        if inputs.dim() != 5 or inputs.shape[1] < 2:
            raise ValueError(
                'FAMIPose.extract_video_feat expects (B, T, 3, H, W) inputs '
                f'with T >= 2 (key frame first), got {tuple(inputs.shape)}; '
                'use a VideoPoseDataPreprocessor and a dataset with '
                'supporting frames.')
        batch, num_frames = inputs.shape[:2]
        feat = self._extract_frame_feat(inputs.flatten(0,
                                                       1))[self.feature_index]
        feat = feat.reshape(batch, num_frames, *feat.shape[1:])
        support_thetas = None
        if self.supporting_crops == 'own_box':
            if crop_warps is None or tuple(crop_warps.shape) != (batch,
                                                                 num_frames,
                                                                 2, 3):
                got = None if crop_warps is None else tuple(crop_warps.shape)
                raise ValueError(
                    "FAMIPose(supporting_crops='own_box') needs crop_warps of "
                    f'shape {(batch, num_frames, 2, 3)}, got {got}.')
            support_thetas = crop_warps_to_theta(crop_warps[:, 1:],
                                                 inputs.shape[-2:],
                                                 feat.shape[-2:])
        return self.fuse_video_feat(feat[:, 0].contiguous(),
                                    feat[:, 1:].contiguous(), support_thetas)

    def extract_crop_feat(self, crops: Tensor) -> Tensor:
        """The feature of single crops that the temporal modules take (the
        backbone's, or neck's, ``feature_index``-th output).

        Args:
            crops (Tensor): (N, 3, H, W) normalised crops.

        Returns:
            Tensor: (N, C, h, w).
        """
        return self._extract_frame_feat(crops)[self.feature_index]

    def fuse_video_feat(self,
                        key: Tensor,
                        supporting: Tensor,
                        support_thetas: Optional[Tensor] = None
                        ) -> VideoFeatures:
        """GTM, LCM and aggregation on backbone features.

        Args:
            key (Tensor): (B, C, h, w) key-frame features.
            supporting (Tensor): (B, N, C, h, w) supporting-frame features.
            support_thetas (Tensor, optional): (B, N, 2, 3) ``affine_grid``
                matrices (:func:`crop_warps_to_theta`) that first resample
                the supporting features into the key crop's coordinates
                (``'own_box'`` crops); ``None``: they are already there.
                Defaults to ``None``

        Returns:
            VideoFeatures: All intermediate features; ``supporting`` holds
            the features in the key crop's coordinates.
        """
        if support_thetas is not None:
            supporting = resample_supporting_feats(supporting, support_thetas)
        batch, num_sup = supporting.shape[:2]
        thetas = None
        coarse = supporting
        if self.gtm is not None:
            flat_key = key.unsqueeze(1).expand_as(supporting).flatten(0, 1)
            warped, thetas = self.gtm(flat_key, supporting.flatten(0, 1))
            coarse = warped.view_as(supporting)
            thetas = thetas.view(batch, num_sup, 2, 3)

        lcm_source = aligned = None
        if self.lcm is not None:
            aligned, lcm_source = self.lcm(key, coarse)

        enhanced = self.aggregation(key,
                                    aligned if aligned is not None else coarse)
        return VideoFeatures(
            key=key,
            supporting=supporting,
            thetas=thetas,
            coarse=coarse,
            lcm_source=lcm_source,
            aligned=aligned,
            enhanced=enhanced)

    def extract_feat(self, inputs: Tensor) -> Tuple[Tensor, ...]:
        """Features for the head.

        Args:
            inputs (Tensor): (B, T, 3, H, W) video crops, or (B, 3, H, W)
                single-frame crops.

        Returns:
            tuple[Tensor]: ``(enhanced,)`` with (B, C, h, w) for video
            input; the backbone's (neck's) outputs for single-frame input.
        """
        if inputs.dim() == 4:
            return self._extract_frame_feat(inputs)
        if inputs.dim() == 5:
            if inputs.shape[1] == 1:
                return self._extract_frame_feat(inputs[:, 0])
            return (self.extract_video_feat(inputs).enhanced, )
        raise ValueError(
            'FAMIPose expects inputs of shape (B, T, 3, H, W) or (B, 3, H, '
            f'W), got {tuple(inputs.shape)}.')

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Compute the heatmap loss and the MI loss.

        Args:
            inputs (Tensor): (B, T, 3, H, W) or (B, 3, H, W).
            data_samples (list[PoseDataSample]): The batch data samples.

        Returns:
            dict: ``loss_kpt``, ``acc_pose`` (head), ``loss_mi`` and the
            ``mi_<term>`` values (video input with an MI loss).
        """
        if inputs.dim() == 4 or (inputs.dim() == 5 and inputs.shape[1] == 1):
            return super().loss(inputs, data_samples)

        video_feats = self.extract_video_feat(
            inputs, self.crop_warps_of(data_samples, inputs))
        feats = (video_feats.enhanced, )
        losses = dict()
        losses.update(
            self.head.loss(feats, data_samples, train_cfg=self.train_cfg))
        if self.mi_loss is not None:
            losses.update(self._mi_loss(video_feats, feats, data_samples))
        return losses

    def predict(self, inputs: Tensor, data_samples: SampleList) -> SampleList:
        """Predict the key frame's keypoints (in image coordinates).

        ``'key_box'`` mode and single-frame input: the stock
        :meth:`TopdownPoseEstimator.predict`. ``'own_box'`` mode: the same
        steps with the crop geometry of the data samples; with
        ``test_cfg=dict(flip_test=True)`` the flipped pass gets the mirrored
        geometry (:func:`mirror_crop_warps`).

        Args:
            inputs (Tensor): (B, T, 3, H, W) or (B, 3, H, W).
            data_samples (list[PoseDataSample]): The batch data samples.

        Returns:
            list[PoseDataSample]: The data samples with ``pred_instances``.
        """
        if self.supporting_crops == 'key_box' or inputs.dim() == 4 or (
                inputs.dim() == 5 and inputs.shape[1] == 1):
            return super().predict(inputs, data_samples)
        crop_warps = self.crop_warps_of(data_samples, inputs)
        feats = (self.extract_video_feat(inputs, crop_warps).enhanced, )
        if self.test_cfg.get('flip_test', False):
            mirrored = mirror_crop_warps(crop_warps, inputs.shape[-1])
            feats = [
                feats,
                (self.extract_video_feat(inputs.flip(-1),
                                         mirrored).enhanced, )
            ]
        return self.predict_from_feats(feats, data_samples)

    def predict_from_feats(self, feats, data_samples: SampleList) -> SampleList:
        """Decode head inputs into predictions, as the stock ``predict``
        does after ``extract_feat``.

        Args:
            feats (tuple[Tensor] | list[tuple[Tensor]]): The head input, or
                ``[feats, flipped_feats]`` with ``flip_test``.
            data_samples (list[PoseDataSample]): The batch data samples
                (with the crops' ``input_center``/``input_scale``/
                ``input_size``, and ``flip_indices`` for ``flip_test``).

        Returns:
            list[PoseDataSample]: The data samples with ``pred_instances``
            (keypoints in image coordinates).
        """
        preds = self.head.predict(feats, data_samples, test_cfg=self.test_cfg)
        instances, fields = preds if isinstance(preds, tuple) else (preds,
                                                                    None)
        return self.add_pred_to_datasample(instances, fields, data_samples)

    def crop_warps_of(self, data_samples: SampleList,
                      inputs: Tensor) -> Optional[Tensor]:
        """The crop geometry of a batch in ``'own_box'`` mode.

        Args:
            data_samples (list[PoseDataSample]): The batch data samples,
                each with metainfo ``frame_crop_warps`` (T, 2, 3).
            inputs (Tensor): The batch (for dtype and device).

        Returns:
            Tensor | None: (B, T, 2, 3); ``None`` in ``'key_box'`` mode
            (nothing is read).
        """
        if self.supporting_crops == 'key_box':
            return None
        warps = [sample.metainfo.get(CROP_WARPS_KEY) for sample in data_samples]
        if any(warp is None for warp in warps):
            raise ValueError(
                "FAMIPose(supporting_crops='own_box'): a data sample has no "
                f'metainfo {CROP_WARPS_KEY!r} (the geometry of its frame '
                "crops). Use a dataset with supporting_boxes='track', "
                "VideoTopdownAffine instead of TopdownAffine and "
                'PackVideoPoseInputs (see configs/synthetic/*_reuse.py).')
        return torch.as_tensor(
            np.stack([np.asarray(w, dtype=np.float32) for w in warps]),
            dtype=inputs.dtype,
            device=inputs.device)

    def _mi_loss(self, video_feats: VideoFeatures, feats: Tuple[Tensor],
                 data_samples: SampleList) -> dict:
        """MI loss and its logged terms.

        Args:
            video_feats (VideoFeatures): Output of
                :meth:`extract_video_feat`.
            feats (tuple[Tensor]): The head input.
            data_samples (list[PoseDataSample]): The batch data samples.

        Returns:
            dict: ``loss_mi`` and ``mi_<term>`` (detached).
        """
        decoder = self.head.final_layer
        channels = video_feats.key.shape[1]
        if decoder.in_channels != channels:
            raise ValueError(
                f'FAMIPose: head.final_layer takes {decoder.in_channels} '
                f'channels but the backbone feature has {channels}; the MI '
                'loss decodes backbone-sized features with it, so set the '
                "head's conv_out_channels[-1] (or in_channels) to "
                f'{channels}.')
        gt_heatmaps = keypoint_weights = pred_heatmaps = None
        if self.mi_loss.needs_ground_truth:
            gt_heatmaps = torch.stack(
                [d.gt_fields.heatmaps for d in data_samples])
            keypoint_weights = torch.cat(
                [d.gt_instance_labels.keypoint_weights for d in data_samples])
        if self.mi_loss.needs_prediction:
            pred_heatmaps = self.head.forward(feats)
        support = (
            video_feats.lcm_source
            if video_feats.lcm_source is not None else video_feats.coarse)
        loss_mi, terms = self.mi_loss.loss_and_terms(
            decoder,
            key_feat=video_feats.key,
            enhanced_feat=video_feats.enhanced,
            support_feats=support,
            aligned_feats=video_feats.aligned,
            gt_heatmaps=gt_heatmaps,
            keypoint_weights=keypoint_weights,
            pred_heatmaps=pred_heatmaps)
        out = dict(loss_mi=loss_mi)
        for name, value in terms.items():
            out[f'mi_{name}'] = value.detach()
        return out
