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
from gaitanon_core.pipeline.camera import (
    MIN_EMPTY_SAMPLES, STANDING_SHARE, STANDING_S, UNSEEN, without_standing_people,
)
from gaitanon_core.people import silhouettes
from gaitanon_core.pipeline.people import PersonTrack, standing_covers
from gaitanon_core.pipeline.policy import UNSEPARATED
from gaitanon_core.pipeline.route import Person, still_scene
from gaitanon_core.report import COPIED, ClipReport
from gaitanon_core.people.detection import Detection, PersonDetector
from gaitanon_core.people.person_mask import Box
from gaitanon_core.people.tracks import _Segmented, _unseen_still
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


def _sample(index: int, person_cols: slice | None) -> Frame:
    """A frame of the scene (grey 120) with the standing person (blue) at `person_cols`, or without them."""
    image = np.full((*SHAPE, 3), 120, np.uint8)
    if person_cols is not None:
        image[30:70, person_cols] = (20, 30, 200)
    return Frame(index, index / 10.0, image)


@pytest.mark.parametrize("empty_samples", [4, 2])
def test_where_samples_showed_the_scene_behind_a_standing_person_it_is_painted_from_them(empty_samples: int) -> None:
    """The samples' median holds the standing person (a ghost); where MIN_EMPTY_SAMPLES samples or more showed
    the place with no one there (by the people pass's regions), their median is the scene there; elsewhere it stays
    never seen (covered flat when someone is taken out near it)."""
    frames, fps = 100, 10.0
    stood = [_shape(t, slice(30, 70), slice(50, 60)) for t in range(frames - 10)]
    samples = [_sample(t, slice(50, 60)) for t in range(0, frames - 10, 10)]
    samples += [_sample(t, None) for t in range(frames - 10, frames - 10 + empty_samples)]  # they left
    background = without_standing_people(_background(), stood, frames, fps, samples)
    if empty_samples >= MIN_EMPTY_SAMPLES:
        assert (background.image[25:75, 45:65] == 120).all(), "the scene behind them, not their ghost"
        assert not background.never_seen.any()
    else:
        assert (background.image[30:70, 50:60] == (20, 30, 200)).all() and background.never_seen[30:70, 50:60].all()


def test_a_clip_where_no_one_stands_keeps_its_background() -> None:
    background = _background()
    assert without_standing_people(background, [_shape(0, slice(30, 70), slice(50, 60))], 10, 10.0) is background
    walking = [_shape(t, slice(30, 70), slice(50, 60)) for t in range(STANDING_S * 10 - 1)]
    assert without_standing_people(background, walking, len(walking), 10.0) is background, "under STANDING_S"


def test_only_someone_of_whom_nothing_moves_or_is_anyone_elses_stands_unseen() -> None:
    """A sure sighting with no mask of its own is someone standing where the background holds them, unless
    their box moves (covered as unfollowed motion) or a neighbour's mask holds them (drawn with the neighbour)."""
    shape = (60, 80)
    empty = np.zeros(shape, bool)
    boxes = {1: Box(10, 10, 20, 40), 2: Box(40, 10, 50, 40)}
    neighbour = empty.copy()
    neighbour[10:40, 40:50] = True

    def segmented(unowned: np.ndarray, neighbours: np.ndarray) -> _Segmented:
        return _Segmented(boxes, {1: (empty, empty), 2: (neighbours, empty)}, {1: False, 2: False}, unowned, False,
                          False)

    assert _unseen_still(segmented(empty, neighbour), 1)
    assert not _unseen_still(segmented(empty, neighbour), 2), "found by the segmenter"
    moving = empty.copy()
    moving[10:25, 10:20] = True
    assert not _unseen_still(segmented(moving, neighbour), 1)
    merged = neighbour.copy()
    merged[10:40, 12:20] = True
    assert not _unseen_still(segmented(empty, merged), 1)


def test_standing_covers_reach_back_to_where_the_segmenter_last_found_the_person() -> None:
    """Sure sightings of someone the segmenter finds nothing of come on keyframes only: each stretch of them is
    carried back over the frames since the segmenter last found the person, never over a frame it did."""
    a, b = Box(10, 10, 20, 40), Box(12, 10, 22, 40)
    seen = [_shape(t, slice(30, 70), slice(50, 60)) for t in range(4)]
    track = PersonTrack(1, seen + [FrameShape(t, EMPTY, EMPTY, "none", "absent", 0, False) for t in range(4, 10)])
    followed = {1: [shape.index for shape in track.shapes]}
    covers = standing_covers({1: {6: a, 7: a, 9: b}}, followed, {1: track.trimmed()})
    assert covers == {4: [a], 5: [a], 6: [a], 7: [a], 8: [b], 9: [b]}
    bridged = PersonTrack(1, seen[:2] + [FrameShape(2, EMPTY, EMPTY, "none", "absent", 0, False)] + seen[3:])
    assert standing_covers({1: {2: a}}, {1: [0, 1, 2, 3]}, {1: bridged.trimmed()}) == {}, \
        "inside a stretch the track keeps, the shape stage bridges or covers them"
    assert standing_covers({2: {3: a}}, {2: [2, 3]}, {}) == {2: [a], 3: [a]}, "a track that kept no shape"


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


@pytest.fixture(scope="module")
def standing_clip(tmp_path_factory) -> tuple[Path, np.ndarray]:
    """A generated walker stops mid-room; the clip starts once they stand and ends before they walk on, so every
    sample shows them and no sample disagrees where they are. (The clip, their masks.)"""
    clip = render_crowd([WalkerPath(random_identity(5), pause=(40, 400))], (240, 180), seed=11)
    standing_from = int(0.6 * clip.fps) + 45
    stander = clip.masks[0, standing_from : standing_from + 100]
    assert all(np.array_equal(mask, stander[0]) for mask in stander), "they stand still throughout"
    return write_clip(tmp_path_factory.mktemp("standing") / "standing.mp4",
                      clip.frames[standing_from : standing_from + 100], clip.fps), stander


@pytest.fixture
def detector_sees_them(standing_clip, monkeypatch) -> None:
    """The detector (which does not see generated figures: it stands in for one that sees a real person) finds
    the standing walker on every frame it is asked about."""
    stander = standing_clip[1]
    box = Box.of_mask(stander[0])

    def sees_them(self, frame: np.ndarray, min_confidence: float = 0.5) -> list[Detection]:
        k = frame.shape[0] / stander.shape[1]
        return [Detection(Box(int(box.x0 * k), int(box.y0 * k), int(np.ceil(box.x1 * k)), int(np.ceil(box.y1 * k))),
                          0.9)]

    monkeypatch.setattr(PersonDetector, "people", sees_them)


def _anonymized(models: Path, source: Path, target: Path, stander: np.ndarray) -> ClipReport:
    """`source` anonymized into `target`; asserts that no frame shows the standing person as they were."""
    report = pipeline.anonymize_clip(source, target, pipeline.AnonymizeOptions(models_dir=models, seed=1))
    outputs = [f.image for f in read_frames(target)]
    originals = [f.image for f in read_frames(source)]
    assert len(outputs) == len(originals) == len(stander)
    for t, (original, output) in enumerate(zip(originals, outputs)):
        unchanged = (np.abs(output.astype(int) - original.astype(int)).max(axis=2) < 12)[stander[t]].mean()
        assert unchanged < 0.7, f"frame {t}: {unchanged:.2f} of the standing person as they were"
    return report


def test_a_person_standing_through_the_whole_clip_is_anonymized(models, standing_clip, detector_sees_them,
                                                                tmp_path) -> None:
    """Found by the detector in the samples, `_standing_in` takes them out of the median, so the segmenter sees
    them (before: "nobody found in the clip: copied unchanged") and the scene behind them, never shown, is
    covered flat."""
    report = _anonymized(models, standing_clip[0], tmp_path / "out.mp4", standing_clip[1])
    assert len(report.people) == 1 and next(iter(report.people.values()))["anonymized"] >= 90, report.people
    assert report.unseen_pixels > 0 and any(f.reason == UNSEEN for f in report.flagged)


def test_a_standing_person_the_segmenter_cannot_see_is_covered_whole(models, standing_clip, detector_sees_them,
                                                                     tmp_path, monkeypatch) -> None:
    """Missed in the samples (the detector found no one there, or the median holds a blend the learned mask does
    not match), the standing person is in the background model and the segmenter finds nothing of them: their
    track kept no shape and was dropped, and they came out as they were. Now the detector's sure sightings on
    the keyframes, on a box where nothing moves, are covered by a capsule on every frame, and flagged."""
    monkeypatch.setattr(silhouettes, "_standing_in", lambda model, detector, median, samples:
                        np.zeros(median.shape[:2], bool))
    report = _anonymized(models, standing_clip[0], tmp_path / "out.mp4", standing_clip[1])
    covered = {f.index for f in report.flagged if f.reason == UNSEPARATED}
    assert covered == set(range(len(standing_clip[1]))), sorted(covered)
    assert not any(f.action == COPIED for f in report.flagged) and report.frames_without_person == 0
