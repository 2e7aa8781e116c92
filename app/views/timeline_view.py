"""Frame timeline: start, step back, play/pause, step forward, end, a slider over every frame, the time."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QStyle, QToolButton, QWidget


def _button(owner: QWidget, name: str, icon: QStyle.StandardPixmap, tip: str) -> QToolButton:
    button = QToolButton(owner)
    button.setObjectName(name)
    button.setIcon(owner.style().standardIcon(icon))
    button.setToolTip(tip)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys belong to the window's shortcuts
    return button


class TimelineView(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("timeline")
        pixmap = QStyle.StandardPixmap
        self.start_button = _button(self, "startButton", pixmap.SP_MediaSkipBackward, "First frame (Home)")
        self.step_back_button = _button(self, "stepBackButton", pixmap.SP_MediaSeekBackward, "Previous frame (Left)")
        self.play_button = _button(self, "playButton", pixmap.SP_MediaPlay, "Play / pause (Space)")
        self.step_forward_button = _button(self, "stepForwardButton", pixmap.SP_MediaSeekForward, "Next frame (Right)")
        self.end_button = _button(self, "endButton", pixmap.SP_MediaSkipForward, "Last frame (End)")
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setObjectName("timelineSlider")
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider.setRange(0, 0)
        self.time_label = QLabel("--:--.--- / --:--.---", self)
        self.time_label.setObjectName("timeLabel")
        self.time_label.setMinimumWidth(260)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.start_button, self.step_back_button, self.play_button,
                       self.step_forward_button, self.end_button):
            layout.addWidget(widget)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.time_label)

    def show_playing(self, playing: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
