"""Export options: where, audio, metadata, encoder quality. Safe choices are the defaults."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setObjectName("note")
    return label


class ExportDialogView(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export the reviewed clip")
        self.setMinimumWidth(620)
        self.path = QLineEdit()
        self.path.setObjectName("exportPath")
        self.browse = QPushButton("Choose…")
        self.browse.setObjectName("exportBrowse")
        self.overwrite = QCheckBox("Replace the file if it already exists")
        self.overwrite.setObjectName("overwriteCheck")
        self.keep_audio = QCheckBox("Keep the audio track")
        self.keep_audio.setObjectName("keepAudio")
        self.keep_metadata = QCheckBox("Keep the file's metadata")
        self.keep_metadata.setObjectName("keepMetadata")
        self.crf = QSpinBox()
        self.crf.setObjectName("crfSpin")
        self.crf.setRange(0, 51)
        self.crf.setToolTip("Constant rate factor: lower means better quality and a bigger file (18-23 is typical)")
        self.preset = QComboBox()
        self.preset.setObjectName("presetCombo")
        self.preset.addItems(PRESETS)
        self.preset.setToolTip("Slower presets make smaller files at the same quality")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.setObjectName("exportButtons")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setObjectName("exportOk")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        where = QHBoxLayout()
        where.addWidget(self.path, 1)
        where.addWidget(self.browse)
        form = QFormLayout()
        form.addRow("Save as:", where)
        form.addRow("", self.overwrite)
        form.addRow("Quality (CRF):", self.crf)
        form.addRow("Encoder preset:", self.preset)
        self.kept_note = _note("")
        self.kept_note.setObjectName("keptNote")
        layout = QVBoxLayout(self)
        layout.addWidget(self.kept_note)
        layout.addLayout(form)
        layout.addWidget(self.keep_audio)
        layout.addWidget(_note("Off by default: voices and footsteps identify people too. "
                               "Keep the audio only if you have checked it is safe."))
        layout.addWidget(self.keep_metadata)
        layout.addWidget(_note("Off by default: metadata can give the date, the place (GPS), the camera "
                               "or phone model and the software used."))
        layout.addWidget(self.buttons)
