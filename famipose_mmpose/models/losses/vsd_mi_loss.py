# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Mutual-information objective of FAMI-Pose, estimated by Variational
Self-Distillation (VSD)."""
from typing import Callable, Dict, Optional

import torch
import torch.nn.functional as F
from mmpose.registry import MODELS
from torch import Tensor, nn

_MI_MODES = ('vsd', 'released')
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


def released_kl_div_term(input_maps: Tensor, target_maps: Tensor,
                         temperature: float) -> Tensor:
    """The released code's ``F.kl_div(softmax(input.detach() / T),
    softmax(target / T), reduction='mean')``, computed stably.

    ``F.kl_div`` expects log-probabilities as ``input``; the released code
    feeds probabilities, so the value is
    ``mean_{b,k,pixel} q * (log q - p)`` with ``p = softmax(input / T)``
    (detached) and ``q = softmax(target / T)`` -- not a KL divergence. Here
    ``q * log q`` is formed from ``log_softmax`` so that neither the value nor
    the gradient becomes NaN where ``q`` underflows to 0 (the released
    computation's gradient does).

    Args:
        input_maps (Tensor): (B, K, H, W) maps on the ``input`` side
            (detached here).
        target_maps (Tensor): (B, K, H, W) maps on the ``target`` side (the
            side that receives the gradient).
        temperature (float): Softmax temperature.

    Returns:
        Tensor: Scalar, mean over all B*K*H*W elements.
    """
    if input_maps.shape != target_maps.shape:
        raise ValueError(
            f'VSDMILoss (released): maps {tuple(input_maps.shape)} and '
            f'{tuple(target_maps.shape)} must have the same shape.')
    p = spatial_log_softmax(input_maps.detach(), temperature).exp()
    log_q = spatial_log_softmax(target_maps, temperature)
    return (log_q.exp() * (log_q - p)).mean()


@MODELS.register_module()
class VSDMILoss(nn.Module):
    r"""Mutual-information loss of `FAMI-Pose`_ (Liu et al., CVPR 2022),
    estimated with Variational Self-Distillation (`VSD`_, Tian et al., CVPR
    2021).

    Notation: ``z_t`` key-frame feature, ``z_s`` supporting feature as it
    enters the LCM (GTM output, or the raw feature without GTM; in the
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

    **Mode ``'vsd'`` (default).** Each mutual information that the
    objective *maximises* is estimated by VSD as a KL divergence from a
    detached teacher distribution to a student distribution, which is
    minimised (``I(a; b) = const - KL``, higher agreement = more shared
    task information). Collecting terms, ``I(z_t; z~)`` has coefficient
    ``beta - 1`` (maximised for ``beta < 1``), so

    .. math::
        L_{MI} = \beta\,KL(Y \| D(\tilde z))
               + (1 - \beta)\,KL(D(z_t) \| D(\tilde z))
               + KL(D(z_s) \| D(\bar z_s))

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
    The supporting term is 0 when the model has no LCM (``zbar_s = z_s``).

    **Mode ``'released'``** replicates the authors' code
    (``Alignment_V15`` + ``AlignmentMIFunction_Term6_V1``), with
    ``r(a, b) = mean_{b,k,pixel} q_b * (log q_b - p_a)`` (see
    :func:`released_kl_div_term`; ``a`` detached, ``b`` gets the gradient,
    ``p_a = softmax(a / T)``, ``q_b = softmax(b / T)``), ``Yhat`` = the
    network's final heatmaps (with gradient) and feature-feature terms on
    the raw C feature channels (no decoder):

    .. math::
        L_{MI} = -\beta\,r(D(\tilde z), \hat Y) + \beta\,r(z_t, \tilde z)
                 + r(D(z_s), \hat Y) - r(z_s, \tilde z)
                 + r(D(z_t), \hat Y) - r(z_t, \tilde z)

    (the last term duplicates the second; it is computed once and counted
    with coefficient ``beta - 1``). Supporting terms are averaged over the
    supporting features passed in (one fused feature in the released
    layout, as in the authors' code).

    How ``'vsd'`` differs from the released code: (1) a real KL divergence
    (``log_softmax`` on both sides, sum over pixels, mean over batch and
    joints) instead of ``F.kl_div`` fed probabilities and averaged over
    pixels; (2) every term is a divergence that is minimised -- the released
    code maximises three of its quantities (``-beta*r1``, ``-r4``,
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
        mode (str): ``'vsd'`` or ``'released'``. Defaults to ``'vsd'``
        loss_weight (float): The paper's alpha. Defaults to 0.5
        beta (float): Weight of the primary term, in [0, 1] for ``'vsd'``.
            Defaults to 0.1
        temperature (float): Spatial softmax temperature. Defaults to 0.05
        label_source (str): Teacher of ``I(y; z~)`` in ``'vsd'`` mode:
            ``'gt'`` or ``'pred'``. Defaults to ``'gt'``
        use_target_weight (bool): Weight the ground-truth term per joint by
            the target weights. Defaults to ``True``
        reduction (str): ``'vsd'`` mode: ``'batchmean'`` = the KL of each
            joint's distribution (summed over its H*W pixels), averaged over
            batch and joints; ``'pixelmean'`` = the same divided by H*W, the
            per-pixel scale of the heatmap MSE and of the released code's
            ``F.kl_div(..., reduction='mean')``, against which the authors
            chose alpha = 0.5 (with ``'batchmean'`` and alpha = 0.5 the MI
            loss is about 100x the heatmap loss at 32x24 heatmaps).
            Defaults to ``'batchmean'``

    .. _`FAMI-Pose`: https://arxiv.org/abs/2203.15227
    .. _`VSD`: https://arxiv.org/abs/2104.02862
    """

    def __init__(self,
                 mode: str = 'vsd',
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
        if mode not in _MI_MODES:
            raise ValueError(
                f'VSDMILoss: unknown mode {mode!r} (model.mi_loss.mode); use '
                f'one of {_MI_MODES}.')
        if label_source not in _LABEL_SOURCES:
            raise ValueError(
                f'VSDMILoss: unknown label_source {label_source!r} '
                f'(model.mi_loss.label_source); use one of {_LABEL_SOURCES}.')
        if temperature <= 0:
            raise ValueError(
                f'VSDMILoss: temperature must be > 0, got {temperature} '
                '(model.mi_loss.temperature).')
        if mode == 'vsd' and not 0.0 <= beta <= 1.0:
            raise ValueError(
                f'VSDMILoss: beta must lie in [0, 1] in vsd mode, got {beta} '
                '(model.mi_loss.beta); with beta > 1 the key/enhanced term '
                'would be maximised, which is unbounded.')
        self.mode = mode
        self.loss_weight = loss_weight
        self.beta = beta
        self.temperature = temperature
        self.label_source = label_source
        self.use_target_weight = use_target_weight
        self.reduction = reduction

    @property
    def needs_prediction(self) -> bool:
        """bool: whether :meth:`compute_terms` needs ``pred_heatmaps``."""
        return self.mode == 'released' or self.label_source == 'pred'

    @property
    def needs_ground_truth(self) -> bool:
        """bool: whether :meth:`compute_terms` needs ``gt_heatmaps``."""
        return self.mode == 'vsd' and self.label_source == 'gt'

    def compute_terms(
            self,
            decoder: Callable[[Tensor], Tensor],
            key_feat: Tensor,
            enhanced_feat: Tensor,
            support_feats: Optional[Tensor] = None,
            aligned_feats: Optional[Tensor] = None,
            gt_heatmaps: Optional[Tensor] = None,
            keypoint_weights: Optional[Tensor] = None,
            pred_heatmaps: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Compute the individual (unweighted) terms.

        Args:
            decoder (callable): Shared decoder, (N, C, H, W) -> (N, K, H, W).
            key_feat (Tensor): (B, C, H, W) key feature ``z_t``.
            enhanced_feat (Tensor): (B, C, H, W) enhanced feature ``z~``.
            support_feats (Tensor, optional): (B, M, C, H, W) supporting
                features ``z_s`` as they enter the LCM.
            aligned_feats (Tensor, optional): (B, M, C, H, W) LCM outputs
                ``zbar_s`` (``'vsd'`` mode; ``None`` when there is no LCM).
            gt_heatmaps (Tensor, optional): (B, K, H, W) ground truth.
            keypoint_weights (Tensor, optional): (B, K) target weights.
            pred_heatmaps (Tensor, optional): (B, K, H, W) final heatmaps.

        Returns:
            dict[str, Tensor]: ``'vsd'``: ``label_enhanced``,
            ``key_enhanced`` and (with supporting and aligned features)
            ``support_aligned``. ``'released'``: ``y_enhanced``,
            ``key_enhanced``, ``y_key`` and (with supporting features)
            ``y_support``, ``support_enhanced``.
        """
        temp = self.temperature
        if self.mode == 'released':
            if pred_heatmaps is None:
                raise ValueError(
                    'VSDMILoss (released): pred_heatmaps (the final heatmaps '
                    'with gradient) are required.')
            with torch.no_grad():
                dec_key = decoder(key_feat)
                dec_enh = decoder(enhanced_feat)
            terms = dict(
                y_enhanced=released_kl_div_term(dec_enh, pred_heatmaps, temp),
                key_enhanced=released_kl_div_term(key_feat, enhanced_feat,
                                                  temp),
                y_key=released_kl_div_term(dec_key, pred_heatmaps, temp))
            if support_feats is not None:
                num_sup = support_feats.shape[1]
                flat_sup = support_feats.flatten(0, 1)
                with torch.no_grad():
                    dec_sup = decoder(flat_sup)
                terms['y_support'] = released_kl_div_term(
                    dec_sup, _repeat_frames(pred_heatmaps, num_sup), temp)
                terms['support_enhanced'] = released_kl_div_term(
                    flat_sup, _repeat_frames(enhanced_feat, num_sup), temp)
            return terms

        if self.label_source == 'gt':
            if gt_heatmaps is None:
                raise ValueError(
                    'VSDMILoss: gt_heatmaps are required with '
                    "label_source='gt' (model.mi_loss.label_source).")
            label = gt_heatmaps
        else:
            if pred_heatmaps is None:
                raise ValueError(
                    'VSDMILoss: pred_heatmaps are required with '
                    "label_source='pred' (model.mi_loss.label_source).")
            label = pred_heatmaps
        weights = None
        if self.use_target_weight and self.label_source == 'gt':
            weights = keypoint_weights
        dec_enh = decoder(enhanced_feat)
        with torch.no_grad():
            dec_key = decoder(key_feat)
        terms = dict(
            label_enhanced=spatial_kl_divergence(label, dec_enh, temp,
                                                 weights),
            key_enhanced=spatial_kl_divergence(dec_key, dec_enh, temp))
        if support_feats is not None and aligned_feats is not None:
            if support_feats.shape != aligned_feats.shape:
                raise ValueError(
                    f'VSDMILoss: support features {tuple(support_feats.shape)}'
                    f' and aligned features {tuple(aligned_feats.shape)} must '
                    'have the same shape.')
            with torch.no_grad():
                dec_sup = decoder(support_feats.flatten(0, 1))
            terms['support_aligned'] = spatial_kl_divergence(
                dec_sup, decoder(aligned_feats.flatten(0, 1)), temp)
        if self.reduction == 'pixelmean':
            num_pixels = dec_enh.shape[-2] * dec_enh.shape[-1]
            terms = {name: value / num_pixels for name, value in terms.items()}
        return terms

    def combine_terms(self, terms: Dict[str, Tensor]) -> Tensor:
        """Weighted sum of the terms of :meth:`compute_terms`.

        Args:
            terms (dict[str, Tensor]): Output of :meth:`compute_terms`.

        Returns:
            Tensor: Scalar ``loss_weight * L_MI``.
        """
        beta = self.beta
        if self.mode == 'released':
            total = (-beta * terms['y_enhanced'] +
                     (beta - 1.0) * terms['key_enhanced'] + terms['y_key'])
            if 'y_support' in terms:
                total = (
                    total + terms['y_support'] - terms['support_enhanced'])
        else:
            total = (
                beta * terms['label_enhanced'] +
                (1.0 - beta) * terms['key_enhanced'])
            if 'support_aligned' in terms:
                total = total + terms['support_aligned']
        return self.loss_weight * total

    def forward(self,
                decoder: Callable[[Tensor], Tensor],
                key_feat: Tensor,
                enhanced_feat: Tensor,
                support_feats: Optional[Tensor] = None,
                aligned_feats: Optional[Tensor] = None,
                gt_heatmaps: Optional[Tensor] = None,
                keypoint_weights: Optional[Tensor] = None,
                pred_heatmaps: Optional[Tensor] = None) -> Tensor:
        """Compute ``loss_weight * L_MI``; arguments as in
        :meth:`compute_terms`.

        Returns:
            Tensor: Scalar loss.
        """
        terms = self.compute_terms(decoder, key_feat, enhanced_feat,
                                   support_feats, aligned_feats, gt_heatmaps,
                                   keypoint_weights, pred_heatmaps)
        return self.combine_terms(terms)


def _repeat_frames(maps: Tensor, num_frames: int) -> Tensor:
    """(B, K, H, W) -> (B * num_frames, K, H, W), frame index fastest, the
    order of ``support.flatten(0, 1)``."""
    return maps.unsqueeze(1).expand(-1, num_frames, -1, -1, -1).flatten(0, 1)
