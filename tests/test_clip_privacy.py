"""The per-clip privacy check as the pipeline runs it: sampling, refusal to guess, the verdict."""

from __future__ import annotations

import json

import numpy as np

from gaitanon_core.paths import models_dir
from gaitanon_core.inference.attacker import MAX_CHECK_FRAMES, MIN_CHECK_FRAMES, WalkSampler, check_clip_privacy


def walker_mask(step: int, shape=(240, 160)) -> np.ndarray:
    """A crude upright figure whose legs swing with `step`."""
    mask = np.zeros(shape, bool)
    mask[40:140, 60:100] = True  # torso and head column
    swing = int(20 * np.sin(step / 4))
    for foot in (70 + swing, 90 - swing):
        mask[140:220, max(foot - 8, 0):foot + 8] = True
    return mask


def test_sampler_keeps_a_bounded_evenly_spaced_walk():
    sampler = WalkSampler(total_frames=10 * MAX_CHECK_FRAMES)
    for step in range(10 * MAX_CHECK_FRAMES):
        sampler.add(walker_mask(step), walker_mask(step))
    assert len(sampler.original) == len(sampler.anonymized) <= MAX_CHECK_FRAMES
    assert len(sampler.original) >= MAX_CHECK_FRAMES // 2
    assert sampler.original[0].shape == (64, 64)


def test_too_short_a_walk_is_not_judged():
    sampler = WalkSampler(total_frames=MIN_CHECK_FRAMES - 1)
    for step in range(MIN_CHECK_FRAMES - 1):
        sampler.add(walker_mask(step), walker_mask(step))
    result = check_clip_privacy(sampler)
    assert result["available"] is False and "whole-body frames" in result["reason"]


def test_without_an_attacker_the_reason_is_given(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"format": 1, "models": []}))
    sampler = WalkSampler(total_frames=40)
    for step in range(40):
        sampler.add(walker_mask(step), walker_mask(step))
    result = check_clip_privacy(sampler, tmp_path)
    assert result["available"] is False and "attacker" in result["reason"]


def test_an_unchanged_walk_is_linked_by_the_shipped_recogniser():
    """Original against itself: distance 0, which the calibrated check must call linked."""
    sampler = WalkSampler(total_frames=60)
    for step in range(60):
        sampler.add(walker_mask(step), walker_mask(step))
    result = check_clip_privacy(sampler, models_dir())
    assert result["available"], result.get("reason")
    assert result["distance"] < 1e-3
    assert result["verdict"].startswith("A gait recogniser would link")
