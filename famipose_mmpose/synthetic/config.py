# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Options of the synthetic PoseTrack18-format generator and its presets."""
import dataclasses
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

#: Most videos a split may hold (its PoseTrack video numbers stay below the
#: next split's; see :mod:`.writer`).
MAX_VIDEOS = {'train': 499999, 'val': 299999, 'test': 199999}


@dataclass(frozen=True)
class SyntheticConfig:
    """All options of one generated data set (defaults = preset ``demo``).

    Args:
        num_train_videos (int): Videos in ``train``. Defaults to 24.
        num_val_videos (int): Videos in ``val`` (model selection).
            Defaults to 8.
        num_test_videos (int): Videos in ``test`` (the reported numbers;
            same distributions as ``val``, other videos). Defaults to 8.
        frames_per_video (int): Frames of every video (1..9999).
            Defaults to 40.
        image_width (int): Frame width in pixels. Defaults to 256.
        image_height (int): Frame height in pixels. Defaults to 192.
        person_height (Tuple[float, float], optional): Range of the standing
            height of people in pixels at zoom 1 (nearest people are the
            tallest). ``None`` means ``(0.31, 0.57) * image_height``, i.e.
            60-110 px at 192 px. Defaults to None.
        people_per_video (Tuple[int, int]): Inclusive range of annotated
            people per video (1..99). Defaults to (2, 4).
        occlusion_rate (float): Roughly the fraction of person-frames with
            at least one joint covered by a moving occluder (calibrated on
            the demo preset at ``occluder_scale`` 1; the summary reports the
            real counts); 0
            disables occluders. Defaults to 0.25.
        occluder_scale (float): Linear size of the occluders relative to
            the calibrated ranges (board width and height, pole width, disc
            and blob radius; poles stay taller than the frame). Each sweeps
            over its target in the same 3-8 frames, so a larger one covers
            more of a person's joints per frame (about 1-3 at 1.0) and, as a
            side effect, more person-frames; the count of occluders is left
            as ``occlusion_rate`` sets it. Defaults to 1.0.
        blur_rate (float): Fraction of frames with camera motion blur (in
            short bursts), in [0, 1). Defaults to 0.15.
        crowd_rate (float): Probability that a video has a distant crowd,
            marked as an ignore region. Defaults to 0.4.
        train_label_stride (int): Every k-th train frame is labeled (frame
            indices 0, k, 2k, ...). Defaults to 1.
        val_label_stride (int): Every k-th val and test frame is labeled.
            Defaults to 2.
        det_miss_rate (float): Base probability that the simulated detector
            misses a person (it grows with occlusion and truncation).
            Defaults to 0.05.
        det_false_positives (float): Mean number of false-positive boxes
            per val and test frame. Defaults to 0.4.
        jpeg_quality (int): JPEG quality of the frames. Defaults to 90.
    """
    num_train_videos: int = 24
    num_val_videos: int = 8
    num_test_videos: int = 8
    frames_per_video: int = 40
    image_width: int = 256
    image_height: int = 192
    person_height: Optional[Tuple[float, float]] = None
    people_per_video: Tuple[int, int] = (2, 4)
    occlusion_rate: float = 0.25
    occluder_scale: float = 1.0
    blur_rate: float = 0.15
    crowd_rate: float = 0.4
    train_label_stride: int = 1
    val_label_stride: int = 2
    det_miss_rate: float = 0.05
    det_false_positives: float = 0.4
    jpeg_quality: int = 90

    @property
    def person_height_range(self) -> Tuple[float, float]:
        """The person height range in pixels, resolving the default."""
        if self.person_height is None:
            return (0.31 * self.image_height, 0.57 * self.image_height)
        return (float(self.person_height[0]), float(self.person_height[1]))

    def to_dict(self) -> Dict[str, Any]:
        """Plain JSON-ready dict of all options (ranges as lists)."""
        out = dataclasses.asdict(self)
        out['person_height'] = list(self.person_height_range)
        out['people_per_video'] = list(self.people_per_video)
        return out


PRESETS: Dict[str, Dict[str, Any]] = {
    # A few seconds; for unit tests.
    'tiny':
    dict(
        num_train_videos=2,
        num_val_videos=2,
        num_test_videos=2,
        frames_per_video=8,
        image_width=96,
        image_height=72,
        people_per_video=(2, 3)),
    # The CPU demo (the defaults of SyntheticConfig).
    'demo':
    dict(),
    # A larger set for longer runs (GPU or patient CPU).
    'bench':
    dict(
        num_train_videos=120,
        num_val_videos=40,
        num_test_videos=40,
        frames_per_video=60,
        image_width=384,
        image_height=288,
        people_per_video=(2, 5),
        val_label_stride=4),
}


def _check_range(name: str, value: Any, low: float, high: float,
                 integer: bool) -> None:
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ValueError(f'Synthetic option {name}={value!r} must be '
                         f'{"an integer" if integer else "a number"}.')
    if not low <= value <= high:
        raise ValueError(f'Synthetic option {name}={value!r} is out of range:'
                         f' use a value in [{low}, {high}].')


def _pair(name: str, value: Any) -> Tuple:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f'Synthetic option {name}={value!r} must be a pair '
                         '(min, max).')
    if value[0] > value[1]:
        raise ValueError(f'Synthetic option {name}={value!r}: min must not '
                         'exceed max.')
    return tuple(value)


def make_config(preset: str = 'demo', **overrides: Any) -> SyntheticConfig:
    """Build and validate a config from a preset plus overrides.

    Args:
        preset (str): One of ``tiny``, ``demo``, ``bench``.
            Defaults to ``'demo'``.
        **overrides: Any field of :class:`SyntheticConfig`; ``None`` values
            are ignored (they mean "keep the preset's value").

    Returns:
        SyntheticConfig: The validated options.
    """
    if preset not in PRESETS:
        raise ValueError(f'Unknown synthetic preset {preset!r}: use one of '
                         f'{sorted(PRESETS)}.')
    names = {f.name for f in dataclasses.fields(SyntheticConfig)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise ValueError(f'Unknown synthetic option(s) {unknown}: valid '
                         f'options are {sorted(names)}.')
    values = dict(PRESETS[preset])
    values.update({k: v for k, v in overrides.items() if v is not None})
    for key in ('people_per_video', 'person_height'):
        if values.get(key) is not None:
            values[key] = _pair(key, values[key])
    cfg = SyntheticConfig(**values)
    _check_range('num_train_videos', cfg.num_train_videos, 0, 499999, True)
    for split, most in MAX_VIDEOS.items():
        _check_range(f'num_{split}_videos', getattr(cfg, f'num_{split}_videos'),
                     0, most, True)
    if cfg.num_train_videos + cfg.num_val_videos + cfg.num_test_videos == 0:
        raise ValueError('Synthetic options num_train_videos, num_val_videos '
                         'and num_test_videos are all 0: ask for at least one '
                         'video.')
    _check_range('frames_per_video', cfg.frames_per_video, 1, 9999, True)
    _check_range('image_width', cfg.image_width, 32, 4096, True)
    _check_range('image_height', cfg.image_height, 32, 4096, True)
    low, high = cfg.person_height_range
    _check_range('person_height[0]', low, 8, 4 * cfg.image_height, False)
    _check_range('person_height[1]', high, 8, 4 * cfg.image_height, False)
    _check_range('people_per_video[0]', cfg.people_per_video[0], 1, 99,
                 True)
    _check_range('people_per_video[1]', cfg.people_per_video[1], 1, 99,
                 True)
    _check_range('occlusion_rate', cfg.occlusion_rate, 0, 5, False)
    _check_range('occluder_scale', cfg.occluder_scale, 0.1, 4, False)
    _check_range('blur_rate', cfg.blur_rate, 0, 0.95, False)
    _check_range('crowd_rate', cfg.crowd_rate, 0, 1, False)
    _check_range('train_label_stride', cfg.train_label_stride, 1, 9999, True)
    _check_range('val_label_stride', cfg.val_label_stride, 1, 9999, True)
    _check_range('det_miss_rate', cfg.det_miss_rate, 0, 1, False)
    _check_range('det_false_positives', cfg.det_false_positives, 0, 50,
                 False)
    _check_range('jpeg_quality', cfg.jpeg_quality, 1, 100, True)
    return cfg
