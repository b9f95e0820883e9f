"""The embedded demo: does looking at neighbouring frames help?  (``make demo``; ``make bench`` with controls)

Each *repeat* r generates its own synthetic PoseTrack18-format video set (data seed r: train, val and test videos,
occluders, overlapping people, motion blur) and trains with training seed r:

1. stage 1: the single-frame baseline (stock ``TopdownPoseEstimator``) with mmpose's stock ``tools/train.py``; its
   best checkpoint is chosen on the val split;
2. stage 2, one run per *arm*, all from that stage-1 checkpoint with the same epochs, schedule and seed: FAMI-Pose,
   its controls (static support: every supporting frame replaced by the key frame; matched budget: the single-frame
   model trained for the same extra epochs) and, in ``make bench``, the paper's ablations (Tables 6 and 7, and the
   released MI loss, ``ReleasedVSDMILoss``); stage 2 validates once, at its last epoch, which is the checkpoint tested;
3. tests every arm with mmpose's stock ``tools/test.py`` on the held-out **test** split (detected boxes);
4. reports PoseTrack AP per joint group on all labeled test frames and on the occluded / blurred ones, per repeat
   (``repeat<r>/results.md``, a picture of the hardest test clip, the training curves) and over the repeats
   (``results.md``: mean ± std per arm and the paired differences FAMI-Pose minus each control).

Nothing chosen here looks at the test split: stage 1's best epoch is picked on val, stage 2 has no choice to make.
Everything goes under ``--work-dir``; a stage whose outputs exist with the same settings (data options and seed,
epochs, training seed, options) is not run again (``--force`` reruns); one made with other settings is redone.
``--fami-options`` go to every arm built on the FAMI-Pose config. ``--jobs N`` runs N of a repeat's stage-2 arms
(and stage 1's test) at a time, each tool with its share of the CPU cores as torch threads; on 2 cores two
one-thread runs side by side finish sooner than the same runs one after the other with two threads each.
"""
import argparse
import functools
import json
import os
import os.path as osp
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

STAGE1_CONFIG = osp.join(REPO, 'configs', 'synthetic', 'td-hm_hrnet-tiny_1xb32-12e_synthposetrack-128x96.py')
FAMI_CONFIG = osp.join(REPO, 'configs', 'synthetic', 'famipose_hrnet-tiny_1xb32-12e_synthposetrack-128x96.py')
MATCHED_CONFIG = osp.join(REPO, 'configs', 'synthetic',
                          'td-hm_hrnet-tiny_1xb32-12e_synthposetrack-128x96_matched-budget.py')
REUSE_CONFIG = osp.join(REPO, 'configs', 'synthetic', 'famipose_hrnet-tiny_1xb32-12e_synthposetrack-128x96_reuse.py')

DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def dataset_options(**fields) -> List[str]:
    """``--cfg-options`` setting dataset fields of the train, val and test dataloaders alike."""
    return [f'{loader}.dataset.{key}={value}' for loader in DATALOADERS for key, value in fields.items()]


class Arm(NamedTuple):
    """One trained and tested model of the comparison."""
    dir_name: str
    config: Optional[str]  # None: the stage-1 model itself
    options: Tuple[str, ...]
    description: str


ARMS: 'OrderedDict[str, Arm]' = OrderedDict([
    ('single-frame', Arm('stage1_single_frame', None, (), 'stage 1: single-frame HRNet, best epoch on val')),
    ('matched budget',
     Arm('matched_budget', MATCHED_CONFIG, (), 'single-frame model, stage-2 epochs and schedule from stage 1')),
    ('static support',
     Arm('static_support', FAMI_CONFIG, tuple(dataset_options(static_support=True)),
         'FAMI-Pose, every supporting frame = the key frame (train and test)')),
    ('FAMI-Pose', Arm('stage2_famipose', FAMI_CONFIG, (), 'GTM + LCM + MI loss, window -2..2')),
    ('GTM only', Arm('ablation_gtm', FAMI_CONFIG, ('model.lcm=None', 'model.mi_loss=None'), 'paper Table 6 (a)')),
    ('GTM + LCM', Arm('ablation_gtm_lcm', FAMI_CONFIG, ('model.mi_loss=None', ), 'paper Table 6 (b)')),
    ('window -1..1',
     Arm('ablation_window1', FAMI_CONFIG, tuple(dataset_options(frame_offsets='[-1,1]')), 'paper Table 7')),
    ('window -3..3',
     Arm('ablation_window3', FAMI_CONFIG, tuple(dataset_options(frame_offsets='[-3,-2,-1,1,2,3]')),
         'paper Table 7')),
    ('MI released', Arm('ablation_mi_released', FAMI_CONFIG, ('model.mi_loss.type=ReleasedVSDMILoss', ),
                        "the authors' released MI formula")),
    ('FAMI-Pose reuse', Arm('stage2_famipose_reuse', REUSE_CONFIG, (),
                            "FAMI-Pose, each supporting frame cropped with the person's own box (reuse mode)")),
])
#: The controls every FAMI-Pose result is compared with (paired, per repeat).
CONTROLS = ('single-frame', 'matched budget', 'static support')

#: The data set of ``make demo`` (generator options; each repeat draws it with its own seed).
DEMO_DATA = dict(preset='demo', num_train_videos=16, num_val_videos=8, num_test_videos=8, frames_per_video=30)
#: ``make bench``'s: three times the training videos (every video has its own seed, so the demo's 16 are the first
#: 16 of these and val and test are the same videos); chosen on val against 16 videos at about the same number of
#: training iterations (1.1-1.2x).
BENCH_DATA = dict(DEMO_DATA, num_train_videos=48)

#: Budgets: data set size (generator options), epochs of each stage, and which arms run on which repeats.
PRESETS = {
    # a minute or two: checks that every arm runs end to end (numbers meaningless)
    'smoke':
    dict(
        data=dict(preset='tiny', frames_per_video=6),
        stage1_epochs=1,
        stage2_epochs=1,
        jobs=1,
        arms={name: [0] for name in ARMS}),
    # about 12 minutes on 2 cores: a third of the bench's training videos, its val and test videos, a short schedule
    # (chosen on val, repeats 0 and 1), the two stage-2 arms side by side
    'demo':
    dict(
        data=DEMO_DATA,
        stage1_epochs=8,
        stage2_epochs=3,
        jobs=2,
        arms={
            'single-frame': [0],
            'static support': [0],
            'FAMI-Pose': [0]
        }),
    'bench':
    dict(
        data=BENCH_DATA,
        stage1_epochs=8,  # as many iterations as 24 epochs of the demo's 16 videos
        stage2_epochs=3,
        jobs=2,
        arms={
            'single-frame': [0, 1, 2],
            'matched budget': [0, 1, 2],
            'static support': [0, 1, 2],
            'FAMI-Pose': [0, 1, 2],
            'GTM only': [0],
            'GTM + LCM': [0],
            'window -1..1': [0],
            'window -3..3': [0],
            'MI released': [0],
            'FAMI-Pose reuse': [0],
        }),
}


_PRINT_LOCK = threading.Lock()  # tools run side by side (--jobs) print whole lines


def say(line: str) -> None:
    with _PRINT_LOCK:
        print(line, flush=True)


def log(message: str) -> None:
    say(f'[demo {time.strftime("%H:%M:%S")}] {message}')


def run_stock_tool(args: List[str], log_file: str, threads: Optional[int] = None) -> None:
    """Run a command, keep its full output in ``log_file`` and echo the progress lines (tagged with the log's folder).

    ``threads`` caps the command's torch/OpenMP threads (``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``); None leaves
    them at torch's default, one per core."""
    tag = osp.basename(osp.dirname(log_file))
    log(f'[{tag}] ' + ' '.join(osp.relpath(a, REPO) if a.startswith(REPO) else a for a in args[:4]) + ' ...')
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    if threads is not None:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    with open(log_file, 'w') as out:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        for line in proc.stdout:
            out.write(line)
            if 'Epoch(train)' in line or 'PoseTrack AP:' in line or 'Error' in line:
                say(f'    [{tag}] ' + line.split(' - mmengine - INFO - ')[-1].rstrip()[:150])
        proc.wait()
    if proc.returncode != 0:
        with open(log_file) as f:
            tail = f.read()[-3000:]
        raise SystemExit(f'{args[1]} failed (exit {proc.returncode}); full log: {log_file}\n{tail}')


def data_options(root: str, pred_dir: Optional[str] = None, test_split: str = 'test') -> List[str]:
    """Point a config at the synthetic set in ``root``: train on train, validate on val, test on ``test_split``
    (``val`` only to choose settings while developing, never for reported numbers)."""
    root = root.rstrip('/') + '/'
    options = [f'train_dataloader.dataset.data_root={root}']
    for split, loader in (('val', 'val'), (test_split, 'test')):
        options += [
            f'{loader}_dataloader.dataset.data_root={root}',
            f'{loader}_dataloader.dataset.ann_file=annotations/posetrack18_{split}.json',
            f'{loader}_dataloader.dataset.bbox_file={root}annotations/posetrack18_{split}_human_detections.json',
            f'{loader}_evaluator.gt_dir={root}annotations/{split}/'
        ]
    if pred_dir is not None:
        options.append(f'test_evaluator.out_dir={pred_dir}')
    return options


def best_checkpoint(work_dir: str) -> str:
    """The run's best checkpoint by validation Total AP, ``best.pth``, which the configs' CheckpointAliasHook keeps
    pointing at it (``last.pth`` for a run that never validated)."""
    for name in ('best.pth', 'last.pth'):
        if osp.exists(osp.join(work_dir, name)):
            return osp.join(work_dir, name)
    raise FileNotFoundError(f'{work_dir} has neither best.pth nor last.pth: the run did not finish, or its config '
                            "lacks dict(type='CheckpointAliasHook') in custom_hooks")


def scalars_file(work_dir: str) -> str:
    runs = sorted(d for d in os.listdir(work_dir) if osp.isfile(osp.join(work_dir, d, 'vis_data', 'scalars.json')))
    return osp.join(work_dir, runs[-1], 'vis_data', 'scalars.json')


#: Generator options added after data sets were recorded, with the value that reproduces those sets exactly: a set
#: (or a stage trained on it) recorded without the option matches a request for that value.
ADDED_DATA_OPTIONS = {'occluder_scale': 1.0}


def data_identity(record: dict) -> dict:
    """A generated set's identity as recorded (``dict(seed=..., config=...)``) with the options of
    :data:`ADDED_DATA_OPTIONS` it predates filled in; everything else is compared as recorded."""
    config = record.get('config')
    if isinstance(config, dict):
        config = {**ADDED_DATA_OPTIONS, **config}
    return dict(record, config=config)


def same_settings(previous: Any, settings: dict) -> bool:
    """Whether a stage's recorded settings (``None`` when there are none) equal ``settings``, each side's data set
    (its ``data`` entry) compared by :func:`data_identity`."""
    if not isinstance(previous, dict):
        return False

    def resolved(record: dict) -> dict:
        return dict(record, data=data_identity(record['data'])) if isinstance(record.get('data'), dict) else record

    return resolved(previous) == resolved(settings)


def prepare_data(root: str, options: dict, seed: int) -> dict:
    """Generate the synthetic set in ``root`` unless it holds one made with the same options; returns its identity
    (generator seed and resolved options), which the training stages record."""
    from famipose_mmpose.synthetic import generate_dataset
    from famipose_mmpose.synthetic.config import make_config
    options = dict(options)
    preset = options.pop('preset')
    wanted = dict(seed=seed, config=make_config(preset, **options).to_dict())
    summary_file = osp.join(root, 'synthetic_posetrack.json')
    if osp.isfile(summary_file) and osp.isfile(osp.join(root, 'annotations', 'val_hard.json')):
        with open(summary_file) as f:
            summary = json.load(f)
        if data_identity(dict(seed=summary.get('seed'), config=summary.get('config'))) == wanted:
            log(f'using the synthetic set in {root}')
            return wanted
        log(f'{root} holds a synthetic set made with other options; generating it anew')
    log(f'generating the synthetic video set in {root} (seed {seed}, {options})')
    summary = generate_dataset(root, preset=preset, seed=seed, overwrite=True, workers=min(2, os.cpu_count() or 1),
                               **options)
    log(f'generated: {json.dumps(summary["splits"])[:300]}')
    return wanted


def schedule_options(config: str, epochs: int) -> List[str]:
    """``--cfg-options`` that fit the config's step schedule (its ``MultiStepLR``, found by type) to ``epochs``:
    it ends with training and decays at 2/3 and 9/10 of it."""
    schedulers = Config.fromfile(config).param_scheduler
    steps = [i for i, scheduler in enumerate(schedulers) if scheduler['type'] == 'MultiStepLR']
    if len(steps) != 1:
        raise ValueError(f'{config}: expected one MultiStepLR in param_scheduler to fit to {epochs} epochs, '
                         f'found {len(steps)}; give the config one step schedule')
    key = f'param_scheduler.{steps[0]}'
    milestones = [max(1, round(epochs * 2 / 3)), max(2, round(epochs * 0.9))]
    return [f'{key}.end={epochs}', f'{key}.milestones=[{milestones[0]},{milestones[1]}]']


def train(config: str, work_dir: str, epochs: int, seed: int, root: str, data_id: dict, extra: Sequence[str],
          force: bool, val_interval: int, threads: Optional[int] = None) -> Tuple[str, bool]:
    """Train with the stock tools/train.py unless ``work_dir`` holds a finished run with the same settings.

    Returns the best checkpoint and whether it was trained now. ``threads``: see :func:`run_stock_tool`."""
    settings = dict(config=osp.relpath(config, REPO), epochs=epochs, seed=seed, data=data_id, options=list(extra))
    if threads is not None:  # the thread count changes the order of float sums: a run with other threads is redone
        settings['threads'] = threads
    settings_file = osp.join(work_dir, 'demo_settings.json')
    if osp.isfile(osp.join(work_dir, 'last_checkpoint')) and not force:
        previous = None
        if osp.isfile(settings_file):
            with open(settings_file) as f:
                previous = json.load(f)
        if same_settings(previous, settings):
            log(f'{osp.relpath(work_dir)} is trained already with these settings (--force to retrain)')
            return best_checkpoint(work_dir), False
        log(f'{osp.relpath(work_dir)} holds a run with other settings ({previous}); training anew')
        shutil.rmtree(work_dir)
    os.makedirs(work_dir, exist_ok=True)
    tool = osp.join(REPO, 'tools', 'train.py')  # mmpose's stock tools/train.py, run unchanged
    run_stock_tool([
        sys.executable, tool, config, '--work-dir', work_dir, '--cfg-options', *data_options(root),
        f'train_cfg.max_epochs={epochs}', f'train_cfg.val_interval={val_interval}',
        f'default_hooks.checkpoint.interval={val_interval}', *schedule_options(config, epochs),
        f'randomness.seed={seed}', *extra
    ], osp.join(work_dir, 'train.log'), threads)
    with open(settings_file, 'w') as f:
        json.dump(settings, f, indent=1)
    return best_checkpoint(work_dir), True


def test(config: str, checkpoint: str, work_dir: str, root: str, extra: Sequence[str], force: bool,
         split: str = 'test', threads: Optional[int] = None, data_id: Optional[dict] = None) -> str:
    """Test with the stock tools/test.py on ``split`` unless ``work_dir`` holds predictions made with the same
    checkpoint, options and data set (``data_id``, as :func:`prepare_data` returns it: a regenerated set is tested
    anew even with an unchanged checkpoint); returns the folder of per-video prediction files. ``threads``: see
    :func:`run_stock_tool`."""
    suffix = '' if split == 'test' else f'_{split}'
    pred_dir = osp.join(work_dir, 'predictions' + suffix)
    settings_file = osp.join(work_dir, f'test_settings{suffix}.json')
    settings = dict(config=osp.relpath(config, REPO), checkpoint=osp.realpath(checkpoint), root=root,
                    split=split, options=list(extra))
    if threads is not None:
        settings['threads'] = threads
    if data_id is not None:
        settings['data'] = data_id
    if osp.isdir(pred_dir) and os.listdir(pred_dir) and not force and osp.isfile(settings_file):
        with open(settings_file) as f:
            if same_settings(json.load(f), settings):
                return pred_dir
    if osp.isdir(pred_dir):
        shutil.rmtree(pred_dir)
    tool = osp.join(REPO, 'tools', 'test.py')
    run_stock_tool([
        sys.executable, tool, config, checkpoint, '--work-dir',
        osp.join(work_dir, 'test' + suffix), '--cfg-options', *data_options(root, pred_dir, split), *extra
    ], osp.join(work_dir, f'test{suffix}.log'), threads)
    with open(settings_file, 'w') as f:
        json.dump(settings, f, indent=1)
    return pred_dir


def run_jobs(jobs: Sequence[Tuple[str, Callable[[], Any]]], workers: int) -> 'OrderedDict[str, Any]':
    """Run named jobs, ``workers`` at a time, in the order given; returns name -> the job's return value.

    ``workers=1``: one after the other, stopping at the first failure. More: every started job runs to its end even
    when another fails, then the failures are raised together, each under its job's name; an interrupt (Ctrl-C)
    cancels the jobs not yet started."""
    if workers <= 1:
        return OrderedDict((name, job()) for name, job in jobs)
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        futures = [(name, pool.submit(job)) for name, job in jobs]
        errors = [f'{name}: {future.exception()}' for name, future in futures if future.exception() is not None]
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    if errors:
        raise SystemExit('failed: ' + '\n\n'.join(errors))
    return OrderedDict((name, future.result()) for name, future in futures)


def cpu_cores() -> int:
    """The cores this process may run on (its affinity where the platform tells it)."""
    if hasattr(os, 'sched_getaffinity'):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def pick_hard_clip(hard_file: str, gt_dir: str, length: int = 4):
    """The video and the labeled frame positions with the most occluded joints in ``length`` consecutive ones."""
    with open(hard_file) as f:
        images = json.load(f)['images']
    best = None
    by_video: Dict[str, list] = OrderedDict()
    for image in images:
        by_video.setdefault(image['video'], []).append(image)
    for video, frames in by_video.items():
        with open(osp.join(gt_dir, video + '.json')) as f:
            gt_images = json.load(f)['images']
        labeled = [i for i, image in enumerate(gt_images) if image.get('is_labeled', True)]
        hardness = {
            frame['frame_index']: sum(len(p['occluded_joints']) for p in frame['people']) + 3 * frame['blurred']
            for frame in frames
        }
        for start in range(0, max(1, len(labeled) - length + 1)):
            window = labeled[start:start + length]
            score = sum(hardness.get(i, 0) for i in window)
            if best is None or score > best[0]:
                best = (score, video, window)
    return best[1], best[2]


def report(root: str, runs: Dict[str, Dict[str, str]], out_dir: str,
           split: str = 'test') -> Dict[str, Dict[str, float]]:
    """Per-joint tables, the picture of the hardest clip and the training curves of one repeat; returns the Total
    AP of every arm on every frame subset."""
    from famipose_mmpose.synthetic.report import comparison_strip, format_ap_table, plot_training_curves, subset_ap
    gt_dir = osp.join(root, 'annotations', split)
    hard_file = osp.join(root, 'annotations', f'{split}_hard.json')
    results = OrderedDict((name, subset_ap(gt_dir, run['pred_dir'], hard_file)) for name, run in runs.items())
    table = format_ap_table(results)
    print('\n' + table + '\n', flush=True)
    suffix = '' if split == 'test' else f'_{split}'
    with open(osp.join(out_dir, f'results{suffix}.md'), 'w') as f:
        f.write(f'PoseTrack AP on the {split} split (detected boxes)\n\n' + table + '\n')
    video, frames = pick_hard_clip(hard_file, gt_dir)
    shown = [name for name in ('single-frame', 'static support', 'FAMI-Pose') if name in runs]
    strip = comparison_strip(root, osp.join(gt_dir, video + '.json'),
                             {name: osp.join(runs[name]['pred_dir'], video + '.json')
                              for name in shown}, frames, osp.join(out_dir, f'predictions_hard_clip{suffix}.png'))
    curves = plot_training_curves({name: run['scalars']
                                   for name, run in runs.items()},
                                  osp.join(out_dir, 'training_curves.png'),
                                  continues={name: 'single-frame'
                                             for name in runs if name != 'single-frame'})
    log(f'table: {osp.join(out_dir, f"results{suffix}.md")}; picture: {strip}; curves: {curves}')
    return {name: {subset: ap.parts['Total'] for subset, ap in result.items()} for name, result in results.items()}


def render_clip(root: str, checkpoint: str, out_dir: str, fami_options: Sequence[str]) -> None:
    """Run FAMI-Pose on the hardest test clip through the video inference API and draw it to a GIF."""
    from mmengine.config import Config

    from famipose_mmpose.apis import render_video
    gt_dir = osp.join(root, 'annotations', 'test')
    video, _ = pick_hard_clip(osp.join(root, 'annotations', 'test_hard.json'), gt_dir)
    cfg = Config.fromfile(FAMI_CONFIG)
    if fami_options:
        from mmengine.config import DictAction
        parser = argparse.ArgumentParser()
        parser.add_argument('--cfg-options', nargs='+', action=DictAction)
        cfg.merge_from_dict(parser.parse_args(['--cfg-options', *fami_options]).cfg_options)
    out_path = osp.join(out_dir, f'famipose_{video}.gif')
    log(f'rendering test clip {video} with FAMI-Pose through famipose_mmpose.apis.render_video')
    render_video(cfg, checkpoint, osp.join(root, 'images', 'test', video),
                 osp.join(root, 'annotations', 'posetrack18_test_human_detections.json'), out_path)
    log(f'video: {out_path}')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--preset', choices=sorted(PRESETS), default='demo')
    parser.add_argument('--repeats', type=int, nargs='+',
                        help='run only these repeats (repeat r: data seed r, training seed r)')
    parser.add_argument('--arms', nargs='+', choices=list(ARMS), metavar='ARM',
                        help=f'run only these arms (of {list(ARMS)}); single-frame always runs')
    parser.add_argument('--stage1-epochs', type=int)
    parser.add_argument('--stage2-epochs', type=int)
    parser.add_argument('--data', nargs='+', default=[], metavar='KEY=VALUE',
                        help='generator options overriding the preset\'s, e.g. occlusion_rate=1.0 (values are json)')
    parser.add_argument('--stage1-from', metavar='DIR',
                        help='use the stage-1 model of another run (its best.pth; "{repeat}" is replaced by the '
                        'repeat) instead of training one, e.g. to probe stage 2 on other data')
    parser.add_argument('--fami-options', nargs='+', default=[],
                        help='extra --cfg-options for every arm built on the FAMI-Pose config')
    parser.add_argument('--split', choices=['test', 'val'], default='test',
                        help='split the arms are tested and reported on: test (default, the reported numbers) or '
                        'val (to choose settings while developing without looking at test)')
    parser.add_argument('--jobs', type=int, help="stage-2 arms of a repeat run at a time, the CPU cores split among "
                        "them (default: the preset's; demo and bench 2, smoke 1)")
    parser.add_argument('--force', action='store_true', help='rerun stages whose outputs exist')
    parser.add_argument('--skip-video', action='store_true', help='do not render the video clip at the end')
    return parser.parse_args(argv)


def data_overrides(items: Sequence[str]) -> dict:
    """``KEY=VALUE`` generator options (values parsed as json, else kept as strings)."""
    out = {}
    for item in items:
        key, sep, value = item.partition('=')
        if not sep or not key:
            raise SystemExit(f'--data {item!r}: use KEY=VALUE, e.g. occlusion_rate=1.0')
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def plan(arms: Dict[str, Sequence[int]], only_repeats: Optional[Sequence[int]],
         only_arms: Optional[Sequence[str]]) -> 'OrderedDict[int, List[str]]':
    """Repeat -> the arms it runs, in :data:`ARMS` order.

    A preset lists the repeats of each arm; ``only_repeats`` picks repeats (one the preset does not list runs the
    arms the preset runs on every repeat), ``only_arms`` keeps only those arms (the single-frame model always runs:
    every other arm starts from it)."""
    unknown = sorted(set(arms) - set(ARMS))
    if unknown:
        raise ValueError(f'unknown arms {unknown}; known: {list(ARMS)}')
    preset_repeats = sorted({r for rs in arms.values() for r in rs})
    every = [name for name in arms if set(arms[name]) == set(preset_repeats)]
    out: 'OrderedDict[int, List[str]]' = OrderedDict()
    for repeat in (only_repeats or preset_repeats):
        names = [name for name in arms if repeat in arms[name]] or every
        names = [name for name in ARMS if name in names and (not only_arms or name in only_arms)]
        out[repeat] = ['single-frame'] + [name for name in names if name != 'single-frame']
    return out


def _mean_std(values: Sequence[float], signed: bool = False) -> str:
    fmt = '{:+.1f}' if signed else '{:.1f}'
    cell = fmt.format(statistics.mean(values))
    if len(values) > 1:
        cell += f' ± {statistics.stdev(values):.1f}'
    return cell


def summary_tables(totals: Dict[int, Dict[str, Dict[str, float]]]) -> str:
    """The comparison over repeats, as markdown.

    Args:
        totals: repeat -> arm -> frame subset -> Total AP (test split).

    Returns:
        str: Two tables: Total AP per arm (mean ± std over the repeats that ran it, and how many), and the paired
        differences FAMI-Pose minus each control, computed per repeat (the values listed, then mean ± std).
    """
    if not totals:
        raise ValueError('summary_tables: no results')
    subsets = list(next(iter(next(iter(totals.values())).values())))
    arms = [name for name in ARMS if any(name in per_arm for per_arm in totals.values())]
    lines = ['| arm | repeats | ' + ' | '.join(subsets) + ' |', '|---|---|' + '---|' * len(subsets)]
    for arm in arms:
        ran = [r for r in totals if arm in totals[r]]
        cells = [_mean_std([totals[r][arm][s] for r in ran]) for s in subsets]
        lines.append(f'| {arm} | {len(ran)} ({", ".join(map(str, ran))}) | ' + ' | '.join(cells) + ' |')
    lines += ['', '| paired difference | repeats | ' + ' | '.join(subsets) + ' |', '|---|---|' + '---|' * len(subsets)]
    for control in CONTROLS:
        ran = [r for r in totals if 'FAMI-Pose' in totals[r] and control in totals[r]]
        if not ran:
            continue
        cells = []
        for subset in subsets:
            diffs = [totals[r]['FAMI-Pose'][subset] - totals[r][control][subset] for r in ran]
            per_repeat = ' / '.join(f'{d:+.1f}' for d in diffs)
            cells.append(_mean_std(diffs, signed=True) + (f' ({per_repeat})' if len(diffs) > 1 else ''))
        lines.append(f'| FAMI-Pose minus {control} | {len(ran)} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def run_repeat(repeat: int, arm_names: Sequence[str], preset: dict, args: argparse.Namespace, work_dir: str,
               stage1_epochs: int, stage2_epochs: int, jobs: int, render: bool) -> Dict[str, Dict[str, float]]:
    """Generate repeat ``repeat``'s data set, train and test its arms, write its report; returns its Total APs."""
    repeat_dir = osp.join(work_dir, f'repeat{repeat}')
    os.makedirs(repeat_dir, exist_ok=True)
    root = osp.join(repeat_dir, 'data')
    data_id = prepare_data(root, dict(preset['data'], **data_overrides(args.data)), seed=repeat)
    seed = repeat

    stage1_dir = osp.join(repeat_dir, ARMS['single-frame'].dir_name)
    if args.stage1_from:
        source = osp.abspath(args.stage1_from.format(repeat=repeat))
        stage1_ckpt = osp.join(source, 'best.pth')
        if not osp.isfile(stage1_ckpt):
            raise SystemExit(f'--stage1-from {source}: no best.pth there (a stage-1 work dir of run_demo.py)')
        log(f'--- repeat {repeat}: stage 1 taken from {stage1_ckpt}')
        os.makedirs(stage1_dir, exist_ok=True)
        stage1_new, stage1_scalars = False, scalars_file(source)
    else:
        log(f'--- repeat {repeat}: stage 1, single-frame baseline ({stage1_epochs} epochs, best epoch on val)')
        stage1_ckpt, stage1_new = train(STAGE1_CONFIG, stage1_dir, stage1_epochs, seed, root, data_id, [],
                                        args.force, val_interval=max(1, stage1_epochs // 4))
        stage1_scalars = scalars_file(stage1_dir)
    # stage 1's test and the stage-2 arms (each trained, then tested) run ``jobs`` at a time, in this order
    threads = None if jobs <= 1 else max(1, cpu_cores() // jobs)

    def stage1_test() -> dict:
        return dict(pred_dir=test(STAGE1_CONFIG, stage1_ckpt, stage1_dir, root, [], args.force or stage1_new,
                                  args.split, threads, data_id),
                    scalars=stage1_scalars,
                    checkpoint=stage1_ckpt)

    def stage2(name: str) -> dict:
        arm = ARMS[name]
        options = list(arm.options) + (list(args.fami_options) if arm.config == FAMI_CONFIG else [])
        log(f'--- repeat {repeat}: stage 2, {name} ({arm.description}; {stage2_epochs} epochs)')
        arm_dir = osp.join(repeat_dir, arm.dir_name)
        # stage 2 validates only at the end: one FAMI validation pass costs about a training epoch on the CPU
        ckpt, new = train(arm.config, arm_dir, stage2_epochs, seed, root, data_id, [f'load_from={stage1_ckpt}'] +
                          options, args.force or stage1_new, val_interval=stage2_epochs, threads=threads)
        return dict(pred_dir=test(arm.config, ckpt, arm_dir, root, options, args.force or new, args.split, threads,
                                  data_id),
                    scalars=scalars_file(arm_dir),
                    checkpoint=ckpt)

    stage2_jobs = [(name, functools.partial(stage2, name)) for name in arm_names if ARMS[name].config is not None]
    runs = run_jobs([('single-frame', stage1_test)] + stage2_jobs, jobs)
    totals = report(root, runs, repeat_dir, args.split)
    if render and args.split == 'test' and not args.skip_video and 'FAMI-Pose' in runs:
        render_clip(root, runs['FAMI-Pose']['checkpoint'], repeat_dir, args.fami_options)
    return totals


def main(argv=None) -> None:
    args = parse_args(argv)
    preset = PRESETS[args.preset]
    stage1_epochs = args.stage1_epochs or preset['stage1_epochs']
    stage2_epochs = args.stage2_epochs or preset['stage2_epochs']
    jobs = preset['jobs'] if args.jobs is None else args.jobs
    if jobs < 1:
        raise SystemExit(f'--jobs {jobs}: use 1 (one tool at a time) or more')
    work_dir = osp.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    start = time.time()
    schedule = plan(preset['arms'], args.repeats, args.arms)
    log('plan: ' + '; '.join(f'repeat {r}: {", ".join(names)}' for r, names in schedule.items()))

    totals = OrderedDict()
    for repeat, arm_names in schedule.items():
        totals[repeat] = run_repeat(repeat, arm_names, preset, args, work_dir, stage1_epochs, stage2_epochs, jobs,
                                    render=repeat == next(iter(schedule)))

    minutes = (time.time() - start) / 60
    what = 'the held-out test split' if args.split == 'test' else 'the val split (for choosing settings)'
    summary = (f'PoseTrack Total AP on {what} (detected boxes); repeat r = data seed r and '
               f'training seed r; stage 1 {stage1_epochs} epochs (best on val), stage 2 {stage2_epochs} epochs '
               f'(every arm from the same stage-1 checkpoint); this run took {minutes:.1f} min, {jobs} tool(s) at a '
               'time.\n\n' +
               summary_tables(totals))
    print('\n' + summary + '\n', flush=True)
    suffix = '' if args.split == 'test' else f'_{args.split}'
    with open(osp.join(work_dir, f'results{suffix}.md'), 'w') as f:
        f.write(summary + '\n')
    with open(osp.join(work_dir, f'results{suffix}.json'), 'w') as f:
        json.dump({str(r): t for r, t in totals.items()}, f, indent=1)
    log(f'done in {minutes:.1f} min; everything is in {work_dir}')


if __name__ == '__main__':
    main()
