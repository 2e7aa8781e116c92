"""Camera motion from frames (gaitanon_core.video.camera_motion) on synthetic scenes with a known path."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from gaitanon_core.video.camera_motion import (
    MIN_CONFIDENCE, STATIC_SHIFT, CameraMotion, CameraPath, Step, corner_error, estimate_camera_motion, estimate_step, is_static, register,
    still_samples, working_offset,
)
from moving_scenes import similarity, texture, view

SHAPE = (240, 320)
MARGIN = 60  # the scene is larger than a frame, so moved frames have no made-up borders
TOLERANCE_PX = 0.3


def _scene(seed: int = 1) -> np.ndarray:
    return texture((SHAPE[0] + 2 * MARGIN, SHAPE[1] + 2 * MARGIN), seed)


def _frame(scene: np.ndarray, to_frame: np.ndarray) -> np.ndarray:
    """The frame whose pixel `to_frame` @ p shows what frame 0 (the scene's centre) shows at p."""
    return view(scene, to_frame @ similarity(-MARGIN, -MARGIN), SHAPE)


@pytest.mark.parametrize("dx, dy, degrees, zoom", [
    (3.0, -2.0, 0.0, 1.0),
    (-7.5, 4.25, 0.0, 1.0),
    (1.0, 1.0, 2.0, 1.0),
    (0.0, 0.0, -5.0, 1.0),
    (2.0, 0.0, 0.0, 1.05),
    (-4.0, 3.0, 3.0, 0.95),
])
def test_a_known_shift_turn_and_zoom_is_recovered(dx, dy, degrees, zoom) -> None:
    scene = _scene()
    truth = similarity(dx, dy, degrees, zoom, centre=(SHAPE[1] / 2, SHAPE[0] / 2))
    step = estimate_step(_frame(scene, np.eye(3)), _frame(scene, truth))
    assert corner_error(step.homography, truth, SHAPE) < TOLERANCE_PX
    assert step.confidence > 0.8


def test_a_far_neighbour_is_registered_directly_from_a_rough_guess() -> None:
    """What a chain of steps gives for frames eight apart is a few pixels off; measuring from it puts it right."""
    scene = _scene()
    truth = similarity(40.0, -12.0, 4.0, 1.08, centre=(SHAPE[1] / 2, SHAPE[0] / 2))
    guess = similarity(3.0, 2.0) @ truth
    step = register(_frame(scene, np.eye(3)), _frame(scene, truth), guess)
    assert step.reliable
    assert corner_error(step.homography, truth, SHAPE) < TOLERANCE_PX


def test_stillness_is_judged_in_the_registration_s_pixels() -> None:
    """A still clip scaled up 4x measures 4x its sub-pixel jitter in full-size pixels (1.52 px at 720p, which sent
    a still CASIA-B clip down the moving route): the offset is counted at working size (at most 640 px)."""
    scene = cv2.resize(_scene(), None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
    shape = (4 * SHAPE[0], 4 * SHAPE[1])
    jitter = similarity(1.6, 0.0)  # 0.4 px of the original clip
    frames = [view(scene, matrix @ similarity(-4 * MARGIN, -4 * MARGIN), shape) for matrix in (np.eye(3), jitter)]
    offset = working_offset(register(frames[1], frames[0], np.eye(3)).homography, shape)
    assert offset == pytest.approx(0.8, abs=0.15) and offset <= STATIC_SHIFT
    assert working_offset(jitter, SHAPE) == pytest.approx(1.6)  # at working size already: moving
    assert working_offset(jitter, SHAPE) > STATIC_SHIFT


def test_a_static_clip_reads_static_and_a_slow_pan_does_not() -> None:
    rng = np.random.default_rng(0)
    scene = _scene()
    still = [np.clip(_frame(scene, np.eye(3)) + rng.normal(0, 2, (*SHAPE, 3)), 0, 255).astype(np.uint8)
             for _ in range(8)]
    motion = estimate_camera_motion(still)
    assert is_static(motion, SHAPE)
    assert not motion.flagged.any()
    # 0.3 px a frame: every step is within the static tolerance, the drift is not.
    panning = [_frame(scene, similarity(0.3 * t, 0)) for t in range(8)]
    assert not is_static(estimate_camera_motion(panning), SHAPE)


def test_samples_across_a_clip_tell_a_still_camera_from_a_moving_one() -> None:
    """`still_samples` (the background pass's samples: a moving camera's get no ghost search)."""
    rng = np.random.default_rng(1)
    scene = _scene()
    samples = [np.clip(_frame(scene, np.eye(3)) + rng.normal(0, 2, (*SHAPE, 3)), 0, 255).astype(np.uint8)
               for _ in range(30)]
    assert still_samples(samples)
    assert not still_samples([_frame(scene, similarity(2.0 * t, 0.5 * t)) for t in range(30)])


def test_people_masked_out_do_not_bias_the_estimate() -> None:
    """A textured 'person' covering most of the frame moves one way, the camera another."""
    scene, person = _scene(1), texture((170, 220), 2)
    camera = [similarity(2.0 * t, -1.0 * t) for t in range(3)]
    frames, masks = [], []
    for t, to_frame in enumerate(camera):
        frame = _frame(scene, to_frame)
        top, left = 30, 40 + 12 * t
        frame[top:top + 170, left:left + 220] = person
        mask = np.zeros(SHAPE, bool)
        mask[top:top + 170, left:left + 220] = True
        frames.append(frame)
        masks.append(mask)
    truth = camera[1] @ np.linalg.inv(camera[0])
    masked = estimate_camera_motion(frames, masks)
    assert corner_error(masked.between(0, 1), truth, SHAPE) < TOLERANCE_PX
    assert corner_error(masked.between(0, 2), camera[2], SHAPE) < 2 * TOLERANCE_PX
    # The setting is a real trap: left to itself the estimate follows the person.
    assert corner_error(estimate_step(frames[0], frames[1]).homography, truth, SHAPE) > 5


def test_a_garbage_frame_is_flagged_and_its_neighbours_are_not() -> None:
    scene = _scene()
    camera = [similarity(2.0 * t, 1.0 * t, 0.2 * t) for t in range(7)]
    frames = [_frame(scene, to_frame) for to_frame in camera]
    frames[3] = np.random.default_rng(5).integers(0, 256, (*SHAPE, 3), dtype=np.uint8)
    motion = estimate_camera_motion(frames)
    assert motion.flagged.tolist() == [False, False, False, True, False, False, False]
    assert motion.step_reliable.tolist() == [True, True, True, False, False, True, True]
    assert list(motion.linked(2, 8)) == [0, 1, 2] and list(motion.linked(4, 1)) == [4, 5]
    # Frames on either side are still placed right relative to their own neighbours.
    assert corner_error(motion.between(4, 6), camera[6] @ np.linalg.inv(camera[4]), SHAPE) < 2 * TOLERANCE_PX
    assert not is_static(motion, SHAPE)


@pytest.mark.parametrize("dx, blur", [(120.0, 0), (60.0, 31)])
def test_motion_too_fast_or_too_blurred_to_track_is_not_trusted(dx, blur) -> None:
    """A third of the frame's width in one step, or a fifth smeared by a 31-px motion blur: refused, not guessed."""
    scene = texture((SHAPE[0] + 300, SHAPE[1] + 300), 1)
    first = view(scene, similarity(-150, -150), SHAPE)
    moved = view(scene, similarity(dx - 150, 0.3 * dx - 150), SHAPE)
    if blur:
        moved = cv2.blur(moved, (blur, 1))
    assert not estimate_step(first, moved).reliable


def test_parallax_is_flagged() -> None:
    """A near layer (the lower half) slides four times as fast as the far one: no one global motion fits."""
    far, near = _scene(1), _scene(3)
    frames = []
    for t in range(4):
        frame = _frame(far, similarity(2.0 * t, 0))
        frame[SHAPE[0] // 2:] = _frame(near, similarity(8.0 * t, 0))[SHAPE[0] // 2:]
        frames.append(frame)
    motion = estimate_camera_motion(frames)
    assert motion.flagged.all()
    assert (motion.confidence < 0.5).all()


def test_between_and_chaining_agree() -> None:
    steps = [similarity(1, 0), similarity(0, 2, 1.0), similarity(-3, 1, 0, 1.02)]
    to_first = [np.eye(3)]
    for step in steps:
        to_first.append(to_first[-1] @ np.linalg.inv(step))
    motion = CameraMotion(np.array(to_first), np.ones(4))
    np.testing.assert_allclose(motion.between(1, 3), steps[2] @ steps[1], atol=1e-9)
    np.testing.assert_allclose(motion.between(3, 1) @ motion.between(1, 3), np.eye(3), atol=1e-9)


def test_a_path_built_step_by_step_is_the_motion_and_knows_where_its_steps_held() -> None:
    """`CameraPath` (the light pass's path as it is measured): the same motion as `CameraMotion`, and
    `reliable_since` as `step_reliable` reads it."""
    confidences = [0.9, MIN_CONFIDENCE, 0.2, 0.8, 0.7, 0.1, 0.95]
    path = CameraPath()
    for k, confidence in enumerate(confidences):
        path.add(Step(similarity(k, -1.0, 0.5), confidence))
        motion = path.motion()
        assert path.last == k + 1 and len(motion.to_first) == k + 2
        for frame in range(path.last + 1):
            assert path.reliable_since(frame) == bool(motion.step_reliable[frame + 1:].all()), (k, frame)
    np.testing.assert_allclose(path.between(4, 1), motion.between(4, 1), atol=1e-12)


def test_a_jolt_after_a_smooth_pan_is_still_measured() -> None:
    """Steps are tracked from the last one (a hand moves smoothly); a jolt that guess cannot reach is searched
    for afresh, not missed."""
    scene = texture((SHAPE[0] + 300, SHAPE[1] + 300), 1)
    shifts = [2.0 * t for t in range(5)] + [8.0 + 45.0, 8.0 + 47.0, 8.0 + 49.0]
    camera = [similarity(dx - 150, 0.5 * dx - 150) for dx in shifts]
    motion = estimate_camera_motion([view(scene, matrix, SHAPE) for matrix in camera])
    assert not motion.flagged.any()
    for t in range(1, len(camera)):
        truth = camera[t] @ np.linalg.inv(camera[t - 1])
        assert corner_error(motion.between(t - 1, t), truth, SHAPE) < TOLERANCE_PX, t


def _sparse_dots(count: int, seed: int = 0) -> np.ndarray:
    """A plain grey room with `count` white dots on a grid: that many corners to track, no more."""
    rng = np.random.default_rng(seed)
    image = np.full((*SHAPE, 3), 128, np.uint8)
    rows, cols = np.meshgrid(np.arange(12, SHAPE[0] - 12, 22), np.arange(12, SHAPE[1] - 12, 22), indexing="ij")
    places = np.c_[rows.ravel(), cols.ravel()]
    for y, x in places[rng.permutation(len(places))[:count]]:
        cv2.circle(image, (int(x), int(y)), 3, (250, 250, 250), -1)
    return image


def test_a_step_tracked_from_the_last_is_judged_as_strictly_as_a_searched_one() -> None:
    """Whether steps are reliable decides whether a clip's camera moves: a still plain room where a person
    hides half its few corners is no more reliable for having a guess (judged by the guided registration's
    laxer count, a synthetic room with two walkers went down the moving route)."""
    room = _sparse_dots(80)
    person = np.zeros(SHAPE, bool)
    person[:, :170] = True
    frames, people = [room.copy() for _ in range(4)], [None, None, person, person]
    motion = estimate_camera_motion(frames, people)
    searched = estimate_step(frames[1], frames[2], None, person)
    assert motion.step_reliable[:2].all()  # the guess comes from a reliable step
    assert not searched.reliable
    assert motion.step_reliable[2:].tolist() == [False, False]
    assert motion.step_confidence[2] == pytest.approx(searched.confidence)
