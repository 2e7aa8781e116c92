"""Covers the user asks for: a person covered whole (a filled shape, no reshaping) and boxes over
a frame range for anything the detector missed.

A person covered whole is first taken out like everyone else (their region,
shadow and band painted with the background); then a filled capsule marks
where they are. Its size is the largest box the person had within `HOLD_S`
either side, so the stride's swing (how wide the legs open, frame by frame)
does not show through the cover's width: only where the person is and how tall.
A cover box is painted last, over everything, in the same flat colour.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import UsageError

COVER_COLOUR = (128, 128, 128)  # RGB: a flat mid grey, plainly a redaction
HOLD_S = 0.6  # a covered person's capsule takes the largest box within this many seconds either side
CAPSULE_MARGIN = 0.08  # ... grown by this share of its height on every side
BOX_PATTERN = re.compile(r"^\s*(\d+),(\d+),(\d+),(\d+)\s*(?:@\s*([\d.]*)\s*-\s*([\d.]*)\s*)?$")


@dataclass(frozen=True)
class CoverBox:
    """A rectangle (source pixels) painted flat on every frame from `start` to `end` (s; None: clip's edge)."""

    x: int
    y: int
    width: int
    height: int
    start: float | None = None
    end: float | None = None

    def on(self, time_s: float) -> bool:
        return (self.start is None or time_s >= self.start) and (self.end is None or time_s <= self.end)

    def slices(self) -> tuple[slice, slice]:
        return slice(self.y, self.y + self.height), slice(self.x, self.x + self.width)

    def label(self) -> str:
        """How the CLI writes it: X,Y,W,H[@START-END]."""
        times = "" if self.start is None and self.end is None else \
            f"@{'' if self.start is None else f'{self.start:g}'}-{'' if self.end is None else f'{self.end:g}'}"
        return f"{self.x},{self.y},{self.width},{self.height}{times}"


def parse_cover_box(text: str) -> CoverBox:
    """'X,Y,W,H' (every frame) or 'X,Y,W,H@START-END' (seconds; either end may be left out)."""
    match = BOX_PATTERN.match(text)
    if match is None:
        raise UsageError(f"a cover box is X,Y,W,H or X,Y,W,H@START-END (pixels, seconds), not {text!r}")
    x, y, width, height = (int(v) for v in match.group(1, 2, 3, 4))
    start, end = (float(v) if v else None for v in match.group(5, 6))
    if start is not None and end is not None and end < start:
        raise UsageError(f"the cover box {text!r} ends before it starts")
    return CoverBox(x, y, width, height, start, end)


def check_cover_boxes(boxes: Iterable[CoverBox], width: int, height: int) -> None:
    """Every box must have an area and lie within the frame (a box off the picture covers nothing)."""
    for box in boxes:
        if box.width < 1 or box.height < 1 or box.x + box.width > width or box.y + box.height > height:
            raise UsageError(f"the cover box {box.label()} is empty or outside the {width}x{height} frame")


def paint_cover_boxes(image: np.ndarray, boxes: Sequence[CoverBox], time_s: float) -> int:
    """Paint the boxes on at `time_s` over `image` (in place); how many were painted."""
    painted = 0
    for box in boxes:
        if box.on(time_s):
            image[box.slices()] = COVER_COLOUR
            painted += 1
    return painted


Extent = tuple[int, int, int, int]  # y0, x0, y1, x1 (exclusive ends) of a person on one frame


def held_extents(extents: dict[int, Extent], fps: float) -> dict[int, Extent]:
    """Per frame, the person's box centred where it is, as tall and wide as their largest within `HOLD_S`."""
    reach = max(1, round(HOLD_S * fps))
    held = {}
    for index, (y0, x0, y1, x1) in extents.items():
        near = [extents[k] for k in range(index - reach, index + reach + 1) if k in extents]
        height = max(e[2] - e[0] for e in near)
        width = max(e[3] - e[1] for e in near)
        cy, cx = (y0 + y1) / 2, (x0 + x1) / 2
        held[index] = (round(cy - height / 2), round(cx - width / 2), round(cy + height / 2), round(cx + width / 2))
    return held


def paint_capsule(image: np.ndarray, extent: Extent) -> None:
    """A filled capsule (a rectangle with round ends) over `extent`, grown by `CAPSULE_MARGIN`, in place."""
    y0, x0, y1, x1 = extent
    grow = CAPSULE_MARGIN * (y1 - y0)
    y0, x0, y1, x1 = (round(v) for v in (y0 - grow, x0 - grow, y1 + grow, x1 + grow))
    radius = max(1, (x1 - x0) // 2)
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.rectangle(mask, (x0, y0 + radius), (x1, max(y0 + radius, y1 - radius)), 1, thickness=-1)
    for cy in (y0 + radius, max(y0 + radius, y1 - radius)):
        cv2.circle(mask, ((x0 + x1) // 2, cy), radius, 1, thickness=-1)
    image[mask > 0] = COVER_COLOUR
