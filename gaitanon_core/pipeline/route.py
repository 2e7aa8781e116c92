"""One clip through the whole route: decode -> silhouette -> contour -> anonymize -> colour -> encode.

`anonymize_clip` reads top to bottom as that route; each stage is a call into
the package named for it. Frames stream: the silhouettes run ahead of the
pictures by a bounded look-ahead (`shape.tracking.LOOKAHEAD_S`, masks only,
cropped to the person), which the per-frame transform needs to be smoothed and
a body entering the picture needs to be completed from the first frames that
show it whole; the anonymizer holds one window of contours. What is flagged
and when the clip is refused is `policy.py`'s.

Fail closed (DESIGN.md): the person's original silhouette and shadow never
leave. A frame whose person cannot be anonymized is covered (the person's
region and a band around it painted with the background); a frame where the
segmenter lost the person mid-clip is covered where the person was in the
neighbouring frames; each such frame is listed in the report with the reason.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..inference.anonymizer import ModelBank
from ..inference.attacker import WalkSampler, check_clip_privacy
from ..options import default_strength
from ..people.silhouettes import ClipSegmenter, sample_frames
from ..render.colouring import CAST_SHADOW, colour_frame
from ..render.faces import DEFAULT_FACES, check_mode
from ..render.warp import OutlinePair
from ..shape import codec
from ..shape.tracking import FrameShape, anonymized_silhouette, outline_pair, track_shapes
from ..video import ExportOptions, Frame, VideoInfo, VideoWriter, frame_times, probe, read_frames, select_frames
from ..video.writer import check_target_free
from .events import CancelCheck, FrameSink, PreviewFrame, ProgressCallback, Ticker
from .policy import (
    CameraWatch,
    check_aligned,
    check_layout,
    check_times,
    finish_report,
    record_frame,
    refuse_unsafe_clip,
)
from ..report import ClipReport, StageClock

__all__ = ["AnonymizeOptions", "anonymize_clip", "model_bank"]


@dataclass
class AnonymizeOptions:
    strength: float | None = None  # None: the models' default (options.default_strength)
    device: str = "auto"
    seed: int | None = None  # tests and reproducibility only: anyone with the seed can redo the draw
    start: float | None = None
    end: float | None = None
    export: ExportOptions = field(default_factory=ExportOptions)
    models_dir: Path | None = None
    faces: str = DEFAULT_FACES  # render.faces.FACE_MODES: how the walker's head is hidden
    colouring: str = "warp"  # "eq9": the paper's rule, an evaluation condition only (it leaks the outline)
    cast_shadow: bool = CAST_SHADOW  # the new silhouette casts a soft shadow the way the original's fell


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
    alpha = bank.check_strength(default_strength(options.models_dir) if options.strength is None else options.strength)
    check_mode(options.faces)
    check_layout(bank)
    info = probe(source)
    check_times(info, options.start, options.end)
    check_target_free(Path(target), options.export.overwrite)  # before the work, not after it
    report = ClipReport(source=str(source), target=str(target), provider=bank.provider,
                        model=bank.anonymizer_entry(alpha).name, alpha=alpha)
    if bank.device_note:
        report.notes.append(bank.device_note)
    total = len(select_frames(frame_times(info.path), options.start, options.end))
    rng = np.random.default_rng(options.seed)  # seed None: fresh entropy from the operating system
    clip = bank.start_clip(alpha, rng)

    ticker = Ticker(total, progress, cancel)
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
            check_aligned(frame, shape)
            shape.camera_moved |= clock.call("camera check", camera.moved, frame.image, shape)
            new_silhouette = clock.call("contour", anonymized_silhouette, shape, points)
            outline = None if options.colouring == "eq9" else outline_pair(shape, points)
            image = clock.call("colour", colour_person, frame, shape, new_silhouette, background, outline,
                               options.faces, options.cast_shadow)
            clock.call("encode", writer.write, image, frame.time)
            record_frame(report, frame, shape, points is not None)
            refuse_unsafe_clip(report)
            person = shape.person.full()
            if points is not None and shape.body == "whole":
                walks.add(person, new_silhouette)
            if on_frame is not None:
                on_frame(PreviewFrame.of(frame.index, frame.time, frame.image, image, person, new_silhouette))
            ticker.check_cancel()
    report.privacy = clock.call("privacy check", check_clip_privacy, walks, options.models_dir, report.model)
    finish_report(report, clock, started)
    return report


def clip_segmenter(info: VideoInfo, start: float | None, end: float | None) -> ClipSegmenter:
    """The segmenter of this clip, with its background model (also the I_Bg of the colouring)."""
    return ClipSegmenter.from_frames(sample_frames(info.path, info, start, end))


def colour_person(frame: Frame, shape: FrameShape, silhouette: np.ndarray, background: np.ndarray,
                  outline: tuple[np.ndarray, np.ndarray] | None, faces: str, cast: bool) -> np.ndarray:
    """The person's texture warped along `outline` (original, anonymized) onto the new silhouette, head hidden
    by `faces`; eq. 9 when `outline` is None; background over the region of a covered person."""
    if shape.cover is not None:
        region = shape.cover.full() | shape.shadow.full()
        return colour_frame(frame.image, background, region, np.zeros_like(region), margin=0.0)
    pair = None if outline is None else OutlinePair(*outline)
    return colour_frame(frame.image, background, shape.person.full(), silhouette, shadow=shape.shadow.full(),
                        outline=pair, faces=faces, cast=cast)
