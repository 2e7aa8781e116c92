"""The preview while and after rendering: live frames in the anonymized pane, overlays served from stored files."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QSlider

from gaitanon_core.pipeline import preview_frame
from gui_helpers import anonymize, click, open_and_wait, wait_until
from gui_helpers import model_bank, private_tmp, walker_clips, window  # noqa: F401 (shared fixtures)

pytestmark = pytest.mark.slow  # each test anonymizes a short clip (a few seconds)

OVERLAYS = ("overlayOriginalOutline", "overlayAnonymizedOutline", "overlayXor")


def _mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def _where_walker(frame, *others) -> tuple[slice, slice]:
    """The box holding this frame's and the others' silhouettes: where neighbouring frames differ."""
    union = frame.original_silhouette | frame.anonymized_silhouette
    for other in others:
        union = union | other.original_silhouette | other.anonymized_silhouette
    rows, cols = np.flatnonzero(union.any(axis=1)), np.flatnonzero(union.any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _assert_same_frame(shown, engine, index: int) -> None:
    """`shown` is frame `index` of the review: identical silhouettes, and pictures nearer to
    ffmpeg's exact decode of that frame than to either neighbour's (the walker moves between them)."""
    exact = preview_frame(engine, index)
    reviewed = range(engine.report.frames)
    neighbours = [preview_frame(engine, i) for i in (index - 1, index + 1) if i in reviewed]
    assert shown.index == index
    assert np.array_equal(shown.original_mask, exact.original_silhouette)
    assert np.array_equal(shown.anonymized_mask, exact.anonymized_silhouette)
    assert np.array_equal(shown.xor, exact.xor)
    box = _where_walker(exact, *neighbours)
    for picture, field in ((shown.original, "original"), (shown.anonymized, "anonymized")):
        own = _mean_difference(picture[box], getattr(exact, field)[box])
        assert own < 4, f"{field}: {own:.1f} grey levels from the exact decode"
        for neighbour in neighbours:
            assert own < _mean_difference(picture[box], getattr(neighbour, field)[box]), field


def test_latest_only_keeps_the_newest_value_and_one_announcement_at_a_time(qtbot):
    from app.workers import LatestOnly

    relay = LatestOnly(interval_s=0.0)
    announced = []
    relay.ready.connect(lambda: announced.append(True))
    for value in range(1000):
        relay.offer(value)
    assert len(announced) == 1  # not taken yet: the others only replaced the waiting value
    assert relay.take() == 999
    assert relay.take() is None
    relay.offer("next")
    assert len(announced) == 2

    slow = LatestOnly(interval_s=3600.0)
    slow.ready.connect(lambda: announced.append(True))
    slow.offer(1)
    slow.take()
    slow.offer(2)  # taken, but too soon after the last announcement
    assert len(announced) == 3 and slow.take() == 2


def test_anonymized_pane_fills_in_while_the_clip_renders(window, walker_clips):
    open_and_wait(window, walker_clips["plain"])
    slider = window.findChild(QSlider, "timelineSlider")
    live = []  # (frame shown, slider position) for every anonymized frame shown while the job ran
    show = window.frames.anonymized.show_frame

    def record(image, placeholder=""):
        shown = window._last_shown
        if window.job is not None and shown.anonymized is not None:
            live.append((shown, slider.value(), placeholder))
        show(image, placeholder)

    window.frames.anonymized.show_frame = record
    for name in OVERLAYS:  # the live frames carry their outlines too
        window.findChild(QCheckBox, name).setChecked(True)
    anonymize(window)

    assert live, "no finished frame reached the anonymized pane before the render ended"
    for shown, position, placeholder in live:
        assert position == shown.index and placeholder == ""  # the slider marks the frame shown
        _assert_same_frame(shown, window.review.engine, shown.index)
    assert not window.frames.anonymized.overlay_items["xor"].pixmap().isNull()
    # after rendering, the review copy serves the frame the render stopped on
    wait_until(lambda: window._last_shown.index == window.current and window._last_shown.anonymized is not None
               and window.review.complete)


def test_moving_the_timeline_while_rendering_stops_following_the_render(window, walker_clips):
    open_and_wait(window, walker_clips["plain"])
    click(window, "anonymizeButton")
    window.go_to(7)  # the user looks at a frame of their own
    wait_until(lambda: window.job is None, timeout_s=180)
    assert window.current == 7 and window.findChild(QSlider, "timelineSlider").value() == 7
    wait_until(lambda: window._last_shown.index == 7 and window._last_shown.anonymized is not None)


def test_cancel_after_the_first_live_frame_leaves_nothing(window, walker_clips, private_tmp):
    open_and_wait(window, walker_clips["plain"])
    offer = window.live_frames.offer

    def offer_then_cancel(frame) -> None:  # in the worker thread: cancel before a second frame is made
        offer(frame)
        window.job.cancel()

    window.live_frames.offer = offer_then_cancel
    click(window, "anonymizeButton")
    wait_until(lambda: window.job is None, timeout_s=180)
    assert window.review is None and "Cancelled" in window.eta_label.text()
    left = sorted(p.name.rsplit("-", 1)[0] for p in private_tmp.iterdir())
    assert left == ["gaitanon-preview"]  # only the open clip's own preview proxy
    wait_until(lambda: window._last_shown.anonymized is None)  # the live frame is gone with the render
    assert window.frames.anonymized.placeholder.isVisible()


def test_scrubbing_with_overlays_shows_the_reviewed_frame(window, qtbot, walker_clips):
    open_and_wait(window, walker_clips["plain"])
    anonymize(window)
    for name in OVERLAYS:
        qtbot.mouseClick(window.findChild(QCheckBox, name), Qt.MouseButton.LeftButton)
    for index in (41, 5, 6, 28, 58):  # jumps back and forth, and one step forward
        window.go_to(index)
        wait_until(lambda index=index: window._last_shown.index == index and window._last_shown.xor is not None)
        _assert_same_frame(window._last_shown, window.review.engine, index)
        for pane in window.frames.panes():  # the three outline overlays (the numbered people's is the original's)
            assert all(not pane.overlay_items[name].pixmap().isNull() for name in ("original_outline", "anonymized_outline", "xor"))
