"""A body seen only in part is drawn where it is seen (gaitanon_core.shape.tracking.anchored): the smoothed
place of such a body is a line through the nearest whole-body frames, which a moving camera leaves behind."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from gaitanon_core.shape import codec
from gaitanon_core.shape.tracking import MaskCrop, anchored

FRAME = (240, 320)


def _walker(shape: tuple[int, int], left: int, top: int) -> np.ndarray:
    """A stick walker 120 px tall: head, torso, two legs apart."""
    mask = np.zeros(shape, np.uint8)
    cv2.circle(mask, (left + 20, top + 12), 11, 1, -1)
    cv2.rectangle(mask, (left + 8, top + 22), (left + 32, top + 70), 1, -1)
    cv2.line(mask, (left + 14, top + 70), (left + 2, top + 119), 1, 9)
    cv2.line(mask, (left + 26, top + 70), (left + 38, top + 119), 1, 9)
    return mask.astype(bool)


@pytest.fixture(scope="module")
def body() -> tuple[np.ndarray, codec.CanonicalTransform]:
    """The walker's canonical contour and its true transform where it stands whole, at (140, 60)."""
    contour, transform = codec.mask_to_contour(_walker(FRAME, 140, 60), codec.N_POINTS)
    return contour, transform


def _moved(transform: codec.CanonicalTransform, dx: float, dy: float) -> codec.CanonicalTransform:
    return codec.CanonicalTransform(transform.scale, transform.x0 + dx, transform.y0 + dy)


@pytest.mark.parametrize("edge", ["bottom", "left"])
def test_a_body_cut_by_the_edge_is_put_back_where_it_is_seen(body, edge: str) -> None:
    contour, truth = body
    if edge == "bottom":  # the frame ends at the knees; the smoothed place lags 40 px behind
        frame_shape, visible = (160, 320), _walker(FRAME, 140, 60)[:160]
        guess = _moved(truth, -40.0, 6.0)
        where = truth
    else:  # leaving by the left edge, half of them out; the line went on 35 px too far
        visible = _walker(FRAME, -18, 60)
        frame_shape, where = FRAME, _moved(truth, -158.0, 0.0)
        guess = _moved(where, -35.0, -4.0)
    assert visible.shape == frame_shape
    placed = anchored(MaskCrop.of(visible), guess, contour)
    assert abs(placed.x0 - where.x0) <= 2.0 and abs(placed.y0 - where.y0) <= 2.0, (placed, where)
    assert placed.scale == guess.scale  # the size stays the smoothed one: a cut body never measures its own


def test_too_little_in_view_leaves_the_smoothed_place(body) -> None:
    contour, truth = body
    sliver = _walker(FRAME, -36, 60)  # only a foot and a hand in view
    guess = _moved(truth, -170.0, 0.0)
    assert anchored(MaskCrop.of(sliver), guess, contour) == guess
