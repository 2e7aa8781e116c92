"""Covers in the GUI over the real engine, on the People tests' two walkers: a person covered whole by choice is
exported grey where they are while the other is anonymized; a box drawn with the mouse over a frame range is
listed, shown over the original on those frames, exported grey there and only there, and removed with its row;
a changed choice after the review stops the export until it is made again; the face option reaches the engine."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox, QPushButton

from gaitanon_core.render.covers import COVER_COLOUR
from gaitanon_core.video import read_frames
from gui_helpers import answer_export_dialog, click, open_and_wait, shown_index, wait_for_people, wait_until
from gui_helpers import model_bank, window  # noqa: F401 (shared fixtures)
from test_gui_people import changed, choose, crowd_clips, numbers, person_mask  # noqa: F401 (crowd_clips: fixture)
from tests.hardening import leakcheck

pytestmark = pytest.mark.slow  # each test lists the people of a clip (about 15 s on one core)

GREY_TOLERANCE = 8  # the export's grey after lossy colour conversion: within this of COVER_COLOUR per channel
BOX = (6, 4, 30, 20)  # x, y, width, height (source pixels): the wall above the walkers


def grey_share(image: np.ndarray, where: np.ndarray | tuple[slice, slice]) -> float:
    """The share of the pixels at `where` that are the cover's grey."""
    near = np.abs(image[where].astype(int) - np.array(COVER_COLOUR)).max(axis=-1) <= GREY_TOLERANCE
    return float(near.mean())


def drag(pane, start: QPointF, end: QPointF) -> None:
    """A left-button drag on the pane's picture, from and to scene points (the frame's pixels)."""
    viewport = pane.viewport()
    first, last = pane.mapFromScene(start), pane.mapFromScene(end)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, first)
    QTest.mouseMove(viewport, (first + last) / 2)
    QTest.mouseMove(viewport, last)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, last)


def draw_box(window, x: int, y: int, width: int, height: int) -> None:
    """Press Draw and drag the box over the original pane."""
    click(window, "drawCoverBox")
    assert window.frames.original.drawing
    drag(window.frames.original, QPointF(x, y), QPointF(x + width, y + height))


def row_pixels(window, row) -> tuple[int, int, int, int]:
    return window.covers._pixels[row]


def test_a_box_drawn_with_the_mouse_is_listed_shown_on_its_frames_and_removed(window, crowd_clips):
    from app.views.cover_boxes_view import CoverBoxRowView

    open_and_wait(window, crowd_clips["following"])
    window.people.stop()  # the people are not needed here
    pane = window.frames.original
    info = window.clip.info
    assert pane.sceneRect().toRect().getRect() == (0, 0, info.width, info.height), "the frame at 1:1 scene units"
    window.go_to(10)
    assert shown_index(window) == 10

    click(window, "drawCoverBox")  # Escape cancels drawing: no box
    QTest.keyClick(pane, Qt.Key.Key_Escape)
    assert not pane.drawing and not window.cover_boxes_view.draw_button.isChecked()
    assert window.cover_boxes_view.rows == []

    draw_box(window, *BOX)
    assert not pane.drawing and not window.cover_boxes_view.draw_button.isChecked()
    rows = window.findChildren(CoverBoxRowView)
    assert len(rows) == 1 == len(window.cover_boxes_view.rows)
    row = rows[0]
    x, y, width, height = row_pixels(window, row)
    assert max(abs(a - b) for a, b in zip((x, y, width, height), BOX, strict=True)) <= 1, "scene units are pixels"
    assert f"{width}×{height} px at ({x}, {y})" in row.place.text()
    last = window.clip.info.frame_count
    assert (row.first.value(), row.last.value()) == (11, last), "from the frame shown to the clip's end"
    assert row.times.text() == f"{window.clip.times[10]:.2f} s to {window.clip.times[last - 1]:.2f} s"
    (box,) = window.covers.cover_boxes()
    assert (box.x, box.y, box.width, box.height) == (x, y, width, height) and box.end is None
    assert window.clip.times[9] < box.start < window.clip.times[10]
    assert [item.rect().toRect().getRect() for item in pane.box_items] == [(x, y, width, height)]

    row.last.setValue(20)  # frames 11-20 (from 1)
    window.go_to(25)
    assert shown_index(window) == 25 and pane.box_items == []
    row.first.setValue(30)  # past the last frame: the last follows
    assert (row.first.value(), row.last.value()) == (30, 30)
    window.go_to(29)
    assert shown_index(window) == 29 and len(pane.box_items) == 1

    row.findChild(QPushButton, "coverBoxRemove").click()
    assert window.cover_boxes_view.rows == [] and window.covers.cover_boxes() == () and pane.box_items == []

    assert [window.face_mode.itemText(i) for i in range(window.face_mode.count())] == ["blur", "pixelate", "fill"]
    window.face_mode.setCurrentText("pixelate")  # the face option reaches the engine's options
    draw_box(window, *BOX)
    click(window, "anonymizeButton")
    assert window.review.options.faces == "pixelate" and len(window.review.options.cover_boxes) == 1
    assert not window.cover_boxes_view.draw_button.isEnabled()  # fixed while it renders
    assert not window.cover_boxes_view.rows[0].remove.isEnabled()
    click(window, "cancelButton")
    wait_until(lambda: window.job is None)
    assert window.cover_boxes_view.draw_button.isEnabled() and window.cover_boxes_view.rows[0].remove.isEnabled()
    window.hide_faces.setChecked(False)
    assert not window.face_mode.isEnabled() and window._faces() == "keep"


def test_a_person_covered_whole_and_a_box_are_exported_grey(window, crowd_clips, tmp_path, monkeypatch):
    from app.views.people_view import ANONYMIZE, COVER

    source = crowd_clips["following"]
    open_and_wait(window, source)
    wait_for_people(window)
    covered, other = numbers(window)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *args: asked.append(args) or QMessageBox.StandardButton.No)
    choose(window, covered, COVER)
    assert asked == [], "covering someone is safer than anonymizing: no question"
    assert window.people.cover_tracks() == {covered} and window.people.keep_tracks() == frozenset()
    first, last = 5, 30  # frames (from 0) the box covers
    window.go_to(first)
    assert shown_index(window) == first
    draw_box(window, *BOX)
    (row,) = window.cover_boxes_view.rows
    row.last.setValue(last + 1)
    pixels = row_pixels(window, row)

    click(window, "anonymizeButton")
    wait_until(lambda: window.job is None, timeout_s=300)
    options = window.review.options
    assert window.review.complete and options.cover_tracks == {covered} and len(options.cover_boxes) == 1
    summary = window.report_control.show(window.review).summary.text()
    assert f"Person {covered} (covered whole, as you chose)" in summary and f"Person {other}:" in summary
    assert f"painted grey on {last - first + 1} frames" in summary

    choose(window, covered, ANONYMIZE)  # another choice than the review's: no export until it is made again
    assert not window.export_button.isEnabled() and "press Anonymize" in window.clip_label.text()
    choose(window, covered, COVER)
    assert window.export_button.isEnabled() and "press Anonymize" not in window.clip_label.text()
    row.first.setValue(first + 2)
    assert not window.export_button.isEnabled()
    row.first.setValue(first + 1)
    assert window.export_button.isEnabled()
    row.findChild(QPushButton, "coverBoxRemove").click()
    assert not window.export_button.isEnabled()
    window.covers.add_box(pixels, first, last)  # the same box again: the review has the choices again
    assert window.export_button.isEnabled()
    window.face_mode.setCurrentText("pixelate")  # another way of hiding faces than the review's
    assert not window.export_button.isEnabled() and "press Anonymize" in window.clip_label.text()
    window.face_mode.setCurrentText("blur")
    assert window.export_button.isEnabled()

    monkeypatch.setattr(QMessageBox, "warning", lambda *args: QMessageBox.StandardButton.Yes)  # flagged: go on
    target, notes = tmp_path / "covered.mp4", []
    answer_export_dialog(target, crf=0, seen=notes)
    window.report_control.dialog.findChild(QPushButton, "reportExportButton").click()
    wait_until(lambda: window.job is None and target.exists(), timeout_s=120)
    assert notes and f"grey shape, as you chose: person {covered}" in notes[0]
    assert f"frames {first + 1}–{last + 1}" in notes[0]

    originals = [f.image for f in read_frames(source)]
    outputs = [f.image for f in read_frames(target)]
    greys = {}
    for index, output in enumerate(outputs):
        mask = person_mask(window, covered, index)
        if mask is not None and mask.sum() >= leakcheck.MIN_BODY_PIXELS:
            greys[index] = grey_share(output, mask)
    assert len(greys) >= 10 and min(greys.values()) >= 0.95, greys
    anonymized = list(changed(window, originals, outputs, other).values())
    assert len(anonymized) >= 10 and np.mean(np.array(anonymized) >= leakcheck.MIN_CHANGED) >= 0.9, anonymized

    x, y, width, height = pixels
    box = (slice(y, y + height), slice(x, x + width))
    assert all(grey_share(outputs[i], box) == 1.0 for i in range(first, last + 1))
    outside = [i for i in range(len(outputs)) if not first <= i <= last]
    assert all(grey_share(originals[i], box) < 0.5 for i in outside), "the wall there is not grey to start with"
    assert all(grey_share(outputs[i], box) < 0.5 for i in outside), "no grey outside the box's frames"
