"""A folder of videos: the plan (which files, which output names), the loop, the tally and the batch manifest.

The CLI's `batch`, the GUI's batch dialog and a Ray cluster (`cluster.py`) all
run `run_batch`: only the runner differs (clips one after another here, or one
Ray task per clip), and every runner anonymizes a clip with `run_clip`. One bad
file is reported and the batch goes on.

The batch manifest (`OUT_DIR.manifest.jsonl`, BESIDE the output folder: OUT_DIR
is what gets published, the manifest names the sources) gets one JSON line as
each clip finishes, so a killed batch restarted with `skip_existing` knows what
was done and redoes exactly what is missing (outputs are renamed into place only
when complete, so an existing output is a finished one).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import EXIT_FAILED, EXIT_FLAGGED, EXIT_OK, Cancelled, GaitanonError, UsageError
from .inference.manifest import file_sha256, manifest_entries, read_manifest, verify_file
from .options import VIDEO_SUFFIXES
from .paths import models_dir as shipped_models_dir
from .pipeline import AnonymizeOptions, CancelCheck, ProgressCallback, anonymize_clip
from .report import ClipReport

__all__ = [
    "BatchEvent", "BatchManifest", "BatchTally", "ClipOutcome", "ClipRunner", "Todo", "batch_jobs", "batch_plan",
    "check_free_space", "check_models", "error_line", "local_runner", "model_sha256s", "output_name", "run_batch",
    "run_clip", "time_left",
]  # fmt: skip

Job = tuple[Path, Path | None]  # (source, target); target None for a file that is not a video
Todo = tuple[int, Path, Path]  # (row in the plan, source, target) of a clip to anonymize
MANIFEST_SUFFIX = ".manifest.jsonl"
# Free space: each output estimated at twice its input (measured 0.3-1.2x on ../shared/data/clips at the
# default CRF 20; a low-bitrate archive can grow more), plus a reserve so the disk is never filled to the brim.
OUTPUT_SIZE_RATIO = 2.0
FREE_SPACE_RESERVE_BYTES = 256 * 1024 * 1024


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


def error_line(error: BaseException) -> str:
    """One line for a terminal or a manifest: ours as written, anything else named as an internal error."""
    return str(error) if isinstance(error, GaitanonError) else f"internal error: {type(error).__name__}: {error}"


@dataclass(frozen=True)
class ClipOutcome:
    """One clip's result, as `run_clip` returns it: small and picklable, so a Ray worker can send it back."""

    input_sha256: str | None
    output_sha256: str | None
    seconds: float
    report: ClipReport | None = None
    error: Exception | None = None

    @property
    def status(self) -> str:
        if self.report is None:
            return "failed"
        return "flagged" if self.report.flagged else "done"

    @property
    def exit_code(self) -> int:
        if self.report is None:
            return getattr(self.error, "exit_code", EXIT_FAILED)
        return EXIT_FLAGGED if self.report.flagged else EXIT_OK


@dataclass(frozen=True)
class BatchEvent:
    """What happened to one file of the plan; `finished` of `to_do` clips are through (skips not counted)."""

    row: int
    source: Path
    target: Path | None
    status: str  # running | done | flagged | skipped | failed
    reason: str = ""  # why it was skipped
    outcome: ClipOutcome | None = None  # done, flagged or failed
    finished: int = 0
    to_do: int = 0

    @property
    def report(self) -> ClipReport | None:
        return self.outcome.report if self.outcome else None

    @property
    def error(self) -> Exception | None:
        return self.outcome.error if self.outcome else None


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
    if output_dir.parent == output_dir:
        raise UsageError("the output folder cannot be a file system's root: the batch manifest goes beside it")
    return list(batch_jobs(input_dir, output_dir))


# --- the models every clip of a batch is made with ------------------------------------------------------


def model_sha256s(models_dir: Path | None) -> dict[str, str]:
    """File name -> sha256 of every model in the manifest, each file checked against it first."""
    folder = Path(models_dir) if models_dir is not None else shipped_models_dir()
    entries = manifest_entries(folder, read_manifest(folder))
    for entry in entries:
        verify_file(entry)
    return {entry.path.name: entry.sha256 for entry in entries}


def check_models(models_dir: Path | None, expected: dict[str, str]) -> None:
    """Refuse to work where the models differ from the ones the batch started with (a worker's own copy)."""
    found = model_sha256s(models_dir)
    if found != expected:
        differing = sorted(set(found.items()) ^ set(expected.items()))
        raise GaitanonError(f"the models here differ from the batch's ({differing[0][0]}); "
                            "install the same gaitanon version and models on every machine")


# --- one clip ----------------------------------------------------------------------------------------------


def run_clip(source: Path, target: Path, options: AnonymizeOptions, progress: ProgressCallback | None = None,
             cancel: CancelCheck | None = None) -> ClipOutcome:
    """One clip of a batch, the same here and on a Ray worker: anonymize it, hash the input and the output."""
    started = time.monotonic()
    input_sha256 = None
    try:
        input_sha256 = file_sha256(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        report = anonymize_clip(source, target, options, progress, cancel)
        return ClipOutcome(input_sha256, file_sha256(target), time.monotonic() - started, report=report)
    except Cancelled:
        raise
    except Exception as error:  # noqa: BLE001 - one bad file must not stop the batch
        return ClipOutcome(input_sha256, None, time.monotonic() - started, error=error)


# A runner takes the clips to do and yields (row, None) when one starts (where it can tell) and
# (row, outcome) when one finishes, in whatever order they finish.
ClipRunner = Callable[[list[Todo]], Generator[tuple[int, ClipOutcome | None], None, None]]


def local_runner(options: AnonymizeOptions, progress_for: Callable[[Path], ProgressCallback | None],
                 cancel: CancelCheck | None = None) -> ClipRunner:
    """Clips one after another in this process."""
    def run(todo: list[Todo]) -> Generator[tuple[int, ClipOutcome | None], None, None]:
        for row, source, target in todo:
            yield row, None
            yield row, run_clip(source, target, options, progress_for(source), cancel)
    return run


# --- the manifest ------------------------------------------------------------------------------------------


class BatchManifest:
    """`OUT_DIR.manifest.jsonl` beside the output folder: one JSON line per finished clip, appended at once."""

    def __init__(self, output_dir: Path, strength: float, models: dict[str, str]) -> None:
        self.output_dir = output_dir.resolve()
        self.path = self.output_dir.parent / f"{self.output_dir.name}{MANIFEST_SUFFIX}"
        self.strength = strength
        self.models = models

    def records(self) -> list[dict[str, Any]]:
        """Every line written so far, a torn last line (a killed writer) left out."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        except OSError as error:
            raise GaitanonError(f"cannot read the batch manifest {self.path}: {error.strerror}") from None
        records = []
        for line in lines:
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
        return records

    def latest(self) -> dict[str, dict[str, Any]]:
        """The last record of each input: what a batch and its resumed runs made of it."""
        return {record["input"]: record for record in self.records()}

    def review_first(self) -> list[str]:
        """Outputs to check before publishing: flagged frames, or finished by a run that did not record them."""
        return sorted(r["output"] for r in self.latest().values() if r["status"] in ("flagged", "unrecorded"))

    def record(self, source: Path, target: Path, outcome: ClipOutcome) -> dict[str, Any]:
        report = outcome.report
        return self._append({
            "input": str(source), "input_sha256": outcome.input_sha256,
            "output": self.entry_name(target), "output_sha256": outcome.output_sha256,
            "strength": self.strength, "models": self.models, "status": outcome.status,
            "flagged_frames": [f.index for f in report.flagged] if report else [],
            "exit_code": outcome.exit_code, "error": error_line(outcome.error) if outcome.error else None,
            "seconds": round(outcome.seconds, 2), "time": _now(),
        })

    def record_unrecorded(self, source: Path, target: Path) -> dict[str, Any]:
        """An output found on resume that no line names (the run that renamed it died before recording it)."""
        return self._append({
            "input": str(source), "input_sha256": file_sha256(source),
            "output": self.entry_name(target), "output_sha256": file_sha256(target),
            "strength": self.strength, "models": self.models, "status": "unrecorded",
            "flagged_frames": None, "exit_code": None, "error": None, "seconds": None, "time": _now(),
        })

    def entry_name(self, target: Path) -> str:
        """How the manifest names an output: its path inside the output folder."""
        return target.relative_to(self.output_dir).as_posix()

    def _append(self, record: dict[str, Any]) -> dict[str, Any]:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            with open(self.path, "ab+") as handle:
                if handle.seek(0, os.SEEK_END) and (handle.seek(-1, os.SEEK_END), handle.read(1))[1] != b"\n":
                    line = b"\n" + line  # after a line torn by a killed run, start a fresh one
                handle.write(line)  # one write of one line: a kill tears at most this line
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as error:
            raise GaitanonError(f"cannot write the batch manifest {self.path}: {error.strerror}") from None
        return record


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --- before starting, and while running -----------------------------------------------------------------


def check_free_space(sources: Iterable[Path], output_dir: Path) -> None:
    """Refuse a batch whose outputs would not fit (estimated from the inputs' sizes) before writing anything."""
    needed = int(sum(source.stat().st_size for source in sources) * OUTPUT_SIZE_RATIO) + FREE_SPACE_RESERVE_BYTES
    existing = next(folder for folder in (output_dir, *output_dir.parents) if folder.exists())
    free = shutil.disk_usage(existing).free
    if free < needed:
        raise GaitanonError(f"not enough free space for the batch in {existing}: about {_gb(needed)} needed, "
                            f"{_gb(free)} free; free some space or choose another output folder")


def _gb(size: int) -> str:
    return f"{size / 1e9:.1f} GB"


def time_left(started: float, finished: int, to_do: int) -> float | None:
    """Seconds until the last clip, from the pace so far (clips finishing in parallel included)."""
    if finished == 0:
        return None
    return (time.monotonic() - started) / finished * (to_do - finished)


def _skip_reason(target: Path | None, skip_existing: bool) -> str:
    if target is None:
        return "not a video"
    return f"{target.name} exists" if skip_existing and target.exists() else ""


def run_batch(plan: list[Job], runner: ClipRunner, manifest: BatchManifest, skip_existing: bool = False,
              ) -> Generator[BatchEvent, None, BatchTally]:
    """Anonymize the plan, one event per file and step, a manifest line per finished clip; returns the tally.

    Only a cancel (or Ctrl-C) stops it; the free space is checked before anything is written.
    """
    tally = BatchTally()
    todo: list[Todo] = []
    skipped: list[tuple[int, Path, Path | None, str]] = []
    for row, (source, target) in enumerate(plan):
        if reason := _skip_reason(target, skip_existing):
            skipped.append((row, source, target, reason))
        else:
            todo.append((row, source, target))
    check_free_space((source for _, source, _ in todo), manifest.output_dir)
    recorded = {record["output"] for record in manifest.records()}
    for row, source, target, reason in skipped:
        if target is not None and manifest.entry_name(target) not in recorded:
            manifest.record_unrecorded(source, target)
        tally.skipped += 1
        yield BatchEvent(row, source, target, "skipped", reason=reason, to_do=len(todo))
    places = {row: (source, target) for row, source, target in todo}
    finished = 0
    with closing(runner(todo)) as outcomes:  # closed early (Ctrl-C, an error), a runner stops what it started
        for row, outcome in outcomes:
            source, target = places[row]
            if outcome is None:
                yield BatchEvent(row, source, target, "running", finished=finished, to_do=len(todo))
                continue
            manifest.record(source, target, outcome)
            finished += 1
            tally.failed += outcome.status == "failed"
            tally.done += outcome.status != "failed"
            tally.flagged += outcome.status == "flagged"
            yield BatchEvent(row, source, target, outcome.status, outcome=outcome, finished=finished,
                             to_do=len(todo))
    return tally
