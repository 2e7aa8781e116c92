"""Handheld versions of the CASIA clips (training.handheld_clips): the camera path is what the estimator finds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gaitanon_core.video.camera_motion import corner_error, estimate_camera_motion
from gaitanon_core.video.stream import read_frames
from tests.conftest import HAVE_SHARED_DATA, SHARED_DATA, needs_shared_data
from training.handheld_clips import (
    MAX_ROTATION_DEG, MAX_ZOOM, load_truth, make_handheld, read_static_clip, warp_to_handheld, warp_to_static,
    write_handheld,
)

FRAMES = 30
STEP_MEAN_PX, STEP_MAX_PX = 0.6, 1.5  # measured 0.35 / 0.85 before encoding (scripts/measure_camera_motion.py)


@pytest.fixture(scope="module")
def static_clip() -> tuple[np.ndarray, float]:
    """The first frames of a CASIA-B walk, read once for the module."""
    if not HAVE_SHARED_DATA:
        pytest.skip(f"research data not found at {SHARED_DATA}")
    return read_static_clip(SHARED_DATA / "clips" / "002-nm-01-090.avi", FRAMES)


def _frame_corners_in_source(transform: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    width, height = size
    corners = np.array([[0, 0, 1], [width - 1, 0, 1], [width - 1, height - 1, 1], [0, height - 1, 1]], float).T
    back = np.linalg.inv(transform) @ corners
    return (back[:2] / back[2]).T


@needs_shared_data
def test_the_path_stays_in_the_picture_and_within_the_stated_turn_and_zoom(static_clip) -> None:
    clip = make_handheld(*static_clip, seed=3)
    size = (clip.frames.shape[2], clip.frames.shape[1])
    scale = np.sqrt(np.abs(np.linalg.det(clip.transforms[:, :2, :2]))) / 2.0  # MAGNIFICATION x zoom
    angle = np.degrees(np.arctan2(clip.transforms[:, 1, 0], clip.transforms[:, 0, 0]))
    assert (scale >= 1 - 1e-6).all() and (scale <= MAX_ZOOM + 1e-6).all()
    assert np.abs(angle).max() <= MAX_ROTATION_DEG
    for transform in clip.transforms:
        corners = _frame_corners_in_source(transform, size)
        assert (corners >= 0).all() and (corners <= np.array(clip.source_size) - 1).all()
    shake = np.linalg.norm(np.diff(clip.transforms[:, :2, 2], axis=0), axis=1)
    assert shake.max() > 2  # it does shake (1-3 px a frame on top of the pan)


@needs_shared_data
def test_the_estimated_motion_of_a_written_clip_matches_its_known_path(static_clip, tmp_path: Path) -> None:
    clip = make_handheld(*static_clip, seed=1)
    truth_file = write_handheld(clip, tmp_path / "handheld.mp4")
    transforms, source_size = load_truth(truth_file)
    np.testing.assert_allclose(transforms, clip.transforms)
    frames = [frame.image for frame in read_frames(tmp_path / "handheld.mp4")]
    assert len(frames) == FRAMES and source_size == clip.source_size
    motion = estimate_camera_motion(frames)
    assert not motion.flagged.any()
    shape = frames[0].shape[:2]
    errors = [corner_error(motion.between(t - 1, t), transforms[t] @ np.linalg.inv(transforms[t - 1]), shape)
              for t in range(1, FRAMES)]
    assert np.mean(errors) < STEP_MEAN_PX and np.max(errors) < STEP_MAX_PX, (np.mean(errors), np.max(errors))


@needs_shared_data
def test_a_mask_warped_there_and_back_lands_on_the_static_clip(static_clip) -> None:
    clip = make_handheld(*static_clip, seed=2)
    width, height = clip.source_size
    static = np.zeros((height, width), bool)
    static[60:200, 150:190] = True  # a person-sized box
    size = (clip.frames.shape[2], clip.frames.shape[1])
    for transform in clip.transforms[::7]:
        handheld = warp_to_handheld(static, transform, size)
        back = warp_to_static(handheld, transform, clip.source_size)
        in_view = static & warp_to_static(np.ones(size[::-1], bool), transform, clip.source_size)
        assert np.count_nonzero(back & in_view) / np.count_nonzero(back | in_view) > 0.95
