"""mmpose's stock `tools/train.py`, run unchanged (this file is what `mim train famipose CONFIG` executes).

All arguments are mmpose's; configs of this project import the plugin through `custom_imports`.
"""
import os.path as osp
import runpy

import mmpose

if __name__ == '__main__':
    runpy.run_path(osp.join(osp.dirname(mmpose.__file__), '.mim', 'tools', 'train.py'), run_name='__main__')
