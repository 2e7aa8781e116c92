"""The contour codec of DESIGN.md: silhouette mask <-> canonical contour of N points.

Canonical frame: y runs 0 (top of the head) to 1 (the lowest point), down;
x = 0 at the median column (where the silhouette's mass passes half), in the
same unit. A `casiab64` frame is already in that form: the pixel centre of
row r, column c is at y = r / 64, x = (c - 32) / 64 (rows 0..63 hold the
person, the median column is 32; checked on the data by
scripts/measure_codec.py).

Contour: the outer outline of the largest connected part (8-connected),
holes ignored, traced a quarter pixel outside the pixel centres (see
`largest_outline`), counter-clockwise on screen (y down: from the head top it
runs down the left side, along the feet from left to right, and up the right
side), starting at the topmost point nearest x = 0, resampled to N points in
the "anchored-v2" layout.

Why anchors: plain arc length does not line body parts up between people or
poses (the inner legs are long in a stride and absent when the feet are
together, an arm held out adds a detour), which shifts every later point, so
a point-by-point blend folds the outline. anchored-v2 cuts the outline at
eight anchors and spends a fixed number of points on each piece, by arc
length inside the piece:

    head top -> left reach -> left knee level -> left foot -> crotch
    -> right foot -> right knee level -> right reach -> (head top)

- head top: the start point;
- reach: the outline point furthest left (right) between 20 % and 65 % of
  the height on that side: a hand, an elbow, a bag, the back or the belly;
- knee level: where the outer side last comes down through 75 % of the
  height before the left foot, and first rises through it after the right
  foot, so the legs keep the same points whatever the arms, bags and coat
  hems above do;
- left / right foot: the outline points in the lowest 10 % of the height
  that reach furthest down-left / down-right (score y -+ x/2); with the feet
  together both sit on the corners of the one foot blob;
- crotch: the highest outline point between the feet (with the feet
  together, the middle of the sole).
A half-way blend of two people's contours self-intersects far less often in
this layout than in plain arc length (figures in README "Contour codec").
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage

from ..errors import GaitanonError, InputError
from .casiab import half_mass_column

LAYOUT = "anchored-v2"
ARC_LENGTH = "arc-length"  # the plain layout of DESIGN.md, kept for comparison and for manifests that name it
LAYOUTS = (LAYOUT, ARC_LENGTH)
ANCHOR_NAMES = (
    "head_top", "left_reach", "left_knee", "left_foot", "crotch", "right_foot", "right_knee", "right_reach"
)

# Points per piece of the anchored layout, in outline order (see the module
# docstring); they sum to N_POINTS and are mirror-symmetric. Each piece gets
# about one point per pixel of its 90th-percentile share of a median CASIA-B
# outline (186 px), scaled to 256 (shares: `scripts/measure_codec.py`), so
# even a wide stride's inner legs are sampled densely.
SEGMENT_POINTS: tuple[int, ...] = (44, 36, 22, 26, 26, 22, 36, 44)
# N = 256: a 64-px-high outline is about 150-230 px long, so 256 points keep
# at least one point per pixel step; more would only resample the same
# staircase (round-trip IoU per N: README "Contour codec").
N_POINTS = sum(SEGMENT_POINTS)

CASIAB_SIZE = 64
TRACE_SCALE = 2  # outlines are traced on the mask enlarged 2x (see largest_outline)
OUTLINE_OUTSET = 0.25  # so they run this many pixels outside the pixel centres
CASIAB_CENTRE_COL = 32
KNEE_LEVEL = 0.75  # share of the height at the knee-level anchors
REACH_BAND = (0.20, 0.65)  # share of the height where the reach anchors are sought (arms, bags)
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


def anchor_indices(n: int = N_POINTS) -> dict[str, int]:
    """Where each anchor sits in an n-point contour, e.g. {"left_foot": 102, ...} at N = 256.

    The layout is mirror-symmetric at N = 256: reversing the point order after
    the start (i -> -i mod N) maps each anchor onto its mirror anchor.
    """
    starts = np.concatenate([[0], np.cumsum(segment_points(n))[:-1]])
    return dict(zip(ANCHOR_NAMES, (int(i) for i in starts)))


def segment_points(n: int) -> tuple[int, ...]:
    """The layout's points per piece for n points in all, in proportion to SEGMENT_POINTS."""
    if n < 2 * len(SEGMENT_POINTS):
        raise ValueError(f"a contour needs at least {2 * len(SEGMENT_POINTS)} points, got {n}")
    counts = [max(1, round(c * n / N_POINTS)) for c in SEGMENT_POINTS]
    counts[0] += n - sum(counts)  # the rounding remainder goes to the first (longest) piece
    return tuple(counts)


# --- mask -> outline -----------------------------------------------------------------


def largest_outline(mask: np.ndarray) -> np.ndarray:
    """The outer outline (M, 2) float (x, y) of the mask's largest connected part, holes ignored.

    Traced on the mask enlarged 2x (nearest), so the outline runs a quarter
    pixel outside the pixel centres (OUTLINE_OUTSET). Traced through the centres
    themselves, a one-pixel-wide strand is an out-and-back path of zero width,
    and resampling it makes crossing chords; at 2x it has a width.
    """
    crop, left, top = _cropped(mask)
    contours = _outer_contours(crop)
    if len(contours) > 1:  # a detached bag or hand (under 10 % of frames): label only then, it costs more
        contours = _outer_contours(_largest_component(crop))
    return contours[0][:, 0, :] / TRACE_SCALE + (left - OUTLINE_OUTSET, top - OUTLINE_OUTSET)


def _cropped(mask: np.ndarray) -> tuple[np.ndarray, int, int]:
    """The mask (as uint8) cut to the box of its pixels, and the box's left and top."""
    binary = np.ascontiguousarray(mask, dtype=np.uint8)
    left, top, width, height = cv2.boundingRect(binary)
    if width == 0:
        raise InputError("The mask is empty, so there is no outline to encode.")
    return binary[top : top + height, left : left + width], left, top


def _outer_contours(binary: np.ndarray) -> list[np.ndarray]:
    enlarged = cv2.resize(binary, None, fx=TRACE_SCALE, fy=TRACE_SCALE, interpolation=cv2.INTER_NEAREST)
    contours, _ = cv2.findContours(enlarged, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    return contours


def _largest_component(binary: np.ndarray) -> np.ndarray:
    # 8-connectivity, the same as findContours' outer borders.
    _, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return (labels == biggest).astype(np.uint8)


def median_column(mask: np.ndarray) -> int:
    """The column where the silhouette's mass passes half (the CASIA-B centring rule) of a mask."""
    return half_mass_column(np.count_nonzero(mask, axis=0))


def canonical_outline(outline: np.ndarray) -> np.ndarray:
    """Orient a closed outline (canonical coordinates) counter-clockwise on screen, starting at the top.

    The start is the topmost point nearest x = 0; where a top edge crosses
    x = 0 the start is put exactly there, so that a mirrored outline starts
    at the mirrored point.
    """
    points = np.asarray(outline, dtype=np.float64)
    if signed_area(points) > 0:  # clockwise on screen (y down): reverse
        points = points[::-1]
    top = points[:, 1].min()
    ties = np.flatnonzero(points[:, 1] <= top + 1e-9)
    start = int(ties[np.argmin(np.abs(points[ties, 0]))])
    for before in (start, start - 1):  # the edges leaving and reaching the start
        a, b = points[before % len(points)], points[(before + 1) % len(points)]
        if a[1] <= top + 1e-9 and b[1] <= top + 1e-9 and a[0] * b[0] < 0:
            points = np.concatenate([points[: before + 1], [(0.0, top)], points[before + 1 :]])
            start = before + 1
            break
    return np.concatenate([points[start:], points[:start]])


def signed_area(points: np.ndarray) -> float:
    """Shoelace area; negative means counter-clockwise on screen (y down)."""
    x, y = points[:, 0], points[:, 1]
    wrap = x[-1] * y[0] - x[0] * y[-1]
    return 0.5 * float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]) + wrap)


def centroid_x(points: np.ndarray) -> float:
    """The x of a closed outline's centre of area (its vertices' mean where it encloses none)."""
    area = signed_area(points)
    x, y = points[:, 0], points[:, 1]
    if abs(area) < 1e-12:
        return float(x.mean())
    xn = np.roll(x, -1)
    return float(((x + xn) * (x * np.roll(y, -1) - xn * y)).sum() / (6.0 * area))


def placed_like(original: np.ndarray, anonymized: np.ndarray) -> np.ndarray:
    """`anonymized` moved sideways, not reshaped, so that its centre of area across is the `original`'s. The
    network reshapes a body as CASIA-B's crop shows it, centred, and gives it back centred: fed one a little off
    the centre (a frame's smoothed place a few pixels from its measured one), it drew the body displaced by most
    of that (vtest's first 20 s: by 0.75 of it, 3 % of the height on average, up to a third of a small walker's
    width, where a person detector no longer found them on their place). A recogniser centres the silhouette it
    reads, so the place is no part of the anonymity. (Moving the feet onto the original's too kept less of the
    person detector's confidence, README "Several people".)"""
    points = np.asarray(anonymized, np.float64)
    shift = centroid_x(np.asarray(original, np.float64)) - centroid_x(points)
    return (points + (shift, 0.0)).astype(np.asarray(anonymized).dtype)


# --- the anchored layout -----------------------------------------------------------------


def layout_anchors(points: np.ndarray) -> np.ndarray:
    """Positions (fractional indices) of the eight anchors on a canonical outline, then len(points).

    `points` starts at the head top and runs counter-clockwise on screen. The
    result is non-decreasing, so every piece has a length >= 0. Ties are broken
    so that the mirrored outline (x -> -x) gets the mirrored anchors: on the
    left the last of the tied points wins, on the right the first, and a
    crotch tied on both sides of the middle sits in the middle.
    """
    m = len(points)
    x, y = points[:, 0], points[:, 1]
    height = max(float(y.max() - y[0]), 1e-9)
    in_band = np.flatnonzero(y >= y.max() - FOOT_BAND * height)
    left_foot = int(in_band[_last_argmax(y[in_band] - FOOT_X_WEIGHT * x[in_band])])
    right_foot = int(in_band[np.argmax(y[in_band] + FOOT_X_WEIGHT * x[in_band])])
    left_foot, right_foot = sorted((left_foot, right_foot))
    crotch = _crotch(y, left_foot, right_foot, height)
    knee_y = y[0] + KNEE_LEVEL * height
    above_left = np.flatnonzero(y[: left_foot + 1] <= knee_y)
    left_knee = int(above_left[-1])  # index 0 (head top) always qualifies
    above_right = np.flatnonzero(y[right_foot:] <= knee_y)
    right_knee = right_foot + int(above_right[0]) if above_right.size else m
    reach_y = y[0] + np.array(REACH_BAND) * height
    left_side = np.flatnonzero((y[: left_knee + 1] >= reach_y[0]) & (y[: left_knee + 1] <= reach_y[1]))
    left_reach = int(left_side[_last_argmax(-x[left_side])]) if left_side.size else left_knee
    right_side = right_knee + np.flatnonzero((y[right_knee:] >= reach_y[0]) & (y[right_knee:] <= reach_y[1]))
    right_reach = int(right_side[np.argmax(x[right_side])]) if right_side.size else right_knee
    return np.array(
        [0, left_reach, left_knee, left_foot, crotch, right_foot, right_knee, right_reach, m], dtype=np.float64
    )


def _last_argmax(values: np.ndarray) -> int:
    return len(values) - 1 - int(np.argmax(values[::-1]))


def _crotch(y: np.ndarray, left_foot: int, right_foot: int, height: float) -> float:
    """The highest outline point between the feet; near-ties go to the one nearest the middle of the stretch.

    With the feet together the stretch is a flat sole: the middle keeps the
    points spread evenly instead of bunching them at one foot.
    """
    between = y[left_foot : right_foot + 1]
    near_top = np.flatnonzero(between <= between.min() + CROTCH_TIE * height)
    middle = (right_foot - left_foot) / 2.0
    distance = np.abs(near_top - middle)
    nearest = near_top[distance <= distance.min() + 1e-9]
    return left_foot + (nearest[0] + nearest[-1]) / 2.0  # two equally near, one each side: the middle itself


def resample(points: np.ndarray, n: int = N_POINTS, layout: str = LAYOUT) -> np.ndarray:
    """Resample a canonical outline (M, 2), started and oriented, to n points of `layout`: (n, 2) float64.

    Inside each piece the points are spaced evenly by arc length; each piece
    starts at its anchor and stops short of the next one.
    """
    if layout == LAYOUT:
        anchors = layout_anchors(points)
    elif layout == ARC_LENGTH:
        anchors = np.array([0.0, len(points)])
    else:
        raise ValueError(f"unknown contour layout {layout!r}; known: {', '.join(LAYOUTS)}")
    piece, share = _piece_positions(n, len(anchors) - 1)
    closed = np.vstack([points, points[:1]])
    arc = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(closed, axis=0).T))])
    anchor_arc = np.interp(anchors, np.arange(len(arc)), arc)
    targets = anchor_arc[piece] + (anchor_arc[piece + 1] - anchor_arc[piece]) * share
    return np.column_stack([np.interp(targets, arc, closed[:, 0]), np.interp(targets, arc, closed[:, 1])])


@functools.lru_cache(maxsize=32)
def _piece_positions(n: int, pieces: int) -> tuple[np.ndarray, np.ndarray]:
    """For each of n points: its piece and its share (0 <= share < 1) of that piece's arc length."""
    counts = segment_points(n) if pieces == len(SEGMENT_POINTS) else (n,)
    piece = np.repeat(np.arange(len(counts)), counts)
    share = np.concatenate([np.arange(c) / c for c in counts])
    return piece, share


def encode_mask(mask: np.ndarray, transform: CanonicalTransform, n: int = N_POINTS, layout: str = LAYOUT) -> np.ndarray:
    """The mask's largest part as n canonical points (float64) in the frame of `transform`."""
    outline = transform.to_canonical(largest_outline(mask))
    return resample(canonical_outline(outline), n, layout)


# --- points -> mask -------------------------------------------------------------------------

_FILL_SHIFT = 4  # sub-pixel bits for cv2.fillPoly: 1/16 pixel


def contour_to_mask(
    points: np.ndarray, transform: CanonicalTransform, shape: tuple[int, ...], outline_rows: int | None = None
) -> np.ndarray:
    """Fill the canonical contour, mapped to the image by `transform`, into a bool mask of `shape`.

    Contours run a quarter pixel outside the pixel centres, and the body they
    came from reaches half a pixel beyond them. Drawn at the resolution they
    were traced at, the fill covers that (it takes every pixel whose centre is
    inside). A coarse contour (`outline_rows=64`: traced on a 64-row grid, as
    the network's are) drawn bigger is grown by the rest of that half grid
    pixel, so the mask keeps the body's width.
    """
    image = transform.to_image(points)
    if not np.isfinite(image).all():
        raise GaitanonError("The outline to draw has invalid (not finite) points.")
    fixed = np.round(image * (1 << _FILL_SHIFT)).astype(np.int32)
    canvas = np.zeros(shape[:2], dtype=np.uint8)
    cv2.fillPoly(canvas, [fixed], 1, lineType=cv2.LINE_8, shift=_FILL_SHIFT)
    grow = 0 if outline_rows is None else round((0.5 - OUTLINE_OUTSET) * transform.scale / outline_rows - 0.5)
    if grow > 0:
        canvas = cv2.dilate(canvas, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
    return canvas.astype(bool)


# --- CASIA-B frames (training) ------------------------------------------------------------------


def encode_casiab(silhouettes: np.ndarray, n: int = N_POINTS, layout: str = LAYOUT) -> np.ndarray:
    """CASIA-B frames (T, 64, 64) bool -> canonical contours (T, n, 2) float32."""
    frames = np.asarray(silhouettes)
    if frames.ndim != 3 or frames.shape[1:] != (CASIAB_SIZE, CASIAB_SIZE):
        raise ValueError(f"expected CASIA-B frames of shape (T, 64, 64), got {frames.shape}")
    out = np.empty((len(frames), n, 2), dtype=np.float32)
    for t, frame in enumerate(frames):
        try:
            out[t] = encode_mask(frame, CASIAB_TRANSFORM, n, layout)
        except InputError as error:
            raise InputError(f"CASIA-B frame {t} is empty, so it has no outline to encode.") from error
    return out


def decode_casiab(points: np.ndarray) -> np.ndarray:
    """Canonical contours (T, N, 2) -> filled CASIA-B frames (T, 64, 64) bool."""
    contours = np.asarray(points)
    if contours.ndim != 3 or contours.shape[2] != 2:
        raise ValueError(f"expected contours of shape (T, N, 2), got {contours.shape}")
    out = np.empty((len(contours), CASIAB_SIZE, CASIAB_SIZE), dtype=bool)
    for t, contour in enumerate(contours):
        out[t] = contour_to_mask(contour, CASIAB_TRANSFORM, out.shape[1:])
    return out


# --- full-resolution masks (run time) ------------------------------------------------------------


def mask_to_contour(
    mask: np.ndarray,
    n: int = N_POINTS,
    transform: CanonicalTransform | None = None,
    layout: str = LAYOUT,
) -> tuple[np.ndarray, CanonicalTransform]:
    """A full-resolution mask -> (n canonical points, the transform back to the image).

    The mask is first brought to the detail of a CASIA-B frame, as that
    dataset was made (the rows of all its parts cropped, area-resized to 64
    rows, centred on the median column), because the network never saw finer
    outlines: the points are the ones `encode_casiab` would give for that
    64-row frame (the largest part's outline). `transform=None` measures the
    frame's own canonical transform; pass one (e.g. from `smooth_transforms`)
    to express the outline in that frame instead.
    """
    crop, left, top = _cropped(mask)
    factor = CASIAB_SIZE / (transform.scale if transform else crop.shape[0])  # image px -> grid px
    grid = _area_resize(crop, factor)
    if transform is None:
        transform = _grid_to_image(median_column(grid), factor, left, top)
    in_grid = CanonicalTransform(
        scale=transform.scale * factor,
        x0=(transform.x0 - left + 0.5) * factor - 0.5,
        y0=(transform.y0 - top + 0.5) * factor - 0.5,
    )
    return encode_mask(grid, in_grid, n, layout), transform


def _grid_to_image(centre_col: int, factor: float, left: int, top: int) -> CanonicalTransform:
    """The canonical transform of a 64-row grid made from the crop at (left, top) scaled by `factor`.

    Grid pixel g covers image pixels [g / f, (g + 1) / f) of the crop, so its
    centre is at image index (g + 0.5) / f - 0.5: the grid's top row and its
    median column land on canonical y = 0 and x = 0, as in a CASIA-B frame.
    """
    return CanonicalTransform(
        scale=CASIAB_SIZE / factor,
        x0=left + (centre_col + 0.5) / factor - 0.5,
        y0=top + 0.5 / factor - 0.5,
    )


def _area_resize(crop: np.ndarray, factor: float) -> np.ndarray:
    """Resize a 0/1 crop by `factor` with pixel-area averaging and keep the pixels at least half covered."""
    coverage = cv2.resize(crop.astype(np.float32), None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    grid = coverage >= 0.5
    return grid if grid.any() else coverage > 0  # a sliver thinner than half a grid pixel still has an outline


def detailed_contour(
    mask: np.ndarray, transform: CanonicalTransform, n: int = N_POINTS, layout: str = LAYOUT
) -> np.ndarray:
    """The full-resolution outline in the frame of `transform`, in the layout with k * n points.

    k is the smallest whole number that keeps about one point per image pixel
    of outline. Point k * i lies where point i of the n-point contour lies (same
    anchors, same arc-length share of its piece), which is what lets
    `restore_detail` move the fine outline with the network's coarse points.
    """
    outline = canonical_outline(transform.to_canonical(largest_outline(mask)))
    perimeter_px = transform.scale * float(np.hypot(*np.diff(np.vstack([outline, outline[:1]]), axis=0).T).sum())
    k = max(1, int(np.ceil(perimeter_px / n)))
    return resample(outline, k * n, layout)


def restore_detail(fine: np.ndarray, original: np.ndarray, anonymized: np.ndarray) -> np.ndarray:
    """Move the fine outline (k * N points) by the network's per-point displacement (N points), all canonical.

    The displacement anonymized - original is interpolated along the outline,
    so the full-resolution detail (fingers, hair, clothes) rides on the new
    shape instead of being lost to the 64-row level.
    """
    n = len(original)
    if len(anonymized) != n or len(fine) % n:
        raise ValueError(
            f"expected k * {n} fine points and {n} anonymized points, got {len(fine)} and {len(anonymized)}"
        )
    k = len(fine) // n
    shift = np.asarray(anonymized, np.float64) - np.asarray(original, np.float64)
    position = np.arange(len(fine)) / k  # fractional index into the coarse contour
    wrapped = np.vstack([shift, shift[:1]])  # the outline is closed
    steps = np.arange(n + 1)
    moved = np.column_stack([np.interp(position, steps, wrapped[:, 0]), np.interp(position, steps, wrapped[:, 1])])
    return np.asarray(fine, np.float64) + moved


# --- the transform over time -----------------------------------------------------------------------

SMOOTH_SIGMA_FRAMES = 6.0  # about half a step at 25 fps: smooths the sway of each step
SLOPE_WIDENING = 2.0  # the speed used past the ends is fitted over a wider window (a one-sided fit sways)


def smooth_transforms(
    transforms: list[CanonicalTransform | None], whole: list[bool], sigma: float = SMOOTH_SIGMA_FRAMES
) -> list[CanonicalTransform]:
    """One full-body transform per frame, smoothed over time, for every frame of a clip.

    Only the frames where the whole body is seen (`whole[i]` and a transform)
    measure the body's size and place; each is replaced by a Gaussian-weighted
    local linear fit over its neighbours (no bobbing from the per-frame crop).
    Frames between them (cut by the edge, occluded, missing) get the straight
    line between the nearest fitted whole-body frames; frames before the first
    or after the last one continue the walk at the fitted speed with the size
    held (a cut-off body never measures its own size).
    """
    if len(transforms) != len(whole):
        raise ValueError(f"got {len(transforms)} transforms but {len(whole)} whole-body flags")
    seen = np.array([i for i, (t, w) in enumerate(zip(transforms, whole)) if w and t is not None])
    if not seen.size:
        raise InputError("No frame shows the whole body, so its size and position cannot be estimated.")
    values = np.array([[transforms[i].scale, transforms[i].x0, transforms[i].y0] for i in seen], dtype=np.float64)
    fitted, _ = _local_linear(seen, values, sigma)
    _, slope = _local_linear(seen, values, SLOPE_WIDENING * sigma)
    frames = np.arange(len(transforms), dtype=np.float64)
    track = np.column_stack([np.interp(frames, seen, fitted[:, j]) for j in range(3)])
    before, after = frames < seen[0], frames > seen[-1]
    track[before, 1:] += np.outer(frames[before] - seen[0], slope[0, 1:])
    track[after, 1:] += np.outer(frames[after] - seen[-1], slope[-1, 1:])
    return [CanonicalTransform(scale=float(s), x0=float(x), y0=float(y)) for s, x, y in track]


def _local_linear(times: np.ndarray, values: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian-weighted local linear fit at each observed frame: (fitted values, slopes), each (K, D).

    `times` are whole frame numbers; the weighted sums are running sums over
    a +-4 sigma window, so a long clip costs time and memory in proportion
    to its length.
    """
    radius = int(np.ceil(4 * sigma))
    offset = np.arange(-radius, radius + 1, dtype=np.float64)
    gauss = np.exp(-0.5 * (offset / sigma) ** 2)
    present = np.zeros(int(times[-1]) + 1)
    present[times] = 1.0
    dense = np.zeros((len(present), values.shape[1]))
    dense[times] = values

    def window_sum(signal: np.ndarray, power: int) -> np.ndarray:  # sum of w(d) d^power signal(t + d)
        return ndimage.correlate1d(signal, gauss * offset**power, axis=0, mode="constant")[times]

    s0, s1, s2 = (window_sum(present, k)[:, None] for k in range(3))
    sy, sty = window_sum(dense, 0), window_sum(dense, 1)
    det = s0 * s2 - s1**2
    flat = det <= 1e-9 * s0**2  # a lone observation: no slope to fit
    safe = np.where(flat, 1.0, det)
    fitted = np.where(flat, sy / s0, (s2 * sy - s1 * sty) / safe)
    slope = np.where(flat, 0.0, (s0 * sty - s1 * sy) / safe)
    return fitted, slope


# --- quality checks -------------------------------------------------------------------------------

_CROSS_EPS = 1e-12  # cross products below this count as collinear (float32 inputs, unit ~1)


def self_intersects(points: np.ndarray) -> bool:
    """True when two non-adjacent edges of the closed polygon properly cross.

    Touching and collinear overlap (a one-pixel-wide limb traced out and back)
    are not crossings: they do not fold the filled shape. Only edge pairs
    whose bounding boxes overlap are tested (a few percent of all pairs).
    """
    start = np.asarray(points, dtype=np.float64)
    end = np.concatenate([start[1:], start[:1]])
    low, high = np.minimum(start, end), np.maximum(start, end)
    i, j = _edge_pairs(len(start))
    boxes_meet = ((low[i, 0] <= high[j, 0]) & (low[j, 0] <= high[i, 0])
                  & (low[i, 1] <= high[j, 1]) & (low[j, 1] <= high[i, 1]))
    i, j = i[boxes_meet], j[boxes_meet]
    j_straddles_i = _side(start[i], end[i], start[j]) * _side(start[i], end[i], end[j]) < 0
    i_straddles_j = _side(start[j], end[j], start[i]) * _side(start[j], end[j], end[i]) < 0
    return bool(np.any(j_straddles_i & i_straddles_j))


UNFOLD_KEEP = (0.85, 0.7, 0.55, 0.4)  # shares of the anonymizer's change tried, largest first


def unfolded(original: np.ndarray, anonymized: np.ndarray) -> np.ndarray:
    """The anonymized outline, or where it crosses itself (a fold: the network pushed one part of
    the body through another) the largest share of its change from the original in UNFOLD_KEEP
    that no longer crosses. Never less than the smallest share: a fold that stays is a flaw in
    one frame, an outline close to the original is a privacy leak."""
    if not self_intersects(anonymized):
        return anonymized
    change = anonymized - original
    for keep in UNFOLD_KEEP:
        candidate = original + keep * change
        if not self_intersects(candidate):
            return candidate.astype(anonymized.dtype)
    return anonymized


@functools.lru_cache(maxsize=8)
def _edge_pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (i < j) of edges of a closed n-gon that share no corner."""
    i, j = np.triu_indices(n, k=2)
    neighbours = (i == 0) & (j == n - 1)
    return i[~neighbours], j[~neighbours]


def _side(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """-1, 0 or +1: which side of the line a->b each point c lies on (0: on it)."""
    cross = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    return np.where(cross > _CROSS_EPS, 1, np.where(cross < -_CROSS_EPS, -1, 0))
