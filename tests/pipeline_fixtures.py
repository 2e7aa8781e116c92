"""The demo walker as a video file with its true silhouettes, and a segmenter that returns them.

The pipeline's units run on known silhouettes: `truth_segmenter` stands in for
`silhouettes.segment_clip` (same FrameMask stream), so a test can also break
it on purpose (lost frames, camera motion, nobody there).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from model_fixtures import build_model_bank

from gaitanon_core.shape import codec as contours
from training.demo_walker import WalkerClip, WalkerIdentity, render_walk
from gaitanon_core.people.background import BackgroundModel
from gaitanon_core.people.silhouettes import FrameMask
from gaitanon_core.people.tracks import PeopleFrame

WALKER_SIZE = (240, 136)


@dataclass
class WalkerCase:
    clip: WalkerClip
    video: Path
    models: Path

    def body(self, index: int) -> str:
        mask = self.clip.masks[index]
        if not mask.any():
            return "absent"
        return "cut" if mask[:, 0].any() or mask[:, -1].any() else "whole"

    def whole_frames(self) -> list[int]:
        return [i for i in range(len(self.clip.masks)) if self.body(i) == "whole"]


def write_clip(path: Path, frames: np.ndarray, fps: float) -> Path:
    """Frames -> an almost lossless H.264 file, as a camera would hand it over."""
    height, width = frames.shape[1:3]
    writer = imageio_ffmpeg.write_frames(str(path), (width, height), fps=fps, codec="libx264", quality=None,
                                         pix_fmt_out="yuv444p", output_params=["-crf", "4"], macro_block_size=1)
    writer.send(None)
    for frame in frames:
        writer.send(np.ascontiguousarray(frame))
    writer.close()
    return path


def make_walker_case(folder: Path) -> WalkerCase:
    clip = render_walk(WalkerIdentity(), size=WALKER_SIZE)
    video = write_clip(folder / "walker.mp4", clip.frames, clip.fps)
    models = build_model_bank(folder / "models", contours.N_POINTS, contours.LAYOUT)
    return WalkerCase(clip, video, models)


Tamper = Callable[[FrameMask], FrameMask]


class TruthSegmenter:
    """Stands in for `silhouettes.ClipSegmenter`: the walker's true masks and the true empty room."""

    def __init__(self, case: WalkerCase, tamper: Tamper | None = None) -> None:
        self.case, self.tamper = case, tamper
        room = case.clip.background
        self.background = BackgroundModel(room, np.zeros(room.shape[:2], np.float32), np.zeros(room.shape[:2], bool))
        self.samples_still = True  # a still camera: the people pass judges it (`StillnessWatch`)

    def mask(self, index: int) -> FrameMask:
        person = self.case.clip.masks[index]
        mask = FrameMask(index=index, person=person.copy(), shadow=self.case.clip.shadows[index].copy(),
                         segmenter="fused", body=self.case.body(index), people=int(person.any()), camera_moved=False)
        return self.tamper(mask) if self.tamper else mask

    def track(self, frames: Iterable[tuple[int, np.ndarray]]) -> Iterator[FrameMask]:
        return (self.mask(index) for index, _ in frames)


def truth_people(segmenter, frames, fps, detector=None) -> Iterator[PeopleFrame]:
    """Stands in for `people.tracks.follow_people`: the segmenter's masks as person 1."""
    for mask in segmenter.track(frames):
        yield PeopleFrame(mask.index, {1: mask}, camera_moved=mask.camera_moved)


def use_truth(monkeypatch, case: WalkerCase, tamper: Tamper | None = None) -> None:
    """Make the pipeline see the true silhouettes and the true empty room."""
    from gaitanon_core.pipeline import people, route as pipeline

    monkeypatch.setattr(pipeline, "clip_segmenter", lambda *args: TruthSegmenter(case, tamper))
    monkeypatch.setattr(people, "follow_people", truth_people)
