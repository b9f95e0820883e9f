"""The one reader of mmpose's bbox-file format."""
import json

import pytest

from famipose_mmpose.utils import PersonDetection, load_detection_file


def write(tmp_path, content, name='dets.json'):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def test_entries_are_checked_and_kept_in_order(tmp_path):
    path = write(tmp_path, [
        dict(image_id=3, bbox=[1, 2, 3, 4], score=0.5, category_id=1),
        dict(image_id='b', bbox=[1.5, 2, 0, 4, 0.9], score=1, category_id=2),
    ])
    dets = load_detection_file(path)
    assert dets == [
        PersonDetection(0, 3, (1.0, 2.0, 3.0, 4.0), 0.5, 1),
        PersonDetection(1, 'b', (1.5, 2.0, 0.0, 4.0), 1.0, 2),
    ]
    assert all(isinstance(v, float) for v in dets[0].bbox + (dets[0].score, ))
    assert load_detection_file(write(tmp_path, [], 'empty.json')) == []


def test_category_is_required_unless_defaulted(tmp_path):
    path = write(tmp_path, [dict(image_id=3, bbox=[1, 2, 3, 4], score=0.5)])
    with pytest.raises(KeyError, match='entry 0 has no "category_id"'):
        load_detection_file(path)
    assert load_detection_file(path, default_category_id=7)[0].category_id == 7


@pytest.mark.parametrize('content, error, words', [
    ({'image_id': 1}, ValueError, ['json list', 'got a dict']),
    ('[{"image_id": 1,', ValueError, ['not valid json']),
    ([3], ValueError, ['entry 0 is not a json object']),
    ([dict(bbox=[1, 2, 3, 4], score=1, category_id=1)], KeyError,
     ['entry 0 has no "image_id"']),
    ([dict(image_name='a/1.jpg', bbox=[1, 2, 3, 4], score=1, category_id=1)],
     KeyError, ['"image_id"', 'pt17-boxes']),
    ([dict(image_id=1, score=1, category_id=1)], KeyError, ['"bbox"']),
    ([dict(image_id=1, bbox=[1, 2, 3, 4], category_id=1)], KeyError,
     ['"score"']),
    ([dict(image_id=1, bbox=[1, 2, 3], score=1, category_id=1)], ValueError,
     ['entry 0 has "bbox" [1, 2, 3]']),
    ([dict(image_id=1, bbox=[1, 2, -3, 4], score=1, category_id=1)],
     ValueError, ['"bbox"', 'w, h >= 0']),
    ([dict(image_id=1, bbox=[1, 2, 'a', 4], score=1, category_id=1)],
     ValueError, ['"bbox"']),
    ([dict(image_id=1, bbox=[1, 2, 3, 4], score=None, category_id=1)],
     ValueError, ['"score" None']),
    ([dict(image_id=1, bbox=[1, 2, 3, 4], score=1, category_id='1')],
     ValueError, ['"category_id" \'1\'']),
])
def test_malformed_files_name_file_entry_and_field(tmp_path, content, error,
                                                   words):
    path = write(tmp_path, content)
    with pytest.raises(error) as err:
        load_detection_file(path, source='My dataset: bbox_file')
    message = err.value.args[0]
    assert message.startswith(f'My dataset: bbox_file {path!r}'), message
    for word in words:
        assert word in message, (word, message)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.json'):
        load_detection_file(str(tmp_path / 'nope.json'))
