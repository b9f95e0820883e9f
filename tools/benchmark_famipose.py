"""Cost figures of FAMI-Pose against its stage-1 single-frame model, measured in one process.

    python tools/benchmark_famipose.py                       # HRNet-W48 384x288 (the paper's model), CPU
    python tools/benchmark_famipose.py --config configs/synthetic/famipose_hrnet-tiny_1xb32-12e_synthposetrack-128x96.py
    python tools/benchmark_famipose.py --cfg-options model.backbone_chunk_size=2   # any config field

Prints: parameters (total, trainable, FAMI-only), GFLOPs per key frame, forward time per key frame of FAMI-Pose and of
the single-frame model (same backbone and head weights, same input size), and the training-step time of FAMI-Pose
(frozen backbone) and of the single-frame model (everything trainable).  Random weights; times are medians over
``--repeats`` runs after one warm-up.  It prints figures; nothing is asserted.
"""
import argparse
import copy
import os.path as osp
import platform
import statistics
import time

import torch
from mmengine.config import DictAction

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

DEFAULT_CONFIG = osp.join(REPO, 'configs', 'famipose', 'famipose_hrnet-w48_8xb6-20e_posetrack17-384x288.py')


def single_frame_model_cfg(fami_model_cfg: dict) -> dict:
    """The stage-1 model whose checkpoint a FAMI config loads: the same backbone, a head without the FAMI convs."""
    head = copy.deepcopy(fami_model_cfg['head'])
    head.pop('conv_out_channels', None)
    head.pop('conv_kernel_sizes', None)
    return dict(
        type='TopdownPoseEstimator',
        data_preprocessor=dict(type='PoseDataPreprocessor'),
        backbone=copy.deepcopy(fami_model_cfg['backbone']),
        head=head,
        test_cfg=dict(flip_test=False))


def fake_samples(batch: int, input_size, heatmap_size, num_keypoints: int):
    """Data samples with targets, as GenerateTarget + PackPoseInputs make them."""
    from mmengine.structures import InstanceData, PixelData
    from mmpose.structures import PoseDataSample
    w, h = input_size
    samples = []
    for _ in range(batch):
        sample = PoseDataSample(
            metainfo=dict(
                input_size=input_size, input_center=(w / 2, h / 2), input_scale=(w, h), flip_indices=list(
                    range(num_keypoints))))
        sample.gt_fields = PixelData(heatmaps=torch.rand(num_keypoints, heatmap_size[1], heatmap_size[0]))
        sample.gt_instance_labels = InstanceData(keypoint_weights=torch.ones(1, num_keypoints))
        sample.gt_instances = InstanceData(
            keypoints=torch.rand(1, num_keypoints, 2).numpy() * w, bboxes=torch.tensor([[0., 0., w, h]]).numpy())
        samples.append(sample)
    return samples


def median_time(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def count_parameters(model: torch.nn.Module):
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    stage1 = sum(p.numel() for name, p in model.named_parameters()
                 if name.startswith('backbone.') or name.startswith('head.final_layer.'))
    return total, trainable, total - stage1


class TensorForward(torch.nn.Module):
    """``model(inputs, None, mode='tensor')`` as a one-argument module, for the FLOP tracer."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, inputs: torch.Tensor):
        return self.model(inputs, None, mode='tensor')


def gflops(model, inputs) -> float:
    """FLOPs counted by mmengine's analyzer (fvcore rules: one multiply-add = one FLOP) plus the deformable convs,
    which the tracer does not see: Cin * k * k * Cout multiply-adds per output pixel, as for a dense conv."""
    from mmcv.ops import ModulatedDeformConv2d
    from mmengine.analysis import FlopAnalyzer
    dcn_macs = []

    def hook(module, args, output):
        dcn_macs.append(module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1] *
                        module.out_channels * output.shape[0] * output.shape[2] * output.shape[3])

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, ModulatedDeformConv2d)]
    model = TensorForward(model)
    with torch.no_grad():
        analyzer = FlopAnalyzer(model, inputs)
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        traced = analyzer.total()
        dcn_macs.clear()
        model(inputs)  # the hooks count each deformable conv once
    for handle in handles:
        handle.remove()
    return (traced + sum(dcn_macs)) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument('--batch', type=int, default=2, help='key frames per batch')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--threads', type=int, default=torch.get_num_threads())
    parser.add_argument('--skip-flops', action='store_true')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, default={},
        help='override config fields, e.g. model.backbone_chunk_size=2 model.lcm.dcn_impl=mmcv')
    args = parser.parse_args()

    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS

    import famipose_mmpose  # noqa: F401
    init_default_scope('mmpose')
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    codec = cfg.model.head.decoder
    w, h = codec.input_size
    num_keypoints = cfg.model.head.out_channels
    num_frames = 1 + len(cfg.get('frame_offsets', [-2, -1, 1, 2]))

    fami = MODELS.build(cfg.model)
    single = MODELS.build(single_frame_model_cfg(cfg.model.to_dict()))
    single.load_state_dict(
        {k: v
         for k, v in fami.state_dict().items() if k.startswith('backbone.') or k.startswith('head.final_layer.')},
        strict=False)
    fami.eval()
    single.eval()

    video = torch.randn(args.batch, num_frames, 3, h, w)
    frame = video[:, 0].contiguous()
    overrides = ' '.join(f'{k}={v}' for k, v in args.cfg_options.items())
    print(f'config: {osp.relpath(args.config, REPO)} {overrides}'.rstrip())
    print(f'machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, '
          f'torch {torch.__version__}; input {h}x{w}, T = {num_frames}, batch {args.batch} key frames')

    total, trainable, fami_only = count_parameters(fami)
    print(f'parameters: FAMI-Pose total {total / 1e6:.3f} M, trainable {trainable / 1e6:.3f} M, '
          f'FAMI-only (beyond the stage-1 backbone and heatmap layer) {fami_only / 1e6:.3f} M; '
          f'single-frame {sum(p.numel() for p in single.parameters()) / 1e6:.3f} M')
    if not args.skip_flops:
        fami_flops = gflops(fami, video[:1])
        single_flops = gflops(single, frame[:1])
        print(f'GFLOPs per key frame (multiply-adds): FAMI-Pose {fami_flops:.1f}, single-frame {single_flops:.1f} '
              f'({fami_flops / single_flops:.2f}x)')

    with torch.no_grad():
        t_fami = median_time(lambda: fami(video, None, mode='tensor'), args.repeats) / args.batch
        t_single = median_time(lambda: single(frame, None, mode='tensor'), args.repeats) / args.batch
    print(f'forward per key frame: FAMI-Pose {t_fami * 1e3:.0f} ms, single-frame {t_single * 1e3:.0f} ms, '
          f'ratio {t_fami / t_single:.2f}x (floor: {num_frames} backbone passes)')

    samples = fake_samples(args.batch, (w, h), codec.heatmap_size, num_keypoints)
    for model in (fami, single):
        model.train()
    opt_fami = torch.optim.Adam([p for p in fami.parameters() if p.requires_grad], lr=1e-4)
    opt_single = torch.optim.Adam(single.parameters(), lr=1e-4)

    def step(model, optimizer, inputs):
        losses = model.loss(inputs, samples)
        loss = sum(v for k, v in losses.items() if k.startswith('loss'))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    s_fami = median_time(lambda: step(fami, opt_fami, video), args.repeats) / args.batch
    s_single = median_time(lambda: step(single, opt_single, frame), args.repeats) / args.batch
    print(f'training step per key frame: FAMI-Pose (frozen backbone) {s_fami * 1e3:.0f} ms, single-frame (all '
          f'trainable) {s_single * 1e3:.0f} ms, ratio {s_fami / s_single:.2f}x')


if __name__ == '__main__':
    main()
