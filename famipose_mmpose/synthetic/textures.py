# Copyright (c) FAMI-Pose MMPose plugin authors. All rights reserved.
"""Procedural textures: cluttered backgrounds and fabric-like surface tiles.

Everything is drawn with numpy and OpenCV from a ``numpy.random.Generator``,
so a texture is a pure function of the generator's state.
"""
import math
from typing import Tuple

import cv2
import numpy as np


def smooth_noise(rng: np.random.Generator, height: int, width: int,
                 cell: float) -> np.ndarray:
    """Band-limited noise: random values on a coarse grid, resized smoothly.

    Args:
        rng (np.random.Generator): Random source.
        height (int): Output height in pixels.
        width (int): Output width in pixels.
        cell (float): Size of one grid cell in pixels (the noise's scale).

    Returns:
        np.ndarray: Float32 array of shape (height, width), values about in
        [-1, 1].
    """
    gh = max(2, int(math.ceil(height / cell)) + 1)
    gw = max(2, int(math.ceil(width / cell)) + 1)
    grid = rng.uniform(-1.0, 1.0, size=(gh, gw)).astype(np.float32)
    return cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)


def random_color(rng: np.random.Generator, low: int = 20,
                 high: int = 235) -> Tuple[int, int, int]:
    """A random BGR colour with channels in [low, high]."""
    return tuple(int(c) for c in rng.integers(low, high + 1, size=3))


def make_background(rng: np.random.Generator, height: int,
                    width: int) -> np.ndarray:
    """A cluttered outdoor-like scene: wall or sky, ground, blocks, sticks.

    The clutter includes thin elongated strokes on purpose: limb-like edges in
    the background are what makes real pose estimation hard.

    Args:
        rng (np.random.Generator): Random source.
        height (int): Height in pixels.
        width (int): Width in pixels.

    Returns:
        np.ndarray: BGR uint8 image of shape (height, width, 3).
    """
    horizon = int(height * rng.uniform(0.3, 0.55))
    top = np.array(random_color(rng, 60, 230), dtype=np.float32)
    ground = np.array(random_color(rng, 40, 200), dtype=np.float32)
    img = np.empty((height, width, 3), dtype=np.float32)
    img[:horizon] = top
    img[horizon:] = ground
    # Vertical gradient on the ground (it recedes towards the horizon).
    ramp = np.linspace(0.85, 1.1, height - horizon, dtype=np.float32)
    img[horizon:] *= ramp[:, None, None]
    scale = max(height, width)
    # Buildings / furniture blocks with windows.
    for _ in range(int(rng.integers(3, 9))):
        bw = int(rng.uniform(0.05, 0.25) * scale)
        bh = int(rng.uniform(0.1, 0.45) * height)
        x0 = int(rng.integers(-bw // 2, width))
        y1 = horizon + int(rng.integers(-height // 20, height // 10 + 1))
        color = random_color(rng, 30, 220)
        cv2.rectangle(img, (x0, y1 - bh), (x0 + bw, y1), color, -1)
        win = random_color(rng, 20, 250)
        step = max(4, bw // int(rng.integers(2, 5)))
        for wx in range(x0 + step // 3, x0 + bw - step // 3, step):
            for wy in range(y1 - bh + step // 3, y1 - step // 2, step):
                cv2.rectangle(img, (wx, wy),
                              (wx + step // 3, wy + step // 3), win, -1)
    # Elongated clutter: poles, branches, cables, painted lines.
    for _ in range(int(rng.integers(6, 16))):
        p0 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        ang = rng.uniform(0, math.pi)
        length = rng.uniform(0.05, 0.35) * scale
        p1 = (int(p0[0] + length * math.cos(ang)),
              int(p0[1] + length * math.sin(ang)))
        thick = max(1, int(rng.uniform(0.004, 0.02) * scale))
        cv2.line(img, p0, p1, random_color(rng), thick, cv2.LINE_AA)
    # Blobs (bushes, signs, parked things).
    for _ in range(int(rng.integers(3, 10))):
        center = (int(rng.integers(0, width)),
                  int(rng.integers(horizon // 2, height)))
        axes = (max(2, int(rng.uniform(0.01, 0.08) * scale)),
                max(2, int(rng.uniform(0.01, 0.06) * scale)))
        cv2.ellipse(img, center, axes, float(rng.uniform(0, 180)), 0, 360,
                    random_color(rng), -1, cv2.LINE_AA)
    # Low- and high-frequency shading so flat areas are not flat.
    shade = 1.0 + 0.18 * smooth_noise(rng, height, width, 0.2 * scale)
    shade += 0.08 * smooth_noise(rng, height, width, 0.02 * scale)
    img *= shade[:, :, None]
    return np.clip(img, 0, 255).astype(np.uint8)


def make_surface_tile(rng: np.random.Generator, size: int,
                      striped: bool) -> np.ndarray:
    """A multiplicative surface texture (cloth, wood, paint) around 1.

    Args:
        rng (np.random.Generator): Random source.
        size (int): Side of the square tile in pixels.
        striped (bool): Add a stripe pattern.

    Returns:
        np.ndarray: Float32 array of shape (size, size, 1) with values about
        in [0.7, 1.3], meant to multiply a colour.
    """
    tile = 1.0 + 0.12 * smooth_noise(rng, size, size, max(2.0, size / 4))
    tile += 0.06 * smooth_noise(rng, size, size, max(1.5, size / 24))
    if striped:
        period = rng.uniform(0.06, 0.2) * size
        ang = rng.uniform(0, math.pi)
        ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
        phase = (xs * math.cos(ang) + ys * math.sin(ang)) / period
        tile += 0.15 * np.sign(np.sin(2 * math.pi * phase)).astype(
            np.float32)
    return tile.astype(np.float32)[:, :, None]
