"""What the route checks, flags and refuses: the clip's times, the models' layout and the people
to keep before any work, each frame's flags for the report (per person, a moving camera), and
the refusal (a moving camera) that stops a run rather than write a half-anonymized clip.

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
from ..shape.tracking import FrameShape, MaskCrop, grown_box
from ..video import Frame, VideoInfo
from ..report import COPIED, COVERED, WARNED, ClipReport, StageClock

__all__ = [
    "CAMERA_MOVED", "UNFOLLOWED", "UNSEPARATED", "CameraWatch", "check_aligned", "check_choices", "check_keep_tracks", "check_layout", "check_times",
    "finish_report", "record_frame", "record_person", "refuse_unsafe_clip",
]  # fmt: skip

CAMERA_MOTION_LIMIT = 0.10  # refuse the clip when more than this share of frames shows camera motion ...
CAMERA_MOTION_MIN_FRAMES = 25  # ... once at least this many frames have been seen
CAMERA_MOVED = "the camera moved: the background may not match"
UNFOLLOWED = "something moved that no track follows (a person not recognised, a body at the edge): covered"
UNSEPARATED = "a person the detector sees whom the engine cannot tell from the scene (standing still): covered whole"


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


def check_keep_tracks(keep: frozenset[int], people: dict) -> None:
    """Every person the user chose to keep (or cover) must be one of the clip's tracks (`gaitanon-cli people`)."""
    unknown = sorted(set(keep) - set(people))
    if unknown:
        listed = ", ".join(str(k) for k in people) or "none"
        raise UsageError(f"no person {', '.join(map(str, unknown))} in this clip (its people: {listed}; "
                         "list them with gaitanon-cli people, with the same --start/--end)")


def check_choices(keep: frozenset[int], cover: frozenset[int]) -> None:
    """Nobody can be both kept unchanged and covered whole."""
    both = sorted(cover & keep)
    if both:
        raise UsageError(f"person {', '.join(map(str, both))} cannot be both kept unchanged and covered")


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

    def moved(self, image: np.ndarray, people: MaskCrop) -> bool:
        """Has the camera moved over the last LAG frames? `people`: where everyone is (left out)."""
        factor = self.WIDTH / image.shape[1]
        grey = cv2.resize(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), None, fx=factor, fy=factor,
                          interpolation=cv2.INTER_AREA).astype(np.float32)
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


def record_frame(report: ClipReport, frame: Frame, here: list, unfollowed: bool, camera_moved: bool,
                 standing: bool = False) -> None:
    """The frame's counts; `here` are the route's people on it, `unfollowed` whether something moved that no
    track follows (covered), `standing` whether someone the segmenter could not tell from the scene is (covered)."""
    report.frames += 1
    if unfollowed:
        report.flag(frame.index, frame.time, UNFOLLOWED, COVERED)
    if standing:
        report.flag(frame.index, frame.time, UNSEPARATED, COVERED)
    if any(p.points is not None and not p.kept for p in here):
        report.frames_anonymized += 1
    elif not unfollowed and not standing and not any(
            p.kept or not p.shape.person.empty or p.shape.cover is not None for p in here):
        report.frames_without_person += 1
    if camera_moved or any(p.shape.camera_moved for p in here):
        report.flag(frame.index, frame.time, CAMERA_MOVED, WARNED)


def record_person(report: ClipReport, frame: Frame, track: int, shape: FrameShape, anonymized: bool,
                  kept: bool, covered: bool = False) -> None:
    """One person's frame: their line in the report's people, and their flags with their number; `covered`:
    covered whole by the user's choice."""
    report.segmenters[shape.segmenter] += 1
    entry = report.person(track)
    entry["first_frame"] = min(entry.get("first_frame", frame.index), frame.index)
    entry["last_frame"] = frame.index
    entry["frames"] += 1
    # A stand-in bridging a lost frame has a cover (the region where they may be) and is drawn: anonymized.
    covered = covered or (shape.cover is not None and not anonymized)
    outcome = "kept" if kept else "covered" if covered else "anonymized" if anonymized else "absent"
    entry[outcome] += 1
    for reason, action in shape.issues:
        report.flag(frame.index, frame.time, f"person {track}: {reason}", action)


def refuse_unsafe_clip(report: ClipReport) -> None:
    """Stop the run (nothing is written) once the frames so far show a moving camera."""
    moved = _frames_flagged(report, CAMERA_MOVED)
    if report.frames >= CAMERA_MOTION_MIN_FRAMES and moved > CAMERA_MOTION_LIMIT * report.frames:
        raise InputError(
            f"the camera moves in {moved} of the first {report.frames} frames; gaitanon needs a static camera "
            "(a tripod or a steady shot), so nothing was written"
        )


def _frames_flagged(report: ClipReport, reason: str) -> int:
    return sum(1 for f in report.flagged if f.reason == reason)


def finish_report(report: ClipReport, clock: StageClock, started: float) -> None:
    report.timings_s = dict(clock.seconds)
    report.wall_s = time.perf_counter() - started
    if report.frames and report.frames_without_person == report.frames:
        report.notes.append("nobody was found in this clip; it was copied unchanged (re-encoded)")
        report.flag(0, 0.0, "nobody found in the clip: copied unchanged", COPIED)
