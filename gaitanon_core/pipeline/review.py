"""The GUI's workflow around the route: a private review copy, its export, and the preview of any frame.

`render_review` anonymizes into a private temporary folder (the review copy and
each frame's silhouettes); `export_review` writes exactly the reviewed frames
with the user's export options; `preview_frame` / `preview_with` give one frame
with both silhouettes and where they differ.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..errors import UsageError
from ..video import ExportOptions, VideoInfo, VideoWriter, frame_times, probe, read_frames, select_frames
from .events import CancelCheck, FrameSink, PreviewFrame, ProgressCallback, Ticker
from ..report import ClipReport
from .route import AnonymizeOptions, anonymize_clip

__all__ = ["Review", "export_review", "preview_frame", "preview_with", "render_review", "review_position"]

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
    ticker = Ticker(review.report.frames, progress, cancel)
    times = frame_times(review.info.path)
    wanted = select_frames(times, review.options.start, review.options.end)
    with VideoWriter(target, review.info, export, review.options.start, review.options.end) as writer:
        for index, frame in zip(wanted, ticker.watch(read_frames(review.video), "exporting")):
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
