"""Run mmpose's stock train/test tool on several CPU processes (gloo), e.g. to check multi-process correctness.

    torchrun --nproc_per_node=2 tools/dist_cpu.py train CONFIG [train.py arguments...]
    torchrun --nproc_per_node=2 tools/dist_cpu.py test CONFIG CHECKPOINT [test.py arguments...]

On GPUs nothing of this is needed: run mmpose's ``tools/dist_train.sh`` or
``torchrun ... <mmpose>/.mim/tools/train.py CONFIG --launcher pytorch`` (NCCL) unchanged.

On a CPU-only machine mmengine 0.10.7's ``pytorch`` launcher calls ``torch.cuda.set_device`` and its default
model wrapper passes ``device_ids=[LOCAL_RANK]`` to ``DistributedDataParallel``; both fail without a GPU.
This launcher does the two smallest things that avoid them without patching mmengine:

1. it creates the gloo process group from torchrun's environment itself; mmengine's ``Runner.setup_env`` skips its
   own set-up when a process group already exists;
2. it appends ``--launcher pytorch`` and ``--cfg-options env_cfg.dist_cfg.backend=gloo
   model_wrapper_cfg.type=MMDistributedDataParallel model_wrapper_cfg.device_ids=None``: the config's
   ``device_ids=None`` takes precedence over the runner's default ``[LOCAL_RANK]``, which is what DDP expects for
   a CPU module.

Then it runs the stock tool file from the installed mmpose package (``mmpose/.mim/tools``) as ``__main__``.

When the tool has finished, the launcher destroys the process group and ends the process without the
interpreter's final clean-up (``exit_before_finalization``): with torch 2.13, gloo's worker threads outlive
``destroy_process_group`` while DDP still holds the group, and one that drops a collective's tensor while the
interpreter finalises aborts the process (SIGABRT after a successful run, about one run in ten of ``test``).

Because the launcher sets ``model_wrapper_cfg``, mmengine ignores a top-level ``find_unused_parameters = True`` of
the config (it reads that key only when ``model_wrapper_cfg`` is unset); pass
``--cfg-options model_wrapper_cfg.find_unused_parameters=True`` instead when a model needs it (FAMI-Pose on video
input does not).
"""
import atexit
import gc
import os
import os.path as osp
import runpy
import sys

import mmpose
import torch.distributed as dist

CPU_DDP_OPTIONS = [
    '--launcher', 'pytorch', '--cfg-options', 'env_cfg.dist_cfg.backend=gloo',
    'model_wrapper_cfg.type=MMDistributedDataParallel', 'model_wrapper_cfg.device_ids=None',
    'model_wrapper_cfg.broadcast_buffers=False'
]


def exit_before_finalization(status: int) -> None:
    """Do what a normal interpreter exit does for the program, then end the process before finalisation.

    ``dist.destroy_process_group`` stops gloo's worker threads only once the last reference to the group is gone,
    and torch's DDP keeps references to it that are not freed before the interpreter shuts down. A worker thread
    that releases the tensor of a finished collective needs the GIL; if the interpreter is finalising by then,
    CPython ends the thread from inside C++ code and the process aborts ("terminate called without an active
    exception"), turning a finished run into a failure. Ending the process here avoids the finalisation:
    the exit handlers (logging's flush and close among them) and the collection of unreachable objects (files
    left open are closed) run first, as they would at a normal exit.
    """
    atexit._run_exitfuncs()
    gc.collect()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def main() -> None:
    if len(sys.argv) < 3 or sys.argv[1] not in ('train', 'test'):
        sys.exit(__doc__)
    if 'RANK' not in os.environ or 'WORLD_SIZE' not in os.environ:
        sys.exit('tools/dist_cpu.py must be started by torchrun (RANK/WORLD_SIZE are not set), e.g. '
                 '`torchrun --nproc_per_node=2 tools/dist_cpu.py train CONFIG`')
    tool = osp.join(osp.dirname(mmpose.__file__), '.mim', 'tools', f'{sys.argv[1]}.py')
    dist.init_process_group(backend='gloo')
    sys.argv = [tool, *sys.argv[2:], *CPU_DDP_OPTIONS]
    try:
        runpy.run_path(tool, run_name='__main__')
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    exit_before_finalization(0)  # reached only when the tool succeeded; a failure raises as usual


if __name__ == '__main__':
    main()
