# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""How a video frame is identified across annotation, prediction and image
paths."""

__all__ = ['frame_file_key']


def frame_file_key(path: str) -> str:
    """Key that identifies a frame by file name: ``<video folder>/<image>``.

    ``'/data/posetrack18/images/val/009473_mpii_test/000000.jpg'`` and the
    ground truth's ``'images/val/009473_mpii_test/000000.jpg'`` both give
    ``'009473_mpii_test/000000.jpg'``. Backslashes count as separators and
    empty components are skipped.

    Args:
        path (str): Image path.

    Returns:
        str: The last two path components joined by ``/``.
    """
    parts = [p for p in str(path).replace('\\', '/').split('/') if p]
    return '/'.join(parts[-2:])
