"""Who stays kept: a person the user keeps unchanged is anonymized where they cross someone, and is
re-confirmed by their colours after every crossing.

Identity switches happen where two people meet: the tracker may carry on with
the other person under the kept number. So where a kept person's box overlaps
another's they are anonymized (and flagged), and after each crossing their
colours (the hue-saturation-value histogram of their pixels, `tracks.colour_look`)
on their first whole frames are compared with their colours before the first
crossing, as the user chose them. Unlike (`SAME_LOOK`) or not measurable (no
whole frame after), the keep ends there: the person is anonymized from the end
of that crossing on, and those frames are flagged.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..people.tracks import colour_look
from ..shape.tracking import FrameShape

__all__ = ["KEPT_CROSSING", "KEPT_UNCONFIRMED", "crossing", "kept_until", "person_look"]

CONFIRM_FRAMES = 10  # whole-body frames either side of a crossing whose colours are compared
SAME_LOOK = 0.35  # Bhattacharyya distance of the colours under which it is the same person (README)
KEPT_CROSSING = ("kept, but crossing another person: anonymized here (the tracker may switch people at a "
                 "crossing)")
KEPT_UNCONFIRMED = ("kept, but after crossing another person not confirmed the same by their colours (the tracker "
                    "may have switched people): anonymized from here")

Looks = dict[int, np.ndarray]  # frame index -> a person's colours on that frame (whole-body frames only)


def person_look(image: np.ndarray, shape: FrameShape) -> np.ndarray | None:
    """The person's colours on this frame (their mask's pixels), or None."""
    region = shape.person
    if region.empty:
        return None
    return colour_look(image[region.box.slices()], region.mask, np.array([0, 0, region.width, region.height]))


def crossing(a: FrameShape, b: FrameShape) -> bool:
    """Whether two people's boxes (their regions, or what covers them) overlap."""
    regions = [s.cover if s.cover is not None else s.person for s in (a, b)]
    if any(r.empty for r in regions):
        return False
    box_a, box_b = (r.box for r in regions)
    return box_a.x0 < box_b.x1 and box_b.x0 < box_a.x1 and box_a.y0 < box_b.y1 and box_b.y0 < box_a.y1


def kept_until(track: int, shapes: dict[int, dict[int, FrameShape]], looks: Looks) -> int | None:
    """The first frame from which `track` (kept by the user) is no longer confirmed: None, kept throughout.

    `shapes`: every person's shape by frame index, by track."""
    mine = shapes[track]
    crossed = [i for i in sorted(mine) if any(crossing(mine[i], other[i]) for number, other in shapes.items()
                                               if number != track and i in other)]
    reference = None
    for start, end in _stretches(crossed):
        if reference is None:
            reference = _mean_look([looks[i] for i in sorted(looks) if i < start][-CONFIRM_FRAMES:])
        after = _mean_look([looks[i] for i in sorted(looks) if i > end and i not in crossed][:CONFIRM_FRAMES])
        if reference is None:  # crossing from their first frame: what the user chose is what follows
            reference = after
        elif after is None or cv2.compareHist(reference, after, cv2.HISTCMP_BHATTACHARYYA) > SAME_LOOK:
            return end + 1
    return None


def _stretches(frames: list[int]) -> list[tuple[int, int]]:
    """[3, 4, 5, 9] -> [(3, 5), (9, 9)]."""
    runs: list[tuple[int, int]] = []
    for index in frames:
        if runs and index == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], index)
        else:
            runs.append((index, index))
    return runs


def _mean_look(looks: list[np.ndarray | None]) -> np.ndarray | None:
    known = [look for look in looks if look is not None]
    return np.mean(known, axis=0).astype(np.float32) if known else None
