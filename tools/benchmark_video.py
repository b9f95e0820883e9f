# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Speed, cost ratios and memory of the whole video-inference pipeline (famipose_mmpose.apis).

    python tools/benchmark_video.py                         # cost ratios tiny + W48, tiny memory 100 vs 1000 frames
    python tools/benchmark_video.py --models tiny --frames 20 --memory-frames 30 150

Cost (one run, one generated video per model, ``--people`` people per frame, random weights): the inference loop
``iter_video_poses`` (decode the .mp4 through the window buffer, read the person boxes of each frame from a detection
file (score >= ``--bbox-thr``), detect-and-track ahead of the key frame, crop, model, IoU tracking; the detector's own
cost, drawing and writing are not included) is timed for three models on the same video and boxes:

- single-frame: the stage-1 model (stock ``TopdownPoseEstimator``; tiny: ``configs/synthetic/td-hm_hrnet-tiny_...``,
  W48: ``configs/stage1/td-hm_hrnet-w48_8xb64-20e_posetrack18-384x288.py``);
- FAMI-Pose, paper mode (``model.supporting_crops='key_box'``: every key frame crops its 5 frames with the key box);
- FAMI-Pose, reuse mode (``'own_box'``, the same weights: each (track, frame) crop through the backbone once).

Each repeat times the three in turn (order rotated between repeats) after an untimed warm-up pass; per repeat the
time per frame of each FAMI-Pose mode is divided by the single-frame model's of the same repeat; the medians and the
range (min-max) of these ratios over the repeats are printed, with the backbone crops per frame of each model. Both
clocks are reported: wall time, and the CPU time of the process (``time.process_time``), which a machine shared
with other jobs disturbs far less (with one torch thread, ``OMP_NUM_THREADS=1``, it is the work done). The
frozen FAMI-Pose backbone runs on at most ``--backbone-chunk-size`` crops per call (default: the people per frame,
the batch the single-frame model sees; see README "Cost").

Memory (``--memory-frames``, tiny config, ``--memory-modes``): each video length runs the whole demo pipeline
(with drawing and writing the video and the json) in a fresh process; it reports the peak resident set size
(``ru_maxrss``), the RSS after the first 5 frames and at the end, and the tracemalloc peak during the frame loop
(Python and numpy allocations; torch's allocator is not traced). With a bounded frame window and crop cache these
must not grow with the number of frames. The script prints figures; nothing is asserted.
"""
import argparse
import json
import os
import os.path as osp
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from typing import Dict, List, Optional

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

CONFIGS = {
    'tiny':
    dict(
        single=osp.join(REPO, 'configs', 'synthetic', 'td-hm_hrnet-tiny_1xb32-12e_synthposetrack-128x96.py'),
        fami=osp.join(REPO, 'configs', 'synthetic', 'famipose_hrnet-tiny_1xb32-12e_synthposetrack-128x96.py')),
    'w48':
    dict(
        single=osp.join(REPO, 'configs', 'stage1', 'td-hm_hrnet-w48_8xb64-20e_posetrack18-384x288.py'),
        fami=osp.join(REPO, 'configs', 'famipose', 'famipose_hrnet-w48_8xb6-20e_posetrack18-384x288.py')),
}
# frame size of the generated video for each model (the crop size is the config's)
FRAME_SIZE = {'tiny': (256, 192), 'w48': (384, 288)}
#: the models timed against each other: name -> (config kind, FAMI-Pose supporting crops)
ARMS = {'single-frame': ('single', None), 'paper': ('fami', 'key_box'), 'reuse': ('fami', 'own_box')}


def make_video(work_dir: str, name: str, num_frames: int, people: int, size) -> Dict[str, str]:
    """A synthetic val video of ``num_frames`` frames as an .mp4 plus its detection and annotation files."""
    import cv2

    from famipose_mmpose.synthetic import generate_dataset
    root = osp.join(work_dir, name)
    generate_dataset(
        root, preset='tiny', seed=0, overwrite=True, num_train_videos=0, num_val_videos=1, frames_per_video=num_frames,
        image_width=size[0], image_height=size[1], people_per_video=(people, people), det_miss_rate=0.0,
        det_false_positives=0.0, occlusion_rate=0.0, crowd_rate=0.0)
    video = sorted(os.listdir(osp.join(root, 'images', 'val')))[0]
    frames_dir = osp.join(root, 'images', 'val', video)
    path = osp.join(root, video + '.mp4')
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 25, size)
    for frame_name in sorted(os.listdir(frames_dir)):
        writer.write(cv2.imread(osp.join(frames_dir, frame_name)))
    writer.release()
    shutil.rmtree(osp.join(root, 'images'))  # the run reads the .mp4 only
    return dict(
        video=path,
        name=video,
        det_file=osp.join(root, 'annotations', 'posetrack18_val_human_detections.json'),
        ann_file=osp.join(root, 'annotations', 'posetrack18_val.json'))


def current_rss_mb() -> Optional[float]:
    """Resident set size now (Linux ``/proc``), ``None`` elsewhere."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def run_pipeline(model, data: Dict[str, str], out_dir: str, trace_memory: bool = False) -> Dict[str, float]:
    """The demo pipeline over the whole video; per-frame times and memory figures."""
    from famipose_mmpose.apis import (AtomicVideoWriter, DetectionFilePersonSource, PoseTrack18PredictionWriter,
                                      build_pose_visualizer, draw_frame_poses, iter_video_poses)
    source = DetectionFilePersonSource(
        data['det_file'], ann_file=data['ann_file'], video=data['name'], match_by='position')
    visualizer = build_pose_visualizer(model.dataset_meta)
    predictions = PoseTrack18PredictionWriter(model.dataset_meta)
    times: List[float] = []
    people = 0
    rss_warm = None
    if trace_memory:
        tracemalloc.start()
    start = last = time.perf_counter()
    with AtomicVideoWriter(osp.join(out_dir, data['name'] + '.mp4'), fps=25) as writer:
        for frame, sample in iter_video_poses(model, data['video'], source):
            writer.write(draw_frame_poses(visualizer, frame.image, sample))
            predictions.add(sample)
            people += len(sample.pred_instances)
            now = time.perf_counter()
            times.append(now - last)
            last = now
            if len(times) == 5:
                rss_warm = current_rss_mb()
    predictions.dump(osp.join(out_dir, data['name'] + '.json'))
    total = time.perf_counter() - start
    out = dict(
        frames=len(times),
        seconds=total,
        fps=len(times) / total,
        fps_after_first=(len(times) - 1) / sum(times[1:]) if len(times) > 1 else float('nan'),
        median_frame_s=statistics.median(times),
        people_per_frame=people / max(len(times), 1))
    if trace_memory:
        out['tracemalloc_peak_mb'] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    out['rss_after_5_frames_mb'] = rss_warm
    out['rss_end_mb'] = current_rss_mb()
    out['peak_rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return out


def build_model(which: str, arm: str, device: str, chunk: Optional[int] = None):
    """The model of ``arm`` (:data:`ARMS`) for ``which`` (tiny / w48), random weights (seed 0: both FAMI-Pose modes
    get the same weights)."""
    import torch

    import famipose_mmpose  # noqa: F401
    from famipose_mmpose.apis import init_video_model
    kind, crops = ARMS[arm]
    options = None
    if crops is not None:
        options = {'model.supporting_crops': crops}
        if chunk:
            options['model.backbone_chunk_size'] = chunk
    torch.manual_seed(0)
    return init_video_model(CONFIGS[which][kind], None, device=device, cfg_options=options)


def child_memory(data_json: str, device: str, arm: str) -> None:
    """Run the tiny pipeline on one video in this (fresh) process; print the figures as json."""
    data = json.loads(data_json)
    model = build_model('tiny', arm, device)
    with tempfile.TemporaryDirectory() as out_dir:
        figures = run_pipeline(model, data, out_dir, trace_memory=True)
    print('BENCH_JSON ' + json.dumps(figures))


def time_loop(model, data: Dict[str, str], bbox_thr: float, max_frames: Optional[int] = None) -> Dict[str, float]:
    """Seconds per frame of the inference loop over the video (or its first ``max_frames``) and backbone crops per
    frame."""
    from famipose_mmpose.apis import DetectionFilePersonSource, iter_video_poses
    source = DetectionFilePersonSource(
        data['det_file'], ann_file=data['ann_file'], video=data['name'], match_by='position', bbox_thr=bbox_thr)
    crops: List[int] = []
    handle = model.backbone.register_forward_hook(lambda module, args, out: crops.append(args[0].shape[0]))
    frames = 0
    try:
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in iter_video_poses(model, data['video'], source):
            frames += 1
            if max_frames is not None and frames >= max_frames:
                break
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - start_cpu
    finally:
        handle.remove()
    return dict(
        seconds_per_frame=seconds / frames, cpu_seconds_per_frame=cpu_seconds / frames,
        crops_per_frame=sum(crops) / frames)


def _spread(values: List[float], fmt: str = '.2f') -> str:
    return (f'{statistics.median(values):{fmt}} (range {min(values):{fmt}}-{max(values):{fmt}}, '
            f'{len(values)} repeats)')


def compare(which: str, frames: int, people: int, repeats: int, chunk: Optional[int], bbox_thr: float,
            work_dir: str, device: str) -> Dict[str, dict]:
    """Time the three arms on one generated video, ``repeats`` times; print and return per-arm figures and ratios."""
    data = make_video(work_dir, f'cost_{which}', frames, people, FRAME_SIZE[which])
    models = {arm: build_model(which, arm, device, chunk) for arm in ARMS}
    models['reuse'].load_state_dict(models['paper'].state_dict())
    for model in models.values():  # warm-up (allocations, lazy initialisation), untimed
        time_loop(model, data, bbox_thr, max_frames=3)
    runs: Dict[str, List[dict]] = {arm: [] for arm in ARMS}
    names = list(ARMS)
    for repeat in range(repeats):
        order = names[repeat % len(names):] + names[:repeat % len(names)]
        for arm in order:
            runs[arm].append(time_loop(models[arm], data, bbox_thr))
        single = runs['single-frame'][-1]
        print(f'cost  {which:4s} repeat {repeat}: ' + ', '.join(
            f'{arm} {runs[arm][-1]["seconds_per_frame"]:.3f} s/frame '
            f'({runs[arm][-1]["seconds_per_frame"] / single["seconds_per_frame"]:.2f}x; CPU '
            f'{runs[arm][-1]["cpu_seconds_per_frame"]:.3f} s, '
            f'{runs[arm][-1]["cpu_seconds_per_frame"] / single["cpu_seconds_per_frame"]:.2f}x)'
            for arm in names), flush=True)
    out = {}
    for arm in names:
        figures = dict(crops_per_frame=runs[arm][0]['crops_per_frame'])
        for clock in ('seconds_per_frame', 'cpu_seconds_per_frame'):
            figures[clock] = [r[clock] for r in runs[arm]]
            figures[clock + '_ratio'] = [r[clock] / s[clock] for r, s in zip(runs[arm], runs['single-frame'])]
        out[arm] = figures
        print(f'cost  {which:4s} {arm:12s} wall {_spread(figures["seconds_per_frame"], ".3f")} s/frame, ratio '
              f'{_spread(figures["seconds_per_frame_ratio"])};  CPU {_spread(figures["cpu_seconds_per_frame"], ".3f")} '
              f's/frame, ratio {_spread(figures["cpu_seconds_per_frame_ratio"])};  backbone crops per frame '
              f'{figures["crops_per_frame"]:.2f}', flush=True)
    return out


def memory(frames: int, people: int, arm: str, work_dir: str, device: str) -> Dict[str, float]:
    data = make_video(work_dir, f'memory_{frames}', frames, people, FRAME_SIZE['tiny'])
    result = subprocess.run(
        [sys.executable, osp.abspath(__file__), '--child-memory', json.dumps(data), '--device', device,
         '--child-arm', arm],
        capture_output=True, text=True, check=False)
    for line in result.stdout.splitlines():
        if line.startswith('BENCH_JSON '):
            return json.loads(line[len('BENCH_JSON '):])
    raise RuntimeError(f'memory run for {frames} frames failed:\n{result.stderr[-3000:]}')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--models', nargs='*', choices=sorted(CONFIGS), default=['tiny', 'w48'],
                        help='configs of the cost runs (none: memory runs only)')
    parser.add_argument('--frames', type=int, default=30, help='frames of the tiny cost run')
    parser.add_argument('--w48-frames', type=int, default=8, help='frames of the HRNet-W48 cost run')
    parser.add_argument('--people', type=int, default=3, help='people per frame')
    parser.add_argument('--repeats', type=int, default=3, help='timed passes of each model (after a warm-up)')
    parser.add_argument('--backbone-chunk-size', type=int, default=None,
                        help='crops per backbone call of FAMI-Pose (default: --people; 0: the config\'s)')
    parser.add_argument('--bbox-thr', type=float, default=0.5,
                        help='least box score of the cost runs (0.5 drops the generated detector\'s partial second '
                        'boxes, scores 0.1-0.4: one box per person)')
    parser.add_argument('--memory-frames', type=int, nargs='*', default=[100, 1000],
                        help='video lengths of the memory runs (tiny config); none to skip')
    parser.add_argument('--memory-modes', nargs='+', choices=['paper', 'reuse'], default=['paper', 'reuse'],
                        help='FAMI-Pose modes of the memory runs')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--work-dir', default=None, help='kept when given; a temporary folder otherwise')
    parser.add_argument('--child-memory', default=None, help=argparse.SUPPRESS)
    parser.add_argument('--child-arm', default='paper', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_memory is not None:
        child_memory(args.child_memory, args.device, args.child_arm)
        return

    import torch
    chunk = args.people if args.backbone_chunk_size is None else (args.backbone_chunk_size or None)
    work_dir = args.work_dir or tempfile.mkdtemp(prefix='famipose_video_bench_')
    os.makedirs(work_dir, exist_ok=True)
    print(f'# video pipeline benchmark: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, '
          f'torch {torch.__version__} ({torch.get_num_threads()} threads), device {args.device}, '
          f'{args.people} people/frame, boxes with score >= {args.bbox_thr}, random weights, FAMI-Pose backbone chunk '
          f'{chunk}')
    results = {}
    try:
        for which in args.models:
            frames = args.frames if which == 'tiny' else args.w48_frames
            results[which] = compare(which, frames, args.people, args.repeats, chunk, args.bbox_thr, work_dir,
                                     args.device)
        memory_results: Dict[str, Dict[int, dict]] = {}
        for mode in args.memory_modes if args.memory_frames else []:
            memory_results[mode] = {}
            for frames in args.memory_frames:
                fig = memory(frames, args.people, mode, work_dir, args.device)
                memory_results[mode][frames] = fig
                print(f'memory tiny {mode:5s} {frames:5d} frames  peak RSS {fig["peak_rss_mb"]:7.1f} MB  RSS after 5 '
                      f'frames {fig["rss_after_5_frames_mb"]:7.1f} MB  at the end {fig["rss_end_mb"]:7.1f} MB  '
                      f'tracemalloc peak in the loop {fig["tracemalloc_peak_mb"]:6.2f} MB  ({fig["fps"]:.2f} fps)',
                      flush=True)
            if len(memory_results[mode]) >= 2:
                runs = memory_results[mode]
                short, long = min(runs), max(runs)
                print(f'memory growth {mode} {short} -> {long} frames: peak RSS '
                      f'{runs[long]["peak_rss_mb"] - runs[short]["peak_rss_mb"]:+.1f} MB, tracemalloc peak '
                      f'{runs[long]["tracemalloc_peak_mb"] - runs[short]["tracemalloc_peak_mb"]:+.2f} MB')
        if args.work_dir is not None:
            with open(osp.join(work_dir, 'benchmark_video.json'), 'w') as f:
                json.dump(dict(cost=results, memory=memory_results), f, indent=1)
    finally:
        if args.work_dir is None:
            shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == '__main__':
    main()
