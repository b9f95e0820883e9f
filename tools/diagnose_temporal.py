"""How much does a trained FAMI-Pose model use its supporting frames?  Measured on one split of a data set.

For every batch of the chosen split (the config's val or test dataloader, as the stock tools/test.py would build it)
it runs the model twice: on the real window, and on the same samples with every supporting crop replaced by the key
crop (the static-support counterfactual, computed in the model, no second data pass), and prints:

- ``support/key``: the norm of the summed aligned supporting features over the norm of the key feature (how much the
  temporal branch adds to the enhanced feature ``z~ = z_t + sum aligned``), per supporting slot and in all;
- ``temporal effect``: the mean absolute change of the final heatmaps between the real window and the static
  counterfactual, relative to the change the whole temporal branch makes over the key feature alone
  (``|H(real) - H(static)| / |H(real) - H(key only)|``; near 0: the model gives the same answer without the
  neighbouring frames, i.e. its gain over the single-frame model is a refinement of the key feature);
- ``argmax moved``: how often a joint's heatmap peak moves between the real window and the static counterfactual;
- the GTM's transforms: mean absolute translation (feature pixels) and deviation of the linear part from the
  identity, per supporting slot.

Example::

    python tools/diagnose_temporal.py CONFIG CHECKPOINT --split val --batches 8 \\
        --cfg-options val_dataloader.dataset.data_root=DATA/
"""
import argparse
from typing import Dict, List

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmpose.apis import init_model
from mmpose.registry import DATASETS
from torch.utils.data import DataLoader


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--split', choices=['val', 'test'], default='val')
    parser.add_argument('--batches', type=int, default=8, help='batches to measure (0: all)')
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def _norm(x: torch.Tensor) -> torch.Tensor:
    """Per-sample Frobenius norm of a (B, ...) tensor."""
    return x.flatten(1).norm(dim=1)


@torch.no_grad()
def measure(model, inputs: torch.Tensor) -> Dict[str, np.ndarray]:
    """The per-sample measurements of one batch of (B, T, 3, H, W) preprocessed video crops."""
    real = model.extract_video_feat(inputs)
    static = model.extract_video_feat(inputs[:, :1].expand_as(inputs).contiguous())
    head = model.head
    heat_real = head.forward((real.enhanced, ))
    heat_static = head.forward((static.enhanced, ))
    heat_key = head.forward((real.key, ))
    branch = real.aligned if real.aligned is not None else real.coarse
    out = dict(
        support_over_key=(_norm(branch.sum(1)) / _norm(real.key)).numpy(),
        temporal_effect=((heat_real - heat_static).abs().flatten(1).mean(1) /
                         (heat_real - heat_key).abs().flatten(1).mean(1).clamp_min(1e-12)).numpy(),
        argmax_moved=(heat_real.flatten(2).argmax(-1) != heat_static.flatten(2).argmax(-1)).float().mean(1).numpy())
    for slot in range(branch.shape[1]):
        out[f'support_over_key_slot{slot}'] = (_norm(branch[:, slot]) / _norm(real.key)).numpy()
    if real.thetas is not None:
        width, height = real.key.shape[-1], real.key.shape[-2]
        shift = real.thetas[..., 2] * torch.tensor([width / 2, height / 2])
        linear = (real.thetas[..., :2] - torch.eye(2)).abs().flatten(2).mean(-1)
        for slot in range(real.thetas.shape[1]):
            out[f'gtm_shift_px_slot{slot}'] = shift[:, slot].abs().mean(-1).numpy()
            out[f'gtm_linear_dev_slot{slot}'] = linear[:, slot].numpy()
    return out


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope('mmpose')
    model = init_model(cfg, args.checkpoint, device='cpu')
    if not hasattr(model, 'extract_video_feat'):
        raise SystemExit(f'{args.config}: the model is not a FAMIPose (it has no temporal branch to diagnose).')
    dataset = DATASETS.build(cfg[f'{args.split}_dataloader']['dataset'])
    loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=False, collate_fn=pseudo_collate)
    offsets = getattr(dataset, 'frame_offsets', None)
    collected: Dict[str, List[np.ndarray]] = {}
    for index, batch in enumerate(loader):
        if args.batches and index >= args.batches:
            break
        inputs = model.data_preprocessor(batch, False)['inputs']
        for key, value in measure(model, inputs).items():
            collected.setdefault(key, []).append(value)
    print(f'{args.checkpoint} on {args.split} ({sum(len(v) for v in collected["temporal_effect"])} samples; '
          f'supporting offsets {offsets}): median [25%, 75%]')
    for key, values in collected.items():
        data = np.concatenate(values)
        q1, med, q3 = np.percentile(data, [25, 50, 75])
        print(f'  {key:28s} {med:8.4f}  [{q1:.4f}, {q3:.4f}]')


if __name__ == '__main__':
    main()
