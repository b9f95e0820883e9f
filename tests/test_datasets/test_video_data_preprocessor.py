"""VideoPoseDataPreprocessor: exact values of (B, T, 3, H, W) batches."""
import pytest
import torch
from mmengine.registry import init_default_scope
from mmpose.models.data_preprocessors import PoseDataPreprocessor
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample

from famipose_mmpose.models.data_preprocessors import VideoPoseDataPreprocessor

MEAN = [10.0, 20.0, 30.0]
STD = [2.0, 4.0, 5.0]


@pytest.fixture(autouse=True)
def mmpose_scope():
    init_default_scope('mmpose')


def video(seed, t=3, h=4, w=5):
    """A (T, 3, H, W) uint8 sample."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(
        0, 256, (t, 3, h, w), generator=gen, dtype=torch.uint8)


def expected(sample):
    """Reference: per frame, per channel c of the output (RGB) =
    (input channel 2 - c (BGR) - mean[c]) / std[c], computed elementwise."""
    out = torch.empty(sample.shape, dtype=torch.float32)
    for t in range(sample.shape[0]):
        for c in range(3):
            out[t, c] = (sample[t, 2 - c].float() - MEAN[c]) / STD[c]
    return out


def test_video_batch_is_bt3hw_rgb_normalised_per_frame():
    pre = MODELS.build(
        dict(
            type='VideoPoseDataPreprocessor',
            mean=MEAN,
            std=STD,
            bgr_to_rgb=True))
    assert isinstance(pre, VideoPoseDataPreprocessor)
    samples = [video(0), video(1)]
    data_samples = [PoseDataSample(), PoseDataSample()]
    out = pre(dict(inputs=samples, data_samples=data_samples))
    inputs = out['inputs']
    assert inputs.shape == (2, 3, 3, 4, 5) and inputs.dtype == torch.float32
    for b in range(2):
        torch.testing.assert_close(
            inputs[b], expected(samples[b]), rtol=0, atol=1e-6)
    # one concrete pixel, by hand: frame 1, R channel = input B->index 2
    raw = samples[0][1, 2, 0, 0].item()
    assert inputs[0, 1, 0, 0, 0].item() == pytest.approx((raw - 10.0) / 2.0)
    assert out['data_samples'][0].batch_input_shape == (4, 5)
    assert out['data_samples'][1].pad_shape == (4, 5)


def test_collated_tensor_batch_gives_the_same_result():
    pre = VideoPoseDataPreprocessor(mean=MEAN, std=STD, bgr_to_rgb=True)
    samples = [video(2), video(3)]
    listed = pre(dict(inputs=samples, data_samples=None))['inputs']
    stacked = pre(dict(inputs=torch.stack(samples),
                       data_samples=None))['inputs']
    torch.testing.assert_close(listed, stacked, rtol=0, atol=0)


def test_plain_images_match_the_stock_preprocessor():
    cfg = dict(mean=MEAN, std=STD, bgr_to_rgb=True)
    ours = VideoPoseDataPreprocessor(**cfg)
    stock = PoseDataPreprocessor(**cfg)
    images = [video(4, t=1)[0], video(5, t=1)[0]]  # (3, H, W) each
    out = ours(dict(inputs=images, data_samples=None))['inputs']
    ref = stock(
        dict(inputs=images, data_samples=[PoseDataSample(),
                                          PoseDataSample()]))['inputs']
    assert out.shape == (2, 3, 4, 5)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-6)
    # a one-frame video stays a video
    one = ours(dict(inputs=[video(6, t=1)], data_samples=None))['inputs']
    assert one.shape == (1, 1, 3, 4, 5)


def test_stock_preprocessor_cannot_take_video_samples():
    """The trap this class exists for: stock swaps dim 0 (frames)."""
    stock = PoseDataPreprocessor(bgr_to_rgb=True)
    sample = video(7, t=5)
    out = stock(dict(inputs=[sample],
                     data_samples=[PoseDataSample()]))['inputs'][0]
    # frames 2, 1, 0 kept, frames 3 and 4 dropped, channels untouched
    assert torch.equal(out, sample[[2, 1, 0]].float())
    ours = VideoPoseDataPreprocessor(bgr_to_rgb=True)
    fixed = ours(dict(inputs=[sample], data_samples=None))['inputs'][0]
    assert torch.equal(fixed, sample.flip(1).float())  # channels reversed


def test_no_normalisation_and_padding():
    pre = VideoPoseDataPreprocessor(pad_size_divisor=4, pad_value=-1)
    samples = [video(8, h=4, w=5), video(9, h=3, w=6)]
    data_samples = [PoseDataSample(), PoseDataSample()]
    out = pre(dict(inputs=samples, data_samples=data_samples))
    inputs = out['inputs']
    assert inputs.shape == (2, 3, 3, 4, 8)
    torch.testing.assert_close(inputs[0, :, :, :4, :5], samples[0].float())
    torch.testing.assert_close(inputs[1, :, :, :3, :6], samples[1].float())
    assert (inputs[0, :, :, :, 5:] == -1).all()
    assert (inputs[1, :, :, 3:, :] == -1).all()
    out_samples = out['data_samples']  # cast_data returns copies
    assert out_samples[0].batch_input_shape == (4, 8)
    assert out_samples[0].pad_shape == (4, 8)
    assert out_samples[1].pad_shape == (4, 8)


def test_bad_batches_and_options_are_refused():
    pre = VideoPoseDataPreprocessor(mean=MEAN, std=STD, bgr_to_rgb=True)
    with pytest.raises(ValueError, match='different numbers of frames'):
        pre(dict(inputs=[video(0, t=3), video(1, t=5)], data_samples=None))
    with pytest.raises(ValueError, match='mixes video samples'):
        pre(dict(inputs=[video(0), video(1)[0]], data_samples=None))
    with pytest.raises(ValueError, match='3 channels'):
        pre(dict(inputs=[torch.zeros(2, 1, 4, 4)], data_samples=None))
    with pytest.raises(ValueError, match='both'):
        VideoPoseDataPreprocessor(mean=MEAN)
    with pytest.raises(ValueError, match='cannot both'):
        VideoPoseDataPreprocessor(bgr_to_rgb=True, rgb_to_bgr=True)
    with pytest.raises(ValueError, match='1 or 3 values'):
        VideoPoseDataPreprocessor(mean=[1, 2], std=[1, 2])
