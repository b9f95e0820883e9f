"""FAMI-Pose (CVPR 2022) for MMPose 1.x.

Importing this package registers its datasets, transforms, models and metrics into mmpose's registries (configs
do it with ``custom_imports = dict(imports=['famipose_mmpose'], allow_failed_imports=False)``) and makes the stock
mmpose tools able to load mmengine checkpoints safely under torch >= 2.6 (see :mod:`famipose_mmpose.checkpoint`).
"""
from .apis import *  # noqa: F401,F403
from .checkpoint import allow_mmengine_checkpoint_globals, register_safe_local_loader
from .datasets import *  # noqa: F401,F403
from .evaluation import *  # noqa: F401,F403
from .models import *  # noqa: F401,F403
from .version import __version__

allow_mmengine_checkpoint_globals()
register_safe_local_loader()

__all__ = ['__version__']
