"""ExactResumeHook: ``--resume`` reproduces the uninterrupted run, and works with a stage-1 ``load_from`` (issue 13)."""
import os.path as osp
import shutil

import pytest
import torch
from engine_toys import ToyModel, WiderToyModel, attach_records, load_state, make_runner
from mmengine.config import Config
from mmengine.hooks import Hook

from famipose_mmpose.engine.hooks import ExactResumeHook
from famipose_mmpose.engine.hooks.exact_resume_hook import epoch_seed, recorded_load_from

N = 4  # iterations per epoch


def weights(path: str) -> dict:
    return load_state(path)['state_dict']


def assert_same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


class WeightsAtStart(Hook):
    """Records the model's weights when training starts (after the runner has loaded or resumed)."""

    def before_train(self, runner) -> None:
        self.state = {k: v.clone() for k, v in runner.model.state_dict().items()}
        self.epoch = runner.epoch


def test_epoch_seed_is_deterministic_and_differs_per_stream():
    seeds = {epoch_seed(0, epoch, rank, stream) for epoch in range(3) for rank in range(2) for stream in range(3)}
    assert len(seeds) == 18
    assert epoch_seed(7, 1, 0, 2) == epoch_seed(7, 1, 0, 2) != epoch_seed(8, 1, 0, 2)
    assert all(0 <= s < 2**64 for s in seeds) and epoch_seed(-1, 0, 0, 0) >= 0


@pytest.mark.parametrize('num_workers,seed,dropout', [(1, 0, 0.), (0, 0, 0.), (1, 0, 0.5), (1, None, 0.)],
                         ids=['worker', 'main-process-data', 'model-randomness', 'no-configured-seed'])
def test_resumed_run_equals_the_uninterrupted_run(tmp_path, num_workers, seed, dropout):
    """1 epoch, then ``resume`` to 3 vs. 3 epochs in one go: same data, augmentations and weights, bit for bit.

    Without a configured seed the run draws one and stores it in its checkpoints; the uninterrupted run it must
    equal is the one with that seed."""
    common = dict(n=N, lr=0.05, augment=True, shuffle=True, num_workers=num_workers)
    parts = str(tmp_path / 'parts')
    make_runner(parts, ToyModel(dropout=dropout), [ExactResumeHook()], max_epochs=1, seed=seed, **common).train()
    resumed_model = ToyModel(dropout=dropout)
    make_runner(parts, resumed_model, [ExactResumeHook()], max_epochs=3, seed=seed, resume=True, **common).train()

    drawn = load_state(osp.join(parts, 'epoch_1.pth'))['meta']['seed']
    assert seed is None or drawn == seed
    whole = str(tmp_path / 'whole')
    whole_model = ToyModel(dropout=dropout)
    make_runner(whole, whole_model, [ExactResumeHook()], max_epochs=3, seed=drawn, **common).train()

    assert len(resumed_model.seen) == 2 * N
    for a, b in zip(whole_model.seen[N:], resumed_model.seen):
        assert torch.equal(a, b), 'the resumed epochs saw other samples or augmentations'
    assert_same_weights(weights(osp.join(whole, 'epoch_3.pth')), weights(osp.join(parts, 'epoch_3.pth')))


def test_every_epoch_draws_new_augmentations(tmp_path):
    """Workers restarted each epoch (persistent_workers=False) do not replay the augmentations of the last one."""
    model = ToyModel()
    make_runner(str(tmp_path), model, [ExactResumeHook()], n=N, max_epochs=2, augment=True, num_workers=1).train()
    first, second = torch.cat(model.seen[:N]), torch.cat(model.seen[N:])  # same sample order (no shuffling)
    assert not torch.equal(first, second), 'epoch 2 replayed the augmentations of epoch 1'


def test_persistent_workers_are_reported(tmp_path):
    runner = make_runner(str(tmp_path), ToyModel(), [ExactResumeHook()], max_epochs=1, num_workers=1, persistent=True)
    records = attach_records(runner)
    runner.train()
    assert any('persistent_workers=True' in m for m in records.messages())


# ------------------------------------------------------------------------------------ --resume with load_from


@pytest.fixture(scope='module')
def stage1(tmp_path_factory) -> str:
    """A 1-epoch checkpoint of ToyModel (weights moved away from their initial values)."""
    work_dir = str(tmp_path_factory.mktemp('stage1'))
    make_runner(work_dir, ToyModel(), n=N, max_epochs=1, lr=0.1).train()
    return osp.join(work_dir, 'epoch_1.pth')


def test_resume_with_a_stage1_load_from_starts_from_it_then_resumes_the_work_dir(stage1, tmp_path):
    """What `tools/train.py fami.py --resume --cfg-options load_from=STAGE1` sets: resume=True, load_from=STAGE1.

    mmengine would resume STAGE1 itself (stage 1's epoch, then ValueError on the optimizer of another model)."""
    work_dir = str(tmp_path)
    start = WeightsAtStart()
    model = WiderToyModel()
    make_runner(work_dir, model, [ExactResumeHook(), start], max_epochs=1, resume=True, load_from=stage1).train()
    assert start.epoch == 0 and model.steps == 0 and len(model.seen) == N  # a fresh run ...
    for key, value in weights(stage1).items():  # ... from the stage-1 weights
        assert torch.equal(start.state[key], value), key

    start = WeightsAtStart()
    model = WiderToyModel()
    make_runner(work_dir, model, [ExactResumeHook(), start], max_epochs=2, resume=True, load_from=stage1).train()
    assert start.epoch == 1 and len(model.seen) == N  # resumed the work dir's epoch 1, trained epoch 2 only
    assert_same_weights(start.state, weights(osp.join(work_dir, 'epoch_1.pth')))
    assert load_state(osp.join(work_dir, 'epoch_2.pth'))['meta']['iter'] == 2 * N


def test_resume_with_a_same_architecture_load_from_resumes_the_run_trained_from_it(stage1, tmp_path):
    """A model initialised from a checkpoint of its own architecture (the matched-budget control): the work dir's
    latest checkpoint records that load_from, so it is what --resume continues."""
    work_dir = str(tmp_path)
    cfg = Config(dict(load_from=stage1))  # what Runner.from_cfg keeps (and stores in each checkpoint)
    make_runner(work_dir, ToyModel(), n=N, max_epochs=1, lr=0.1, load_from=stage1, cfg=cfg).train()
    assert recorded_load_from(load_state(osp.join(work_dir, 'epoch_1.pth'))) == stage1

    start = WeightsAtStart()
    make_runner(work_dir, ToyModel(), [ExactResumeHook(), start], max_epochs=2, lr=0.1, resume=True,
                load_from=stage1, cfg=cfg).train()
    assert_same_weights(start.state, weights(osp.join(work_dir, 'epoch_1.pth')))


def test_explicit_resume_of_this_models_checkpoint_is_unchanged(stage1, tmp_path):
    """`--resume PATH` of a checkpoint of this model from another directory resumes it, as mmengine does."""
    source = str(tmp_path / 'source')
    make_runner(source, WiderToyModel(), n=N, max_epochs=1, lr=0.1).train()
    moved = str(tmp_path / 'moved.pth')
    shutil.copy(osp.join(source, 'epoch_1.pth'), moved)
    work_dir = str(tmp_path / 'continued')
    start = WeightsAtStart()
    make_runner(work_dir, WiderToyModel(), [ExactResumeHook(), start], max_epochs=2, lr=0.1, resume=True,
                load_from=moved).train()
    assert start.epoch == 1
    assert_same_weights(start.state, weights(moved))


def test_resume_in_an_empty_work_dir_starts_from_the_config_files_load_from(stage1, tmp_path):
    """`tools/train.py fami.py --resume` in a new work dir: train.py cleared the config's load_from (stage 1) and
    mmengine found nothing to resume, so the model would start from random weights."""
    config_file = tmp_path / 'stage2.py'
    config_file.write_text(f'load_from = {stage1!r}\n')
    start = WeightsAtStart()
    make_runner(str(tmp_path / 'work'), WiderToyModel(), [ExactResumeHook(), start], max_epochs=1,
                cfg=Config.fromfile(str(config_file)), resume=True, load_from=None).train()
    for key, value in weights(stage1).items():
        assert torch.equal(start.state[key], value), key
