"""Cheap silhouette distortions: training augmentations for the attackers and the
trivial anonymizers that the evaluation reports beside the real ones.

Every function takes a walk in the CASIA-B normalised frame, (T, 64, 64) bool
(height 64 = head to feet, centred on the median column 32), and returns the same
shape. Each distorted frame is re-normalised the way the dataset was (rows of the
person scaled to height 64, median column at 32), because an attacker only ever
sees normalised frames: a distortion that the normalisation undoes is no distortion.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from gaitanon_core.shape.casiab import normalise_like_casiab

SIZE = 64
# Hip height as a share of body height (head top 0, feet 1): the leg stretch starts here.
HIP_LEVEL = 0.47

Distortion = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def _per_frame(sils: np.ndarray, transform: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    return np.stack([normalise_like_casiab(transform(frame)) for frame in sils]) if len(sils) else sils.copy()


def _cross(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_CROSS, (2 * radius + 1, 2 * radius + 1))


def dilate(sils: np.ndarray, pixels: int = 1) -> np.ndarray:
    """Grow the outline by `pixels` (a cross-shaped kernel, so 1 px means 4-neighbours)."""
    kernel = _cross(pixels)
    return _per_frame(sils, lambda f: cv2.dilate(f.astype(np.uint8), kernel).astype(bool))


def erode(sils: np.ndarray, pixels: int = 1) -> np.ndarray:
    """Shrink the outline by `pixels`; a frame that would vanish is kept as it was."""
    kernel = _cross(pixels)

    def shrink(frame: np.ndarray) -> np.ndarray:
        eroded = cv2.erode(frame.astype(np.uint8), kernel).astype(bool)
        return eroded if eroded.any() else frame

    return _per_frame(sils, shrink)


def width_stretch(sils: np.ndarray, factor: float = 1.15) -> np.ndarray:
    """Make the body `factor` times wider at the same height."""

    def stretch(frame: np.ndarray) -> np.ndarray:
        width = max(1, round(SIZE * factor))
        return cv2.resize(frame.astype(np.uint8) * 255, (width, SIZE), interpolation=cv2.INTER_LINEAR) >= 128

    return _per_frame(sils, stretch)


def leg_stretch(sils: np.ndarray, factor: float = 1.15) -> np.ndarray:
    """Make the legs (below the hip) `factor` times longer; re-normalising then shrinks
    the rest, as a taller-legged person would look after the dataset's crop."""
    hip_row = round(HIP_LEVEL * SIZE)

    def stretch(frame: np.ndarray) -> np.ndarray:
        legs = frame[hip_row:].astype(np.uint8) * 255
        leg_rows = max(1, round(legs.shape[0] * factor))
        longer = cv2.resize(legs, (SIZE, leg_rows), interpolation=cv2.INTER_LINEAR) >= 128
        return np.concatenate([frame[:hip_row], longer])

    return _per_frame(sils, stretch)


def blur(sils: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    """Gaussian blur and re-threshold at one half: rounds corners, closes thin gaps."""

    def smooth(frame: np.ndarray) -> np.ndarray:
        soft = cv2.GaussianBlur(frame.astype(np.float32), (0, 0), sigma)
        return soft >= 0.5

    return _per_frame(sils, smooth)


def random_training_distortion(sils: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One cheap distortion with random strength, as the distortion-trained attackers see them."""
    kind = rng.integers(5)
    if kind == 0:
        return dilate(sils, int(rng.integers(1, 3)))
    if kind == 1:
        return erode(sils, 1)
    if kind == 2:
        return width_stretch(sils, float(rng.uniform(0.85, 1.2)))
    if kind == 3:
        return leg_stretch(sils, float(rng.uniform(0.85, 1.2)))
    return blur(sils, float(rng.uniform(0.8, 2.0)))


# Contour-domain trivial anonymizers: they act on the canonical contour (T, N, 2).


def smooth_contour_jitter(points: np.ndarray, amplitude: float, rng: np.random.Generator) -> np.ndarray:
    """Displace every point by one smooth random field along the outline (a few low
    harmonics of the point index), the same for the whole clip, like one noise per clip."""
    n = points.shape[1]
    phase = 2 * np.pi * np.arange(n) / n
    field = np.zeros((n, 2))
    for harmonic in range(1, 5):
        coeffs = rng.normal(size=(2, 2)) / harmonic
        field += np.outer(np.cos(harmonic * phase), coeffs[0]) + np.outer(np.sin(harmonic * phase), coeffs[1])
    field *= amplitude / np.sqrt(np.mean(np.sum(field**2, axis=1)))
    return points + field[None].astype(points.dtype)


def blend_toward(points: np.ndarray, other: np.ndarray, weight: float) -> np.ndarray:
    """Point-by-point blend toward another walk's contours (looped to the same length)."""
    looped = other[np.arange(len(points)) % len(other)]
    return ((1 - weight) * points + weight * looped).astype(points.dtype)
