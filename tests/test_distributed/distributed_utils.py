"""Helpers of the multi-process tests: a 2-process gloo group, hand-made PoseTrack18 data, and the worker functions
that ``torch.multiprocessing.spawn`` runs (they live in this importable module, not in a test file, so that the
spawned interpreters can unpickle them).

Heavy imports (torch.distributed, mmengine, mmpose, the plugin) happen inside the functions: a spawned worker
imports this module before it joins the process group.
"""
import argparse
import copy
import json
import os
import os.path as osp
import pickle
import socket
import traceback
from datetime import timedelta
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FAMI_CONFIG = osp.join(REPO, 'configs', 'synthetic', 'famipose_hrnet-tiny_1xb32-12e_synthposetrack-128x96.py')
DIST_CPU = osp.join(REPO, 'tools', 'dist_cpu.py')
WORLD_SIZE = 2
# a rank that waits for a dead peer gives up after this long instead of gloo's 30 minutes
GROUP_TIMEOUT = timedelta(seconds=120)

# ----------------------------------------------------------------------------------------------------------------
# process group
# ----------------------------------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def join_group(rank: int, world_size: int, port: int) -> None:
    """Join a gloo process group on 127.0.0.1:``port`` the way torchrun's environment describes one."""
    import torch
    import torch.distributed as dist
    os.environ.update(
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=str(port),
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world_size))
    torch.set_num_threads(1)
    dist.set_debug_level(dist.DebugLevel.INFO)  # DDP's unused-parameter error then names the parameters
    dist.init_process_group('gloo', rank=rank, world_size=world_size, timeout=GROUP_TIMEOUT)


def leave_group() -> None:
    import torch.distributed as dist
    if dist.is_initialized():
        dist.destroy_process_group()


def exit_worker() -> None:
    """End a worker that succeeded the way ``tools/dist_cpu.py`` ends its processes (see its
    ``exit_before_finalization``: gloo threads kept alive by DDP can abort a finalising interpreter)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location('dist_cpu', DIST_CPU)
    launcher = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(launcher)
    launcher.exit_before_finalization(0)


def spawn(worker, *args) -> None:
    """Run ``worker(rank, WORLD_SIZE, port, *args)`` in ``WORLD_SIZE`` fresh processes; re-raise a worker's error."""
    import torch.multiprocessing as mp
    mp.spawn(worker, args=(WORLD_SIZE, free_port(), *args), nprocs=WORLD_SIZE, join=True)


# ----------------------------------------------------------------------------------------------------------------
# hand-made PoseTrack18 ground truth and predictions
# ----------------------------------------------------------------------------------------------------------------

KEYPOINT_NAMES = ('nose', 'head_bottom', 'head_top', 'left_ear', 'right_ear', 'left_shoulder', 'right_shoulder',
                  'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee',
                  'right_knee', 'left_ankle', 'right_ankle')
EARS = (3, 4)  # never annotated in PoseTrack18
# a stick figure relative to its nose; its 30 x 40 px head box gives a PCKh@0.5 radius of 0.5 * 0.6 * 50 = 15 px
FIGURE = np.array([(0, 0), (0, 20), (0, -20), (0, 0), (0, 0), (20, 30), (-20, 30), (30, 60), (-30, 60), (35, 90),
                   (-35, 90), (15, 100), (-15, 100), (15, 140), (-15, 140), (15, 180), (-15, 180)], np.float64)
# video name -> per frame: the nose positions of its annotated people, or None for a frame without annotation
GT_VIDEOS: Dict[str, List[Optional[List[Tuple[int, int]]]]] = {
    '000011_mpii_test': [[(60, 40), (200, 40), (340, 40)], [(62, 42), (202, 40)], [(64, 44), (204, 40), (344, 44)]],
    '000012_mpii_test': [[(80, 30)], None, [(84, 36), (240, 30)]],
}
NUM_SAMPLES = 17  # the hand-made prediction set (see prediction_samples)


def image_id(video: str, index: int) -> int:
    """PoseTrack18-style image id of frame ``index`` of ``video``."""
    return 10000000000 + int(video.split('_')[0]) * 10000 + index


def write_ground_truth(gt_dir: str) -> None:
    """Write one PoseTrack18 ``<video>.json`` per entry of :data:`GT_VIDEOS` into ``gt_dir``.

    The second frame of ``000011`` has an ignore region around x = 340, where a prediction without ground truth
    lies (poseval drops it).
    """
    os.makedirs(gt_dir, exist_ok=True)
    category = dict(supercategory='person', id=1, name='person', keypoints=list(KEYPOINT_NAMES), skeleton=[])
    for video, frames in GT_VIDEOS.items():
        images, annotations = [], []
        for i, people in enumerate(frames):
            image = dict(
                id=image_id(video, i),
                file_name=f'images/val/{video}/{i:06d}.jpg',
                is_labeled=people is not None,
                frame_id=image_id(video, i),
                vid_id=video.split('_')[0],
                nframes=len(frames))
            if video == '000011_mpii_test' and i == 1:
                image['ignore_regions_x'] = [[300, 390, 390, 300]]
                image['ignore_regions_y'] = [[0, 0, 240, 240]]
            images.append(image)
            for k, nose in enumerate(people or []):
                kpts = []
                for j, (dx, dy) in enumerate(FIGURE):
                    kpts += [0, 0, 0] if j in EARS else [nose[0] + dx, nose[1] + dy, 1]
                annotations.append(
                    dict(
                        image_id=image_id(video, i),
                        id=image_id(video, i) * 100 + k,
                        track_id=k,
                        category_id=1,
                        keypoints=kpts,
                        num_keypoints=15,
                        bbox_head=[nose[0] - 15, nose[1] - 20, 30, 40]))
        with open(osp.join(gt_dir, f'{video}.json'), 'w') as f:
            json.dump(dict(images=images, annotations=annotations, categories=[category]), f)


def prediction_samples(num: int = NUM_SAMPLES) -> List[dict]:
    """``num`` top-down data samples as mmengine hands them to ``metric.process``, deterministic.

    Every annotated person gets a prediction whose joints are shifted by up to 24 px (about half of them land
    outside the 15 px PCKh radius), with random keypoint and box scores; then come a false positive, a prediction
    in the ignore region, one in the frame without annotation, a false positive in a third frame (a video without
    ground truth is refused by the metric), a second detection of an annotated person and another false positive.
    People of the same frame follow each other, so a 2-rank sampler splits every frame between the ranks.
    """
    rng = np.random.default_rng(20220601)
    placed = []
    for video, frames in GT_VIDEOS.items():
        for i, people in enumerate(frames):
            for nose in people or []:
                placed.append((video, i, nose))
    placed += [('000011_mpii_test', 0, (470, 60)), ('000011_mpii_test', 1, (342, 40)),
               ('000012_mpii_test', 1, (80, 30)), ('000012_mpii_test', 2, (400, 40)),
               ('000011_mpii_test', 2, (70, 40)), ('000012_mpii_test', 0, (160, 50))]
    samples = []
    for sid, (video, frame, nose) in enumerate(placed[:num]):
        keypoints = np.asarray(nose, np.float64) + FIGURE + rng.uniform(-24, 24, size=FIGURE.shape)
        keypoint_scores = rng.uniform(0.05, 1.0, size=len(FIGURE))
        samples.append(
            dict(
                id=sid,
                img_id=image_id(video, frame),
                img_path=f'/data/posetrack18/images/val/{video}/{frame:06d}.jpg',
                pred_instances=dict(
                    keypoints=keypoints.astype(np.float32)[None],
                    keypoint_scores=keypoint_scores.astype(np.float32)[None],
                    bbox_scores=np.array([rng.uniform(0.3, 1.0)], np.float32)),
                gt_instances=dict(bbox_scales=np.array([[80., 220.]], np.float32))))
    if len(samples) != num:
        raise ValueError(f'prediction_samples: only {len(samples)} predictions are defined, {num} asked for.')
    return samples


def posetrack18_metainfo() -> dict:
    """mmpose's PoseTrack18 dataset metainfo, as a dataset hands it to the metric."""
    import mmpose
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    return parse_pose_metainfo(
        dict(from_file=osp.join(osp.dirname(mmpose.__file__), '.mim/configs/_base_/datasets/posetrack18.py')))


def build_metric(gt_dir: str, out_dir: str, collect_device: str = 'cpu'):
    """The metric under test, with the dataset metainfo set as the runner sets it."""
    import famipose_mmpose  # noqa: F401
    from famipose_mmpose.evaluation import PoseTrackAPMetric
    metric = PoseTrackAPMetric(gt_dir=gt_dir, out_dir=out_dir, collect_device=collect_device)
    metric.dataset_meta = posetrack18_metainfo()
    return metric


def process_in_batches(metric, samples: Sequence[dict], indices: Sequence[int], batch_size: int = 2) -> None:
    """Feed ``samples[indices]`` to ``metric.process`` in batches, as a dataloader would."""
    indices = list(indices)
    for start in range(0, len(indices), batch_size):
        metric.process({}, [copy.deepcopy(samples[k]) for k in indices[start:start + batch_size]])


# metric cases: name -> (number of samples, collect_device); 17 samples on 2 ranks make the sampler pad one
METRIC_CASES = {
    'even_cpu_collect': (16, 'cpu'),
    'padded_cpu_collect': (17, 'cpu'),
    'padded_device_collect': (17, 'gpu'),  # mmengine's all_gather_object path; it runs on gloo with CPU tensors
}


def run_metric_cases(gt_dir: str, out_root: str) -> None:
    """Each rank processes the samples mmengine's ``DefaultSampler`` gives it, then ``evaluate(size)``.

    Writes ``<out_root>/<case>/rank<rank>.pkl`` with the returned metrics and the sample ids this rank processed;
    prediction files go to ``<out_root>/<case>/ddp``. Runs inside a joined process group.
    """
    import torch.distributed as dist
    from mmengine.dataset import DefaultSampler
    for case, (num, collect_device) in METRIC_CASES.items():
        samples = prediction_samples(num)
        sampler = DefaultSampler(samples, shuffle=False, round_up=True)  # mmengine's default: pads the last round
        indices = list(sampler)
        metric = build_metric(gt_dir, osp.join(out_root, case, 'ddp'), collect_device)
        process_in_batches(metric, samples, indices)
        metrics = metric.evaluate(num)
        with open(osp.join(out_root, case, f'rank{dist.get_rank()}.pkl'), 'wb') as f:
            pickle.dump(dict(metrics=dict(metrics), processed_ids=[samples[k]['id'] for k in indices]), f)


# ----------------------------------------------------------------------------------------------------------------
# DDP train steps of FAMIPose variants, wrapped exactly as tools/dist_cpu.py makes mmengine's Runner wrap them
# ----------------------------------------------------------------------------------------------------------------


def launcher_cfg_options() -> dict:
    """The ``--cfg-options`` that tools/dist_cpu.py appends, parsed as mmpose's train.py parses them."""
    import importlib.util

    from mmengine.config import DictAction
    spec = importlib.util.spec_from_file_location('dist_cpu', DIST_CPU)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    parser = argparse.ArgumentParser()
    parser.add_argument('--launcher')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(module.CPU_DDP_OPTIONS).cfg_options


# name -> cfg options merged into the synthetic FAMI-Pose config (the tiny HRNet has 16 feature channels)
MODEL_VARIANTS: Dict[str, dict] = {
    'default': {},
    'no_mi_loss': {
        'model.mi_loss': None
    },
    'gtm_translation_mi_released': {
        'model.gtm.type': 'ReleasedGTM',
        'model.mi_loss.type': 'ReleasedVSDMILoss'
    },
    'released_lcm_concat': {
        'model.lcm.type': 'ReleasedLCM',
        'model.lcm.num_supporting': 4,
        'model.aggregation': dict(type='ConcatFeatureAggregation', in_channels=16, num_inputs=2)
    },
    'per_frame_lcm_concat': {
        'model.aggregation': dict(type='ConcatFeatureAggregation', in_channels=16, num_inputs=5)
    },
    'no_gtm_no_lcm': {
        'model.gtm': None,
        'model.lcm': None
    },
    'backbone_bn_train': {
        'model.backbone_bn_train': True
    },
}
NUM_STEPS = 2  # DDP's unused-parameter check fires in the forward of the step after the one that missed gradients


def run_ddp_variants(data_root: str, out_dir: str) -> None:
    """Train every :data:`MODEL_VARIANTS` entry for :data:`NUM_STEPS` DDP steps, then a negative control.

    Rank 0 writes ``<out_dir>/variants.pkl``: per variant the losses, an error message (``None`` when the steps
    ran) and whether parameters and frozen buffers agree across ranks. The negative control is the default model
    with one extra trainable parameter that no loss uses: DDP must refuse it. Runs inside a joined process group.
    """
    import torch.distributed as dist
    results = {}
    cfg, batches = _config_and_batches(data_root)
    for name, options in MODEL_VARIANTS.items():
        results[name] = _ddp_steps(cfg, options, batches, add_unused_parameter=False)
    results['negative_control_unused_parameter'] = _ddp_steps(cfg, {}, batches, add_unused_parameter=True)
    if dist.get_rank() == 0:
        with open(osp.join(out_dir, 'variants.pkl'), 'wb') as f:
            pickle.dump(results, f)


def group_worker(rank: int, world_size: int, port: int, gt_dir: str, metric_out: str, data_root: str,
                 variants_out: str) -> None:
    """One process of the group: the metric cases, then the DDP variants (one group start-up for both)."""
    join_group(rank, world_size, port)
    try:
        run_metric_cases(gt_dir, metric_out)
        run_ddp_variants(data_root, variants_out)
    finally:
        leave_group()
    exit_worker()  # only after success: a worker's exception must reach mp.spawn


def _config_and_batches(data_root: str):
    """The synthetic FAMI-Pose config with the launcher's options, and NUM_STEPS batches of this rank's shard."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner

    import famipose_mmpose  # noqa: F401
    init_default_scope('mmpose')
    cfg = Config.fromfile(FAMI_CONFIG)
    cfg.merge_from_dict(launcher_cfg_options())
    cfg.merge_from_dict({'model_wrapper_cfg.find_unused_parameters': False})  # mmengine's default, made explicit
    loader_cfg = copy.deepcopy(cfg.train_dataloader)
    loader_cfg.update(batch_size=2, num_workers=0, persistent_workers=False)
    loader_cfg.dataset.data_root = data_root
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    batches = []
    for batch in loader:
        batches.append(batch)
        if len(batches) == NUM_STEPS:
            break
    return cfg, batches


def _ddp_steps(cfg, options: dict, batches: list, add_unused_parameter: bool) -> dict:
    """Build a variant, wrap it as the Runner does under tools/dist_cpu.py, run the steps, compare across ranks."""
    import torch
    import torch.distributed as dist
    from mmengine.optim import OptimWrapper
    from mmpose.registry import MODEL_WRAPPERS, MODELS
    cfg = copy.deepcopy(cfg)
    cfg.merge_from_dict(options)
    torch.manual_seed(0)
    try:
        model = MODELS.build(cfg.model)
        model.init_weights()
    except Exception:  # a variant the model rejects fails its own test, with the traceback
        return dict(error=traceback.format_exc())
    if add_unused_parameter:
        model.register_parameter('unused_probe', torch.nn.Parameter(torch.zeros(3)))
    frozen_before = {k: v.detach().clone() for k, v in model.backbone.state_dict().items()}
    # Runner.wrap_model: the config's model_wrapper_cfg, with device_ids=[LOCAL_RANK] only as a default
    default_args = dict(module=model, device_ids=[int(os.environ['LOCAL_RANK'])])
    ddp = MODEL_WRAPPERS.build(copy.deepcopy(cfg.model_wrapper_cfg), default_args=default_args)
    trainable = [p for p in model.parameters() if p.requires_grad]
    trainable_before = [p.detach().clone() for p in trainable]
    optim_wrapper = OptimWrapper(torch.optim.SGD(trainable, lr=0.05))
    losses, error = [], None
    try:
        for batch in batches:
            log_vars = ddp.train_step(batch, optim_wrapper)
            losses.append(float(log_vars['loss']))
    except Exception:  # DDP's unused-parameter check raises a RuntimeError in the step after the unused one
        error = traceback.format_exc()
    result = dict(losses=losses, error=error, find_unused_parameters=ddp.find_unused_parameters,
                  wrapper=type(ddp).__name__, device_ids=ddp.device_ids)
    if error is None:
        flat = torch.cat([p.detach().reshape(-1) for p in trainable])
        gathered = [torch.empty_like(flat) for _ in range(dist.get_world_size())]
        dist.all_gather(gathered, flat)
        result['params_equal_across_ranks'] = all(torch.equal(gathered[0], g) for g in gathered[1:])
        result['params_changed'] = any(not torch.equal(a, b.detach()) for a, b in zip(trainable_before, trainable))
        frozen_after = model.backbone.state_dict()
        floating = [k for k, v in frozen_before.items() if v.is_floating_point()]
        result['frozen_params_unchanged'] = all(
            torch.equal(frozen_before[name], p.detach()) for name, p in model.backbone.named_parameters())
        result['frozen_buffers_unchanged'] = all(torch.equal(frozen_before[k], frozen_after[k]) for k in floating)
        result['frozen_without_grad'] = all(p.grad is None and not p.requires_grad
                                            for p in model.backbone.parameters())
    return result
