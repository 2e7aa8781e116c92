"""Batch: every video under a folder, anonymized into a mirrored folder, one queue row per file.

The plan (which files, which output names) and each clip's anonymization are the
engine's (`gaitanon_core.batch`: `batch_plan` and `run_batch`);
this dialog shows the queue, runs it in the background and sums it up.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QLineEdit, QTableWidgetItem, QWidget

from gaitanon_core.batch import BatchManifest, BatchTally
from gaitanon_core.pipeline import AnonymizeOptions, Progress
from gaitanon_core.render.faces import DEFAULT_FACES
from gaitanon_core.video import ExportOptions

from ..errors import show_error
from ..settings import Settings
from ..views.batch_dialog_view import BatchDialogView
from ..workers import Worker
from . import jobs

STATUS, PROGRESS, MESSAGE = 1, 2, 3  # table columns after the file name


class BatchController(BatchDialogView):
    def __init__(self, parent: QWidget, settings: Settings, alpha: float, models_dir: Path,
                 faces: str = DEFAULT_FACES) -> None:
        super().__init__(parent)
        self.settings = settings
        self.options = AnonymizeOptions(strength=alpha, models_dir=models_dir, faces=faces,
                                        export=ExportOptions(crf=settings.crf, preset=settings.preset))
        self.worker: Worker | None = None
        self.manifest: BatchManifest | None = None  # set when a batch starts
        self.running_row: int | None = None
        self.input.setText(settings.last_folder("batch_in"))
        self.output.setText(settings.last_folder("batch_out"))
        self.settings_label.setText(
            f"Everyone in every clip is anonymized (keeping a person unchanged is a choice made per clip, in the "
            f"main window's People panel). Strength {alpha:g}; faces: {faces}; audio dropped and metadata stripped (voices, footsteps, dates and places "
            f"identify people); H.264 quality CRF {settings.crf}, preset {settings.preset}. Output names keep the "
            "input's extension (a.avi -> a_avi.mp4) and the folder tree is mirrored.")
        self.input_browse.clicked.connect(lambda: self._choose(self.input, "Folder with the videos"))
        self.output_browse.clicked.connect(lambda: self._choose(self.output, "Folder for the anonymized videos"))
        self.start.clicked.connect(self.start_batch)
        self.cancel.clicked.connect(self.cancel_batch)
        self._set_running(False)

    def _choose(self, edit: QLineEdit, title: str) -> None:
        folder = QFileDialog.getExistingDirectory(self, title, edit.text())
        if folder:
            edit.setText(folder)

    def _set_running(self, running: bool) -> None:
        self.start.setEnabled(not running)
        self.cancel.setEnabled(running)
        self.close_button.setEnabled(not running)
        for widget in (self.input, self.output, self.input_browse, self.output_browse):
            widget.setEnabled(not running)

    def start_batch(self) -> None:
        input_dir, output_dir = Path(self.input.text().strip()), Path(self.output.text().strip())
        try:
            queue = jobs.batch_queue(input_dir, output_dir)
            self.manifest = jobs.batch_manifest(output_dir, self.options)
        except Exception as error:
            show_error(self, error)
            return
        self.settings.set_last_folder("batch_in", input_dir)
        self.settings.set_last_folder("batch_out", output_dir)
        self._fill_queue(queue, input_dir.resolve())
        self.summary.setText("")
        self.progress.setRange(0, max(len(queue), 1))
        self.progress.setValue(0)
        self.worker = Worker(jobs.run_batch, queue, self.options, self.manifest)
        self.worker.signals.progress.connect(self._on_progress)
        self.worker.signals.returned.connect(self._on_finished)
        self.worker.signals.aborted.connect(self._on_cancelled)
        self.worker.signals.errored.connect(self._on_failed)
        self._set_running(True)
        self.worker.start()

    def _fill_queue(self, queue: list[tuple[Path, Path | None]], input_dir: Path) -> None:
        self.table.setRowCount(len(queue))
        for row, (source, _target) in enumerate(queue):
            self.table.setItem(row, 0, QTableWidgetItem(str(source.relative_to(input_dir))))
            for column, text in ((STATUS, "queued"), (PROGRESS, ""), (MESSAGE, "")):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.resizeColumnToContents(0)

    def cancel_batch(self) -> None:
        if self.worker is not None:
            self.summary.setText("Cancelling…")
            self.worker.cancel()

    def _on_progress(self, event: jobs.BatchRow | Progress) -> None:
        if isinstance(event, Progress):
            if self.running_row is not None:
                self.table.item(self.running_row, PROGRESS).setText(f"{event.done} / {event.total}")
            return
        self.table.item(event.row, STATUS).setText(event.status)
        self.table.item(event.row, MESSAGE).setText(event.message)
        if event.status == "running":
            self.running_row = event.row
        else:
            self.progress.setValue(event.row + 1)
        self.table.scrollToItem(self.table.item(event.row, STATUS))

    def _stopped(self) -> None:
        self.worker = None
        self.running_row = None
        self._set_running(False)

    def _on_finished(self, tally: BatchTally) -> None:
        self._stopped()
        review = self.manifest.review_first()
        self.summary.setText(f"Finished: {tally.done} anonymized ({tally.flagged} with flagged frames: check "
                             f"their reports), {tally.skipped} skipped, {tally.failed} failed."
                             + (f" Review first: {', '.join(review)}." if review else "")
                             + f" Batch manifest (it names the sources: keep it private): {self.manifest.path}")

    def _on_cancelled(self) -> None:
        if self.running_row is not None:
            self.table.item(self.running_row, STATUS).setText("cancelled")
            self.table.item(self.running_row, MESSAGE).setText("nothing was written for this file")
        self._stopped()
        self.summary.setText("Cancelled. Files finished before are kept; the file in progress left nothing.")

    def _on_failed(self, error: Exception) -> None:
        self._stopped()
        show_error(self, error)

    def reject(self) -> None:
        if self.worker is None:  # closing is refused while the batch runs: cancel first
            super().reject()
