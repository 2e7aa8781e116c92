"""The Cover boxes panel's behaviour: draw a box over the original, choose its frames, hand the engine its boxes.

A box covers frames first..last (counted from 0 here, from 1 on screen, as the
timeline does). The engine takes a box's range in seconds, inclusive: the range
given is from halfway before the first frame to halfway after the last (the
clip's edge: none), so no rounding of frame times can add or drop a frame.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
from PySide6.QtCore import QObject, QRectF, QSignalBlocker, Signal
from PySide6.QtWidgets import QSpinBox

from gaitanon_core.render.covers import CoverBox

from ..views.cover_boxes_view import CoverBoxesView, CoverBoxRowView
from ..views.frame_pair_view import ImagePane
from . import jobs

Pixels = tuple[int, int, int, int]  # x, y, width, height in the source frame


def pixels_within(rect: QRectF, width: int, height: int) -> Pixels | None:
    """The drawn rectangle (scene units: source pixels) cut to the frame, in whole pixels; None if nothing is left."""
    x0, y0 = max(0, round(rect.left())), max(0, round(rect.top()))
    x1, y1 = min(width, round(rect.right())), min(height, round(rect.bottom()))
    return (x0, y0, x1 - x0, y1 - y0) if x1 > x0 and y1 > y0 else None


def cover_box(pixels: Pixels, first: int, last: int, times: np.ndarray) -> CoverBox:
    """The engine's box for frames first..last: its time range runs halfway into the frames either side."""
    start = None if first <= 0 else float(times[first - 1] + times[first]) / 2
    end = None if last >= len(times) - 1 else float(times[last] + times[last + 1]) / 2
    return CoverBox(*pixels, start=start, end=end)


def frames_of(box: CoverBox, times: np.ndarray) -> tuple[int, int]:
    """The first and last frame a box covers (the inverse of `cover_box`)."""
    first = 0 if box.start is None else int(np.searchsorted(times, box.start, side="left"))
    last = len(times) - 1 if box.end is None else int(np.searchsorted(times, box.end, side="right")) - 1
    return first, last


def box_text(box: CoverBox, times: np.ndarray) -> str:
    """A box as the user drew it: where, in source pixels, and on which frames (from 1) and seconds."""
    first, last = frames_of(box, times)
    return (f"{box.width}×{box.height} px at ({box.x}, {box.y}), frames {first + 1}–{last + 1} "
            f"({times[first]:.2f}–{times[last]:.2f} s)")


class CoverBoxesController(QObject):
    """Puts the original pane in draw mode, lists the boxes drawn, and answers which boxes are on a frame."""

    changed = Signal()  # a box was added, removed or its frames changed

    def __init__(self, view: CoverBoxesView, pane: ImagePane, current_frame: Callable[[], int]) -> None:
        super().__init__(view)
        self.view = view
        self.pane = pane
        self.current_frame = current_frame
        self.clip: jobs.OpenedClip | None = None
        self._pixels: dict[CoverBoxRowView, Pixels] = {}
        view.draw_button.setEnabled(False)
        view.draw_button.toggled.connect(self._on_draw_toggled)
        pane.box_drawn.connect(self._on_drawn)
        pane.drawing_cancelled.connect(self._end_drawing)

    def set_clip(self, clip: jobs.OpenedClip) -> None:
        """A new clip: the boxes drawn on the last one are dropped."""
        self.clip = clip
        self._end_drawing()
        self.view.list.clear_rows()
        self._pixels.clear()
        self.view.draw_button.setEnabled(True)
        self.changed.emit()

    # --- drawing ----------------------------------------------------------------------------
    def _on_draw_toggled(self, checked: bool) -> None:
        if checked:
            self.pane.start_drawing()
        else:
            self.pane.stop_drawing()

    def _end_drawing(self) -> None:
        with QSignalBlocker(self.view.draw_button):
            self.view.draw_button.setChecked(False)
        self.pane.stop_drawing()

    def _on_drawn(self, rect: QRectF) -> None:
        self._end_drawing()
        pixels = pixels_within(rect, self.clip.info.width, self.clip.info.height) if self.clip else None
        if pixels is not None:  # a click without a drag, or a box off the picture, covers nothing
            self.add_box(pixels, self.current_frame(), len(self.clip.times) - 1)

    # --- the rows -----------------------------------------------------------------------------
    def add_box(self, pixels: Pixels, first: int, last: int) -> CoverBoxRowView:
        """A row for a box over frames first..last (from 0)."""
        x, y, width, height = pixels
        row = CoverBoxRowView(f"<b>Box</b> {width}×{height} px at ({x}, {y})")
        for spin in (row.first, row.last):
            spin.setRange(1, len(self.clip.times))
        row.first.setValue(first + 1)
        row.last.setValue(last + 1)
        self._pixels[row] = pixels
        self._show_times(row)
        for spin in (row.first, row.last):
            spin.valueChanged.connect(partial(self._on_frames_changed, row, spin))
        row.remove.clicked.connect(partial(self.remove_box, row))
        self.view.list.add_row(row)
        self.changed.emit()
        return row

    def remove_box(self, row: CoverBoxRowView) -> None:
        del self._pixels[row]
        self.view.list.remove_row(row)
        self.changed.emit()

    def _on_frames_changed(self, row: CoverBoxRowView, moved: QSpinBox, _value: int) -> None:
        """The other end follows the one moved past it, so the first frame is never after the last."""
        other = row.last if moved is row.first else row.first
        if row.first.value() > row.last.value():
            with QSignalBlocker(other):
                other.setValue(moved.value())
        self._show_times(row)
        self.changed.emit()

    def _show_times(self, row: CoverBoxRowView) -> None:
        first, last = self._frames(row)
        row.times.setText(f"{self.clip.times[first]:.2f} s to {self.clip.times[last]:.2f} s")

    @staticmethod
    def _frames(row: CoverBoxRowView) -> tuple[int, int]:
        return row.first.value() - 1, row.last.value() - 1

    # --- what the window asks ---------------------------------------------------------------
    def cover_boxes(self) -> tuple[CoverBox, ...]:
        """The engine's boxes, in the order drawn (none by default)."""
        return tuple(cover_box(self._pixels[row], *self._frames(row), self.clip.times) for row in self.view.rows)

    def rects_on(self, index: int) -> list[QRectF]:
        """The boxes that cover frame `index`, for the translucent boxes over the original."""
        return [QRectF(*self._pixels[row]) for row in self.view.rows
                if self._frames(row)[0] <= index <= self._frames(row)[1]]

    def set_locked(self, locked: bool) -> None:
        """No new box and no change while the review copy renders (it uses the boxes it started with)."""
        if locked:
            self._end_drawing()
        self.view.draw_button.setEnabled(not locked and self.clip is not None)
        for row in self.view.rows:
            for widget in (row.first, row.last, row.remove):
                widget.setEnabled(not locked)
