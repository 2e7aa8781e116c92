"""A folder of videos: the plan (which files, which output names), the tally, and the loop.

The CLI's `batch` and the GUI's batch dialog both run `run_batch` and only show
its events their own way: one bad file is reported and the batch goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import EXIT_FAILED, EXIT_FLAGGED, EXIT_OK, Cancelled, UsageError
from .options import VIDEO_SUFFIXES
from .pipeline import AnonymizeOptions, CancelCheck, ProgressCallback, anonymize_clip
from .report import ClipReport

__all__ = ["BatchEvent", "BatchTally", "batch_jobs", "batch_plan", "output_name", "run_batch"]

Job = tuple[Path, Path | None]  # (source, target); target None for a file that is not a video


@dataclass
class BatchTally:
    done: int = 0
    flagged: int = 0
    skipped: int = 0
    failed: int = 0

    def exit_code(self) -> int:
        if self.failed:
            return EXIT_FAILED
        return EXIT_FLAGGED if self.flagged else EXIT_OK

    def summary(self) -> str:
        return (f"batch: {self.done} anonymized ({self.flagged} with flagged frames), "
                f"{self.skipped} skipped, {self.failed} failed")


@dataclass(frozen=True)
class BatchEvent:
    """What happened to one file of the plan."""

    row: int
    source: Path
    target: Path | None
    status: str  # running | done | flagged | skipped | failed
    reason: str = ""  # why it was skipped
    report: ClipReport | None = None  # done or flagged
    error: Exception | None = None  # failed


def output_name(source: Path) -> str:
    """a.avi -> a_avi.mp4: the input's extension stays in the name, so a.avi and a.mov never collide."""
    return f"{source.stem}_{source.suffix.lstrip('.').lower()}.mp4"


def batch_jobs(input_dir: Path, output_dir: Path) -> Iterator[Job]:
    """(source, target) for every file under input_dir, target None for a non-video; sorted, recursive."""
    for source in sorted(p for p in input_dir.rglob("*") if p.is_file()):
        if source.suffix.lower() not in VIDEO_SUFFIXES:
            yield source, None
            continue
        yield source, output_dir / source.parent.relative_to(input_dir) / output_name(source)


def batch_plan(input_dir: Path, output_dir: Path, shown_input: Path | None = None) -> list[Job]:
    """The whole plan (mirrored tree, collision-free names); refuses a missing input or an output inside it."""
    input_dir, output_dir = input_dir.resolve(), output_dir.resolve()
    if not input_dir.is_dir():
        raise UsageError(f"{shown_input or input_dir}: no such folder")
    if output_dir == input_dir or input_dir in output_dir.parents:
        raise UsageError("the output folder must be outside the input folder")
    return list(batch_jobs(input_dir, output_dir))


def run_batch(plan: list[Job], options: AnonymizeOptions, progress_for: Callable[[Path], ProgressCallback | None],
              cancel: CancelCheck | None = None, skip_existing: bool = False,
              ) -> Generator[BatchEvent, None, BatchTally]:
    """Anonymize the plan, one event per file and step; returns the tally. Only a cancel stops it."""
    tally = BatchTally()
    for row, (source, target) in enumerate(plan):
        if target is None or (skip_existing and target.exists()):
            tally.skipped += 1
            reason = "not a video" if target is None else f"{target.name} exists"
            yield BatchEvent(row, source, target, "skipped", reason=reason)
            continue
        yield BatchEvent(row, source, target, "running")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            report = anonymize_clip(source, target, options, progress_for(source), cancel)
        except Cancelled:
            raise
        except Exception as error:  # noqa: BLE001 - one bad file must not stop the batch
            tally.failed += 1
            yield BatchEvent(row, source, target, "failed", error=error)
            continue
        tally.done += 1
        tally.flagged += bool(report.flagged)
        yield BatchEvent(row, source, target, "flagged" if report.flagged else "done", report=report)
    return tally
