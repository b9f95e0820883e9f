"""How much does placing the occluded joints exactly raise the AP on occluded frames, all else as predicted?

For each prediction folder (per-video files as ``tools/test.py`` writes them, e.g. ``<arm>/predictions_val`` of a
``tools/run_demo.py`` run) it prints the PoseTrack Total AP on every frame subset of the synthetic set's split as
predicted, and again with every joint of the chosen joint subset (default: the occluder-covered joints) put exactly on
the ground truth of the person it is matched to (``famipose_mmpose.synthetic.report.oracle_joint_ap``). The
difference is what repairing those joints' positions gains on those frames with the model's own scores and people
held fixed.

Example::

    python tools/oracle_joint_ap.py work_dirs/bench/repeat0/data \\
        work_dirs/bench/repeat0/static_support/predictions_val work_dirs/bench/repeat0/stage2_famipose/predictions_val
"""
import argparse
import os.path as osp

from famipose_mmpose.synthetic.report import JOINT_SUBSETS, SUBSETS, oracle_joint_ap, subset_ap


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('data_root', help='a synthetic set (generate_synthetic_posetrack.py output)')
    parser.add_argument('pred_dirs', nargs='+', help='folders of per-video prediction files of that split')
    parser.add_argument('--split', choices=['val', 'test'], default='val')
    parser.add_argument('--field', choices=[field for field, _ in JOINT_SUBSETS.values()], default='occluded_joints',
                        help='the joints put on the ground truth')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    gt_dir = osp.join(args.data_root, 'annotations', args.split)
    hard_file = osp.join(args.data_root, 'annotations', f'{args.split}_hard.json')
    print(f'Total AP on {args.split}: as predicted -> with every {args.field} joint on the ground truth (gain)')
    print('| predictions | ' + ' | '.join(SUBSETS) + ' |')
    print('|---|' + '---|' * len(SUBSETS))
    for pred_dir in args.pred_dirs:
        own = subset_ap(gt_dir, pred_dir, hard_file)
        oracle = oracle_joint_ap(gt_dir, pred_dir, hard_file, args.field)
        cells = []
        for name in SUBSETS:
            before, after = own[name].parts['Total'], oracle[name].parts['Total']
            cells.append(f'{before:.1f} -> {after:.1f} ({after - before:+.1f})')
        print(f'| {pred_dir} | ' + ' | '.join(cells) + ' |')


if __name__ == '__main__':
    main()
