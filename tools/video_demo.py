# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Video pose estimation demo: a video file (or a folder of frames) in, an
annotated video and a PoseTrack18-format prediction file out.

People come from an MMDetection detector (``--det-config`` /
``--det-checkpoint``) or from a detection file (``--det-file``, mmpose's
bbox-file format, with ``--ann-file`` mapping its image ids to frames).
Poses come from a FAMI-Pose config + checkpoint (key frame plus supporting
frames) or from a single-frame top-down config + checkpoint. Runs on the
CPU by default.

Examples::

    # detector + FAMI-Pose on a video file
    python tools/video_demo.py \\
        configs/synthetic/famipose_hrnet-tiny_1xb32-12e_synthposetrack-128x96.py \\
        work_dirs/famipose/best.pth --input clip.mp4 --output-root vis/ \\
        --det-config rtmdet_tiny_8xb32-300e_coco.py \\
        --det-checkpoint rtmdet_tiny.pth --draw-bbox

    # PoseTrack-style detection file + a folder of frames
    python tools/video_demo.py CONFIG CHECKPOINT \\
        --input data/posetrack18/images/val/012834_mpii_test \\
        --det-file data/posetrack18/annotations/posetrack18_val_human_detections.json \\
        --ann-file data/posetrack18/annotations/posetrack18_val.json \\
        --bbox-thr 0.2 --output-root vis/

    # FAMI-Pose's reuse mode (each person's crop of a frame through the
    # backbone once) with a causal window (frame t's result as soon as frame
    # t is read: live video), for a checkpoint trained that way (the reuse
    # config with train/val/test_dataloader.dataset.frame_offsets=[-4,-3,-2,-1])
    python tools/video_demo.py CONFIG CHECKPOINT --input clip.mp4 \\
        --output-root vis/ --det-file DETS --ann-file ANN \\
        --mode reuse --frame-offsets -4 -3 -2 -1

Writes ``<output-root>/<video>.mp4`` and ``<output-root>/<video>.json``
(``<video>`` = the folder or file name); each is written under a temporary
name and renamed when complete, so a file with the final name is never
partial.
"""
import os
import os.path as osp
import sys
from argparse import ArgumentParser, Namespace
from typing import List, Optional

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.utils import ProgressBar

from famipose_mmpose import apis  # registers the plugin too
from famipose_mmpose.checkpoint import CorruptCheckpointError, UnsafeCheckpointError

#: ``--mode`` -> ``model.supporting_crops``
CROP_MODES = {'paper': 'key_box', 'reuse': 'own_box'}


def parse_args(argv: Optional[List[str]] = None) -> Namespace:
    parser = ArgumentParser(
        description=__doc__.split('\n\n')[0],
        epilog='FAMI-Pose mode and window: --mode reuse runs each (person, '
        'frame) crop through the backbone once (--mode paper: the paper\'s '
        'key-box crops); --frame-offsets -4 -3 -2 -1 (a causal window, past '
        'frames only) gives the result of frame t as soon as frame t is '
        'read, for live video.')
    parser.add_argument('pose_config', help='Pose config file')
    parser.add_argument('pose_checkpoint', help='Pose checkpoint file')
    parser.add_argument(
        '--input', required=True, help='Video file or folder of frames')
    parser.add_argument(
        '--output-root', required=True, help='Folder for the outputs')
    source = parser.add_argument_group('people (a detector or a file)')
    source.add_argument('--det-config', help='MMDetection config file')
    source.add_argument(
        '--det-checkpoint',
        help='MMDetection checkpoint (omitted: random weights, for tests)')
    source.add_argument(
        '--det-cat-id',
        type=int,
        default=0,
        help='Class index of "person" for the detector (COCO: 0)')
    source.add_argument(
        '--nms-thr', type=float, default=0.3, help='IoU threshold of NMS')
    source.add_argument(
        '--det-file', help='Detection file (mmpose bbox-file format)')
    source.add_argument(
        '--ann-file',
        help='PoseTrack json listing the images of the video (maps the '
        'image ids of --det-file to frames)')
    source.add_argument(
        '--video-name',
        help='Folder name of the video in --ann-file (default: the input\'s '
        'folder or file name)')
    source.add_argument(
        '--match-by',
        choices=['file_name', 'position'],
        help='How frames match --ann-file images (default: file_name for a '
        'frame folder, position for a video file)')
    source.add_argument(
        '--bbox-thr', type=float, default=0.3, help='Minimum person box score')
    model = parser.add_argument_group('FAMI-Pose mode and window')
    model.add_argument(
        '--mode',
        choices=sorted(CROP_MODES),
        help='paper: every supporting frame cropped with the key frame\'s '
        'box (the paper\'s FAMI-Pose, about 5 backbone passes per person '
        'and frame); reuse: each frame cropped with the person\'s own box, '
        'each (person, frame) crop through the backbone once and reused by '
        'the neighbouring key frames (close to single-frame cost; best with '
        'a model trained that way, model.supporting_crops=\'own_box\'). '
        'Default: the config\'s model.supporting_crops')
    model.add_argument(
        '--frame-offsets',
        type=int,
        nargs='+',
        metavar='OFFSET',
        help='supporting-frame window instead of the config\'s test '
        'dataset frame_offsets, e.g. a causal window (past frames only) '
        '"--frame-offsets -4 -3 -2 -1": the result of frame t comes as soon '
        'as frame t is read, for live video (a window with future frames '
        'waits for frame t + max offset). The checkpoint must have been '
        'trained with that window')
    parser.add_argument(
        '--device', default='cpu', help='Device used for inference')
    parser.add_argument(
        '--batch-size',
        type=int,
        default=None,
        help='Most people per forward (default: all people of a frame)')
    parser.add_argument(
        '--track-iou-thr',
        type=float,
        default=0.3,
        help='IoU threshold of the frame-to-frame tracker')
    parser.add_argument(
        '--joint-score-mode',
        choices=['keypoint_x_bbox', 'keypoint'],
        default='keypoint_x_bbox',
        help='Joint score written to the prediction file')
    parser.add_argument(
        '--kpt-thr',
        type=float,
        default=0.3,
        help='Keypoint drawing threshold')
    parser.add_argument(
        '--draw-bbox', action='store_true', help='Draw the person boxes')
    parser.add_argument(
        '--skeleton-style',
        default='mmpose',
        choices=['mmpose', 'openpose'],
        help='Skeleton style')
    parser.add_argument(
        '--radius', type=int, default=3, help='Keypoint radius')
    parser.add_argument(
        '--thickness', type=int, default=1, help='Limb thickness')
    parser.add_argument(
        '--alpha', type=float, default=0.8, help='Box transparency')
    parser.add_argument(
        '--fps',
        type=float,
        default=None,
        help='Frame rate of the annotated video (default: the input\'s, or '
        '25)')
    parser.add_argument(
        '--video-ext',
        default='.mp4',
        choices=['.mp4', '.avi', '.gif'],
        help='Container of the annotated video')
    args = parser.parse_args(argv)
    if (args.det_config is None) == (args.det_file is None):
        parser.error('give exactly one person source: --det-config '
                     '(a detector) or --det-file (a detection file).')
    if args.det_file is not None and args.ann_file is None:
        parser.error('--det-file needs --ann-file (the PoseTrack json whose '
                     '"images" map the detection image ids to frames).')
    return args


def model_cfg_options(args: Namespace) -> dict:
    """The config overrides of ``--mode`` and ``--frame-offsets``."""
    options = {}
    if args.mode is not None:
        cfg = Config.fromfile(args.pose_config)
        if cfg.model.get('type') != 'FAMIPose':
            raise ValueError(
                f'--mode {args.mode}: the pose config {args.pose_config!r} '
                f'builds a {cfg.model.get("type")}, not FAMIPose; --mode '
                'chooses how FAMI-Pose crops the supporting frames.')
        options['model.supporting_crops'] = CROP_MODES[args.mode]
    if args.frame_offsets is not None:
        options['test_dataloader.dataset.frame_offsets'] = list(
            args.frame_offsets)
    return options


def build_person_source(args: Namespace, is_folder: bool,
                        video_name: str) -> apis.PersonSource:
    """The detector or detection-file person source of the arguments."""
    if args.det_config is not None:
        if args.det_checkpoint is None:
            print_log(
                'video_demo: no --det-checkpoint, the detector keeps random '
                'weights.',
                logger='current')
        return apis.DetectorPersonSource(
            args.det_config,
            args.det_checkpoint,
            device=args.device,
            det_cat_id=args.det_cat_id,
            bbox_thr=args.bbox_thr,
            nms_thr=args.nms_thr)
    match_by = args.match_by or ('file_name' if is_folder else 'position')
    return apis.DetectionFilePersonSource(
        args.det_file,
        ann_file=args.ann_file,
        video=args.video_name or video_name,
        match_by=match_by,
        bbox_thr=args.bbox_thr)


def check_output_root(path: str) -> None:
    """Refuse an output root that cannot become a folder, before anything
    is loaded: an existing file, or a path under a file or in a folder that
    cannot be written."""
    path = osp.abspath(path)
    if osp.exists(path):
        if not osp.isdir(path):
            raise ValueError(
                f'--output-root {path!r} is a file, not a folder: give a '
                'folder (it is created when missing).')
        existing = path
    else:
        existing = osp.dirname(path)
        while not osp.exists(existing):
            existing = osp.dirname(existing)
        if not osp.isdir(existing):
            raise ValueError(
                f'--output-root {path!r} cannot be created: {existing!r} is '
                'a file, not a folder. Give a folder outside it.')
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(
            f'--output-root {path!r}: the folder {existing!r} is not '
            'writable. Give a folder you can write to.')


def run(args: Namespace) -> dict:
    """Run the demo; return the output paths and counts."""
    check_output_root(args.output_root)
    if not osp.isfile(args.pose_config):
        raise FileNotFoundError(
            f'Pose config {args.pose_config!r} does not exist: check the '
            'config path.')
    cfg_options = model_cfg_options(args)
    reader = apis.open_frame_reader(args.input)
    try:
        source = build_person_source(
            args, isinstance(reader, apis.ImageFolderReader),
            reader.video_name)
        model = apis.init_video_model(
            args.pose_config,
            args.pose_checkpoint,
            device=args.device,
            cfg_options=cfg_options or None)
    except BaseException:
        reader.close()
        raise
    visualizer = apis.build_pose_visualizer(
        model.dataset_meta,
        radius=args.radius,
        line_width=args.thickness,
        alpha=args.alpha,
        skeleton_style=args.skeleton_style)
    predictions = apis.PoseTrack18PredictionWriter(
        model.dataset_meta, joint_score_mode=args.joint_score_mode)
    os.makedirs(args.output_root, exist_ok=True)
    name = args.video_name or reader.video_name
    video_path = osp.join(args.output_root, name + args.video_ext)
    pred_path = osp.join(args.output_root, name + '.json')
    fps = args.fps or getattr(reader, 'fps', None) or 25.0
    progress = ProgressBar(reader.num_frames or 0)
    people = 0
    with apis.AtomicVideoWriter(video_path, fps=fps) as writer:
        for frame, sample in apis.iter_video_poses(
                model,
                reader,
                source,
                track_iou_thr=args.track_iou_thr,
                batch_size=args.batch_size):
            writer.write(
                apis.draw_frame_poses(
                    visualizer,
                    frame.image,
                    sample,
                    kpt_thr=args.kpt_thr,
                    draw_bbox=args.draw_bbox,
                    skeleton_style=args.skeleton_style))
            predictions.add(sample)
            people += len(sample.pred_instances)
            progress.update()
        # the prediction file is complete before the video is renamed
        predictions.dump(pred_path)
    sys.stdout.write('\n')
    return dict(
        video=video_path,
        predictions=pred_path,
        frames=len(predictions.images),
        people=people)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        out = run(args)
    except (FileNotFoundError, ValueError, KeyError, CorruptCheckpointError,
            UnsafeCheckpointError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args \
            else str(err)
        print(f'video_demo: error: {message}', file=sys.stderr)
        return 1
    print_log(
        f'video_demo: {out["frames"]} frames, {out["people"]} people; '
        f'annotated video {out["video"]}, predictions {out["predictions"]}',
        logger='current')
    return 0


if __name__ == '__main__':
    sys.exit(main())
