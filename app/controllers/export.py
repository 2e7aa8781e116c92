"""The export dialog: the user's choices -> a target path and gaitanon_core's ExportOptions."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QDialog, QFileDialog, QWidget

from gaitanon_core.paths import demo_clip_path
from gaitanon_core.video import ExportOptions, VideoInfo

from ..settings import Settings
from ..views.export_dialog_view import ExportDialogView
from .covers import box_text
from .jobs import Choices


def suggested_target(source: Path, folder: str) -> Path:
    """Beside the source, unless that is the installation (the demo clip) or not writable: then home."""
    if not folder:
        beside = source.parent
        folder = Path.home() if beside == demo_clip_path().parent or not os.access(beside, os.W_OK) else beside
    return Path(folder) / f"{source.stem}_anonymized.mp4"


def _numbers(people: frozenset[int]) -> str:
    return ", ".join(str(number) for number in sorted(people))


def choices_text(choices: Choices, times: np.ndarray) -> str:
    """The export's reminder of who stays recognisable, who is covered and the boxes (empty: everyone is
    anonymized, nothing else)."""
    lines = []
    if choices.keep_tracks:
        lines.append(f"Kept unchanged, as you chose: person {_numbers(choices.keep_tracks)}. They stay "
                     "recognisable in this export (except where they cross someone).")
    if choices.cover_tracks:
        lines.append(f"Covered whole by a grey shape, as you chose: person {_numbers(choices.cover_tracks)}.")
    lines += [f"Cover box: {box_text(box, times)}." for box in choices.cover_boxes]
    if lines:
        lines.append("Everyone else is anonymized.")
    return "\n".join(lines)


class ExportDialog(ExportDialogView):
    def __init__(self, parent: QWidget | None, source: VideoInfo, settings: Settings, choices_note: str = "") -> None:
        super().__init__(parent)
        self.kept_note.setText(choices_note)
        self.kept_note.setVisible(bool(choices_note))
        self.path.setText(str(suggested_target(source.path, settings.last_folder("export"))))
        self.crf.setValue(settings.crf)
        self.preset.setCurrentText(settings.preset)
        if not source.has_audio:
            self.keep_audio.setEnabled(False)
            self.keep_audio.setText("Keep the audio track (this clip has none)")
        if not source.metadata and not source.other_streams:
            self.keep_metadata.setText("Keep the file's metadata (this clip has none that identifies)")
        self.browse.clicked.connect(self._browse)

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export as", self.path.text(), "MP4 video (*.mp4)")
        if path:
            self.path.setText(path if path.lower().endswith(".mp4") else path + ".mp4")

    def target(self) -> Path:
        return Path(self.path.text().strip()).expanduser()

    def options(self) -> ExportOptions:
        return ExportOptions(keep_audio=self.keep_audio.isChecked(), keep_metadata=self.keep_metadata.isChecked(),
                             crf=self.crf.value(), preset=self.preset.currentText(),
                             overwrite=self.overwrite.isChecked())


def ask_export_options(parent: QWidget, source: VideoInfo, settings: Settings,
                       choices_note: str = "") -> tuple[Path, ExportOptions] | None:
    """The target and the options, or None if cancelled; `choices_note` reminds of the People and Cover choices."""
    dialog = ExportDialog(parent, source, settings, choices_note)
    if dialog.exec() != QDialog.DialogCode.Accepted or not dialog.path.text().strip():
        return None
    target, options = dialog.target(), dialog.options()
    settings.crf, settings.preset = options.crf, options.preset
    settings.set_last_folder("export", target.parent)
    return target, options
