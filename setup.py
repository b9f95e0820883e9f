"""Shim for the editable install that ``mim train famipose`` can find.

All metadata is in pyproject.toml.  ``python setup.py develop`` (used by tools/build_env.sh) links the source tree
into the environment the way OpenMMLab packages are installed for development, so that openmim, which looks for
``<distribution location>/famipose_mmpose/.mim/tools/train.py``, finds the tools.  A PEP 660 editable install puts
the distribution's location in site-packages, where that folder does not exist.
"""
from setuptools import setup

setup()
