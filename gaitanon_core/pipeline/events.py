"""What the route reports while it runs: progress with an ETA, the cancel check, each finished frame."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from ..errors import Cancelled

__all__ = ["CancelCheck", "FrameSink", "PreviewFrame", "Progress", "ProgressCallback", "Ticker"]

PROGRESS_INTERVAL_S = 0.2


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
    unfollowed: np.ndarray | None = None  # HxW bool, part of original_silhouette: what moved that no track follows

    @classmethod
    def of(cls, index: int, time: float, original: np.ndarray, anonymized: np.ndarray,
           original_silhouette: np.ndarray, anonymized_silhouette: np.ndarray,
           unfollowed: np.ndarray | None = None) -> PreviewFrame:
        return cls(index, time, original, anonymized, original_silhouette, anonymized_silhouette,
                   original_silhouette ^ anonymized_silhouette, unfollowed)

    @property
    def people_silhouette(self) -> np.ndarray:
        """The tracked people's own original silhouettes, without what moved unfollowed."""
        if self.unfollowed is None:
            return self.original_silhouette
        return self.original_silhouette & ~self.unfollowed


FrameSink = Callable[[PreviewFrame], None]  # each finished frame; `anonymized` is the very picture encoded


class Ticker:
    """Progress with an ETA at most every PROGRESS_INTERVAL_S, and the cancel check on every frame.

    Each pass over the frames (`watch`) is a stage of its own, counted from 0 to
    its `count` (the clip's `total` frames, or the samples it picks) with its own
    ETA: a clip is read more than once (its people, then the drawing; a moving
    camera's path and its people again), and one count over the first pass
    showed 100 % while the drawing, about half the time, was still to come. The
    rate is measured from a pass's first frame on, so its set-up does not inflate
    the ETA.
    """

    def __init__(self, total: int, progress: ProgressCallback | None, cancel: CancelCheck | None) -> None:
        self.total, self.progress, self.cancel = total, progress, cancel
        self.stage = ""  # the pass under way (`watch`) ...
        self.count = total  # ... and how many items it hands on
        self.done = 0
        self.started: float | None = None
        self.last = 0.0

    def check_cancel(self) -> None:
        if self.cancel is not None and self.cancel():
            raise Cancelled("anonymization cancelled; nothing was written")

    def watch(self, items: Iterable[Item], stage: str, count: int | None = None) -> Iterator[Item]:
        """Pass one pass's frames on, counting them from 0 as `stage` and checking for cancel; `count`: how many
        it hands on (the clip's frames unless it picks some, like the background's samples)."""
        self.stage, self.done, self.started, self.last = stage, 0, None, 0.0
        self.count = self.total if count is None else count
        for item in items:
            self.check_cancel()
            self.done += 1
            self._report()
            yield item

    def _report(self) -> None:
        now = time.perf_counter()
        if self.started is None:
            self.started = now
        if self.progress is None or (now - self.last < PROGRESS_INTERVAL_S and self.done < self.count):
            return
        self.last = now
        self.progress(Progress(self.stage, self.done, self.count, self._eta(now)))

    def _eta(self, now: float) -> float | None:
        if self.done >= self.count:
            return 0.0
        if self.done <= 1:
            return None
        return (self.count - self.done) * (now - self.started) / (self.done - 1)
