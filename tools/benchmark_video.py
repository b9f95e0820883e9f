# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Speed and memory of the whole video-inference pipeline (famipose_mmpose.apis).

    python tools/benchmark_video.py                         # tiny + HRNet-W48 speed, tiny memory 100 vs 1000 frames
    python tools/benchmark_video.py --models tiny --frames 20 --memory-frames 30 150

The pipeline is what ``tools/video_demo.py`` runs: decode an .mp4 (cv2.VideoCapture) through the window buffer, read
the person boxes of each frame from a detection file (simulated detector of the synthetic generator: the detector's
own cost is not included), crop the T frames per person, one forward per frame, IoU tracking, draw with mmpose's
visualizer, write the annotated .mp4 and the PoseTrack18 json. Videos are generated with
``famipose_mmpose.synthetic`` (``--people`` people per frame, no missed or false detections). Models have random
weights: the tiny one is ``configs/synthetic/famipose_hrnet-tiny_...-128x96.py``, HRNet-W48 384x288 is
``configs/famipose/famipose_hrnet-w48_8xb6-20e_posetrack18-384x288.py`` (or a config built here when that file is
absent).

Speed: frames per second over the whole run and over the frames after the first (warm-up), people per frame.
Memory: each video length runs in a fresh process; it reports the peak resident set size (``ru_maxrss``), the RSS
after the first 5 frames and at the end, and the tracemalloc peak during the frame loop (Python and numpy
allocations; torch's allocator is not traced). With a bounded frame window these must not grow with the number of
frames. The script prints figures; nothing is asserted.
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

TINY_CONFIG = osp.join(REPO, 'configs', 'synthetic', 'famipose_hrnet-tiny_1xb32-12e_synthposetrack-128x96.py')
W48_CONFIG = osp.join(REPO, 'configs', 'famipose', 'famipose_hrnet-w48_8xb6-20e_posetrack18-384x288.py')
# frame size of the generated video for each model (the crop size is the config's)
FRAME_SIZE = {'tiny': (256, 192), 'w48': (384, 288)}


def w48_config():
    """HRNet-W48 384x288 FAMI-Pose: the project's PoseTrack18 config."""
    from mmengine.config import Config
    return Config.fromfile(W48_CONFIG)


def make_video(work_dir: str, name: str, num_frames: int, people: int, size) -> Dict[str, str]:
    """A synthetic val video of ``num_frames`` frames as an .mp4 plus its detection and annotation files."""
    import cv2

    from famipose_mmpose.synthetic import generate_dataset
    root = osp.join(work_dir, name)
    generate_dataset(
        root, preset='tiny', seed=0, num_train_videos=0, num_val_videos=1, frames_per_video=num_frames,
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
    from famipose_mmpose.apis import (AtomicVideoWriter,
                                      DetectionFilePersonSource,
                                      PoseTrack18PredictionWriter,
                                      build_pose_visualizer, draw_frame_poses,
                                      iter_video_poses)
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


def build_model(which: str, device: str):
    import torch

    import famipose_mmpose  # noqa: F401
    from famipose_mmpose.apis import init_video_model
    torch.manual_seed(0)
    return init_video_model(TINY_CONFIG if which == 'tiny' else w48_config(), None, device=device)


def child_memory(data_json: str, device: str) -> None:
    """Run the tiny pipeline on one video in this (fresh) process; print the figures as json."""
    data = json.loads(data_json)
    model = build_model('tiny', device)
    with tempfile.TemporaryDirectory() as out_dir:
        figures = run_pipeline(model, data, out_dir, trace_memory=True)
    print('BENCH_JSON ' + json.dumps(figures))


def speed(which: str, frames: int, people: int, work_dir: str, device: str) -> Dict[str, float]:
    data = make_video(work_dir, f'speed_{which}', frames, people, FRAME_SIZE[which])
    model = build_model(which, device)
    out_dir = osp.join(work_dir, f'out_{which}')
    os.makedirs(out_dir, exist_ok=True)
    figures = run_pipeline(model, data, out_dir)
    figures['parameters_m'] = sum(p.numel() for p in model.parameters()) / 1e6
    return figures


def memory(frames: int, people: int, work_dir: str, device: str) -> Dict[str, float]:
    data = make_video(work_dir, f'memory_{frames}', frames, people, FRAME_SIZE['tiny'])
    result = subprocess.run(
        [sys.executable, osp.abspath(__file__), '--child-memory', json.dumps(data), '--device', device],
        capture_output=True, text=True, check=False)
    for line in result.stdout.splitlines():
        if line.startswith('BENCH_JSON '):
            return json.loads(line[len('BENCH_JSON '):])
    raise RuntimeError(f'memory run for {frames} frames failed:\n{result.stderr[-3000:]}')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--models', nargs='+', choices=['tiny', 'w48'], default=['tiny', 'w48'])
    parser.add_argument('--frames', type=int, default=50, help='frames of the tiny speed run')
    parser.add_argument('--w48-frames', type=int, default=6, help='frames of the HRNet-W48 speed run')
    parser.add_argument('--people', type=int, default=2, help='people per frame')
    parser.add_argument('--memory-frames', type=int, nargs='*', default=[100, 1000],
                        help='video lengths of the memory runs (tiny config); none to skip')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--work-dir', default=None, help='kept when given; a temporary folder otherwise')
    parser.add_argument('--child-memory', default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_memory is not None:
        child_memory(args.child_memory, args.device)
        return

    import torch
    work_dir = args.work_dir or tempfile.mkdtemp(prefix='famipose_video_bench_')
    os.makedirs(work_dir, exist_ok=True)
    print(f'# video pipeline benchmark: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, '
          f'torch {torch.__version__} ({torch.get_num_threads()} threads), device {args.device}, '
          f'{args.people} people/frame, random weights')
    try:
        for which in args.models:
            frames = args.frames if which == 'tiny' else args.w48_frames
            figures = speed(which, frames, args.people, work_dir, args.device)
            print(f'speed  {which:5s} {figures["parameters_m"]:6.2f} M params  {figures["frames"]:4d} frames  '
                  f'{figures["people_per_frame"]:.1f} people/frame  {figures["fps"]:7.3f} fps  '
                  f'({figures["fps_after_first"]:.3f} fps after the first frame, median '
                  f'{figures["median_frame_s"]:.3f} s/frame)')
        results = {}
        for frames in args.memory_frames:
            results[frames] = memory(frames, args.people, work_dir, args.device)
            fig = results[frames]
            print(f'memory tiny  {frames:5d} frames  peak RSS {fig["peak_rss_mb"]:7.1f} MB  RSS after 5 frames '
                  f'{fig["rss_after_5_frames_mb"]:7.1f} MB  at the end {fig["rss_end_mb"]:7.1f} MB  tracemalloc '
                  f'peak in the loop {fig["tracemalloc_peak_mb"]:6.2f} MB  ({fig["fps"]:.2f} fps)')
        if len(results) >= 2:
            short, long = min(results), max(results)
            print(f'memory growth {short} -> {long} frames: peak RSS '
                  f'{results[long]["peak_rss_mb"] - results[short]["peak_rss_mb"]:+.1f} MB, tracemalloc peak '
                  f'{results[long]["tracemalloc_peak_mb"] - results[short]["tracemalloc_peak_mb"]:+.2f} MB')
    finally:
        if args.work_dir is None:
            shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == '__main__':
    main()
