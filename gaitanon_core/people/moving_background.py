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

from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from ..video.camera_motion import CameraMotion, register
from .background import FOREGROUND_LEVEL, SAMPLE_MARGIN, median_of_valid, odd_size, colour_difference

__all__ = ["NEIGHBOUR_OFFSETS", "SLIVER_PX", "CompensatedBackground", "Filled", "compensated_background",
           "fill_behind", "foreground", "neighbour_transform", "warp_into"]

# Frames each side that are warped in: a walker clears their own width within about eight frames;
# the near ones line up best, the far ones show what the walker hid.
NEIGHBOUR_OFFSETS = (1, 2, 3, 5, 8)
SLIVER_PX = 3  # unseen regions at most this wide are inpainted; wider ones are the caller's to cover
EDGE_PX = 1  # warped pixels this close to a neighbour's border are dropped (they mix in the border)
INPAINT_RADIUS = 3


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
    return cv2.warpPerspective(image, to_target, shape[::-1], flags=interpolation, borderMode=cv2.BORDER_CONSTANT)


def _usable(neighbour_people: np.ndarray | None, to_target: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) bool: target pixels a neighbour (of the same size) saw, away from its borders and from its people
    (with a margin)."""
    usable = np.full(shape, 255, np.uint8)
    if neighbour_people is not None and neighbour_people.any():
        grow = odd_size(SAMPLE_MARGIN * shape[0])
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow))
        people = cv2.dilate(neighbour_people.astype(np.uint8), disc)
        usable[people > 0] = 0
    warped = warp_into(usable, to_target, shape, cv2.INTER_NEAREST)
    # Outside the target frame counts as usable here: only the neighbour's own border is eroded.
    return cv2.erode(warped, np.ones((2 * EDGE_PX + 1,) * 2, np.uint8)) > 0


def neighbour_transform(frames: Sequence[np.ndarray], people: Sequence[np.ndarray | None], motion: CameraMotion,
                        source: int, target: int) -> np.ndarray:
    """(3, 3) frame `source` -> frame `target`'s pixel coordinates: measured directly where that works (a chain
    of steps drifts), else the chain."""
    chained = motion.between(source, target)
    if abs(source - target) == 1:  # the chain's one step was measured directly already
        return chained
    direct = register(frames[source], frames[target], chained, people[source], people[target])
    return direct.homography if direct.reliable else chained


def compensated_background(frames: Sequence[np.ndarray], people: Sequence[np.ndarray | None], motion: CameraMotion,
                           frame: int, offsets: Sequence[int] = NEIGHBOUR_OFFSETS) -> CompensatedBackground:
    """Frame `frame`'s background from the neighbours at `offsets` each side that reliable steps link to it.

    `frames[i]` / `people[i]` are frame i's RGB picture and (H, W) bool mask of
    everyone in view (None: no one); anything indexable by frame number will do
    (a list, or a dict holding just the window).
    """
    shape = frames[frame].shape[:2]
    linked = motion.linked(frame, max(offsets))
    neighbours = [frame + side * offset for offset in offsets for side in (-1, 1) if frame + side * offset in linked]
    if not neighbours:
        return CompensatedBackground(np.zeros(frames[frame].shape, np.uint8), np.zeros(shape, bool))
    warped, usable = [], []
    for s in neighbours:
        to_target = neighbour_transform(frames, people, motion, s, frame)
        warped.append(warp_into(frames[s], to_target, shape))
        usable.append(_usable(people[s], to_target, shape))
    median, count = median_of_valid(np.stack(warped), np.stack(usable))
    return CompensatedBackground(np.clip(median + 0.5, 0, 255).astype(np.uint8), count > 0)


def foreground(image: np.ndarray, background: CompensatedBackground, level: float = FOREGROUND_LEVEL) -> np.ndarray:
    """(H, W) bool: seen pixels that differ from the background by more than `level`.

    A pixel is compared with the range of the background's 3x3 neighbourhood, so
    the small misregistration of a warp does not light up every edge.
    """
    kernel = np.ones((3, 3), np.uint8)
    low, high = cv2.erode(background.image, kernel), cv2.dilate(background.image, kernel)
    return (colour_difference(image, np.clip(image, low, high)) > level) & background.seen


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
