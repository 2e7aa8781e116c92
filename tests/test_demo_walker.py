"""The procedural demo walker: a clip with true silhouettes, and the bundled demo clip."""

from __future__ import annotations

import numpy as np
import pytest

from training.demo_walker import (
    DEFAULT_FPS, DEFAULT_SIZE, WalkerIdentity, floor_line, main, random_identity, render_walk, render_walker,
)
from gaitanon_core.paths import demo_clip_path
from gaitanon_core.people.person_mask import Box, PersonMaskModel
from gaitanon_core.video import probe, read_frames

SMALL = (320, 180)


@pytest.fixture(scope="module")
def walk():
    return render_walk(WalkerIdentity(), SMALL)


def wholly_visible(masks: np.ndarray) -> list[int]:
    return [t for t, m in enumerate(masks) if m.any() and not (m[:, 0].any() or m[:, -1].any())]


def test_render_walker_gives_frames_and_true_silhouettes():
    frames, masks = render_walker(WalkerIdentity(), SMALL)
    assert frames.dtype == np.uint8 and frames.shape[1:] == (SMALL[1], SMALL[0], 3)
    assert masks.dtype == bool and masks.shape == frames.shape[:3]


def test_the_figure_enters_crosses_and_leaves(walk):
    present = walk.masks.any(axis=(1, 2))
    assert not present[0] and not present[-1], "the room is empty before and after"
    entering = [t for t, m in enumerate(walk.masks) if m[:, 0].any()]
    leaving = [t for t, m in enumerate(walk.masks) if m[:, -1].any()]
    whole = wholly_visible(walk.masks)
    assert entering and leaving and whole
    assert min(entering) < min(whole) and max(whole) < max(leaving), "enters left, leaves right"
    assert len(whole) > 0.4 * len(walk.masks)
    centre = [np.flatnonzero(walk.masks[t].any(axis=0)).mean() for t in whole]
    assert np.all(np.diff(centre) > -2), "walks steadily to the right (arms swing, the body does not go back)"


def test_feet_stay_on_the_floor_and_the_body_keeps_its_height(walk):
    whole = wholly_visible(walk.masks)
    lowest = [np.flatnonzero(walk.masks[t].any(axis=1))[-1] for t in whole]
    heights = [np.ptp(np.flatnonzero(walk.masks[t].any(axis=1))) for t in whole]
    assert max(abs(y - floor_line(SMALL[1])) for y in lowest) <= 2
    body = WalkerIdentity().height * SMALL[1]
    assert 0.9 * body < np.median(heights) < 1.05 * body
    assert np.ptp(heights) < 0.08 * body, "the head bobs a little, the body does not stretch"


def test_the_shadow_lies_on_the_floor_beside_the_feet(walk):
    for t in wholly_visible(walk.masks):
        shadow = walk.shadows[t]
        assert shadow.any() and not (shadow & walk.masks[t]).any()
        rows = np.flatnonzero(shadow.any(axis=1))
        assert rows[0] > floor_line(SMALL[1]) - 0.05 * SMALL[1]


def test_the_stride_follows_the_cadence(walk):
    """The silhouette's width peaks at every step: its period is fps / cadence frames."""
    whole = wholly_visible(walk.masks)
    width = np.array([np.ptp(np.flatnonzero(walk.masks[t].any(axis=0))) for t in whole], float)
    width -= width.mean()
    correlation = np.correlate(width, width, "full")[len(width) - 1:]
    expected = DEFAULT_FPS / WalkerIdentity().cadence
    lags = np.arange(int(expected * 0.6), int(expected * 1.4) + 1)
    assert abs(lags[np.argmax(correlation[lags])] - expected) <= 1.5


def test_identities_differ_in_build_and_gait():
    a, b = random_identity(1), random_identity(2)
    assert a != b and a == random_identity(1)
    clip_a, clip_b = render_walk(a, SMALL), render_walk(b, SMALL)
    area_a = np.median([m.sum() for m in clip_a.masks if m.any()])
    area_b = np.median([m.sum() for m in clip_b.masks if m.any()])
    assert abs(area_a - area_b) > 0.03 * max(area_a, area_b)
    assert len(clip_a.frames) != len(clip_b.frames) or a.cadence != b.cadence


def test_the_learned_person_model_sees_a_person_in_every_whole_frame(walk):
    model = PersonMaskModel()
    for t in wholly_visible(walk.masks):
        prediction = model.predict(walk.frames[t], Box.of_mask(walk.masks[t]))
        assert prediction.presence > 0.9, f"frame {t}"


def test_the_bundled_demo_clip_is_what_the_command_renders():
    info = probe(demo_clip_path())
    reference = render_walk(WalkerIdentity())
    assert (info.width, info.height) == DEFAULT_SIZE and info.fps == DEFAULT_FPS
    assert info.frame_count == len(reference.frames)
    assert not info.has_audio and info.metadata == {} and info.other_streams == []
    for frame in read_frames(demo_clip_path()):
        if frame.index % 25 == 0:
            error = np.abs(frame.image.astype(int) - reference.frames[frame.index]).mean()
            assert error < 4, f"frame {frame.index} differs by {error:.1f} grey levels on average"


def test_the_command_writes_a_clip(tmp_path, capsys):
    target = tmp_path / "walker.mp4"
    assert main([str(target), "--identity", "3", "--size", "160x90"]) == 0
    info = probe(target)
    assert (info.width, info.height) == (160, 90)
    assert info.frame_count == len(render_walk(random_identity(3), (160, 90)).frames)
    assert "wrote" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["walker.mp4"], "no temporary file left"
