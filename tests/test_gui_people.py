"""The People panel over the real engine, on generated clips of two walkers: both listed with their number,
colour and thumbnail; everyone anonymized by default; a person kept by explicit choice exported exactly as
they were while the other is anonymized; a kept person anonymized where they cross someone; a cancelled search
that leaves the window usable; a batch that anonymizes everyone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QMessageBox, QPushButton

from gaitanon_core.video import read_frames
from gui_helpers import answer_export_dialog, click, open_and_wait, shown_index, wait_for_people, wait_until
from gui_helpers import model_bank, window  # noqa: F401 (shared fixtures)
from tests.hardening import leakcheck
from training.demo_walker import WalkerPath, random_identity, render_crowd, write_clip

pytestmark = pytest.mark.slow  # each test lists the people of a clip (about 15 s on one core)

SIZE = (160, 120)
EMPTY_S = 0.4  # empty room before and after the walkers: enough for the background model, short to process
FOLLOWING = [WalkerPath(random_identity(3)), WalkerPath(random_identity(4), delay=35, nearer=0.05)]  # never meet
CROSSING = [WalkerPath(random_identity(3)), WalkerPath(random_identity(4), direction=-1, nearer=0.05)]
KEPT_CROSSING = "kept, but crossing another person"  # the engine's flag where it anonymizes a kept person


@pytest.fixture(scope="module")
def crowd_clips(tmp_path_factory) -> dict[str, Path]:
    """Two walkers who never meet, and two who cross; lossless 4:2:0, so a kept person can be compared exactly."""
    folder = tmp_path_factory.mktemp("crowd")
    for name, paths in (("following", FOLLOWING), ("crossing", CROSSING)):
        clip = render_crowd(paths, SIZE, seed=11, empty_seconds=EMPTY_S)
        write_clip(folder / f"{name}.mp4", clip.frames, clip.fps, crf=0)
    return {name: folder / f"{name}.mp4" for name in ("following", "crossing")}


def answer_keep(monkeypatch, answer: QMessageBox.StandardButton) -> list[str]:
    """Answer the Keep confirmation with `answer`; the questions asked are collected."""
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", lambda *args: asked.append(args[2]) or answer)
    return asked


def choose(window, number: int, choice: int) -> None:
    from app.views.people_view import PersonRowView

    window.findChild(PersonRowView, f"person{number}").choice.setCurrentIndex(choice)


def numbers(window) -> list[int]:
    return [row.number for row in window.people_view.rows]


def person_mask(window, number: int, index: int) -> np.ndarray | None:
    """Person `number`'s mask on frame `index` (full frame), as the panel's search found it."""
    height, width = window.clip.info.height, window.clip.info.width
    for outline in window.people.outlines(index):
        if outline.number == number:
            mask = np.zeros((height, width), bool)
            mask[outline.top:outline.top + outline.mask.shape[0],
                 outline.left:outline.left + outline.mask.shape[1]] = outline.mask
            return mask
    return None


def changed(window, originals: list, outputs: list, number: int) -> dict[int, float]:
    """Per frame person `number` is in (big enough to judge): the share of their body the output changed."""
    shares = {}
    for index, (original, output) in enumerate(zip(originals, outputs, strict=True)):
        mask = person_mask(window, number, index)
        if mask is not None and mask.sum() >= leakcheck.MIN_BODY_PIXELS:
            shares[index] = leakcheck.body_changed_fraction(original, output, mask)
    return shares


def overlay_colours(image: QImage) -> set[tuple[int, int, int]]:
    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)
    pixels = np.frombuffer(rgba.constBits(), np.uint8).reshape(rgba.height(), rgba.width(), 4)
    return {tuple(int(c) for c in p[:3]) for p in pixels[pixels[..., 3] == 255]}


def test_both_walkers_are_listed_and_everyone_is_anonymized_by_default(window, crowd_clips):
    from app.views.images import track_colour
    from app.views.people_view import ANONYMIZE

    open_and_wait(window, crowd_clips["following"])
    assert window.people_view.isVisible() and "everyone is anonymized" in window.people_view.status.text()
    wait_for_people(window)
    assert len(numbers(window)) == 2, window.people_view.status.text()
    assert window.people_view.status.text().startswith("2 people found")
    for row in window.people_view.rows:
        assert not row.thumbnail.pixmap().isNull(), f"person {row.number} has a thumbnail"
        assert track_colour(row.number).name() in row.swatch.styleSheet()
        assert row.seen.text().startswith("Frames ") and row.choice.currentIndex() == ANONYMIZE
    assert window.people.keep_tracks() == frozenset()
    assert track_colour(1) != track_colour(2) and track_colour(2) == track_colour(2)

    both = next(i for i in range(window.clip.info.frame_count) if len(window.people.outlines(i)) == 2)
    window.go_to(both)
    assert shown_index(window) == both
    outlines = window.frames.original.overlay_items["people"].pixmap().toImage()
    colours = overlay_colours(outlines)
    for number in numbers(window):  # each person is outlined in their swatch's colour
        assert track_colour(number).getRgb()[:3] in colours
    assert window.frames.anonymized.overlay_items["people"].pixmap().isNull()

    assert window.hide_faces.isVisible() and window.hide_faces.isEnabled() and window.hide_faces.isChecked()
    click(window, "anonymizeButton")
    assert window.review.options.keep_tracks == frozenset() and window.review.options.faces == "blur"
    assert not any(row.choice.isEnabled() for row in window.people_view.rows)  # fixed while it renders
    click(window, "cancelButton")
    wait_until(lambda: window.job is None)
    assert all(row.choice.isEnabled() for row in window.people_view.rows)


def test_a_person_kept_by_choice_is_exported_as_they_were_and_the_other_is_anonymized(
        window, crowd_clips, tmp_path, monkeypatch):
    from app.views.people_view import ANONYMIZE, KEEP

    source = crowd_clips["following"]
    open_and_wait(window, source)
    wait_for_people(window)
    kept, other = numbers(window)
    asked = answer_keep(monkeypatch, QMessageBox.StandardButton.No)
    choose(window, kept, KEEP)
    assert len(asked) == 1 and "recognisable" in asked[0]
    assert window.people.keep_tracks() == frozenset(), "No (the default) keeps everyone anonymized"
    answer_keep(monkeypatch, QMessageBox.StandardButton.Yes)
    choose(window, kept, KEEP)
    assert window.people.keep_tracks() == {kept}

    click(window, "anonymizeButton")
    wait_until(lambda: window.job is None, timeout_s=240)
    assert window.review.complete and window.review.options.keep_tracks == {kept}
    summary = window.report_control.show(window.review).summary.text()
    assert f"Person {kept} (kept unchanged, as you chose)" in summary and f"Person {other}:" in summary

    choose(window, kept, ANONYMIZE)  # the review copy no longer matches the choices: no export from it
    assert not window.export_button.isEnabled() and "press Anonymize" in window.clip_label.text()
    choose(window, kept, KEEP)
    assert window.export_button.isEnabled() and "press Anonymize" not in window.clip_label.text()

    monkeypatch.setattr(QMessageBox, "warning", lambda *args: QMessageBox.StandardButton.Yes)  # flagged: go on
    target, notes = tmp_path / "kept.mp4", []
    answer_export_dialog(target, crf=0, seen=notes)  # lossless, as the source: the kept person is unchanged
    window.report_control.dialog.findChild(QPushButton, "reportExportButton").click()
    wait_until(lambda: window.job is None and target.exists(), timeout_s=120)
    assert notes and f"person {kept}" in notes[0]

    originals = [f.image for f in read_frames(source)]
    outputs = [f.image for f in read_frames(target)]
    alone = {i: share for i, share in changed(window, originals, outputs, kept).items()
             if len(window.people.outlines(i)) == 1}
    assert len(alone) >= 10 and np.median(list(alone.values())) < leakcheck.MIN_CHANGED, alone
    anonymized = list(changed(window, originals, outputs, other).values())
    assert len(anonymized) >= 10 and np.mean(np.array(anonymized) >= leakcheck.MIN_CHANGED) >= 0.9, anonymized


def test_a_kept_person_is_anonymized_where_they_cross_another(window, crowd_clips, monkeypatch):
    from app.views.people_view import KEEP

    open_and_wait(window, crowd_clips["crossing"])
    wait_for_people(window)
    everyone = numbers(window)
    assert len(everyone) >= 2
    through = max(everyone, key=lambda n: sum(person_mask(window, n, i) is not None
                                              for i in range(window.clip.info.frame_count)))
    answer_keep(monkeypatch, QMessageBox.StandardButton.Yes)
    choose(window, through, KEEP)
    click(window, "anonymizeButton")
    wait_until(lambda: window.job is None, timeout_s=240)

    crossings = sorted({f.index for f in window.review.report.flagged
                        if f.reason.startswith(f"person {through}: {KEPT_CROSSING}")})
    assert crossings, "the kept person crosses the other walker and is flagged there"
    originals = [f.image for f in read_frames(crowd_clips["crossing"])]
    reviewed = [f.image for f in read_frames(window.review.engine.video)]  # lossless review copy
    shares = changed(window, originals, reviewed, through)
    at_crossings = [shares[i] for i in crossings if i in shares]
    assert at_crossings and min(at_crossings) >= leakcheck.MIN_CHANGED, "anonymized where they cross"
    elsewhere = [share for i, share in shares.items() if len(window.people.outlines(i)) == 1]
    assert np.median(elsewhere) < leakcheck.MIN_CHANGED, "kept as they were away from the crossing"


def test_cancelling_the_search_leaves_the_window_usable(window, crowd_clips):
    from app.controllers.people import CANCELLED

    open_and_wait(window, crowd_clips["following"])
    wait_until(lambda: window.people_view.progress.value() > 0)  # the search is going through the frames
    window.findChild(QPushButton, "peopleCancel").click()
    wait_until(lambda: window.people.worker is None)
    assert window.people_view.status.text() == CANCELLED and numbers(window) == []
    assert window.people.keep_tracks() == frozenset()
    window.go_to(20)
    assert shown_index(window) == 20
    assert window.anonymize_button.isEnabled() and window.hide_faces.isEnabled()

    click(window, "peopleFind")  # and it can be searched again
    assert window.people.worker is not None and not window.people_view.find_button.isEnabled()
    window.findChild(QPushButton, "peopleCancel").click()
    wait_until(lambda: window.people.worker is None)


def test_the_batch_anonymizes_everyone_and_says_so(window, qtbot):
    from app.controllers.batch import BatchController
    from app.settings import Settings

    batch = BatchController(window, Settings(), 0.3, window.models_dir)
    qtbot.addWidget(batch)
    assert "Everyone in every clip is anonymized" in batch.settings_label.text()
