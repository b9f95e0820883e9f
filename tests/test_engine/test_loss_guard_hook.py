"""LossGuardHook: training stops at a non-finite loss or weight, before anything of that state is saved (issue 13)."""
import glob
import math
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
from engine_toys import ToyModel, attach_records, load_state, make_runner, read_last_checkpoint
from mmengine.logging import MMLogger

from famipose_mmpose.engine.hooks import LossGuardHook, NonFiniteTrainingError

N = 4  # iterations per epoch (4 samples, batch 1)


def checkpoints(work_dir: str):
    return sorted(osp.basename(p) for p in glob.glob(osp.join(work_dir, '*.pth')))


def all_finite(path: str) -> bool:
    return all(bool(torch.isfinite(t).all()) for t in load_state(path)['state_dict'].values())


@pytest.mark.parametrize('bad', [math.nan, math.inf])
def test_non_finite_loss_stops_at_that_iteration_and_keeps_the_last_good_checkpoint(tmp_path, bad):
    # epoch 1 is healthy and saved; the 2nd iteration of epoch 2 (the 6th) has a non-finite loss. With
    # max_keep_ckpts=1 mmengine would even delete epoch_1.pth before writing the NaN epoch_2.pth.
    work_dir = str(tmp_path)
    model = ToyModel(losses=[1.] * N + [1., bad, 1., 1.])
    runner = make_runner(work_dir, model, [LossGuardHook()], checkpoint=dict(max_keep_ckpts=1))
    records = attach_records(runner)
    with pytest.raises(NonFiniteTrainingError) as error:
        runner.train()
    message = str(error.value)
    assert 'iteration 6 ' in message and 'Epoch(train) [2][2/4]' in message
    assert f'loss_main={bad}' in message and 'loss_aux=0' in message and 'loss, loss_main not finite' in message
    assert 'lower' in message and 'lr=0' in message
    assert model.steps == N + 2, 'training went on after the non-finite loss'
    assert checkpoints(work_dir) == ['epoch_1.pth']
    assert all_finite(osp.join(work_dir, 'epoch_1.pth'))
    assert read_last_checkpoint(work_dir) == osp.join(work_dir, 'epoch_1.pth')
    assert f'The last checkpoint is {osp.join(work_dir, "epoch_1.pth")}' in message
    assert any('iteration 6 ' in m for m in records.messages()), 'the error is not in the log'


def test_weights_that_overflow_on_a_finite_loss_are_never_saved_nor_best(tmp_path):
    # the last step of epoch 2 overflows the weight (w = 1 - 10 * 3e38) while its loss, 3e38 * 1, is finite: the
    # epoch checkpoint and the validation (whose score always improves, so the model would become the best) follow
    work_dir = str(tmp_path)
    model = ToyModel(losses=[0.] * (2 * N - 1) + [3e38])
    runner = make_runner(work_dir, model, [LossGuardHook()], lr=10., val=True,
                         checkpoint=dict(save_best='toy/score', rule='greater'))
    with pytest.raises(NonFiniteTrainingError, match=r'Non-finite weights at the end of epoch 2: 1 tensor\(s\) '
                       r'\(linear.weight\)'):
        runner.train()
    assert checkpoints(work_dir) == ['best_toy_score_epoch_1.pth', 'epoch_1.pth']
    assert read_last_checkpoint(work_dir) == osp.join(work_dir, 'epoch_1.pth')
    assert all_finite(osp.join(work_dir, 'best_toy_score_epoch_1.pth'))


def test_iteration_based_checkpoint_of_overflowed_weights_is_refused(tmp_path):
    work_dir = str(tmp_path)
    model = ToyModel(losses=[0.] * 5 + [3e38])
    runner = make_runner(work_dir, model, [LossGuardHook()], max_iters=6, lr=10.,
                         checkpoint=dict(by_epoch=False, interval=3))
    with pytest.raises(NonFiniteTrainingError, match=r'Non-finite weights after iteration 6 \(Iter\(train\) \[6/6\]\)'):
        runner.train()
    assert checkpoints(work_dir) == ['iter_3.pth']
    assert read_last_checkpoint(work_dir) == osp.join(work_dir, 'iter_3.pth')


def test_before_save_checkpoint_refuses_non_finite_state(tmp_path):
    runner = SimpleNamespace(logger=MMLogger.get_current_instance(), work_dir=str(tmp_path))
    hook = LossGuardHook()
    hook.before_save_checkpoint(runner, dict(meta=dict(epoch=1, iter=4), state_dict=dict(w=torch.ones(2))))
    with pytest.raises(NonFiniteTrainingError, match=r'epoch 3, iteration 12: 1 tensor\(s\) \(w\)'):
        hook.before_save_checkpoint(
            runner, dict(meta=dict(epoch=3, iter=12), state_dict=dict(w=torch.tensor([1., math.inf]))))


def test_loss_growth_warns_once(tmp_path):
    # reference: median of the first 20 losses = 1; from iteration 26 on the loss is 5000: the median of the last
    # 10 exceeds 1000 at iteration 30 (half of them, median 2500.5), and the warning is not repeated later
    work_dir = str(tmp_path)
    losses = [1.] * 25 + [5000.] * 39
    model = ToyModel(losses=losses)
    runner = make_runner(work_dir, model, [LossGuardHook()], n=16, max_epochs=4)
    records = attach_records(runner)
    runner.train()
    warnings = [m for m in records.messages() if 'LossGuardHook' in m]
    assert len(warnings) == 1, warnings
    assert 'iteration 30 ' in warnings[0] and 'Epoch(train) [2][14/16]' in warnings[0]
    assert 'loss 5000, median of the last 10 iterations 2500.5, median of the first 20 1 ' in warnings[0]
    assert 'lower the learning rate' in warnings[0]
    assert checkpoints(work_dir) == [f'epoch_{e}.pth' for e in range(1, 5)]


def test_healthy_training_is_unaffected(tmp_path):
    # a regression that converges, and a loss that rises 100x (below the 1000x threshold): no warning, no error,
    # every checkpoint written
    work_dir = str(tmp_path / 'converging')
    runner = make_runner(work_dir, ToyModel(), [LossGuardHook()], n=8, max_epochs=3, lr=0.01, augment=True)
    records = attach_records(runner)
    runner.train()
    assert not [m for m in records.messages() if 'LossGuardHook' in m or 'Non-finite' in m]
    assert checkpoints(work_dir) == ['epoch_1.pth', 'epoch_2.pth', 'epoch_3.pth']

    work_dir = str(tmp_path / 'rising')
    runner = make_runner(work_dir, ToyModel(losses=[1.] * 20 + [100.] * 20), [LossGuardHook()], n=8, max_epochs=5)
    records = attach_records(runner)
    runner.train()
    assert not [m for m in records.messages() if 'LossGuardHook' in m]


def test_arguments_are_checked():
    with pytest.raises(ValueError, match='growth_factor'):
        LossGuardHook(growth_factor=1)
    with pytest.raises(ValueError, match='window'):
        LossGuardHook(window=0)
