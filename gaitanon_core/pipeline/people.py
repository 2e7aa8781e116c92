"""The people in a clip: one pass over it that follows everyone and keeps, per track, each frame's
measured shape (masks cropped to the person) and a thumbnail for the user to recognise them by.

The route anonymizes every track from these; `gaitanon-cli people` and the GUI list them
(`route.people_in_clip`), so that a user can keep a person (the reporter) by their number.
The numbers come from the same passes over the same frames (a moving camera's people are
found again against backgrounds of their own: `route.people_and_camera`) and the same
deterministic tracker, so they agree between the listing and the run, for the same --start/--end.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from itertools import tee

import cv2
import numpy as np

from ..people.background import MOVED_DISAGREEMENT
from ..people.detection import PersonDetector
from ..people.person_mask import Box
from ..people.silhouettes import ClipSegmenter, FrameMask, sample_count, sample_frames
from ..people.tracks import PeopleFrame, follow_people
from ..shape.tracking import FrameShape, MaskCrop, measure_shape
from ..video import Frame, VideoInfo
from .events import Ticker
from .keeping import Looks, person_look

__all__ = ["ClipPeople", "PersonTrack", "clip_segmenter", "find_people"]

THUMBNAIL_PAD = 0.1  # the thumbnail shows the person's box grown by this share of its height
ENTRY_REACH = 0.15  # unfollowed motion within this share of a person's height of them is theirs
JOIN_STEPS = 3  # ... also when it reaches them through up to this many pieces
SAMPLING = "sampling the background"  # the progress stage of the background's samples


@dataclass
class PersonTrack:
    """One person followed through the clip: a measured shape for every frame from first to last seen."""

    id: int
    shapes: list[FrameShape] = field(default_factory=list)
    thumbnail: np.ndarray | None = None  # RGB crop of the frame where the whole body was largest
    looks: Looks = field(default_factory=dict)  # their colours on each whole-body frame (a kept person's check)
    _thumbnail_area: int = 0

    @property
    def first(self) -> int:
        return self.shapes[0].index

    @property
    def last(self) -> int:
        return self.shapes[-1].index

    def seen(self) -> int:
        """Frames in which the segmenter found this person."""
        return sum(1 for s in self.shapes if not s.person.empty)

    def consider_thumbnail(self, image: np.ndarray, shape: FrameShape) -> None:
        area = shape.person.area
        if shape.body == "whole" and area > self._thumbnail_area:
            box = shape.person.box.grown(THUMBNAIL_PAD, image.shape[:2])
            self.thumbnail, self._thumbnail_area = image[box.slices()].copy(), area

    def runs(self) -> list[list[FrameShape]]:
        """The track's stretches of consecutive frames: a person the tracker lost and re-identified has gaps."""
        runs: list[list[FrameShape]] = []
        for shape in self.shapes:
            if runs and shape.index == runs[-1][-1].index + 1:
                runs[-1].append(shape)
            else:
                runs.append([shape])
        return runs

    def trimmed(self) -> PersonTrack:
        """Without the frames of each stretch after the person was last seen in it (the tracker held on to a
        box for a while before it lost them)."""
        self.shapes = [shape for run in self.runs() for shape in _until_last_seen(run)]
        return self


def _until_last_seen(run: list[FrameShape]) -> list[FrameShape]:
    last = max((k for k, s in enumerate(run) if not s.person.empty), default=-1)
    return run[: last + 1]


@dataclass
class ClipPeople:
    tracks: dict[int, PersonTrack]  # by track number
    unfollowed: dict[int, MaskCrop]  # frame index -> what moved there that no track follows (to be covered)
    mismatched: set[int] = field(default_factory=set)  # frames that did not line up with the background
    unseparated: dict[int, list[Box]] = field(default_factory=dict)  # frame index -> boxes of people the detector
    # is sure of whom the segmenter could not tell from the scene (`standing_covers`): to be covered


def find_people(segmenter: ClipSegmenter, frames: Iterable[Frame], fps: float, n: int,
                thumbnails: bool = False, detector: PersonDetector | None = None, join: bool = True,
                watch: Callable[[Frame, PeopleFrame], None] | None = None) -> ClipPeople:
    """Every person in `frames`, by track id: measured shapes (and thumbnails if asked for). `join`: motion
    touching a person becomes theirs (`_join_to_people`), and so does the motion where they came from before
    their track starts (`_claim_entry`); else it stays unfollowed (covered). `watch` sees each frame with the
    people found on it (e.g. the camera's stillness, measured without a pass of its own)."""
    tracks: dict[int, PersonTrack] = {}
    unfollowed: dict[int, MaskCrop] = {}
    stood: dict[int, dict[int, Box]] = defaultdict(dict)  # track -> frame index -> box (`PeopleFrame.unseparated`)
    mismatched: set[int] = set()
    pictures, source = tee(frames)  # the follower takes one frame at a time: tee holds just that one
    followed = follow_people(segmenter, ((frame.index, frame.image) for frame in source), fps, detector)
    for frame, people in zip(pictures, followed):
        if watch is not None:
            watch(frame, people)
        unowned, joined = _join_to_people(people) if join else (people.unowned, {})
        if unowned is not None and unowned.any():
            unfollowed[frame.index] = MaskCrop.of(unowned)
        if _mismatched(people):
            mismatched.add(frame.index)
        for track_id, box in people.unseparated.items():
            stood[track_id][frame.index] = box
        for track_id, mask in people.people.items():
            track = tracks.setdefault(track_id, PersonTrack(track_id))
            shape = measure_shape(mask, n)
            shape.joined = joined.get(track_id)
            shape.people = len(people.people)
            shape.camera_moved = people.camera_moved
            track.shapes.append(shape)
            if shape.body == "whole":
                track.looks[frame.index] = person_look(frame.image, shape)
            if thumbnails:
                track.consider_thumbnail(frame.image, shape)
    for track in tracks.values() if join else ():
        _claim_entry(track, unfollowed, n)
    followed = {k: [shape.index for shape in t.shapes] for k, t in tracks.items()}
    kept = {k: t for k, t in ((k, t.trimmed()) for k, t in sorted(tracks.items())) if t.shapes}
    return ClipPeople(kept, unfollowed, mismatched, standing_covers(stood, followed, kept))


def standing_covers(stood: dict[int, dict[int, Box]], followed: dict[int, list[int]],
                    kept: dict[int, PersonTrack]) -> dict[int, list[Box]]:
    """Per frame, the boxes to cover of people whom the segmenter could not tell from the scene (`stood`: track
    -> frame -> box, on the frames `followed` by their tracks), on the frames their tracks keep no shape for
    (there the shape stage draws, bridges or covers them): someone standing where the background model holds
    them, who would otherwise be dropped with those frames (`trimmed`) and left as they are. The detector
    confirms people on keyframes only: a stretch also reaches back over the frames since the segmenter last
    found the person (back to a frame their track keeps, or its start)."""
    covers: dict[int, list[Box]] = defaultdict(list)
    for track, boxes in stood.items():
        shaped = {shape.index for shape in kept[track].shapes} if track in kept else set()
        carried = None
        for index in reversed(followed[track]):
            if index in shaped:
                carried = None
                continue
            carried = boxes.get(index, carried)
            if carried is not None:
                covers[index].append(carried)
    return dict(covers)


def _join_to_people(people: PeopleFrame) -> tuple[np.ndarray | None, dict[int, MaskCrop]]:
    """What moved unfollowed, less the pieces that touch a followed person (a hand cut off inside their box, a
    foot stepping beyond it, within `ENTRY_REACH` of their height, directly or through other such pieces):
    those join that person's mask and are anonymized with them. Also, per track, the pieces it was given (a
    person the user keeps unchanged does not keep them: they may be a stranger's)."""
    unowned = people.unowned
    joined: dict[int, MaskCrop] = {}
    if unowned is None or not unowned.any():
        return unowned, joined
    for track_id, mask in people.people.items():
        given = np.zeros_like(unowned)
        for _ in range(JOIN_STEPS):  # a piece may reach the person through another (heel, toes)
            mine = _pieces_touching(unowned, _near(mask.person)) if mask.person.any() else None
            if mine is None or not mine.any():
                break
            mask.person = mask.person | mine
            unowned, given = unowned & ~mine, given | mine
        if given.any():
            joined[track_id] = MaskCrop.of(given)
    return unowned, joined


def _claim_entry(track: PersonTrack, unfollowed: dict[int, MaskCrop], n: int) -> None:
    """The frames before a track starts whose unfollowed motion lies where the person came from become theirs.

    The detector often finds a walker only some frames after they came into view
    (small, cut by the frame edge); that motion would otherwise be covered and
    flagged. Walking back frame by frame, the moving pieces that touch the
    person's mask of the next frame, grown by `ENTRY_REACH` of its height, are
    taken off the unfollowed motion and anonymized as the person's, from their
    whole-body stand-in (the piece is not measured as a body of its own).
    """
    if not track.shapes or track.shapes[0].person.empty:
        return
    reach = track.shapes[0].person.full()
    index, claimed = track.first - 1, []
    while index in unfollowed and reach.any():
        motion = unfollowed[index].full()
        mine = _pieces_touching(motion, _grown(reach, ENTRY_REACH))
        if not mine.any():
            break
        rest = motion & ~mine
        if rest.any():
            unfollowed[index] = MaskCrop.of(rest)
        else:
            del unfollowed[index]
        # never measured as a whole body: a piece of a person, drawn from their whole-body stand-in
        claimed.append(measure_shape(FrameMask(index, mine, np.zeros_like(mine), "background", "cut", 1, False), n))
        reach, index = mine, index - 1
    track.shapes[:0] = claimed[::-1]


def _near(person: np.ndarray) -> np.ndarray:
    """The person's bounding box and their mask grown by `ENTRY_REACH` of their height."""
    near = _grown(person, ENTRY_REACH)
    rows, cols = np.flatnonzero(person.any(axis=1)), np.flatnonzero(person.any(axis=0))
    near[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1] = True
    return near


def _grown(mask: np.ndarray, share: float) -> np.ndarray:
    """`mask` grown by `share` of its height (at least 2 px): within that distance of it.

    By a distance transform of the mask's box grown by the radius, not a dilation
    of the frame: a 0.15-height disc is 450 px wide on a 4K person (17 s a call)."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    radius = max(2, int(share * (rows[-1] - rows[0] + 1)))
    y0, x0 = max(rows[0] - radius, 0), max(cols[0] - radius, 0)
    y1, x1 = min(rows[-1] + radius + 1, mask.shape[0]), min(cols[-1] + radius + 1, mask.shape[1])
    grown = np.zeros_like(mask, dtype=bool)
    outside = np.ascontiguousarray(~mask[y0:y1, x0:x1]).astype(np.uint8)
    grown[y0:y1, x0:x1] = cv2.distanceTransform(outside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE) <= radius
    return grown


def _pieces_touching(motion: np.ndarray, region: np.ndarray) -> np.ndarray:
    """The connected pieces of `motion` that overlap `region`."""
    _, labels = cv2.connectedComponents(motion.astype(np.uint8), connectivity=8)
    touching = np.unique(labels[region & motion])
    return np.isin(labels, touching[touching > 0])


def _mismatched(people: PeopleFrame) -> bool:
    """The frame does not line up with the background: the camera moved, or most of the scene moves
    unfollowed (then the camera check has nothing left to compare)."""
    unowned = people.unowned
    return people.camera_moved or (unowned is not None and unowned.mean() > MOVED_DISAGREEMENT)


def clip_segmenter(info: VideoInfo, start: float | None, end: float | None,
                   ticker: Ticker | None = None) -> ClipSegmenter:
    """The segmenter of this clip, with its background model (also the I_Bg of the colouring); `ticker` counts
    the samples read and checks for cancel between them."""
    watch = None if ticker is None else \
        partial(ticker.watch, stage=SAMPLING, count=sample_count(info, start, end))
    return ClipSegmenter.from_frames(sample_frames(info.path, info, start, end, watch))
