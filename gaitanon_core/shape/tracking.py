"""Silhouette -> contour over time: the look-ahead that smooths each frame's transform and
completes a body that is only partly in view, and the way back from an anonymized contour
to a full-resolution silhouette.

The masks run ahead of the pictures by `LOOKAHEAD_S` (masks only, cropped to the
person): the per-frame transform needs it to be smoothed, and a body entering
the picture is completed from the first frames that show it whole. A frame whose
person cannot be anonymized gets a `cover` (the region the route paints with the
background) and the reason, for the report.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache

import cv2
import numpy as np

from ..errors import InputError
from ..people.person_mask import Box
from ..people.silhouettes import FrameMask, at_edge
from ..report import BRIDGED, COVERED
from . import codec

__all__ = [
    "FrameShape", "MaskCrop", "anonymized_outlines", "anonymized_silhouette", "complete_shape", "complete_shapes",
    "measure_shape",
    "outline_pair", "texture_source", "track_shapes", "is_bridged", "LOST_BRIDGED", "LOST_COVERED",
]  # fmt: skip

LOOKAHEAD_S = 2.5  # how far the masks run ahead of the pictures (a body entering needs its first whole frames)
HISTORY_S = 2.5  # how far back whole-body frames are kept for smoothing and for completing a leaving body
STAND_IN_CANDIDATES = 30  # whole-body shapes tried when completing a partly visible body (about one gait cycle)
LOST_BRIDGED = ("the person was lost by the segmenter; their region is covered and a stand-in body drawn where "
                "their walk places them", BRIDGED)
LOST_COVERED = ("the person was lost by the segmenter; their region is covered", COVERED)
WALKER_DRIFT = 0.05  # body heights a walker may move per frame (a brisk walk is about 0.03 at 25 fps)
# A partly visible body's smoothed place is a line through the nearest whole-body frames; a moving camera (or a
# walker changing pace) leaves it behind, a body's width or more. It is moved onto what is visible when that is
# at least ANCHOR_MIN_VISIBLE of the whole body.
ANCHOR_MIN_VISIBLE = 0.25
ANCHOR_ROWS = 64  # the overlap is searched on the body drawn this many rows tall (as the network's grid)
# A body hidden behind someone is drawn whole from what shows of it: where that is less than this share of the
# stand-in (a piece the segmenter gave it from the person in front: the paper they hold, a shoe), its colours
# would fill a whole body (a white figure on vtest), so the piece is covered instead.
MIN_SEEN_SHARE = 0.3


class MaskCrop:
    """A bool mask kept as its bounding box only, its pixels packed eight to a byte (a clip's people hold one
    or more per person and frame, from the first pass to the last frame written: memory grows with the clip).

    `mask` unpacks a fresh, read-only (H, W) bool array on each access; `height`, `width`, `area`, `empty`,
    `box` and `full()` need no unpacked copy. Immutable."""

    __slots__ = ("top", "left", "shape", "height", "width", "area", "_bits")

    def __init__(self, top: int, left: int, mask: np.ndarray, shape: tuple[int, int]) -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.ndim != 2:
            raise ValueError(f"a mask crop is two-dimensional, not {mask.shape}")
        for name, value in (("top", int(top)), ("left", int(left)), ("shape", tuple(shape)),
                            ("height", mask.shape[0]), ("width", mask.shape[1]),
                            ("area", int(np.count_nonzero(mask))), ("_bits", np.packbits(mask, axis=None))):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value) -> None:
        raise AttributeError(f"a MaskCrop is immutable ({name})")

    def __repr__(self) -> str:
        return f"MaskCrop(top={self.top}, left={self.left}, size={self.height}x{self.width}, shape={self.shape})"

    def __reduce__(self):
        return MaskCrop, (self.top, self.left, self.mask, self.shape)

    @classmethod
    def of(cls, full: np.ndarray) -> MaskCrop:
        rows, cols = np.flatnonzero(full.any(axis=1)), np.flatnonzero(full.any(axis=0))
        if rows.size == 0:
            return cls(0, 0, np.zeros((0, 0), bool), full.shape)
        crop = full[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        return cls(int(rows[0]), int(cols[0]), crop, full.shape)

    @property
    def mask(self) -> np.ndarray:
        """The cropped (height, width) bool mask: a fresh, read-only array."""
        mask = np.unpackbits(self._bits, count=self.height * self.width).view(bool).reshape(self.height, self.width)
        mask.flags.writeable = False
        return mask

    @property
    def empty(self) -> bool:
        return self.height * self.width == 0

    @property
    def box(self) -> Box:
        return Box(self.left, self.top, self.left + self.width, self.top + self.height)

    def touches_edge(self) -> bool:
        """Whether the mask reaches (nearly: a segmenter may miss the last pixels) an edge of the frame."""
        return at_edge(self.box, self.shape)

    def full(self) -> np.ndarray:
        out = np.zeros(self.shape, bool)
        out[self.top : self.top + self.height, self.left : self.left + self.width] = self.mask
        return out


@dataclass
class FrameShape:
    """What the anonymizer and the colouring need to know about one frame's person."""

    index: int
    person: MaskCrop
    shadow: MaskCrop
    segmenter: str
    body: str
    people: int
    camera_moved: bool
    measured: codec.CanonicalTransform | None = None  # the frame's own transform (whole bodies only)
    own_contour: np.ndarray | None = None  # the whole body's contour in its own frame (a stand-in for others)
    transform: codec.CanonicalTransform | None = None  # smoothed full-body transform
    contour: np.ndarray | None = None  # what the network sees (N canonical points)
    detail: int = 0  # whole bodies: n of the full-resolution outline (`fine`), made from the mask when drawn
    cover: MaskCrop | None = None  # region to paint with the background when the person is not anonymized
    joined: MaskCrop | None = None  # motion no track followed that was joined to this person (part of `person`)
    issues: list[tuple[str, str]] = field(default_factory=list)  # (reason, action) for the report

    @property
    def fine(self) -> np.ndarray | None:
        """The full-resolution outline (k * n canonical points, `codec.detailed_contour`) of a whole body, same
        frame as `contour`; None for others. Made from the mask and the transform when asked for, not kept: a
        clip's shapes live from the first pass to the last frame written, and at 720p each would hold about
        20 KB more (the same outline each time: the mask and transform do not change)."""
        if not self.detail or self.transform is None:
            return None
        return _fine_outline(self.person, self.transform, self.detail)


@lru_cache(maxsize=32)  # a drawn frame asks twice (its silhouette, then the warp's pairs), and the colouring
# threads draw a few frames at once (pipeline/threads.py): their asks interleave; crops hash by identity
def _fine_outline(person: MaskCrop, transform: codec.CanonicalTransform, n: int) -> np.ndarray:
    """`codec.detailed_contour` of a whole body's mask (read-only)."""
    fine = codec.detailed_contour(person.full(), transform, n)
    fine.flags.writeable = False
    return fine


def measure_shape(mask: FrameMask, n: int) -> FrameShape:
    """Crop the masks and, for a whole body, measure its own transform and contour."""
    shape = FrameShape(index=mask.index, person=MaskCrop.of(mask.person), shadow=MaskCrop.of(mask.shadow),
                       segmenter=mask.segmenter, body=mask.body, people=mask.people, camera_moved=mask.camera_moved)
    if mask.body == "whole" and not shape.person.empty:
        try:
            shape.own_contour, shape.measured = codec.mask_to_contour(mask.person, n)
        except InputError:
            shape.body = "cut"  # too degenerate to measure: handled like a partly visible body
    return shape


def track_shapes(masks: Iterable[FrameMask], n: int, fps: float) -> Iterator[FrameShape]:
    """Per frame, the smoothed transform and the contour to anonymize, in order, with bounded look-ahead."""
    return complete_shapes((measure_shape(mask, n) for mask in masks), n, fps)


def complete_shapes(measured: Iterable[FrameShape], n: int, fps: float) -> Iterator[FrameShape]:
    """`track_shapes` on one person's measured frames (`measure_shape`), in order."""
    ahead = max(1, round(LOOKAHEAD_S * fps))
    behind = max(1, round(HISTORY_S * fps))
    window: deque[FrameShape] = deque()
    current = 0  # position in `window` of the next frame to finish
    for shape in measured:
        window.append(shape)
        if len(window) - current > ahead:
            yield complete_shape(window, current, n)
            current += 1
            if current > behind:
                window.popleft()
                current -= 1
    while current < len(window):
        yield complete_shape(window, current, n)
        current += 1


def complete_shape(window: deque[FrameShape], at: int, n: int) -> FrameShape:
    """Decide how frame `window[at]` is anonymized: its contour, or cover, or nothing to do."""
    shape = window[at]
    if shape.segmenter == "bridged":
        shape.issues.append(("the segmenter bridged this frame's mask from its neighbours", BRIDGED))
    if shape.person.empty:
        shape.cover = _lost_person_region(window, at)
        if shape.cover is not None:
            shape.issues.append(LOST_BRIDGED if _bridge_lost_person(window, at) else LOST_COVERED)
        return shape
    shape.transform = _smoothed_transform(window, at)
    if shape.transform is None:
        return _cover(shape, "no whole-body frame near enough to estimate the body's size and place")
    if shape.measured is not None:
        person = shape.person.full()
        shape.contour, _ = codec.mask_to_contour(person, n, transform=shape.transform)
        shape.detail = n  # the full-resolution outline is made when the frame is drawn (`FrameShape.fine`)
    else:
        shape.contour = _stand_in(window, at)
        if shape.contour is None:
            return _cover(shape, "the body is only partly in view and no whole-body frame is near")
        if shape.body == "occluded" and _seen_share(shape) < MIN_SEEN_SHARE:
            return _cover(shape, "too little of the person shows behind someone in front to draw their whole body")
    return shape


def _cover(shape: FrameShape, reason: str) -> FrameShape:
    shape.contour, shape.detail = None, 0
    shape.cover = shape.person
    shape.issues.append((reason, COVERED))
    return shape


def _bridge_lost_person(window: deque[FrameShape], at: int) -> bool:
    """Give a person the segmenter lost on frame `window[at]`, between frames that show them, a stand-in: the
    nearest whole body's contour where the smoothed walk places them (the line through the whole-body frames
    around it, or continued from the last of them). Anonymized and drawn over the covered region, it keeps a
    person in the picture where a cover left an empty patch (vtest: the small walkers the learned mask loses for
    a few frames). False, and nothing set, where no frame after this one shows them or the body would fall
    outside the frame."""
    frames = list(window)
    if None in _seen_around(frames, at):
        return False
    index = frames[at].index
    whole = min((s for s in frames if s.own_contour is not None), key=lambda s: abs(s.index - index), default=None)
    transform = _smoothed_transform(window, at)
    if whole is None or transform is None or not _placed(whole.own_contour, transform, frames[at]).any():
        return False
    frames[at].transform, frames[at].contour = transform, whole.own_contour
    return True


def texture_source(shape: FrameShape) -> np.ndarray:
    """(H, W) bool: where a drawn person's texture is taken from: their mask, or, for a stand-in bridging a
    lost frame (no mask), the stand-in where it lies on this frame (`is_bridged`)."""
    if not is_bridged(shape):
        return shape.person.full()
    return _placed(shape.contour, shape.transform, shape)


def is_bridged(shape: FrameShape) -> bool:
    """A stand-in drawn where the segmenter lost the person (`_bridge_lost_person`)."""
    return shape.person.empty and shape.contour is not None and shape.transform is not None


def _placed(contour: np.ndarray, transform: codec.CanonicalTransform, shape: FrameShape) -> np.ndarray:
    """(H, W) bool: a stand-in's 64-row `contour` placed on `shape`'s frame."""
    return codec.contour_to_mask(contour, transform, shape.person.shape, outline_rows=codec.CASIAB_SIZE)


def _smoothed_transform(window: deque[FrameShape], at: int) -> codec.CanonicalTransform | None:
    measured = [s.measured for s in window]
    try:
        return codec.smooth_transforms(measured, [t is not None for t in measured])[at]
    except InputError:  # no whole body anywhere in the window
        return None


def _stand_in(window: deque[FrameShape], at: int) -> np.ndarray | None:
    """The nearby whole body's contour that, placed on this frame, best matches what is visible.

    A body cut by the frame edge or occluded must never reach the network as if
    it were whole; the whole-body shape whose visible part overlaps the visible
    mask most keeps the walk's phase (legs apart or together) roughly right.
    The overlap is measured in a box one body height around the visible part,
    which holds any placed candidate, instead of the whole frame. None when no
    whole body is near, or none overlaps a body seen away from the edges.
    """
    shape = window[at]
    whole = sorted((s for s in window if s.own_contour is not None), key=lambda s: abs(s.index - shape.index))
    if whole:
        shape.transform = anchored(shape.person, shape.transform, whole[0].own_contour)
    visible, in_box = _placing(shape)
    best, best_iou = None, 0.0
    for candidate in whole[:STAND_IN_CANDIDATES]:
        placed = codec.contour_to_mask(candidate.own_contour, in_box, visible.shape)
        union = np.count_nonzero(placed | visible)
        iou = np.count_nonzero(placed & visible) / union if union else 0.0
        if iou > best_iou:
            best, best_iou = candidate.own_contour, iou
    if best is None and whole and shape.person.touches_edge():
        # A sliver entering or leaving that no placed shape meets (the extrapolated place is a few
        # pixels off): the nearest whole body still stands in; the band removes the sliver itself.
        best = whole[0].own_contour
    return best


def _placing(shape: FrameShape) -> tuple[np.ndarray, codec.CanonicalTransform]:
    """(the visible mask in a box one body height around it, inside the frame; the shape's transform in that
    box): where a placed whole body is compared with what is visible."""
    top, left, bottom, right = grown_box(shape.person, shape.transform.scale)
    in_box = codec.CanonicalTransform(shape.transform.scale, shape.transform.x0 - left, shape.transform.y0 - top)
    return shape.person.full()[top:bottom, left:right], in_box


def _seen_share(shape: FrameShape) -> float:
    """The share of the stand-in (`shape.contour`), placed on this frame, that the visible mask shows."""
    visible, in_box = _placing(shape)
    placed = codec.contour_to_mask(shape.contour, in_box, visible.shape)
    drawn = np.count_nonzero(placed)
    return np.count_nonzero(placed & visible) / drawn if drawn else 0.0


def anchored(person: MaskCrop, transform: codec.CanonicalTransform,
             contour: np.ndarray) -> codec.CanonicalTransform:
    """`transform` moved so that the whole body `contour`, placed by it, matches the visible `person` best:
    the most overlap over what both show inside the frame (a body leaving by an edge goes on beyond it), the
    nearest such place to where it was, anywhere within one body height of what is visible; as it was where
    too little is visible to tell."""
    factor = min(1.0, ANCHOR_ROWS / transform.scale)
    top, left, bottom, right = grown_box(person, transform.scale)
    visible = _reduced(person.full()[top:bottom, left:right], factor)
    body, origin = _drawn_alone(contour, transform.scale * factor)
    seen = np.count_nonzero(visible)
    if seen < ANCHOR_MIN_VISIBLE * np.count_nonzero(body):
        return transform
    # For the body drawn with its top-left corner at (u, v) of the visible box grown by its size: the overlap,
    # and how much of it is inside the frame.
    rows, cols = body.shape
    padded = cv2.copyMakeBorder(visible.astype(np.float32), rows, rows, cols, cols, cv2.BORDER_CONSTANT)
    ys = top + (np.arange(padded.shape[0]) - rows + 0.5) / factor - 0.5  # full-frame place of each padded pixel
    xs = left + (np.arange(padded.shape[1]) - cols + 0.5) / factor - 0.5
    frame = ((ys >= -0.5) & (ys < person.shape[0] - 0.5))[:, None] & ((xs >= -0.5) & (xs < person.shape[1] - 0.5))
    template = body.astype(np.float32)
    overlap = cv2.matchTemplate(padded, template, cv2.TM_CCORR)
    inside = cv2.matchTemplate(frame.astype(np.float32), template, cv2.TM_CCORR)
    match = overlap / np.maximum(inside + seen - overlap, 1.0)  # IoU within the frame
    origin_y = ys[: match.shape[0]] + origin[1] / factor  # where the body's canonical origin lands, per (v, u)
    origin_x = xs[: match.shape[1]] + origin[0] / factor
    best = match >= match.max() - 1e-6
    distance = np.hypot(origin_y[:, None] - transform.y0, origin_x[None, :] - transform.x0)
    v, u = np.unravel_index(int(np.argmin(np.where(best, distance, np.inf))), match.shape)
    return replace(transform, x0=float(origin_x[u]), y0=float(origin_y[v]))


def _drawn_alone(contour: np.ndarray, scale: float) -> tuple[np.ndarray, tuple[float, float]]:
    """(mask of the canonical `contour` drawn `scale` px tall on a canvas of its own, (x, y) of the canonical
    origin on it)."""
    points = np.asarray(contour, np.float64) * scale
    low = np.floor(points.min(axis=0)) - 1
    size = np.ceil(points.max(axis=0) - low).astype(int) + 2
    origin = (float(-low[0]), float(-low[1]))
    mask = codec.contour_to_mask(contour, codec.CanonicalTransform(scale, *origin), (int(size[1]), int(size[0])))
    return mask, origin


def _reduced(mask: np.ndarray, factor: float) -> np.ndarray:
    if factor >= 1.0:
        return mask
    size = (max(1, round(mask.shape[1] * factor)), max(1, round(mask.shape[0] * factor)))
    return cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_AREA) > 0


def _lost_person_region(window: deque[FrameShape], at: int) -> MaskCrop | None:
    """Where a person the segmenter lost on frame `window[at]` must be; None if they are simply not there.

    The nearest frames before and after that show the person tell: if either
    shows them clear of the frame's edges, they cannot have left the picture
    in between, so they are still there, unseen. A person entering or leaving
    through an edge is absent for real. The region is the box over
    those frames' masks, each grown by how far a brisk walker gets in the
    frames between.
    """
    frames = list(window)
    seen = [s for s in _seen_around(frames, at) if s is not None]
    if all(s.person.touches_edge() for s in seen):
        return None
    index = frames[at].index
    boxes = [grown_box(s.person, WALKER_DRIFT * abs(s.index - index) * s.person.height) for s in seen]
    top, left = min(b[0] for b in boxes), min(b[1] for b in boxes)
    bottom, right = max(b[2] for b in boxes), max(b[3] for b in boxes)
    return MaskCrop(top, left, np.ones((bottom - top, right - left), bool), frames[at].person.shape)


def _seen_around(frames: list[FrameShape], at: int) -> tuple[FrameShape | None, FrameShape | None]:
    """The nearest frames before and after `frames[at]` that show the person (None: none in the window)."""
    before = next((s for s in reversed(frames[:at]) if not s.person.empty), None)
    after = next((s for s in frames[at + 1 :] if not s.person.empty), None)
    return before, after


def grown_box(crop: MaskCrop, grow: float) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of the crop grown by `grow` px on every side, inside the frame."""
    box = crop.box.padded(int(np.ceil(grow)), crop.shape)
    return box.y0, box.x0, box.y1, box.x1


def anonymized_outlines(shape: FrameShape, points: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
    """(original, anonymized) canonical outlines in point correspondence; None when nothing is drawn.

    A whole body's are the full-resolution outline and the same outline moved by
    the network (`codec.restore_detail`). A stand-in's are its own 64-row contour
    and the network's output for it: the visible part of the body has no points of
    its own, so the texture is taken from where the stand-in lies on this frame.
    """
    if points is None or shape.transform is None:
        return None
    fine = shape.fine
    if fine is not None:
        return fine, codec.restore_detail(fine, shape.contour, points)
    return shape.contour, np.asarray(points, np.float64)


def anonymized_silhouette(shape: FrameShape, points: np.ndarray | None) -> np.ndarray:
    """The anonymized contour as a full-resolution mask, with the outline's detail put back."""
    outlines = anonymized_outlines(shape, points)
    if outlines is None:
        return np.zeros(shape.person.shape, bool)
    # A stand-in's outline was traced on the 64-row grid: drawn larger, it is grown back to the body's width.
    rows = None if shape.detail else codec.CASIAB_SIZE
    return codec.contour_to_mask(outlines[1], shape.transform, shape.person.shape, outline_rows=rows)


def outline_pair(shape: FrameShape, points: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
    """(original, anonymized) outlines in image x, y, one point per coarse contour point (the warp's pairs)."""
    outlines = anonymized_outlines(shape, points)
    if outlines is None:
        return None
    step = len(outlines[0]) // len(points)  # a fine outline has k points per coarse one; point k * i is point i
    return shape.transform.to_image(outlines[0][::step]), shape.transform.to_image(outlines[1][::step])
