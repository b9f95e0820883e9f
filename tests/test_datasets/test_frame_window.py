"""The supporting-frame window logic: names, offsets, borders, fallbacks."""
import numpy as np
import pytest

from famipose_mmpose.datasets.frame_window import (FrameNaming, check_frame_offsets, check_frame_range,
                                                   nearest_existing_frame, resolve_window, sample_random_offsets)


@pytest.mark.parametrize('file_name, pattern, first, index', [
    ('images/val/012834_mpii_test/000000.jpg', '%06d.jpg', 0, 0),
    ('images/val/012834_mpii_test/000037.jpg', '%06d.jpg', 0, 37),
    ('images/bonn/000001_bonn/00000001.jpg', '%08d.jpg', 1, 1),
    ('images/bonn/000001_bonn/00000120.jpg', '%08d.jpg', 1, 120),
])
def test_naming_is_detected_from_the_key_frame(file_name, pattern, first,
                                               index):
    naming = FrameNaming.from_file_name(file_name)
    assert naming.pattern == pattern
    assert naming.first_index == first
    assert naming.index_of(file_name) == index
    assert naming.name(index) == file_name.rsplit('/', 1)[1]


def test_naming_from_config_overrides_detection():
    naming = FrameNaming.from_file_name(
        'a/b/frame_0012.png',
        frame_name_format='frame_%04d.png',
        first_frame_index=1)
    assert naming.index_of('a/b/frame_0012.png') == 12
    assert naming.name(3) == 'frame_0003.png'
    assert naming.index_of('a/b/000012.jpg') is None
    # a configured first index wins over the digit table
    assert FrameNaming.from_file_name(
        'x/000004.jpg', first_frame_index=1).first_index == 1


def test_naming_errors_name_the_file_and_the_fix():
    with pytest.raises(ValueError, match='frame_name_format'):
        FrameNaming.from_file_name('videos/clip/frame_a.jpg')
    with pytest.raises(ValueError, match='first_frame_index'):
        FrameNaming.from_file_name('videos/clip/0001.jpg')
    with pytest.raises(ValueError, match='one integer field'):
        FrameNaming('frame.jpg', 0)


def test_offsets_reject_zero_and_non_ints():
    assert check_frame_offsets((-2, -1, 1, 2)) == [-2, -1, 1, 2]
    assert check_frame_offsets([3, -5]) == [3, -5]
    assert check_frame_offsets([]) == []
    with pytest.raises(ValueError, match='contains 0'):
        check_frame_offsets([-1, 0, 1])
    with pytest.raises(ValueError, match='not an int'):
        check_frame_offsets([-1, 1.5])
    with pytest.raises(ValueError, match='list of ints'):
        check_frame_offsets(2)


@pytest.mark.parametrize('key, policy, expected', [
    (0, 'fami', [0, 0, 1, 2]),
    (1, 'fami', [1, 0, 2, 3]),
    (5, 'fami', [3, 4, 5, 5]),
    (4, 'fami', [2, 3, 5, 5]),
    (0, 'key', [0, 0, 1, 2]),
    (1, 'key', [1, 0, 2, 3]),
    (5, 'key', [3, 4, 5, 5]),
    (4, 'key', [2, 3, 5, 4]),
    (0, 'clip', [0, 0, 1, 2]),
    (1, 'clip', [0, 0, 2, 3]),
    (4, 'clip', [2, 3, 5, 5]),
    (3, 'clip', [1, 2, 4, 5]),
])
def test_border_policies_pt18(key, policy, expected):
    # PoseTrack18 video of 6 frames: indices 0..5
    assert resolve_window(key, [-2, -1, 1, 2], 0, 5, policy) == expected


def test_border_is_one_based_for_pt17():
    # PoseTrack17 video of 6 frames: indices 1..6 (mmpose clips to 0..5)
    assert resolve_window(1, [-2, -1, 1, 2], 1, 6, 'clip') == [1, 1, 2, 3]
    assert resolve_window(6, [-2, -1, 1, 2], 1, 6, 'clip') == [4, 5, 6, 6]
    assert resolve_window(6, [-2, -1, 1, 2], 1, 6, 'key') == [4, 5, 6, 6]
    assert resolve_window(2, [-2, -1, 1, 2], 1, 6, 'key') == [2, 1, 3, 4]
    assert resolve_window(2, [-2, -1, 1, 2], 1, 6, 'fami') == [2, 1, 3, 4]
    assert resolve_window(5, [-2, -1, 1, 2], 1, 6, 'fami') == [3, 4, 6, 6]
    # any offsets: past -> key frame, future -> last frame
    assert resolve_window(4, [-5, 3, 9], 1, 6, 'fami') == [4, 6, 6]
    with pytest.raises(ValueError, match='border_policy'):
        resolve_window(2, [-1], 1, 6, 'reflect')


def test_random_offsets_keep_their_side_and_order():
    rng = np.random.RandomState(0)
    seen = set()
    for _ in range(200):
        offsets = sample_random_offsets([-2, -1, 1, 2], (-4, 3), rng)
        # sorted per side, no frame drawn twice
        assert -4 <= offsets[0] < offsets[1] <= -1
        assert 1 <= offsets[2] < offsets[3] <= 3
        seen.add(tuple(offsets))
    assert len(seen) == 6 * 3  # every combination shows up: really random
    assert sample_random_offsets([1], (0, 1), rng) == [1]
    # more slots than values on a side: repetition
    assert sample_random_offsets([-2, -1, 1], (-1, 1), rng) == [-1, -1, 1]


def test_frame_range_is_validated():
    assert check_frame_range((-3, 3), [-1, 1]) == (-3, 3)
    with pytest.raises(ValueError, match='low < 0'):
        check_frame_range((0, 3), [-1, 1])
    with pytest.raises(ValueError, match='high > 0'):
        check_frame_range((-3, 0), [-1, 1])
    with pytest.raises(ValueError, match='two ints'):
        check_frame_range((-3, ), [-1])
    with pytest.raises(ValueError, match='low <= 0 <= high'):
        check_frame_range((1, 3), [1])


def test_nearest_existing_frame_prefers_the_key_side():
    on_disk = {0, 1, 2, 5, 6, 9}
    exists = on_disk.__contains__
    # 4 missing: 3 and 5 are both at distance 1, 3 is missing -> 5
    assert nearest_existing_frame(4, 2, 0, 9, exists) == 5
    # 7 missing, key at 9: 6 and 8 at distance 1, 8 missing -> 6
    assert nearest_existing_frame(7, 9, 0, 9, exists) == 6
    # 8 missing, key 9: 7 (missing) and 9 -> 9
    assert nearest_existing_frame(8, 9, 0, 9, exists) == 9
    # 4 missing with both 3 and 5 present: the one nearer the key (2) wins
    assert nearest_existing_frame(4, 2, 0, 9, {3, 5}.__contains__) == 3
    assert nearest_existing_frame(4, 8, 0, 9, {3, 5}.__contains__) == 5
    assert nearest_existing_frame(3, 0, 0, 5, set().__contains__) is None
