"""Camera motion per frame: one global transform between neighbouring frames, measured on the background.

Each step (frame t-1 to frame t) tracks corners of the earlier frame into the
later one (pyramidal Lucas-Kanade, checked forward and backward) and fits one
similarity (shift, turn, zoom) to them with RANSAC. People are masked out in
both frames, so a walker cannot pass for camera motion. Between neighbouring
frames a hand mostly shifts, turns and zooms the picture; a homography's extra
freedom fitted worse on the handheld test clips (plain walls: the corners bunch
on a few edges, and the frame's far corners bend). Where the scene has depth and
the camera travels (parallax), someone is not masked, or the picture is too
blurred or too plain to track, fewer points agree with the one motion or a
second motion shows, and the step's confidence drops. Transforms are (3, 3)
matrices throughout, so a homography can take the similarity's place.

Steps chain into each frame's transform to the first frame's coordinates. The
path is not low-passed: hand shake is real motion the background must follow.
What is smoothed is the gap a failed step leaves: it is bridged with the last
reliable step's motion (constant velocity), and callers never warp across it
(`linked`). The output keeps the original framing; nothing here stabilises.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Iterable, Iterator

import cv2
import numpy as np

__all__ = ["CameraMotion", "CameraPath", "Prepared", "Step", "corner_error", "estimate_camera_motion", "estimate_step",
           "is_static", "offset_from", "prepare", "register", "register_prepared", "still", "still_samples",
           "working_offset"]

WORK_SIDE = 640  # frames are tracked at most this wide (or high): sub-pixel enough, and fast at 720p and above
MAX_CORNERS = 400
CORNER_QUALITY = 0.005  # low: plain indoor walls carry few strong corners
CORNER_SPACING = 8  # px at working size: corners spread over the frame, not heaped on one texture
PEOPLE_MARGIN = 0.03  # grow people masks by 3 % of the frame height: their edges move with them
LK_WINDOW = (21, 21)
LK_LEVELS = 4  # pyramid levels: steps of up to about 100 px at working size
# ... from a guess a few pixels off (a chain of measured steps): two levels reach about 30 px, and the coarse
# levels' wrong matches stay out (handheld CASIA-B 002, 240 pairs 2-8 frames apart: corner error p90 1.4 px
# against 8.7 with four levels; a fifth less time)
GUIDED_LEVELS = 2
LK_STOP = (30, 0.01)  # Lucas-Kanade iterations at most, and the update (px) that ends them sooner
GUIDED_STOP = (10, 0.03)  # ... from a guess a few pixels off (the same 240 pairs: p90 1.1 px; a third less time)
# ... and only the strongest corners, with full confidence from fewer agreeing points: the same 240 pairs, 200 / 50
# (400 / 100 kept): 218 measured (220), corner error median 0.35 px (0.37), p90 1.4 px (1.2); two fifths less time
GUIDED_CORNERS = 200
GUIDED_GOOD_INLIERS = 50
ROUND_TRIP_PX = 0.5  # a point tracked forward then back must land this close to where it started
RANSAC_PX = 2.0  # a point agrees with the global motion within this distance (working size; LK on soft
# footage strays by about a pixel)
MIN_INLIERS = 30  # fewer agreeing points than this measure nothing
GOOD_INLIERS = 100  # this many agreeing points give full confidence
# A static camera's frames stay this close to the first (px at a corner, at working size: the registration's
# precision is in those pixels, and a still clip scaled up 4x to 720p measured 4x its sub-pixel jitter, 1.52
# full-size px, and took the moving route); as the static route's own check (people.background.MAX_SHIFT), not
# imported: the engine's video layer sits below people.
STATIC_SHIFT = 1.5
STILL_SAMPLE_EVERY = 4  # `still_samples` measures 7 of 30 samples: ~0.1 CPU-s at 640x480
MIN_CONFIDENCE = 0.5  # below this a step is not trusted (parallax, fast motion, a cut, a blank picture)


@dataclass(frozen=True)
class Step:
    homography: np.ndarray  # (3, 3): pixel coordinates of the earlier frame -> the later frame's
    # 0..1: the share of tracked points that agree, less those that agree on a second motion,
    # scaled down when few points agree
    confidence: float

    @property
    def reliable(self) -> bool:
        return self.confidence >= MIN_CONFIDENCE


@dataclass(frozen=True)
class CameraMotion:
    """The camera path of a clip, one entry per frame."""

    to_first: np.ndarray  # (T, 3, 3): pixel coordinates of frame t -> frame 0's (identity at 0)
    step_confidence: np.ndarray  # (T,) 0..1: the step from frame t-1 into frame t (1 at t = 0)

    @property
    def step_reliable(self) -> np.ndarray:
        """(T,) bool: the motion from frame t-1 to frame t was measured (True at t = 0)."""
        return self.step_confidence >= MIN_CONFIDENCE

    @property
    def confidence(self) -> np.ndarray:
        """(T,) 0..1 per frame: how well it is tied to its better neighbour."""
        steps = self.step_confidence
        if len(steps) == 1:
            return np.ones(1)
        before = np.concatenate([[0.0], steps[1:]])
        after = np.concatenate([steps[1:], [0.0]])
        return np.maximum(before, after)

    @property
    def flagged(self) -> np.ndarray:
        """(T,) bool: frames tied reliably to no neighbour (the caller covers their people)."""
        return self.confidence < MIN_CONFIDENCE

    def between(self, source: int, target: int) -> np.ndarray:
        """(3, 3): pixel coordinates of frame `source` -> frame `target`'s."""
        return _between(self.to_first[source], self.to_first[target])

    def linked(self, frame: int, radius: int) -> range:
        """The frames within `radius` of `frame` joined to it by reliable steps only."""
        reliable = self.step_reliable
        first = frame
        while first > max(0, frame - radius) and reliable[first]:
            first -= 1
        last = frame
        while last < min(len(reliable) - 1, frame + radius) and reliable[last + 1]:
            last += 1
        return range(first, last + 1)


def _between(source_to_first: np.ndarray, target_to_first: np.ndarray) -> np.ndarray:
    matrix = np.linalg.inv(target_to_first) @ source_to_first
    return matrix / matrix[2, 2]


class CameraPath:
    """A camera path as it is measured, step by step (`estimate_camera_motion`)."""

    def __init__(self) -> None:
        self.to_first = [np.eye(3)]
        self.step_confidence = [1.0]
        self._last_reliable = np.eye(3)  # bridges a failed step: the camera keeps its last measured motion
        self._unreliable_into = 0  # the last frame whose step into it was not reliable (0: none yet)

    @property
    def last(self) -> int:
        """The last frame measured (0: the first)."""
        return len(self.to_first) - 1

    def add(self, step: Step) -> None:
        """The step into the next frame."""
        if step.reliable:
            self._last_reliable = step.homography
        else:
            self._unreliable_into = self.last + 1
        move = step.homography if step.reliable else self._last_reliable
        chained = self.to_first[-1] @ np.linalg.inv(move)
        self.to_first.append(chained / chained[2, 2])
        self.step_confidence.append(step.confidence)

    def between(self, source: int, target: int) -> np.ndarray:
        """`CameraMotion.between` of the frames measured so far."""
        return _between(self.to_first[source], self.to_first[target])

    def reliable_since(self, frame: int) -> bool:
        """Every step from frame `frame` to the last measured one is reliable (`Step.reliable`)."""
        return self._unreliable_into <= frame

    def motion(self) -> CameraMotion:
        return CameraMotion(np.array(self.to_first), np.array(self.step_confidence))


def _working_scale(shape: tuple[int, int]) -> float:
    return min(1.0, WORK_SIDE / max(shape))


def _working_grey(image: np.ndarray, scale: float) -> np.ndarray:
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    if scale == 1.0:
        return grey
    return cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def _background_mask(people: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray | None:
    """uint8 mask at working size (255 = background) with a margin around the people, or None when none."""
    if people is None or not people.any():
        return None
    small = cv2.resize(people.astype(np.uint8), shape[::-1], interpolation=cv2.INTER_AREA) > 0
    grow = max(3, int(PEOPLE_MARGIN * shape[0]) // 2 * 2 + 1)
    grown = cv2.dilate(small.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow)))
    return np.where(grown > 0, 0, 255).astype(np.uint8)


def _corners(grey: np.ndarray, free: np.ndarray | None) -> np.ndarray | None:
    return cv2.goodFeaturesToTrack(grey, MAX_CORNERS, CORNER_QUALITY, CORNER_SPACING, mask=free)


def _tracked_pairs(previous: Prepared, current: Prepared, guess: np.ndarray | None = None,
                   guided: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Background corners of `previous` tracked both ways, and where they went in `current`.

    `guess` ((3, 3), previous -> current) starts each track where it predicts the corner went.
    """
    corners, current_free = previous.corners, current.free
    if guided and corners is not None:
        corners = corners[:GUIDED_CORNERS]  # the strongest first, as goodFeaturesToTrack would have stopped
    previous, current = previous.grey, current.grey
    if corners is None:
        return np.empty((0, 2), np.float32), np.empty((0, 2), np.float32)
    levels, (iterations, update) = (GUIDED_LEVELS, GUIDED_STOP) if guided else (LK_LEVELS, LK_STOP)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, iterations, update)
    start_ahead = None if guess is None else cv2.perspectiveTransform(corners, guess).astype(np.float32)
    flags = 0 if guess is None else cv2.OPTFLOW_USE_INITIAL_FLOW
    ahead, found, _ = cv2.calcOpticalFlowPyrLK(previous, current, corners, start_ahead, winSize=LK_WINDOW,
                                               maxLevel=levels, criteria=criteria, flags=flags)
    start_back = None if guess is None else corners.copy()
    back, found_back, _ = cv2.calcOpticalFlowPyrLK(current, previous, ahead, start_back, winSize=LK_WINDOW,
                                                   maxLevel=levels, criteria=criteria, flags=flags)
    start, end = corners.reshape(-1, 2), ahead.reshape(-1, 2)
    keep = found.ravel().astype(bool) & found_back.ravel().astype(bool)
    keep &= np.linalg.norm(back.reshape(-1, 2) - start, axis=1) < ROUND_TRIP_PX
    keep &= _inside(end, current.shape)
    if current_free is not None:  # points that landed on a person in the later frame do not count either
        pixels = np.clip(end.round().astype(int), 0, np.array(current.shape[::-1]) - 1)
        keep &= current_free[pixels[:, 1], pixels[:, 0]] > 0
    return start[keep], end[keep]


def _inside(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    return (points[:, 0] >= 0) & (points[:, 1] >= 0) & (points[:, 0] < shape[1] - 1) & (points[:, 1] < shape[0] - 1)


def _similarity(start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """The similarity (shift, turn, zoom) most points agree with, refined on them, and which agree."""
    matrix, inliers = cv2.estimateAffinePartial2D(start, end, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PX,
                                                  maxIters=2000, confidence=0.999)
    return matrix, (inliers.ravel() > 0 if matrix is not None else np.zeros(len(start), bool))


def _step_at_working_size(previous: Prepared, current: Prepared, guess: np.ndarray | None = None,
                          guided: bool = False, good: int | None = None) -> Step:
    start, end = _tracked_pairs(previous, current, guess, guided)
    if len(start) < MIN_INLIERS:
        return Step(np.eye(3), 0.0)
    # A similarity, not a homography: on plain walls the corners bunch on a few edges, and a
    # homography's extra freedom then bends the frame's far corners.
    matrix, agree = _similarity(start, end)
    agreeing = int(agree.sum())
    if matrix is None or agreeing < MIN_INLIERS:
        return Step(np.eye(3), 0.0)
    # Points that disagree at random are tracking noise; a second motion that many of them share is
    # parallax (a nearer layer) or someone not masked: then no single warp is right.
    rival = _similarity(start[~agree], end[~agree])[1].sum() if len(start) - agreeing >= MIN_INLIERS else 0
    good = good or (GUIDED_GOOD_INLIERS if guided else GOOD_INLIERS)
    confidence = (agreeing - rival) / len(start) * min(1.0, agreeing / good)
    return Step(np.vstack([matrix, [0.0, 0.0, 1.0]]), float(max(0.0, confidence)))


def _to_full_size(homography: np.ndarray, scale: float) -> np.ndarray:
    """A homography measured on frames reduced by `scale`, in full-size pixel coordinates."""
    reduce = np.diag([scale, scale, 1.0])
    return np.linalg.inv(reduce) @ homography @ reduce


@dataclass(frozen=True)
class Prepared:
    """A frame as registration reads it (`prepare`): made once, it serves every pair the frame is in."""

    grey: np.ndarray  # the frame in grey, at working size
    free: np.ndarray | None  # uint8, 255 away from people (None: no one)
    scale: float  # working size / full size

    @cached_property
    def corners(self) -> np.ndarray | None:
        """The background corners tracked from this frame ((N, 1, 2) float32 at working size; None: none)."""
        return _corners(self.grey, self.free)


def prepare(frame: np.ndarray, people: np.ndarray | None) -> Prepared:
    """`frame` (RGB or grey) reduced to working size and `people` ((H, W) bool or None) grown and masked out."""
    scale = _working_scale(frame.shape[:2])
    grey = _working_grey(frame, scale)
    return Prepared(grey, _background_mask(people, grey.shape), scale)


def _measure(previous: Prepared, current: Prepared, guess: np.ndarray | None = None,
             guided: bool = False, good: int | None = None) -> Step:
    """The full-size step between two prepared frames (`guess` in full-size coordinates; `good`: the agreeing
    points that give full confidence, if not the default for `guided`)."""
    scale = current.scale
    small_guess = None if guess is None else _to_full_size(guess, 1 / scale)  # full size -> working size
    step = _step_at_working_size(previous, current, small_guess, guided, good)
    return Step(_to_full_size(step.homography, scale), step.confidence)


def estimate_step(previous: np.ndarray, current: np.ndarray, previous_people: np.ndarray | None = None,
                  current_people: np.ndarray | None = None) -> Step:
    """The camera's motion from `previous` to `current` (RGB or grey frames of one size), people masked out.

    `*_people` are (H, W) bool masks of everyone in view (None: no one known).
    """
    return _measure(prepare(previous, previous_people), prepare(current, current_people))


def register(source: np.ndarray, target: np.ndarray, guess: np.ndarray, source_people: np.ndarray | None = None,
             target_people: np.ndarray | None = None, guided: bool = False) -> Step:
    """The motion from `source` to `target`, measured directly from `guess` (e.g. `CameraMotion.between`).

    For frames several steps apart: the chain's small errors add up over the
    steps (a few pixels over eight), a direct measurement does not. `guided`:
    `guess` is a few pixels off at most (a chain's), so the tracking searches
    near it only, from fewer corners (GUIDED_*); else it may be far off (no motion).
    """
    return register_prepared(prepare(source, source_people), prepare(target, target_people), guess, guided)


def register_prepared(source: Prepared, target: Prepared, guess: np.ndarray, guided: bool = False) -> Step:
    """`register` on frames already prepared (`prepare`), e.g. a frame that serves several pairs."""
    return _measure(source, target, guess, guided)


def _steps(frames: Iterable[np.ndarray], people: Iterable[np.ndarray | None]
           ) -> Iterator[tuple[Prepared, Step | None]]:
    """Each frame, reduced and masked once, with the step into it (None: the first). A hand moves the
    camera smoothly: each step is first tracked from the last reliable one (`guided`), and searched for afresh
    only where that does not hold. A guided step is judged as strictly as a searched one (GOOD_INLIERS, not
    GUIDED_GOOD_INLIERS): whether steps are reliable decides whether the camera moves (a plain synthetic room
    with few corners, judged by the laxer count, went down the moving route)."""
    previous, guess = None, None
    for frame, mask in zip(frames, people):
        current = prepare(frame, mask)
        step = None
        if previous is not None:
            step = None if guess is None else _measure(previous, current, guess, guided=True, good=GOOD_INLIERS)
            if step is None or not step.reliable:
                step = _measure(previous, current)
            guess = step.homography if step.reliable else None
        yield current, step
        previous = current


def estimate_camera_motion(frames: Iterable[np.ndarray], people: Iterable[np.ndarray | None] | None = None,
                           each: Callable[[Prepared, CameraPath], None] | None = None) -> CameraMotion:
    """The camera path of a clip, streamed: only one earlier frame is held.

    `frames`: RGB uint8 (H, W, 3) of one size; `people`: one (H, W) bool mask of
    everyone in view per frame (or None in place of a mask, or no iterable).
    `each`: called with every frame as prepared and the path up to it.
    """
    path = CameraPath()
    for prepared, step in _steps(frames, itertools.repeat(None) if people is None else people):
        if step is not None:
            path.add(step)
        if each is not None:
            each(prepared, path)
    return path.motion()


def corner_error(estimated: np.ndarray, truth: np.ndarray, shape: tuple[int, int]) -> float:
    """The largest distance, in pixels, between where two transforms put the corners of a frame of `shape`."""
    height, width = shape
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float64).reshape(-1, 1, 2)
    a = cv2.perspectiveTransform(corners, np.asarray(estimated, np.float64))
    b = cv2.perspectiveTransform(corners, np.asarray(truth, np.float64))
    return float(np.linalg.norm(a - b, axis=2).max())


def working_offset(homography: np.ndarray, shape: tuple[int, int]) -> float:
    """How far (px at a corner, at working size) `homography` moves a frame of `shape` from where it was."""
    return corner_error(homography, np.eye(3), shape) * _working_scale(shape)


def offset_from(reference: Prepared, picture: Prepared, shape: tuple[int, int]) -> float | None:
    """How far (px at a corner, at working size) `picture`, of a frame of `shape`, is from `reference`,
    measured directly; None where too few points agree (a plain room gives few: not "reliable" for a chain, but
    enough for an offset)."""
    step = register_prepared(picture, reference, np.eye(3))
    return working_offset(step.homography, shape) if step.confidence > 0 else None


def still(offsets: list[float | None]) -> bool:
    """Most frames measured against the first (`offset_from`), and all within STATIC_SHIFT of it."""
    measured = [offset for offset in offsets if offset is not None]
    return len(measured) >= 0.5 * len(offsets) and all(offset <= STATIC_SHIFT for offset in measured)


def still_samples(samples: list[np.ndarray], every: int = STILL_SAMPLE_EVERY) -> bool:
    """Do frames sampled across a clip (RGB, in order) show a still camera? Every `every`-th is measured against
    the first, people left in (the scene's corners outnumber theirs)."""
    if len(samples) <= every:
        return True
    reference = prepare(samples[0], None)
    shape = samples[0].shape[:2]
    return still([offset_from(reference, prepare(sample, None), shape) for sample in samples[every::every]])


def is_static(motion: CameraMotion, shape: tuple[int, int], tolerance: float = STATIC_SHIFT) -> bool:
    """True when no reliably measured frame has moved more than `tolerance` px (at a corner, at working size)
    from the first.

    A clip whose motion could mostly not be measured is not called static: the
    static route would paint one still background over a scene that may move.
    """
    reliable = ~motion.flagged
    if reliable.mean() < 0.5:
        return False
    return all(working_offset(matrix, shape) <= tolerance for matrix in motion.to_first[reliable])
