"""The per-clip report before export: flagged frames with jump-to, the privacy check, the limits.

The dialog is not modal, so the user can jump to each flagged frame and look at
it in the main window; its Export button continues to the export dialog.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox, QTableWidgetItem, QWidget

from gaitanon_core.report import WHAT_IS_KEPT

from ..views.report_dialog_view import ReportDialogView
from .jobs import device_name

if TYPE_CHECKING:
    from .jobs import ReviewSession as Review


def summary_html(review: Review) -> str:
    report = review.report
    lines = [f"{report.frames} frames: {report.frames_anonymized} anonymized, "
             f"{report.frames_without_person} without a person. Strength {report.alpha:g} ({report.model}) "
             f"on the {device_name(report.provider)}, {report.wall_s:.1f} s."]
    lines += [report.camera_line().capitalize()] if report.camera else []
    lines += people_lines(review)
    lines += [f"Note: {note}" for note in [*report.notes, WHAT_IS_KEPT]]
    flagged = len(report.flagged)
    verdict = ("<b>No frame was flagged.</b>" if flagged == 0 else
               f"<b>{flagged} frame{'s' if flagged != 1 else ''} flagged</b>: the person's shape there was not "
               "anonymized from that frame itself. Look at each before you export.")
    return "<br>".join([*lines, verdict])


def people_lines(review: Review) -> list[str]:
    """One line per person: what was done to them, and whether the user chose to keep or cover them; then how
    many frames the cover boxes were painted on."""
    report = review.report
    lines = [f"Person {number}{choice_note(review, number)}: {counts['anonymized']} frames anonymized, "
             f"{counts['covered']} covered, {counts['kept']} kept unchanged."
             for number, counts in sorted(report.people.items())]
    boxes = len(review.options.cover_boxes)
    if boxes:
        lines.append(f"Cover boxes: {boxes} drawn, painted grey on {report.cover_box_frames} frames.")
    return lines


def choice_note(review: Review, number: int) -> str:
    """What the user chose for person `number`, in brackets (nothing for the default, anonymizing)."""
    if number in review.options.keep_tracks:
        return " (kept unchanged, as you chose)"
    return " (covered whole, as you chose)" if number in review.report.covered_by_choice else ""


def privacy_html(review: Review) -> str:
    """The engine's per-clip privacy check, in its own words, with its limits."""
    check = review.report.privacy
    if not check.get("available"):
        reason = check.get("reason", "the engine did not run it")
        return f"<b>Privacy check:</b> not available for this clip: {html.escape(reason)}."
    return (f"<b>Privacy check:</b> {html.escape(check['verdict'])}<br>"
            f"<small>{html.escape(check['limits'])}</small>")


class ReportController(QObject):
    """Gets what it needs from the window, never the window: the review shown, a jump to a frame, the export."""

    def __init__(self, parent: QWidget, current_review: Callable[[], Review | None], jump_to: Callable[[int], None],
                 export: Callable[[], None]) -> None:
        super().__init__(parent)
        self.parent_widget = parent
        self.current_review = current_review
        self.jump_to = jump_to
        self.export = export
        self.dialog: ReportDialogView | None = None

    def show(self, review: Review) -> ReportDialogView:
        if self.dialog is not None:
            self.dialog.close()
        dialog = ReportDialogView(self.parent_widget)
        dialog.summary.setText(summary_html(review))
        dialog.privacy.setText(privacy_html(review))
        self._fill_flagged(dialog, review)
        dialog.jump.clicked.connect(self._jump_to_selected)
        dialog.flagged.cellDoubleClicked.connect(self._jump_to_row)
        dialog.accepted.connect(self._export_from_report)
        self.dialog = dialog
        dialog.show()
        return dialog

    def _fill_flagged(self, dialog: ReportDialogView, review: Review) -> None:
        flagged = review.report.flagged
        dialog.flagged.setRowCount(len(flagged))
        for row, frame in enumerate(flagged):
            cells = (f"{frame.index + 1}  ({frame.time:.2f} s)", frame.reason, frame.action)
            for column, text in enumerate(cells):
                dialog.flagged.setItem(row, column, QTableWidgetItem(text))
        dialog.flagged.resizeColumnsToContents()
        dialog.show_flagged_section(bool(flagged))
        if flagged:
            dialog.flagged.selectRow(0)

    def _jump_to_row(self, row: int, _column: int = 0) -> None:
        review = self.current_review()
        if review is not None and 0 <= row < len(review.report.flagged):
            self.jump_to(review.report.flagged[row].index)

    def _jump_to_selected(self) -> None:
        if self.dialog is not None:
            self._jump_to_row(self.dialog.flagged.currentRow())

    def _export_from_report(self) -> None:
        self.export()

    def confirm_flagged(self, review: Review) -> bool:
        """Export of a clip with flagged frames needs an explicit yes (the default is No)."""
        count = len(review.report.flagged)
        if count == 0:
            return True
        answer = QMessageBox.warning(
            self.parent_widget, "Export a clip with flagged frames?",
            f"{count} frame{'s' if count != 1 else ''} of this clip could not be anonymized from the frame itself "
            "and were bridged from neighbouring frames or covered. Check them in the report first.\n\n"
            "Export anyway?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes
