"""The contour codec of DESIGN.md: silhouette mask <-> canonical contour of N points.

Canonical frame: y runs 0 (top of the head) to 1 (the lowest point), down;
x = 0 at the median column (where the silhouette's mass passes half), in the
same unit. A `casiab64` frame is already in that form: y = row / 64,
x = (col - 32) / 64 (rows 0..63 hold the person, the median column is 32).

Contour: the outer outline (pixel centres, as cv2.findContours traces it) of
the largest connected part, holes ignored, counter-clockwise on screen (y
down: from the head top it runs down the left side, along the feet from left
to right, and up the right side), starting at the topmost point (ties: the one
nearest x = 0), resampled to N points in the "anchored-v1" layout (below).

Why anchors: plain arc length does not line body parts up between people or
poses (the inner legs are long in a stride and absent when the feet are
together, which shifts every later point), so a point-by-point blend folds
the outline. anchored-v1 cuts the outline at six anchors and spends a fixed
number of points on each piece, by arc length inside the piece:

    head top -> left knee level -> left foot -> crotch -> right foot
    -> right knee level -> (back to the head top)

- head top: the start point (topmost, nearest x = 0);
- left / right foot: the outline points in the bottom band (the lowest 10 %
  of the height) that reach furthest down-left / down-right (score y -+ x/2);
  with the feet together both sit on the corners of the one foot blob;
- crotch: the highest point of the outline between the two feet (on the
  sole, when the feet are together);
- knee level: where the outer side last comes down through y = 0.75 before
  the left foot, and first rises through it after the right foot. Hands, bags
  and coat hems above that level stay in the upper pieces, so the legs keep
  the same points whatever the arms do.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .errors import InputError

LAYOUT = "anchored-v1"

# Points per piece of the anchored-v1 layout, in outline order (see the module
# docstring); they sum to N_POINTS. Each piece gets about one point per pixel
# of its 90th-percentile length on a median CASIA-B outline (184 px of
# pixel-centre arc length; shares measured by `scripts/measure_codec.py
# --layout-shares`), so even a wide stride's inner legs are sampled densely.
SEGMENT_POINTS: tuple[int, ...] = (76, 24, 28, 28, 24, 76)
# N = 256: a 64-px-high outline is 153-231 px long (5th-95th percentile), so
# 256 points keep at least one point per pixel step; more would only resample
# the same staircase (round-trip IoU per N: README "Contour codec").
N_POINTS = sum(SEGMENT_POINTS)

CASIAB_SIZE = 64
CASIAB_CENTRE_COL = 32
KNEE_LEVEL = 0.75  # canonical y of the knee-level anchors
FOOT_BAND = 0.10  # the feet are sought in the lowest 10 % of the height
FOOT_X_WEIGHT = 0.5  # how much sideways reach counts against depth for a foot
CROTCH_TIE = 0.02  # crotch candidates within 2 % of the height of the highest (about 1 px at 64)


@dataclass(frozen=True)
class CanonicalTransform:
    """image_xy = canonical_xy * scale + (x0, y0), image in pixel-index coordinates."""

    scale: float
    x0: float
    y0: float

    def to_image(self, points: np.ndarray) -> np.ndarray:
        return np.asarray(points, dtype=np.float64) * self.scale + (self.x0, self.y0)

    def to_canonical(self, points: np.ndarray) -> np.ndarray:
        return (np.asarray(points, dtype=np.float64) - (self.x0, self.y0)) / self.scale


CASIAB_TRANSFORM = CanonicalTransform(scale=float(CASIAB_SIZE), x0=float(CASIAB_CENTRE_COL), y0=0.0)


def segment_points(n: int) -> tuple[int, ...]:
    """The layout's points per piece for n points in all, in proportion to SEGMENT_POINTS."""
    if n < 2 * len(SEGMENT_POINTS):
        raise ValueError(f"a contour needs at least {2 * len(SEGMENT_POINTS)} points, got {n}")
    counts = [max(1, round(c * n / N_POINTS)) for c in SEGMENT_POINTS]
    counts[0] += n - sum(counts)  # the rounding remainder goes to the first (longest) piece
    return tuple(counts)


# --- mask -> outline -----------------------------------------------------------------


def largest_outline(mask: np.ndarray) -> np.ndarray:
    """The outer outline (M, 2) int (x, y) of the mask's largest connected part, holes ignored."""
    binary = np.ascontiguousarray(mask, dtype=np.uint8)
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        raise InputError("The mask is empty, so there is no outline to encode.")
    if len(contours) > 1:
        binary = _largest_component(binary)
        contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    return contours[0][:, 0, :]


def _largest_component(binary: np.ndarray) -> np.ndarray:
    # 8-connectivity, the same as findContours' outer borders.
    _, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return (labels == biggest).astype(np.uint8)


def median_column(mask: np.ndarray) -> int:
    """The column where the silhouette's mass passes half (the CASIA-B centring rule)."""
    cumulative = np.cumsum(np.count_nonzero(mask, axis=0))
    return int(np.searchsorted(cumulative, cumulative[-1] / 2.0))


def canonical_outline(outline: np.ndarray) -> np.ndarray:
    """Orient a closed outline (canonical coordinates) counter-clockwise on screen, starting at the top.

    The start is the topmost point; ties go to the one nearest x = 0.
    """
    points = np.asarray(outline, dtype=np.float64)
    if signed_area(points) > 0:  # clockwise on screen (y down): reverse
        points = points[::-1]
    top = points[:, 1].min()
    ties = np.flatnonzero(points[:, 1] <= top + 1e-9)
    start = ties[np.argmin(np.abs(points[ties, 0]))]
    return np.roll(points, -start, axis=0)


def signed_area(points: np.ndarray) -> float:
    """Shoelace area; negative means counter-clockwise on screen (y down)."""
    x, y = points[:, 0], points[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


# --- the anchored layout -----------------------------------------------------------------


def layout_anchors(points: np.ndarray) -> np.ndarray:
    """Indices of the six anchors of anchored-v1 on a canonical outline, plus len(points) to close it.

    `points` starts at the head top and runs counter-clockwise on screen.
    The result is non-decreasing, so every piece has a length >= 0.
    """
    m = len(points)
    x, y = points[:, 0], points[:, 1]
    height = max(float(y.max() - y[0]), 1e-9)
    in_band = np.flatnonzero(y >= y.max() - FOOT_BAND * height)
    left_foot = in_band[np.argmax(y[in_band] - FOOT_X_WEIGHT * x[in_band])]
    right_foot = in_band[np.argmax(y[in_band] + FOOT_X_WEIGHT * x[in_band])]
    left_foot, right_foot = sorted((int(left_foot), int(right_foot)))
    crotch = _crotch(y, left_foot, right_foot, height)
    knee_y = y[0] + KNEE_LEVEL * height
    above_left = np.flatnonzero(y[: left_foot + 1] <= knee_y)
    left_knee = int(above_left[-1])  # index 0 (head top) always qualifies
    above_right = np.flatnonzero(y[right_foot:] <= knee_y)
    right_knee = right_foot + int(above_right[0]) if above_right.size else m
    return np.array([0, left_knee, left_foot, crotch, right_foot, right_knee, m])


def _crotch(y: np.ndarray, left_foot: int, right_foot: int, height: float) -> int:
    """The highest outline point between the feet; near-ties go to the middle of the stretch.

    With the feet together the stretch is a flat sole: the middle keeps the
    points spread evenly instead of bunching them at one foot.
    """
    between = y[left_foot : right_foot + 1]
    near_top = np.flatnonzero(between <= between.min() + CROTCH_TIE * height)
    middle = (right_foot - left_foot) / 2.0
    return left_foot + int(near_top[np.argmin(np.abs(near_top - middle))])


def resample_anchored(points: np.ndarray, n: int = N_POINTS) -> np.ndarray:
    """Resample a canonical outline (M, 2) to the anchored-v1 layout: (n, 2) float64."""
    closed = np.vstack([points, points[:1]])
    steps = np.hypot(*np.diff(closed, axis=0).T)
    arc = np.concatenate([[0.0], np.cumsum(steps)])
    anchor_arc = arc[layout_anchors(points)]
    targets = np.concatenate(
        [
            start + (end - start) * np.arange(count) / count
            for start, end, count in zip(anchor_arc[:-1], anchor_arc[1:], segment_points(n))
        ]
    )
    return np.column_stack([np.interp(targets, arc, closed[:, 0]), np.interp(targets, arc, closed[:, 1])])


def encode_mask(mask: np.ndarray, transform: CanonicalTransform, n: int = N_POINTS) -> np.ndarray:
    """The mask's largest part as n canonical points (float64) in the frame of `transform`."""
    outline = transform.to_canonical(largest_outline(mask))
    return resample_anchored(canonical_outline(outline), n)


# --- points -> mask -------------------------------------------------------------------------

_FILL_SHIFT = 4  # sub-pixel bits for cv2.fillPoly: 1/16 pixel


def contour_to_mask(points: np.ndarray, transform: CanonicalTransform, shape: tuple[int, int]) -> np.ndarray:
    """Fill the canonical contour, mapped to the image by `transform`, into a bool mask of `shape`."""
    image = transform.to_image(points)
    fixed = np.round(image * (1 << _FILL_SHIFT)).astype(np.int32)
    canvas = np.zeros(shape[:2], dtype=np.uint8)
    cv2.fillPoly(canvas, [fixed], 1, lineType=cv2.LINE_8, shift=_FILL_SHIFT)
    return canvas.astype(bool)


# --- CASIA-B frames (training) ------------------------------------------------------------------


def encode_casiab(silhouettes: np.ndarray, n: int = N_POINTS) -> np.ndarray:
    """CASIA-B frames (T, 64, 64) bool -> canonical contours (T, n, 2) float32."""
    frames = np.asarray(silhouettes)
    if frames.ndim != 3 or frames.shape[1:] != (CASIAB_SIZE, CASIAB_SIZE):
        raise ValueError(f"expected CASIA-B frames of shape (T, 64, 64), got {frames.shape}")
    out = np.empty((len(frames), n, 2), dtype=np.float32)
    for t, frame in enumerate(frames):
        try:
            out[t] = encode_mask(frame, CASIAB_TRANSFORM, n)
        except InputError as error:
            raise InputError(f"CASIA-B frame {t} is empty, so it has no outline to encode.") from error
    return out


def decode_casiab(points: np.ndarray) -> np.ndarray:
    """Canonical contours (T, N, 2) -> filled CASIA-B frames (T, 64, 64) bool."""
    contours = np.asarray(points)
    if contours.ndim != 3 or contours.shape[2] != 2:
        raise ValueError(f"expected contours of shape (T, N, 2), got {contours.shape}")
    shape = (CASIAB_SIZE, CASIAB_SIZE)
    return np.stack([contour_to_mask(c, CASIAB_TRANSFORM, shape) for c in contours]) if len(contours) else np.zeros(
        (0, *shape), dtype=bool
    )


# --- quality checks -------------------------------------------------------------------------------

_CROSS_EPS = 1e-12  # cross products below this count as collinear (float32 inputs, unit ~1)


def self_intersects(points: np.ndarray) -> bool:
    """True when two non-adjacent edges of the closed polygon properly cross.

    Touching and collinear overlap (a one-pixel-wide limb traced out and back)
    are not crossings: they do not fold the filled shape.
    """
    p = np.asarray(points, dtype=np.float64)
    a, b = p, np.roll(p, -1, axis=0)
    side_ab = _sides(a, b, a[None, :, :], b[None, :, :])  # [i, j]: sides of edge j's ends w.r.t. edge i
    crossing = (side_ab < 0) & (side_ab.T < 0)
    n = len(p)
    i, j = np.triu_indices(n, k=2)
    adjacent = (i == 0) & (j == n - 1)
    return bool(np.any(crossing[i[~adjacent], j[~adjacent]]))


def _sides(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """sign(cross(b-a, c-a)) * sign(cross(b-a, d-a)) for every edge ab (rows) and points c, d (columns)."""
    ab = (b - a)[:, None, :]
    return _sign(_cross(ab, c - a[:, None, :])) * _sign(_cross(ab, d - a[:, None, :]))


def _cross(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]


def _sign(values: np.ndarray) -> np.ndarray:
    return np.where(values > _CROSS_EPS, 1, np.where(values < -_CROSS_EPS, -1, 0))
