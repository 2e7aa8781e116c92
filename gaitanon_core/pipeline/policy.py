"""What the route checks, flags and refuses: the clip's times and the models' layout before any
work, each frame's flags for the report (several people, a moving camera), and the refusals
(a moving camera, a crowd) that stop a run rather than write a half-anonymized clip.

Two camera-motion checks run, on purpose: the segmenter compares each frame with the
clip's background model (`people.background.camera_moved`), which a slow pan smears into
a blend that still matches; `CameraWatch` compares the scene with itself a few frames
earlier, which catches that pan. Each flags the frame; `refuse_unsafe_clip` decides.
"""

from __future__ import annotations

import time
from collections import deque

import cv2
import numpy as np

from ..errors import GaitanonError, InputError, UsageError
from ..inference.anonymizer import ModelBank
from ..shape import codec
from ..shape.tracking import FrameShape, grown_box
from ..video import Frame, VideoInfo
from ..report import COPIED, WARNED, ClipReport, StageClock

__all__ = [
    "CAMERA_MOVED", "SEVERAL_PEOPLE", "CameraWatch", "check_aligned", "check_layout", "check_times",
    "finish_report", "record_frame", "refuse_unsafe_clip",
]  # fmt: skip

CAMERA_MOTION_LIMIT = 0.10  # refuse the clip when more than this share of frames shows camera motion ...
CAMERA_MOTION_MIN_FRAMES = 25  # ... once at least this many frames have been seen
CROWD_FRAME_LIMIT = 5  # a second person in more frames than this (a fifth of a second) refuses the clip
SEVERAL_PEOPLE = "more than one person in view: only the main walker is anonymized"
CAMERA_MOVED = "the camera moved: the background may not match"


# --- checks before any work -----------------------------------------------------------------------


def check_layout(bank: ModelBank) -> None:
    """The models must have learned on the point layout this codec writes."""
    if bank.layout is not None and bank.layout not in codec.LAYOUTS:
        raise GaitanonError(f"the models use the contour layout '{bank.layout}', which this version cannot read")


def check_times(info: VideoInfo, start: float | None, end: float | None) -> None:
    for name, value in (("start", start), ("end", end)):
        if value is not None and not 0 <= value <= info.duration:
            raise UsageError(f"--{name} {value:g} s is outside the clip (0 to {info.duration:.2f} s)")
    if start is not None and end is not None and end <= start:
        raise UsageError(f"--end ({end:g} s) must come after --start ({start:g} s)")


def check_aligned(frame: Frame, shape: FrameShape) -> None:
    if frame.index != shape.index:
        raise GaitanonError(f"frame {frame.index} was paired with the silhouette of frame {shape.index}")


# --- per frame: camera, flags, refusals ---------------------------------------------------------------


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
        box = None if people.empty else tuple(int(v * factor) for v in grown_box(people, 0.1 * people.mask.shape[0]))
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


def refuse_unsafe_clip(report: ClipReport) -> None:
    """Stop the run (nothing is written) once the frames so far show a moving camera or a crowd."""
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
