"""The contour codec (DESIGN.md "Canonical frame" and "Contour")."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from gaitanon_core import contours as C
from gaitanon_core.errors import InputError
from tests.conftest import needs_shared_data


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def ellipse_frame() -> np.ndarray:
    frame = np.zeros((64, 64), np.uint8)
    cv2.ellipse(frame, (32, 32), (12, 31), 0, 0, 360, 1, -1)
    return frame.astype(bool)


def test_encode_gives_n_points_ccw_from_the_top():
    points = C.encode_casiab(ellipse_frame()[None])[0]
    assert points.shape == (C.N_POINTS, 2) and points.dtype == np.float32
    assert C.signed_area(points.astype(np.float64)) < 0  # counter-clockwise on screen
    assert points[0, 1] == pytest.approx(points[:, 1].min())
    assert points[0, 0] == pytest.approx(0.0)
    assert points[1:8, 0].mean() < 0  # from the head top it runs down the left side


def test_ellipse_round_trip():
    frame = ellipse_frame()
    assert iou(C.decode_casiab(C.encode_casiab(frame[None]))[0], frame) > 0.97


def test_self_intersects():
    square = np.array([[0, 0], [0, 1], [1, 1], [1, 0]], float)
    bow_tie = np.array([[0, 0], [1, 1], [1, 0], [0, 1]], float)
    assert not C.self_intersects(square)
    assert C.self_intersects(bow_tie)


def test_empty_mask_is_a_clear_error():
    with pytest.raises(InputError, match="empty"):
        C.encode_casiab(np.zeros((2, 64, 64), bool))


@needs_shared_data
def test_casiab_round_trip(shared_data):
    from gaitanon_core.casiab import load_walk

    frames = load_walk("085", "nm-05", "090", shared_data)
    decoded = C.decode_casiab(C.encode_casiab(frames))
    assert decoded.shape == frames.shape
    assert np.mean([iou(d, f) for d, f in zip(decoded, frames)]) >= 0.95
