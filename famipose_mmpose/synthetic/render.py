# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Render one frame of a :class:`~.scene.VideoScene` with OpenCV.

Drawing order: background (warped by the camera), the distant crowd, the
people from far to near (each person's parts sorted by depth), then the
foreground occluders; sensor noise and, on some frames, a motion-blur line
kernel (``cv2.filter2D``) come last.

Besides the image the renderer reports, per person, where the 17 joints
are, which lie outside the frame, which are covered by an occluder and which
by a person drawn in front, and how much of the silhouette stays visible.
A joint counts as covered by an occluder when it lies at least
:data:`OCCLUSION_MARGIN` pixels inside the occluder's polygon, so that the
rasterised occluder certainly covers it.
"""
from dataclasses import dataclass
from typing import List, Optional, Tuple

import cv2
import numpy as np

from .figures import CHEST, HEAD_CENTER, LEFT, LEFT_TOE, NUM_JOINTS, PELVIS, RIGHT
from .scene import PersonTrack, VideoScene

# Joints at least this many pixels inside an occluder polygon are occluded.
OCCLUSION_MARGIN = 1.0
_SHIFT = 4  # sub-pixel bits of OpenCV drawing coordinates
_ONE = 1 << _SHIFT


@dataclass
class PersonFrame:
    """What the renderer knows about one person in one frame.

    Args:
        track_id (int): The person's track id.
        joints (np.ndarray): Shape (17, 2), image coordinates.
        in_frame (np.ndarray): Shape (17,), bool, joint inside the image.
        occluded_by_object (np.ndarray): Shape (17,), bool, joint covered by
            a foreground occluder.
        occluded_by_person (np.ndarray): Shape (17,), bool, joint covered by
            another person drawn in front.
        head_box (np.ndarray): Shape (4,), ``[x, y, w, h]`` of the head.
        body_box (np.ndarray): Shape (4,), ``[x1, y1, x2, y2]`` of the whole
            drawn silhouette, not clipped to the image.
        visible_fraction (float): Fraction of the person's in-image
            silhouette pixels not covered by occluders or other people (0 if
            the person is outside the image).
        scale (float): Standing height in image pixels.
    """
    track_id: int
    joints: np.ndarray
    in_frame: np.ndarray
    occluded_by_object: np.ndarray
    occluded_by_person: np.ndarray
    head_box: np.ndarray
    body_box: np.ndarray
    visible_fraction: float
    scale: float


@dataclass
class FrameRender:
    """One rendered frame and its ground truth.

    Args:
        image (np.ndarray): BGR uint8 image, shape (H, W, 3).
        people (List[PersonFrame]): By track id.
        occluders (List[np.ndarray]): Image polygons (N, 2) of the occluders
            that touch the image.
        ignore_regions (List[np.ndarray]): Image polygons (N, 2) to ignore.
        crowd_boxes (List[np.ndarray]): ``[x1, y1, x2, y2]`` boxes of crowd
            people inside the image (unannotated; detector bait).
        blur_length (int): Motion-blur kernel length, 0 if sharp.
        blur_angle (float): Blur direction in degrees.
    """
    image: np.ndarray
    people: List[PersonFrame]
    occluders: List[np.ndarray]
    ignore_regions: List[np.ndarray]
    crowd_boxes: List[np.ndarray]
    blur_length: int
    blur_angle: float


def _fixed(points: np.ndarray) -> np.ndarray:
    """Float image points to OpenCV's fixed-point int32 coordinates."""
    return np.round(np.asarray(points) * _ONE).astype(np.int32)


def _pt(point: np.ndarray) -> Tuple[int, int]:
    """One float image point as an OpenCV fixed-point tuple."""
    fixed = _fixed(point)
    return int(fixed[0]), int(fixed[1])


def _shade(color: Tuple[int, int, int], factor: float) -> Tuple[int, ...]:
    return tuple(int(min(255, max(0, c * factor))) for c in color)


def _inside(points: np.ndarray, width: int, height: int) -> np.ndarray:
    return ((points[:, 0] >= 0) & (points[:, 0] <= width - 1) &
            (points[:, 1] >= 0) & (points[:, 1] <= height - 1))


def _paste_texture(image: np.ndarray, mask: np.ndarray, tile: np.ndarray,
                   anchor: np.ndarray, origin: Tuple[int, int]) -> None:
    """Multiply ``image`` by a tile where ``mask``; the tile follows anchor.

    Args:
        image (np.ndarray): ROI, (h, w, 3) uint8, modified in place.
        mask (np.ndarray): (h, w) bool.
        tile (np.ndarray): (S, S, 1) float32.
        anchor (np.ndarray): Image point the tile's centre is attached to.
        origin (Tuple[int, int]): Image coordinates of the ROI's (0, 0).
    """
    size = tile.shape[0]
    off = np.round(anchor).astype(int) - np.array(origin) - size // 2
    rows = (np.arange(image.shape[0]) - off[1]) % size
    cols = (np.arange(image.shape[1]) - off[0]) % size
    patch = tile[rows[:, None], cols[None, :]]
    textured = np.clip(image.astype(np.float32) * patch, 0, 255)
    image[mask] = textured[mask].astype(np.uint8)


def _person_parts(track: PersonTrack, pts: np.ndarray, depth: np.ndarray,
                  forward: np.ndarray, scale: float) -> List[tuple]:
    """Drawing primitives of a person, sorted far to near.

    Each primitive is ``(depth, kind, geometry, color, thickness)`` with
    kind ``line`` (geometry: two points), ``circle`` (centre, radius) or
    ``poly`` (points).
    """
    look = track.appearance
    shape = track.shape
    eps = 0.02 * scale  # limbs win depth ties against the torso
    pelvis_z = depth[PELVIS]

    def tone(color, z, side=None):
        factor = 1.0
        if side == LEFT:
            factor += look.side_contrast
        elif side == RIGHT:
            factor -= look.side_contrast
        behind = np.clip((pelvis_z - z) / (0.15 * scale), 0.0, 1.0)
        return _shade(color, factor * (1.0 - 0.25 * behind))

    def width(value):
        return max(1, int(round(value * scale)))

    parts = []
    torso_z = float(depth[[5, 6, 11, 12]].mean())
    parts.append((torso_z, 'poly', pts[[5, 6, 12, 11]],
                  tone(look.shirt, torso_z), 0))
    parts.append((torso_z, 'line', pts[[CHEST, PELVIS]],
                  tone(look.shirt, torso_z), width(shape.torso_depth)))
    parts.append((torso_z, 'line', pts[[5, 6]], tone(look.shirt, torso_z),
                  width(shape.upper_arm_width)))
    parts.append((torso_z + 0.5 * eps, 'line', pts[[11, 12]],
                  tone(look.trousers, torso_z),
                  width(1.2 * shape.thigh_width)))
    neck_z = float(depth[[1, CHEST]].mean()) - eps
    parts.append((neck_z, 'line', pts[[1, CHEST]], tone(look.skin, neck_z),
                  width(0.05)))
    forearm = look.shirt if look.long_sleeves else look.skin
    shin = look.trousers if look.long_trousers else look.skin
    for side in (LEFT, RIGHT):
        segments = (
            (5, 7, look.shirt, shape.upper_arm_width),
            (7, 9, forearm, shape.forearm_width),
            (11, 13, look.trousers, shape.thigh_width),
            (13, 15, shin, shape.shin_width),
            (15, LEFT_TOE, look.shoes, 0.035),
        )
        for a, b, color, w in segments:
            ia = a + side
            ib = b + side
            z = float(depth[[ia, ib]].mean()) + eps
            parts.append((z, 'line', pts[[ia, ib]], tone(color, z, side),
                          width(w)))
        wrist = 9 + side
        z = float(depth[wrist]) + eps
        parts.append((z, 'circle', (pts[wrist], 0.028 * scale),
                      tone(look.skin, z, side), 0))
    head_z = float(depth[HEAD_CENTER]) + eps
    radius = shape.head_radius * scale
    center = pts[HEAD_CENTER]
    parts.append((head_z, 'circle', (center, radius), look.hair, 0))
    if forward[2] > -0.3:
        # The face sits towards the facing direction; hair stays at the back.
        face = center + forward[:2] * 0.2 * radius + np.array(
            [0.0, 0.12 * radius])
        parts.append((head_z + 1e-3, 'circle', (face, 0.8 * radius),
                      look.skin, 0))
    if forward[2] > 0.25:
        parts.append((head_z + 2e-3, 'circle',
                      (pts[0], max(0.6, 0.14 * radius)),
                      _shade(look.skin, 0.8), 0))
    parts.sort(key=lambda p: p[0])
    return parts


def _draw(canvas: np.ndarray, kind: str, geometry, color, thickness: int,
          origin: np.ndarray, line_type: int) -> None:
    if kind == 'line':
        cv2.line(canvas, _pt(geometry[0] - origin), _pt(geometry[1] - origin),
                 color, thickness, line_type, _SHIFT)
    elif kind == 'circle':
        center, radius = geometry
        cv2.circle(canvas, _pt(center - origin),
                   max(1, int(round(radius * _ONE))), color, -1, line_type,
                   _SHIFT)
    else:
        cv2.fillPoly(canvas, [_fixed(geometry - origin)], color, line_type,
                     _SHIFT)


def _draw_person(image: np.ndarray, track: PersonTrack, pts: np.ndarray,
                 depth: np.ndarray, forward: np.ndarray, scale: float
                 ) -> Tuple[Optional[Tuple[int, int]], Optional[np.ndarray],
                            np.ndarray]:
    """Draw a person; returns its mask (ROI origin, bool ROI) and box."""
    height, width = image.shape[:2]
    margin = 0.1 * scale + 2
    low = pts.min(0) - margin
    high = pts.max(0) + margin
    body_box = np.concatenate([low + margin - 0.06 * scale,
                               high - margin + 0.06 * scale])
    x0, y0 = max(0, int(np.floor(low[0]))), max(0, int(np.floor(low[1])))
    x1 = min(width, int(np.ceil(high[0])) + 1)
    y1 = min(height, int(np.ceil(high[1])) + 1)
    if x1 <= x0 or y1 <= y0:
        return None, None, body_box
    origin = np.array([x0, y0], dtype=np.float64)
    roi = image[y0:y1, x0:x1].copy()
    mask = np.zeros(roi.shape[:2], dtype=np.uint8)
    for _, kind, geometry, color, thickness in _person_parts(
            track, pts, depth, forward, scale):
        _draw(roi, kind, geometry, color, thickness, origin, cv2.LINE_AA)
        _draw(mask, kind, geometry, 1, thickness, origin, cv2.LINE_8)
    mask = mask.astype(bool)
    _paste_texture(roi, mask, track.appearance.texture, pts[PELVIS],
                   (x0, y0))
    image[y0:y1, x0:x1] = roi
    ys, xs = np.nonzero(mask)
    if len(xs):
        # The drawn silhouette is the box where the image shows the person.
        body_box = np.array(
            [xs.min() + x0, ys.min() + y0, xs.max() + x0 + 1,
             ys.max() + y0 + 1],
            dtype=np.float64)
        if x0 == 0 or y0 == 0 or x1 == width or y1 == height:
            # Cut by the border: keep the geometric extent outside it.
            geo = np.concatenate([pts.min(0) - 0.06 * scale,
                                  pts.max(0) + 0.06 * scale])
            body_box = np.where([x0 == 0, y0 == 0, x1 == width,
                                 y1 == height], geo, body_box)
    return (x0, y0), mask, body_box


def _draw_crowd(image: np.ndarray, scene: VideoScene, t: int
                ) -> Tuple[List[np.ndarray], List[np.ndarray]]:
    """Draw the distant crowd; return its ignore polygon and people boxes."""
    crowd = scene.crowd
    if crowd is None:
        return [], []
    height, width = image.shape[:2]
    cam = scene.camera
    zoom = float(cam.zoom[t])
    boxes = []
    for fig in crowd.figures:
        sway = 0.04 * fig.height * np.sin(0.3 * t + fig.sway_phase)
        feet = cam.to_image(t, np.array([[fig.x + sway, fig.feet_y]]))[0]
        h = fig.height * zoom
        hip = feet - np.array([0.0, 0.5 * h])
        neck = feet - np.array([0.0, 0.82 * h])
        thick = max(1, int(round(0.07 * h)))
        for dx in (-0.08, 0.08):
            cv2.line(image, _pt(hip), _pt(feet + np.array([dx * h, 0.0])),
                     fig.color, thick, cv2.LINE_AA, _SHIFT)
        cv2.line(image, _pt(hip), _pt(neck), fig.color,
                 max(1, int(round(0.12 * h))), cv2.LINE_AA, _SHIFT)
        for dx in (-0.14, 0.14):
            cv2.line(image, _pt(neck), _pt(neck + np.array([dx * h, 0.3 * h])),
                     fig.color, thick, cv2.LINE_AA, _SHIFT)
        head = neck - np.array([0.0, 0.08 * h])
        cv2.circle(image, _pt(head), max(1, int(0.08 * h * _ONE)),
                   fig.head_color, -1, cv2.LINE_AA, _SHIFT)
        box = np.array([feet[0] - 0.2 * h, feet[1] - h, feet[0] + 0.2 * h,
                        feet[1]])
        if box[2] > 0 and box[0] < width and box[3] > 0 and box[1] < height:
            boxes.append(box)
    corners = cam.to_image(t, crowd.region.reshape(2, 2))
    x1, y1 = np.clip(corners[0], 0, [width - 1, height - 1])
    x2, y2 = np.clip(corners[1], 0, [width - 1, height - 1])
    regions = []
    if x2 - x1 >= 2 and y2 - y1 >= 2:
        regions.append(np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]]))
    return regions, boxes


def motion_blur(image: np.ndarray, length: int, angle: float) -> np.ndarray:
    """Blur an image along a line (a linear motion-blur kernel).

    Args:
        image (np.ndarray): BGR uint8 image.
        length (int): Kernel length in pixels (odd, >= 3).
        angle (float): Direction in degrees (0 = horizontal).

    Returns:
        np.ndarray: The blurred image.
    """
    # Splat many points of the segment bilinearly: an exact line kernel.
    c = (length - 1) / 2
    rad = np.radians(angle)
    s = np.linspace(-c, c, 8 * length)
    xs = c + s * np.cos(rad)
    ys = c + s * np.sin(rad)
    x0 = np.clip(np.floor(xs).astype(int), 0, length - 2)
    y0 = np.clip(np.floor(ys).astype(int), 0, length - 2)
    fx, fy = xs - x0, ys - y0
    kernel = np.zeros((length, length), dtype=np.float64)
    np.add.at(kernel, (y0, x0), (1 - fx) * (1 - fy))
    np.add.at(kernel, (y0, x0 + 1), fx * (1 - fy))
    np.add.at(kernel, (y0 + 1, x0), (1 - fx) * fy)
    np.add.at(kernel, (y0 + 1, x0 + 1), fx * fy)
    kernel = (kernel / kernel.sum()).astype(np.float32)
    return cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REFLECT)


def render_frame(scene: VideoScene, t: int,
                 rng: np.random.Generator) -> FrameRender:
    """Render frame ``t`` of a scene.

    Args:
        scene (VideoScene): The video's scene.
        t (int): Frame index.
        rng (np.random.Generator): Source of the sensor noise (consumed).

    Returns:
        FrameRender: The image and its ground truth.
    """
    width, height = scene.width, scene.height
    cam = scene.camera
    mat = cam.matrix(t)
    bg_mat = mat.copy()
    bg_mat[:, 2] += mat[0, 0] * scene.background_origin
    image = cv2.warpAffine(
        scene.background,
        bg_mat, (width, height),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REFLECT)
    ignore_regions, crowd_boxes = _draw_crowd(image, scene, t)

    zoom = float(cam.zoom[t])
    drawn = []  # (track, points, mask origin, mask, body box, scale)
    order = sorted(scene.people, key=lambda p: (p.depth, p.track_id))
    for track in order:
        world, forward = track.world_points(t)
        pts = cam.to_image(t, world[:, :2])
        scale = track.height * zoom
        origin, mask, body_box = _draw_person(image, track, pts,
                                              world[:, 2] * zoom, forward,
                                              scale)
        drawn.append((track, pts, origin, mask, body_box, scale))

    occluder_polys = []
    occ_mask = np.zeros((height, width), dtype=np.uint8)
    for occ in scene.occluders:
        poly = cam.to_image(t, occ.polygon(t))
        low, high = poly.min(0), poly.max(0)
        if high[0] < 0 or high[1] < 0 or low[0] > width - 1 or (
                low[1] > height - 1):
            continue
        x0, y0 = max(0, int(np.floor(low[0]))), max(0, int(np.floor(low[1])))
        x1 = min(width, int(np.ceil(high[0])) + 1)
        y1 = min(height, int(np.ceil(high[1])) + 1)
        cv2.fillPoly(image, [_fixed(poly)], occ.color, cv2.LINE_AA, _SHIFT)
        single = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
        cv2.fillPoly(single, [_fixed(poly - np.array([x0, y0]))], 1,
                     cv2.LINE_8, _SHIFT)
        _paste_texture(image[y0:y1, x0:x1], single.astype(bool), occ.texture,
                       cam.to_image(t, occ.position(t)[None])[0], (x0, y0))
        occ_mask[y0:y1, x0:x1] |= single
        occluder_polys.append(poly)

    # Occlusion bookkeeping, nearest person first.
    people = {}
    cover = np.zeros((height, width), dtype=bool)
    occ_bool = occ_mask.astype(bool)
    for track, pts, origin, mask, body_box, scale in reversed(drawn):
        joints = pts[:NUM_JOINTS]
        in_frame = _inside(joints, width, height)
        by_object = np.zeros(NUM_JOINTS, dtype=bool)
        by_person = np.zeros(NUM_JOINTS, dtype=bool)
        for j in np.nonzero(in_frame)[0]:
            point = (float(joints[j, 0]), float(joints[j, 1]))
            by_object[j] = any(
                cv2.pointPolygonTest(poly.astype(np.float32), point, True) >=
                OCCLUSION_MARGIN for poly in occluder_polys)
            xi = min(width - 1, int(round(point[0])))
            yi = min(height - 1, int(round(point[1])))
            by_person[j] = bool(cover[yi, xi])
        visible = 0.0
        if mask is not None:
            x0, y0 = origin
            h, w = mask.shape
            hidden = cover[y0:y0 + h, x0:x0 + w] | occ_bool[y0:y0 + h,
                                                            x0:x0 + w]
            total = int(mask.sum())
            if total:
                visible = float((mask & ~hidden).sum()) / total
            cover[y0:y0 + h, x0:x0 + w] |= mask
        radius = track.shape.head_radius * scale
        head = pts[HEAD_CENTER]
        head_box = np.array([head[0] - radius, head[1] - radius, 2 * radius,
                             2 * radius])
        people[track.track_id] = PersonFrame(
            track_id=track.track_id,
            joints=joints.copy(),
            in_frame=in_frame,
            occluded_by_object=by_object,
            occluded_by_person=by_person,
            head_box=head_box,
            body_box=body_box,
            visible_fraction=visible,
            scale=scale)

    noise = rng.standard_normal(image.shape, dtype=np.float32)
    image = np.clip(image + noise * scene.noise_sigma, 0,
                    255).astype(np.uint8)
    blur_length = int(scene.blur_length[t])
    blur_angle = float(scene.blur_angle[t])
    if blur_length > 0:
        image = motion_blur(image, blur_length, blur_angle)
    return FrameRender(
        image=image,
        people=[people[k] for k in sorted(people)],
        occluders=occluder_polys,
        ignore_regions=ignore_regions,
        crowd_boxes=crowd_boxes,
        blur_length=blur_length,
        blur_angle=blur_angle)
