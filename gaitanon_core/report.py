"""The per-clip report of an anonymization run, and the clock that times its stages.

The report is what the GUI shows before export and the CLI prints: how many
frames, which ones could not be anonymized normally and what was done instead
(bridged from neighbours, covered, copied because nobody is there), which
segmenter produced the masks, the device, model and strength, and where the
time went.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

# What the pipeline did with a frame it could not anonymize normally.
BRIDGED = "bridged"  # the person's shape was taken from neighbouring frames, then anonymized
COVERED = "covered"  # the person's region was painted over with the background
COPIED = "copied"  # nobody to anonymize: the frame was copied unchanged
WARNED = "anonymized"  # anonymized as usual, but something the user should check

# Said wherever the user chooses a strength or reviews a clip (issue 12): what anonymization leaves as it was.
WHAT_IS_KEPT = ("The body's outline becomes a generated person's; its height, speed, cadence and path through "
                "the scene are kept, and can still identify someone.")


@dataclass(frozen=True)
class FlaggedFrame:
    index: int
    time: float
    reason: str
    action: str


@dataclass
class ClipReport:
    source: str
    target: str
    frames: int = 0
    frames_anonymized: int = 0
    frames_without_person: int = 0
    flagged: list[FlaggedFrame] = field(default_factory=list)
    segmenters: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    provider: str = ""
    model: str = ""
    alpha: float = 0.0
    timings_s: dict[str, float] = field(default_factory=dict)
    wall_s: float = 0.0
    privacy: dict[str, Any] = field(default_factory=dict)  # privacy_check.check_clip_privacy's result
    people: dict[int, dict[str, int]] = field(default_factory=dict)  # track number -> its frames, by outcome
    camera: str = ""  # "static" (one background image) or "moving" (a background per frame from its neighbours)
    unseen_pixels: int = 0  # background pixels behind people no other frame showed empty, covered flat
    covered_by_choice: list[int] = field(default_factory=list)  # people the user chose to cover whole
    cover_box_frames: int = 0  # frames on which a cover box the user drew was painted
    face_frames: int = 0  # frames on which the whole-frame face pass hid a face no track follows

    def flag(self, index: int, time_s: float, reason: str, action: str) -> None:
        self.flagged.append(FlaggedFrame(index, round(time_s, 4), reason, action))

    def person(self, track: int) -> dict[str, int]:
        """The report's line for one person (track), started at zero."""
        return self.people.setdefault(track, {"frames": 0, "anonymized": 0, "covered": 0, "kept": 0, "absent": 0})

    def camera_line(self) -> str:
        """'camera: static' or 'camera: moving', with what had to be covered (the frames are flagged)."""
        if self.camera != "moving":
            behind = f" ({self.unseen_pixels} px behind people that no sample showed empty covered flat, see the " \
                     "flagged frames)" if self.unseen_pixels else ""
            return f"camera: {self.camera}{behind}"
        return (f"camera: moving (each frame's background made from its neighbours; {self.unseen_pixels} px never "
                "seen behind people covered flat, see the flagged frames)")

    def choice_note(self, track: int) -> str:
        """' (covered whole, as chosen)' for a person the user chose to cover, else ''."""
        return " (covered whole, as chosen)" if track in self.covered_by_choice else ""

    @property
    def flagged_frames(self) -> list[tuple[int, str, str]]:
        return [(f.index, f.reason, f.action) for f in self.flagged]

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s if self.wall_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["segmenters"] = dict(self.segmenters)
        data["fps"] = round(self.fps, 2)
        data["timings_s"] = {k: round(v, 3) for k, v in self.timings_s.items()}
        data["wall_s"] = round(self.wall_s, 3)
        return data

    def summary_lines(self) -> list[str]:
        """A few plain lines for a terminal: what was done and what needs a look."""
        lines = [
            (f"{self.frames} frames, {self.frames_anonymized} anonymized, {self.frames_without_person} without a "
             f"person; strength {self.alpha:g} ({self.model}) on {self.provider}; {self.wall_s:.1f} s "
             f"({self.fps:.1f} fps)")
        ]
        lines += [f"person {track}: frames {p['first_frame']}-{p['last_frame']}, {p['anonymized']} anonymized, "
                  f"{p['covered']} covered, {p['kept']} kept unchanged{self.choice_note(track)}"
                  for track, p in sorted(self.people.items())]
        if self.face_frames:
            lines.append(f"faces of people no track follows hidden on {self.face_frames} frames")
        if self.cover_box_frames:
            lines.append(f"cover boxes painted on {self.cover_box_frames} frames")
        if self.camera:
            lines.append(self.camera_line())
        lines += [f"note: {note}" for note in self.notes]
        lines.append(f"note: {WHAT_IS_KEPT}")
        if self.privacy:
            lines.append("privacy check: " + (self.privacy["verdict"] if self.privacy["available"]
                                              else f"not available ({self.privacy['reason']})"))
        for (reason, action), frames in _group(self.flagged).items():
            lines.append(f"flagged ({action}): {reason}: frames {_ranges(frames)}")
        return lines


def _group(flagged: Iterable[FlaggedFrame]) -> dict[tuple[str, str], list[int]]:
    groups: dict[tuple[str, str], list[int]] = {}
    for f in flagged:
        groups.setdefault((f.reason, f.action), []).append(f.index)
    return groups


def _ranges(indices: list[int]) -> str:
    """[1, 2, 3, 7] -> '1-3, 7'."""
    parts, start = [], None
    for i, value in enumerate(indices):
        if start is None:
            start = value
        if i + 1 == len(indices) or indices[i + 1] != value + 1:
            parts.append(str(start) if start == value else f"{start}-{value}")
            start = None
    return ", ".join(parts)


class StageClock:
    """Self time per stage over nested generators, like a profiler's 'self' column.

    When a timed stage pulls from another timed stage, the inner time is
    charged to the inner stage only, so the figures add up to the wall time.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._stack: list[list[Any]] = []  # [name, start, time spent in nested stages]

    def _enter(self, name: str) -> None:
        self._stack.append([name, time.perf_counter(), 0.0])

    def _leave(self) -> None:
        name, start, nested = self._stack.pop()
        elapsed = time.perf_counter() - start
        self.seconds[name] = self.seconds.get(name, 0.0) + elapsed - nested
        if self._stack:
            self._stack[-1][2] += elapsed

    def call(self, name: str, function: Callable[..., Result], *args: Any) -> Result:
        self._enter(name)
        try:
            return function(*args)
        finally:
            self._leave()

    def iterate(self, name: str, items: Iterable[Item]) -> Iterator[Item]:
        """Yield from `items`, charging the time each step takes to `name`."""
        iterator = iter(items)
        while True:
            self._enter(name)
            try:
                item = next(iterator)
            except StopIteration:
                return
            finally:
                self._leave()
            yield item
