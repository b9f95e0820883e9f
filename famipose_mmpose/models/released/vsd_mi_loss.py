# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""The mutual-information loss of the authors' released code, replicated."""
from typing import List

import torch
from mmpose.registry import MODELS
from torch import Tensor

from ..losses.vsd_mi_loss import MIInputs, VSDMILoss, WeightedTerm, spatial_log_softmax


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
            f'ReleasedVSDMILoss: maps {tuple(input_maps.shape)} and '
            f'{tuple(target_maps.shape)} must have the same shape.')
    p = spatial_log_softmax(input_maps.detach(), temperature).exp()
    log_q = spatial_log_softmax(target_maps, temperature)
    return (log_q.exp() * (log_q - p)).mean()


def _repeat_frames(maps: Tensor, num_frames: int) -> Tensor:
    """(B, K, H, W) -> (B * num_frames, K, H, W), frame index fastest, the
    order of ``support.flatten(0, 1)``."""
    return maps.unsqueeze(1).expand(-1, num_frames, -1, -1, -1).flatten(0, 1)


@MODELS.register_module()
class ReleasedVSDMILoss(VSDMILoss):
    r"""Replica of the MI loss of the authors' released FAMI-Pose code
    (``Alignment_V15`` + ``AlignmentMIFunction_Term6_V1``), numerically
    stable.

    Notation as in :class:`~famipose_mmpose.models.losses.VSDMILoss`, with
    ``r(a, b) = mean_{b,k,pixel} q_b * (log q_b - p_a)`` (see
    :func:`released_kl_div_term`; ``a`` detached, ``b`` gets the gradient,
    ``p_a = softmax(a / T)``, ``q_b = softmax(b / T)``), ``Yhat`` = the
    network's final heatmaps (with gradient) and feature-feature terms on
    the raw C feature channels (no decoder):

    .. math::
        L_{MI} = -\beta\,r(D(\tilde z), \hat Y) + \beta\,r(z_t, \tilde z)
                 + r(D(z_t), \hat Y) - r(z_t, \tilde z)
                 + r(D(z_s), \hat Y) - r(z_s, \tilde z)

    (the released code lists ``r(z_t, z~)`` twice; it is computed once with
    coefficient ``beta - 1``). The supporting terms are averaged over the
    supporting features passed in (one fused feature with
    :class:`~famipose_mmpose.models.released.ReleasedLCM`, as in the
    authors' code). The ground truth is never used; ``beta`` may take any
    value. How the paper's loss differs: see
    :class:`~famipose_mmpose.models.losses.VSDMILoss`.

    Args:
        loss_weight (float): The paper's alpha. Defaults to 0.5
        beta (float): Weight of the primary term. Defaults to 0.1
        temperature (float): Spatial softmax temperature. Defaults to 0.05
        label_source, use_target_weight, reduction: Accepted and checked as
            by :class:`~famipose_mmpose.models.losses.VSDMILoss`, unused
            (the released formula fixes all three).
    """

    def _check_beta(self, beta: float) -> None:
        """Any ``beta``: the released formula is unbounded anyway."""

    @property
    def needs_prediction(self) -> bool:
        """bool: always, ``Yhat`` is the network's final heatmaps."""
        return True

    @property
    def needs_ground_truth(self) -> bool:
        """bool: never."""
        return False

    def key_frame_objective(self, inputs: MIInputs) -> List[WeightedTerm]:
        r"""The released primary term and key-frame regulariser:

        .. math::
            -\beta\,r(D(\tilde z), \hat Y) + (\beta - 1)\,r(z_t, \tilde z)
            + r(D(z_t), \hat Y)

        Args:
            inputs (MIInputs): The features; ``pred_heatmaps`` required.

        Returns:
            list[WeightedTerm]: ``y_enhanced`` (weight ``-beta``),
            ``key_enhanced`` (``beta - 1``) and ``y_key`` (1).
        """
        pred = inputs.pred_heatmaps
        if pred is None:
            raise ValueError(
                'ReleasedVSDMILoss: pred_heatmaps (the final heatmaps with '
                'gradient) are required.')
        temp = self.temperature
        with torch.no_grad():
            dec_key = inputs.decoder(inputs.key_feat)
            dec_enh = inputs.decoder(inputs.enhanced_feat)
        return [
            WeightedTerm('y_enhanced', -self.beta,
                         released_kl_div_term(dec_enh, pred, temp)),
            WeightedTerm(
                'key_enhanced', self.beta - 1.0,
                released_kl_div_term(inputs.key_feat, inputs.enhanced_feat,
                                     temp)),
            WeightedTerm('y_key', 1.0,
                         released_kl_div_term(dec_key, pred, temp)),
        ]

    def supporting_objective(self, inputs: MIInputs) -> List[WeightedTerm]:
        r"""The released supporting-frame regulariser:

        .. math::
            r(D(z_s), \hat Y) - r(z_s, \tilde z)

        Args:
            inputs (MIInputs): The features; ``pred_heatmaps`` required.

        Returns:
            list[WeightedTerm]: ``y_support`` (weight 1) and
            ``support_enhanced`` (-1); empty without supporting features.
        """
        if inputs.support_feats is None:
            return []
        num_sup = inputs.support_feats.shape[1]
        flat_sup = inputs.support_feats.flatten(0, 1)
        with torch.no_grad():
            dec_sup = inputs.decoder(flat_sup)
        temp = self.temperature
        return [
            WeightedTerm(
                'y_support', 1.0,
                released_kl_div_term(
                    dec_sup, _repeat_frames(inputs.pred_heatmaps, num_sup),
                    temp)),
            WeightedTerm(
                'support_enhanced', -1.0,
                released_kl_div_term(
                    flat_sup, _repeat_frames(inputs.enhanced_feat, num_sup),
                    temp)),
        ]
