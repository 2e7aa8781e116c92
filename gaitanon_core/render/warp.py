"""Texture-following transfer: the person's own pixels moved from the original outline onto the new one.

The input and output outlines are in point correspondence (the anchored layout: the
same N points in and out), so a thin-plate spline through those pairs maps every
pixel of the new body to where it came from on the original body. Limbs then move
with their outline points: the original outline leaves no seam inside the new body
and a widened limb is the same limb stretched, not a second one beside it.

Why a thin-plate spline (scipy's `RBFInterpolator`, already an engine dependency)
rather than a piecewise-affine warp over a triangulation: it needs no interior
points whose new place would have to be invented, cannot flip a triangle where a
limb swings, and is smooth, so it is evaluated on a coarse grid (`GRID_ROWS` rows over the
body, only near the new body) and interpolated to every pixel. Measured on a 720p
box (README).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.interpolate import RBFInterpolator

GRID_ROWS = 40  # the backward map is evaluated on about this many rows over the body's height
_SAME_POINT = 0.25  # px: outline points closer than this count as one (the spline needs distinct points)


@dataclass(frozen=True)
class OutlinePair:
    """One frame's outlines in point correspondence, image x, y (M, 2) each."""

    source: np.ndarray  # on the original body (for a stand-in: the stand-in's outline placed on this frame)
    target: np.ndarray  # the same points on the anonymized outline

    def shifted(self, top: int, left: int) -> OutlinePair:
        """The pair in the coordinates of a crop whose corner is (top, left)."""
        corner = np.array([left, top], np.float64)
        return OutlinePair(self.source - corner, self.target - corner)


def distinct_pairs(pair: OutlinePair) -> tuple[np.ndarray, np.ndarray]:
    """(target, source) with repeated target points dropped: two colours cannot come from one place."""
    key = np.round(pair.target / _SAME_POINT).astype(np.int64)
    _, first = np.unique(key, axis=0, return_index=True)
    keep = np.sort(first)
    return pair.target[keep].astype(np.float64), pair.source[keep].astype(np.float64)


def grid_step(pair: OutlinePair) -> int:
    """Pixels between the grid's samples: about `GRID_ROWS` over the new body's height, at least 1."""
    height = float(np.ptp(pair.target[:, 1]))
    return max(1, int(height // GRID_ROWS))


def backward_map(pair: OutlinePair, body: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each pixel of `body`'s image (the new body, bool), the source x and y its colour comes from.

    The spline is evaluated only on grid samples within one sample of the body;
    the others keep their own place (nothing of them is drawn).
    """
    target, source = distinct_pairs(pair)
    spline = RBFInterpolator(target, source, kernel="thin_plate_spline")
    step = grid_step(pair)
    rows, cols = -(-body.shape[0] // step), -(-body.shape[1] // step)
    # cv2.resize (linear) puts grid sample g at pixel g * step + (step - 1) / 2: sample there.
    grid = np.mgrid[0:rows, 0:cols].astype(np.float32)[::-1].transpose(1, 2, 0) * step + (step - 1) / 2.0
    near = cv2.dilate(_coarse(body, step, rows, cols), np.ones((3, 3), np.uint8)).astype(bool)
    grid[near] = spline(grid[near].astype(np.float64)).astype(np.float32)
    if step > 1:
        grid = cv2.resize(grid, (cols * step, rows * step), interpolation=cv2.INTER_LINEAR)
    grid = grid[: body.shape[0], : body.shape[1]]
    return np.ascontiguousarray(grid[..., 0]), np.ascontiguousarray(grid[..., 1])


def _coarse(body: np.ndarray, step: int, rows: int, cols: int) -> np.ndarray:
    """(rows, cols) uint8: 1 where a step x step cell holds any of the body."""
    padded = np.zeros((rows * step, cols * step), bool)
    padded[: body.shape[0], : body.shape[1]] = body
    return padded.reshape(rows, step, cols, step).any(axis=(1, 3)).astype(np.uint8)


def warp(texture: np.ndarray, pair: OutlinePair, body: np.ndarray) -> np.ndarray:
    """`texture` (H, W, C) moved from the pair's source outline onto its target outline (bilinear) over `body`."""
    map_x, map_y = backward_map(pair, body)
    return cv2.remap(texture, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
