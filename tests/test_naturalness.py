"""Naturalness measures: rhythm, jitter, self-intersection, and the person detector."""

from __future__ import annotations

import importlib.util

import cv2
import numpy as np
import pytest

from conftest import needs_shared_data
from training import naturalness
from gaitanon_core.errors import GaitanonError


def stick_walker(frames: int, period: float, swing: float = 0.45, jitter_px: int = 0, seed: int = 0) -> np.ndarray:
    """(T, 64, 64) bool: a torso and two legs swinging in antiphase with gait `period` frames."""
    rng = np.random.default_rng(seed)
    walk = np.zeros((frames, 64, 64), np.uint8)
    for t in range(frames):
        frame = walk[t]
        cv2.circle(frame, (32, 6), 5, 1, -1)
        cv2.rectangle(frame, (28, 11), (36, 34), 1, -1)
        angle = swing * np.sin(2 * np.pi * t / period)
        wobble = int(rng.integers(-jitter_px, jitter_px + 1)) if jitter_px else 0
        for side in (1, -1):
            foot = (int(32 + side * 29 * np.sin(angle)) + wobble, 63)
            cv2.line(frame, (32, 34), foot, 1, 4)
    return walk.astype(bool)


def test_stride_period_is_half_the_gait_cycle():
    rhythm = naturalness.stride_rhythm(stick_walker(90, period=28))
    assert rhythm.period == pytest.approx(14, abs=1)
    assert rhythm.periodicity > 0.8
    assert rhythm.swing > 3


def test_rhythm_comparison_sees_a_changed_cadence():
    same = naturalness.compare_rhythm(stick_walker(90, 28), stick_walker(90, 28))
    assert same.period_ratio == pytest.approx(1.0)
    assert same.swing_ratio == pytest.approx(1.0)
    faster = naturalness.compare_rhythm(stick_walker(90, 28), stick_walker(90, 20))
    assert faster.period_ratio == pytest.approx(10 / 14, abs=0.08)


def test_a_walk_without_leg_motion_has_no_rhythm():
    still = np.repeat(stick_walker(1, 28), 40, axis=0)
    rhythm = naturalness.stride_rhythm(still)
    assert np.isnan(rhythm.period) and rhythm.swing == 0
    assert naturalness.frame_change(still) == 0


def test_jitter_is_higher_for_a_flickering_walk():
    smooth = naturalness.temporal_jitter(stick_walker(60, 28))
    shaky = naturalness.temporal_jitter(stick_walker(60, 28, jitter_px=3))
    assert shaky > 1.3 * smooth


def test_self_intersection_share():
    theta = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    circle = np.stack([0.3 * np.sin(theta), 0.5 - 0.5 * np.cos(theta)], axis=1)
    bow_tie = circle.copy()
    bow_tie[[5, 40]] = bow_tie[[40, 5]]  # two far-apart points swapped: the outline crosses itself
    assert naturalness.self_intersection_share(np.stack([circle, circle])) == 0.0
    assert naturalness.self_intersection_share(np.stack([circle, bow_tie])) == 0.5


def test_missing_detector_package_is_a_plain_error(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(GaitanonError, match="not installed"):
        naturalness.detector_files()


@needs_shared_data
@pytest.mark.slow
def test_detector_sees_a_rendered_walker_but_not_the_empty_scene(shared_data):
    from gaitanon_core.shape.casiab import load_walk
    from training.evaluation.metrics import empty_corridor

    background = empty_corridor(shared_data)
    walk = load_walk("085", "nm-05", "090", shared_data)
    detector = naturalness.PersonDetector()
    people = [detector.person_confidence(naturalness.render_silhouette(walk[i], background)) for i in (10, 20, 30)]
    assert np.mean(people) > 0.6
    assert detector.person_confidence(background) < 0.3
