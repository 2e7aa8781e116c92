"""numpy images and masks -> QImage for display (presentation only, no analysis)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor, QImage

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
