"""numpy images and masks -> QImage for display (presentation only, no analysis)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage, QPainter

ORIGINAL_OUTLINE_COLOUR = QColor(0, 200, 255)      # cyan
ANONYMIZED_OUTLINE_COLOUR = QColor(255, 60, 200)   # magenta
XOR_COLOUR = QColor(255, 210, 0, 150)              # translucent yellow, as the paper's Figure 18


def rgb_to_qimage(image: np.ndarray) -> QImage:
    """HxWx3 uint8 RGB -> an independent QImage (the array may be freed afterwards)."""
    rgb = np.ascontiguousarray(image, dtype=np.uint8)
    height, width, _ = rgb.shape
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def _edge(mask: np.ndarray) -> np.ndarray:
    """Pixels of the mask with a 4-neighbour outside it: a 1-px outline to draw."""
    padded = np.pad(mask, 1, constant_values=False)
    inner = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return mask & ~inner


def _thicken(mask: np.ndarray) -> np.ndarray:
    """Grow the outline by a pixel so it stays visible when the view is scaled down."""
    padded = np.pad(mask, 1, constant_values=False)
    return (padded[1:-1, 1:-1] | padded[:-2, 1:-1] | padded[2:, 1:-1]
            | padded[1:-1, :-2] | padded[1:-1, 2:])


def mask_overlay(mask: np.ndarray, colour: QColor, outline: bool) -> QImage:
    """A transparent ARGB image painting the mask (or only its outline) in `colour`."""
    shown = _thicken(_edge(mask)) if outline else mask
    height, width = shown.shape
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    rgba[shown] = (colour.red(), colour.green(), colour.blue(), colour.alpha())
    return QImage(rgba.data, width, height, 4 * width, QImage.Format.Format_RGBA8888).copy()


GOLDEN_RATIO_CONJUGATE = 0.618033988749895  # hue steps that keep neighbouring numbers far apart on the wheel


def track_colour(number: int) -> QColor:
    """The colour of person `number`: the same in their panel row and around them in the preview."""
    return QColor.fromHsvF((number * GOLDEN_RATIO_CONJUGATE) % 1.0, 0.85, 1.0)


@dataclass(frozen=True)
class Outline:
    """One person's mask on a frame, kept as its bounding box (top, left) and the mask inside it."""

    number: int
    top: int
    left: int
    mask: np.ndarray


def numbered_outlines(size: tuple[int, int], outlines: list[Outline]) -> QImage:
    """A transparent ARGB image (width, height) with each person's outline in their colour and their number."""
    width, height = size
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    for outline in outlines:
        rows, cols = outline.mask.shape
        colour = track_colour(outline.number)
        region = rgba[outline.top : outline.top + rows, outline.left : outline.left + cols]
        region[_thicken(_edge(outline.mask))] = (colour.red(), colour.green(), colour.blue(), 255)
    image = QImage(rgba.data, width, height, 4 * width, QImage.Format.Format_RGBA8888).copy()
    _write_numbers(image, outlines)
    return image


def _write_numbers(image: QImage, outlines: list[Outline]) -> None:
    """Each person's number just above their box, in their colour on a dark backing (readable on any scene)."""
    painter = QPainter(image)
    font = painter.font()
    font.setPixelSize(max(8, image.height() // 24))
    font.setBold(True)
    painter.setFont(font)
    for outline in outlines:
        text = str(outline.number)
        box = painter.fontMetrics().boundingRect(text).adjusted(-2, -1, 2, 1)
        box.moveBottomLeft(QPoint(outline.left, max(outline.top - 1, box.height())))
        painter.fillRect(box, QColor(0, 0, 0, 160))
        painter.setPen(track_colour(outline.number))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
