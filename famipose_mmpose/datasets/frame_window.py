# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""The supporting-frame window of a video sample: frame names, offsets, video
borders and missing frames.

Everything here is plain Python (no registry, no I/O except through the
``exists`` callable handed in), shared by the video datasets and by
``tools/posetrack_prepare.py`` so that the checker reports exactly the frames
the datasets would read.

Vocabulary:

- *frame index*: the number in a frame's file name (``000012.jpg`` -> 12).
  PoseTrack18 names frames ``%06d.jpg`` from 0, PoseTrack17 (renamed the
  DCPose/PoseWarper way) ``%08d.jpg`` from 1, Sub-JHMDB ``%05d.png`` from 1.
  A video with ``nframes`` frames holds the indices
  ``[first_index, first_index + nframes - 1]``.
- *offset*: a supporting frame's index minus the key frame's index.
- *border policy*: what a supporting frame outside the video becomes
  (``'fami'``, ``'key'`` or ``'clip'``, see :func:`resolve_window`).
"""
import re
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

#: First frame index implied by the number of digits of a frame file name.
#: 6 digits: PoseTrack18 (``000000.jpg`` is the first frame); 8 digits:
#: PoseTrack17 renamed by DCPose/PoseWarper (``00000001.jpg`` is the first).
DEFAULT_FIRST_INDEX_BY_DIGITS: Dict[int, int] = {6: 0, 8: 1}

BORDER_POLICIES = ('fami', 'key', 'clip')
FRAME_SAMPLINGS = ('fixed', 'random')
MISSING_FRAME_POLICIES = ('error', 'nearest')

_PRINTF_INT = re.compile(r'%(0?)(\d*)d')
_NUMERIC_NAME = re.compile(r'^(\d+)(\.[A-Za-z0-9]+)$')


class FrameNaming:
    """How the frames of one video are named on disk.

    Args:
        pattern (str): A printf-style file name pattern with exactly one
            integer field, e.g. ``'%06d.jpg'`` (PoseTrack18) or
            ``'%08d.jpg'`` (PoseTrack17 renamed) or ``'%05d.png'``
            (Sub-JHMDB).
        first_index (int): The index of the first frame of every video.
    """

    def __init__(self, pattern: str, first_index: int) -> None:
        if not isinstance(pattern, str) or len(
                _PRINTF_INT.findall(pattern)) != 1 or '/' in pattern:
            raise ValueError(
                f'frame_name_format={pattern!r} is not a file name pattern '
                'with exactly one integer field; use e.g. "%06d.jpg" '
                '(PoseTrack18), "%08d.jpg" (PoseTrack17) or "%05d.png" '
                '(Sub-JHMDB).')
        if isinstance(first_index,
                      bool) or not isinstance(first_index, (int, np.integer)):
            raise ValueError(f'first_frame_index={first_index!r} must be an '
                             'int (0 for PoseTrack18, 1 for PoseTrack17).')
        self.pattern = pattern
        self.first_index = int(first_index)
        prefix, suffix = _PRINTF_INT.split(pattern, maxsplit=1)[::3]
        self._regex = re.compile('^' + re.escape(prefix.replace('%%', '%')) +
                                 r'(\d+)' +
                                 re.escape(suffix.replace('%%', '%')) + '$')

    def name(self, index: int) -> str:
        """File name (no directory) of the frame with ``index``."""
        return self.pattern % int(index)

    def index_of(self, file_name: str) -> Optional[int]:
        """Frame index of ``file_name`` (its base name is used), or ``None``
        when the name does not follow the pattern."""
        base = file_name.replace('\\', '/').rsplit('/', 1)[-1]
        match = self._regex.match(base)
        return int(match.group(1)) if match else None

    @classmethod
    def from_file_name(
        cls,
        file_name: str,
        frame_name_format: Optional[str] = None,
        first_frame_index: Optional[int] = None,
        first_index_by_digits: Optional[Dict[int,
                                             int]] = None) -> 'FrameNaming':
        """Build the naming of a video from one of its frames' file name.

        The pattern is ``frame_name_format`` when given, else it is read off
        the name itself (``000012.jpg`` -> ``'%06d.jpg'``). The first index
        is ``first_frame_index`` when given, else looked up by the number of
        digits in ``first_index_by_digits`` (default
        :data:`DEFAULT_FIRST_INDEX_BY_DIGITS`: 6 digits -> 0, 8 digits -> 1).

        Raises:
            ValueError: the name is not numeric and no pattern is given, or
                the digit count is unknown and no first index is given.
        """
        if frame_name_format is None:
            base = file_name.replace('\\', '/').rsplit('/', 1)[-1]
            match = _NUMERIC_NAME.match(base)
            if match is None:
                raise ValueError(
                    f'cannot read a frame index from the file name '
                    f'{file_name!r}: it is not "<digits>.<ext>". Set '
                    '`frame_name_format` (e.g. "%06d.jpg") in the dataset '
                    'config.')
            digits, ext = match.groups()
            frame_name_format = f'%0{len(digits)}d{ext}'
        else:
            digits = None
        if first_frame_index is None:
            table = (
                DEFAULT_FIRST_INDEX_BY_DIGITS
                if first_index_by_digits is None else first_index_by_digits)
            num_digits = len(digits) if digits is not None else int(
                _PRINTF_INT.search(frame_name_format).group(2) or 0)
            if num_digits not in table:
                raise ValueError(
                    f'cannot tell the first frame index of {file_name!r} '
                    f'from its {num_digits}-digit name (known: '
                    f'{sorted(table.items())} as digits -> first index). Set '
                    '`first_frame_index` (0 for PoseTrack18 "%06d.jpg", 1 '
                    'for PoseTrack17 "%08d.jpg") in the dataset config.')
            first_frame_index = table[num_digits]
        return cls(frame_name_format, first_frame_index)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(pattern={self.pattern!r}, '
                f'first_index={self.first_index})')


def check_frame_offsets(frame_offsets: Sequence[int]) -> List[int]:
    """Validate the supporting-frame offsets of a dataset config.

    Args:
        frame_offsets (Sequence[int]): Offsets of the supporting frames
            relative to the key frame, e.g. ``(-2, -1, 1, 2)``. Any count;
            an empty sequence means single-frame samples.

    Returns:
        list[int]: The offsets as a list of Python ints, in the given order.

    Raises:
        ValueError: an offset is not an int, or is 0 (the key frame is always
            the first frame of a sample and must not be listed).
    """
    if isinstance(frame_offsets,
                  (str, bytes)) or not isinstance(frame_offsets, Sequence):
        raise ValueError(
            f'frame_offsets={frame_offsets!r} must be a list of ints such as '
            '[-2, -1, 1, 2].')
    offsets = []
    for offset in frame_offsets:
        if isinstance(offset, bool) or not isinstance(offset,
                                                      (int, np.integer)):
            raise ValueError(
                f'frame_offsets={list(frame_offsets)!r}: {offset!r} is not '
                'an int.')
        if offset == 0:
            raise ValueError(
                f'frame_offsets={list(frame_offsets)!r} contains 0. The key '
                'frame is always frame 0 of a sample (first in '
                '`frame_paths`); list only the supporting frames, e.g. '
                '[-2, -1, 1, 2].')
        offsets.append(int(offset))
    return offsets


def check_frame_range(frame_range: Sequence[int],
                      frame_offsets: Sequence[int]) -> Tuple[int, int]:
    """Validate the ``frame_range`` of random supporting-frame sampling.

    Args:
        frame_range (Sequence[int]): ``(low, high)`` with
            ``low <= 0 <= high``: the offsets a random supporting frame may
            take (0 excluded).
        frame_offsets (Sequence[int]): The template offsets; a negative
            template offset needs ``low < 0``, a positive one ``high > 0``.

    Returns:
        tuple[int, int]: ``(low, high)``.
    """
    if (isinstance(frame_range,
                   (str, bytes)) or not isinstance(frame_range, Sequence)
            or len(frame_range) != 2 or any(
                isinstance(v, bool) or not isinstance(v, (int, np.integer))
                for v in frame_range)):
        raise ValueError(
            f'frame_range={frame_range!r} must be two ints (low, high) with '
            'low <= 0 <= high, e.g. (-3, 3), when frame_sampling="random".')
    low, high = int(frame_range[0]), int(frame_range[1])
    if low > 0 or high < 0:
        raise ValueError(f'frame_range={frame_range!r} must satisfy '
                         'low <= 0 <= high.')
    if any(o < 0 for o in frame_offsets) and low >= 0:
        raise ValueError(
            f'frame_range={frame_range!r} leaves no room for the negative '
            f'slots of frame_offsets={list(frame_offsets)!r}; use low < 0.')
    if any(o > 0 for o in frame_offsets) and high <= 0:
        raise ValueError(
            f'frame_range={frame_range!r} leaves no room for the positive '
            f'slots of frame_offsets={list(frame_offsets)!r}; use high > 0.')
    return low, high


def sample_random_offsets(
        frame_offsets: Sequence[int],
        frame_range: Tuple[int, int],
        rng: Optional[np.random.RandomState] = None) -> List[int]:
    """Draw one set of random supporting-frame offsets.

    Every slot of ``frame_offsets`` keeps its side of the key frame: the
    negative slots draw from ``[low, -1]``, the positive ones from
    ``[1, high]``, uniformly and without repeating an offset while the range
    has enough values (with repetition otherwise). The drawn past offsets
    are then sorted ascending and put in the past slots (in their order),
    likewise the future ones, so the slots keep their temporal order
    (``[-2, -1, 1, 2]`` may become ``[-3, -1, 2, 3]``, never
    ``[-1, -3, ...]``).

    Args:
        frame_offsets (Sequence[int]): Template offsets (validated).
        frame_range (tuple[int, int]): ``(low, high)``, validated by
            :func:`check_frame_range`.
        rng (np.random.RandomState, optional): Random source; the global
            NumPy state (seeded per worker by MMEngine) when ``None``.

    Returns:
        list[int]: One offset per slot of ``frame_offsets``.
    """
    rng = np.random if rng is None else rng
    low, high = frame_range
    past_slots = [i for i, o in enumerate(frame_offsets) if o < 0]
    future_slots = [i for i, o in enumerate(frame_offsets) if o > 0]
    drawn = [0] * len(frame_offsets)
    for slots, values in ((past_slots, np.arange(low, 0)),
                          (future_slots, np.arange(1, high + 1))):
        if not slots:
            continue
        picks = rng.choice(
            values, size=len(slots), replace=len(slots) > len(values))
        for slot, value in zip(slots, sorted(int(v) for v in picks)):
            drawn[slot] = value
    return drawn


def resolve_window(key_index: int, offsets: Sequence[int], first_index: int,
                   last_index: int, border_policy: str) -> List[int]:
    """Frame indices of the supporting frames, with the video border handled.

    Args:
        key_index (int): Index of the key frame.
        offsets (Sequence[int]): Supporting-frame offsets (no 0).
        first_index (int): Index of the video's first frame.
        last_index (int): Index of the video's last frame.
        border_policy (str): What a supporting frame outside
            ``[first_index, last_index]`` becomes:

            - ``'fami'``: the FAMI authors' released padding, by side: a
              past frame (offset < 0) becomes the key frame, a future frame
              (offset > 0) the video's last frame (t+1 for a missing t+2, the
              key frame when the key frame is the last one).
            - ``'key'``: the key frame, on both sides.
            - ``'clip'``: the video's first/last frame, on both sides.

            Every policy keeps each slot in place.

    Returns:
        list[int]: One frame index per offset, in the order of ``offsets``.
    """
    if border_policy not in BORDER_POLICIES:
        raise ValueError(f'border_policy={border_policy!r} is not one of '
                         f'{BORDER_POLICIES}.')
    indices = []
    for offset in offsets:
        index = key_index + int(offset)
        if first_index <= index <= last_index:
            indices.append(index)
        elif border_policy == 'key' or (border_policy == 'fami'
                                        and offset < 0):
            indices.append(key_index)
        else:
            indices.append(min(max(index, first_index), last_index))
    return indices


def nearest_existing_frame(index: int, key_index: int, first_index: int,
                           last_index: int,
                           exists: Callable[[int], bool]) -> Optional[int]:
    """The existing frame nearest to a missing frame ``index``.

    Frames are searched at growing distance from ``index`` inside
    ``[first_index, last_index]``; at equal distance the candidate closer to
    the key frame wins (then the earlier one).

    Args:
        index (int): The missing frame's index.
        key_index (int): The key frame's index.
        first_index (int): Index of the video's first frame.
        last_index (int): Index of the video's last frame.
        exists (Callable[[int], bool]): Whether the frame with an index exists.

    Returns:
        int | None: The nearest existing frame, ``None`` if the video has none.
    """
    for distance in range(1, max(last_index - first_index, 0) + 1):
        candidates = [
            c for c in (index - distance, index + distance)
            if first_index <= c <= last_index
        ]
        if not candidates:
            break
        candidates.sort(key=lambda c: (abs(c - key_index), c))
        for candidate in candidates:
            if exists(candidate):
                return candidate
    return None
