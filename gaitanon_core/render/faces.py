"""Hide the walker's face: the head region of the person's texture, before the warp moves it.

A walker whose gait is changed but whose face shows is not anonymous. The region
is the top `HEAD_SHARE` of the walker's outline (head and neck: a head is about
13 % of a standing person's height), so profile and back views are hidden too,
where a face detector would miss them. It is hidden in the texture the warp
samples, so it follows the head onto the new outline, and a sharp face is never
carried there. The texture outside the body already holds body colours (see
`colouring.body_texture`), so a blur never pulls the wall, or the original
head's outline, into it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import cv2
import numpy as np

from ..errors import UsageError
from ..people.person_mask import Box

FACE_MODES = ("blur", "pixelate", "fill", "keep")
DEFAULT_FACES = "blur"
HEAD_SHARE = 0.17  # share of the body's height, from the top, that is hidden (head + neck)
BLUR_SHARE = 0.25  # the blur's sigma as a share of the region's height: no feature survives it
PIXEL_CELLS = 5  # a pixelated head is this many cells tall
FADE_SHARE = 0.3  # the lowest share of the region fades back to the body (no hard line at the neck)
SCAN_S = 0.4  # the whole frame is searched for faces this often (s) ...
HOLD_S = 1.0  # ... and a face found is hidden for this long after (a missed search does not show it)
FACE_GROW = 0.35  # a found face is hidden with this share of its size more on every side (hair, ears, chin)
SAME_FACE_REACH = 3.0  # faces of two searches whose centres are at most this many face sizes apart are one face

Item = TypeVar("Item")
Follow = Callable[[Box, int, int], Box]  # (box on frame a, a, b) -> where the camera's motion puts it on frame b


def check_mode(mode: str) -> str:
    if mode not in FACE_MODES:
        raise UsageError(f"faces must be one of {', '.join(FACE_MODES)}, not {mode!r}")
    return mode


def head_rows(outline_y: np.ndarray) -> tuple[int, int]:
    """(first, last + 1) image rows of the head region from the outline's y coordinates."""
    top, bottom = float(outline_y.min()), float(outline_y.max())
    return int(np.floor(top)), int(np.ceil(top + HEAD_SHARE * (bottom - top))) + 1


def hide_head(texture: np.ndarray, rows: tuple[int, int], mode: str) -> None:
    """Blur, pixelate or fill rows `rows` of `texture` (H, W, 3 float32) in place, fading out at the bottom."""
    if check_mode(mode) == "keep":
        return
    first, last = max(rows[0], 0), min(rows[1], texture.shape[0])
    if last - first < 2:
        return
    band = texture[first:last]
    hidden = _hidden(band, mode, rows[1] - rows[0])
    weight = _fade(last - first, first - rows[0], rows[1] - rows[0])
    band[...] = weight * hidden + (1.0 - weight) * band


def _hidden(band: np.ndarray, mode: str, height: int) -> np.ndarray:
    if mode == "blur":
        sigma = max(1.0, BLUR_SHARE * height)
        return cv2.GaussianBlur(band, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REPLICATE)
    if mode == "pixelate":
        cell = max(1, height // PIXEL_CELLS)
        small = cv2.resize(band, (max(1, band.shape[1] // cell), max(1, band.shape[0] // cell)),
                           interpolation=cv2.INTER_AREA)
        return cv2.resize(small, (band.shape[1], band.shape[0]), interpolation=cv2.INTER_NEAREST)
    return np.broadcast_to(band.reshape(-1, band.shape[2]).mean(axis=0), band.shape)  # "fill"


def _fade(count: int, offset: int, height: int) -> np.ndarray:
    """Per-row weight (count, 1, 1): 1 over the region, falling to 0 over its lowest `FADE_SHARE`."""
    position = (np.arange(count, dtype=np.float32) + offset) / max(height, 1)
    weight = np.clip((1.0 - position) / FADE_SHARE, 0.0, 1.0)
    return weight[:, None, None]


class FaceWatch:
    """The whole-frame face pass: faces of people no track follows (at a window, in a crowd), hidden.

    Every `SCAN_S` the picture as it will be written is searched by `find` (a face
    detector); each face found is hidden, like a walker's head, for `HOLD_S` after,
    so a face the detector misses on one search stays hidden, and on the frames
    since the last search, which wait for it: a face that comes into view between
    two searches is hidden from the frame it came, not from the next search (a face
    found on both sides of the wait is hidden where it moved in between; one in
    view for less than `SCAN_S`, between two searches, can still be missed). On a
    moving camera `follow` moves each box with the picture (a face held after the
    detector missed it stays on it while the camera pans). The
    clip's last frames are searched once more at the end. Tracked walkers' heads are
    hidden already and are not found again; a face on a person the user keeps is
    left (`kept` holds where they are).
    """

    def __init__(self, find: Callable[[np.ndarray], list[Box]], fps: float, mode: str,
                 follow: Follow | None = None) -> None:
        self.find, self.mode = find, check_mode(mode)
        self.follow = follow or _unmoved
        self.every = max(1, round(SCAN_S * fps))
        self.hold = max(1, round(HOLD_S * fps))
        self.held: list[tuple[int, Box, int]] = []  # (last frame to hide it on, box, the frame it was found on)
        self.searched: tuple[int, list[Box]] | None = None  # the last search: its frame and the faces found

    def hidden(self, pictures: Iterable[tuple[Item, int, np.ndarray, np.ndarray | None]]
               ) -> Iterator[tuple[Item, np.ndarray, int]]:
        """(item, frame index, image, kept region or None) -> (item, image, faces hidden on it), in order, the
        faces hidden in place. Frames wait (at most `every` of them) for the next search. One clip per watch."""
        if self.mode == "keep":
            yield from ((item, image, 0) for item, _, image, _ in pictures)
            return
        waiting: list[_Waiting] = []
        for item, index, image, kept in pictures:
            frame = _Waiting(item, index, image, kept)
            if self.searched is None or index >= self.searched[0] + self.every:
                self._search(frame, waiting)
                yield from self._handed_on(waiting)
                waiting = []
            frame.due = self._held(index)  # hidden when handed on: the picture stays as it is for a search
            if self.searched[0] == index:
                yield from self._handed_on([frame])
            else:
                waiting.append(frame)
        if waiting:  # no search came after them: the last of them is searched, and the others wait for it
            last = waiting.pop()
            self._search(last, waiting)
            last.due = self._held(last.index)
            yield from self._handed_on(waiting + [last])

    def _search(self, frame: _Waiting, waiting: list[_Waiting]) -> None:
        """Search `frame`: its faces are held for the frames to come and hidden on those `waiting` since the last
        search (where the camera puts them there and, for a face the last search found too, on its way)."""
        found = [box for box in self.find(frame.image) if frame.kept is None or not _centre_in(box, frame.kept)]
        self.held = [(frame.index + self.hold, box, frame.index) for box in found] + \
            [h for h in self.held if h[1] not in found]
        before, self.searched = self.searched, (frame.index, found)
        for earlier in waiting:
            earlier.hide([way for box in found for way in self._ways(before, (frame.index, box), earlier.index)],
                         self.mode)

    def _handed_on(self, frames: list[_Waiting]) -> Iterator[tuple[Any, np.ndarray, int]]:
        for frame in frames:
            frame.hide(frame.due, self.mode)
            yield frame.item, frame.image, len(frame.done)

    def _held(self, index: int) -> list[Box]:
        self.held = [h for h in self.held if h[0] >= index]
        return [self.follow(box, found, index) for _, box, found in self.held]

    def _ways(self, before: tuple[int, list[Box]] | None, after: tuple[int, Box], index: int) -> list[Box]:
        """Where the face found at `after` may have been on frame `index`, between the two searches: where the
        camera puts it (a face that came into view meanwhile, or one that stood still), and on the line from
        the face the search `before` found nearest to it, if that is near enough to be the same face (both ends
        carried to frame `index` by the camera; a face beside it that came meanwhile is hidden where it is)."""
        at, box = after
        here = self.follow(box, at, index)
        if before is None or not before[1]:
            return [here]
        start, faces = before
        nearest = min(faces, key=lambda face: _centre_distance(face, box))
        if _centre_distance(nearest, box) > SAME_FACE_REACH * max(box.width, box.height, nearest.width,
                                                                   nearest.height):
            return [here]
        there, share = self.follow(nearest, start, index), (index - start) / max(1, at - start)
        return [here, Box(*(round(a + share * (b - a)) for a, b in zip(
            (there.x0, there.y0, there.x1, there.y1), (here.x0, here.y0, here.x1, here.y1))))]


@dataclass
class _Waiting:
    """A frame handed to `FaceWatch.hidden`: the held faces due on it, and the faces hidden on it so far."""

    item: Any
    index: int
    image: np.ndarray
    kept: np.ndarray | None  # where the kept people are: a search's faces there are theirs, and left
    due: list[Box] = field(default_factory=list)
    done: list[Box] = field(default_factory=list)

    def hide(self, boxes: list[Box], mode: str) -> None:
        """Hide each of `boxes` not hidden here yet."""
        for box in boxes:
            if box not in self.done:
                hide_face(self.image, box, mode)
                self.done.append(box)


def _unmoved(box: Box, found: int, index: int) -> Box:
    return box


def _centre_distance(a: Box, b: Box) -> float:
    return float(np.hypot(*np.subtract(a.centre, b.centre)))


def _centre_in(box: Box, region: np.ndarray) -> bool:
    y, x = (box.y0 + box.y1) // 2, (box.x0 + box.x1) // 2
    return 0 <= y < region.shape[0] and 0 <= x < region.shape[1] and bool(region[y, x])


def hide_face(image: np.ndarray, box: Box, mode: str) -> None:
    """Blur, pixelate or fill an ellipse around `box` (grown by `FACE_GROW`) in `image` (RGB uint8), in place."""
    grow_x, grow_y = FACE_GROW * box.width, FACE_GROW * box.height
    x0, y0 = max(0, int(box.x0 - grow_x)), max(0, int(box.y0 - grow_y))
    x1, y1 = min(image.shape[1], int(np.ceil(box.x1 + grow_x))), min(image.shape[0], int(np.ceil(box.y1 + grow_y)))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    region = image[y0:y1, x0:x1].astype(np.float32)
    hidden = _hidden(region, mode, y1 - y0)
    ellipse = np.zeros(region.shape[:2], np.float32)
    cv2.ellipse(ellipse, (((x1 - x0) / 2, (y1 - y0) / 2), (x1 - x0, y1 - y0), 0.0), 1.0, -1, cv2.LINE_AA)
    weight = ellipse[..., None]
    image[y0:y1, x0:x1] = np.clip(weight * hidden + (1.0 - weight) * region + 0.5, 0, 255).astype(np.uint8)

