"""What makes a moving camera's backgrounds cheaper keeps them the same (issue #17): the sorting-network median,
each frame prepared once for registration (`FrameCache`), the people masks made once, the guided registration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gaitanon_core.people import background
from gaitanon_core.people.moving_background import FrameCache, View, compensated_background
from gaitanon_core.video.camera_motion import corner_error, estimate_camera_motion, register
from moving_scenes import similarity, texture, view

SHAPE = (120, 160)


def _strip_reference(stack: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The median as it was computed for every stack: sorted a strip at a time."""
    count = valid.sum(axis=0)
    median = np.empty(stack.shape[1:], np.float32)
    for top in range(0, stack.shape[1], background.MEDIAN_ROWS):
        rows = slice(top, top + background.MEDIAN_ROWS)
        median[rows] = background._strip_median(stack[:, rows], valid[:, rows], count[rows])
    return median, count


@pytest.mark.parametrize("samples", [1, 2, 3, 5, 10, 11, 16, 17, 30, 32])
@pytest.mark.parametrize("channels", [None, 3])
def test_the_network_median_is_the_sorted_median(samples, channels) -> None:
    rng = np.random.default_rng(samples)
    shape = (samples, 45, 37) + ((channels,) if channels else ())
    stack = rng.integers(0, 256, shape, dtype=np.uint8)
    stack[stack > 230] = 255  # valid samples of 255 sort among the invalid ones
    valid = rng.random(shape[:3]) < rng.random(shape[1:3])  # some pixels with none valid, some with all
    median, count = background.median_of_valid(stack, valid)
    expected, expected_count = _strip_reference(stack, valid)
    assert median.dtype == expected.dtype == np.float32
    assert np.array_equal(median, expected) and np.array_equal(count, expected_count)


@pytest.mark.parametrize("n", range(1, 13))
def test_the_comparators_sort_everything(n) -> None:
    """By the 0-1 principle: a comparator network that sorts every 0/1 input sorts every input."""
    pairs = background._comparators(n)
    for bits in itertools.product((0, 1), repeat=n):
        items = list(bits)
        for i, j in pairs:
            items[i], items[j] = min(items[i], items[j]), max(items[i], items[j])
        assert items == sorted(bits)


def test_a_float_stack_still_takes_the_strip_median() -> None:
    rng = np.random.default_rng(3)
    stack = rng.normal(size=(12, 40, 30)).astype(np.float32)
    valid = rng.random((12, 40, 30)) < 0.7
    median, count = background.median_of_valid(stack, valid)
    expected, _ = _strip_reference(stack, valid)
    assert np.array_equal(median, expected)


def _panning_clip(frames: int = 19) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    scene = texture((260, 360), 5)
    images, people = [], []
    for t in range(frames):
        camera = similarity(0, 0, 0.3 * t, centre=(SHAPE[1] / 2, SHAPE[0] / 2)) @ similarity(-(30 + 5 * t), -30 - t)
        image = view(scene, camera, SHAPE)
        mask = np.zeros(SHAPE, bool)
        mask[40:100, 20 + 6 * t % 120 : 40 + 6 * t % 120] = True
        image[mask] = (250, 20, 200)
        images.append(image)
        people.append(mask if t % 4 else None)
    return images, people


def test_a_frame_cache_changes_no_background() -> None:
    frames, people = _panning_clip()
    motion = estimate_camera_motion(frames, people)
    cache, known, plain_known = FrameCache(), {}, {}
    for frame in range(len(frames)):
        for box in (None, View.crop((slice(10, 90), slice(30, 150))), View.scaled(SHAPE, (60, 80))):
            cached = compensated_background(frames, people, motion, frame, known=known, view=box, cache=cache)
            plain = compensated_background(frames, people, motion, frame, known=plain_known, view=box)
            assert np.array_equal(cached.image, plain.image) and np.array_equal(cached.seen, plain.seen)
        cache.keep(range(frame - 8, frame + 9))
        assert all(frame - 8 <= k <= frame + 8 for k in [*cache.prepared, *cache.lends])
    assert cache.prepared and cache.lends


def test_a_guided_registration_puts_a_chain_right() -> None:
    """From a guess a few pixels off (a chain of steps), the guided registration (two pyramid levels, fewer
    iterations) measures as closely as the full one."""
    scene = texture((SHAPE[0] + 120, SHAPE[1] + 120), 2)
    centre = (SHAPE[1] / 2, SHAPE[0] / 2)
    truth = similarity(25.0, -9.0, 3.0, 1.05, centre=centre)
    first, second = (view(scene, m @ similarity(-60, -60), SHAPE) for m in (np.eye(3), truth))
    for off in ((3.0, 2.0), (-6.0, 4.0)):
        step = register(first, second, similarity(*off) @ truth, guided=True)
        assert step.reliable
        assert corner_error(step.homography, truth, SHAPE) < 0.3
