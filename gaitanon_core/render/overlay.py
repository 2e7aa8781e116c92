"""The segmenter's result drawn on the frame: the person's outline, the shadow tinted, the flags written."""

from __future__ import annotations

import cv2
import numpy as np

from ..people.silhouettes import FrameMask

__all__ = ["draw_overlay", "flags_text"]

OUTLINE_COLOUR = (0, 255, 0)
SHADOW_TINT = np.array([70, 40, 255], np.float32)  # blue-violet: reads as "shadow", not as person


def flags_text(mask: FrameMask) -> str:
    """The per-frame flags in one line, as the overlay video shows them."""
    text = f"#{mask.index} {mask.segmenter} | body {mask.body} | people {mask.people}"
    return text + (" | CAMERA MOVED" if mask.camera_moved else "")


def draw_overlay(image: np.ndarray, mask: FrameMask) -> np.ndarray:
    """The frame with the person's outline, the shadow tinted and the flags written on it (RGB uint8)."""
    out = image.copy()
    if mask.shadow.any():
        out[mask.shadow] = (0.5 * out[mask.shadow] + 0.5 * SHADOW_TINT).astype(np.uint8)
    thickness = max(1, image.shape[0] // 240)
    outline, _ = cv2.findContours(mask.person.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(out, outline, -1, OUTLINE_COLOUR, thickness)
    text = flags_text(mask)
    (width_at_1, height_at_1), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 1.0, thickness)
    scale = min(image.shape[0] / 700, 0.95 * image.shape[1] / width_at_1)  # readable, and never off the edge
    origin = (4, int(height_at_1 * scale) + 6)
    cv2.putText(out, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness + 2, cv2.LINE_AA)
    cv2.putText(out, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return out
