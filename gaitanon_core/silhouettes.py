"""Per frame: the walking person's mask, their shadow, and what the segmenter saw.

Two sources of evidence are fused (see README "Silhouettes"):

- the background model (`background.py`): where a static camera's frame
  differs from the empty scene. Sharp edges at full resolution, but it also
  fires on shadows, merges the legs where the floor shows between them, and
  misses clothing that matches the background;
- the learned person mask (`person_mask.py`), run on each candidate box only:
  knows what a person looks like, but is coarse (256x256 for the whole crop).

The learned probability lowers the background-difference threshold inside the
person and raises it outside, and bounds the mask to the person's surroundings.
What the background difference keeps but the learned mask rejects, looks like a
shadow (darker, same hue) and lies in the lower part of the body's box is the
shadow, handed on separately so that it can be removed too. The main walker is
followed from frame to frame; a few missed frames between two good ones are
bridged from their neighbours.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable, Iterator

import cv2
import numpy as np

from .background import MAX_SAMPLES, BackgroundModel, build_background, camera_moved, sample_indices
from .person_mask import Box, PersonMaskModel, PersonPrediction
from .video_io import VideoInfo, probe, read_frames

LEVEL_IN = 35.0  # colour difference that counts as foreground where the learned mask says person
LEVEL_OUT = 40.0  # ... and where it says background (tuned on CASIA-B clips 002 and 003)
CANDIDATE_GROUP = 0.04  # foreground pieces closer than 4 % of the frame height form one candidate
MIN_CANDIDATE_HEIGHT = 0.06  # candidates shorter than 6 % of the frame height are noise
MAX_CANDIDATES = 3  # the learned model runs on at most this many boxes per frame (speed)
PRESENCE_MIN = 0.5  # the learned model's person-presence score for "this box is a person"
REGION_MARGIN = 0.2  # the fused mask is computed on the box grown by 20 % of its height
NEAR_PERSON = 0.06  # foreground farther than 6 % of the person's height from the learned mask is dropped
CLOSING = 0.035  # closing kernel: 3.5 % of the person's height (about 5 px on a 130-px person)
KEEP_PART = 0.05  # pieces smaller than 5 % of the largest piece are dropped
SHADOW_ROWS = 0.6  # shadows are sought below 60 % of the person's height (legs and feet)
SHADOW_DARKER = (0.35, 0.92)  # a shadow keeps 35-92 % of the background's brightness...
SHADOW_HUE = 0.06  # ... and its chromaticity changes by less than this
OCCLUDED_HEIGHT = 0.8  # shorter than 80 % of the recent whole-body height, not at an edge: occluded
MAX_GAP = 5  # missed frames bridged from their neighbours (0.2 s at 25 fps)


@dataclass
class FrameMask:
    index: int
    person: np.ndarray  # HxW bool, the main walker (full resolution)
    shadow: np.ndarray  # HxW bool, the walker's shadow (must not survive into output)
    segmenter: str  # "fused" | "background" | "learned" | "bridged" | "none"
    body: str  # "whole" | "cut" (by frame edge) | "occluded" | "absent"
    people: int  # people seen in the frame
    camera_moved: bool


@dataclass(frozen=True)
class _Candidate:
    box: Box
    prediction: PersonPrediction | None

    @property
    def is_person(self) -> bool:
        return self.prediction is not None and self.prediction.presence >= PRESENCE_MIN


def _odd(value: float) -> int:
    return max(3, int(value) // 2 * 2 + 1)


def _disc(size: float) -> np.ndarray:
    n = _odd(size)
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (n, n))


class ClipSegmenter:
    """Segments the frames of one static-camera clip, given its background model.

    `segment(frame, index)` looks at one frame (it remembers the main walker's
    last box to follow them); `track(frames)` segments a sequence and bridges
    short gaps. Frames are (H, W, 3) uint8 RGB.
    """

    def __init__(self, background: BackgroundModel, model: PersonMaskModel | None = None) -> None:
        self.background = background
        self.model = model or PersonMaskModel()
        self._last_box: Box | None = None
        self._whole_heights: deque[int] = deque(maxlen=25)

    @classmethod
    def from_frames(cls, samples: Iterable[np.ndarray], model: PersonMaskModel | None = None) -> ClipSegmenter:
        """Build the background from frames sampled across the clip (see `sample_indices`)."""
        return cls(build_background(samples), model)

    # ---- one frame ----------------------------------------------------------------

    def segment(self, frame: np.ndarray, index: int) -> FrameMask:
        if frame.shape[:2] != self.background.shape:
            raise ValueError(f"frame {index} is {frame.shape[:2]}, the background {self.background.shape}")
        difference = self.background.difference(frame)
        candidates = self._candidates(frame, difference)
        people = [c for c in candidates if c.is_person]
        empty = np.zeros(frame.shape[:2], bool)
        moved = camera_moved(frame, self.background, self._boxes_mask(candidates, frame.shape[:2]))
        if moved:
            return self._learned_only(frame, index, len(people), empty)
        main = self._choose_main(people) or (candidates[0] if candidates else None)
        if main is None:
            self._last_box = None
            return FrameMask(index, empty, empty.copy(), "none", "absent", 0, False)
        person, shadow = self._fuse(frame, difference, main)
        box = Box.of_mask(person)
        if box is None:
            self._last_box = None
            return FrameMask(index, empty, empty.copy(), "none", "absent", len(people), False)
        self._last_box = box
        others = [c.box for c in people if c is not main]
        segmenter = "fused" if main.is_person else "background"
        count = len(people) + (0 if main.is_person else 1)
        return FrameMask(index, person, shadow, segmenter, self._body_state(box, others, frame.shape[:2]), count, False)

    def _candidates(self, frame: np.ndarray, difference: np.ndarray) -> list[_Candidate]:
        """Boxes around groups of foreground pieces, largest first, each judged by the learned model."""
        height = frame.shape[0]
        foreground = (difference > np.maximum(self.background.threshold, LEVEL_IN)).astype(np.uint8)
        foreground = cv2.morphologyEx(foreground, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        grouped = cv2.dilate(foreground, _disc(CANDIDATE_GROUP * height))
        count, labels, stats, _ = cv2.connectedComponentsWithStats(grouped)
        order = np.argsort(-stats[1:, cv2.CC_STAT_AREA]) + 1
        candidates = []
        for label in order[:MAX_CANDIDATES]:
            box = Box.of_mask((labels == label) & foreground.astype(bool))
            if box is None or box.height < MIN_CANDIDATE_HEIGHT * height:
                continue
            region = box.grown(REGION_MARGIN, frame.shape[:2])
            candidates.append(_Candidate(box, self.model.predict(frame, box, region)))
        return candidates

    @staticmethod
    def _boxes_mask(candidates: list[_Candidate], shape: tuple[int, int]) -> np.ndarray:
        mask = np.zeros(shape, bool)
        for c in candidates:
            mask[c.box.grown(REGION_MARGIN, shape).slices()] = True
        return mask

    def _choose_main(self, people: list[_Candidate]) -> _Candidate | None:
        """The person nearest the main walker's last position, else the tallest."""
        if not people:
            return None
        if self._last_box is None:
            return max(people, key=lambda c: c.box.height)
        lx, ly = self._last_box.centre
        return min(people, key=lambda c: np.hypot(c.box.centre[0] - lx, c.box.centre[1] - ly))

    def _fuse(self, frame: np.ndarray, difference: np.ndarray, main: _Candidate) -> tuple[np.ndarray, np.ndarray]:
        """Person and shadow masks (full frame) from the background difference and the learned mask."""
        shape = frame.shape[:2]
        region = main.box.grown(REGION_MARGIN, shape)
        rows, cols = region.slices()
        size = main.box.height
        if main.prediction is not None:
            probability = main.prediction.probability()
        else:  # no learned opinion: a neutral prior keeps the plain background difference
            probability = np.full((region.height, region.width), 0.5, np.float32)
        level = LEVEL_OUT - (LEVEL_OUT - LEVEL_IN) * probability
        foreground = difference[rows, cols] > np.maximum(level, self.background.threshold[rows, cols])
        learned = probability > 0.5
        below_hips = (np.arange(region.height)[:, None] + region.y0) >= main.box.y0 + SHADOW_ROWS * size
        shadow = foreground & ~learned & below_hips & self._shadow_like(frame[rows, cols],
                                                                         self.background.image[rows, cols])
        person = foreground & ~shadow
        if learned.any():
            person &= cv2.dilate(learned.astype(np.uint8), _disc(NEAR_PERSON * size)).astype(bool)
        person = cv2.morphologyEx(person.astype(np.uint8), cv2.MORPH_CLOSE, _disc(CLOSING * size)).astype(bool)
        person = _fill_holes(person, learned) if learned.any() else person
        person = _keep_main_parts(person, learned if learned.any() else person)
        shadow = _keep_main_parts(shadow & ~person, cv2.dilate(person.astype(np.uint8), _disc(CLOSING * size)) > 0)
        return _paste(person, region, shape), _paste(shadow, region, shape)

    @staticmethod
    def _shadow_like(frame: np.ndarray, background: np.ndarray) -> np.ndarray:
        """Darker than the background by a shadow's ratio, with nearly the same chromaticity."""
        f = frame.astype(np.float32) + 1.0
        b = background.astype(np.float32) + 1.0
        ratio = f.sum(axis=-1) / b.sum(axis=-1)
        hue_shift = np.abs(f / f.sum(axis=-1, keepdims=True) - b / b.sum(axis=-1, keepdims=True)).sum(axis=-1)
        return (ratio > SHADOW_DARKER[0]) & (ratio < SHADOW_DARKER[1]) & (hue_shift < SHADOW_HUE)

    def _learned_only(self, frame: np.ndarray, index: int, people: int, empty: np.ndarray) -> FrameMask:
        """The background is invalid (camera moved): the learned mask on the walker's last box."""
        if self._last_box is None:
            return FrameMask(index, empty, empty.copy(), "none", "absent", people, True)
        region = self._last_box.grown(REGION_MARGIN * 3, frame.shape[:2])
        prediction = self.model.predict(frame, self._last_box, region)
        person = _paste(prediction.logits > 0, region, frame.shape[:2])
        box = Box.of_mask(person)
        if prediction.presence < PRESENCE_MIN or box is None:
            return FrameMask(index, empty, empty.copy(), "none", "absent", people, True)
        self._last_box = box
        return FrameMask(index, person, empty.copy(), "learned", self._body_state(box, [], frame.shape[:2]),
                         max(people, 1), True)

    def _body_state(self, box: Box, others: list[Box], shape: tuple[int, int]) -> str:
        """'cut' at a frame edge, 'occluded' behind another person or shorter than usual, else 'whole'."""
        if box.x0 <= 0 or box.y0 <= 0 or box.x1 >= shape[1] or box.y1 >= shape[0]:
            return "cut"
        if any(_overlap(box, o) for o in others):
            return "occluded"
        if self._whole_heights and box.height < OCCLUDED_HEIGHT * float(np.median(self._whole_heights)):
            return "occluded"
        self._whole_heights.append(box.height)
        return "whole"

    # ---- a sequence ---------------------------------------------------------------

    def track(self, frames: Iterable[tuple[int, np.ndarray]]) -> Iterator[FrameMask]:
        """Segment (index, frame) pairs in order, bridging short gaps."""
        return bridge_gaps(self.segment(frame, index) for index, frame in frames)


def _overlap(a: Box, b: Box) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def _paste(part: np.ndarray, region: Box, shape: tuple[int, int]) -> np.ndarray:
    full = np.zeros(shape, bool)
    full[region.slices()] = part
    return full


def _fill_holes(mask: np.ndarray, learned: np.ndarray) -> np.ndarray:
    """Fill enclosed holes that the learned mask calls person (clothing the colour of the wall)."""
    padded = np.pad(mask, 1).astype(np.uint8)
    outside = np.zeros((padded.shape[0] + 2, padded.shape[1] + 2), np.uint8)
    cv2.floodFill(padded, outside, (0, 0), 1)
    holes = padded[1:-1, 1:-1] == 0
    return mask | (holes & learned)


def _keep_main_parts(mask: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """Drop specks, and pieces that do not touch `anchor` (the learned mask, or the person for a shadow)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8))
    if count <= 1:
        return mask
    areas = stats[1:, cv2.CC_STAT_AREA]
    touched = np.bincount(labels[anchor], minlength=count)[1:] > 0
    keep = np.flatnonzero((areas >= KEEP_PART * areas.max()) & touched) + 1
    return np.isin(labels, keep)


def _shifted(mask: np.ndarray, dx: float, dy: float) -> np.ndarray:
    matrix = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]], np.float32)
    return cv2.warpAffine(mask.astype(np.uint8), matrix, mask.shape[::-1], flags=cv2.INTER_NEAREST).astype(bool)


def _centroid(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return np.array([xs.mean(), ys.mean()])


def _bridge(before: FrameMask, after: FrameMask, gap: list[FrameMask]) -> list[FrameMask]:
    """Fill the gap by moving the nearer neighbour's masks along the line between the two."""
    start, end = _centroid(before.person), _centroid(after.person)
    bridged = []
    for k, missing in enumerate(gap, start=1):
        t = k / (len(gap) + 1)
        source = before if t <= 0.5 else after
        dx, dy = start + t * (end - start) - _centroid(source.person)
        bridged.append(replace(missing, person=_shifted(source.person, dx, dy),
                               shadow=_shifted(source.shadow, dx, dy), segmenter="bridged", body=source.body,
                               people=max(missing.people, 1)))
    return bridged


def bridge_gaps(masks: Iterable[FrameMask], max_gap: int = MAX_GAP) -> Iterator[FrameMask]:
    """Fill up to `max_gap` frames where the walker was lost between two frames where they are in view.

    A gap after a frame cut by the edge and before another such frame is the
    walker off screen, not a miss, and stays absent.
    """
    previous: FrameMask | None = None
    gap: list[FrameMask] = []
    for mask in masks:
        if mask.body == "absent":
            if previous is None or mask.camera_moved:
                yield mask
                continue
            gap.append(mask)
            if len(gap) > max_gap:
                yield from gap
                gap, previous = [], None
            continue
        if gap and previous is not None and "whole" in (previous.body, mask.body):
            yield from _bridge(previous, mask, gap)
        else:
            yield from gap
        gap = []
        previous = mask
        yield mask
    yield from gap


def segment_frames(frames: list[np.ndarray], model: PersonMaskModel | None = None) -> list[FrameMask]:
    """Segment an in-memory clip (tests, the demo walker): background from its own frames."""
    segmenter = ClipSegmenter.from_frames([frames[i] for i in sample_indices(len(frames))], model)
    return list(segmenter.track(enumerate(frames)))


def segment_clip(path: str | Path, info: VideoInfo | None = None, start: float | None = None,
                 end: float | None = None) -> Iterator[FrameMask]:
    """Stream the masks of a video file: one pass to sample the background, one to segment."""
    info = info or probe(path)
    samples = _sample_frames(path, info, start, end)
    segmenter = ClipSegmenter.from_frames(samples)
    return segmenter.track((frame.index, frame.image) for frame in read_frames(path, info, start, end))


def _sample_frames(path: str | Path, info: VideoInfo, start: float | None, end: float | None) -> list[np.ndarray]:
    """Frames spread evenly over [start, end], read in one streaming pass."""
    first = start or 0.0
    last = info.duration if end is None else min(end, info.duration)
    expected = max(1, int(round((last - first) / max(info.duration, 1e-9) * info.frame_count)))
    wanted = set(sample_indices(expected, MAX_SAMPLES).tolist())
    samples = [frame.image for k, frame in enumerate(read_frames(path, info, start, end)) if k in wanted]
    if not samples:
        raise ValueError(f"no frames to sample between {first:.2f} s and {last:.2f} s")
    return samples


def normalise_like_casiab(mask: np.ndarray, size: int = 64) -> np.ndarray:
    """The dataset's own normalisation: crop to the person's rows, height `size` keeping the aspect,
    centred on the column where the silhouette's mass passes half, `size` x `size` bool."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return np.zeros((size, size), bool)
    strip = mask[rows[0]:rows[-1] + 1].astype(np.uint8) * 255
    width = max(1, int(size * strip.shape[1] / strip.shape[0]))
    strip = cv2.resize(strip, (width, size), interpolation=cv2.INTER_CUBIC)
    mass = strip.astype(np.float64).sum(axis=0).cumsum()
    centre = int(np.argmax(mass > mass[-1] / 2))
    half = size // 2
    padded = np.pad(strip, ((0, 0), (half, half)))
    return padded[:, centre:centre + size] > 127
