"""Hiding the head: the region from the top of the outline, the modes, a sharp face never carried onto the
new head by the warp, and an independent face detector on a walker with a face it finds."""

from __future__ import annotations

import numpy as np
import pytest

from gaitanon_core.errors import UsageError
from gaitanon_core.render.colouring import colour_frame
from gaitanon_core.render.faces import DEFAULT_FACES, HEAD_SHARE, check_mode, head_rows, hide_head
from gaitanon_core.render.warp import OutlinePair
from test_render_warp import H, W, ellipse, fill
from training.face_walker import face_picture, face_walk
from training.render_eval import face_boxes, face_detectors, face_walk_check


def checkerboard(height: int, width: int, cell: int = 2) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width]
    board = (((ys // cell) + (xs // cell)) % 2).astype(np.float32) * 200.0 + 20.0
    return np.repeat(board[..., None], 3, axis=2)


def detail(image: np.ndarray) -> float:
    """Mean absolute difference between horizontal neighbours: what a sharp face has and a hidden one lacks."""
    return float(np.abs(np.diff(image.astype(np.float32), axis=1)).mean())


def test_the_head_is_the_top_of_the_outline() -> None:
    top, bottom = head_rows(np.array([20.0, 120.0, 70.0]))
    assert top == 20 and bottom == pytest.approx(20 + HEAD_SHARE * 100 + 1, abs=1)


@pytest.mark.parametrize("mode", ["blur", "pixelate", "fill"])
def test_each_mode_removes_the_detail_of_the_head_only(mode: str) -> None:
    texture = checkerboard(100, 60)
    hide_head(texture, (10, 40), mode)
    assert detail(texture[10:30]) < 0.1 * detail(checkerboard(20, 60)), "the head keeps no fine detail"
    assert np.array_equal(texture[:10], checkerboard(10, 60)), "above the head: untouched"
    assert np.array_equal(texture[40:], checkerboard(100, 60)[40:]), "below the head: untouched"


def test_keep_leaves_the_head_as_it_is() -> None:
    texture = checkerboard(50, 40)
    hide_head(texture, (0, 30), "keep")
    assert np.array_equal(texture, checkerboard(50, 40))


def test_an_unknown_mode_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        check_mode("smudge")


@pytest.mark.parametrize("mode", ["blur", "pixelate", "fill"])
def test_the_warp_never_carries_a_sharp_face_onto_the_new_head(mode: str) -> None:
    source, target = ellipse(90, 80, 25, 60), ellipse(110, 76, 30, 62)
    person, new = fill(source), fill(target)
    original = np.zeros((H, W, 3), np.uint8)
    original[person] = checkerboard(H, W)[person]  # a body (and face) with the finest detail there is
    background = np.zeros_like(original)
    out = colour_frame(original, background, person, new, outline=OutlinePair(source, target), faces=mode)
    head = slice(int(target[:, 1].min()) + 2, int(target[:, 1].min() + 0.12 * 124))
    columns = new[head].any(axis=0)
    kept = colour_frame(original, background, person, new, outline=OutlinePair(source, target), faces="keep")
    assert detail(out[head][:, columns]) < 0.25 * detail(kept[head][:, columns])


def test_the_drawn_face_is_one_the_independent_detectors_find() -> None:
    colour, cover = face_picture(32)
    canvas = np.full((200, 200, 3), 225.0, np.float32)  # a light wall, as in the face walker's room
    canvas[50:82, 80:112] = cover[..., None] * colour + (1.0 - cover[..., None]) * canvas[50:82, 80:112]
    assert face_boxes(canvas.astype(np.uint8), face_detectors())


@pytest.mark.slow
def test_an_independent_face_detector_finds_no_face_on_the_default_output() -> None:
    """Issue 14: on a clip where OpenCV's packaged cascades find a face on the walker in >= 50 input frames,
    they find one in <= 5 % of the output frames (default: blur)."""
    counts = face_walk_check(face_walk(), DEFAULT_FACES)
    assert counts["input_frames_with_faces"] >= 50
    assert counts["still_found"] <= 0.05 * counts["input_frames_with_faces"]
