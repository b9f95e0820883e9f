"""Box overlap and frame keys, shared by tracking, the synthetic detector,
the metric and the demo report."""
import numpy as np

from famipose_mmpose.apis.tracking import bbox_iou_matrix as tracking_iou
from famipose_mmpose.synthetic import box_iou
from famipose_mmpose.utils import bbox_iou_matrix, frame_file_key


def test_one_iou_for_tracking_and_the_synthetic_detector():
    assert tracking_iou is bbox_iou_matrix
    iou = bbox_iou_matrix([[0, 0, 10, 10]], [[5, 0, 15, 10], [0, 0, 0, 0]])
    assert iou.dtype == np.float64 and iou.tolist() == [[50 / 150, 0.0]]
    # the synthetic detector's [x, y, w, h] boxes give the same IoU
    assert box_iou([0, 0, 10, 10], [5, 0, 10, 10]) == iou[0, 0]
    assert box_iou([0, 0, 0, 0], [0, 0, 0, 0]) == 0.0


def test_frame_file_key():
    key = '009473_mpii_test/000000.jpg'
    assert frame_file_key(
        '/data/posetrack18/images/val/009473_mpii_test/000000.jpg') == key
    assert frame_file_key('images/val/009473_mpii_test/000000.jpg') == key
    assert frame_file_key('images\\val\\009473_mpii_test\\000000.jpg') == key
    assert frame_file_key('images//val/009473_mpii_test/000000.jpg/') == key
    assert frame_file_key('000000.jpg') == '000000.jpg'
