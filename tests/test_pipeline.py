"""anonymize_clip on the demo walker with its true silhouettes: the route, fail closed, report, review."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from pipeline_fixtures import TruthSegmenter, WalkerCase, make_walker_case, use_truth

from gaitanon_core.shape import codec as contours
from gaitanon_core.errors import Cancelled, InputError, UsageError
from gaitanon_core.pipeline import AnonymizeOptions, PreviewFrame, export_review, preview_frame, render_review
from gaitanon_core.pipeline import anonymize_clip as run_pipeline
from gaitanon_core.pipeline.policy import CameraWatch
from gaitanon_core.people.silhouettes import FrameMask
from gaitanon_core.shape.tracking import FrameShape, MaskCrop, anonymized_silhouette, texture_source, track_shapes
from gaitanon_core.report import BRIDGED, COVERED, StageClock
from gaitanon_core.video import frame_times, probe, read_frames

LOST = range(80, 85)  # frames where a test makes the segmenter lose the walker


@pytest.fixture(scope="module")
def case(tmp_path_factory) -> WalkerCase:
    return make_walker_case(tmp_path_factory.mktemp("walker"))


def _options(case: WalkerCase, **changes) -> AnonymizeOptions:
    return replace(AnonymizeOptions(device="cpu", seed=5, models_dir=case.models), **changes)


def _decoded(path: Path) -> np.ndarray:
    return np.stack([f.image for f in read_frames(path)]).astype(np.int16)


def _collect_silhouettes() -> tuple[dict[int, np.ndarray], callable]:
    kept: dict[int, np.ndarray] = {}

    def sink(frame: PreviewFrame) -> None:
        kept[frame.index] = frame.anonymized_silhouette

    return kept, sink


def test_route_keeps_frames_and_changes_every_whole_body(case: WalkerCase, tmp_path: Path, monkeypatch) -> None:
    use_truth(monkeypatch, case)
    target = tmp_path / "out.mp4"
    anonymized, sink = _collect_silhouettes()
    report = run_pipeline(case.video, target, _options(case), on_frame=sink)
    np.testing.assert_allclose(frame_times(target), frame_times(case.video), atol=1e-3)
    assert report.frames == len(case.clip.frames) and not report.flagged
    assert report.provider == "CPUExecutionProvider" and report.alpha == 0.3
    assert {"decode", "silhouette", "contour", "anonymize", "colour", "encode"} <= set(report.timings_s)
    whole = case.whole_frames()
    changed = [np.count_nonzero(anonymized[i] ^ case.clip.masks[i]) / np.count_nonzero(case.clip.masks[i])
               for i in whole]
    assert np.mean(np.array(changed) >= 0.15) >= 0.9


def test_no_original_silhouette_leaves(case: WalkerCase, tmp_path: Path, monkeypatch) -> None:
    """Where the original body was and the anonymized one is not, the output shows the empty room."""
    use_truth(monkeypatch, case)
    target = tmp_path / "out.mp4"
    anonymized, sink = _collect_silhouettes()
    run_pipeline(case.video, target, _options(case), on_frame=sink)
    out = _decoded(target)
    room = case.clip.background.astype(np.int16)
    for i in case.whole_frames():
        uncovered = case.clip.masks[i] & ~_grow(anonymized[i], 2)
        if uncovered.sum() > 20:
            assert np.abs(out[i][uncovered] - room[uncovered]).mean() < 6.0, f"frame {i}"


def _grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    from scipy import ndimage

    return ndimage.binary_dilation(mask, iterations=pixels)


def _lose(frames: range):
    def lose(mask):
        if mask.index in frames:
            return replace(mask, person=np.zeros_like(mask.person), shadow=np.zeros_like(mask.shadow),
                           segmenter="none", body="absent", people=0)
        return mask

    return lose


def test_lost_frames_are_bridged_by_an_anonymized_stand_in_and_flagged(case: WalkerCase, tmp_path: Path,
                                                                       monkeypatch) -> None:
    """Where the segmenter loses the walker between frames that show them, their region is covered and a
    stand-in body is drawn where their walk places them: anonymized (not the stand-in's own shape), painted,
    without the walker's outline in it or beside it; flagged as bridged and counted anonymized."""
    use_truth(monkeypatch, case, _lose(LOST))
    target = tmp_path / "out.mp4"
    anonymized, sink = _collect_silhouettes()
    report = run_pipeline(case.video, target, _options(case), on_frame=sink)
    assert [f.index for f in report.flagged] == list(LOST)
    assert all(f.action == BRIDGED for f in report.flagged)
    (walker,) = report.people.values()
    assert walker["covered"] == 0 and walker["anonymized"] == sum(mask.any() for mask in case.clip.masks)
    shapes = list(track_shapes([_lose(LOST)(TruthSegmenter(case).mask(i)) for i in range(len(case.clip.frames))],
                               contours.N_POINTS, case.clip.fps))
    out, room = _decoded(target), case.clip.background.astype(np.int16)
    traces = []
    for i in LOST:
        body, drawn, stand_in = case.clip.masks[i], anonymized[i], texture_source(shapes[i])
        assert (body & drawn).sum() > 0.5 * body.sum(), f"frame {i}: the stand-in is not where the walker is"
        assert (stand_in ^ drawn).sum() >= 0.15 * stand_in.sum(), f"frame {i}: the stand-in drawn unchanged"
        inside = cv2.erode(drawn.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=3) > 0
        assert (np.abs(out[i][inside] - room[inside]).max(axis=-1) > 30).mean() > 0.6, f"frame {i}: not painted"
        uncovered = body & ~_grow(drawn, 2)
        walker_like = np.abs(out[i][uncovered] - room[uncovered]).max(axis=-1) > 30
        assert walker_like.mean() < 0.01, f"frame {i} still shows the walker outside the stand-in"
        traces.append(_outline_trace(out[i], body, inside))
    # The walker's own edge, where it runs inside the new body, no sharper than the body's texture elsewhere
    # (1.3-1.5 times as sharp with the texture taken as it lay: their outline, traced inside the stand-in).
    assert np.mean(traces) < 1.2, traces


def _outline_trace(image: np.ndarray, body: np.ndarray, inside: np.ndarray) -> float:
    """How sharp `image` is on `body`'s outline where it runs `inside` a drawn body, against the whole inside."""
    grey = cv2.cvtColor(image.astype(np.uint8), cv2.COLOR_RGB2GRAY).astype(np.float32)
    sharp = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
    mask = body.astype(np.uint8)
    outline = (mask - cv2.erode(mask, np.ones((3, 3), np.uint8))).astype(bool) & inside
    return float(sharp[outline].mean() / sharp[inside].mean())


def test_a_walker_lost_to_the_end_is_covered_not_bridged(case: WalkerCase) -> None:
    """No frame after the loss shows where the walk goes: nothing to bridge to, so the region is covered."""
    lost = range(LOST.start, len(case.clip.frames))
    masks = [_lose(lost)(TruthSegmenter(case).mask(i)) for i in range(len(case.clip.frames))]
    shapes = list(track_shapes(masks, contours.N_POINTS, case.clip.fps))
    soon = shapes[lost.start : lost.start + 10]  # within the window that remembers the last frame seen
    assert all(s.cover is not None and s.contour is None for s in soon), "covered, nothing drawn"
    assert all(s.issues and s.issues[-1][1] == COVERED for s in soon)
    bridged = list(track_shapes([_lose(LOST)(TruthSegmenter(case).mask(i)) for i in range(len(case.clip.frames))],
                                contours.N_POINTS, case.clip.fps))
    assert all(s.cover is not None and s.contour is not None and s.issues[-1][1] == BRIDGED
               for s in bridged[LOST.start:LOST.stop])


def test_partly_visible_bodies_get_a_whole_stand_in(case: WalkerCase) -> None:
    masks = [TruthSegmenter(case).mask(i) for i in range(len(case.clip.frames))]
    shapes = list(track_shapes(masks, contours.N_POINTS, case.clip.fps))
    own = [s.own_contour for s in shapes if s.own_contour is not None]
    cut = [s for s in shapes if s.body == "cut"]
    assert cut and all(s.contour is not None for s in cut), "every partly visible body is anonymized"
    for shape in cut:
        assert any(np.array_equal(shape.contour, c) for c in own), "a cut body is never fed as if whole"


@pytest.mark.parametrize(("visible_rows", "covered"), [(0.08, True), (0.6, False)])
def test_a_body_hidden_but_for_a_piece_is_covered_not_drawn_from_it(case: WalkerCase, visible_rows: float,
                                                                     covered: bool) -> None:
    """An occluded body is drawn whole from what shows of it; where only a piece shows (the feet here, or a
    paper someone in front holds on vtest), its colours would fill a whole body: the piece is covered."""
    t = next(i for i in case.whole_frames() if 10 < i < len(case.clip.frames) - 10)
    rows = np.flatnonzero(case.clip.masks[t].any(axis=1))
    hidden_to = int(rows[-1] + 1 - visible_rows * (rows[-1] + 1 - rows[0]))  # the person in front hides the rest

    def hide(mask: FrameMask) -> FrameMask:
        if mask.index == t:
            mask.person[:hidden_to] = False
            mask.body = "occluded"
        return mask

    shape = next(s for s in track_shapes(map(hide, map(TruthSegmenter(case).mask, range(len(case.clip.frames)))),
                                         contours.N_POINTS, case.clip.fps) if s.index == t)
    assert (shape.cover is not None) is covered
    assert (shape.contour is None) is covered
    if covered:
        assert any("too little of the person shows" in reason for reason, _ in shape.issues)


def test_a_stand_in_is_drawn_at_the_body_s_width(case: WalkerCase) -> None:
    """A stand-in's outline is traced on the 64-row grid; drawn on a tall body it must not come out narrower."""
    t = next(i for i, m in enumerate(case.clip.masks) if m.any() and not (m[:, 0].any() or m[:, -1].any()))
    tall = cv2.resize(case.clip.masks[t].astype(np.uint8), None, fx=4, fy=4, interpolation=cv2.INTER_NEAREST) > 0
    contour, transform = contours.mask_to_contour(tall, contours.N_POINTS)
    assert transform.scale > 4 * contours.CASIAB_SIZE, "tall enough for a 64-row pixel to span several"
    shape = FrameShape(index=t, person=MaskCrop.of(tall), shadow=MaskCrop.of(np.zeros_like(tall)), segmenter="fused",
                       body="cut", people=1, camera_moved=False, transform=transform, contour=contour)
    drawn = anonymized_silhouette(shape, contour)
    assert 0.97 < drawn.sum() / tall.sum() < 1.06


def test_nobody_in_the_clip_is_copied_and_flagged(case: WalkerCase, tmp_path: Path, monkeypatch) -> None:
    def nobody(mask):
        return replace(mask, person=np.zeros_like(mask.person), shadow=np.zeros_like(mask.shadow),
                       segmenter="none", body="absent", people=0)

    use_truth(monkeypatch, case, nobody)
    report = run_pipeline(case.video, tmp_path / "out.mp4", _options(case, end=2.0))
    assert report.frames_without_person == report.frames
    assert report.flagged_frames == [(0, "nobody found in the clip: copied unchanged", "copied")]
    out, source = _decoded(tmp_path / "out.mp4"), _decoded(case.video)
    walker = case.clip.masks[: report.frames]
    room = case.clip.background.astype(np.int16)
    to_source = np.abs(out - source[: report.frames])[walker].mean()
    assert walker.sum() > 500 and to_source < 0.3 * np.abs(room - source[: report.frames])[walker].mean(), "copied"


def test_moving_camera_is_refused_and_leaves_nothing(case: WalkerCase, tmp_path: Path, monkeypatch) -> None:
    use_truth(monkeypatch, case, lambda mask: replace(mask, camera_moved=mask.index > 10))
    with pytest.raises(InputError, match="static camera"):
        run_pipeline(case.video, tmp_path / "out.mp4", _options(case))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("after_checks", [3, 300])  # while the look-ahead fills, and while frames are written
def test_cancel_leaves_nothing(case: WalkerCase, tmp_path: Path, monkeypatch, after_checks: int) -> None:
    use_truth(monkeypatch, case)
    checks = iter(range(10_000))
    seen = []
    with pytest.raises(Cancelled):
        run_pipeline(case.video, tmp_path / "out.mp4", _options(case), progress=seen.append,
                     cancel=lambda: next(checks) >= after_checks)
    assert list(tmp_path.iterdir()) == []
    assert seen and seen[-1].done <= after_checks, "cancel is seen at once, also before the first frame is finished"


def test_progress_counts_each_pass_to_the_end_with_an_eta(case: WalkerCase, tmp_path: Path, monkeypatch) -> None:
    """The people pass and the drawing each count the frames to the end (one count over the first pass said 100 %
    while the drawing, about half the time, had not started)."""
    use_truth(monkeypatch, case)
    seen = []
    run_pipeline(case.video, tmp_path / "out.mp4", _options(case, start=1.0, end=3.0), progress=seen.append)
    stages = list(dict.fromkeys(p.stage for p in seen))
    assert stages == ["finding people", "drawing"]
    for stage in stages:
        mine = [p for p in seen if p.stage == stage]
        assert mine[-1].done == mine[-1].total == 50
        assert mine[0].eta_s is None and mine[-1].eta_s == 0.0
        assert all(p.eta_s >= 0 for p in mine[1:])


@pytest.mark.parametrize("change, message", [
    ({"strength": 0.25}, "0.2, 0.3, 0.4"),
    ({"start": 3.0, "end": 2.0}, "must come after"),
    ({"end": 999.0}, "outside the clip"),
])
def test_usage_errors_come_before_any_output(case: WalkerCase, tmp_path: Path, change, message) -> None:
    with pytest.raises(UsageError, match=message):
        run_pipeline(case.video, tmp_path / "out.mp4", _options(case, **change))
    assert list(tmp_path.iterdir()) == []


def test_existing_output_is_not_overwritten(case: WalkerCase, tmp_path: Path) -> None:
    target = tmp_path / "out.mp4"
    target.write_bytes(b"keep me")
    with pytest.raises(UsageError, match="already exists"):
        run_pipeline(case.video, target, _options(case))
    assert target.read_bytes() == b"keep me"


def test_review_then_export_writes_what_was_reviewed(case: WalkerCase, tmp_path: Path, monkeypatch) -> None:
    use_truth(monkeypatch, case)
    review = render_review(case.video, _options(case, seed=None, start=1.0, end=3.0))
    try:
        shown = preview_frame(review, 60)
        assert np.array_equal(shown.xor, shown.original_silhouette ^ shown.anonymized_silhouette)
        assert np.array_equal(shown.original_silhouette, case.clip.masks[60])
        assert shown.xor.sum() > 0.15 * shown.original_silhouette.sum()
        target = export_review(review, tmp_path / "final.mp4", replace(review.options.export, crf=0))
        exported, reviewed = _decoded(target), _decoded(review.video)
        assert len(exported) == len(reviewed) == 50
        assert np.percentile(np.abs(exported - reviewed), 99.9) <= 4, "no second random draw: the same frames"
        np.testing.assert_allclose(frame_times(target), frame_times(review.video), atol=1e-3)
        assert probe(target).has_audio is False
    finally:
        review.discard()
    assert not review.folder.exists()


def test_stage_clock_charges_nested_time_to_the_inner_stage() -> None:
    clock = StageClock()

    def slow_source():
        for _ in range(3):
            time.sleep(0.02)
            yield 1

    for _ in clock.iterate("outer", (clock.call("inner", lambda v: v, v) for v in clock.iterate("source", slow_source()))):
        time.sleep(0.01)
    assert clock.seconds["source"] >= 0.06
    assert clock.seconds["outer"] < 0.02, "the source's sleep is not charged to the stage that pulls it"


def _frame_shape(width: int = 320, height: int = 240) -> FrameShape:
    empty = MaskCrop.of(np.zeros((height, width), bool))
    return FrameShape(index=0, person=empty, shadow=empty, segmenter="none", body="absent", people=0,
                      camera_moved=False)


def test_camera_watch_sees_a_slow_pan_and_not_sensor_noise() -> None:
    rng = np.random.default_rng(0)
    scene = cv2.GaussianBlur(rng.integers(0, 255, (240, 480, 3), dtype=np.uint8), (0, 0), 3)
    still, pan = CameraWatch(), CameraWatch()
    moved_still, moved_pan = [], []
    for k in range(30):
        noisy = np.clip(scene[:, :320] + rng.normal(0, 2, (240, 320, 3)), 0, 255).astype(np.uint8)
        moved_still.append(still.moved(noisy, _frame_shape().person))
        moved_pan.append(pan.moved(np.ascontiguousarray(scene[:, k : k + 320]), _frame_shape().person))  # 1 px a frame
    assert not any(moved_still)
    assert not any(moved_pan[: CameraWatch.LAG]) and all(moved_pan[CameraWatch.LAG :])


def test_a_stand_in_that_falls_outside_the_picture_counts_covered(case: WalkerCase) -> None:
    """A bridged frame is anonymized only where its stand-in is drawn; where the network's outline falls outside
    the picture, its cover is all there is, and the report says covered."""
    from gaitanon_core.pipeline.policy import record_person
    from gaitanon_core.pipeline.route import Person, drawn
    from gaitanon_core.report import ClipReport
    from gaitanon_core.video import Frame

    shapes = list(track_shapes([_lose(LOST)(TruthSegmenter(case).mask(i)) for i in range(len(case.clip.frames))],
                               contours.N_POINTS, case.clip.fps))
    bridged = shapes[LOST.start]
    seen = Person(1, bridged, points=bridged.contour, kept=False, silhouette=anonymized_silhouette(bridged,
                                                                                                  bridged.contour))
    unseen = Person(1, bridged, points=bridged.contour, kept=False, silhouette=np.zeros_like(seen.silhouette))
    assert seen.silhouette.any() and drawn(seen) and not drawn(unseen)
    report = ClipReport(source="in", target="out")
    frame = Frame(LOST.start, 0.0, case.clip.frames[LOST.start])
    record_person(report, frame, 1, bridged, drawn(seen), kept=False)
    record_person(report, frame, 1, bridged, drawn(unseen), kept=False)
    assert report.people[1]["anonymized"] == 1 and report.people[1]["covered"] == 1
