# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Read a video lazily and slide the supporting-frame window over it.

A video is either a video file (decoded with ``cv2.VideoCapture``) or a
folder of frame images (read in natural file-name order with ``cv2.imread``).
Frames are decoded one at a time and kept in a bounded deque that holds the
window of the current key frame only (at most ``2 * max(|offset|) + 1``
frames), so memory does not grow with the length of the video.

Vocabulary (as in :mod:`famipose_mmpose.datasets.frame_window`): the *frame
index* of a streamed frame is its 0-based position in the video; an *offset*
is a supporting frame's index minus the key frame's; the *border policy*
(``'fami'``, ``'key'`` or ``'clip'``) says which frame replaces a supporting
frame outside the video (see
:func:`~famipose_mmpose.datasets.frame_window.resolve_window`).
"""
import os
import os.path as osp
import re
from collections import deque
from typing import Deque, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..datasets.frame_window import BORDER_POLICIES, check_frame_offsets, resolve_window

#: File extensions read from a frame folder (lower case).
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')

_DIGITS = re.compile(r'(\d+)')


class Frame(NamedTuple):
    """One decoded frame of a video.

    Attributes:
        index (int): 0-based position of the frame in the video.
        name (str): File name of the frame (folders) or a name made from
            the reader's ``frame_name_format`` (video files, e.g.
            ``'000012.jpg'``).
        image (np.ndarray): (H, W, 3) BGR uint8 image.
        path (str, optional): Path of the frame file; ``None`` for frames
            decoded from a video file.
    """
    index: int
    name: str
    image: np.ndarray
    path: Optional[str]


def natural_sort_key(name: str) -> Tuple:
    """Sort key that orders embedded numbers by value (``'f2' < 'f10'``)."""
    return tuple((0, int(part), part) if part.isdigit() else (1, 0, part)
                 for part in _DIGITS.split(name) if part != '')


class FrameReader:
    """Base class of the lazy frame readers: iterate to get :class:`Frame`
    objects one at a time; use as a context manager (or call :meth:`close`)
    to release the source.

    Args:
        source (str): The video file or frame folder.
    """

    def __init__(self, source: str) -> None:
        self.source = source

    @property
    def video_name(self) -> str:
        """Name of the video: the folder's or the file's base name without
        extension."""
        base = osp.basename(osp.normpath(self.source))
        return osp.splitext(base)[0] if osp.isfile(self.source) else base

    @property
    def num_frames(self) -> Optional[int]:
        """Number of frames when known beforehand (video files: the
        container's estimate), else ``None``."""
        return None

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the source (no-op for folders)."""

    def __enter__(self) -> 'FrameReader':
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class VideoFileReader(FrameReader):
    """Decode the frames of a video file with ``cv2.VideoCapture``.

    Args:
        path (str): The video file (any container OpenCV's FFmpeg backend
            reads: ``.mp4``, ``.avi``, ...).
        frame_name_format (str): printf pattern naming the decoded frames
            by index (the names of the prediction file). Defaults to
            ``'%06d.jpg'`` (PoseTrack18: ``000000.jpg`` is the first frame).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: OpenCV cannot open the file, or it holds no decodable
            frame (raised by the iteration, when the first frame is read).
    """

    def __init__(self, path: str, frame_name_format: str = '%06d.jpg') -> None:
        super().__init__(path)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'Video file {path!r} does not exist: check the --input path '
                '(a video file or a folder of frame images).')
        self.frame_name_format = frame_name_format
        self._capture = cv2.VideoCapture(path)
        if not self._capture.isOpened():
            self._capture.release()
            raise ValueError(
                f'Cannot open video file {path!r} with OpenCV: it is not a '
                'video OpenCV can decode (corrupt or unsupported codec). '
                'Convert it (e.g. to H.264 .mp4) or extract its frames into '
                'a folder and pass the folder.')
        self._consumed = False

    @property
    def num_frames(self) -> Optional[int]:
        count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT))
        return count if count > 0 else None

    @property
    def fps(self) -> Optional[float]:
        """Frame rate stored in the container, ``None`` when unknown."""
        fps = float(self._capture.get(cv2.CAP_PROP_FPS))
        return fps if fps > 0 else None

    def __iter__(self) -> Iterator[Frame]:
        if self._consumed:
            raise RuntimeError(
                f'{self.__class__.__name__} of {self.source!r} is a one-pass '
                'stream; open the video again to read it a second time.')
        self._consumed = True
        index = 0
        try:
            while True:
                ok, image = self._capture.read()
                if not ok or image is None:
                    break
                yield Frame(index, self.frame_name_format % index, image, None)
                index += 1
        finally:
            self.close()
        if index == 0:
            raise ValueError(
                f'Video file {self.source!r} holds no decodable frame: it is '
                'empty, truncated or not a video.')

    def close(self) -> None:
        self._capture.release()


class ImageFolderReader(FrameReader):
    """Read the frame images of a folder in natural file-name order.

    Files whose extension is not in :data:`IMAGE_EXTENSIONS` are skipped.
    Every frame must have the size of the first one.

    Args:
        folder (str): The folder of frame images.

    Raises:
        FileNotFoundError: ``folder`` does not exist.
        ValueError: it holds no image file; a frame cannot be decoded or has
            another size than the first (raised when that frame is read).
    """

    def __init__(self, folder: str) -> None:
        super().__init__(folder)
        if not osp.isdir(folder):
            raise FileNotFoundError(
                f'Frame folder {folder!r} does not exist: check the --input '
                'path (a video file or a folder of frame images).')
        self.file_names: List[str] = sorted(
            (name for name in os.listdir(folder)
             if osp.splitext(name)[1].lower() in IMAGE_EXTENSIONS
             and osp.isfile(osp.join(folder, name))),
            key=natural_sort_key)
        if not self.file_names:
            raise ValueError(
                f'Frame folder {folder!r} holds no image file (extensions '
                f'{", ".join(IMAGE_EXTENSIONS)}); pass a folder of frames '
                'or a video file.')

    @property
    def num_frames(self) -> Optional[int]:
        return len(self.file_names)

    def __iter__(self) -> Iterator[Frame]:
        first_shape = None
        for index, name in enumerate(self.file_names):
            path = osp.join(self.source, name)
            image = cv2.imread(path, cv2.IMREAD_COLOR)
            if image is None:
                raise ValueError(
                    f'Frame {index} of folder {self.source!r} ({path!r}) '
                    'cannot be decoded as an image: replace or remove the '
                    'file.')
            if first_shape is None:
                first_shape = image.shape[:2]
            elif image.shape[:2] != first_shape:
                raise ValueError(
                    f'Frame {index} of folder {self.source!r} ({path!r}) is '
                    f'{image.shape[1]}x{image.shape[0]} (WxH) but the first '
                    f'frame is {first_shape[1]}x{first_shape[0]}; all frames '
                    'of a video must have the same size.')
            yield Frame(index, name, image, path)


def open_frame_reader(source: str,
                      frame_name_format: str = '%06d.jpg') -> FrameReader:
    """Open a video file or a folder of frames for lazy reading.

    Args:
        source (str): A video file or a folder of frame images.
        frame_name_format (str): Frame names of a video file (see
            :class:`VideoFileReader`). Defaults to ``'%06d.jpg'``.

    Returns:
        FrameReader: A :class:`VideoFileReader` or an
        :class:`ImageFolderReader`.

    Raises:
        FileNotFoundError: ``source`` does not exist.
    """
    source = os.fspath(source)
    if osp.isdir(source):
        return ImageFolderReader(source)
    if osp.isfile(source):
        return VideoFileReader(source, frame_name_format)
    raise FileNotFoundError(
        f'Video input {source!r} does not exist: pass a video file or a '
        'folder of frame images.')


class WindowSample(NamedTuple):
    """A key frame with its supporting frames.

    Attributes:
        key (Frame): The key frame.
        frames (list[np.ndarray]): The T images, key frame first, then the
            supporting frames in the order of the offsets.
        frame_indices (list[int]): The T frame indices actually used (after
            the border policy), key frame first.
        frame_offsets (list[int]): ``[0] + offsets``.
    """
    key: Frame
    frames: List[np.ndarray]
    frame_indices: List[int]
    frame_offsets: List[int]


def window_capacity(frame_offsets: Sequence[int]) -> int:
    """Frames a window buffer keeps: ``2 * max(|offset|) + 1`` (1 without
    offsets)."""
    reach = max((abs(int(o)) for o in frame_offsets), default=0)
    return 2 * reach + 1


class FrameWindowBuffer:
    """Slide the supporting-frame window over a stream of frames.

    Iterating yields one :class:`WindowSample` per frame of the stream, in
    order. Frame ``t`` is yielded as soon as frame ``t + max(offsets)`` has
    been read (or the stream has ended); frames are kept in a deque of at
    most :func:`window_capacity` frames, so at most that many decoded images
    are alive at once. Supporting frames outside the video are replaced as
    ``border_policy`` says (:func:`resolve_window`, the dataset's rule);
    before the stream has ended, a future frame within reach is known to
    exist.

    Args:
        frames (Iterable[Frame]): The frame stream, indices ``0, 1, 2...``
            (e.g. a :class:`FrameReader`).
        frame_offsets (Sequence[int]): Supporting-frame offsets (no 0); an
            empty sequence gives single-frame samples.
        border_policy (str): ``'fami'``, ``'key'`` or ``'clip'``. Defaults
            to ``'fami'``.
    """

    def __init__(self,
                 frames: Iterable[Frame],
                 frame_offsets: Sequence[int],
                 border_policy: str = 'fami') -> None:
        if border_policy not in BORDER_POLICIES:
            raise ValueError(f'border_policy={border_policy!r} is not one of '
                             f'{BORDER_POLICIES}.')
        self.frames = frames
        self.frame_offsets = check_frame_offsets(frame_offsets)
        self.border_policy = border_policy
        self.capacity = window_capacity(self.frame_offsets)
        self.future = max((o for o in self.frame_offsets if o > 0), default=0)
        #: Largest number of frames held at once so far (for checks).
        self.max_held = 0

    def _sample(self, buffer: Deque[Frame], key_index: int,
                last_index: int) -> WindowSample:
        by_index = {frame.index: frame for frame in buffer}
        key = by_index[key_index]
        indices = resolve_window(key_index, self.frame_offsets, 0, last_index,
                                 self.border_policy)
        missing = [i for i in indices if i not in by_index]
        if missing:  # cannot happen with the capacity above; guard anyway
            raise RuntimeError(
                f'FrameWindowBuffer: frames {missing} of the window of key '
                f'frame {key_index} are no longer buffered.')
        return WindowSample(
            key=key,
            frames=[key.image] + [by_index[i].image for i in indices],
            frame_indices=[key_index] + indices,
            frame_offsets=[0] + list(self.frame_offsets))

    def __iter__(self) -> Iterator[WindowSample]:
        buffer: Deque[Frame] = deque(maxlen=self.capacity)
        next_key = 0
        last_index = -1
        for frame in self.frames:
            if frame.index != last_index + 1:
                raise ValueError(
                    f'FrameWindowBuffer: frame indices must be 0, 1, 2, ... '
                    f'in order; got {frame.index} after {last_index}.')
            buffer.append(frame)
            last_index = frame.index
            self.max_held = max(self.max_held, len(buffer))
            if last_index - self.future >= next_key:
                # the video reaches at least last_index: every future
                # supporting frame of next_key is inside it
                yield self._sample(buffer, next_key, last_index)
                next_key += 1
        while next_key <= last_index:
            yield self._sample(buffer, next_key, last_index)
            next_key += 1
