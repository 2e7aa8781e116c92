"""Frames -> every person in them, followed from frame to frame: one track (and one set of masks) each.

On keyframes the person detector (`detection.py`) and the segmenter's moving
groups that the learned model calls a person propose boxes; `BoxTracker`
matches them to the live tracks by box overlap (Hungarian assignment,
`scipy.optimize.linear_sum_assignment`) and carries each track's box between
keyframes at its measured velocity. No packaged tracker fits our pins
(README "Several people"). Each track's masks come from the learned person mask
on its box, fused with the background difference as for one walker. Where two
people overlap, the one whose feet are lower in the frame (nearer the camera)
keeps the pixels; the other is marked occluded, and the shape stage stands in
a whole body or covers it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from .background import camera_moved
from .detection import PersonDetector
from .person_mask import Box
from .silhouettes import BodyWatch, ClipSegmenter, FrameMask

__all__ = ["BoxTracker", "PeopleFrame", "follow_people"]

KEYFRAME_S = 0.12  # the detector runs about 8 times a second; the tracker carries the boxes between
MATCH_IOU = 0.3  # a detection continues a track when their boxes overlap at least this much
SAME_PERSON_IOU = 0.6  # two tracks whose boxes overlap this much follow one person: the younger goes
LOST_S = 1.0  # a track not confirmed by a detection for this long is dropped
VELOCITY_MEMORY = 0.5  # share of the previous velocity kept when a detection measures a new one
OCCLUDED_SHARE = 0.05  # a person who loses this share of their pixels to someone in front is occluded
NEAR_BOX = 0.1  # a person's mask stays within their box grown by this share of its height


@dataclass
class PeopleFrame:
    index: int
    people: dict[int, FrameMask]  # track id -> that person's masks (full resolution)
    unowned: np.ndarray | None = None  # what moves that no track follows (full resolution): to be covered
    camera_moved: bool = False


@dataclass
class _Track:
    id: int
    box: np.ndarray  # x0, y0, x1, y1 at the last detection
    seen: int  # position of that detection in the clip
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(4))  # px per frame, each side
    held: int = -1  # last position where the segmenter still found the person on the track's box

    def at(self, position: int) -> np.ndarray:
        return self.box + self.velocity * (position - self.seen)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(0.0, w) * max(0.0, h)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


class BoxTracker:
    """Track ids for boxes: detections on keyframes, constant velocity between them; a track the segmenter
    still finds is held, one nobody finds for `lost_frames` is dropped."""

    def __init__(self, lost_frames: int) -> None:
        self.lost_frames = lost_frames
        self.tracks: list[_Track] = []
        self._next_id = 1

    def boxes(self, position: int, shape: tuple[int, int]) -> dict[int, Box]:
        """The live tracks' boxes at this frame, clipped to it; tracks that left the frame are dropped."""
        placed = {}
        for track in self.tracks:
            x0, y0, x1, y1 = track.at(position)
            box = Box(max(0, int(x0)), max(0, int(y0)), min(shape[1], int(np.ceil(x1))),
                      min(shape[0], int(np.ceil(y1))))
            if box.width >= 2 and box.height >= 2:
                placed[track.id] = box
        self.tracks = [t for t in self.tracks if t.id in placed]
        return placed

    def update(self, position: int, detections: list[Box]) -> None:
        """Match this keyframe's detections to the tracks; start tracks for the rest; drop the long lost."""
        found = [np.array([b.x0, b.y0, b.x1, b.y1], float) for b in detections]
        predicted = [t.at(position) for t in self.tracks]
        unmatched = set(range(len(found)))
        if found and predicted:
            overlap = np.array([[_iou(p, d) for d in found] for p in predicted])
            for row, col in zip(*linear_sum_assignment(-overlap)):
                if overlap[row, col] >= MATCH_IOU:
                    self._confirm(self.tracks[row], found[col], position)
                    unmatched.discard(col)
        self.start(position, [detections[col] for col in sorted(unmatched)
                              if all(_iou(found[col], p) < MATCH_IOU for p in predicted)])
        self.tracks = [t for t in self.tracks if position - max(t.seen, t.held) <= self.lost_frames]
        self._drop_duplicates(position)

    def start(self, position: int, boxes: list[Box]) -> None:
        """A new track for each box (detections that continue no track)."""
        for box in boxes:
            self.tracks.append(_Track(self._next_id, np.array([box.x0, box.y0, box.x1, box.y1], float), position))
            self._next_id += 1

    def hold(self, track_id: int, position: int) -> None:
        """The track is still there on this frame (its segmenter found it): not lost, whatever the detector says."""
        next(t for t in self.tracks if t.id == track_id).held = position

    @staticmethod
    def _confirm(track: _Track, box: np.ndarray, position: int) -> None:
        step = (box - track.box) / max(1, position - track.seen)
        track.velocity = VELOCITY_MEMORY * track.velocity + (1.0 - VELOCITY_MEMORY) * step
        track.box, track.seen = box, position

    def _drop_duplicates(self, position: int) -> None:
        kept: list[_Track] = []
        for track in sorted(self.tracks, key=lambda t: t.id):  # the older id stays
            if all(_iou(track.at(position), k.at(position)) < SAME_PERSON_IOU for k in kept):
                kept.append(track)
        self.tracks = kept


class _Follower:
    """Per frame: detect on keyframes, place every track, segment each on its box, settle overlaps."""

    def __init__(self, segmenter: ClipSegmenter, detector: PersonDetector, fps: float) -> None:
        self.segmenter, self.detector = segmenter, detector
        self.keyframe = max(1, round(KEYFRAME_S * fps))
        self.tracker = BoxTracker(max(1, round(LOST_S * fps)))
        self.bodies: dict[int, BodyWatch] = {}

    def frame(self, position: int, index: int, image: np.ndarray) -> PeopleFrame:
        small = self.segmenter.at_work_size(image)
        shape = small.shape[:2]
        difference = self.segmenter.work.difference(small)
        if position % self.keyframe == 0:
            self.tracker.update(position, [d.box for d in self.detector.people(small)])
        boxes = self.tracker.boxes(position, shape)
        masks = {}
        for track, box in boxes.items():
            fused = self.segmenter.person_on(small, difference, box)
            if fused is None:
                fused = (np.zeros(shape, bool), np.zeros(shape, bool))
            else:
                self.tracker.hold(track, position)  # still there: the detector may miss them for a while
            near = _box_mask(box.grown(NEAR_BOX, shape), shape)
            masks[track] = (fused[0] & near, fused[1] & near)
        occluded = _settle_overlaps(masks, boxes)
        owned = np.zeros(shape, bool)
        for person, shadow in masks.values():
            owned |= person | shadow
        unowned = self.segmenter.unowned_motion(difference, owned)
        moved = camera_moved(small, self.segmenter.work, owned | unowned, difference)
        people = {track: self._full(self._frame_mask(track, index, masks[track], occluded[track], shape), image)
                  for track in boxes}
        return PeopleFrame(index, people, self._full_mask(unowned, image.shape[:2]), moved)

    def _full(self, mask: FrameMask, image: np.ndarray) -> FrameMask:
        return mask if self.segmenter.work is self.segmenter.background else \
            self.segmenter.to_full_resolution(mask, image)

    def _full_mask(self, mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        if mask.shape == shape:
            return mask
        return cv2.resize(mask.astype(np.uint8), shape[::-1], interpolation=cv2.INTER_NEAREST).astype(bool)

    def _frame_mask(self, track: int, index: int, masks: tuple[np.ndarray, np.ndarray], occluded: bool,
                    shape: tuple[int, int]) -> FrameMask:
        body = self.bodies.setdefault(track, BodyWatch())
        box = Box.of_mask(masks[0])
        if box is None:
            empty = np.zeros(shape, bool)
            return FrameMask(index, empty, empty.copy(), "none", "absent", 0, False)
        return FrameMask(index, masks[0], masks[1], "fused", body.state(box, occluded, shape, index), 1, False)


def _box_mask(box: Box, shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, bool)
    mask[box.slices()] = True
    return mask


def _settle_overlaps(masks: dict[int, tuple[np.ndarray, np.ndarray]], boxes: dict[int, Box]) -> dict[int, bool]:
    """Give shared pixels to the person in front (feet lowest in the frame); returns who is occluded.

    A person is occluded where people in front cover a share of their box: their own mask may simply
    have missed the hidden part."""
    order = sorted(masks, key=lambda t: boxes[t].y1, reverse=True)
    occluded: dict[int, bool] = {}
    if not order:
        return occluded
    taken = np.zeros(masks[order[0]][0].shape, bool)
    for track in order:
        person, shadow = masks[track]
        person &= ~taken
        shadow &= ~taken
        hidden = np.count_nonzero(taken[boxes[track].slices()])
        occluded[track] = hidden > OCCLUDED_SHARE * max(1, np.count_nonzero(person))
        taken |= cv2.dilate(person.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    return occluded


def follow_people(segmenter: ClipSegmenter, frames: Iterable[tuple[int, np.ndarray]], fps: float,
                  detector: PersonDetector | None = None) -> Iterator[PeopleFrame]:
    """Every person in (index, frame) pairs, in order: one `PeopleFrame` per frame."""
    follower = _Follower(segmenter, detector or PersonDetector(), fps)
    for position, (index, image) in enumerate(frames):
        yield follower.frame(position, index, image)
