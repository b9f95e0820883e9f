# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""The authors' released Global Transformation Module: a translation."""
from mmpose.registry import MODELS
from torch import Tensor

from ..necks.gtm import GlobalTransformationModule


@MODELS.register_module()
class ReleasedGTM(GlobalTransformationModule):
    """The GTM of the authors' released FAMI-Pose code (``Alignment_V15``).

    Differs from :class:`~famipose_mmpose.models.necks.GlobalTransformationModule`
    (the paper's affine GTM) in what the regressor sees and predicts: it sees
    the difference ``sup - key`` (C channels) and outputs ``(tx, ty)`` in
    feature pixels; the warp is ``out(x, y) = sup(x - tx, y - ty)`` (what
    ``kornia.geometry.warp_affine`` does with ``[[1, 0, tx], [0, 1, ty]]``
    and ``align_corners=True``). No activation between the Linear layers, as
    released. The last layer starts at zero, i.e. at the identity (the
    released code does not initialise it so).

    Arguments as for the paper's GTM; the defaults build the released
    regressor for 48-channel 96x72 features: ``BasicBlock(48 -> 16)``, five
    3x3 stride-2 conv + BN + ReLU, flatten 144, Linear 144-64-64-2.
    """

    num_input_feats = 1
    identity_params = (0., 0.)
    hidden_activation = None

    def regressor_input(self, key_feat: Tensor, sup_feat: Tensor) -> Tensor:
        """What the regressor sees: ``sup - key``.

        Args:
            key_feat (Tensor): (N, C, H, W) key-frame features.
            sup_feat (Tensor): (N, C, H, W) supporting-frame features.

        Returns:
            Tensor: (N, C, H, W).
        """
        return sup_feat - key_feat

    def params_to_theta(self, params: Tensor) -> Tensor:
        """Turn regressed shifts into ``affine_grid`` matrices.

        Args:
            params (Tensor): (N, 2) shifts ``(tx, ty)`` in feature pixels.

        Returns:
            Tensor: (N, 2, 3).
        """
        return self.translation_to_theta(params)

    def translation_to_theta(self, translation: Tensor) -> Tensor:
        """Convert per-sample shifts in feature pixels into ``affine_grid``
        matrices.

        Args:
            translation (Tensor): (N, 2) shifts ``(tx, ty)`` in feature
                pixels; the warped feature is ``sup(x - tx, y - ty)``.

        Returns:
            Tensor: (N, 2, 3) matrices in normalised coordinates.
        """
        height, width = self.feat_size
        if self.align_corners:
            scale_x, scale_y = 2.0 / (width - 1), 2.0 / (height - 1)
        else:
            scale_x, scale_y = 2.0 / width, 2.0 / height
        num = translation.shape[0]
        theta = translation.new_zeros(num, 2, 3)
        theta[:, 0, 0] = 1.0
        theta[:, 1, 1] = 1.0
        theta[:, 0, 2] = -translation[:, 0] * scale_x
        theta[:, 1, 2] = -translation[:, 1] * scale_y
        return theta
