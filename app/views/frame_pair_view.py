"""Original left, anonymized right: the same frame, one zoom and one scroll position for both."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPixmap, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import (
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

OVERLAY_NAMES = ("people", "original_outline", "anonymized_outline", "xor")
ZOOM_STEP = 1.25
PLACEHOLDER_CHARS_PER_WIDTH = 40  # the placeholder's font height is the frame width over this


class ImagePane(QGraphicsView):
    """One frame with its overlays stacked above it; the wheel asks for a zoom step."""

    zoom_requested = Signal(float)
    fit_requested = Signal()

    def __init__(self, object_name: str) -> None:
        super().__init__()
        self.setObjectName(object_name)
        self.setScene(QGraphicsScene(self))
        self.setBackgroundBrush(QColor(24, 24, 28))
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.frame_item = QGraphicsPixmapItem()
        self.scene().addItem(self.frame_item)
        self.overlay_items = {name: QGraphicsPixmapItem() for name in OVERLAY_NAMES}
        for depth, item in enumerate(self.overlay_items.values(), start=1):
            item.setZValue(depth)
            self.scene().addItem(item)
        self.placeholder = QGraphicsSimpleTextItem()
        self.placeholder.setBrush(QColor(200, 200, 205))
        self.placeholder.setZValue(10)
        self.scene().addItem(self.placeholder)

    def show_frame(self, image: QImage | None, placeholder: str = "") -> None:
        self.frame_item.setPixmap(QPixmap.fromImage(image) if image is not None else QPixmap())
        if image is not None:
            self.scene().setSceneRect(QRectF(0, 0, image.width(), image.height()))
        self.show_placeholder(placeholder)

    def show_placeholder(self, text: str) -> None:
        """A line of text centred over the frame (empty: none)."""
        area = self.sceneRect()
        font = self.placeholder.font()
        font.setPixelSize(max(6, int(area.width() / PLACEHOLDER_CHARS_PER_WIDTH)))  # in frame pixels: fits any size
        self.placeholder.setFont(font)
        self.placeholder.setText(text)
        self.placeholder.setVisible(bool(text))
        bounds = self.placeholder.boundingRect()
        self.placeholder.setPos((area.width() - bounds.width()) / 2, (area.height() - bounds.height()) / 2)

    def show_overlay(self, name: str, image: QImage | None) -> None:
        self.overlay_items[name].setPixmap(QPixmap.fromImage(image) if image is not None else QPixmap())

    def wheelEvent(self, event: QWheelEvent) -> None:
        self.zoom_requested.emit(ZOOM_STEP if event.angleDelta().y() > 0 else 1 / ZOOM_STEP)
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.fit_requested.emit()


class FramePairView(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("framePair")
        self.original = ImagePane("originalPane")
        self.anonymized = ImagePane("anonymizedPane")
        self.original_title = QLabel("Original")
        self.anonymized_title = QLabel("Anonymized (review copy)")
        for title in (self.original_title, self.anonymized_title):
            title.setObjectName("paneTitle")
            title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for title, pane in ((self.original_title, self.original), (self.anonymized_title, self.anonymized)):
            column = QVBoxLayout()
            column.addWidget(title)
            column.addWidget(pane, 1)
            layout.addLayout(column, 1)
        self._link(self.original, self.anonymized)
        self._fitted = True

    def panes(self) -> tuple[ImagePane, ImagePane]:
        return self.original, self.anonymized

    def _link(self, first: ImagePane, second: ImagePane) -> None:
        """One zoom for both panes, and scrolling either scrolls the other."""
        for pane in (first, second):
            pane.zoom_requested.connect(self.zoom_by)
            pane.fit_requested.connect(self.fit)
        for a, b in ((first, second), (second, first)):
            a.horizontalScrollBar().valueChanged.connect(b.horizontalScrollBar().setValue)
            a.verticalScrollBar().valueChanged.connect(b.verticalScrollBar().setValue)

    def zoom_by(self, factor: float) -> None:
        self._fitted = False
        for pane in self.panes():
            pane.scale(factor, factor)

    def zoom_factor(self) -> float:
        return self.original.transform().m11()

    def fit(self) -> None:
        self._fitted = True
        for pane in self.panes():
            pane.fitInView(pane.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def refit_if_fitted(self) -> None:
        if self._fitted:
            self.fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.refit_if_fitted()
