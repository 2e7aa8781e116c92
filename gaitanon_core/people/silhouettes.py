"""Per frame: the walking person's mask, their shadow, and what the segmenter saw.

Two sources of evidence are fused (see README "Silhouettes"):

- the background model (`people/background.py`): where a static camera's frame
  differs from the empty scene. Sharp edges at full resolution, but it also
  fires on shadows, merges the legs where the floor shows between them, and
  misses clothing that matches the background;
- the learned person mask (`people/person_mask.py`), run on each candidate box only:
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
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Iterator

import cv2
import numpy as np

from .background import (
    MAX_SAMPLES,
    BackgroundModel,
    build_background,
    build_scaled_background,
    camera_moved,
    colour_difference,
    sample_indices,
)
from .detection import PersonDetector, shared_detector
from .person_mask import Box, PersonMaskModel, PersonPrediction
from ..video import Frame, VideoInfo, frame_times, probe, read_frames, select_frames
from ..video.stream import read_chosen_frames
from ..video.camera_motion import still_samples

LEVEL_IN = 35.0  # colour difference that counts as foreground where the learned mask says person
LEVEL_OUT = 40.0  # ... and where it says background (tuned on CASIA-B clips 002 and 003)
CANDIDATE_GROUP = 0.04  # foreground pieces closer than 4 % of the frame height form one candidate
MIN_CANDIDATE_HEIGHT = 0.06  # candidates shorter than 6 % of the frame height are noise
PART_OF_PERSON = 0.5  # a piece under half a person's height inside their crop is a part of them
MAX_CANDIDATES = 3  # the learned model runs on at most this many boxes per frame (speed)
UNOWNED_SIZE = 0.02  # moving pixels no track owns are covered in pieces from this share of the height squared
PRESENCE_MIN = 0.5  # the learned model's person-presence score for "this box is a person"
STANDING_LOOKS = 3  # samples (first, middle, last) the detector searches for people the median holds ...
STANDING_MATCH = 0.7  # ... whose learned mask matches the median (within LEVEL_IN) in this share of its pixels
NEAR_PERSON = 0.06  # foreground farther than 6 % of the person's height from the learned mask is dropped
CLOSING = 0.035  # closing kernel: 3.5 % of the person's height (about 5 px on a 130-px person)
KEEP_PART = 0.05  # pieces smaller than 5 % of the largest piece are dropped
SHADOW_ROWS = 0.8  # shadows are sought at the feet: below 80 % of the person's box height
SHADOW_MAX_PERSON = 0.2  # ... where the learned mask gives a person less than 20 %
SHADOW_DARKER = (0.35, 0.92)  # a shadow keeps 35-92 % of the background's brightness...
SHADOW_HUE = 0.06  # ... and its chromaticity changes by less than this
OCCLUDED_HEIGHT = 0.8  # shorter than 80 % of the recent whole-body height, not at an edge: occluded
SHARP_DROP = 0.1  # ... or 10 % shorter than a whole body a few frames before: a walker's height changes
SHARP_DROP_FRAMES = 5  # by a few % per second, so a part of the body was lost (a head against the wall)
EDGE_MARGIN = 0.02  # a box this close to an edge (share of the frame's smaller side) counts as touching it
MAX_GAP = 5  # missed frames bridged from their neighbours (0.2 s at 25 fps)
WORK_HEIGHT = 270  # taller frames are segmented on a copy at most this tall (the learned model sees 256 px anyway),
# reduced by a whole factor: OpenCV's area resize is several times faster then, and pixels map exactly
EDGE_BAND = 1.0  # ... and their edge redecided at full resolution within this many reduced pixels of it


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
    prediction: PersonPrediction

    @property
    def is_person(self) -> bool:
        return self.prediction.presence >= PRESENCE_MIN

    @property
    def extent(self) -> Box | None:
        return self.prediction.extent() if self.is_person else None

    def owns(self, piece: Box) -> bool:
        """Is `piece` part of this person: inside their learned mask, or a small piece (a head, a hand
        cut off by clothing the colour of the wall) within the crop the model saw?"""
        if self.extent is None:
            return False
        small = piece.height < PART_OF_PERSON * self.box.height
        return self.extent.contains_centre_of(piece) or (small and _overlap(piece, self.prediction.box))


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

    def __init__(self, background: BackgroundModel, model: PersonMaskModel | None = None,
                 work: BackgroundModel | None = None, samples_still: bool = True) -> None:
        self.background = background  # full resolution: also the colouring's empty scene
        self.work = work or background  # the (reduced) resolution the segmentation runs at
        self.samples_still = samples_still  # the samples showed a still camera (`still_samples`)
        self.model = model or PersonMaskModel()
        self._last_box: Box | None = None  # at working resolution, like every box below
        self._body = BodyWatch()

    @classmethod
    def from_frames(cls, samples: Iterable[np.ndarray], model: PersonMaskModel | None = None) -> ClipSegmenter:
        """Build the background from frames sampled across the clip (see `sample_indices`)."""
        model = model or PersonMaskModel()
        samples = list(samples)
        factor = work_factor(samples[0].shape[:2]) if samples else 1.0
        # A moving camera's samples show no one scene: their median is no background, and the ghost search in it
        # looks at every group that disagrees (155 learned-model looks on a handheld CASIA-B clip, 12-17 on a
        # still one, 85 on vtest) for nothing; such a clip is segmented again against backgrounds of its own.
        still = still_samples(samples)
        find_people = partial(_people_in, model, detector=shared_detector()) if still else None
        if factor < 1.0:
            full, work = build_scaled_background(samples, factor, find_people)
            return cls(full, model, work, still)
        return cls(build_background(samples, find_people), model, samples_still=still)

    def use_background(self, background: BackgroundModel, work: BackgroundModel | None = None) -> None:
        """Segment the next frames against `background` (full resolution) and `work` (reduced; None: the same);
        a moving camera's frames each have their own."""
        self.background, self.work = background, work or background

    # ---- one frame ----------------------------------------------------------------

    def segment(self, frame: np.ndarray, index: int) -> FrameMask:
        if frame.shape[:2] != self.background.shape:
            raise ValueError(f"frame {index} is {frame.shape[:2]}, the background {self.background.shape}")
        if self.work is self.background:
            return self._segment_at_work_size(frame, index)
        return self.to_full_resolution(self._segment_at_work_size(self.at_work_size(frame), index), frame)

    def at_work_size(self, frame: np.ndarray) -> np.ndarray:
        """The frame at the resolution the segmentation runs at (itself when that is full resolution)."""
        if self.work is self.background:
            return frame
        factor = work_factor(self.background.shape)  # as the samples were reduced (`build_scaled_background`):
        # the same pixel grid, and OpenCV's fast whole-pixel area path (720p: 0.2 ms, not 3 ms a frame)
        return cv2.resize(frame, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)

    def to_full_resolution(self, mask: FrameMask, frame: np.ndarray) -> FrameMask:
        """Scale the masks up; the person's edge is redecided, within a thin band, by the full-resolution
        background difference (the reduced masks only know the outline to a reduced pixel)."""
        shape = frame.shape[:2]
        person, shadow = _scaled_up(mask.person, shape), _scaled_up(mask.shadow, shape)
        box = Box.of_mask(person)
        if box is None:
            return replace(mask, person=person, shadow=shadow)
        band = max(1, int(np.ceil(EDGE_BAND * shape[0] / self.work.shape[0])))
        rows, cols = Box(max(0, box.x0 - band), max(0, box.y0 - band), min(shape[1], box.x1 + band),
                         min(shape[0], box.y1 + band)).slices()
        region = person[rows, cols].astype(np.uint8)
        foreground = (colour_difference(frame[rows, cols], self.background.image[rows, cols])
                      > np.maximum(self.background.threshold[rows, cols], LEVEL_IN))
        foreground = np.where(self.background.never_seen[rows, cols], region > 0, foreground)  # as in `_fuse`
        inner = cv2.erode(region, _disc(2 * band + 1)).astype(bool)
        outer = cv2.dilate(region, _disc(2 * band + 1)).astype(bool)
        refined = inner | (outer & foreground & ~shadow[rows, cols])
        person[rows, cols] = cv2.medianBlur(refined.astype(np.uint8), 3).astype(bool) | inner
        return replace(mask, person=person, shadow=shadow & ~person)

    def _segment_at_work_size(self, frame: np.ndarray, index: int) -> FrameMask:
        difference = self.work.difference(frame)
        candidates = self._candidates(frame, difference)
        people = [c for c in candidates if c.is_person]
        empty = np.zeros(frame.shape[:2], bool)
        moved = camera_moved(frame, self.work, self._people_mask(people, frame.shape[:2]), difference)
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
        if not main.is_person:
            # Something moves but the learned model sees no person in it: a body part at the edge, or a
            # person it cannot recognise. Never call that a whole body.
            body = "cut" if at_edge(box, frame.shape[:2]) else "occluded"
            return FrameMask(index, person, shadow, "background", body, len(people) + 1, False)
        body = self._body.state(box, any(_overlap(box, o) for o in others), frame.shape[:2], index)
        return FrameMask(index, person, shadow, "fused", body, len(people), False)

    def person_on(self, frame: np.ndarray, difference: np.ndarray, box: Box, detail: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray] | None:
        """(person, shadow) masks of the one person on `box` (working resolution, like `frame` and
        `difference`), fused as for the main walker; None where the learned model sees no person there.
        `detail`: the frame at full resolution, for the learned model's view of small people."""
        candidate = _Candidate(box, self.model.predict(frame, box, detail=detail))
        if not candidate.is_person:
            return None
        return self._fuse(frame, difference, candidate)

    def moving(self, difference: np.ndarray) -> np.ndarray:
        """The pixels (working resolution) that differ from the background by more than their flicker and
        than a person's colour difference."""
        return difference > np.maximum(self.work.threshold, LEVEL_IN)

    def unowned_motion(self, difference: np.ndarray, owned: np.ndarray) -> np.ndarray:
        """What moves (working resolution) clear of the `owned` pixels by a band: something no track follows
        (a person the detector missed or the learned mask left out, a body cut by the edge, the shadow of one
        entering), to be covered. Specks smaller than a hand are left."""
        height = difference.shape[0]
        foreground = self.moving(difference).astype(np.uint8)
        foreground = cv2.morphologyEx(foreground, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        near = cv2.dilate(owned.astype(np.uint8), _disc(CANDIDATE_GROUP * height)).astype(bool)
        _, labels, stats, _ = cv2.connectedComponentsWithStats(((foreground > 0) & ~near).astype(np.uint8))
        large = np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= (UNOWNED_SIZE * height) ** 2) + 1
        return np.isin(labels, large)

    def _candidates(self, frame: np.ndarray, difference: np.ndarray) -> list[_Candidate]:
        """Boxes around groups of foreground pieces, largest first, each judged by the learned model.

        A group inside a person already seen (a head or a hand that the
        background difference split off) joins that person instead.
        """
        height = frame.shape[0]
        foreground = (difference > np.maximum(self.work.threshold, LEVEL_IN)).astype(np.uint8)
        foreground = cv2.morphologyEx(foreground, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        disc = _disc(CANDIDATE_GROUP * height)
        grouped = cv2.dilate(foreground, disc)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(grouped)
        candidates: list[_Candidate] = []
        for label in np.argsort(-stats[1:, cv2.CC_STAT_AREA]) + 1:
            box = _undilated_box(stats[label], disc.shape[0] // 2, frame.shape[:2])
            if box.height < MIN_CANDIDATE_HEIGHT * height:
                continue
            owner = next((k for k, c in enumerate(candidates) if c.owns(box)), None)
            if owner is not None:
                candidates[owner] = self._judge(frame, candidates[owner].box.union(box))
            elif len(candidates) < MAX_CANDIDATES:
                candidates.append(self._judge(frame, box))
        return candidates

    def _judge(self, frame: np.ndarray, box: Box) -> _Candidate:
        """The learned mask on the box; once more on a larger box when the person runs out of the crop."""
        prediction = self.model.predict(frame, box)
        extent = prediction.extent()
        if extent is not None and _touches_inner_edge(extent, prediction.box, frame.shape[:2]):
            box = box.union(extent)
            prediction = self.model.predict(frame, box)
        return _Candidate(box, prediction)

    @staticmethod
    def _people_mask(people: list[_Candidate], shape: tuple[int, int]) -> np.ndarray:
        """The learned masks of the people in view, grown a little (their edges and shadows)."""
        mask = np.zeros(shape, bool)
        for c in people:
            grown = cv2.dilate((c.prediction.logits > 0).astype(np.uint8), _disc(NEAR_PERSON * c.box.height))
            mask |= _paste(grown.astype(bool), c.prediction.box, shape)
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
        region = main.prediction.box
        rows, cols = region.slices()
        size = main.box.height
        probability = main.prediction.probability()
        level = LEVEL_OUT - (LEVEL_OUT - LEVEL_IN) * probability
        foreground = difference[rows, cols] > np.maximum(level, self.work.threshold[rows, cols])
        learned = probability > 0.5
        # Where no sample showed the scene empty (a moving camera's neighbours all had someone there), the
        # difference says nothing either way: the learned mask decides. Taken as motion, it grew the body.
        unseen = self.work.never_seen[rows, cols]
        foreground = np.where(unseen, learned, foreground)
        feet_level = (np.arange(region.height)[:, None] + region.y0) >= main.box.y0 + SHADOW_ROWS * size
        rejected = probability < SHADOW_MAX_PERSON
        shadow = foreground & rejected & feet_level
        shadow[shadow] = _shadow_like(frame[rows, cols][shadow], self.work.image[rows, cols][shadow])
        person = foreground & ~shadow
        if learned.any():
            person &= cv2.dilate(learned.astype(np.uint8), _disc(NEAR_PERSON * size)).astype(bool)
        person = cv2.morphologyEx(person.astype(np.uint8), cv2.MORPH_CLOSE, _disc(CLOSING * size)).astype(bool)
        person = _fill_holes(person, learned) if learned.any() else person
        person = _keep_main_parts(person, learned if learned.any() else person)
        shadow = _keep_main_parts(shadow & ~person, cv2.dilate(person.astype(np.uint8), _disc(CLOSING * size)) > 0)
        return _paste(person, region, shape), _paste(shadow, region, shape)

    def _learned_only(self, frame: np.ndarray, index: int, people: int, empty: np.ndarray) -> FrameMask:
        """The background is invalid (camera moved): the learned mask on the walker's last box."""
        if self._last_box is None:
            return FrameMask(index, empty, empty.copy(), "none", "absent", people, True)
        prediction = self.model.predict(frame, self._last_box)
        person = _paste(prediction.logits > 0, prediction.box, frame.shape[:2])
        box = Box.of_mask(person)
        if prediction.presence < PRESENCE_MIN or box is None:
            return FrameMask(index, empty, empty.copy(), "none", "absent", people, True)
        self._last_box = box
        return FrameMask(index, person, empty.copy(), "learned", self._body.state(box, False, frame.shape[:2], index),
                         max(people, 1), True)

    # ---- a sequence ---------------------------------------------------------------

    def track(self, frames: Iterable[tuple[int, np.ndarray]]) -> Iterator[FrameMask]:
        """Segment (index, frame) pairs in order, bridging short gaps."""
        return bridge_gaps(self.segment(frame, index) for index, frame in frames)


class BodyWatch:
    """One person's body state from frame to frame: how tall their whole body has been lately."""

    def __init__(self) -> None:
        self._whole_heights: deque[int] = deque(maxlen=25)
        self._last_whole: tuple[int, int] | None = None  # (frame index, height) of the last whole body

    def state(self, box: Box, overlapped: bool, shape: tuple[int, int], index: int) -> str:
        """'cut' at (or within EDGE_MARGIN of) a frame edge, 'occluded' behind another person (`overlapped`)
        or shorter than usual, else 'whole'."""
        if at_edge(box, shape):
            return "cut"
        if overlapped or self._shorter_than_whole(box, index):
            return "occluded"
        self._whole_heights.append(box.height)
        self._last_whole = (index, box.height)
        return "whole"

    def _shorter_than_whole(self, box: Box, index: int) -> bool:
        """Shorter than the recent whole bodies, or than one a few frames before by more than a walk explains."""
        if self._whole_heights and box.height < OCCLUDED_HEIGHT * float(np.median(self._whole_heights)):
            return True
        if self._last_whole is None or index - self._last_whole[0] > SHARP_DROP_FRAMES:
            return False
        return box.height < (1.0 - SHARP_DROP) * self._last_whole[1]


def work_factor(shape: tuple[int, int]) -> float:
    """The scale at which a frame of `shape` is segmented (1: as it is; else 1/2, 1/3, ...)."""
    return 1.0 / int(np.ceil(shape[0] / WORK_HEIGHT))


def _scaled_up(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    return cv2.resize(mask.astype(np.uint8) * 255, shape[::-1], interpolation=cv2.INTER_LINEAR) > 127


def _people_in(model: PersonMaskModel, image: np.ndarray, places: np.ndarray, samples: np.ndarray,
               detector: PersonDetector | None = None) -> np.ndarray:
    """Pixels of `image` (the median of `samples`) that the learned model calls person, looking at each group
    of pixels of each layer of `places` (N, H, W); boxes that nearly repeat one already seen are skipped. With
    `detector`: also whoever stands there in the samples themselves (`_standing_in`)."""
    seen: list[Box] = []
    found = np.zeros(image.shape[:2], bool)
    for layer in places:
        grouped = cv2.dilate(layer.astype(np.uint8), _disc(CANDIDATE_GROUP * image.shape[0]))
        count, labels, stats, _ = cv2.connectedComponentsWithStats(grouped)
        for x, y, w, h, _ in stats[1:]:
            box = Box(int(x), int(y), int(x + w), int(y + h))
            if h < MIN_CANDIDATE_HEIGHT * image.shape[0] or any(_box_iou(box, b) > 0.5 for b in seen):
                continue
            seen.append(box)
            prediction = model.predict(image, box)
            if prediction.presence >= PRESENCE_MIN:
                found |= _paste(prediction.logits > 0, prediction.box, found.shape)
    return found if detector is None else found | _standing_in(model, detector, image, samples)


def _standing_in(model: PersonMaskModel, detector: PersonDetector, median: np.ndarray, samples: np.ndarray
                 ) -> np.ndarray:
    """Pixels of `median` that hold a person who stood there: found by the detector in a few of the `samples`
    (STANDING_LOOKS, spread), their learned mask there matching the median in STANDING_MATCH of its pixels.
    Who stood in one place through every sample is in the median and disagrees with no sample, so the groups
    of `_people_in` never look there; left in the background, they differ from nothing and the segmenter
    never sees them (a generated walker standing through a clip came out "nobody found: copied unchanged").
    Someone who shifts their stance leaves a blend the mask does not match (vtest's man by the sign post:
    0.16; `pipeline.camera.without_standing_people` covers the scene behind him)."""
    found = np.zeros(median.shape[:2], bool)
    for k in np.unique(np.linspace(0, len(samples) - 1, STANDING_LOOKS).round().astype(int)):
        detections = detector.people(samples[k])
        same = colour_difference(samples[k], median) <= LEVEL_IN if detections else None
        for detection in detections:
            prediction = model.predict(samples[k], detection.box)
            person = _paste(prediction.logits > 0, prediction.box, found.shape)
            if prediction.presence >= PRESENCE_MIN and person.any() and same[person].mean() >= STANDING_MATCH:
                found |= person
    return found


def _box_iou(a: Box, b: Box) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    inter = max(0, w) * max(0, h)
    return inter / (a.width * a.height + b.width * b.height - inter)


def _shadow_like(pixels: np.ndarray, background: np.ndarray) -> np.ndarray:
    """(N, 3) pixels darker than their (N, 3) background by a shadow's ratio, with nearly the same hue."""
    f = pixels.astype(np.float32) + 1.0
    b = background.astype(np.float32) + 1.0
    f_sum, b_sum = f.sum(axis=-1, keepdims=True), b.sum(axis=-1, keepdims=True)
    ratio = (f_sum / b_sum)[:, 0]
    hue_shift = np.abs(f / f_sum - b / b_sum).sum(axis=-1)
    return (ratio > SHADOW_DARKER[0]) & (ratio < SHADOW_DARKER[1]) & (hue_shift < SHADOW_HUE)


def _undilated_box(stats: np.ndarray, radius: int, shape: tuple[int, int]) -> Box:
    """The box of a group before it was dilated by `radius` (where the frame edge did not clip it)."""
    x, y, w, h = (int(v) for v in stats[:4])
    x0 = x + radius if x > 0 else 0
    y0 = y + radius if y > 0 else 0
    x1 = x + w - radius if x + w < shape[1] else shape[1]
    y1 = y + h - radius if y + h < shape[0] else shape[0]
    return Box(x0, y0, max(x1, x0 + 1), max(y1, y0 + 1))


def at_edge(box: Box, shape: tuple[int, int]) -> bool:
    """Within EDGE_MARGIN of an edge: the segmenter may miss the last few pixels of a body leaving."""
    near = EDGE_MARGIN * min(shape)
    return box.x0 <= near or box.y0 <= near or box.x1 >= shape[1] - near or box.y1 >= shape[0] - near


def _touches_inner_edge(extent: Box, region: Box, shape: tuple[int, int]) -> bool:
    """Does the learned mask reach (within 2 % of the crop) a side of the crop that is not the frame's edge?"""
    near = max(2, int(0.02 * region.height))
    return ((extent.y0 <= region.y0 + near and region.y0 > 0)
            or (extent.y1 >= region.y1 - near and region.y1 < shape[0])
            or (extent.x0 <= region.x0 + near and region.x0 > 0)
            or (extent.x1 >= region.x1 - near and region.x1 < shape[1]))


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
    """Keep the pieces that mostly lie on `anchor` (the learned mask; the person, for a shadow),
    and the large pieces that touch it; drop specks and strays."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8))
    if count <= 1:
        return mask
    areas = stats[1:, cv2.CC_STAT_AREA]
    on_anchor = np.bincount(labels[anchor], minlength=count)[1:]
    keep = (on_anchor >= 0.5 * areas) | ((areas >= KEEP_PART * areas.max()) & (on_anchor > 0))
    return np.isin(labels, np.flatnonzero(keep) + 1)


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
    samples = sample_frames(path, info, start, end)
    segmenter = ClipSegmenter.from_frames(samples)
    return segmenter.track((frame.index, frame.image) for frame in read_frames(path, info, start, end))


def sampled_frames(path: str | Path, info: VideoInfo, start: float | None, end: float | None) -> Iterator[Frame]:
    """The frames the background is sampled from: spread evenly over [start, end], read (when iterated) in one
    pass that hands over only them."""
    return read_chosen_frames(path, _sampled(info, start, end), info)


def _sampled(info: VideoInfo, start: float | None, end: float | None) -> list[int]:
    """The clip indices of the background's samples: spread evenly over [start, end]."""
    excerpt = select_frames(frame_times(info.path), start, end)
    return [excerpt[k] for k in sample_indices(len(excerpt), MAX_SAMPLES)]


def sample_count(info: VideoInfo, start: float | None, end: float | None) -> int:
    """How many frames `sampled_frames` hands over (the decoder still goes through every frame before the last
    of them: most of a long clip, worth a progress count)."""
    return len(_sampled(info, start, end))


def sample_frames(path: str | Path, info: VideoInfo, start: float | None, end: float | None,
                  watch: Callable[[Iterator[Frame]], Iterable[Frame]] | None = None) -> list[np.ndarray]:
    """The pictures of `sampled_frames`; `watch` sees them go by (progress, cancel)."""
    frames = sampled_frames(path, info, start, end)
    samples = [frame.image for frame in (frames if watch is None else watch(frames))]
    if not samples:
        first, last = start or 0.0, info.duration if end is None else min(end, info.duration)
        raise ValueError(f"no frames to sample between {first:.2f} s and {last:.2f} s")
    return samples


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two masks (1.0 when both are empty)."""
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0
