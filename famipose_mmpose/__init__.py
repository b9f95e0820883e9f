"""FAMI-Pose (CVPR 2022) for MMPose 1.x.

Importing this package registers its datasets, transforms, models and metrics into mmpose's registries (configs
do it with ``custom_imports = dict(imports=['famipose_mmpose'], allow_failed_imports=False)``) and makes the stock
mmpose tools able to load mmengine checkpoints safely under torch >= 2.6 (see :mod:`famipose_mmpose.checkpoint`).
"""
# the components configs name, registered into mmpose's registries on import; the video inference API
# (famipose_mmpose.apis) is imported where it is used
from . import datasets, engine, evaluation, models  # noqa: F401
from .checkpoint import allow_mmengine_checkpoint_globals, register_safe_local_loader
from .version import __version__

allow_mmengine_checkpoint_globals()
register_safe_local_loader()

__all__ = ['__version__']
