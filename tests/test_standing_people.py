"""A person who stands in one place through a still clip is in the median of its samples (no sample shows the
scene behind them). Found by the detector in the samples, they are taken out of the median before anyone is
segmented (`silhouettes._standing_in`), so the segmenter sees them; after the people pass, where people's
regions stood through much of the clip is marked never seen too (`camera.without_standing_people`), and where
people are taken out next to or over it, it is covered flat and flagged (`route.still_scene`), never painted
back: painted back, it was the standing person's original outline, translucent (vtest.avi, the man by the
sign post). On real footage: tests/test_people.py, vtest.avi.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from model_fixtures import build_model_bank
from pipeline_fixtures import write_clip

from gaitanon_core import pipeline
from gaitanon_core.people.background import BackgroundModel
from gaitanon_core.pipeline.camera import STANDING_SHARE, STANDING_S, UNSEEN, without_standing_people
from gaitanon_core.pipeline.route import Person, still_scene
from gaitanon_core.report import ClipReport
from gaitanon_core.people.detection import Detection, PersonDetector
from gaitanon_core.people.person_mask import Box
from gaitanon_core.shape import codec
from gaitanon_core.shape.tracking import FrameShape, MaskCrop
from gaitanon_core.video import Frame, read_frames
from training.demo_walker import WalkerPath, random_identity, render_crowd

SHAPE = (90, 120)
EMPTY = MaskCrop(0, 0, np.zeros((0, 0), bool), SHAPE)


def _shape(index: int, rows: slice, cols: slice) -> FrameShape:
    person = np.zeros(SHAPE, bool)
    person[rows, cols] = True
    return FrameShape(index, MaskCrop.of(person), EMPTY, "fused", "whole", 1, False)


def _background(never_seen: np.ndarray | None = None) -> BackgroundModel:
    image = np.full((*SHAPE, 3), 120, np.uint8)
    image[30:70, 50:60] = (20, 30, 200)  # a ghost: the standing person in the median
    seen = np.zeros(SHAPE, bool) if never_seen is None else never_seen
    return BackgroundModel(image, np.full(SHAPE, 10.0, np.float32), seen)


def test_where_people_stood_through_much_of_the_clip_is_never_seen() -> None:
    frames, fps = 100, 10.0
    stood = [_shape(t, slice(30, 70), slice(50, 60)) for t in range(int(np.ceil(STANDING_SHARE * frames)))]
    passed = [_shape(t, slice(30, 70), slice(90, 100)) for t in range(8)]  # a walker passing by
    marked = without_standing_people(_background(), stood + passed, frames, fps).never_seen
    assert marked[30:70, 50:60].all()
    assert marked[29, 55] and marked[70, 55], "grown by the samples' margin"
    assert not marked[:, 85:].any()


def test_a_clip_where_no_one_stands_keeps_its_background() -> None:
    background = _background()
    assert without_standing_people(background, [_shape(0, slice(30, 70), slice(50, 60))], 10, 10.0) is background
    walking = [_shape(t, slice(30, 70), slice(50, 60)) for t in range(STANDING_S * 10 - 1)]
    assert without_standing_people(background, walking, len(walking), 10.0) is background, "under STANDING_S"


def _person(rows: slice, cols: slice) -> Person:
    return Person(1, _shape(0, rows, cols), None, kept=False)


def test_taken_out_beside_a_standing_person_the_scene_is_covered_flat_not_painted_back() -> None:
    never_seen = np.zeros(SHAPE, bool)
    never_seen[28:72, 48:62] = True
    background = _background(never_seen)
    frame = Frame(3, 0.12, np.full((*SHAPE, 3), 90, np.uint8))
    report = ClipReport(source="in", target="out")
    scene = still_scene(frame, [_person(slice(30, 70), slice(45, 58))], None, background, report)
    ghost = (scene[30:70, 50:58] == (20, 30, 200)).all(axis=2)
    assert not ghost.any(), "the ghost in the median was painted back"
    assert len(np.unique(scene[32:68, 50:58].reshape(-1, 3), axis=0)) == 1, "flat"
    assert report.unseen_pixels > 0 and [f.reason for f in report.flagged] == [UNSEEN]
    away = ClipReport(source="in", target="out")
    assert still_scene(frame, [_person(slice(30, 70), slice(95, 105))], None, background, away) is background.image
    assert away.unseen_pixels == 0 and not away.flagged


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    return build_model_bank(tmp_path_factory.mktemp("models"), codec.N_POINTS, codec.LAYOUT)


def test_a_person_standing_through_the_whole_clip_is_anonymized(models, tmp_path, monkeypatch) -> None:
    """A generated walker stops mid-room; the clip starts once they stand and ends before they walk on, so every
    sample shows them and no sample disagrees where they are. The detector (which does not see generated
    figures: it stands in for one that sees a real person) finds them; `_standing_in` takes them out of the
    median, so the segmenter sees them (before: "nobody found in the clip: copied unchanged") and the scene
    behind them, never shown, is covered flat."""
    clip = render_crowd([WalkerPath(random_identity(5), pause=(40, 400))], (240, 180), seed=11)
    standing_from = int(0.6 * clip.fps) + 45
    frames = clip.frames[standing_from : standing_from + 100]
    stander = clip.masks[0, standing_from : standing_from + 100]
    assert all(np.array_equal(mask, stander[0]) for mask in stander), "they stand still throughout"
    box = Box.of_mask(stander[0])

    def sees_them(self, frame: np.ndarray, min_confidence: float = 0.5) -> list[Detection]:
        k = frame.shape[0] / stander.shape[1]
        return [Detection(Box(int(box.x0 * k), int(box.y0 * k), int(np.ceil(box.x1 * k)), int(np.ceil(box.y1 * k))),
                          0.9)]

    monkeypatch.setattr(PersonDetector, "people", sees_them)
    source = write_clip(tmp_path / "standing.mp4", frames, clip.fps)
    report = pipeline.anonymize_clip(source, tmp_path / "out.mp4", pipeline.AnonymizeOptions(models_dir=models,
                                                                                             seed=1))
    assert len(report.people) == 1 and next(iter(report.people.values()))["anonymized"] >= 90, report.people
    assert report.unseen_pixels > 0 and any(f.reason == UNSEEN for f in report.flagged)
    outputs = [f.image for f in read_frames(tmp_path / "out.mp4")]
    originals = [f.image for f in read_frames(source)]
    for t, (original, output) in enumerate(zip(originals, outputs)):
        unchanged = (np.abs(output.astype(int) - original.astype(int)).max(axis=2) < 12)[stander[t]].mean()
        assert unchanged < 0.7, f"frame {t}: {unchanged:.2f} of the standing person as they were"
