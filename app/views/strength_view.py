"""Strength: a slider with one stop per shipped anonymizer, from natural to private."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QSlider, QWidget


class StrengthView(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("strength")
        self.title = QLabel("<b>Strength</b>", self)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setObjectName("strengthSlider")
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(1)
        self.slider.setPageStep(1)
        self.slider.setMinimumWidth(160)
        self.natural_label = QLabel("natural", self)
        self.private_label = QLabel("private", self)
        self.private_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.info = QLabel(self)
        self.info.setObjectName("strengthInfo")
        self.info.setWordWrap(True)
        self.info.setTextFormat(Qt.TextFormat.RichText)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title, 0, 0, 1, 2)
        layout.addWidget(self.slider, 1, 0, 1, 2)
        layout.addWidget(self.natural_label, 2, 0)
        layout.addWidget(self.private_label, 2, 1)
        layout.addWidget(self.info, 3, 0, 1, 2)

    def set_stops(self, count: int) -> None:
        self.slider.setRange(0, max(count - 1, 0))
        self.slider.setEnabled(count > 1)
