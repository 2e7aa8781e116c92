"""The window over the real pipeline: anonymize, overlays, report, export, cancel, batch, no network."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QMessageBox, QPushButton, QTableWidget

from gaitanon_core.video import probe, read_frames
from gui_helpers import anonymize, answer_export_dialog, click, open_and_wait, shown_index, wait_until
from gui_helpers import model_bank, private_tmp, walker_clips, window  # noqa: F401 (shared fixtures)

pytestmark = pytest.mark.slow  # each test anonymizes a short clip (a few seconds)


@pytest.fixture
def forbid_network(monkeypatch) -> list[tuple]:
    """Every attempt to open a connection is recorded and refused (threads included)."""
    attempts: list[tuple] = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access is forbidden in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


def test_anonymize_review_overlays_and_export_offline(window, qtbot, walker_clips, tmp_path, forbid_network):
    open_and_wait(window, walker_clips["plain"])
    window.go_to(30)
    seen_progress = []
    click(window, "anonymizeButton")
    window.job.signals.progress.connect(seen_progress.append)
    # the window stays responsive: scrubbing is served while the clip renders
    window.go_to(12)
    assert shown_index(window) == 12
    wait_until(lambda: window.job is None, timeout_s=180)
    assert seen_progress and seen_progress[-1].done == seen_progress[-1].total == 60
    window.go_to(30)
    wait_until(lambda: window._last_shown.index == 30 and window._last_shown.anonymized is not None)

    original_pane, anonymized_pane = window.frames.panes()
    for name, layer in (("overlayOriginalOutline", "original_outline"),
                        ("overlayAnonymizedOutline", "anonymized_outline"), ("overlayXor", "xor")):
        box = window.findChild(QCheckBox, name)
        qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
        wait_until(lambda: window._last_shown.xor is not None)
        item = anonymized_pane.overlay_items[layer]
        wait_until(lambda item=item: not item.pixmap().isNull())
        assert not original_pane.overlay_items[layer].pixmap().isNull()
        qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
        assert anonymized_pane.overlay_items[layer].pixmap().isNull()
    assert window._last_shown.xor.any()  # the anonymized silhouette differs from the original

    click(window, "exportButton")  # the report comes first
    report = window.report_control.dialog
    wait_until(lambda: report.isVisible())
    assert "60 frames" in report.summary.text() and "No frame was flagged" in report.summary.text()
    assert "does not change" in report.not_changed.text()
    target = tmp_path / "out" / "walker anonymized.mp4"
    target.parent.mkdir()
    answer_export_dialog(target)
    report.findChild(QPushButton, "reportExportButton").click()
    wait_until(lambda: window.job is None and target.exists(), timeout_s=120)
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # no temporary file left

    exported = probe(target)
    assert exported.frame_count == 60 and not exported.has_audio and not exported.metadata
    # Export writes exactly the reviewed frames (one random draw), re-encoded once
    review_frame = window.review.frame(30, with_silhouettes=True)
    exported_frame = next(read_frames(target, exported, start=float(window.clip.times[30])))
    assert np.abs(exported_frame.image.astype(int) - review_frame.anonymized).mean() < 4
    assert forbid_network == []


def test_cancel_after_the_first_progress_signal_leaves_nothing(window, walker_clips, tmp_path, private_tmp):
    open_and_wait(window, walker_clips["plain"])
    click(window, "anonymizeButton")
    window.job.signals.progress.connect(window.cancel_job)  # cancel as soon as progress arrives
    wait_until(lambda: window.job is None, timeout_s=180)
    assert window.review is None
    assert "Cancelled" in window.eta_label.text()
    left = sorted(p.name.rsplit("-", 1)[0] for p in private_tmp.iterdir())
    assert left == ["gaitanon-preview"]  # only the open clip's own preview proxy

    anonymize(window)
    target = tmp_path / "cancelled.mp4"
    answer_export_dialog(target)
    window.export(report_seen=True)
    assert window.job is not None
    window.job.signals.progress.connect(window.cancel_job)
    wait_until(lambda: window.job is None, timeout_s=120)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings", "tmp"]  # no target, no temporary file
    assert window.review is not None and window.review.complete  # the review survives a cancelled export


def test_flagged_frames_jump_and_need_explicit_confirmation(window, walker_clips, monkeypatch):
    open_and_wait(window, walker_clips["lost"])
    anonymize(window)
    window.show_report()
    dialog = window.report_control.dialog
    table = dialog.findChild(QTableWidget, "flaggedTable")
    assert table.rowCount() == 3
    table.selectRow(1)
    dialog.findChild(QPushButton, "jumpButton").click()
    assert shown_index(window) == 31

    asked, opened = [], []
    monkeypatch.setattr("app.controllers.main_window.ask_export_options",
                        lambda *args: opened.append(args) or None)
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: asked.append(args[2]) or QMessageBox.StandardButton.No)
    dialog.findChild(QPushButton, "reportExportButton").click()
    assert len(asked) == 1 and "3 frames" in asked[0]
    assert opened == []  # "No" (the default) stops the export
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: QMessageBox.StandardButton.Yes)
    window.export(report_seen=True)
    assert len(opened) == 1


def test_batch_mirrors_the_tree_and_goes_on_after_a_bad_file(window, qtbot, walker_clips, tmp_path):
    from app.controllers.batch import BatchController
    from app.settings import Settings

    source = tmp_path / "in"
    (source / "day 2").mkdir(parents=True)
    shutil.copy(walker_clips["plain"], source / "a.mp4")
    shutil.copy(walker_clips["plain"], source / "day 2" / "b.mp4")
    (source / "broken.mov").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    (source / "notes.txt").write_text("not a video")
    output = tmp_path / "out"

    batch = BatchController(window, Settings(), 0.3, window.models_dir)
    qtbot.addWidget(batch)
    batch.show()
    batch.input.setText(str(source))
    batch.output.setText(str(output))
    qtbot.mouseClick(batch.start, Qt.MouseButton.LeftButton)
    wait_until(lambda: batch.worker is None, timeout_s=300)

    statuses = {batch.table.item(r, 0).text(): batch.table.item(r, 1).text() for r in range(batch.table.rowCount())}
    assert statuses == {"a.mp4": "done", "broken.mov": "failed", "day 2/b.mp4": "done", "notes.txt": "skipped"}
    assert "2 anonymized" in batch.summary.text() and "1 failed" in batch.summary.text()
    written = sorted(str(p.relative_to(output)) for p in output.rglob("*") if p.is_file())
    assert written == ["a_mp4.mp4", "day 2/b_mp4.mp4"]


def test_closing_the_window_mid_render_leaves_no_temporary_files(window, walker_clips, private_tmp):
    open_and_wait(window, walker_clips["plain"])
    click(window, "anonymizeButton")
    wait_until(lambda: any(p.name.startswith("gaitanon-review-") for p in private_tmp.iterdir()))
    window.close()  # cancels the render, waits for it, removes the review copy and the preview proxies
    assert list(private_tmp.iterdir()) == []


@pytest.mark.parametrize("name", ["002-nm-01-090.avi", "demo2.mp4"])  # a CASIA-B clip, a portrait phone clip
def test_shared_clips_open_anonymize_and_export(window, shared_data, name, tmp_path, monkeypatch):
    source = shared_data / "clips" / name
    open_and_wait(window, source)
    window.go_to(window.clip.info.frame_count // 2)
    anonymize(window)
    wait_until(lambda: window._last_shown.anonymized is not None)
    assert window._last_shown.anonymized.shape == window._last_shown.original.shape
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: QMessageBox.StandardButton.Yes)  # flagged: go on
    target = tmp_path / "out.mp4"
    answer_export_dialog(target)
    window.export(report_seen=True)
    wait_until(lambda: window.job is None, timeout_s=300)
    exported, original = probe(target), probe(source)
    assert exported.frame_count == original.frame_count
    assert (exported.width, exported.height) == (original.width, original.height)


def test_cancelling_a_batch_keeps_finished_files_and_leaves_nothing_of_the_current_one(
        window, qtbot, walker_clips, tmp_path):
    from app.controllers.batch import BatchController
    from app.settings import Settings

    source, output = tmp_path / "in", tmp_path / "out"
    source.mkdir()
    for name in ("a.mp4", "b.mp4"):
        shutil.copy(walker_clips["plain"], source / name)
    batch = BatchController(window, Settings(), 0.3, window.models_dir)
    qtbot.addWidget(batch)
    batch.input.setText(str(source))
    batch.output.setText(str(output))
    qtbot.mouseClick(batch.start, Qt.MouseButton.LeftButton)
    wait_until(lambda: batch.table.item(1, 1).text() == "running", timeout_s=120)  # a.mp4 done, b.mp4 started
    qtbot.mouseClick(batch.cancel, Qt.MouseButton.LeftButton)
    wait_until(lambda: batch.worker is None, timeout_s=120)
    assert [batch.table.item(r, 1).text() for r in range(2)] == ["done", "cancelled"]
    assert "Cancelled" in batch.summary.text()
    assert sorted(p.name for p in output.iterdir()) == ["a_mp4.mp4"]
