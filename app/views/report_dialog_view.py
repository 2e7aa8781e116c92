"""The per-clip report shown before export: flagged frames, the privacy check, what is not changed."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

NOT_CHANGED = (
    "<b>What gaitanon does not change.</b> Only the walking body's outline and its motion are "
    "altered. The face, hair, skin, clothes and anything carried, the person's height, speed, "
    "cadence and path through the scene, the scene itself, and the voice and footsteps if you keep "
    "the audio can all still identify someone. Check them before you publish."
)


class ReportDialogView(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reportDialog")
        self.setWindowTitle("Clip report")
        self.setMinimumWidth(720)
        self.resize(720, 520)
        self.summary = QLabel()
        self.summary.setObjectName("reportSummary")
        self.summary.setWordWrap(True)
        self.flagged = QTableWidget(0, 3)
        self.flagged.setObjectName("flaggedTable")
        self.flagged.setHorizontalHeaderLabels(["Frame", "Reason", "What was done"])
        self.flagged.horizontalHeader().setStretchLastSection(True)
        self.flagged.verticalHeader().setVisible(False)
        self.flagged.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.flagged.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.jump = QPushButton("Show this frame")
        self.jump.setObjectName("jumpButton")
        self.privacy = QLabel()
        self.privacy.setObjectName("privacyText")
        self.privacy.setWordWrap(True)
        self.not_changed = QLabel(NOT_CHANGED)
        self.not_changed.setObjectName("notChangedText")
        self.not_changed.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export = self.buttons.addButton("Export…", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export.setObjectName("reportExportButton")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.flagged_title = QLabel("<b>Flagged frames</b> (bridged from neighbours or covered; check each one)")
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.flagged_title)
        layout.addWidget(self.flagged, 1)
        layout.addWidget(self.jump)
        layout.addWidget(self.privacy)
        layout.addWidget(self.not_changed)
        layout.addStretch()  # takes the room only when the flagged table is hidden
        layout.addWidget(self.buttons)

    def show_flagged_section(self, visible: bool) -> None:
        for widget in (self.flagged_title, self.flagged, self.jump):
            widget.setVisible(visible)
        if not visible:  # no empty table: the dialog shrinks to its text
            self.resize(self.width(), self.layout().totalHeightForWidth(self.width()))
