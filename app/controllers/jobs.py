"""What the window's background workers run: thin calls into gaitanon_core, no algorithm here.

Each job takes the worker's `JobControl` first (progress and cancel), runs in a
pool thread, and returns a value the GUI thread receives through a signal.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gaitanon_core.batch import BatchManifest, BatchTally, batch_plan, local_runner, model_sha256s
from gaitanon_core.batch import run_batch as run_batch_plan
from gaitanon_core.pipeline import (
    AnonymizeOptions,
    PreviewFrame,
    Progress,
    PersonTrack,
    Review,
    anonymize_clip,
    export_review,
    model_bank,
    people_in_clip,
    preview_with,
    render_review,
)
from gaitanon_core.render.covers import CoverBox
from gaitanon_core.render.faces import DEFAULT_FACES
from gaitanon_core.report import ClipReport
from gaitanon_core.video import ExportOptions, SeekableReader, VideoInfo, frame_times, probe, select_frames

from ..errors import plain_sentence
from ..frame_source import FrameProxy, ShownFrame
from ..workers import JobControl

PROVIDER_NAMES = {
    "CPUExecutionProvider": "CPU",
    "CUDAExecutionProvider": "NVIDIA GPU (CUDA)",
    "TensorrtExecutionProvider": "NVIDIA GPU (TensorRT)",
}


def device_name(provider: str) -> str:
    return PROVIDER_NAMES.get(provider, provider)


def load_models(_control: JobControl, models_dir: Path) -> str:
    """Open the model bank the anonymization will use (the engine caches it); the provider really running it."""
    return model_bank(models_dir, "auto").provider


@dataclass
class OpenedClip:
    info: VideoInfo
    times: np.ndarray           # source time of every frame (variable frame rate included)
    reader: SeekableReader      # used by the decoding thread only
    proxy: FrameProxy           # filled by `fill_proxy` in the background

    def time_of(self, index: int) -> float:
        return float(self.times[index]) if 0 <= index < len(self.times) else index / max(self.info.fps, 1e-6)

    def original_frame(self, index: int) -> ShownFrame:
        image = self.proxy.read(index) if self.proxy.has(index) else self.reader.read(index)
        return ShownFrame(index=index, original=image)

    def describe(self) -> str:
        info = self.info
        rate = "variable rate" if info.is_vfr else f"{info.fps:.3g} fps"
        audio = "with audio (dropped on export unless kept)" if info.has_audio else "no audio"
        tags = f", {len(info.metadata)} metadata fields (stripped on export)" if info.metadata else ""
        return (f"{info.path.name}: {info.width}×{info.height}, {rate}, {info.frame_count} frames, "
                f"{info.duration:.2f} s, {audio}{tags}")


def open_clip(_control: JobControl, path: Path) -> OpenedClip:
    info = probe(path)
    return OpenedClip(info=info, times=frame_times(path), reader=SeekableReader(path),
                      proxy=FrameProxy((info.width, info.height)))


def fill_proxy(_control: JobControl, proxy: FrameProxy, video: Path) -> Iterator[int]:
    """A generator job: the worker stops it between frames when cancelled."""
    yield from proxy.fill(video)


def find_people(control: JobControl, video: Path) -> dict[int, PersonTrack]:
    """The clip's people with a thumbnail each, numbered as the review's anonymization (the whole clip) numbers them."""
    return people_in_clip(video, progress=control.progress, cancel=control.cancelled)


@dataclass(frozen=True)
class Choices:
    """The user's choices a review copy is made with: whom to keep, whom to cover whole, the boxes drawn."""

    keep_tracks: frozenset[int] = frozenset()
    cover_tracks: frozenset[int] = frozenset()
    cover_boxes: tuple[CoverBox, ...] = ()


class ReviewSession:
    """One anonymization of the open clip, from pressing Anonymize to discarding it.

    The engine's `Review` (a private review copy plus per-frame silhouettes) exists
    once rendering has finished; Export writes exactly its frames. For scrubbing,
    the render also keeps each finished picture, the one encoded into the review
    copy, in a FrameProxy (JPEG); the overlays come from the silhouettes the
    engine stored per frame. No ffmpeg process is started per frame shown.
    """

    def __init__(self, clip: OpenedClip, alpha: float, models_dir: Path, faces: str = DEFAULT_FACES,
                 choices: Choices = Choices()) -> None:
        self.clip = clip
        self.alpha = alpha
        self.choices = choices
        self.options = AnonymizeOptions(strength=alpha, models_dir=models_dir, faces=faces,
                                        keep_tracks=choices.keep_tracks, cover_tracks=choices.cover_tracks,
                                        cover_boxes=choices.cover_boxes)
        self.engine: Review | None = None
        self.proxy = FrameProxy((clip.info.width, clip.info.height))
        self.reviewed = select_frames(clip.times, self.options.start, self.options.end)

    @property
    def complete(self) -> bool:
        return self.engine is not None

    @property
    def report(self) -> ClipReport:
        return self.engine.report

    def has_frame(self, index: int) -> bool:
        return self.complete and index in self.reviewed

    def frame(self, index: int, with_silhouettes: bool) -> ShownFrame:
        """Runs in the decoding thread."""
        original = self.clip.original_frame(index).original
        anonymized = self.proxy.read(index - self.reviewed.start)
        if not with_silhouettes:
            return ShownFrame(index, original, anonymized)
        return ShownFrame.of(preview_with(self.engine, index, original, anonymized))

    def discard(self) -> None:
        self.proxy.close()
        if self.engine is not None:
            self.engine.discard()


def anonymize(control: JobControl, session: ReviewSession,
              live: Callable[[PreviewFrame], None] | None = None) -> ReviewSession:
    """Render the review copy; `live` sees each frame as it is finished (from this worker thread)."""

    def finished(frame: PreviewFrame) -> None:
        session.proxy.add(frame.anonymized)  # scrubbing the review is fast the moment it is complete
        if live is not None:
            live(frame)

    session.engine = render_review(session.clip.info.path, session.options, control.progress, control.cancelled,
                                   on_frame=finished)
    return session


def export(control: JobControl, session: ReviewSession, target: Path, options: ExportOptions) -> Path:
    return export_review(session.engine, target, options, control.progress, control.cancelled)


@dataclass(frozen=True)
class BatchRow:
    """One line of the batch queue: what happened to one file."""

    row: int
    source: Path
    status: str       # queued | running | done | flagged | skipped | failed
    message: str = ""


def batch_queue(input_dir: Path, output_dir: Path) -> list[tuple[Path, Path | None]]:
    """The engine's batch plan (mirrored tree, collision-free names); refuses an output inside the input."""
    return batch_plan(input_dir, output_dir)


def batch_manifest(output_dir: Path, options: AnonymizeOptions) -> BatchManifest:
    """The same batch manifest as the CLI's, beside the output folder (the models' checksums verified)."""
    return BatchManifest(output_dir, options.strength, model_sha256s(options.models_dir))


def run_batch(control: JobControl, queue: list[tuple[Path, Path | None]], options: AnonymizeOptions,
              manifest: BatchManifest) -> Generator[BatchRow | Progress, None, BatchTally]:
    """A generator job over the engine's batch loop; one bad file is reported and the batch goes on."""
    runner = local_runner(options, lambda _source: control.progress, control.cancelled)
    events = run_batch_plan(queue, runner, manifest)
    while True:
        try:
            event = next(events)
        except StopIteration as finished:
            return finished.value
        if event.error is not None:
            message = plain_sentence(event.error)
        elif event.report is not None:
            message = " ".join(event.report.summary_lines()[:1]) + f" -> {event.target.name}"
        else:
            message = event.reason
        yield BatchRow(event.row, event.source, event.status, message)
