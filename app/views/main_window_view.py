"""The main window's widgets and menus; app.controllers.main_window gives them behaviour."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from .cover_boxes_view import CoverBoxesView
from .frame_pair_view import FramePairView
from .people_view import PeopleView
from .strength_view import StrengthView
from .timeline_view import TimelineView


def _action(window: QMainWindow, name: str, text: str, shortcut: QKeySequence | str | None = None) -> QAction:
    action = QAction(text, window)
    action.setObjectName(name)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    return action


def _checkbox(name: str, text: str, tip: str) -> QCheckBox:
    box = QCheckBox(text)
    box.setObjectName(name)
    box.setToolTip(tip)
    return box


def _push(name: str, text: str) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(name)
    return button


class MainWindowView(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("gaitanon")
        self.setAcceptDrops(True)
        self._build_actions()
        self._build_menus()
        self._build_central()
        self._build_status_bar()

    def _build_actions(self) -> None:
        self.open_action = _action(self, "openAction", "&Open clip…", QKeySequence.StandardKey.Open)
        self.open_demo_action = _action(self, "openDemoAction", "Open the &demo clip")
        self.export_action = _action(self, "exportAction", "&Export reviewed clip…", "Ctrl+E")
        self.batch_action = _action(self, "batchAction", "&Batch folder…", "Ctrl+B")
        self.remember_recent_action = _action(self, "rememberRecentAction", "Remember recent files")
        self.remember_recent_action.setCheckable(True)
        self.clear_recent_action = _action(self, "clearRecentAction", "Clear recent files")
        self.quit_action = _action(self, "quitAction", "&Quit", QKeySequence.StandardKey.Quit)
        self.about_action = _action(self, "aboutAction", "&About gaitanon and third-party notices")

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.open_action)
        file_menu.addAction(self.open_demo_action)
        self.recent_menu = QMenu("Open &recent", self)
        self.recent_menu.setObjectName("recentMenu")
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.export_action)
        file_menu.addAction(self.batch_action)
        file_menu.addSeparator()
        file_menu.addAction(self.remember_recent_action)
        file_menu.addAction(self.clear_recent_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(self.about_action)

    def _build_central(self) -> None:
        self.frames = FramePairView()
        self.overlay_original = _checkbox("overlayOriginalOutline", "Original outline",
                                          "Outline of the original walker's silhouette (cyan)")
        self.overlay_anonymized = _checkbox("overlayAnonymizedOutline", "Anonymized outline",
                                            "Outline of the anonymized silhouette (magenta)")
        self.overlay_xor = _checkbox("overlayXor", "Difference (XOR)",
                                     "Where the two silhouettes differ (yellow)")
        self.overlay_people = _checkbox("overlayPeople", "People (numbered)",
                                        "Each person's outline on the original, in their colour from the People "
                                        "panel, with their number")
        self.overlay_people.setChecked(True)  # the user needs to see who is who to choose whom to keep
        self.fit_button = _push("fitButton", "Fit")
        overlays = QHBoxLayout()
        overlays.addWidget(QLabel("Overlays:"))
        for widget in (self.overlay_people, self.overlay_original, self.overlay_anonymized, self.overlay_xor):
            overlays.addWidget(widget)
        overlays.addStretch(1)
        overlays.addWidget(self.fit_button)

        self.timeline = TimelineView()
        self.strength = StrengthView()
        self.hide_faces = _checkbox("hideFaces", "Hide faces",
                                    "Hide the head of every anonymized person in the output (a visible face "
                                    "identifies people too); a person kept unchanged keeps their face")
        self.hide_faces.setChecked(True)
        self.face_mode = QComboBox()
        self.face_mode.setObjectName("faceMode")
        self.face_mode.setToolTip("How a hidden face is hidden: blurred, pixelated or filled flat")
        faces = QHBoxLayout()
        faces.addWidget(self.hide_faces)
        faces.addWidget(self.face_mode)
        faces.addStretch(1)
        self.anonymize_button = _push("anonymizeButton", "Anonymize")
        self.anonymize_button.setDefault(True)
        self.cancel_button = _push("cancelButton", "Cancel")
        self.report_button = _push("reportButton", "Report…")
        self.export_button = _push("exportButton", "Export…")
        self.progress = QProgressBar()
        self.progress.setObjectName("progressBar")
        self.progress.setTextVisible(True)
        self.eta_label = QLabel()
        self.eta_label.setObjectName("etaLabel")
        actions = QVBoxLayout()
        row = QHBoxLayout()
        for button in (self.anonymize_button, self.cancel_button, self.report_button, self.export_button):
            row.addWidget(button)
        actions.addLayout(row)
        actions.addLayout(faces)
        actions.addWidget(self.progress)
        actions.addWidget(self.eta_label)
        bottom = QHBoxLayout()
        bottom.addWidget(self.strength, 3)
        bottom.addSpacing(24)
        bottom.addLayout(actions, 2)

        self.people_view = PeopleView()
        self.cover_boxes_view = CoverBoxesView()
        choices = QWidget()
        column = QVBoxLayout(choices)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.people_view, 3)
        column.addWidget(self.cover_boxes_view, 2)
        views = QSplitter()
        views.setObjectName("viewsSplitter")
        views.addWidget(self.frames)
        views.addWidget(choices)
        views.setStretchFactor(0, 1)
        views.setStretchFactor(1, 0)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(views, 1)
        layout.addLayout(overlays)
        layout.addWidget(self.timeline)
        layout.addLayout(bottom)
        self.setCentralWidget(central)

    def _build_status_bar(self) -> None:
        self.clip_label = QLabel("No clip open")
        self.clip_label.setObjectName("clipLabel")
        self.device_label = QLabel("Model device: loading…")
        self.device_label.setObjectName("deviceLabel")
        self.statusBar().addWidget(self.clip_label, 1)
        self.statusBar().addPermanentWidget(self.device_label)
