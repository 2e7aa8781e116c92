"""The camera of a clip: static (one background image for the whole clip) or moving (one per frame).

Once the first pass has found the people, their masks leave them out of a
measurement of the camera's path (`video.camera_motion`). A clip whose frames,
measured directly against the first, stay within a pixel and a half of it is
static and takes the route as it always has. A moving one is segmented once more, each frame against its
own background (its neighbours warped into its framing, people masked out,
`people.moving_background`), and coloured with that background too; the output
keeps the original framing. Fail closed all the same: where the camera's motion
into a frame could not be measured (parallax, fast motion, blur) or its
background does not line up, everyone on it is covered; behind a person, what
no neighbouring frame showed is covered flat, in a box (a flat patch in the
shape of what was hidden would be the outline again). A clip whose motion
mostly cannot be followed is refused before anything is written.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from itertools import tee

import cv2
import numpy as np

from ..errors import InputError
from ..people.moving_background import (
    DIRECT_REACH, NEIGHBOUR_OFFSETS, CompensatedBackground, Filled, FrameCache, Transforms, View,
    aligned_background, compensated_background, fill_behind, measured, remember, resized,
)
from ..people.background import BackgroundModel, margin_disc, median_of_valid
from ..people.silhouettes import ClipSegmenter
from ..people.detection import shared_detector
from ..people.tracks import UNSURE_CONFIDENCE, PeopleFrame, keyframe_every
from ..render.colouring import LIGHT_RING_PX, bounding_box, scene_margin
from ..people.person_mask import Box
from ..shape.tracking import FrameShape, MaskCrop
from ..video import Frame, VideoInfo, frame_times, read_frames, select_frames
from ..video.camera_motion import (
    STATIC_SHIFT, CameraMotion, CameraPath, Prepared, estimate_camera_motion, offset_from, prepare, still,
)
from .events import Ticker
from .people import ClipPeople

__all__ = ["MOVING", "STATIC", "UNSEEN", "UNSTEADY", "Camera", "PeopleMasks", "backdrop", "backdrop_box",
           "StillnessWatch", "detected_boxes", "glance_at_camera", "judge_camera", "measure_camera",
           "on_own_backgrounds", "survey_camera", "union", "windowed", "without_standing_people"]

STATIC, MOVING = "static", "moving"
MAX_UNSTEADY = 0.5  # refuse a clip when the camera's motion into more than this share of its frames is unknown
MAX_MISMATCH = 0.10  # ... unless the one background matched at least this closely (policy.CAMERA_MOTION_LIMIT):
# a plain scene gives the tracker too few corners, a static camera's median still fits it
KEPT_MASKS = 4 * max(NEIGHBOUR_OFFSETS) + 2  # people masks kept made (`PeopleMasks.mask`): two windows' worth
STILL_EVERY = 10  # every tenth frame is measured directly against the first to tell a static camera
RADIUS = max(NEIGHBOUR_OFFSETS)  # frames each side a frame's background is made from
# A person's box, grown by this share of their height, lends nothing to the backgrounds; nor does the floor
# FEET_REACH of the height either side of their lowest FEET_ROWS (a shadow cast sideways). Unseen background
# counts as foreground, so the masks grow into what is left out: 0.1 all round left a shadow in the panned walk of
# tests/hardening/test_fail_closed.py, 0.2 all round cost 0.1 of person IoU on handheld CASIA-B 006, these 0.04.
SURROUNDINGS = 0.05
FEET_ROWS = 0.1
FEET_REACH = 0.12
UNSTEADY = ("the camera's motion here could not be measured or its background does not line up (parallax, fast "
            "motion, blur): everyone covered")
UNSEEN = "background behind a person that no other frame showed empty: covered flat"
STANDING_SHARE = 0.4  # a pixel people held in this share of the frames may be one of them in the samples' median
STANDING_S = 3  # seconds: ... where they held it this long (standing, not walking by)
MIN_EMPTY_SAMPLES = 3  # samples that showed such a pixel with no one on or near it, for their median to be the scene


def union(regions: Iterable[MaskCrop | None], shape: tuple[int, int]) -> np.ndarray:
    """(H, W) bool: everything in `regions` (cropped masks; None or empty ones add nothing)."""
    mask = np.zeros(shape, bool)
    for region in regions:
        if region is not None and not region.empty:
            mask[region.box.slices()] |= region.mask
    return mask


class PeopleMasks:
    """Where the people of a pass are on each frame, for the camera's measurement (their masks and shadows:
    the corners beside them count) and the backgrounds (`boxes`: each person's box with their shadow, grown
    by SURROUNDINGS of their height; a neighbour that lends the background a shadow or an edge the segmenter
    missed paints it back as a ghost) to leave out; with `unfollowed`, what moved that no track follows."""

    def __init__(self, regions: dict[int, list[MaskCrop]]) -> None:
        self.regions = regions  # frame index -> what to leave out there
        self._made: dict[tuple[int, tuple[int, int]], np.ndarray | None] = {}

    @classmethod
    def of(cls, people: ClipPeople, unfollowed: bool, boxes: bool) -> PeopleMasks:
        regions: dict[int, list[MaskCrop]] = defaultdict(list)
        for track in people.tracks.values():
            for shape in track.shapes:
                if not shape.person.empty:
                    regions[shape.index] += [_surroundings(shape.person, shape.shadow)] if boxes else \
                        [shape.person, shape.shadow]
        if unfollowed:
            for index, region in people.unfollowed.items():
                regions[index].append(region)
        return cls(regions)

    def mask(self, index: int, shape: tuple[int, int]) -> np.ndarray | None:
        """(H, W) bool of frame `index` (read-only), or None when no one is there. The latest few are kept: a
        frame serves the backgrounds of the frames around it."""
        key = (index, tuple(shape))
        if key not in self._made:
            if len(self._made) >= KEPT_MASKS:
                del self._made[next(iter(self._made))]  # the oldest made
            mask = union(self.regions.get(index, ()), shape)
            mask.setflags(write=False)
            self._made[key] = mask if mask.any() else None
        return self._made[key]


def _surroundings(person: MaskCrop, shadow: MaskCrop) -> MaskCrop:
    """The box of the person and their shadow grown by SURROUNDINGS of their height, and the floor about their
    feet (FEET_ROWS of the height, FEET_REACH either side), where a shadow the segmenter missed falls."""
    return _around(person.box, person.box if shadow.empty else person.box.union(shadow.box), person.shape)


def _around(person: Box, body: Box, shape: tuple[int, int]) -> MaskCrop:
    """`_surroundings` of a person's box and the box of their body with its shadow, on a frame of `shape` (a
    detector's box: the same box twice)."""
    height = person.height
    body = body.padded(int(np.ceil(SURROUNDINGS * height)), shape)
    bottom = person.y1
    feet = Box(person.x0, bottom - int(FEET_ROWS * height), person.x1, bottom)
    feet = feet.padded(int(np.ceil(FEET_REACH * height)), shape)
    whole = body.union(feet)
    mask = np.zeros((whole.height, whole.width), bool)
    for part in (body, feet):
        mask[part.y0 - whole.y0 : part.y1 - whole.y0, part.x0 - whole.x0 : part.x1 - whole.x0] = True
    return MaskCrop(whole.y0, whole.x0, mask, shape)


@dataclass
class Camera:
    kind: str  # STATIC or MOVING
    motion: CameraMotion
    first: int  # the clip index of the motion's frame 0
    known: Transforms = field(default_factory=dict)  # neighbour transforms measured so far, by motion positions
    # what the backgrounds made of the frames in the window, and the people masks it was made with
    cache: tuple[PeopleMasks | None, FrameCache] = field(default_factory=lambda: (None, FrameCache()))

    @property
    def moving(self) -> bool:
        return self.kind == MOVING

    def unsteady(self, index: int) -> bool:
        """No reliable measurement ties frame `index` to a neighbour."""
        return bool(self.motion.flagged[index - self.first])

    def carry(self, box: Box, source: int, target: int) -> Box:
        """Where the camera's motion puts `box` of frame `source` on frame `target` (clip indices): the box
        around its four corners carried; where a step from one to the other was not measured (the path there
        is a guess), also where it was."""
        corners = np.array([[[box.x0, box.y0]], [[box.x1, box.y0]], [[box.x0, box.y1]], [[box.x1, box.y1]]], float)
        x, y = cv2.perspectiveTransform(corners, self.motion.between(source - self.first, target - self.first))[:, 0].T
        carried = Box(int(np.floor(x.min())), int(np.floor(y.min())), int(np.ceil(x.max())), int(np.ceil(y.max())))
        low, high = sorted((source - self.first, target - self.first))
        return carried if self.motion.step_reliable[low + 1: high + 1].all() else carried.union(box)

    def background(self, frame: Frame, window: dict[int, Frame], people: PeopleMasks,
                   view: View | None = None) -> CompensatedBackground:
        """Frame `frame`'s background (in `view`: see `compensated_background`) from the frames in `window`
        (see `windowed`)."""
        shape = frame.image.shape[:2]
        images = {k - self.first: f.image for k, f in window.items()}
        masks = {k - self.first: people.mask(k, shape) for k in window}
        if self.cache[0] is not people:
            self.cache = (people, FrameCache())
        cache = self.cache[1]
        cache.keep(images)
        return compensated_background(images, masks, self.motion, frame.index - self.first, known=self.known,
                                      view=view, cache=cache)


def measure_camera(info: VideoInfo, start: float | None, end: float | None, people: ClipPeople,
                   ticker: Ticker) -> CameraMotion:
    """The camera's path over the clip, the first pass's people left out (one more streaming read)."""
    masks = PeopleMasks.of(people, unfollowed=False, boxes=False)  # a moving camera's first pass: motion everywhere
    frames = ticker.watch(read_frames(info.path, info, start, end), "measuring the camera")
    images, found = tee((frame.image, masks.mask(frame.index, frame.image.shape[:2])) for frame in frames)
    return estimate_camera_motion((image for image, _ in images), (mask for _, mask in found))


class StillnessWatch:
    """Every STILL_EVERY-th frame's offset (px at a corner, at the registration's working size) from the excerpt's
    first frame (clip index `first`), measured directly as the people pass reads the frames (`see`, for
    `find_people`'s `watch`: no pass of its own), with that pass's people left out; None: not measured. An offset
    beyond STATIC_SHIFT is measured again on the next frame, which takes its place: a camera that moved is still
    off a frame later, while one measurement thrown by a person's mask that missed a limb is not (a static 20 s
    walker measured 0.61, 0.42, 1.56 px at its last three). Once confirmed, it stops (the camera moves: the
    rest cannot make it static). Chained steps drift by hundredths of a pixel a frame (6 px over the 127 frames of
    a static CASIA-B clip): stillness is judged on direct measurements."""

    def __init__(self, first: int) -> None:
        self.first = first
        self.offsets: list[float | None] = []
        self._reference: Prepared | None = None
        self._doubted = False  # the last offset is beyond STATIC_SHIFT and waits for the next frame's

    def see_people(self, frame: Frame, people: PeopleFrame) -> None:
        """`see` with everyone the people pass found on the frame left out (`find_people`'s `watch`)."""
        self.see(frame, _everyone_on(people))

    def see(self, frame: Frame, people: np.ndarray | None) -> None:
        """Frame `frame`, `people` ((H, W) bool, or None: no one) left out."""
        if self._moved() or not (self._doubted or (frame.index - self.first) % STILL_EVERY == 0):
            return
        picture = prepare(frame.image, people)
        if self._reference is None:
            self._reference = picture
            return
        # A wrong offset is safe either way: a static clip on the moving route, or the static route's own checks.
        offset = offset_from(self._reference, picture, frame.image.shape[:2])
        if self._doubted:
            self.offsets[-1] = offset  # confirms the doubted one, or takes its place
        else:
            self.offsets.append(offset)
        self._doubted = not self._doubted and _beyond(offset)

    def _moved(self) -> bool:
        """The camera moved, confirmed: the last offset is beyond STATIC_SHIFT and no longer doubted."""
        return not self._doubted and bool(self.offsets) and _beyond(self.offsets[-1])


def _beyond(offset: float | None) -> bool:
    return offset is not None and offset > STATIC_SHIFT


def _everyone_on(people: PeopleFrame) -> np.ndarray | None:
    """(H, W) bool: every person and shadow the pass found on a frame (None: no one)."""
    masks = [mask.person | mask.shadow for mask in people.people.values()]
    return np.logical_or.reduce(masks) if masks else None


def survey_camera(info: VideoInfo, start: float | None, end: float | None, first: int, people: ClipPeople,
                  offsets: list[float | None], ticker: Ticker) -> Camera:
    """The clip's camera, judged (its first frame is clip index `first`). A still one is told by its direct
    `offsets` from the first frame alone (`StillnessWatch`); the path, frame to frame, is measured only for a
    camera that may move."""
    if still(offsets):
        return Camera(STATIC, still_motion(len(select_frames(frame_times(info.path), start, end))), first)
    motion = measure_camera(info, start, end, people, ticker)
    return Camera(judge_camera(motion, offsets, people), motion, first)


def glance_at_camera(info: VideoInfo, start: float | None, end: float | None, first: int, segmenter: ClipSegmenter,
                     ticker: Ticker) -> tuple[Camera, PeopleMasks] | None:
    """A camera the background's samples saw move (`ClipSegmenter.samples_still` false), surveyed in one light
    pass instead of the people pass: the detector's people (`detected_boxes`), their boxes grown as
    `PeopleMasks.of` grows a person's (`_surroundings`), are left out of the camera's path, of the stillness
    watch and of the backgrounds the people are then found against (`on_own_backgrounds`). The people pass
    against the samples' median gave no more: with a moving camera that median is no scene, every pixel
    differs from it, and the masks it left out were the learned model's on the detector's boxes. The moving
    camera and those boxes; None where this pass finds the camera still or its motion mostly unfollowable
    (the people pass decides those, `survey_camera`)."""
    stillness = StillnessWatch(first)
    regions: dict[int, list[MaskCrop]] = {}
    known: Transforms = {}
    recent: deque[Prepared] = deque(maxlen=DIRECT_REACH + 1)

    def register_hops(prepared: Prepared, path: CameraPath) -> None:
        """Each frame measured into the one DIRECT_REACH before it, while both are prepared: the pairs the
        backgrounds compose their far neighbours of, and in the direction they first ask for
        (`neighbour_transform`: a frame's later neighbour into it)."""
        recent.append(prepared)
        earlier = path.last - DIRECT_REACH
        if len(recent) > DIRECT_REACH and path.reliable_since(earlier):
            remember(known, path.last, earlier, measured(recent[-1], recent[0], path.between(path.last, earlier)))

    frames = ticker.watch(read_frames(info.path, info, start, end), "measuring the camera")

    def left_out() -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        for frame, found in detected_boxes(frames, segmenter, info.fps):
            shape = frame.image.shape[:2]
            regions[frame.index] = [_around(box, box, shape) for box in found]
            people = union(regions[frame.index], shape) if found else None
            stillness.see(frame, people)
            yield frame.image, people

    images, people = tee(left_out())
    motion = estimate_camera_motion((image for image, _ in images), (mask for _, mask in people), register_hops)
    if still(stillness.offsets) or _mostly_unfollowable(motion):
        return None
    return Camera(MOVING, motion, first, known), PeopleMasks(regions)


def detected_boxes(frames: Iterable[Frame], segmenter: ClipSegmenter, fps: float
                   ) -> Iterator[tuple[Frame, list[Box]]]:
    """Each frame with the boxes of the people the detector finds (the unsure ones too, as the tracker takes
    them) on the keyframes each side of it: on the people pass's keyframe grid and at its working size, so
    that the pass asks the detector for the same pictures (it remembers them). A person moves between two
    keyframes, and a keyframe that misses someone is bridged by the next: both keyframes' boxes."""
    every = keyframe_every(fps)
    detector = shared_detector()
    waiting: list[Frame] = []
    before: list[Box] = []
    for position, frame in enumerate(frames):
        if position % every == 0:
            small = segmenter.at_work_size(frame.image)
            now = [d.box.rescaled(small.shape[:2], frame.image.shape[:2])
                   for d in detector.people(small, UNSURE_CONFIDENCE)]
            for earlier in waiting:
                yield earlier, before + now
            waiting, before = [], now
        waiting.append(frame)
    for earlier in waiting:
        yield earlier, before


def _mostly_unfollowable(motion: CameraMotion) -> bool:
    """The camera's motion into more than MAX_UNSTEADY of the frames is unknown."""
    return motion.flagged.sum() > MAX_UNSTEADY * len(motion.flagged)


def still_motion(frames: int) -> CameraMotion:
    """The path of a camera judged still: every frame where the first is, each step sure."""
    return CameraMotion(np.tile(np.eye(3), (frames, 1, 1)), np.ones(frames))


def judge_camera(motion: CameraMotion, offsets: list[float | None], people: ClipPeople) -> str:
    """STATIC when the frames measured against the first (`StillnessWatch`) stay within STATIC_SHIFT of it,
    else MOVING; refuses (InputError) a clip whose camera motion mostly cannot be followed."""
    if still(offsets):
        return STATIC
    if _mostly_unfollowable(motion):
        frames, unsteady = len(motion.flagged), int(motion.flagged.sum())
        if len(people.mismatched) <= MAX_MISMATCH * frames:
            return STATIC
        raise InputError(f"the camera's motion could not be followed in {unsteady} of {frames} frames (parallax, "
                         "fast motion, cuts or blur); gaitanon needs a static camera or a steady handheld shot, so "
                         "nothing was written")
    return MOVING


def windowed(frames: Iterable[Frame], radius: int = RADIUS) -> Iterator[tuple[Frame, dict[int, Frame]]]:
    """Each frame with the frames within `radius` of it, by index: a sliding window, never the whole clip.

    The window is the same dict each time, updated: use it before taking the next frame.
    """
    window: dict[int, Frame] = {}
    waiting: list[Frame] = []
    for frame in frames:
        window[frame.index] = frame
        waiting.append(frame)
        if len(waiting) > radius:
            yield _centred(waiting.pop(0), window, radius)
    for frame in waiting:
        yield _centred(frame, window, radius)


def _centred(frame: Frame, window: dict[int, Frame], radius: int) -> tuple[Frame, dict[int, Frame]]:
    for index in [k for k in window if k < frame.index - radius]:
        del window[index]
    return frame, window


def on_own_backgrounds(frames: Iterable[Frame], camera: Camera, people: PeopleMasks,
                       segmenter: ClipSegmenter) -> Iterator[Frame]:
    """The frames, each handed on once `segmenter` holds that frame's own background.

    The follower takes one frame at a time (`people.find_people`), so the
    background set here is the one its frame is segmented against.
    """
    for frame, window in windowed(frames):
        if segmenter.work is segmenter.background:
            segmenter.use_background(aligned_background(frame.image, camera.background(frame, window, people)))
        else:  # made at the working size (a quarter of the cost or less); the full size only refines the edges
            small = segmenter.at_work_size(frame.image)
            work = camera.background(frame, window, people, View.scaled(frame.image.shape[:2], small.shape[:2]))
            full = aligned_background(frame.image, resized(work, frame.image.shape[:2]))
            segmenter.use_background(full, aligned_background(small, work))
        yield frame


def backdrop_box(removed: np.ndarray) -> tuple[slice, slice] | None:
    """The part of the frame `backdrop` needs: `removed`, the band around it and the ring beyond that sets the
    band's light (`render.colouring`); None when nothing is removed."""
    return bounding_box(removed, int(np.ceil(scene_margin(removed) + LIGHT_RING_PX)) + 2)


def backdrop(image: np.ndarray, background: CompensatedBackground, removed: np.ndarray) -> Filled:
    """The scene to colour a frame (or a box of it) with: the compensated background where seen, the frame
    elsewhere, and the `removed` region with the band the colouring replaces around it (`scene_margin`) filled
    from the background (`fill_behind`); what no neighbour saw there is covered flat in boxes, returned as
    `uncovered`."""
    scene = np.where(background.seen[..., None], background.image, image)
    if not removed.any():
        return Filled(scene, np.zeros_like(removed))
    grow = 2 * int(np.ceil(scene_margin(removed))) + 3
    band = cv2.dilate(removed.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow))) > 0
    filled = fill_behind(scene, band, background)
    if not filled.uncovered.any():
        return filled
    boxes = _boxes(filled.uncovered)
    return fill_behind(scene, band | boxes, CompensatedBackground(background.image, background.seen & ~boxes))


def without_standing_people(background: BackgroundModel, shapes: Iterable[FrameShape], frames: int,
                            fps: float, samples: Iterable[Frame] = ()) -> BackgroundModel:
    """A still camera's `background` (full size) with where people stood marked never seen (`backdrop` covers
    that flat). The median of the samples holds a person who stood in one place through most of them; there in
    every sample, no sample disagrees where they are and the ghost search never looks (vtest's first 20 s: a
    man by the sign post, painted back as the scene behind the people taken out around him, and over himself
    where he was covered: his original outline, translucent; asked about that place in the median, the learned
    model saw no person, presence 0.13, nor did `silhouettes._standing_in`: the median holds a blend of his
    stances). Pixels that people's regions (or covers) held in STANDING_SHARE of the `frames`, and for
    STANDING_S at least, are not known to be the scene, whatever the median shows there. (A walker holds a
    pixel for a second or less: in a one-second excerpt, that is most of it, and the ghost search handles it.)
    Unless the background's `samples` (frames of the clip, read only when someone stood) show it: where
    MIN_EMPTY_SAMPLES of them or more had no one there (no region or shadow of that frame's people, grown by the
    samples' margin), their median is the scene (vtest's first 20 s: a group by the sign post for 12 s, a flat box
    over them, the post and the sign while they stood, now their surroundings). The motion no track follows is not
    left out: where the median holds someone who stood, the empty scene before they came and after they left
    differs from it, and is taken for motion (vtest: the only samples that show the place of the man who stood
    longest); a passer-by no track follows is in a minority of the samples, and the median does not take them."""
    shapes = list(shapes)
    held = np.zeros(background.shape, np.int32)
    for shape in shapes:
        region = shape.cover if shape.cover is not None else shape.person
        if not region.empty:
            held[region.box.slices()] += region.mask
    standing = (held >= max(STANDING_SHARE * frames, STANDING_S * fps)).astype(np.uint8)
    if not standing.any():
        return background
    standing = cv2.dilate(standing, margin_disc(background.shape[0])) > 0
    image, unseen = seen_between_stances(background.image, standing, samples, _regions_by_frame(shapes))
    return replace(background, image=image, never_seen=background.never_seen | unseen)


def _regions_by_frame(shapes: list[FrameShape]) -> dict[int, list[MaskCrop]]:
    """Per frame index, what people held on it: their regions (or covers) and shadows."""
    regions: dict[int, list[MaskCrop]] = defaultdict(list)
    for shape in shapes:
        regions[shape.index] += [shape.cover if shape.cover is not None else shape.person, shape.shadow]
    return regions


def seen_between_stances(image: np.ndarray, standing: np.ndarray, samples: Iterable[Frame],
                         regions: Mapping[int, list[MaskCrop]]) -> tuple[np.ndarray, np.ndarray]:
    """(`image` with the `standing` pixels that MIN_EMPTY_SAMPLES of the `samples` showed empty set to those
    samples' median; the `standing` pixels that fewer showed). Empty: no region of that frame on or within the
    samples' margin of it."""
    box = bounding_box(standing, 0)
    kernel = margin_disc(image.shape[0])
    pictures, empty = [], []
    for frame in samples:
        taken = union(regions.get(frame.index, []), image.shape[:2]).astype(np.uint8)
        pictures.append(frame.image[box])
        empty.append(cv2.dilate(taken, kernel)[box] == 0)
    if not pictures:
        return image, standing
    median, count = median_of_valid(np.stack(pictures), np.stack(empty))
    seen = np.zeros_like(standing)
    seen[box] = standing[box] & (count >= MIN_EMPTY_SAMPLES)
    filled = image.copy()
    filled[box][seen[box]] = np.clip(median[seen[box]] + 0.5, 0, 255).astype(np.uint8)
    return filled, standing & ~seen


def _boxes(mask: np.ndarray) -> np.ndarray:
    """(H, W) bool: the bounding box of each connected part of `mask`."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8))
    boxes = np.zeros_like(mask)
    for x, y, w, h, _ in stats[1:]:
        boxes[y : y + h, x : x + w] = True
    return boxes
