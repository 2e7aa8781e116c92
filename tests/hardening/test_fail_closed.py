"""Fail closed: no output frame shows the walker's original silhouette or shadow.

The real route runs (person detector, tracker, per-person segmentation), but the
segmentation of each tracked person is forced to find nobody on chosen frames
(an isolated frame, a short run, a run longer than any bridge, the very first
and last frames of the clip); a panning camera breaks the static-background rule.
Each output frame is compared with the demo walker's ground truth
(`leakcheck`), and every frame that could not be anonymized normally must be
in the report.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gaitanon_core.people import silhouettes, tracks
from gaitanon_core.pipeline import route as pipeline
from gaitanon_core.errors import GaitanonError
from gaitanon_core.video import ExportOptions, VideoWriter, probe, read_frames
from tests.hardening import corpus as C
from tests.hardening import leakcheck
from tests.hardening.support import folder_listing

WINDOW = 60  # whole-body frames of the walk
# Lost on purpose: the first two frames, one isolated frame, a short run, a run longer than
# the segmenter's own bridging (5 frames), and the last frame.
FORCED_LOSSES = frozenset({0, 1, 9, 20, 21, 22, *range(32, 44), WINDOW - 1})
PAN_PX_PER_FRAME = 2


def _patch_segmenter(monkeypatch, change) -> None:
    """Pass what the real segmenter finds on each tracked person's box through `change(position, found)`
    (`found`: (person, shadow) masks, or None for nobody there).

    The seam is `ClipSegmenter.person_on`, which the route's follower (`people.tracks`) calls for every
    track on every frame; `position` is the frame the follower is working on.
    """
    real_frame, real_person_on = tracks._Follower.frame, silhouettes.ClipSegmenter.person_on
    current = {"position": -1}

    def frame(self, position, index, image):
        current["position"] = position
        return real_frame(self, position, index, image)

    def person_on(self, frame, difference, box, detail=None):
        return change(current["position"], real_person_on(self, frame, difference, box, detail))

    monkeypatch.setattr(tracks._Follower, "frame", frame)
    monkeypatch.setattr(silhouettes.ClipSegmenter, "person_on", person_on)


def _anonymize(source: Path, target: Path, models: Path) -> pipeline.ClipReport:
    return pipeline.anonymize_clip(source, target, pipeline.AnonymizeOptions(models_dir=models, seed=5))


def _leaks(source: Path, target: Path, scene: C.WalkerScene, backgrounds) -> dict[int, str]:
    originals = [f.image for f in read_frames(source)]
    outputs = [f.image for f in read_frames(target)]
    persons = [scene.person(k) for k in range(scene.count)]
    shadows = [scene.shadow(k) for k in range(scene.count)]
    return leakcheck.leaking_frames(originals, outputs, backgrounds, persons, shadows)


def _walker_source(corpus, folder: Path) -> tuple[C.WalkerScene, Path]:
    scene = corpus.walker_scene(WINDOW)
    return scene, C.build_good(C.GOOD_CASES[0], scene, folder)


def test_leak_check_sees_a_passed_through_clip(corpus, tmp_path):
    """The instrument itself: an unchanged clip leaks in every whole-body frame, a covered one in none."""
    scene, source = _walker_source(corpus, tmp_path / "src")
    info = probe(source)
    passed, covered = tmp_path / "passed.mp4", tmp_path / "covered.mp4"
    with VideoWriter(passed, info, ExportOptions()) as same, VideoWriter(covered, info, ExportOptions()) as blank:
        for frame in read_frames(source, info):
            same.write(frame.image, frame.time)
            blank.write(scene.clip.background, frame.time)
    background = scene.clip.background
    assert len(_leaks(source, passed, scene, background)) == WINDOW
    assert _leaks(source, covered, scene, background) == {}


def test_forced_segmentation_failures_never_show_the_original(corpus, fixture_models, tmp_path, monkeypatch):
    scene, source = _walker_source(corpus, tmp_path / "src")
    segmented: set[int] = set()

    def lose_some(position, found):
        segmented.add(position)
        return None if position in FORCED_LOSSES else found

    _patch_segmenter(monkeypatch, lose_some)
    target = tmp_path / "out" / "anonymized.mp4"
    target.parent.mkdir()
    report = _anonymize(source, target, fixture_models)
    assert FORCED_LOSSES <= segmented, "the route no longer segments the walker where the losses are forced"
    assert folder_listing(target.parent) == ["anonymized.mp4"]
    assert _leaks(source, target, scene, scene.clip.background) == {}
    flagged = {index for index, _reason, _action in report.flagged_frames}
    assert FORCED_LOSSES <= flagged, sorted(FORCED_LOSSES - flagged)


def test_segmenter_crash_leaves_nothing(corpus, fixture_models, tmp_path, monkeypatch):
    _, source = _walker_source(corpus, tmp_path / "src")

    def crash_at_30(position, found):
        if position == 30:
            raise GaitanonError("the person segmenter failed")
        return found

    _patch_segmenter(monkeypatch, crash_at_30)
    (tmp_path / "out").mkdir()
    with pytest.raises(GaitanonError):
        _anonymize(source, tmp_path / "out" / "anonymized.mp4", fixture_models)
    assert folder_listing(tmp_path / "out") == []


def _panned_scene(count: int) -> tuple[C.WalkerScene, list[np.ndarray]]:
    """The walk filmed by a camera panning right: a 320x240 window sliding over a wider render."""
    travel = PAN_PX_PER_FRAME * count
    clip, first, last = C.walker_clip((320 + travel, 240))
    window = C.walker_window(clip, first, last, count)

    def crop(images: np.ndarray) -> np.ndarray:
        return np.stack([images[window.first + k][:, k * PAN_PX_PER_FRAME: k * PAN_PX_PER_FRAME + 320]
                         for k in range(count)])

    panned = type(clip)(frames=crop(clip.frames), masks=crop(clip.masks), shadows=crop(clip.shadows),
                        background=clip.background[:, :320], fps=clip.fps)
    backgrounds = [clip.background[:, k * PAN_PX_PER_FRAME: k * PAN_PX_PER_FRAME + 320] for k in range(count)]
    return C.WalkerScene(panned, 0, count), backgrounds


def test_moving_camera_is_refused_or_never_shows_the_original(fixture_models, tmp_path):
    scene, backgrounds = _panned_scene(WINDOW)
    source = C.build_good(C.GOOD_CASES[0], scene, tmp_path / "src")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "anonymized.mp4"
    try:
        report = _anonymize(source, target, fixture_models)
    except GaitanonError as refusal:
        assert "camera" in str(refusal)
        assert folder_listing(out_dir) == []
        return
    assert _leaks(source, target, scene, backgrounds) == {}
    flagged = {index for index, _reason, _action in report.flagged_frames}
    assert set(range(WINDOW)) <= flagged
