"""One clip through the whole route: decode -> silhouette -> contour -> anonymize -> colour -> encode.

`anonymize_clip` reads top to bottom as that route. Frames stream: the
silhouettes run ahead of the pictures by a bounded look-ahead (`LOOKAHEAD_S`,
masks only, cropped to the person), which the per-frame transform needs to be
smoothed and a body entering the picture needs to be completed from the
first frames that show it whole; the anonymizer holds one window of contours.

Fail closed (DESIGN.md): the person's original silhouette and shadow never
leave. A frame whose person cannot be anonymized is covered (the person's
region and a band around it painted with the background); a frame where the
segmenter lost the person mid-clip is covered where the person was in the
neighbouring frames; each such frame is listed in the report with the reason.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np

from . import contours as codec
from .colouring import colour_frame
from .errors import Cancelled, GaitanonError, InputError, UsageError
from .inference import ModelBank
from .privacy_check import WalkSampler, check_clip_privacy
from .report import BRIDGED, COPIED, COVERED, WARNED, ClipReport, StageClock
from .silhouettes import EDGE_MARGIN, ClipSegmenter, FrameMask, sample_frames
from .video import (
    ExportOptions,
    Frame,
    VideoInfo,
    VideoWriter,
    frame_times,
    probe,
    read_frames,
    select_frames,
)

LOOKAHEAD_S = 2.5  # how far the masks run ahead of the pictures (a body entering needs its first whole frames)
HISTORY_S = 2.5  # how far back whole-body frames are kept for smoothing and for completing a leaving body
STAND_IN_CANDIDATES = 30  # whole-body shapes tried when completing a partly visible body (about one gait cycle)
CAMERA_MOTION_LIMIT = 0.10  # refuse the clip when more than this share of frames shows camera motion ...
CAMERA_MOTION_MIN_FRAMES = 25  # ... once at least this many frames have been seen
CROWD_FRAME_LIMIT = 5  # a second person in more frames than this (a fifth of a second) refuses the clip
SEVERAL_PEOPLE = "more than one person in view: only the main walker is anonymized"
CAMERA_MOVED = "the camera moved: the background may not match"
PROGRESS_INTERVAL_S = 0.2
WALKER_DRIFT = 0.05  # body heights a walker may move per frame (a brisk walk is about 0.03 at 25 fps)


@dataclass
class AnonymizeOptions:
    strength: float = 0.3
    device: str = "auto"
    seed: int | None = None  # tests and reproducibility only: anyone with the seed can redo the draw
    start: float | None = None
    end: float | None = None
    export: ExportOptions = field(default_factory=ExportOptions)
    models_dir: Path | None = None


@dataclass(frozen=True)
class Progress:
    stage: str
    done: int
    total: int
    eta_s: float | None


Item = TypeVar("Item")
ProgressCallback = Callable[[Progress], None]
CancelCheck = Callable[[], bool]


@dataclass(frozen=True)
class PreviewFrame:
    """One frame as the review shows it: both pictures, both silhouettes and where they differ."""

    index: int
    time: float
    original: np.ndarray  # HxWx3 uint8 RGB
    anonymized: np.ndarray
    original_silhouette: np.ndarray  # HxW bool
    anonymized_silhouette: np.ndarray
    xor: np.ndarray  # where the two silhouettes differ (the paper's Figure 18)

    @classmethod
    def of(cls, index: int, time: float, original: np.ndarray, anonymized: np.ndarray,
           original_silhouette: np.ndarray, anonymized_silhouette: np.ndarray) -> PreviewFrame:
        return cls(index, time, original, anonymized, original_silhouette, anonymized_silhouette,
                   original_silhouette ^ anonymized_silhouette)


FrameSink = Callable[[PreviewFrame], None]  # each finished frame; `anonymized` is the very picture encoded


@dataclass(frozen=True)
class MaskCrop:
    """A bool mask kept as its bounding box only (the look-ahead holds many)."""

    top: int
    left: int
    mask: np.ndarray
    shape: tuple[int, int]

    @classmethod
    def of(cls, full: np.ndarray) -> MaskCrop:
        rows, cols = np.flatnonzero(full.any(axis=1)), np.flatnonzero(full.any(axis=0))
        if rows.size == 0:
            return cls(0, 0, np.zeros((0, 0), bool), full.shape)
        crop = full[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].copy()
        return cls(int(rows[0]), int(cols[0]), crop, full.shape)

    @property
    def empty(self) -> bool:
        return self.mask.size == 0

    def touches_edge(self) -> bool:
        """Whether the mask reaches (nearly: a segmenter may miss the last pixels) an edge of the frame."""
        height, width = self.shape
        near = EDGE_MARGIN * min(height, width)
        return (self.top <= near or self.left <= near or height - (self.top + self.mask.shape[0]) <= near
                or width - (self.left + self.mask.shape[1]) <= near)

    def full(self) -> np.ndarray:
        out = np.zeros(self.shape, bool)
        out[self.top : self.top + self.mask.shape[0], self.left : self.left + self.mask.shape[1]] = self.mask
        return out


@dataclass
class FrameShape:
    """What the anonymizer and the colouring need to know about one frame's person."""

    index: int
    person: MaskCrop
    shadow: MaskCrop
    segmenter: str
    body: str
    people: int
    camera_moved: bool
    measured: codec.CanonicalTransform | None = None  # the frame's own transform (whole bodies only)
    own_contour: np.ndarray | None = None  # the whole body's contour in its own frame (a stand-in for others)
    transform: codec.CanonicalTransform | None = None  # smoothed full-body transform
    contour: np.ndarray | None = None  # what the network sees (N canonical points)
    fine: np.ndarray | None = None  # the full-resolution outline, same frame (whole bodies)
    cover: MaskCrop | None = None  # region to paint with the background when the person is not anonymized
    issues: list[tuple[str, str]] = field(default_factory=list)  # (reason, action) for the report


@lru_cache(maxsize=4)
def model_bank(models_dir: Path | None, device: str) -> ModelBank:
    """Open (once per folder and device) the shipped models."""
    return ModelBank(models_dir, device)


def anonymize_clip(source, target, options: AnonymizeOptions, progress: ProgressCallback | None = None,
                   cancel: CancelCheck | None = None, on_frame: FrameSink | None = None) -> ClipReport:
    """Anonymize the walking person in `source` into `target` (MP4); see the module docstring."""
    started = time.perf_counter()
    clock = StageClock()
    bank = model_bank(options.models_dir, options.device)
    alpha = bank.check_strength(options.strength)
    check_layout(bank)
    info = probe(source)
    check_times(info, options)
    _check_target_free(Path(target), options.export)
    report = ClipReport(source=str(source), target=str(target), provider=bank.provider,
                        model=bank.anonymizer_entry(alpha).name, alpha=alpha)
    if bank.device_note:
        report.notes.append(bank.device_note)
    total = len(select_frames(frame_times(info.path), options.start, options.end))
    rng = np.random.default_rng(options.seed)  # seed None: fresh entropy from the operating system
    clip = bank.start_clip(alpha, rng)

    ticker = _Ticker(total, progress, cancel)
    segmenter = clock.call("background", clip_segmenter, info, options.start, options.end)
    background = segmenter.background.image
    frames = clock.iterate("decode", read_frames(info.path, info, options.start, options.end))
    seen = ((f.index, f.image) for f in ticker.watch(read_frames(info.path, info, options.start, options.end)))
    masks = clock.iterate("silhouette", segmenter.track(seen))  # its own decode: no frames held for look-ahead
    shapes = clock.iterate("contour", track_shapes(masks, bank.n_points or codec.N_POINTS, info.fps))
    anonymized = clock.iterate("anonymize", clip.stream((shape, shape.contour) for shape in shapes))
    camera = CameraWatch()
    walks = WalkSampler(total)

    with VideoWriter(target, info, options.export, options.start, options.end) as writer:
        for frame, (shape, points) in zip(frames, anonymized):
            _check_aligned(frame, shape)
            shape.camera_moved |= clock.call("camera check", camera.moved, frame.image, shape)
            new_silhouette = clock.call("contour", anonymized_silhouette, shape, points)
            image = clock.call("colour", colour_person, frame, shape, new_silhouette, background)
            clock.call("encode", writer.write, image, frame.time)
            record_frame(report, frame, shape, points is not None)
            person = shape.person.full()
            if points is not None and shape.body == "whole":
                walks.add(person, new_silhouette)
            if on_frame is not None:
                on_frame(PreviewFrame.of(frame.index, frame.time, frame.image, image, person, new_silhouette))
            ticker.check_cancel()
    report.privacy = clock.call("privacy check", check_clip_privacy, walks, options.models_dir)
    finish_report(report, clock, started)
    return report


def clip_segmenter(info: VideoInfo, start: float | None, end: float | None) -> ClipSegmenter:
    """The segmenter of this clip, with its background model (also the I_Bg of the colouring)."""
    return ClipSegmenter.from_frames(sample_frames(info.path, info, start, end))


# --- checks before any work -----------------------------------------------------------------------


def check_layout(bank: ModelBank) -> None:
    """The models must have learned on the point layout this codec writes."""
    if bank.layout is not None and bank.layout not in codec.LAYOUTS:
        raise GaitanonError(f"the models use the contour layout '{bank.layout}', which this version cannot read")


def check_times(info: VideoInfo, options: AnonymizeOptions) -> None:
    for name, value in (("start", options.start), ("end", options.end)):
        if value is not None and not 0 <= value <= info.duration:
            raise UsageError(f"--{name} {value:g} s is outside the clip (0 to {info.duration:.2f} s)")
    if options.start is not None and options.end is not None and options.end <= options.start:
        raise UsageError(f"--end ({options.end:g} s) must come after --start ({options.start:g} s)")


def _check_target_free(target: Path, export: ExportOptions) -> None:
    """Fail before the work, not after it, when the output exists (VideoWriter checks again at the end)."""
    if target.exists() and not export.overwrite:
        raise UsageError(f"{target.name} already exists; choose another name or allow overwriting")


def _check_aligned(frame: Frame, shape: FrameShape) -> None:
    if frame.index != shape.index:
        raise GaitanonError(f"frame {frame.index} was paired with the silhouette of frame {shape.index}")


# --- silhouette -> contour (with look-ahead) -------------------------------------------------------


def measure_shape(mask: FrameMask, n: int) -> FrameShape:
    """Crop the masks and, for a whole body, measure its own transform and contour."""
    shape = FrameShape(index=mask.index, person=MaskCrop.of(mask.person), shadow=MaskCrop.of(mask.shadow),
                       segmenter=mask.segmenter, body=mask.body, people=mask.people, camera_moved=mask.camera_moved)
    if mask.body == "whole" and not shape.person.empty:
        try:
            shape.own_contour, shape.measured = codec.mask_to_contour(mask.person, n)
        except InputError:
            shape.body = "cut"  # too degenerate to measure: handled like a partly visible body
    return shape


def track_shapes(masks: Iterable[FrameMask], n: int, fps: float) -> Iterator[FrameShape]:
    """Per frame, the smoothed transform and the contour to anonymize, in order, with bounded look-ahead."""
    ahead = max(1, round(LOOKAHEAD_S * fps))
    behind = max(1, round(HISTORY_S * fps))
    window: deque[FrameShape] = deque()
    current = 0  # position in `window` of the next frame to finish
    for mask in masks:
        window.append(measure_shape(mask, n))
        if len(window) - current > ahead:
            yield complete_shape(window, current, n)
            current += 1
            if current > behind:
                window.popleft()
                current -= 1
    while current < len(window):
        yield complete_shape(window, current, n)
        current += 1


def complete_shape(window: deque[FrameShape], at: int, n: int) -> FrameShape:
    """Decide how frame `window[at]` is anonymized: its contour, or cover, or nothing to do."""
    shape = window[at]
    if shape.segmenter == "bridged":
        shape.issues.append(("the segmenter bridged this frame's mask from its neighbours", BRIDGED))
    if shape.person.empty:
        shape.cover = _lost_person_region(window, at)
        if shape.cover is not None:
            shape.issues.append(("the person was lost by the segmenter; their region is covered", COVERED))
        return shape
    shape.transform = _smoothed_transform(window, at)
    if shape.transform is None:
        return _cover(shape, "no whole-body frame near enough to estimate the body's size and place")
    if shape.measured is not None:
        person = shape.person.full()
        shape.contour, _ = codec.mask_to_contour(person, n, transform=shape.transform)
        shape.fine = codec.detailed_contour(person, shape.transform, n)
    else:
        shape.contour = _stand_in(window, at)
        if shape.contour is None:
            return _cover(shape, "the body is only partly in view and no whole-body frame is near")
    return shape


def _cover(shape: FrameShape, reason: str) -> FrameShape:
    shape.contour, shape.fine = None, None
    shape.cover = shape.person
    shape.issues.append((reason, COVERED))
    return shape


def _smoothed_transform(window: deque[FrameShape], at: int) -> codec.CanonicalTransform | None:
    measured = [s.measured for s in window]
    try:
        return codec.smooth_transforms(measured, [t is not None for t in measured])[at]
    except InputError:  # no whole body anywhere in the window
        return None


def _stand_in(window: deque[FrameShape], at: int) -> np.ndarray | None:
    """The nearby whole body's contour that, placed on this frame, best matches what is visible.

    A body cut by the frame edge or occluded must never reach the network as if
    it were whole; the whole-body shape whose visible part overlaps the visible
    mask most keeps the walk's phase (legs apart or together) roughly right.
    The overlap is measured in a box one body height around the visible part,
    which holds any placed candidate, instead of the whole frame. None when no
    whole body is near, or none overlaps a body seen away from the edges.
    """
    shape = window[at]
    top, left, bottom, right = _grown_box(shape.person, shape.transform.scale)
    visible = shape.person.full()[top:bottom, left:right]
    in_box = codec.CanonicalTransform(shape.transform.scale, shape.transform.x0 - left, shape.transform.y0 - top)
    whole = sorted((s for s in window if s.own_contour is not None), key=lambda s: abs(s.index - shape.index))
    best, best_iou = None, 0.0
    for candidate in whole[:STAND_IN_CANDIDATES]:
        placed = codec.contour_to_mask(candidate.own_contour, in_box, visible.shape)
        union = np.count_nonzero(placed | visible)
        iou = np.count_nonzero(placed & visible) / union if union else 0.0
        if iou > best_iou:
            best, best_iou = candidate.own_contour, iou
    if best is None and whole and shape.person.touches_edge():
        # A sliver entering or leaving that no placed shape meets (the extrapolated place is a few
        # pixels off): the nearest whole body still stands in; the band removes the sliver itself.
        best = whole[0].own_contour
    return best


def _lost_person_region(window: deque[FrameShape], at: int) -> MaskCrop | None:
    """Where a person the segmenter lost on frame `window[at]` must be; None if they are simply not there.

    The nearest frames before and after that show the person tell: if either
    shows them clear of the frame's edges, they cannot have left the picture
    in between, so they are still there, unseen. A person entering or leaving
    through an edge is absent for real. The region is the box over
    those frames' masks, each grown by how far a brisk walker gets in the
    frames between.
    """
    frames = list(window)
    before = next((s for s in reversed(frames[:at]) if not s.person.empty), None)
    after = next((s for s in frames[at + 1 :] if not s.person.empty), None)
    seen = [s for s in (before, after) if s is not None]
    if all(s.person.touches_edge() for s in seen):
        return None
    index = frames[at].index
    boxes = [_grown_box(s.person, WALKER_DRIFT * abs(s.index - index) * s.person.mask.shape[0]) for s in seen]
    top, left = min(b[0] for b in boxes), min(b[1] for b in boxes)
    bottom, right = max(b[2] for b in boxes), max(b[3] for b in boxes)
    return MaskCrop(top, left, np.ones((bottom - top, right - left), bool), frames[at].person.shape)


def _grown_box(crop: MaskCrop, grow: float) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of the crop grown by `grow` px on every side, inside the frame."""
    pad = int(np.ceil(grow))
    height, width = crop.shape
    return (max(crop.top - pad, 0), max(crop.left - pad, 0),
            min(crop.top + crop.mask.shape[0] + pad, height), min(crop.left + crop.mask.shape[1] + pad, width))


# --- anonymized contour -> silhouette -> frame --------------------------------------------------------


def anonymized_silhouette(shape: FrameShape, points: np.ndarray | None) -> np.ndarray:
    """The anonymized contour as a full-resolution mask, with the outline's detail put back."""
    if points is None or shape.transform is None:
        return np.zeros(shape.person.shape, bool)
    if shape.fine is not None:
        points = codec.restore_detail(shape.fine, shape.contour, points)
        return codec.contour_to_mask(points, shape.transform, shape.person.shape)
    # A stand-in's outline was traced on the 64-row grid: drawn larger, it is grown back to the body's width.
    return codec.contour_to_mask(points, shape.transform, shape.person.shape, outline_rows=codec.CASIAB_SIZE)


def colour_person(frame: Frame, shape: FrameShape, silhouette: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Eq. 9 for an anonymized person; background over the region of a covered one."""
    if shape.cover is not None:
        region = shape.cover.full() | shape.shadow.full()
        return colour_frame(frame.image, background, region, np.zeros_like(region), margin=0.0)
    return colour_frame(frame.image, background, shape.person.full(), silhouette, shadow=shape.shadow.full())


class CameraWatch:
    """A second check for a moving camera: the scene's shift over the last LAG frames, people masked out.

    The segmenter compares each frame with the clip's background, which a slow
    pan smears into a blend that still matches. Frames a fraction of a second
    apart are shifted copies of each other in a pan, whatever the background
    model says; comparing across LAG frames, not neighbours, lets a slow pan
    add up to a shift that phase correlation measures well above its noise.
    """

    WIDTH = 160  # px: phase correlation on a small grey copy is fast and precise enough
    LAG = 10  # frames between the two pictures compared
    MAX_SHIFT_PX = 3.0  # full-resolution px over LAG frames; a tripod stays far below (README "Pipeline")

    def __init__(self) -> None:
        self.history: deque[tuple[np.ndarray, tuple[int, int, int, int] | None]] = deque(maxlen=self.LAG)

    def moved(self, image: np.ndarray, shape: FrameShape) -> bool:
        factor = self.WIDTH / image.shape[1]
        grey = cv2.resize(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), None, fx=factor, fy=factor,
                          interpolation=cv2.INTER_AREA).astype(np.float32)
        people = shape.person if shape.cover is None else shape.cover
        box = None if people.empty else tuple(int(v * factor) for v in _grown_box(people, 0.1 * people.mask.shape[0]))
        full = len(self.history) == self.LAG
        earlier, earlier_box = self.history[0] if full else (None, None)
        self.history.append((grey, box))
        if earlier is None:
            return False
        pair = [grey.copy(), earlier.copy()]
        for picture in pair:  # the walker's own motion must not read as the camera's
            for hidden in (box, earlier_box):
                if hidden is not None:
                    picture[hidden[0] : hidden[2] + 1, hidden[1] : hidden[3] + 1] = picture.mean()
        window = cv2.createHanningWindow(grey.shape[::-1], cv2.CV_32F)
        (dx, dy), _ = cv2.phaseCorrelate(pair[1], pair[0], window)
        return bool(np.hypot(dx, dy) / factor > self.MAX_SHIFT_PX)


# --- the report ------------------------------------------------------------------------------------


def record_frame(report: ClipReport, frame: Frame, shape: FrameShape, anonymized: bool) -> None:
    report.frames += 1
    report.segmenters[shape.segmenter] += 1
    if anonymized:
        report.frames_anonymized += 1
    elif shape.person.empty and shape.cover is None:
        report.frames_without_person += 1
    issues = list(shape.issues)
    if shape.people > 1:
        issues.append((SEVERAL_PEOPLE, WARNED))
    if shape.camera_moved:
        issues.append((CAMERA_MOVED, WARNED))
    for reason, action in issues:
        report.flag(frame.index, frame.time, reason, action)
    _refuse_moving_camera(report)
    _refuse_crowd(report)


def _refuse_moving_camera(report: ClipReport) -> None:
    moved = _frames_flagged(report, CAMERA_MOVED)
    if report.frames >= CAMERA_MOTION_MIN_FRAMES and moved > CAMERA_MOTION_LIMIT * report.frames:
        raise InputError(
            f"the camera moves in {moved} of the first {report.frames} frames; gaitanon needs a static camera "
            "(a tripod or a steady shot), so nothing was written"
        )


def _refuse_crowd(report: ClipReport) -> None:
    """Only the main walker is anonymized: a second person seen for more than a moment would be
    left with their own gait, so the clip is refused rather than half anonymized."""
    crowded = _frames_flagged(report, SEVERAL_PEOPLE)
    if crowded > CROWD_FRAME_LIMIT:
        raise InputError(
            f"more than one person is in view in {crowded} of the first {report.frames} frames; gaitanon "
            "anonymizes one walker per clip and will not leave another person's gait unchanged, so nothing was "
            "written (cut the clip to a stretch with one walker with --start/--end)"
        )


def _frames_flagged(report: ClipReport, reason: str) -> int:
    return sum(1 for f in report.flagged if f.reason == reason)


def finish_report(report: ClipReport, clock: StageClock, started: float) -> None:
    report.timings_s = dict(clock.seconds)
    report.wall_s = time.perf_counter() - started
    if report.frames and report.frames_without_person == report.frames:
        report.notes.append("nobody was found in this clip; it was copied unchanged (re-encoded)")
        report.flag(0, 0.0, "nobody found in the clip: copied unchanged", COPIED)


class _Ticker:
    """Progress with an ETA at most every PROGRESS_INTERVAL_S, and the cancel check on every frame.

    Progress counts the frames the segmenter has taken in: it leads the
    finished frames by the look-ahead, and finishing the rest after it takes
    little time. The rate is measured from the first frame on, so the set-up
    does not inflate the ETA.
    """

    def __init__(self, total: int, progress: ProgressCallback | None, cancel: CancelCheck | None) -> None:
        self.total, self.progress, self.cancel = total, progress, cancel
        self.done = 0
        self.started: float | None = None
        self.last = 0.0

    def check_cancel(self) -> None:
        if self.cancel is not None and self.cancel():
            raise Cancelled("anonymization cancelled; nothing was written")

    def watch(self, items: Iterable[Item]) -> Iterator[Item]:
        """Pass the frames on to the segmenter, counting them and checking for cancel."""
        for item in items:
            self.check_cancel()
            self.done += 1
            self._report()
            yield item

    def _report(self) -> None:
        now = time.perf_counter()
        if self.started is None:
            self.started = now
        if self.progress is None or (now - self.last < PROGRESS_INTERVAL_S and self.done < self.total):
            return
        self.last = now
        self.progress(Progress("anonymize", self.done, self.total, self._eta(now)))

    def _eta(self, now: float) -> float | None:
        if self.done >= self.total:
            return 0.0
        if self.done <= 1:
            return None
        return (self.total - self.done) * (now - self.started) / (self.done - 1)


# --- review copy, export and preview (the GUI) ---------------------------------------------------------

REVIEW_EXPORT = ExportOptions(crf=0, preset="ultrafast", overwrite=True)  # lossless: export re-encodes it once


@dataclass
class Review:
    """A private anonymized copy to look at before export; export writes exactly these frames."""

    source: Path
    info: VideoInfo
    options: AnonymizeOptions
    folder: Path
    report: ClipReport

    @property
    def video(self) -> Path:
        return self.folder / "review.mp4"

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _masks_file(folder: Path, index: int) -> Path:
    return folder / f"masks-{index:07d}.npz"


def render_review(source, options: AnonymizeOptions, progress: ProgressCallback | None = None,
                  cancel: CancelCheck | None = None, on_frame: FrameSink | None = None) -> Review:
    """Anonymize into a private temporary folder (review copy + per-frame silhouettes for the preview).

    `on_frame` sees each frame as it is finished (a live preview while the clip renders).
    """
    folder = Path(tempfile.mkdtemp(prefix="gaitanon-review-"))  # mode 0700: only this user reads it

    def keep_masks(frame: PreviewFrame) -> None:
        np.savez_compressed(_masks_file(folder, frame.index), original=np.packbits(frame.original_silhouette),
                            anonymized=np.packbits(frame.anonymized_silhouette))
        if on_frame is not None:
            on_frame(frame)

    try:
        report = anonymize_clip(source, folder / "review.mp4", replace(options, export=REVIEW_EXPORT),
                                progress, cancel, on_frame=keep_masks)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return Review(Path(source), probe(source), options, folder, report)


def export_review(review: Review, target, export: ExportOptions, progress: ProgressCallback | None = None,
                  cancel: CancelCheck | None = None) -> Path:
    """Write the reviewed frames to `target` with the export options (audio and metadata from the source if kept)."""
    ticker = _Ticker(review.report.frames, progress, cancel)
    times = frame_times(review.info.path)
    wanted = select_frames(times, review.options.start, review.options.end)
    with VideoWriter(target, review.info, export, review.options.start, review.options.end) as writer:
        for index, frame in zip(wanted, ticker.watch(read_frames(review.video))):
            writer.write(frame.image, float(times[index]))
    return Path(target)


def review_position(review: Review, i: int) -> int:
    """Where frame `i` (index in the source) sits in the review copy."""
    wanted = select_frames(frame_times(review.info.path), review.options.start, review.options.end)
    if i not in wanted:
        raise UsageError(f"frame {i} is outside the reviewed part ({wanted.start} to {wanted.stop - 1})")
    return i - wanted.start


def preview_frame(review: Review, i: int) -> PreviewFrame:
    """Frame `i` (index in the source) of the review, decoded exactly by `read_frames` (two ffmpeg runs)."""
    position = review_position(review, i)
    original = next(read_frames(review.info.path, review.info, start=float(frame_times(review.info.path)[i])))
    anonymized = next(read_frames(review.video, start=float(frame_times(review.video)[position])))
    return preview_with(review, i, original.image, anonymized.image)


def preview_with(review: Review, i: int, original: np.ndarray, anonymized: np.ndarray) -> PreviewFrame:
    """Frame `i` of the review from pictures the caller already has (the window's preview proxies,
    fast while scrubbing), with the silhouettes stored while rendering and their XOR."""
    review_position(review, i)  # refuses a frame outside the reviewed part
    height, width = review.info.height, review.info.width
    with np.load(_masks_file(review.folder, i)) as stored:
        before, after = (np.unpackbits(stored[name], count=height * width).reshape(height, width).astype(bool)
                         for name in ("original", "anonymized"))
    return PreviewFrame.of(i, float(frame_times(review.info.path)[i]), original, anonymized, before, after)
