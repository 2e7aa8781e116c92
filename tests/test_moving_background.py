"""The background of a moving camera from neighbouring frames (gaitanon_core.people.moving_background)."""

from __future__ import annotations

import cv2
import numpy as np

from gaitanon_core.people.moving_background import (
    CHAINED_REACH, DIRECT_REACH, CompensatedBackground, compensated_background, fill_behind, foreground,
    neighbour_transform,
)
from gaitanon_core.people import moving_background
from gaitanon_core.video.camera_motion import corner_error, estimate_camera_motion
from moving_scenes import similarity, texture, view

SHAPE = (240, 320)
FRAMES = 17
MIDDLE = FRAMES // 2
WALKER = (250, 20, 200)


def _camera(t: int) -> np.ndarray:
    """Scene -> frame t: a pan of 6 px a frame with a little bob and turn."""
    turn = similarity(0, 0, 0.2 * t, centre=(SHAPE[1] / 2, SHAPE[0] / 2))
    return turn @ similarity(-(40 + 6 * t), -40 - 2 * np.sin(t / 3))


def _ellipse(centre: np.ndarray, axes: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(SHAPE, np.uint8)
    cv2.ellipse(mask, (int(centre[0]), int(centre[1])), axes, 0, 0, 360, 1, -1)
    return mask > 0


STANDER = np.array([300.0, 150.0, 1.0])  # scene point where someone stands still: no frame sees behind them


def _stander(t: int) -> np.ndarray:
    return _ellipse((_camera(t) @ STANDER)[:2], (15, 40))


def _panning_clip(stander: bool) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """(frames, people masks, true backgrounds): a walker crossing the scene at 10 px a frame and,
    with `stander`, someone standing still."""
    scene = texture((400, 560), 4)
    frames, people, truths = [], [], []
    for t in range(FRAMES):
        truth = view(scene, _camera(t), SHAPE)
        walker = _ellipse((_camera(t) @ [150 + 10 * t, 180, 1])[:2], (25, 55))
        mask = walker | _stander(t) if stander else walker
        frame = truth.copy()
        frame[mask] = WALKER
        frames.append(frame)
        people.append(mask)
        truths.append(truth)
    return frames, people, truths


def test_people_differ_from_a_background_built_without_knowing_them() -> None:
    frames, people, _ = _panning_clip(stander=False)
    motion = estimate_camera_motion(frames, people)
    background = compensated_background(frames, [None] * FRAMES, motion, MIDDLE)
    found, truth = foreground(frames[MIDDLE], background), people[MIDDLE]
    assert np.count_nonzero(found & truth) / np.count_nonzero(found | truth) > 0.9


def test_the_filled_background_matches_the_truth_and_unseen_regions_are_reported() -> None:
    frames, people, truths = _panning_clip(stander=True)
    motion = estimate_camera_motion(frames, people)
    assert not motion.flagged.any()
    background = compensated_background(frames, people, motion, MIDDLE)
    filled = fill_behind(frames[MIDDLE], people[MIDDLE], background)
    stander = _stander(MIDDLE)
    # Only the one standing still is unseen (with the margin kept around people in the neighbours).
    assert filled.uncovered[stander].all()
    assert not filled.uncovered[people[MIDDLE] & ~stander].any()
    assert np.count_nonzero(filled.uncovered) < 1.3 * np.count_nonzero(stander)
    behind = people[MIDDLE] & ~filled.uncovered
    error = np.abs(filled.image[behind].astype(int) - truths[MIDDLE][behind]).mean(axis=1)
    assert error.mean() < 4 and np.percentile(error, 95) < 12, (error.mean(), np.percentile(error, 95))
    assert not (filled.image[people[MIDDLE]] == WALKER).all(axis=1).any()  # no pixel of the original stays


def test_slivers_up_to_three_pixels_are_inpainted_and_wider_gaps_reported() -> None:
    image = texture(SHAPE, 7)
    seen = np.ones(SHAPE, bool)
    for left, width in ((40, 1), (80, 3), (140, 4), (200, 12)):
        seen[50:200, left:left + width] = False
    background = CompensatedBackground(np.where(seen[..., None], image, 0).astype(np.uint8), seen)
    original = np.full((*SHAPE, 3), WALKER, np.uint8)
    filled = fill_behind(original, np.ones(SHAPE, bool), background)
    expected = np.zeros(SHAPE, bool)
    expected[50:200, 140:144] = expected[50:200, 200:212] = True
    np.testing.assert_array_equal(filled.uncovered, expected)
    assert not (filled.image == WALKER).all(axis=2).any()
    sliver = ~seen & ~expected
    assert np.abs(filled.image[sliver].astype(int) - image[sliver]).mean() < 40


def test_far_neighbours_are_composed_of_hops_each_measured_once() -> None:
    """Pairs further apart than DIRECT_REACH are composed of measured hops (one registration a frame, not
    five): still placed within a pixel of the truth, and only hops are measured."""
    frames, people, _ = _panning_clip(stander=False)
    motion = estimate_camera_motion(frames, people)
    known: dict = {}
    for offset in (2, DIRECT_REACH, 8, 12, 16):  # from frame 0 (the clip has FRAMES = 17)
        matrix = neighbour_transform(frames, people, motion, 0, offset, known)
        truth = _camera(offset) @ np.linalg.inv(_camera(0))
        assert corner_error(matrix, truth, SHAPE) < 1.0, offset
    assert known and all(CHAINED_REACH < abs(a - b) <= DIRECT_REACH for a, b in known)


def test_an_affine_transform_is_told_as_np_allclose_tells_it() -> None:
    """`warp_into` takes the affine path on the camera's similarities (their last row (0, 0, 1) up to rounding)."""
    rng = np.random.default_rng(0)
    rows = [(0.0, 0.0, 1.0), (1e-9, -1e-9, 1 + 5e-6), (2e-8, 0.0, 1.0), (0.0, 0.0, 1.00002), (np.nan, 0.0, 1.0)]
    rows += [tuple(row) for row in rng.normal((0.0, 0.0, 1.0), 1e-7, (200, 3))]
    for row in rows:
        matrix = np.vstack([np.eye(3)[:2], row])
        assert moving_background._affine(matrix) == np.allclose(matrix[2], (0.0, 0.0, 1.0)), row
