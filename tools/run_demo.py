"""The embedded demo: does looking at neighbouring frames help?  (``make demo``; ``make bench`` for several seeds)

1. generates a synthetic PoseTrack18-format video set (occluders, overlapping people, motion blur);
2. stage 1: trains the single-frame baseline (stock ``TopdownPoseEstimator``) with mmpose's stock ``tools/train.py``;
3. stage 2: trains FAMI-Pose on top of it (frozen stage-1 backbone, ``load_from`` the stage-1 checkpoint);
4. tests both with mmpose's stock ``tools/test.py`` (detected boxes) and writes their PoseTrack prediction files;
5. reports PoseTrack AP per joint group for both models on all labeled frames and on the occluded / blurred ones,
   draws both models' predictions against the ground truth on a hard clip, and plots the training curves.

Everything goes under ``--work-dir``; a stage whose outputs exist with the same settings (data options and seed,
epochs, training seed, extra options) is not run again (``--force`` reruns); one made with other settings is redone.
Extra ``--fami-options`` go to the FAMI-Pose config (ablations, e.g. ``model.gtm=None``).
"""
import argparse
import json
import os
import os.path as osp
import shutil
import statistics
import subprocess
import sys
import time
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

STAGE1_CONFIG = osp.join(REPO, 'configs', 'synthetic', 'td-hm_hrnet-tiny_1xb32-12e_synthposetrack-128x96.py')
FAMI_CONFIG = osp.join(REPO, 'configs', 'synthetic', 'famipose_hrnet-tiny_1xb32-12e_synthposetrack-128x96.py')

#: Budgets: data set size (generator options) and epochs of each stage.
PRESETS = {
    'demo':
    dict(
        data=dict(preset='demo', num_train_videos=16, num_val_videos=8, frames_per_video=30),
        stage1_epochs=20,
        stage2_epochs=8,
        seeds=[0]),
    'bench':
    dict(
        data=dict(preset='demo', num_train_videos=24, num_val_videos=12, frames_per_video=40),
        stage1_epochs=24,
        stage2_epochs=10,
        seeds=[0, 1, 2]),
}


def log(message: str) -> None:
    print(f'[demo {time.strftime("%H:%M:%S")}] {message}', flush=True)


def run_stock_tool(args: List[str], log_file: str) -> None:
    """Run a command, keep its full output in ``log_file`` and echo the progress lines."""
    log(' '.join(osp.relpath(a, REPO) if a.startswith(REPO) else a for a in args[:4]) + ' ...')
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    with open(log_file, 'w') as out:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        for line in proc.stdout:
            out.write(line)
            if 'Epoch(train)' in line or 'PoseTrack AP:' in line or 'Error' in line:
                print('    ' + line.split(' - mmengine - INFO - ')[-1].rstrip()[:160], flush=True)
        proc.wait()
    if proc.returncode != 0:
        with open(log_file) as f:
            tail = f.read()[-3000:]
        raise SystemExit(f'{args[1]} failed (exit {proc.returncode}); full log: {log_file}\n{tail}')


def data_options(root: str, pred_dir: Optional[str] = None) -> List[str]:
    root = root.rstrip('/') + '/'
    options = [f'train_dataloader.dataset.data_root={root}']
    for split in ('val', 'test'):
        options += [
            f'{split}_dataloader.dataset.data_root={root}',
            f'{split}_dataloader.dataset.bbox_file={root}annotations/posetrack18_val_human_detections.json',
            f'{split}_evaluator.gt_dir={root}annotations/val/'
        ]
    if pred_dir is not None:
        options.append(f'test_evaluator.out_dir={pred_dir}')
    return options


def best_checkpoint(work_dir: str) -> str:
    """The best checkpoint (by validation Total AP), linked as ``best.pth``: mmengine names it after the metric key,
    ``best_posetrack_Total AP_epoch_N.pth``, and ``--cfg-options`` drops the space from such a path."""
    candidates = sorted((f for f in os.listdir(work_dir) if f.startswith('best_') and f.endswith('.pth')),
                        key=lambda f: osp.getmtime(osp.join(work_dir, f)))
    if candidates:
        target = osp.join(work_dir, candidates[-1])
    else:
        with open(osp.join(work_dir, 'last_checkpoint')) as f:
            target = f.read().strip()
    link = osp.join(work_dir, 'best.pth')
    if osp.lexists(link):
        os.remove(link)
    os.symlink(osp.basename(target), link)
    return link


def scalars_file(work_dir: str) -> str:
    runs = sorted(d for d in os.listdir(work_dir) if osp.isfile(osp.join(work_dir, d, 'vis_data', 'scalars.json')))
    return osp.join(work_dir, runs[-1], 'vis_data', 'scalars.json')


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
        if dict(seed=summary.get('seed'), config=summary.get('config')) == wanted:
            log(f'using the synthetic set in {root}')
            return wanted
        log(f'{root} holds a synthetic set made with other options; generating it anew')
    log(f'generating the synthetic video set in {root} (seed {seed}, {options})')
    summary = generate_dataset(root, preset=preset, seed=seed, overwrite=True, workers=min(2, os.cpu_count() or 1),
                               **options)
    log(f'generated: {json.dumps(summary["splits"])[:300]}')
    return wanted


def train(config: str, work_dir: str, epochs: int, seed: int, root: str, data_id: dict, extra: Sequence[str],
          force: bool, val_interval: int) -> Tuple[str, bool]:
    """Train with the stock tools/train.py unless ``work_dir`` holds a finished run with the same settings.

    Returns the best checkpoint and whether it was trained now."""
    settings = dict(config=osp.relpath(config, REPO), epochs=epochs, seed=seed, data=data_id, options=list(extra))
    settings_file = osp.join(work_dir, 'demo_settings.json')
    if osp.isfile(osp.join(work_dir, 'last_checkpoint')) and not force:
        previous = None
        if osp.isfile(settings_file):
            with open(settings_file) as f:
                previous = json.load(f)
        if previous == settings:
            log(f'{osp.relpath(work_dir)} is trained already with these settings (--force to retrain)')
            return best_checkpoint(work_dir), False
        log(f'{osp.relpath(work_dir)} holds a run with other settings ({previous}); training anew')
        shutil.rmtree(work_dir)
    os.makedirs(work_dir, exist_ok=True)
    tool = osp.join(REPO, 'tools', 'train.py')  # mmpose's stock tools/train.py, run unchanged
    run_stock_tool([
        sys.executable, tool, config, '--work-dir', work_dir, '--cfg-options', *data_options(root),
        f'train_cfg.max_epochs={epochs}', f'train_cfg.val_interval={val_interval}',
        f'default_hooks.checkpoint.interval={val_interval}', f'param_scheduler.1.end={epochs}',
        f'param_scheduler.1.milestones=[{max(1, round(epochs * 2 / 3))},{max(2, round(epochs * 0.9))}]',
        f'randomness.seed={seed}', *extra
    ], osp.join(work_dir, 'train.log'))
    with open(settings_file, 'w') as f:
        json.dump(settings, f, indent=1)
    return best_checkpoint(work_dir), True


def test(config: str, checkpoint: str, work_dir: str, root: str, extra: Sequence[str], force: bool) -> str:
    pred_dir = osp.join(work_dir, 'predictions')
    if osp.isdir(pred_dir) and os.listdir(pred_dir) and not force:
        return pred_dir
    tool = osp.join(REPO, 'tools', 'test.py')
    run_stock_tool([
        sys.executable, tool, config, checkpoint, '--work-dir',
        osp.join(work_dir, 'test'), '--cfg-options', *data_options(root, pred_dir), *extra
    ], osp.join(work_dir, 'test.log'))
    return pred_dir


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


def report(root: str, runs: Dict[str, Dict[str, str]], out_dir: str) -> Dict[str, Dict[str, float]]:
    from famipose_mmpose.synthetic.report import (comparison_strip, format_ap_table, plot_training_curves,
                                                  subset_ap)
    gt_dir = osp.join(root, 'annotations', 'val')
    hard_file = osp.join(root, 'annotations', 'val_hard.json')
    results = OrderedDict((name, subset_ap(gt_dir, run['pred_dir'], hard_file)) for name, run in runs.items())
    table = format_ap_table(results)
    print('\n' + table + '\n', flush=True)
    with open(osp.join(out_dir, 'results.md'), 'w') as f:
        f.write(table + '\n')
    video, frames = pick_hard_clip(hard_file, gt_dir)
    strip = comparison_strip(root, osp.join(gt_dir, video + '.json'),
                             {name: osp.join(run['pred_dir'], video + '.json')
                              for name, run in runs.items()}, frames, osp.join(out_dir, 'predictions_hard_clip.png'))
    curves = plot_training_curves({name: run['scalars']
                                   for name, run in runs.items()},
                                  osp.join(out_dir, 'training_curves.png'),
                                  continues={'FAMI-Pose': 'single-frame'})
    log(f'table: {osp.join(out_dir, "results.md")}; picture: {strip}; curves: {curves}')
    return {name: {subset: ap.parts['Total'] for subset, ap in result.items()} for name, result in results.items()}


def render_clip(root: str, checkpoint: str, out_dir: str, fami_options: Sequence[str]) -> None:
    """Run FAMI-Pose on the hardest val clip through the video inference API and draw it to a GIF."""
    from mmengine.config import Config

    from famipose_mmpose.apis import render_video
    gt_dir = osp.join(root, 'annotations', 'val')
    video, _ = pick_hard_clip(osp.join(root, 'annotations', 'val_hard.json'), gt_dir)
    cfg = Config.fromfile(FAMI_CONFIG)
    if fami_options:
        from mmengine.config import DictAction
        parser = argparse.ArgumentParser()
        parser.add_argument('--cfg-options', nargs='+', action=DictAction)
        cfg.merge_from_dict(parser.parse_args(['--cfg-options', *fami_options]).cfg_options)
    out_path = osp.join(out_dir, f'famipose_{video}.gif')
    log(f'rendering val clip {video} with FAMI-Pose through famipose_mmpose.apis.render_video')
    render_video(cfg, checkpoint, osp.join(root, 'images', 'val', video),
                 osp.join(root, 'annotations', 'posetrack18_val_human_detections.json'), out_path)
    log(f'video: {out_path}')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--preset', choices=sorted(PRESETS), default='demo')
    parser.add_argument('--seeds', type=int, nargs='+', help='training seeds (default: the preset\'s)')
    parser.add_argument('--stage1-epochs', type=int)
    parser.add_argument('--stage2-epochs', type=int)
    parser.add_argument('--data-seed', type=int, default=0)
    parser.add_argument('--fami-options', nargs='+', default=[], help='extra --cfg-options for FAMI-Pose')
    parser.add_argument('--force', action='store_true', help='rerun stages whose outputs exist')
    parser.add_argument('--skip-video', action='store_true', help='do not render the video clip at the end')
    return parser.parse_args(argv)


def gain_table(gains: List[Dict[str, float]], seeds: Sequence[int]) -> str:
    """Markdown table of the FAMI-Pose minus single-frame Total AP per frame subset: mean ± std over the seeds,
    or the single value when only one seed ran (a standard deviation of one value is undefined)."""
    if len(gains) != len(seeds) or not gains:
        raise ValueError(f'gain_table: {len(gains)} results for seeds {list(seeds)}')
    seed_list = ', '.join(map(str, seeds))
    what = f'mean ± std over seeds {seed_list}' if len(seeds) > 1 else f'seed {seed_list}'
    lines = [f'| frames | FAMI-Pose minus single-frame, Total AP ({what}) |', '|---|---|']
    for subset in gains[0]:
        values = [g[subset] for g in gains]
        cell = f'{statistics.mean(values):+.1f}'
        if len(values) > 1:
            cell += f' ± {statistics.stdev(values):.1f}'
        lines.append(f'| {subset} | {cell} |')
    return '\n'.join(lines)


def main(argv=None) -> None:
    args = parse_args(argv)
    preset = PRESETS[args.preset]
    seeds = args.seeds or preset['seeds']
    stage1_epochs = args.stage1_epochs or preset['stage1_epochs']
    stage2_epochs = args.stage2_epochs or preset['stage2_epochs']
    work_dir = osp.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    start = time.time()

    root = osp.join(work_dir, 'data')
    data_id = prepare_data(root, preset['data'], args.data_seed)

    gains = []
    for seed in seeds:
        seed_dir = osp.join(work_dir, f'seed{seed}')
        log(f'--- seed {seed}: stage 1, single-frame baseline ({stage1_epochs} epochs)')
        stage1_dir = osp.join(seed_dir, 'stage1_single_frame')
        stage1_ckpt, stage1_new = train(STAGE1_CONFIG, stage1_dir, stage1_epochs, seed, root, data_id, [],
                                        args.force, val_interval=max(1, stage1_epochs // 4))
        log(f'--- seed {seed}: stage 2, FAMI-Pose on the frozen stage-1 backbone ({stage2_epochs} epochs)')
        fami_dir = osp.join(seed_dir, 'stage2_famipose')
        # stage 2 validates only at the end: one FAMI validation pass costs about a training epoch on the CPU
        fami_ckpt, fami_new = train(FAMI_CONFIG, fami_dir, stage2_epochs, seed, root, data_id,
                                    [f'load_from={stage1_ckpt}'] + args.fami_options, args.force or stage1_new,
                                    val_interval=stage2_epochs)
        log(f'--- seed {seed}: testing both with the stock tools/test.py')
        runs = OrderedDict()
        runs['single-frame'] = dict(
            pred_dir=test(STAGE1_CONFIG, stage1_ckpt, stage1_dir, root, [], args.force or stage1_new),
            scalars=scalars_file(stage1_dir))
        runs['FAMI-Pose'] = dict(
            pred_dir=test(FAMI_CONFIG, fami_ckpt, fami_dir, root, args.fami_options, args.force or fami_new),
            scalars=scalars_file(fami_dir))
        totals = report(root, runs, seed_dir)
        if seed == seeds[0] and not args.skip_video:
            render_clip(root, fami_ckpt, seed_dir, args.fami_options)
        gains.append({subset: totals['FAMI-Pose'][subset] - totals['single-frame'][subset]
                      for subset in totals['FAMI-Pose']})

    summary = gain_table(gains, seeds)
    print('\n' + summary + '\n', flush=True)
    with open(osp.join(work_dir, 'gain.md'), 'w') as f:
        f.write(summary + '\n')
    log(f'done in {(time.time() - start) / 60:.1f} min; everything is in {work_dir}')


if __name__ == '__main__':
    main()
