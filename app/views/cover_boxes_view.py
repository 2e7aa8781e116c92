"""The Cover boxes panel: a button to draw a box over the original, and one row per box with its frame range."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from .row_list import RowList

HINT = ("Anything the people search missed (a face at a window, a person half hidden): press Draw, then drag a "
        "box over the original. It is painted flat grey on the frames you choose.")


def _frame_spin(name: str, tip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setObjectName(name)
    spin.setToolTip(tip)
    spin.setKeyboardTracking(False)  # one change per typed number, not one per digit
    return spin


class CoverBoxRowView(QWidget):
    """One box: where it is (source pixels), from which frame to which (counted from 1), and Remove."""

    def __init__(self, place: str) -> None:
        super().__init__()
        self.setObjectName("coverBoxRow")
        self.place = QLabel(place)
        self.place.setObjectName("coverBoxPlace")
        self.first = _frame_spin("coverBoxFirst", "The first frame the box covers")
        self.last = _frame_spin("coverBoxLast", "The last frame the box covers")
        self.times = QLabel()
        self.times.setObjectName("coverBoxTimes")
        self.remove = QPushButton("Remove")
        self.remove.setObjectName("coverBoxRemove")
        heading = QHBoxLayout()
        heading.addWidget(self.place, 1)
        heading.addWidget(self.remove)
        frames = QHBoxLayout()
        frames.addWidget(QLabel("from frame"))
        frames.addWidget(self.first)
        frames.addWidget(QLabel("to"))
        frames.addWidget(self.last)
        frames.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(heading)
        layout.addLayout(frames)
        layout.addWidget(self.times)


class CoverBoxesView(QGroupBox):
    """The Draw button (checked while drawing), a hint, and the boxes drawn."""

    def __init__(self) -> None:
        super().__init__("Cover boxes")
        self.setObjectName("coverBoxesPanel")
        self.draw_button = QPushButton("Draw cover box")
        self.draw_button.setObjectName("drawCoverBox")
        self.draw_button.setCheckable(True)
        self.draw_button.setToolTip("Then drag a box over the original picture (Escape cancels)")
        self.hint = QLabel(HINT)
        self.hint.setObjectName("coverBoxesHint")
        self.hint.setWordWrap(True)
        self.list = RowList("coverBoxesList")
        layout = QVBoxLayout(self)
        layout.addWidget(self.hint)
        layout.addWidget(self.draw_button)
        layout.addWidget(self.list, 1)

    @property
    def rows(self) -> list[CoverBoxRowView]:
        return self.list.rows
