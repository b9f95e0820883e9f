"""The lazy frame readers and the supporting-frame window buffer."""
import os
import os.path as osp
import weakref

import cv2
import numpy as np
import pytest

from famipose_mmpose.apis import (Frame, FrameWindowBuffer, ImageFolderReader, VideoFileReader, open_frame_reader,
                                  window_capacity)
from famipose_mmpose.apis.frame_buffer import natural_sort_key
from famipose_mmpose.datasets.frame_window import resolve_window


def numbered_frames(count, consumed=None, alive=None):
    """Frames whose pixels hold their index; records what was produced."""
    for index in range(count):
        image = np.full((4, 5, 3), index, dtype=np.uint8)
        if consumed is not None:
            consumed.append(index)
        if alive is not None:
            alive.append(weakref.ref(image))
        yield Frame(index, f'{index:06d}.jpg', image, None)


@pytest.mark.parametrize('policy', ['fami', 'key', 'clip'])
@pytest.mark.parametrize('count', [1, 2, 3, 7])
def test_window_follows_the_dataset_border_rule(policy, count):
    offsets = [-2, -1, 1, 2]
    samples = list(FrameWindowBuffer(numbered_frames(count), offsets, policy))
    assert [s.key.index for s in samples] == list(range(count))
    for sample in samples:
        key = sample.key.index
        expected = resolve_window(key, offsets, 0, count - 1, policy)
        assert sample.frame_indices == [key] + expected
        assert sample.frame_offsets == [0, -2, -1, 1, 2]
        # the images are the frames named by frame_indices, key first
        assert [int(img[0, 0, 0]) for img in sample.frames] == \
            sample.frame_indices


def test_fami_policy_at_both_borders():
    samples = list(FrameWindowBuffer(numbered_frames(5), [-2, -1, 1, 2]))
    # past side: the key frame; future side: clamped to the last frame
    assert samples[0].frame_indices == [0, 0, 0, 1, 2]
    assert samples[1].frame_indices == [1, 1, 0, 2, 3]
    assert samples[3].frame_indices == [3, 1, 2, 4, 4]
    assert samples[4].frame_indices == [4, 2, 3, 4, 4]


def test_single_frame_window():
    samples = list(FrameWindowBuffer(numbered_frames(3), []))
    assert [s.frame_indices for s in samples] == [[0], [1], [2]]
    assert window_capacity([]) == 1


def test_buffer_is_lazy_and_bounded():
    consumed, alive = [], []
    offsets = [-3, -1, 2]
    buffer = FrameWindowBuffer(
        numbered_frames(60, consumed, alive), offsets, 'clip')
    assert buffer.capacity == window_capacity(offsets) == 7
    iterator = iter(buffer)
    first = next(iterator)
    # frame 0 is emitted as soon as frame 0 + max(offsets) has been read
    assert first.key.index == 0 and consumed == [0, 1, 2]
    del first
    most_alive = 0
    for sample in iterator:
        del sample  # frames are freed by reference counting
        most_alive = max(most_alive, sum(r() is not None for r in alive))
    assert buffer.max_held == 7
    assert most_alive <= buffer.capacity
    assert len(consumed) == 60


def test_buffer_rejects_gaps():
    frames = [
        Frame(0, 'a', np.zeros((2, 2, 3), np.uint8), None),
        Frame(2, 'b', np.zeros((2, 2, 3), np.uint8), None)
    ]
    with pytest.raises(ValueError, match='in order'):
        list(FrameWindowBuffer(frames, [-1, 1]))


def test_natural_order():
    names = ['f10.png', 'f2.png', 'f1.png']
    assert sorted(
        names, key=natural_sort_key) == ['f1.png', 'f2.png', 'f10.png']


def test_folder_reader(tmp_path):
    for index in (10, 2, 1):
        cv2.imwrite(
            str(tmp_path / f'frame_{index}.png'),
            np.full((6, 8, 3), index, dtype=np.uint8))
    (tmp_path / 'notes.txt').write_text('not a frame')
    reader = open_frame_reader(str(tmp_path))
    assert isinstance(reader, ImageFolderReader)
    assert reader.num_frames == 3
    assert reader.video_name == tmp_path.name
    frames = list(reader)
    assert [f.name
            for f in frames] == ['frame_1.png', 'frame_2.png', 'frame_10.png']
    assert [int(f.image[0, 0, 0]) for f in frames] == [1, 2, 10]
    assert frames[2].path == osp.join(str(tmp_path), 'frame_10.png')


def test_folder_reader_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        open_frame_reader(str(tmp_path / 'missing'))
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(ValueError, match='no image file'):
        ImageFolderReader(str(empty))

    broken = tmp_path / 'broken'
    broken.mkdir()
    cv2.imwrite(str(broken / '000000.jpg'), np.zeros((6, 8, 3), np.uint8))
    (broken / '000001.jpg').write_bytes(b'not a jpeg')
    frames = iter(ImageFolderReader(str(broken)))
    next(frames)
    with pytest.raises(ValueError, match='000001.jpg.*cannot be decoded'):
        next(frames)

    sizes = tmp_path / 'sizes'
    sizes.mkdir()
    cv2.imwrite(str(sizes / '000000.jpg'), np.zeros((6, 8, 3), np.uint8))
    cv2.imwrite(str(sizes / '000001.jpg'), np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match='same size'):
        list(ImageFolderReader(str(sizes)))


def test_video_reader(tmp_path):
    path = str(tmp_path / 'clip.avi')
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'MJPG'), 5,
                             (16, 12))
    for index in range(4):
        writer.write(np.full((12, 16, 3), 60 * index, dtype=np.uint8))
    writer.release()
    reader = open_frame_reader(path)
    assert isinstance(reader, VideoFileReader)
    assert reader.video_name == 'clip'
    assert reader.fps == pytest.approx(5.0)
    frames = list(reader)
    assert [f.name for f in frames] == [f'{i:06d}.jpg' for i in range(4)]
    assert [f.index for f in frames] == [0, 1, 2, 3]
    # lossy codec: the mean grey level survives
    assert [round(float(f.image.mean()) / 60) for f in frames] == [0, 1, 2, 3]
    with pytest.raises(RuntimeError, match='one-pass'):
        list(reader)


def test_unreadable_video(tmp_path):
    path = tmp_path / 'broken.mp4'
    path.write_bytes(os.urandom(2048))
    with pytest.raises(ValueError, match='broken.mp4'):
        reader = open_frame_reader(str(path))
        list(reader)
