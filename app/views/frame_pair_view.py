"""Original left, anonymized right: the same frame, one zoom and one scroll position for both."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
    QPixmap,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsPixmapItem,
    QGraphicsRectItem,
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
COVER_BOX_FILL = QColor(128, 128, 128, 170)  # the export's flat grey, translucent: what it hides stays visible here
COVER_BOX_EDGE = QColor(255, 255, 255)
BOX_DEPTH = 20  # above the overlays and the placeholder


def _box_item(rect: QRectF, fill: QColor) -> QGraphicsRectItem:
    item = QGraphicsRectItem(rect)
    item.setBrush(QBrush(fill))
    pen = QPen(COVER_BOX_EDGE, 0, Qt.PenStyle.DashLine)  # cosmetic: one screen pixel at any zoom
    item.setPen(pen)
    item.setZValue(BOX_DEPTH)
    return item


class ImagePane(QGraphicsView):
    """One frame with its overlays stacked above it; the wheel asks for a zoom step.

    In draw mode a drag draws a rectangle (scene units are the frame's pixels) instead of
    scrolling; its release sends `box_drawn`, Escape sends `drawing_cancelled`.
    """

    zoom_requested = Signal(float)
    fit_requested = Signal()
    box_drawn = Signal(QRectF)  # in scene units: the frame's pixels
    drawing_cancelled = Signal()

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
        self.box_items: list[QGraphicsRectItem] = []  # the cover boxes on the frame shown
        self.drawing = False
        self._anchor: QPointF | None = None  # where the drag being drawn started
        self._rubber_band = _box_item(QRectF(), QColor(255, 255, 255, 60))
        self._rubber_band.setVisible(False)
        self.scene().addItem(self._rubber_band)

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

    def show_boxes(self, rects: list[QRectF]) -> None:
        """The cover boxes on the frame shown, translucent grey over it."""
        for item in self.box_items:
            self.scene().removeItem(item)
        self.box_items = [_box_item(rect, COVER_BOX_FILL) for rect in rects]
        for item in self.box_items:
            self.scene().addItem(item)

    def start_drawing(self) -> None:
        self.drawing = True
        self.setDragMode(QGraphicsView.DragMode.NoDrag)
        self.viewport().setCursor(Qt.CursorShape.CrossCursor)
        self.setFocus()  # for Escape

    def stop_drawing(self) -> None:
        self.drawing = False
        self._anchor = None
        self._rubber_band.setVisible(False)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.viewport().unsetCursor()

    def _dragged_rect(self, event: QMouseEvent) -> QRectF:
        return QRectF(self._anchor, self.mapToScene(event.position().toPoint())).normalized()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if not self.drawing or event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        self._anchor = self.mapToScene(event.position().toPoint())
        self._rubber_band.setRect(QRectF(self._anchor, self._anchor))
        self._rubber_band.setVisible(True)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._anchor is None:
            super().mouseMoveEvent(event)
            return
        self._rubber_band.setRect(self._dragged_rect(event))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._anchor is None:
            super().mouseReleaseEvent(event)
            return
        rect = self._dragged_rect(event)
        self.stop_drawing()
        self.box_drawn.emit(rect)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.drawing and event.key() == Qt.Key.Key_Escape:
            self.stop_drawing()
            self.drawing_cancelled.emit()
            return
        super().keyPressEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        self.zoom_requested.emit(ZOOM_STEP if event.angleDelta().y() > 0 else 1 / ZOOM_STEP)
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if not self.drawing:
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
