# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Generate a synthetic occluded-video pose data set in PoseTrack18 format.

Example::

    python tools/generate_synthetic_posetrack.py data/synthetic_posetrack \\
        --preset demo --seed 0

writes ``images/{train,val,test}/<video>/%06d.jpg``, the per-video and merged
PoseTrack18 annotation files, detection files for val and test and the
hard-case files ``annotations/{train,val,test}_hard.json`` (see
:mod:`famipose_mmpose.synthetic.writer`), then prints a summary. Options not
given keep the preset's value. An existing non-empty folder is replaced only
with ``--overwrite`` and only if it holds a data set of this generator.
"""
import argparse
import json
import sys
from typing import Any, Dict, Optional, Sequence

from famipose_mmpose.synthetic import PRESETS, generate_dataset


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate a synthetic PoseTrack18-format video pose '
        'data set with occluders, overlapping people and motion blur.')
    parser.add_argument('out_dir', help='output folder (the data root)')
    parser.add_argument(
        '--preset',
        default='demo',
        choices=sorted(PRESETS),
        help='size preset (default: demo)')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument('--num-train-videos', type=int)
    parser.add_argument('--num-val-videos', type=int)
    parser.add_argument('--num-test-videos', type=int)
    parser.add_argument('--frames-per-video', type=int)
    parser.add_argument(
        '--image-size',
        type=int,
        nargs=2,
        metavar=('W', 'H'),
        help='frame width and height in pixels')
    parser.add_argument(
        '--person-height',
        type=float,
        nargs=2,
        metavar=('MIN', 'MAX'),
        help='standing height of people in pixels (default: 0.31-0.57 of '
        'the image height)')
    parser.add_argument(
        '--people-per-video', type=int, nargs=2, metavar=('MIN', 'MAX'))
    parser.add_argument(
        '--occlusion-rate',
        type=float,
        help='about the fraction of person-frames with an occluded joint')
    parser.add_argument(
        '--occluder-scale',
        type=float,
        help='linear size of the occluders relative to the calibrated one, '
        'in [0.1, 4] (1.0: about 1-3 joints of a person covered)')
    parser.add_argument(
        '--blur-rate', type=float, help='fraction of motion-blurred frames')
    parser.add_argument(
        '--crowd-rate',
        type=float,
        help='probability of a distant crowd (ignore region) per video')
    parser.add_argument(
        '--train-label-stride',
        type=int,
        help='label every k-th train frame')
    parser.add_argument(
        '--val-label-stride', type=int, help='label every k-th val frame')
    parser.add_argument('--det-miss-rate', type=float)
    parser.add_argument(
        '--det-false-positives',
        type=float,
        help='mean false-positive boxes per val frame')
    parser.add_argument('--jpeg-quality', type=int)
    parser.add_argument(
        '--workers',
        type=int,
        default=1,
        help='parallel processes (the output does not depend on it)')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace an existing data set written by this generator')
    parser.add_argument(
        '--json', action='store_true', help='print the summary as json')
    return parser.parse_args(argv)


def format_summary(summary: Dict[str, Any]) -> str:
    """Human-readable summary of :func:`generate_dataset`'s result."""
    lines = [
        f"Synthetic PoseTrack18 data set in {summary['out_dir']} "
        f"(preset {summary['preset']}, seed {summary['seed']}, "
        f"{summary['seconds']} s)"
    ]
    keys = ('videos', 'frames', 'labeled_frames', 'people', 'annotations',
            'occluded_joints', 'person_occluded_joints', 'blurred_frames',
            'blurred_labeled_frames', 'frames_with_ignore_regions',
            'detections')
    width = max(len(k) for k in keys)
    splits = list(summary['splits'])
    lines.append(f"{'':{width}}" + ''.join(f'  {s:>8}' for s in splits))
    for key in keys:
        lines.append(f'{key:{width}}' + ''.join(
            f"  {summary['splits'][s][key]:>8}" for s in splits))
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    options = dict(
        num_train_videos=args.num_train_videos,
        num_val_videos=args.num_val_videos,
        num_test_videos=args.num_test_videos,
        frames_per_video=args.frames_per_video,
        person_height=args.person_height,
        people_per_video=args.people_per_video,
        occlusion_rate=args.occlusion_rate,
        occluder_scale=args.occluder_scale,
        blur_rate=args.blur_rate,
        crowd_rate=args.crowd_rate,
        train_label_stride=args.train_label_stride,
        val_label_stride=args.val_label_stride,
        det_miss_rate=args.det_miss_rate,
        det_false_positives=args.det_false_positives,
        jpeg_quality=args.jpeg_quality)
    if args.image_size is not None:
        options.update(
            image_width=args.image_size[0], image_height=args.image_size[1])
    try:
        summary = generate_dataset(
            args.out_dir,
            preset=args.preset,
            seed=args.seed,
            overwrite=args.overwrite,
            workers=args.workers,
            **options)
    except (FileExistsError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(format_summary(summary))
    return 0


if __name__ == '__main__':
    sys.exit(main())
