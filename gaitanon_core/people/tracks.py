"""Frames -> every person in them, followed from frame to frame: one track (and one set of masks) each.

On keyframes the person detector (`detection.py`) proposes boxes; `BoxTracker`
matches them to the live tracks (Hungarian assignment,
`scipy.optimize.linear_sum_assignment`) by box overlap and by how alike the
moving pixels' colours are, and carries each track's box between keyframes at
its centre's measured velocity. Detections the detector is unsure of only
continue tracks (they start none); a track nobody finds for a while is lost,
and kept for a few seconds to be re-identified by its colours when someone who
looks like them appears within walking reach. No packaged tracker fits our pins (README "Several people").
Each track's masks come from the learned person mask on its box, fused with the
background difference as for one walker. Where two people overlap, the one
whose feet are lower in the frame (nearer the camera) keeps the pixels; the
other is marked occluded, and the shape stage stands in a whole body or covers
it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import combinations

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from .background import camera_moved
from .detection import MIN_CONFIDENCE, PersonDetector, shared_detector
from .person_mask import Box
from .silhouettes import BodyWatch, ClipSegmenter, FrameMask

__all__ = ["BoxTracker", "PeopleFrame", "Sighting", "follow_people", "keyframe_every"]

KEYFRAME_S = 0.12  # the detector runs about 8 times a second while anything is unsettled; the tracker carries
CALM_KEYFRAME_S = 0.25  # the boxes between; four times a second while every track is found on its box and nothing
# else moves (twice, even with `_outgrows`, or only while everyone was half their height from the frame's sides: a
# walker leaving by the edge of a short clip was covered for a frame: motion beyond a box not refreshed since)
EMPTY_KEYFRAME_S = 1.0  # once a second while nobody is followed and nothing moves (whoever comes in moves)
NEAR_PEOPLE = 0.25  # two people whose boxes come this share of their height close are unsettled (a crossing)
UNSURE_CONFIDENCE = 0.3  # detections from here up to detection.MIN_CONFIDENCE only continue tracks
MATCH_IOU = 0.3  # a detection continues a track when their boxes overlap at least this much, or when ...
NEAR_CENTRES = 0.35  # ... their centres are this many box heights apart at most, their heights alike and
DIFFERENT_LOOK = 0.6  # their colours not unlike: small people's boxes jitter by more than their overlap
LOOK_WEIGHT = 0.5  # the colour distance's weight in the assignment's cost (1 - overlap + centre distance)
SAME_LOOK = 0.45  # Bhattacharyya distance of two colour histograms under which they look alike
SAME_HEIGHT = 1.3  # two boxes whose heights differ by less than this factor may hold the same person
SAME_PERSON_IOU = 0.6  # two tracks whose boxes overlap this much follow one person, unless both were seen
LOST_S = 1.0  # a track not confirmed by a detection nor found by the segmenter for this long is lost ...
REMEMBER_S = 4.0  # ... and remembered this long, to be re-identified
WALKING_REACH = 1.0  # body heights a lost person may walk per second (people walk about 0.8) ...
REACH_MARGIN = 0.5  # ... plus this many, for the box's own jitter
VELOCITY_MEMORY = 0.7  # share of the previous velocity kept when a detection measures a new one
SIZE_MEMORY = 0.7  # share of a track's box size kept when a detection measures it again
LOOK_MEMORY = 0.8  # share of a track's colour histogram kept when a detection shows it again
MIN_LOOK_PIXELS = 60  # fewer moving pixels in the box than this tell nothing about the colours
LOOK_BINS = (8, 3, 4)  # hue, saturation, value
OCCLUDED_SHARE = 0.05  # a person who loses this share of their pixels to someone in front is occluded
NEAR_BOX = 0.1  # a person's mask stays within their box grown by this share of its height
STILL_MOTION = 0.05  # a person the detector is sure of, whom the segmenter finds nothing of, and of whose box less
# than this share moves or is someone else's, stands where the background model holds them: covered (`_unseparated`)
UNMATCHED = 1e6  # the assignment's cost for a pair that may not match


@dataclass
class PeopleFrame:
    index: int
    people: dict[int, FrameMask]  # track id -> that person's masks (full resolution)
    unowned: np.ndarray | None = None  # what moves that no track follows (full resolution): to be covered
    camera_moved: bool = False
    unseparated: dict[int, Box] = field(default_factory=dict)  # track id -> the box (full resolution) of a person
    # the detector is sure of and the segmenter cannot tell from the scene (`_Follower._unseparated`): to be covered


@dataclass(frozen=True)
class Sighting:
    """One detection as the tracker uses it."""

    box: np.ndarray  # x0, y0, x1, y1
    confidence: float
    look: np.ndarray | None  # colour histogram of the moving pixels (`colour_look`); None: too few

    @property
    def is_sure(self) -> bool:
        """A sure detection (>= detection.MIN_CONFIDENCE): it may start a track and confirms the person there."""
        return self.confidence >= MIN_CONFIDENCE


@dataclass(eq=False)  # a track is itself: compared by identity
class _Track:
    id: int
    centre: np.ndarray  # x, y at the last detection
    size: np.ndarray  # width, height: smoothed over the detections (a small person's box jitters)
    seen: int  # position of that detection in the clip
    look: np.ndarray | None = None
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))  # the centre's, px per frame
    held: int = -1  # last position where the segmenter still found the person on the track's box
    sure: int = -1  # last position where a sure detection (>= MIN_CONFIDENCE) confirmed the track

    def at(self, position: int) -> np.ndarray:
        """The predicted box (x0, y0, x1, y1): the centre moved at the velocity, the smoothed size."""
        centre = self.centre + self.velocity * (position - self.seen)
        return np.concatenate([centre - self.size / 2.0, centre + self.size / 2.0])

    @property
    def last(self) -> int:
        """The last position anything confirmed the track."""
        return max(self.seen, self.held)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(0.0, w) * max(0.0, h)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def _centre(box: np.ndarray) -> np.ndarray:
    return (box[:2] + box[2:]) / 2.0


def _size(box: np.ndarray) -> np.ndarray:
    return box[2:] - box[:2]


def _alike_heights(a: np.ndarray, b: np.ndarray) -> bool:
    return 1.0 / SAME_HEIGHT <= (b[3] - b[1]) / (a[3] - a[1]) <= SAME_HEIGHT


def _look_distance(a: np.ndarray | None, b: np.ndarray | None) -> float | None:
    """Bhattacharyya distance (0 alike .. 1 nothing in common); None when either look is unknown."""
    if a is None or b is None:
        return None
    return float(cv2.compareHist(a, b, cv2.HISTCMP_BHATTACHARYYA))


def colour_look(image: np.ndarray, moving: np.ndarray, box: np.ndarray) -> np.ndarray | None:
    """A person's colours: the hue-saturation-value histogram of the moving pixels in the middle half of their
    box's width (the sides are mostly background, and a neighbour's arm). `box` and `moving` are at the
    working resolution, `image` may be larger (more pixels, a steadier histogram). None with too few pixels."""
    x0, y0, x1, y1 = box
    quarter = (x1 - x0) / 4.0
    rows = slice(max(0, int(y0)), max(0, int(y1)))
    cols = slice(max(0, int(x0 + quarter)), max(0, int(np.ceil(x1 - quarter))))
    scale = image.shape[0] // moving.shape[0]
    pixels = image[rows.start * scale: rows.stop * scale, cols.start * scale: cols.stop * scale]
    mask = moving[rows, cols].astype(np.uint8)
    if pixels.size == 0 or np.count_nonzero(mask) * scale * scale < MIN_LOOK_PIXELS:
        return None
    mask = cv2.resize(mask, (pixels.shape[1], pixels.shape[0]), interpolation=cv2.INTER_NEAREST)
    hsv = cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2HSV)
    histogram = cv2.calcHist([hsv], [0, 1, 2], mask, list(LOOK_BINS), [0, 180, 0, 256, 0, 256])
    return (histogram / histogram.sum()).astype(np.float32)


def _assign(tracks: list[_Track], sightings: list[Sighting],
            cost: Callable[[_Track, Sighting], float | None]) -> list[tuple[_Track, Sighting]]:
    """The cheapest one-to-one pairs of tracks and sightings (Hungarian); `cost` None forbids a pair."""
    if not tracks or not sightings:
        return []
    costs = [[cost(t, s) for s in sightings] for t in tracks]
    matrix = np.array([[UNMATCHED if c is None else c for c in row] for row in costs])
    return [(tracks[r], sightings[c]) for r, c in zip(*linear_sum_assignment(matrix)) if costs[r][c] is not None]


class BoxTracker:
    """Track ids for boxes: detections on keyframes, constant velocity between them; a track the segmenter
    still finds is held, one nobody finds for `lost_frames` is lost, and re-identified by its colours for
    `remember_frames` more."""

    def __init__(self, lost_frames: int, remember_frames: int, fps: float) -> None:
        self.lost_frames, self.remember_frames, self.fps = lost_frames, remember_frames, fps
        self.tracks: list[_Track] = []
        self.lost: list[_Track] = []
        self._next_id = 1

    def boxes(self, position: int, shape: tuple[int, int]) -> dict[int, Box]:
        """The live tracks' boxes at this frame, clipped to it; tracks whose box left the frame are lost."""
        placed = {}
        for track in self.tracks:
            x0, y0, x1, y1 = track.at(position)
            box = Box(max(0, int(x0)), max(0, int(y0)), min(shape[1], int(np.ceil(x1))),
                      min(shape[0], int(np.ceil(y1))))
            if box.width >= 2 and box.height >= 2:
                placed[track.id] = box
        self._lose([t for t in self.tracks if t.id not in placed])
        return placed

    def update(self, position: int, sightings: list[Sighting]) -> None:
        """Match this keyframe's detections to the tracks (sure ones first, then the unsure ones to the tracks
        left), re-identify lost tracks in the sure ones left, start tracks for the rest; lose the long unseen."""
        sure = [s for s in sightings if s.is_sure]
        unsure = [s for s in sightings if not s.is_sure]
        matched = self._confirm_all(position, _assign(self.tracks, sure, lambda t, s: self._continues(t, s, position)))
        waiting = [t for t in self.tracks if t.id not in matched]
        self._confirm_all(position, _assign(waiting, unsure, lambda t, s: self._continues_surely(t, s, position)))
        predicted = [t.at(position) for t in self.tracks]
        new = [s for s in sure if not any(s is m for m in matched.values())
               and all(_iou(s.box, p) < MATCH_IOU for p in predicted)]
        revived = _assign(self.lost, new, lambda t, s: self._reidentifies(t, s, position))
        for track, sighting in revived:
            self.lost.remove(track)
            self.tracks.append(track)
            self._confirm(track, sighting, position)
        self.start(position, [s for s in new if not any(s is r for _, r in revived)])
        self._lose([t for t in self.tracks if position - t.last > self.lost_frames])
        self.lost = [t for t in self.lost if position - t.last <= self.remember_frames]
        self._drop_duplicates(position)

    def start(self, position: int, sightings: list[Sighting]) -> None:
        """A new track for each sighting (detections that continue no track)."""
        for sighting in sightings:
            self.tracks.append(_Track(self._next_id, _centre(sighting.box), _size(sighting.box), position,
                                      sighting.look, sure=position if sighting.is_sure else -1))
            self._next_id += 1

    def hold(self, track_id: int, position: int) -> None:
        """The segmenter found the person on the track's box, so the track is not lost, whatever the detector
        says. (Their mask does not move the box: where two people overlap it holds both.)"""
        next(t for t in self.tracks if t.id == track_id).held = position

    def _continues(self, track: _Track, sighting: Sighting, position: int) -> float | None:
        """The cost of `sighting` continuing `track`; None where it cannot: boxes apart, unlike heights or
        unlike colours."""
        predicted = track.at(position)
        overlap = _iou(predicted, sighting.box)
        apart = np.hypot(*(_centre(sighting.box) - _centre(predicted))) / track.size[1]
        distance = _look_distance(track.look, sighting.look)
        unlike = distance is not None and distance > DIFFERENT_LOOK
        near = apart <= NEAR_CENTRES and _alike_heights(predicted, sighting.box) and not unlike
        if overlap < MATCH_IOU and not near:
            return None
        return 1.0 - overlap + apart + LOOK_WEIGHT * (SAME_LOOK if distance is None else distance)

    def _continues_surely(self, track: _Track, sighting: Sighting, position: int) -> float | None:
        """An unsure detection continues a track only on its box (a neighbour's unsure box is near too)."""
        overlap = _iou(track.at(position), sighting.box)
        distance = _look_distance(track.look, sighting.look)
        if overlap < MATCH_IOU or (distance is not None and distance > DIFFERENT_LOOK):
            return None
        return 1.0 - overlap

    def _reidentifies(self, track: _Track, sighting: Sighting, position: int) -> float | None:
        """The cost of `sighting` being the lost `track` again: alike colours (or not unlike ones where it is
        still on the track's last box: a person who stood still), a like height, within a walker's reach."""
        last = track.at(track.seen)
        distance = _look_distance(track.look, sighting.look)
        in_place = _iou(last, sighting.box) >= MATCH_IOU
        if distance is None or distance > (DIFFERENT_LOOK if in_place else SAME_LOOK):
            return None
        if not _alike_heights(last, sighting.box):
            return None
        reach = track.size[1] * (REACH_MARGIN + WALKING_REACH * (position - track.last) / self.fps)
        gap = np.hypot(*(_centre(sighting.box) - track.centre))
        return None if gap > reach else distance + gap / reach

    def _confirm_all(self, position: int, pairs: list[tuple[_Track, Sighting]]) -> dict[int, Sighting]:
        for track, sighting in pairs:
            self._confirm(track, sighting, position)
        return {track.id: sighting for track, sighting in pairs}

    @staticmethod
    def _confirm(track: _Track, sighting: Sighting, position: int) -> None:
        centre = _centre(sighting.box)
        step = (centre - track.centre) / max(1, position - track.seen)
        track.velocity = VELOCITY_MEMORY * track.velocity + (1.0 - VELOCITY_MEMORY) * step
        track.size = SIZE_MEMORY * track.size + (1.0 - SIZE_MEMORY) * _size(sighting.box)
        track.centre, track.seen = centre, position
        if sighting.is_sure:
            track.sure = position
        if sighting.look is not None:
            track.look = sighting.look if track.look is None else \
                LOOK_MEMORY * track.look + (1.0 - LOOK_MEMORY) * sighting.look

    def _lose(self, tracks: list[_Track]) -> None:
        """Take `tracks` out of the live ones, into the lost ones (without their velocity: a lost walker may
        have stopped or turned)."""
        for track in tracks:
            track.velocity = np.zeros(2)
        self.tracks = [t for t in self.tracks if not any(t is lost for lost in tracks)]
        self.lost += tracks

    def _drop_duplicates(self, position: int) -> None:
        """Of two tracks on one box, the one no detection confirmed now (else the younger) is lost: two that
        detections confirmed are two people crossing, and a hidden one may be re-identified after."""
        kept: list[_Track] = []
        for track in sorted(self.tracks, key=lambda t: (t.seen != position, t.id)):
            box = track.at(position)
            if track.seen == position or all(_iou(box, k.at(position)) < SAME_PERSON_IOU for k in kept):
                kept.append(track)
        self._lose([t for t in self.tracks if not any(t is k for k in kept)])


@dataclass
class _Segmented:
    """One frame's tracks segmented (working resolution)."""

    boxes: dict[int, Box]
    masks: dict[int, tuple[np.ndarray, np.ndarray]]  # track -> (person, shadow)
    occluded: dict[int, bool]
    unowned: np.ndarray
    moved: bool
    settled: bool  # see `_settled`; False where the camera moved


def keyframe_every(fps: float) -> int:
    """Frames between two keyframes while anything is unsettled: the grid every pass over a clip detects on."""
    return max(1, round(KEYFRAME_S * fps))


class _Follower:
    """Per frame: detect on keyframes, place every track, segment each on its box, settle overlaps."""

    def __init__(self, segmenter: ClipSegmenter, detector: PersonDetector, fps: float) -> None:
        self.segmenter, self.detector = segmenter, detector
        self.keyframe = keyframe_every(fps)
        self.calm_keyframe = max(self.keyframe, round(CALM_KEYFRAME_S * fps))
        self.empty_keyframe = max(self.calm_keyframe, round(EMPTY_KEYFRAME_S * fps))
        self.detected = -self.calm_keyframe  # the position of the last keyframe
        self.calm = False  # the last frame was settled (`_settled`)
        self.tracker = BoxTracker(max(1, round(LOST_S * fps)), max(1, round(REMEMBER_S * fps)), fps)
        self.bodies: dict[int, BodyWatch] = {}
        self.unseparated: set[int] = set()  # see `_unseparated`

    def frame(self, position: int, index: int, image: np.ndarray) -> PeopleFrame:
        small = self.segmenter.at_work_size(image)
        shape = small.shape[:2]
        difference = self.segmenter.work.difference(small)
        if self._keyframe(position):
            self._detect(position, image, small, difference)
        found = self._segment(position, image, small, difference)
        if not found.settled and position % self.keyframe == 0 and self.detected != position:
            # the calm this keyframe was skipped for is over (a person lost, someone coming in): detect after all
            self._detect(position, image, small, difference)
            found = self._segment(position, image, small, difference)
        self.calm = found.settled
        people = {track: self._full(self._frame_mask(track, index, found.masks[track], found.occluded[track], shape),
                                    image) for track in found.boxes}
        unseparated = {track: found.boxes[track].rescaled(shape, image.shape[:2])
                       for track in self._unseparated(position, found)}
        return PeopleFrame(index, people, self._full_mask(found.unowned, image.shape[:2]), found.moved, unseparated)

    def _detect(self, position: int, image: np.ndarray, small: np.ndarray, difference: np.ndarray) -> None:
        self.tracker.update(position, self._sightings(image, small, difference))
        self.detected = position

    def _segment(self, position: int, image: np.ndarray, small: np.ndarray, difference: np.ndarray) -> _Segmented:
        """Every track segmented on its box (at the working size; the learned model reads small people from the
        full-resolution `image`), overlaps settled, what moves unowned."""
        shape = small.shape[:2]
        boxes = self.tracker.boxes(position, shape)
        masks = {}
        outgrown = False  # someone's mask reaches past their box: it is out of date (they turned, came nearer)
        for track, box in boxes.items():
            fused = self.segmenter.person_on(small, difference, box, image)
            if fused is None:
                fused = (np.zeros(shape, bool), np.zeros(shape, bool))
            near = _box_mask(box.grown(NEAR_BOX, shape), shape)
            outgrown |= _outgrows(fused[0], near)
            masks[track] = (fused[0] & near, fused[1] & near)
            if masks[track][0].any():
                self.tracker.hold(track, position)  # still there: the detector may miss them for a while
        occluded = _settle_overlaps(masks, boxes)
        owned = np.zeros(shape, bool)
        for person, shadow in masks.values():
            owned |= person | shadow
        unowned = self.segmenter.unowned_motion(difference, owned)
        moved = camera_moved(small, self.segmenter.work, owned | unowned, difference)
        return _Segmented(boxes, masks, occluded, unowned, moved,
                          not moved and not outgrown and _settled(masks, boxes, unowned))

    def _unseparated(self, position: int, found: _Segmented) -> set[int]:
        """The tracks that a sure detection confirmed on the last keyframe while the segmenter found nothing of
        them there, and on whose box almost nothing moved or was someone else's: someone standing where the
        background model holds them (in the median of the samples: no sample showed the scene behind them), whom
        nothing else would cover. (One whom a neighbour's mask holds is taken out and drawn with them; one who
        moves is covered as unfollowed motion.) Decided on each keyframe; between keyframes, for as long as the
        segmenter still finds nothing of them."""
        if self.detected == position:
            sure = {t.id for t in self.tracker.tracks if t.sure == position and t.id in found.boxes}
            self.unseparated = {track for track in sure if _unseen_still(found, track)}
        else:
            self.unseparated = {track for track in self.unseparated
                                if track in found.boxes and not found.masks[track][0].any()}
        return self.unseparated

    def _keyframe(self, position: int) -> bool:
        """Every `keyframe`-th frame while anything is unsettled; while all is calm, every `calm_keyframe`
        frames at most, or `empty_keyframe` with nobody followed; always on the `keyframe` grid, so that two
        passes over a clip ask for the same frames."""
        calm_every = self.calm_keyframe if self.tracker.tracks else self.empty_keyframe
        return position % self.keyframe == 0 and (not self.calm or position - self.detected >= calm_every)

    def _sightings(self, image: np.ndarray, small: np.ndarray, difference: np.ndarray) -> list[Sighting]:
        """The detector's people on this frame (the unsure ones too), each with their colours (read on the
        full-resolution `image`)."""
        moving = self.segmenter.moving(difference)
        sightings = []
        for detection in self.detector.people(small, UNSURE_CONFIDENCE):
            box = np.array([detection.box.x0, detection.box.y0, detection.box.x1, detection.box.y1], float)
            sightings.append(Sighting(box, detection.confidence, colour_look(image, moving, box)))
        return sightings

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


def _settled(masks: dict[int, tuple[np.ndarray, np.ndarray]], boxes: dict[int, Box], unowned: np.ndarray) -> bool:
    """Nothing for the detector to settle soon: every track found on its box, nothing moving that no track
    follows (someone coming in), no two people near each other (about to cross)."""
    if unowned.any() or any(not person.any() for person, _ in masks.values()):
        return False
    return not any(_near(a, b, NEAR_PEOPLE * max(a.height, b.height)) for a, b in combinations(boxes.values(), 2))


def _unseen_still(found: _Segmented, track: int) -> bool:
    """Nothing of the person found, and almost nothing on their box moves unfollowed or is someone else's."""
    if found.masks[track][0].any():
        return False
    box = found.boxes[track].slices()
    taken = found.unowned[box].copy()
    for other, (person, _) in found.masks.items():
        if other != track:
            taken |= person[box]
    return bool(taken.mean() < STILL_MOTION)


def _outgrows(person: np.ndarray, near: np.ndarray) -> bool:
    """Does the person's mask reach past `near` (their box, grown by NEAR_BOX), where it is cut off?"""
    return bool((person & ~near).any())


def _near(a: Box, b: Box, reach: float) -> bool:
    """Do the boxes come within `reach` px of each other?"""
    return a.x0 - reach < b.x1 and b.x0 - reach < a.x1 and a.y0 - reach < b.y1 and b.y0 - reach < a.y1


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
    follower = _Follower(segmenter, detector or shared_detector(), fps)
    for position, (index, image) in enumerate(frames):
        yield follower.frame(position, index, image)
