# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Mutual-information objective of FAMI-Pose, estimated by Variational
Self-Distillation (VSD)."""
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple

import torch
import torch.nn.functional as F
from mmpose.registry import MODELS
from torch import Tensor, nn

_LABEL_SOURCES = ('gt', 'pred')
_REDUCTIONS = ('batchmean', 'pixelmean')


def spatial_log_softmax(maps: Tensor, temperature: float) -> Tensor:
    """Log of a temperature-scaled softmax over the pixels of each channel.

    Args:
        maps (Tensor): (B, K, H, W) heatmaps or features.
        temperature (float): Softmax temperature.

    Returns:
        Tensor: (B, K, H * W) log-probabilities.
    """
    return F.log_softmax(maps.flatten(2) / temperature, dim=-1)


def spatial_kl_divergence(teacher: Tensor,
                          student: Tensor,
                          temperature: float,
                          weights: Optional[Tensor] = None) -> Tensor:
    """``KL(p_teacher || p_student)`` between per-channel pixel distributions,
    averaged over batch and channels (joints).

    ``p = softmax(maps / temperature)`` over the H*W pixels of each channel.
    The teacher is detached: no gradient reaches it.

    Args:
        teacher (Tensor): (B, K, H, W) teacher logits (detached here).
        student (Tensor): (B, K, H, W) student logits.
        temperature (float): Softmax temperature.
        weights (Tensor, optional): (B, K) per-joint weights multiplied into
            the per-joint KL before the mean over the B*K entries.

    Returns:
        Tensor: Scalar, ``mean_{b,k} w_bk * KL_bk``.
    """
    if teacher.shape != student.shape:
        raise ValueError(
            f'VSDMILoss: teacher {tuple(teacher.shape)} and student '
            f'{tuple(student.shape)} maps must have the same shape; the '
            'ground-truth heatmaps and the decoded features must share the '
            'heatmap size (use a head without deconvolution layers).')
    log_p = spatial_log_softmax(teacher.detach(), temperature)
    log_q = spatial_log_softmax(student, temperature)
    kl = (log_p.exp() * (log_p - log_q)).sum(dim=-1)
    if weights is not None:
        kl = kl * weights
    return kl.mean()


class MIInputs(NamedTuple):
    """What the MI objectives read (see :meth:`VSDMILoss.forward`).

    Attributes:
        decoder (callable): Shared decoder, (N, C, H, W) -> (N, K, H, W).
        key_feat (Tensor): (B, C, H, W) key feature ``z_t``.
        enhanced_feat (Tensor): (B, C, H, W) enhanced feature ``z~``.
        support_feats (Tensor, optional): (B, M, C, H, W) supporting
            features ``z_s`` as they enter the LCM.
        aligned_feats (Tensor, optional): (B, M, C, H, W) LCM outputs
            ``zbar_s``; ``None`` when there is no LCM.
        gt_heatmaps (Tensor, optional): (B, K, H, W) ground truth.
        keypoint_weights (Tensor, optional): (B, K) target weights.
        pred_heatmaps (Tensor, optional): (B, K, H, W) final heatmaps.
    """
    decoder: Callable[[Tensor], Tensor]
    key_feat: Tensor
    enhanced_feat: Tensor
    support_feats: Optional[Tensor] = None
    aligned_feats: Optional[Tensor] = None
    gt_heatmaps: Optional[Tensor] = None
    keypoint_weights: Optional[Tensor] = None
    pred_heatmaps: Optional[Tensor] = None


class WeightedTerm(NamedTuple):
    """One term of an MI objective.

    Attributes:
        name (str): Logged as ``mi_<name>``.
        weight (float): Its coefficient in ``L_MI``.
        value (Tensor): Scalar, the unweighted term.
    """
    name: str
    weight: float
    value: Tensor


@MODELS.register_module()
class VSDMILoss(nn.Module):
    r"""Mutual-information loss of `FAMI-Pose`_ (Liu et al., CVPR 2022),
    estimated with Variational Self-Distillation (`VSD`_, Tian et al., CVPR
    2021).

    Notation: ``z_t`` key-frame feature, ``z_s`` supporting feature as it
    enters the LCM (GTM output, or the raw feature without GTM; with the
    released LCM layout the fused supporting feature), ``zbar_s`` the LCM
    output for it, ``z~`` the enhanced (aggregated) feature, ``y`` the key
    frame's pose. ``D`` is the shared decoder passed at call time (the pose
    head's final 1x1 heatmap layer). ``p(f) = softmax(f / T)`` over the H*W
    pixels of each channel (``T = temperature``). ``KL(a || b)`` is
    :func:`spatial_kl_divergence` of ``p(a)`` and ``p(b)`` (``a`` detached),
    averaged over batch and joints (and supporting frames).

    The paper's objective (its term list as in the authors' code):

    .. math::
        L_{MI} = \beta(-I(y; \tilde z) + I(z_t; \tilde z))
               + (I(y; z_t) - I(z_t; \tilde z))
               + (I(y; z_s) - I(z_s; \bar z_s))

    Each mutual information that the objective *maximises* is estimated by
    VSD as a KL divergence from a detached teacher distribution to a student
    distribution, which is minimised (``I(a; b) = const - KL``, higher
    agreement = more shared task information). ``L_MI`` is the sum of two
    objectives, each a method that returns its terms with their weights:

    - :meth:`key_frame_objective`, the primary term and the key-frame
      regulariser; collecting terms, ``I(z_t; z~)`` has coefficient
      ``beta - 1`` (maximised for ``beta < 1``):
      ``beta * KL(Y || D(z~)) + (1 - beta) * KL(D(z_t) || D(z~))``;
    - :meth:`supporting_objective`, the supporting-frame regulariser:
      ``1 * KL(D(z_s) || D(zbar_s))`` (absent without an LCM).

    ``loss = loss_weight * L_MI`` (``loss_weight`` is the paper's alpha).
    Teachers: ``Y`` = ground-truth heatmaps (``label_source='gt'``, joints
    weighted by the target weights) or the network's own final heatmaps,
    detached (``label_source='pred'``) for ``I(y; z~)``; the key feature for
    ``I(z_t; z~)``; the pre-calibration supporting feature for
    ``I(z_s; zbar_s)`` (so only the LCM, not the GTM, gets its gradient).
    Gradients reach the student features and, through the student path,
    the shared decoder ``D``; never the teachers.
    The remaining terms ``I(y; z_t) + I(y; z_s)`` measure the task
    information already in the alignment's inputs: they are dropped. With
    a VSD estimate they would enter as ``-KL(Y || D(z))``, which is
    unbounded below and would train the decoder (and the GTM) to discard
    task information; with a frozen backbone ``I(y; z_t)`` is a constant.

    How this differs from the authors' released code (replicated by
    :class:`~famipose_mmpose.models.released.ReleasedVSDMILoss`): (1) a real
    KL divergence (``log_softmax`` on both sides, sum over pixels, mean over
    batch and joints) instead of ``F.kl_div`` fed probabilities and averaged
    over pixels; (2) every term is a divergence that is minimised -- the
    released code maximises three of its quantities (``-beta*r1``, ``-r4``,
    ``(beta-1)*r2``), which is unbounded below; (3) ``y`` is the ground
    truth (configurable), not the network's own output; (4) the teacher is
    the first argument and is detached, whereas the released code detaches
    the decoded feature and sends the gradient to the final heatmaps / the
    enhanced feature; (5) feature-feature terms compare decoded heatmaps,
    not raw feature channels; (6) the supporting regulariser compares the
    LCM output with its input (paper) instead of the enhanced feature;
    (7) the decoder is the trainable head's final layer, not the frozen
    backbone's own 1x1 head.

    Args:
        loss_weight (float): The paper's alpha. Defaults to 0.5
        beta (float): Weight of the primary term, in [0, 1].
            Defaults to 0.1
        temperature (float): Spatial softmax temperature. Defaults to 0.05
        label_source (str): Teacher of ``I(y; z~)``: ``'gt'`` or
            ``'pred'``. Defaults to ``'gt'``
        use_target_weight (bool): Weight the ground-truth term per joint by
            the target weights. Defaults to ``True``
        reduction (str): ``'batchmean'`` = the KL of each joint's
            distribution (summed over its H*W pixels), averaged over batch
            and joints; ``'pixelmean'`` = the same divided by H*W, the
            per-pixel scale of the heatmap MSE and of the released code's
            ``F.kl_div(..., reduction='mean')``, against which the authors
            chose alpha = 0.5 (with ``'batchmean'`` and alpha = 0.5 the MI
            loss is about 100x the heatmap loss at 32x24 heatmaps).
            Defaults to ``'batchmean'``

    .. _`FAMI-Pose`: https://arxiv.org/abs/2203.15227
    .. _`VSD`: https://arxiv.org/abs/2104.02862
    """

    def __init__(self,
                 loss_weight: float = 0.5,
                 beta: float = 0.1,
                 temperature: float = 0.05,
                 label_source: str = 'gt',
                 use_target_weight: bool = True,
                 reduction: str = 'batchmean'):
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f'VSDMILoss: unknown reduction {reduction!r} '
                f'(model.mi_loss.reduction); use one of {_REDUCTIONS}.')
        if label_source not in _LABEL_SOURCES:
            raise ValueError(
                f'VSDMILoss: unknown label_source {label_source!r} '
                f'(model.mi_loss.label_source); use one of {_LABEL_SOURCES}.')
        if temperature <= 0:
            raise ValueError(
                f'VSDMILoss: temperature must be > 0, got {temperature} '
                '(model.mi_loss.temperature).')
        self._check_beta(beta)
        self.loss_weight = loss_weight
        self.beta = beta
        self.temperature = temperature
        self.label_source = label_source
        self.use_target_weight = use_target_weight
        self.reduction = reduction

    def _check_beta(self, beta: float) -> None:
        """The key-frame objective weighs its terms by ``beta`` and
        ``1 - beta``: both must be >= 0."""
        if not 0.0 <= beta <= 1.0:
            raise ValueError(
                f'VSDMILoss: beta must lie in [0, 1], got {beta} '
                '(model.mi_loss.beta); with beta > 1 the key/enhanced term '
                'would be maximised, which is unbounded.')

    @property
    def needs_prediction(self) -> bool:
        """bool: whether :meth:`forward` needs ``pred_heatmaps``."""
        return self.label_source == 'pred'

    @property
    def needs_ground_truth(self) -> bool:
        """bool: whether :meth:`forward` needs ``gt_heatmaps``."""
        return self.label_source == 'gt'

    def _divergence(self,
                    teacher: Tensor,
                    student: Tensor,
                    weights: Optional[Tensor] = None) -> Tensor:
        """:func:`spatial_kl_divergence` at this loss's temperature, divided
        by H*W with ``reduction='pixelmean'``."""
        kl = spatial_kl_divergence(teacher, student, self.temperature,
                                   weights)
        if self.reduction == 'pixelmean':
            kl = kl / (student.shape[-2] * student.shape[-1])
        return kl

    def _label(self, inputs: MIInputs) -> Tuple[Tensor, Optional[Tensor]]:
        """The teacher ``Y`` of ``I(y; z~)`` and its per-joint weights."""
        if self.label_source == 'pred':
            if inputs.pred_heatmaps is None:
                raise ValueError(
                    'VSDMILoss: pred_heatmaps are required with '
                    "label_source='pred' (model.mi_loss.label_source).")
            return inputs.pred_heatmaps, None
        if inputs.gt_heatmaps is None:
            raise ValueError(
                'VSDMILoss: gt_heatmaps are required with '
                "label_source='gt' (model.mi_loss.label_source).")
        weights = inputs.keypoint_weights if self.use_target_weight else None
        return inputs.gt_heatmaps, weights

    def key_frame_objective(self, inputs: MIInputs) -> List[WeightedTerm]:
        r"""The primary term ``beta * (-I(y; z~) + I(z_t; z~))`` plus the
        key-frame regulariser ``I(y; z_t) - I(z_t; z~)`` (``I(y; z_t)``
        dropped, see the class docs):

        .. math::
            \beta\,KL(Y \| D(\tilde z))
            + (1 - \beta)\,KL(D(z_t) \| D(\tilde z))

        Args:
            inputs (MIInputs): The features and labels.

        Returns:
            list[WeightedTerm]: ``label_enhanced`` (weight ``beta``) and
            ``key_enhanced`` (weight ``1 - beta``).
        """
        label, weights = self._label(inputs)
        dec_enh = inputs.decoder(inputs.enhanced_feat)
        with torch.no_grad():
            dec_key = inputs.decoder(inputs.key_feat)
        return [
            WeightedTerm('label_enhanced', self.beta,
                         self._divergence(label, dec_enh, weights)),
            WeightedTerm('key_enhanced', 1.0 - self.beta,
                         self._divergence(dec_key, dec_enh)),
        ]

    def supporting_objective(self, inputs: MIInputs) -> List[WeightedTerm]:
        r"""The supporting-frame regulariser ``I(y; z_s) - I(z_s; zbar_s)``
        (``I(y; z_s)`` dropped, see the class docs), averaged over the
        supporting features:

        .. math::
            KL(D(z_s) \| D(\bar z_s))

        Args:
            inputs (MIInputs): The features and labels.

        Returns:
            list[WeightedTerm]: ``support_aligned`` (weight 1); empty
            without supporting or aligned features (no LCM).
        """
        support, aligned = inputs.support_feats, inputs.aligned_feats
        if support is None or aligned is None:
            return []
        if support.shape != aligned.shape:
            raise ValueError(
                f'VSDMILoss: support features {tuple(support.shape)} and '
                f'aligned features {tuple(aligned.shape)} must have the '
                'same shape.')
        with torch.no_grad():
            dec_sup = inputs.decoder(support.flatten(0, 1))
        return [
            WeightedTerm(
                'support_aligned', 1.0,
                self._divergence(dec_sup,
                                 inputs.decoder(aligned.flatten(0, 1))))
        ]

    def loss_and_terms(
            self,
            decoder: Callable[[Tensor], Tensor],
            key_feat: Tensor,
            enhanced_feat: Tensor,
            support_feats: Optional[Tensor] = None,
            aligned_feats: Optional[Tensor] = None,
            gt_heatmaps: Optional[Tensor] = None,
            keypoint_weights: Optional[Tensor] = None,
            pred_heatmaps: Optional[Tensor] = None
    ) -> Tuple[Tensor, Dict[str, Tensor]]:
        """``loss_weight * L_MI`` and its unweighted terms; arguments as the
        fields of :class:`MIInputs`.

        Returns:
            tuple:
            - loss (Tensor): Scalar ``loss_weight * L_MI``, ``L_MI`` the
              weighted sum of the terms of :meth:`key_frame_objective` and
              :meth:`supporting_objective`, in that order.
            - terms (dict[str, Tensor]): The unweighted terms by name.
        """
        inputs = MIInputs(decoder, key_feat, enhanced_feat, support_feats,
                          aligned_feats, gt_heatmaps, keypoint_weights,
                          pred_heatmaps)
        terms = (
            self.key_frame_objective(inputs) +
            self.supporting_objective(inputs))
        total = terms[0].weight * terms[0].value
        for term in terms[1:]:
            total = total + term.weight * term.value
        return self.loss_weight * total, {t.name: t.value for t in terms}

    def compute_terms(self, *args, **kwargs) -> Dict[str, Tensor]:
        """The unweighted terms of :meth:`loss_and_terms` by name."""
        return self.loss_and_terms(*args, **kwargs)[1]

    def forward(self, *args, **kwargs) -> Tensor:
        """``loss_weight * L_MI``; arguments as in :meth:`loss_and_terms`.

        Returns:
            Tensor: Scalar loss.
        """
        return self.loss_and_terms(*args, **kwargs)[0]
