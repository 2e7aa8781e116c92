"""Batch: a folder in, a mirrored folder out, one row per file with its status."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

COLUMNS = ("File", "Status", "Progress", "Message")


def _folder_row(name: str) -> tuple[QLineEdit, QPushButton, QHBoxLayout]:
    edit = QLineEdit()
    edit.setObjectName(name)
    browse = QPushButton("Choose…")
    browse.setObjectName(name + "Browse")
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    row.addWidget(browse)
    return edit, browse, row


class BatchDialogView(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("batchDialog")
        self.setWindowTitle("Anonymize a folder")
        self.resize(860, 520)
        self.input, self.input_browse, input_row = _folder_row("batchInput")
        self.output, self.output_browse, output_row = _folder_row("batchOutput")
        self.settings_label = QLabel()
        self.settings_label.setObjectName("batchSettings")
        self.settings_label.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("batchTable")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.progress = QProgressBar()
        self.progress.setObjectName("batchProgress")
        self.summary = QLabel()
        self.summary.setObjectName("batchSummary")
        self.summary.setWordWrap(True)
        self.start = QPushButton("Start")
        self.start.setObjectName("batchStart")
        self.cancel = QPushButton("Cancel")
        self.cancel.setObjectName("batchCancel")
        self.close_button = QPushButton("Close")
        self.close_button.setObjectName("batchClose")
        self.close_button.clicked.connect(self.reject)
        form = QFormLayout()
        form.addRow("Input folder:", input_row)
        form.addRow("Output folder:", output_row)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.start, self.cancel, self.close_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.settings_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.summary)
        layout.addLayout(buttons)
