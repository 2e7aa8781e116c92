"""Synthetic scenes for the moving-camera tests: textures, known camera steps, frames cut from a larger scene."""

from __future__ import annotations

import cv2
import numpy as np


def texture(shape: tuple[int, int], seed: int) -> np.ndarray:
    """An RGB picture with detail at several scales (plenty of corners to track), uint8."""
    rng = np.random.default_rng(seed)
    height, width = shape
    total = np.zeros((height, width, 3), np.float32)
    for cell in (64, 16, 4):
        coarse = rng.uniform(0, 1, (height // cell + 2, width // cell + 2, 3)).astype(np.float32)
        total += cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(total / 3 * 255, 0, 255).astype(np.uint8)


def similarity(dx: float, dy: float, degrees: float = 0.0, zoom: float = 1.0,
               centre: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """(3, 3): turn by `degrees` and zoom about `centre`, then shift by (dx, dy)."""
    matrix = np.eye(3)
    matrix[:2] = cv2.getRotationMatrix2D(centre, degrees, zoom)
    matrix[:2, 2] += (dx, dy)
    return matrix


def view(scene: np.ndarray, to_frame: np.ndarray, shape: tuple[int, int], interpolation: int = cv2.INTER_LINEAR
         ) -> np.ndarray:
    """The frame of `shape` that sees scene point p at pixel `to_frame` @ p."""
    return cv2.warpAffine(scene, to_frame[:2], shape[::-1], flags=interpolation, borderMode=cv2.BORDER_REFLECT)
