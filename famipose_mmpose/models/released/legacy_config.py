# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Read component configs written before the released variants became
classes of their own.

Until then the paper's classes took a mode flag: ``GTM(mode='affine' |
'translation')``, ``LCM(layout='per_frame' | 'released')``,
``FeatureAggregation(mode='sum' | 'concat')`` and ``VSDMILoss(mode='vsd' |
'released')``. Configs saved with a checkpoint (and command lines such as
``--cfg-options model.mi_loss.mode=released``) still carry them.
"""
import logging
from typing import Dict, Optional, Tuple

from mmengine.logging import print_log
from mmpose.utils.typing import OptConfigType

# paper type -> (flag, {flag value: the class that value now names; None
# for the paper's own path})
_LEGACY_FLAGS: Dict[str, Tuple[str, Dict[str, Optional[str]]]] = {
    'GTM': ('mode', dict(affine=None, translation='ReleasedGTM')),
    'GlobalTransformationModule': ('mode',
                                   dict(affine=None,
                                        translation='ReleasedGTM')),
    'LCM': ('layout', dict(per_frame=None, released='ReleasedLCM')),
    'LocalCalibrationModule': ('layout',
                               dict(per_frame=None, released='ReleasedLCM')),
    'FeatureAggregation': ('mode',
                           dict(sum=None, concat='ConcatFeatureAggregation')),
    'VSDMILoss': ('mode', dict(vsd=None, released='ReleasedVSDMILoss')),
}
# arguments the old flag made meaningless, dropped with it
_IGNORED_BY_RELEASED = dict(ReleasedLCM=('num_layers', ))


def upgrade_legacy_cfg(cfg: OptConfigType) -> OptConfigType:
    """Translate a component config that still has an old mode flag.

    The flag is removed; a released value also switches ``type`` to the
    released class (e.g. ``dict(type='GTM', mode='translation', ...)`` ->
    ``dict(type='ReleasedGTM', ...)``). Any other config is returned as is.

    Args:
        cfg (dict, optional): A GTM, LCM, aggregation or MI loss config.

    Returns:
        dict, optional: ``cfg`` itself, or an upgraded shallow copy.
    """
    if cfg is None or cfg.get('type') not in _LEGACY_FLAGS:
        return cfg
    flag, targets = _LEGACY_FLAGS[cfg['type']]
    if flag not in cfg:
        return cfg
    value = cfg[flag]
    if value not in targets:
        raise ValueError(
            f"{cfg['type']}: unknown {flag} {value!r} in the model config; "
            f'the {flag} flag is gone: remove it for the paper\'s path '
            f'({", ".join(k for k, v in targets.items() if v is None)}) or '
            'set type to ' + ' / '.join(v for v in targets.values() if v) +
            ' (famipose_mmpose.models.released).')
    upgraded = cfg.copy()
    upgraded.pop(flag)
    new_type = targets[value]
    if new_type is not None:
        upgraded['type'] = new_type
        for key in _IGNORED_BY_RELEASED.get(new_type, ()):
            upgraded.pop(key, None)
    print_log(
        f"{cfg['type']}({flag}={value!r}) is an outdated config: use "
        f"type={upgraded['type']!r} without {flag} (upgraded here).",
        logger='current',
        level=logging.WARNING)
    return upgraded
