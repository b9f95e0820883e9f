# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""A video's scene: camera path, people, occluders, crowd and blur schedule.

Everything here is sampled once per video from one random generator; the
renderer then only evaluates it frame by frame. Coordinates:

- *world* pixels: the image coordinates of a reference view (the camera at
  the middle of the video with zoom 1 and no shake); x right, y down, and a
  depth z towards the camera for drawing order;
- *image* pixels: ``image = zoom * (world - center) + (W / 2, H / 2) + shake``.
"""
import math
from dataclasses import dataclass
from typing import List, Optional, Tuple

import cv2
import numpy as np

from .config import SyntheticConfig
from .figures import (MOTIONS, NUM_JOINTS, UNANNOTATED_JOINTS, BodyShape, MotionStyle, forward_kinematics, motion_pose,
                      sample_body_shape, sample_motion_style)
from .textures import make_background, make_surface_tile, random_color

# BGR skin tones (dark to light); each person scales one slightly.
_SKIN_TONES = ((45, 60, 95), (70, 95, 140), (95, 130, 180), (120, 160, 205),
               (150, 180, 225), (170, 200, 235))
# Motion probabilities, in the order of figures.MOTIONS.
_MOTION_PROBS = (0.4, 0.2, 0.2, 0.2)
# Cycle frequencies (cycles per frame) per motion.
MOTION_FREQ = {
    'walk': (1 / 26, 1 / 16),
    'wave': (1 / 14, 1 / 8),
    'jump': (1 / 36, 1 / 24),
    'turn': (1 / 24, 1 / 14),
}


@dataclass
class Camera:
    """Per-frame camera: zoom, world point at the image centre, shake.

    Args:
        width (int): Image width.
        height (int): Image height.
        zoom (np.ndarray): Shape (T,), image pixels per world pixel.
        center (np.ndarray): Shape (T, 2), world point seen at the centre.
        shake (np.ndarray): Shape (T, 2), extra image offset in pixels.
    """
    width: int
    height: int
    zoom: np.ndarray
    center: np.ndarray
    shake: np.ndarray

    def matrix(self, t: int) -> np.ndarray:
        """World-to-image affine matrix of frame ``t``, shape (2, 3)."""
        z = float(self.zoom[t])
        off = (np.array([self.width / 2, self.height / 2]) -
               z * self.center[t] + self.shake[t])
        return np.array([[z, 0.0, off[0]], [0.0, z, off[1]]])

    def to_image(self, t: int, points: np.ndarray) -> np.ndarray:
        """Map world points of shape (N, 2) to image points (N, 2)."""
        mat = self.matrix(t)
        return points * mat[0, 0] + mat[:, 2]


@dataclass
class Appearance:
    """Colours (BGR) and cloth texture of one person.

    Args:
        skin, hair, shirt, trousers, shoes (Tuple[int, int, int]): Colours.
        long_sleeves (bool): Forearms in the shirt's colour (else skin).
        long_trousers (bool): Shins in the trousers' colour (else skin).
        side_contrast (float): Left limbs are brighter by this factor and
            right limbs darker (a few percent, as in real clothing/light).
        texture (np.ndarray): Float32 multiplicative tile, shape (S, S, 1).
    """
    skin: Tuple[int, int, int]
    hair: Tuple[int, int, int]
    shirt: Tuple[int, int, int]
    trousers: Tuple[int, int, int]
    shoes: Tuple[int, int, int]
    long_sleeves: bool
    long_trousers: bool
    side_contrast: float
    texture: np.ndarray


@dataclass
class PersonTrack:
    """One annotated person: body, motion and path through the video.

    Args:
        track_id (int): PoseTrack ``track_id`` (0-based within the video).
        shape (BodyShape): Body proportions.
        style (MotionStyle): Motion amplitudes and wobble.
        motion (str): One of :data:`figures.MOTIONS`.
        height (float): Standing height in world pixels.
        depth (float): 0 (far) .. 1 (near); nearer people are drawn later.
        feet_y (float): World y of the floor under the person.
        x_mid (float): World x of the pelvis at the middle frame.
        vx (float): Horizontal speed in world pixels per frame.
        yaw0 (float): Body yaw at the middle frame.
        yaw_rate (float): Yaw change per frame.
        phase0 (float): Cycle phase at frame 0.
        freq (float): Cycles per frame.
        appearance (Appearance): Colours and texture.
        mid_frame (float): The reference frame time for ``x_mid``/``yaw0``.
    """
    track_id: int
    shape: BodyShape
    style: MotionStyle
    motion: str
    height: float
    depth: float
    feet_y: float
    x_mid: float
    vx: float
    yaw0: float
    yaw_rate: float
    phase0: float
    freq: float
    appearance: Appearance
    mid_frame: float

    def world_points(self, t: float) -> Tuple[np.ndarray, np.ndarray]:
        """Points of the figure at frame ``t`` in world pixels.

        Returns:
            tuple:
            - points (np.ndarray): Shape (22, 3): x, y (down) and depth z
              (towards the camera), see :func:`figures.forward_kinematics`.
            - forward (np.ndarray): Shape (3,), the head's facing direction
              in the same axes (x right, y down, z towards the camera).
        """
        pose = motion_pose(self.motion, self.phase0 + self.freq * t, t,
                           self.style)
        yaw = self.yaw0 + self.yaw_rate * (t - self.mid_frame)
        body, forward = forward_kinematics(self.shape, pose, yaw)
        pts = np.empty_like(body)
        pts[:, 0] = self.x_mid + self.vx * (t - self.mid_frame) + (
            self.height * body[:, 0])
        pts[:, 1] = self.feet_y - self.height * body[:, 1]
        pts[:, 2] = self.height * body[:, 2]
        return pts, np.array([forward[0], -forward[1], forward[2]])


@dataclass
class Occluder:
    """A foreground object that passes in front of people.

    Args:
        kind (str): ``board``, ``pole``, ``disc`` or ``blob``.
        outline (np.ndarray): Polygon relative to the centre, world pixels,
            shape (N, 2).
        center (np.ndarray): Centre at frame ``t_center``, shape (2,).
        velocity (np.ndarray): World pixels per frame, shape (2,).
        t_center (float): The frame it was aimed at.
        color (Tuple[int, int, int]): BGR colour.
        texture (np.ndarray): Float32 tile, shape (S, S, 1).
    """
    kind: str
    outline: np.ndarray
    center: np.ndarray
    velocity: np.ndarray
    t_center: float
    color: Tuple[int, int, int]
    texture: np.ndarray

    def position(self, t: float) -> np.ndarray:
        """World centre at frame ``t``, shape (2,)."""
        return self.center + self.velocity * (t - self.t_center)

    def polygon(self, t: float) -> np.ndarray:
        """World polygon at frame ``t``, shape (N, 2)."""
        return self.outline + self.position(t)


@dataclass
class CrowdFigure:
    """A small, unannotated distant person of the crowd (world pixels)."""
    x: float
    feet_y: float
    height: float
    color: Tuple[int, int, int]
    head_color: Tuple[int, int, int]
    sway_phase: float


@dataclass
class Crowd:
    """A distant crowd whose bounding region is written as ignore region.

    Args:
        figures (List[CrowdFigure]): The crowd's people.
        region (np.ndarray): World box ``[x1, y1, x2, y2]`` enclosing them.
    """
    figures: List[CrowdFigure]
    region: np.ndarray


@dataclass
class VideoScene:
    """Everything needed to render one video.

    Args:
        width (int): Image width.
        height (int): Image height.
        num_frames (int): Frames T.
        camera (Camera): Per-frame camera.
        background (np.ndarray): BGR uint8 world background.
        background_origin (np.ndarray): World coordinates of the background's
            pixel (0, 0), shape (2,).
        people (List[PersonTrack]): Annotated people, by track id.
        occluders (List[Occluder]): Foreground occluders.
        crowd (Crowd, optional): The distant crowd, if any.
        blur_length (np.ndarray): Shape (T,), motion-blur kernel length in
            pixels, 0 for sharp frames.
        blur_angle (np.ndarray): Shape (T,), blur direction in degrees.
        noise_sigma (float): Std of the sensor noise in grey levels.
    """
    width: int
    height: int
    num_frames: int
    camera: Camera
    background: np.ndarray
    background_origin: np.ndarray
    people: List[PersonTrack]
    occluders: List[Occluder]
    crowd: Optional[Crowd]
    blur_length: np.ndarray
    blur_angle: np.ndarray
    noise_sigma: float


def _sample_appearance(rng: np.random.Generator,
                       height: float) -> Appearance:
    tone = np.array(_SKIN_TONES[int(rng.integers(len(_SKIN_TONES)))])
    skin = tuple(int(c) for c in np.clip(tone * rng.uniform(0.9, 1.1), 0,
                                         255))
    size = int(height * 1.3) + 8
    return Appearance(
        skin=skin,
        hair=random_color(rng, 10, 120),
        shirt=random_color(rng),
        trousers=random_color(rng, 15, 200),
        shoes=random_color(rng, 10, 90),
        long_sleeves=bool(rng.random() < 0.5),
        long_trousers=bool(rng.random() < 0.75),
        side_contrast=float(rng.uniform(0.02, 0.07)),
        texture=make_surface_tile(rng, size, bool(rng.random() < 0.35)))


def _sample_camera(rng: np.random.Generator, cfg: SyntheticConfig,
                   num_frames: int) -> Tuple[Camera, np.ndarray]:
    """Zoom and pan of the camera (shake is added with the blur schedule)."""
    width, height = cfg.image_width, cfg.image_height
    t = np.arange(num_frames, dtype=np.float64)
    mid = (num_frames - 1) / 2
    zoom = np.full(num_frames, rng.uniform(0.92, 1.08))
    if rng.random() < 0.5:
        drift = rng.uniform(-0.2, 0.2)
        zoom *= 1.0 + drift * (t - mid) / max(num_frames - 1, 1)
    pan = np.zeros(2)
    if rng.random() < 0.6:
        pan = np.array([
            rng.normal(0.0, 0.5) * width / 256,
            rng.normal(0.0, 0.15) * height / 192
        ])
    sway_amp = rng.uniform(0.0, 3.0) * width / 256
    sway_period = rng.uniform(30, 80)
    sway_phase = rng.uniform(0, 2 * math.pi)
    center = np.empty((num_frames, 2))
    center[:, 0] = width / 2 + pan[0] * (t - mid) + sway_amp * np.sin(
        2 * math.pi * t / sway_period + sway_phase)
    center[:, 1] = height / 2 + pan[1] * (t - mid)
    camera = Camera(width, height, zoom, center, np.zeros((num_frames, 2)))
    return camera, pan


def _sample_blur(rng: np.random.Generator, cfg: SyntheticConfig,
                 num_frames: int,
                 pan: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Bursts of 1-3 blurred frames covering about ``blur_rate`` of frames.

    A sharp frame starts a burst with probability q; with a mean burst of 2
    frames the blurred fraction is 2q / (1 + q), so q = r / (2 - r).
    """
    length = np.zeros(num_frames, dtype=np.int64)
    angle = np.zeros(num_frames)
    rate = cfg.blur_rate
    if rate <= 0:
        return length, angle
    start_prob = rate / (2.0 - rate)
    t = 0
    while t < num_frames:
        if rng.random() < start_prob:
            burst = int(rng.integers(1, 4))
            size = int(round(rng.uniform(4, 11) * cfg.image_width / 256))
            size = max(3, size | 1)
            if np.linalg.norm(pan) > 0.2:
                base = math.degrees(math.atan2(pan[1], pan[0]))
            else:
                base = rng.uniform(0, 180)
            for k in range(t, min(t + burst, num_frames)):
                length[k] = size
                angle[k] = (base + rng.normal(0, 15)) % 180
            t += burst
        else:
            t += 1
    return length, angle


def _sample_person(rng: np.random.Generator, cfg: SyntheticConfig,
                   track_id: int, num_frames: int,
                   previous: List[PersonTrack]) -> PersonTrack:
    width, height = cfg.image_width, cfg.image_height
    hmin, hmax = cfg.person_height_range
    mid = (num_frames - 1) / 2
    depth = float(rng.uniform(0, 1))
    person_h = hmin + (hmax - hmin) * depth
    feet_y = height * (0.62 + 0.33 * depth) + rng.normal(0, 0.015 * height)
    motion = MOTIONS[int(rng.choice(len(MOTIONS), p=_MOTION_PROBS))]
    lo, hi = MOTION_FREQ[motion]
    freq = float(rng.uniform(lo, hi))
    style = sample_motion_style(rng)
    yaw_rate = float(rng.normal(0, 0.005))
    vx = float(rng.normal(0, 0.15))
    if motion == 'walk':
        direction = 1.0 if rng.random() < 0.5 else -1.0
        # About 0.75 standing heights travelled per gait cycle.
        vx = direction * 0.75 * style.amplitude * person_h * freq
        yaw0 = direction * (math.pi / 2 - rng.uniform(0, 0.7))
        x_mid = rng.uniform(0.1, 0.9) * width
    else:
        if motion == 'turn':
            yaw0 = rng.uniform(-math.pi, math.pi)
            yaw_rate = float(rng.choice((-1, 1)) * rng.uniform(0.05, 0.14))
        else:
            yaw0 = rng.normal(0, 0.5)
            if rng.random() < 0.15:
                yaw0 += math.pi  # seen from the back
        roll = rng.random()
        if roll < 0.15:
            # Partly outside the frame at one border.
            x_mid = rng.uniform(-0.04, 0.06) * width
            if rng.random() < 0.5:
                x_mid = width - x_mid
        elif roll < 0.6 and previous:
            # Close to someone else: people overlap.
            other = previous[int(rng.integers(len(previous)))]
            x_mid = other.x_mid + rng.normal(0, 0.3 * person_h)
        else:
            x_mid = rng.uniform(0.08, 0.92) * width
    return PersonTrack(
        track_id=track_id,
        shape=sample_body_shape(rng),
        style=style,
        motion=motion,
        height=float(person_h),
        depth=depth,
        feet_y=float(feet_y),
        x_mid=float(x_mid),
        vx=float(vx),
        yaw0=float(yaw0),
        yaw_rate=yaw_rate,
        phase0=float(rng.uniform(0, 1)),
        freq=freq,
        appearance=_sample_appearance(rng, person_h),
        mid_frame=mid)


_ANNOTATED = tuple(j for j in range(NUM_JOINTS) if j not in UNANNOTATED_JOINTS)
_OCCLUDER_KINDS = ('board', 'pole', 'disc', 'blob')
_OCCLUDER_PROBS = (0.35, 0.25, 0.2, 0.2)
# Occluders per video = occlusion_rate * frames * people / this constant;
# calibrated so that about occlusion_rate of the person-frames of the demo
# preset have an occluded joint (each occluder sweeps over its target in 3-8
# frames and sometimes over its neighbours too).
_MEAN_COVER_FRAMES = 9.0


def _sample_occluder(rng: np.random.Generator, cfg: SyntheticConfig,
                     people: List[PersonTrack], num_frames: int) -> Occluder:
    """An occluder whose path crosses a chosen joint at a chosen frame."""
    target = people[int(rng.integers(len(people)))]
    t_center = float(rng.integers(num_frames))
    joint = _ANNOTATED[int(rng.integers(len(_ANNOTATED)))]
    aim = target.world_points(t_center)[0][joint, :2]
    h = target.height
    kind = _OCCLUDER_KINDS[int(rng.choice(4, p=_OCCLUDER_PROBS))]
    # Frames the occluder needs to sweep over the whole target person.
    cover_frames = rng.uniform(3, 8)
    if kind in ('board', 'pole'):
        if kind == 'board':
            w, ht = rng.uniform(0.25, 0.5) * h, rng.uniform(0.3, 0.7) * h
        else:
            w, ht = rng.uniform(0.06, 0.14) * h, 3.0 * cfg.image_height
        ang = rng.uniform(-0.25, 0.25) if kind == 'board' else 0.0
        corners = np.array([[-w, -ht], [w, -ht], [w, ht], [-w, ht]]) / 2
        rot = np.array([[math.cos(ang), -math.sin(ang)],
                        [math.sin(ang), math.cos(ang)]])
        outline = corners @ rot.T
        extent = w
        theta = rng.normal(0, 0.1)
    else:
        radius = rng.uniform(0.12, 0.25) * h
        n = 20 if kind == 'disc' else 12
        ang = np.linspace(0, 2 * math.pi, n, endpoint=False)
        radii = np.full(n, radius)
        if kind == 'blob':
            radii *= rng.uniform(0.7, 1.2, size=n)
        outline = np.stack([radii * np.cos(ang), radii * np.sin(ang)], 1)
        extent = 2 * radius
        # Mostly sideways: crossing a body vertically would take too long.
        theta = rng.uniform(-0.6, 0.6)
    # The surface tile is drawn at the calibrated size, so that
    # occluder_scale changes no random draw, and stretched with the occluder
    # below (repeating it would draw straight seams across a large one).
    tile_size = int(np.ptp(outline, axis=0).max()) + 4
    # Poles keep their length (taller than the frame), others scale whole.
    outline = outline * (np.array([cfg.occluder_scale, 1.0])
                         if kind == 'pole' else cfg.occluder_scale)
    extent = extent * cfg.occluder_scale
    if rng.random() < 0.5:
        theta += math.pi
    direction = np.array([math.cos(theta), math.sin(theta)])
    speed = (extent + 0.35 * h) / cover_frames
    # Relative to the target, so that walkers do not travel along with it.
    velocity = speed * direction + np.array([target.vx, 0.0])
    center = aim + rng.normal(0, 0.15 * extent, size=2)
    if kind == 'pole':
        center[1] = aim[1] + rng.uniform(-0.3, 0.3) * cfg.image_height
    color = random_color(rng)
    texture = make_surface_tile(rng, min(tile_size, 4 * cfg.image_height),
                                bool(rng.random() < 0.5))
    if cfg.occluder_scale != 1.0 and kind != 'pole':  # a pole's tile already spans its width
        side = min(int(round(texture.shape[0] * cfg.occluder_scale)),
                   4 * cfg.image_height)
        texture = cv2.resize(texture[:, :, 0], (side, side),
                             interpolation=cv2.INTER_LINEAR)[:, :, None]
    return Occluder(
        kind=kind,
        outline=outline,
        center=center,
        velocity=velocity,
        t_center=t_center,
        color=color,
        texture=texture)


def _sample_crowd(rng: np.random.Generator, cfg: SyntheticConfig) -> Crowd:
    width, height = cfg.image_width, cfg.image_height
    cx = rng.uniform(0.15, 0.85) * width
    span = rng.uniform(0.2, 0.4) * width
    base = rng.uniform(0.48, 0.58) * height
    figures = []
    for _ in range(int(rng.integers(6, 15))):
        figures.append(
            CrowdFigure(
                x=float(cx + rng.uniform(-0.5, 0.5) * span),
                feet_y=float(base + rng.uniform(-0.04, 0.04) * height),
                height=float(rng.uniform(0.1, 0.17) * height),
                color=random_color(rng),
                head_color=random_color(rng, 30, 200),
                sway_phase=float(rng.uniform(0, 2 * math.pi))))
    xs = np.array([f.x for f in figures])
    feet = np.array([f.feet_y for f in figures])
    tall = np.array([f.height for f in figures])
    region = np.array([(xs - 0.35 * tall).min(), (feet - 1.05 * tall).min(),
                       (xs + 0.35 * tall).max(), (feet + 0.05 * tall).max()])
    return Crowd(figures, region)


def _background_for(rng: np.random.Generator, camera: Camera,
                    num_frames: int) -> Tuple[np.ndarray, np.ndarray]:
    """A background large enough for every frame's view."""
    corners = np.array([[0, 0], [camera.width, 0], [0, camera.height],
                        [camera.width, camera.height]], dtype=np.float64)
    lows, highs = [], []
    for t in range(num_frames):
        mat = camera.matrix(t)
        world = (corners - mat[:, 2]) / mat[0, 0]
        lows.append(world.min(0))
        highs.append(world.max(0))
    low = np.floor(np.min(lows, axis=0)) - 4
    high = np.ceil(np.max(highs, axis=0)) + 4
    size = (high - low).astype(int)
    return make_background(rng, int(size[1]), int(size[0])), low


def sample_scene(rng: np.random.Generator, cfg: SyntheticConfig,
                 num_people: Optional[int] = None) -> VideoScene:
    """Sample the whole scene of one video.

    Args:
        rng (np.random.Generator): Random source (consumed).
        cfg (SyntheticConfig): Generator options.
        num_people (int, optional): Force the number of annotated people;
            ``None`` draws it from ``cfg.people_per_video``.

    Returns:
        VideoScene: The scene.
    """
    num_frames = cfg.frames_per_video
    camera, pan = _sample_camera(rng, cfg, num_frames)
    blur_length, blur_angle = _sample_blur(rng, cfg, num_frames, pan)
    shake_sigma = rng.uniform(0.0, 1.0) * cfg.image_width / 256
    shake = rng.normal(0.0, 1.0, size=(num_frames, 2)) * shake_sigma
    # A blurred frame comes from a fast camera jolt: shift it along the blur.
    rad = np.radians(blur_angle)
    jolt = 0.5 * blur_length * rng.choice((-1.0, 1.0), size=num_frames)
    shake[:, 0] += jolt * np.cos(rad)
    shake[:, 1] += jolt * np.sin(rad)
    camera.shake = shake

    if num_people is None:
        low, high = cfg.people_per_video
        num_people = int(rng.integers(low, high + 1))
    people: List[PersonTrack] = []
    for track_id in range(num_people):
        people.append(_sample_person(rng, cfg, track_id, num_frames, people))

    occluders = []
    if cfg.occlusion_rate > 0:
        mean = (cfg.occlusion_rate * num_frames * num_people /
                _MEAN_COVER_FRAMES)
        for _ in range(int(rng.poisson(mean))):
            occluders.append(_sample_occluder(rng, cfg, people, num_frames))
    crowd = _sample_crowd(rng, cfg) if rng.random() < cfg.crowd_rate else None
    background, origin = _background_for(rng, camera, num_frames)
    return VideoScene(
        width=cfg.image_width,
        height=cfg.image_height,
        num_frames=num_frames,
        camera=camera,
        background=background,
        background_origin=origin,
        people=people,
        occluders=occluders,
        crowd=crowd,
        blur_length=blur_length,
        blur_angle=blur_angle,
        noise_sigma=float(rng.uniform(1.0, 4.0)))
