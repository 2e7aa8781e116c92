"""The background of one frame of a moving camera: neighbouring frames warped into it.

With a moving camera there is no single background image. For frame t, the
frames around it (those tied to it by reliably measured steps, see
`CameraMotion.linked`) are warped into t's framing, their people masked out,
and each pixel takes the median of the neighbours that saw it empty. That
median serves twice: people are what differs from it (masks without a static
background), and it is what goes where the original body was (the four-region
rule's I_Bg). Where no neighbour saw a pixel empty there is nothing true to
paint: slivers of up to SLIVER_PX pixels are inpainted, anything wider is
flat-filled and reported so the caller covers it (never a ghost).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Callable, Iterable, Sequence, TypeVar

import cv2
import numpy as np

from ..video.camera_motion import CameraMotion, Prepared, prepare, register_prepared
from .background import FOREGROUND_LEVEL, BackgroundModel, colour_difference, margin_disc, median_of_valid

__all__ = ["DIRECT_REACH", "NEIGHBOUR_OFFSETS", "SLIVER_PX", "AlignedBackground", "CompensatedBackground", "Filled",
           "FrameCache", "Transforms", "aligned_background", "compensated_background", "fill_behind", "foreground",
           "measured", "neighbour_transform", "remember", "resized", "View", "warp_into"]

# Frames each side that are warped in: the near ones line up best, the far ones show what the walker hid.
# A walker clears their own width within about eight frames, but not the grown box their neighbours leave
# out: reaching 16 frames cut what no neighbour saw beside the body (handheld CASIA-B 003: person IoU 0.893 ->
# 0.912, static 0.932; (1, 2, 3, 5, 8, 12, 16) gave the same for one warp more).
NEIGHBOUR_OFFSETS = (1, 2, 4, 8, 12, 16)
# Pairs up to CHAINED_REACH frames apart take the chain of measured steps; up to DIRECT_REACH, a direct
# measurement from it; further ones are composed of such hops. Handheld CASIA-B 002/003/004/006, person IoU: every
# pair measured directly 0.909/0.909/0.941/0.912; the chain alone 0.908/0.909/0.941/0.912; these 0.915/0.912/
# 0.941/0.916, with one measurement a frame instead of five.
CHAINED_REACH = 2
DIRECT_REACH = 4
SLIVER_PX = 3  # unseen regions at most this wide are inpainted; wider ones are the caller's to cover
EDGE_PX = 1  # warped pixels this close to a neighbour's border are dropped (they mix in the border)
INPAINT_RADIUS = 3
UNSEEN_DIFFERENCE = 255.0  # what the segmenter reads where no neighbour saw the scene: the most a pixel differs


@dataclass(frozen=True)
class CompensatedBackground:
    image: np.ndarray  # (H, W, 3) uint8 RGB: the empty scene in this frame's framing (0 where unseen)
    seen: np.ndarray  # (H, W) bool: some neighbour showed this pixel empty


@dataclass(frozen=True)
class Filled:
    image: np.ndarray  # (H, W, 3) uint8 RGB: the frame with the region replaced by background
    uncovered: np.ndarray  # (H, W) bool: region pixels no neighbour saw, wider than a sliver (flat-filled)


def warp_into(image: np.ndarray, to_target: np.ndarray, shape: tuple[int, int],
              interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """`image` (a neighbour's frame or mask) in the framing of a frame of `shape`; 0 outside what it saw."""
    if _affine(to_target):  # the camera's similarities: an affine warp, twice as fast
        return cv2.warpAffine(image, to_target[:2], shape[::-1], flags=interpolation, borderMode=cv2.BORDER_CONSTANT)
    return cv2.warpPerspective(image, to_target, shape[::-1], flags=interpolation, borderMode=cv2.BORDER_CONSTANT)


def _affine(matrix: np.ndarray) -> bool:
    """The last row of the (3, 3) `matrix` is (0, 0, 1), as np.allclose judges it (at 50 us a call, a fifth
    of a second of a handheld clip's 4500 warps: the three numbers are compared here)."""
    low, high, corner = (float(v) for v in matrix[2])
    return abs(low) <= 1e-8 and abs(high) <= 1e-8 and abs(corner - 1.0) <= 1e-8 + 1e-5


@dataclass(frozen=True)
class View:
    """Where a background is wanted: frame pixel coordinates -> the output's, and the output's (H, W)."""

    matrix: np.ndarray  # (3, 3)
    shape: tuple[int, int]

    @classmethod
    def crop(cls, box: tuple[slice, slice]) -> View:
        """A box of the frame (rows, columns), at full size: the background where a person is taken out."""
        rows, cols = box
        return cls(np.array([[1.0, 0.0, -cols.start], [0.0, 1.0, -rows.start], [0.0, 0.0, 1.0]]),
                   (rows.stop - rows.start, cols.stop - cols.start))

    @classmethod
    def scaled(cls, shape: tuple[int, int], small: tuple[int, int]) -> View:
        """The whole frame of `shape` reduced to `small` (as cv2.resize maps pixel centres)."""
        fy, fx = small[0] / shape[0], small[1] / shape[1]
        return cls(np.array([[fx, 0.0, 0.5 * fx - 0.5], [0.0, fy, 0.5 * fy - 0.5], [0.0, 0.0, 1.0]]), small)


def _lends(neighbour_people: np.ndarray | None, source: tuple[int, int]) -> np.ndarray:
    """(H, W) uint8 of `source` size: 255 where a neighbour may lend the background, 0 on its people (with a
    margin)."""
    usable = np.full(source, 255, np.uint8)
    if neighbour_people is not None and neighbour_people.any():
        people = cv2.dilate(neighbour_people.astype(np.uint8), margin_disc(source[0]))
        usable[people > 0] = 0
    return usable


def _usable(lends: np.ndarray, to_target: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) bool of `shape`: target pixels a neighbour saw, away from its borders and from its people (`lends`,
    that neighbour's `_lends`)."""
    warped = warp_into(lends, to_target, shape, cv2.INTER_NEAREST)
    # Outside the target frame counts as usable here: only the neighbour's own border is eroded.
    return cv2.erode(warped, np.ones((2 * EDGE_PX + 1,) * 2, np.uint8)) > 0


Transforms = dict[tuple[int, int], np.ndarray]  # (source, target) -> the measured (3, 3) between them
Item = TypeVar("Item")


@dataclass
class FrameCache:
    """What the backgrounds make of a frame, made once however many of its neighbours' backgrounds it serves
    (about ten): the frame prepared for registration and where it may lend the background (`_lends`), by
    frame. It holds the people masks it was made with: use one per set of masks, and `keep` only the frames
    still in the window."""

    prepared: dict[int, Prepared] = field(default_factory=dict)
    lends: dict[int, np.ndarray] = field(default_factory=dict)

    def keep(self, frames: Iterable[int]) -> None:
        """Forget every frame not in `frames`."""
        kept = set(frames)
        for store in (self.prepared, self.lends):
            for index in [k for k in store if k not in kept]:
                del store[index]


def _made_once(store: dict[int, Item] | None, index: int, make: Callable[[], Item]) -> Item:
    """`make()`, kept in `store` by frame `index` (a `FrameCache` field; None: nothing kept)."""
    if store is None:
        return make()
    if index not in store:
        store[index] = make()
    return store[index]


def neighbour_transform(frames: Sequence[np.ndarray], people: Sequence[np.ndarray | None], motion: CameraMotion,
                        source: int, target: int, known: Transforms | None = None,
                        cache: FrameCache | None = None) -> np.ndarray:
    """(3, 3) frame `source` -> frame `target`'s pixel coordinates. Up to DIRECT_REACH frames apart: measured
    directly where that works (a chain of steps drifts), else the chain; further: composed of such hops
    (each pair measured once serves several). `known` keeps what was measured, both ways: each pair is
    registered once however many frames' backgrounds it serves; `cache` keeps each frame's preparation
    (`FrameCache`)."""
    if known is not None and (source, target) in known:
        return known[source, target]
    distance = abs(source - target)
    if distance > DIRECT_REACH:
        hop = source + DIRECT_REACH * (1 if target > source else -1)
        first = neighbour_transform(frames, people, motion, source, hop, known, cache)
        matrix = neighbour_transform(frames, people, motion, hop, target, known, cache) @ first
        return matrix / matrix[2, 2]
    chained = motion.between(source, target)
    if distance <= CHAINED_REACH:  # the chain's steps were measured directly already
        return chained
    prepared = None if cache is None else cache.prepared
    ends = [_made_once(prepared, k, partial(prepare, frames[k], people[k])) for k in (source, target)]
    matrix = measured(*ends, chained)
    if known is not None:
        remember(known, source, target, matrix)
    return matrix


def measured(source: Prepared, target: Prepared, chained: np.ndarray) -> np.ndarray:
    """(3, 3) between two prepared frames up to DIRECT_REACH apart: measured directly from the chain of steps
    between them (`chained`) where that is reliable, else the chain."""
    direct = register_prepared(source, target, chained, guided=True)
    return direct.homography if direct.reliable else chained


def remember(known: Transforms, source: int, target: int, matrix: np.ndarray) -> None:
    """Keep `matrix` (frame `source` -> frame `target`) in `known`, and its inverse."""
    back = np.linalg.inv(matrix)
    known[source, target], known[target, source] = matrix, back / back[2, 2]


def compensated_background(frames: Sequence[np.ndarray], people: Sequence[np.ndarray | None], motion: CameraMotion,
                           frame: int, offsets: Sequence[int] = NEIGHBOUR_OFFSETS,
                           known: Transforms | None = None, view: View | None = None,
                           cache: FrameCache | None = None) -> CompensatedBackground:
    """Frame `frame`'s background from the neighbours at `offsets` each side that reliable steps link to it.

    `frames[i]` / `people[i]` are frame i's RGB picture and (H, W) bool mask of
    everyone in view (None: no one); anything indexable by frame number will do
    (a list, or a dict holding just the window). `known`: see `neighbour_transform`.
    `view`: only a box of the frame, or the frame reduced (None: the whole frame
    at full size); the neighbours are warped straight into it, which costs in
    proportion to its pixels. `cache`: see `FrameCache` (None: nothing kept).
    """
    full = frames[frame].shape[:2]
    view = view or View(np.eye(3), full)
    linked = motion.linked(frame, max(offsets))
    neighbours = [frame + side * offset for offset in offsets for side in (-1, 1) if frame + side * offset in linked]
    if not neighbours:
        return CompensatedBackground(np.zeros((*view.shape, 3), np.uint8), np.zeros(view.shape, bool))
    warped, usable = [], []
    for s in neighbours:
        to_target = view.matrix @ neighbour_transform(frames, people, motion, s, frame, known, cache)
        warped.append(warp_into(frames[s], to_target, view.shape))
        lends = _made_once(None if cache is None else cache.lends, s, partial(_lends, people[s], frames[s].shape[:2]))
        usable.append(_usable(lends, to_target, view.shape))
    median, count = median_of_valid(np.stack(warped), np.stack(usable))
    return CompensatedBackground(np.clip(median + 0.5, 0, 255).astype(np.uint8), count > 0)


@dataclass(frozen=True)
class AlignedBackground(BackgroundModel):
    """A compensated background as the segmenter reads a static one (`people.background.BackgroundModel`).

    A pixel differs by its distance from the range of the background's 3x3
    neighbourhood, so the small misregistration of a warp does not light up
    every edge. Pixels no neighbour saw differ by UNSEEN_DIFFERENCE: nothing says
    no one is there (a body leaving by a border only the frame itself shows), so
    they are covered like motion no track follows (fail closed).
    """

    low: np.ndarray  # (H, W, 3) uint8: the 3x3 minimum of the image
    high: np.ndarray  # ... and maximum

    def difference(self, frame: np.ndarray) -> np.ndarray:
        difference = colour_difference(frame, np.clip(frame, self.low, self.high))
        difference[self.never_seen] = UNSEEN_DIFFERENCE
        return difference


def aligned_background(image: np.ndarray, background: CompensatedBackground) -> AlignedBackground:
    """Frame `image`'s background for the segmenter: the compensated one where seen, the frame's own elsewhere
    (its colour for the shadow test; the difference there is UNSEEN_DIFFERENCE)."""
    scene = np.where(background.seen[..., None], background.image, image)
    kernel = np.ones((3, 3), np.uint8)
    return AlignedBackground(scene, np.zeros(image.shape[:2], np.float32), ~background.seen,
                             cv2.erode(scene, kernel), cv2.dilate(scene, kernel))


def resized(background: CompensatedBackground, shape: tuple[int, int]) -> CompensatedBackground:
    """The background at another size (the segmenter's working resolution scaled up to the frame's)."""
    size = shape[::-1]
    image = cv2.resize(background.image, size, interpolation=cv2.INTER_LINEAR)
    seen = cv2.resize(background.seen.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    return CompensatedBackground(image, seen)


def foreground(image: np.ndarray, background: CompensatedBackground, level: float = FOREGROUND_LEVEL) -> np.ndarray:
    """(H, W) bool: seen pixels that differ from the background by more than `level` (`AlignedBackground`)."""
    return (aligned_background(image, background).difference(image) > level) & background.seen


def _wider_than_sliver(mask: np.ndarray) -> np.ndarray:
    """The parts of `mask` that hold a (SLIVER_PX + 1)-pixel square: a morphological opening."""
    size = SLIVER_PX + 1
    kernel = np.ones((size, size), np.uint8)
    anchor = (size - 1) // 2
    core = cv2.erode(mask.astype(np.uint8), kernel, anchor=(anchor, anchor))
    # An even kernel is not symmetric about its anchor: the dilation takes the mirrored anchor.
    return cv2.dilate(core, kernel, anchor=(size - 1 - anchor, size - 1 - anchor)) > 0


def fill_behind(image: np.ndarray, region: np.ndarray, background: CompensatedBackground) -> Filled:
    """`image` with `region` ((H, W) bool, e.g. the original body) replaced by the background.

    Unseen slivers are inpainted; wider unseen parts are flat-filled with the
    scene's mean colour (no original pixel stays) and returned as `uncovered`.
    """
    filled = image.copy()
    seen = region & background.seen
    filled[seen] = background.image[seen]
    missing = region & ~background.seen
    uncovered = _wider_than_sliver(missing)
    if uncovered.any():
        mean = cv2.mean(background.image, mask=background.seen.astype(np.uint8))[:3] if background.seen.any() else 0
        filled[uncovered] = np.round(mean).astype(np.uint8)
    sliver = missing & ~uncovered
    if sliver.any():
        filled = cv2.inpaint(filled, sliver.astype(np.uint8), INPAINT_RADIUS, cv2.INPAINT_TELEA)
    return Filled(filled, uncovered)
