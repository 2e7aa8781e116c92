"""The People panel: the clip's people, numbered, each with their colour, a thumbnail and the user's choice."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .row_list import RowList

ANONYMIZE, KEEP, COVER = 0, 1, 2  # the choice box's items, in this order: anonymizing comes first, it is the default
CHOICES = ("Anonymize", "Keep unchanged (recognisable)", "Cover whole (grey shape)")
THUMBNAIL_HEIGHT = 72
SWATCH_SIDE = 14


class PersonRowView(QWidget):
    """One person: number, colour swatch, thumbnail, where they are seen, and the choice."""

    def __init__(self, number: int, colour: QColor, thumbnail: QImage | None, seen: str) -> None:
        super().__init__()
        self.setObjectName(f"person{number}")
        self.number = number
        self.swatch = QLabel()
        self.swatch.setObjectName("personSwatch")
        self.swatch.setFixedSize(SWATCH_SIDE, SWATCH_SIDE)
        self.swatch.setStyleSheet(f"background-color: {colour.name()}; border: 1px solid #222;")
        self.swatch.setToolTip("This person's outline colour in the preview")
        self.title = QLabel(f"<b>Person {number}</b>")
        self.title.setObjectName("personTitle")
        self.thumbnail = QLabel()
        self.thumbnail.setObjectName("personThumbnail")
        self.thumbnail.setFixedHeight(THUMBNAIL_HEIGHT)
        self.thumbnail.setMinimumWidth(THUMBNAIL_HEIGHT // 2)
        self.thumbnail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        if thumbnail is None:
            self.thumbnail.setText("(never\nwhole)")
        else:
            self.thumbnail.setPixmap(QPixmap.fromImage(thumbnail).scaledToHeight(
                THUMBNAIL_HEIGHT, Qt.TransformationMode.SmoothTransformation))
        self.seen = QLabel(seen)
        self.seen.setObjectName("personSeen")
        self.seen.setWordWrap(True)
        self.choice = QComboBox()
        self.choice.setObjectName("personChoice")
        self.choice.addItems(CHOICES)
        self.choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.choice.setMinimumContentsLength(12)  # the panel stays narrow; the open list shows each choice whole
        self.choice.setToolTip("Anonymize: the default. Keep unchanged: this person stays recognisable "
                               "(shape, walk and face as filmed), except where they cross someone. Cover whole: "
                               "a flat grey shape hides them (where they are and how tall they are still show)")
        self.go_to = QPushButton("Show")
        self.go_to.setObjectName("personShow")
        self.go_to.setToolTip("Go to the first frame this person is in")
        heading = QHBoxLayout()
        heading.addWidget(self.swatch)
        heading.addWidget(self.title)
        heading.addStretch(1)
        heading.addWidget(self.go_to)
        details = QVBoxLayout()
        details.addLayout(heading)
        details.addWidget(self.seen)
        details.addWidget(self.choice)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.thumbnail)
        layout.addLayout(details, 1)


class PeopleView(QGroupBox):
    """Status and progress of the search, its Cancel / Find again buttons, and one row per person."""

    def __init__(self) -> None:
        super().__init__("People")
        self.setObjectName("peoplePanel")
        self.status = QLabel("Open a clip to see the people in it.")
        self.status.setObjectName("peopleStatus")
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setObjectName("peopleProgress")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("peopleCancel")
        self.find_button = QPushButton("Find people")
        self.find_button.setObjectName("peopleFind")
        buttons = QHBoxLayout()
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.find_button)
        self.list = RowList("peopleList")
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        layout.addWidget(self.list, 1)
        self.setMinimumWidth(300)

    @property
    def rows(self) -> list[PersonRowView]:
        return self.list.rows

    def clear_rows(self) -> None:
        self.list.clear_rows()

    def add_row(self, row: PersonRowView) -> None:
        self.list.add_row(row)

    def show_searching(self, searching: bool) -> None:
        self.progress.setVisible(searching)
        self.cancel_button.setEnabled(searching)
        self.find_button.setEnabled(not searching)
