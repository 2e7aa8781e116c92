"""A scrolling list of row widgets, top-aligned: the People panel's people, the Cover boxes panel's boxes."""

from __future__ import annotations

from PySide6.QtWidgets import QScrollArea, QVBoxLayout, QWidget


class RowList(QScrollArea):
    """Rows stacked from the top (a stretch below them keeps them there), scrolling when they do not fit."""

    def __init__(self, object_name: str) -> None:
        super().__init__()
        self.setObjectName(object_name)
        self.setWidgetResizable(True)
        self.rows: list[QWidget] = []
        self._layout = QVBoxLayout()
        self._layout.addStretch(1)
        holder = QWidget()
        holder.setLayout(self._layout)
        self.setWidget(holder)

    def add_row(self, row: QWidget) -> None:
        self._layout.insertWidget(self._layout.count() - 1, row)  # above the stretch
        self.rows.append(row)

    def remove_row(self, row: QWidget) -> None:
        self.rows.remove(row)
        row.deleteLater()

    def clear_rows(self) -> None:
        for row in list(self.rows):
            self.remove_row(row)
