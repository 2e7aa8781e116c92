"""Silhouettes: background model, learned person mask, fusion, shadow, flags, gap bridging, the CLI."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from gaitanon_core.people.background import (
    median_of_valid,
    build_background,
    camera_moved,
    global_shift,
)
from gaitanon_core.cli import main as cli_main
from training.demo_walker import WalkerIdentity, random_identity, render_walk
from gaitanon_core.errors import EXIT_OK, EXIT_USAGE
from gaitanon_core.paths import demo_clip_path
from training.silhouette_eval import (
    CLIP_ALIGNMENT,
    HELD_OUT_CLIPS,
    casiab_ious,
    plain_background_masks,
    read_clip,
)
from gaitanon_core.people.silhouettes import (
    MAX_GAP,
    ClipSegmenter,
    FrameMask,
    bridge_gaps,
    iou,
    segment_clip,
    segment_frames,
    work_factor,
)
from gaitanon_core.render.overlay import draw_overlay, flags_text
from gaitanon_core.shape.casiab import normalise_like_casiab
from gaitanon_core.video import probe
from tests.conftest import needs_shared_data

SMALL = (320, 180)


@pytest.fixture(scope="module")
def walk():
    return render_walk(WalkerIdentity(), SMALL)


@pytest.fixture(scope="module")
def walk_masks(walk):
    return segment_frames(list(walk.frames))


def wholly_visible(masks: np.ndarray) -> list[int]:
    return [t for t, m in enumerate(masks) if m.any() and not (m[:, 0].any() or m[:, -1].any())]


# ---- the demo walker as ground truth ------------------------------------------------------


def test_the_walker_is_found_in_every_frame_where_it_is_wholly_in_view(walk, walk_masks):
    whole = wholly_visible(walk.masks)
    scores = [iou(walk_masks[t].person, walk.masks[t]) for t in whole]
    assert all(walk_masks[t].segmenter == "fused" for t in whole)
    assert min(scores) > 0.8 and np.mean(scores) > 0.9
    assert sum(walk_masks[t].body == "whole" for t in whole) >= 0.9 * len(whole)
    assert all(walk_masks[t].people == 1 for t in whole)


def test_the_shadow_is_handed_on_apart_from_the_person(walk, walk_masks):
    whole = wholly_visible(walk.masks)
    assert np.mean([iou(walk_masks[t].shadow, walk.shadows[t]) for t in whole]) > 0.5
    for t in whole:
        assert not (walk_masks[t].shadow & walk_masks[t].person).any()
        # The person mask leaves the shadow out: few true-shadow pixels end up in it.
        assert (walk_masks[t].person & walk.shadows[t]).sum() < 0.25 * max(1, walk.shadows[t].sum())


def test_empty_and_edge_frames_are_flagged(walk, walk_masks):
    for t, truth in enumerate(walk.masks):
        mask = walk_masks[t]
        if not truth.any() and not walk.shadows[t].any():
            assert (mask.body, mask.segmenter, mask.people) == ("absent", "none", 0), f"frame {t}"
            assert not mask.person.any()
        elif truth[:, 0].any() or truth[:, -1].any():
            assert mask.body != "whole", f"frame {t}: the body is cut by the frame edge"
    assert not any(m.camera_moved for m in walk_masks)


def test_a_body_that_loses_its_head_is_not_whole(walk, walk_masks):
    """The head against a wall of its colour: 18 % shorter than the frame before is no walk, so not 'whole'."""
    whole = wholly_visible(walk.masks)
    t = whole[len(whole) // 2]
    assert walk_masks[t].body == "whole"
    rows = np.flatnonzero(walk.masks[t].any(axis=1))
    head = walk.masks[t] & (np.arange(walk.masks[t].shape[0]) < rows[0] + 0.18 * rows.size)[:, None]
    frames = [frame.copy() for frame in walk.frames]
    frames[t][head] = walk.background[head]
    masks = segment_frames(frames)
    assert masks[t].body == "occluded"
    assert masks[t - 1].body == "whole" and masks[t + 1].body == "whole"


def test_two_walkers_are_counted_and_the_first_one_is_kept():
    """A second walker crossing the other way: people == 2 while both are in view; the mask stays on the first."""
    first = render_walk(WalkerIdentity(), SMALL)
    second = render_walk(random_identity(5), SMALL)
    count = min(len(first.frames), len(second.frames))
    frames, truth, other = [], [], []
    for t in range(count):
        figure, colour = second.masks[t][:, ::-1], second.frames[t][:, ::-1]
        frames.append(np.where(figure[..., None], colour, first.frames[t]))
        truth.append(first.masks[t] & ~figure)
        other.append(figure)
    masks = segment_frames(frames)
    apart = [t for t in wholly_visible(np.array(truth)) if truth[t].any() and other[t].any()
             and not (other[t][:, 0].any() or other[t][:, -1].any())
             and abs(np.flatnonzero(truth[t].any(0)).mean() - np.flatnonzero(other[t].any(0)).mean()) > 80]
    assert len(apart) > 5
    assert sum(masks[t].people == 2 for t in apart) >= 0.8 * len(apart)
    assert np.median([iou(masks[t].person, truth[t]) for t in apart]) > 0.8


# ---- background model ---------------------------------------------------------------------


def test_the_masked_median_is_the_median_of_the_valid_samples():
    rng = np.random.default_rng(1)
    stack = rng.integers(0, 256, size=(9, 70, 5, 3), dtype=np.uint8)  # 70 rows: more than one strip
    valid = rng.random((9, 70, 5)) > 0.4
    valid[:, 3, 2] = False
    median, count = median_of_valid(stack, valid)
    for y, x in [(0, 0), (35, 4), (69, 1), (3, 2)]:
        expected = np.median(stack[valid[:, y, x], y, x], axis=0) if valid[:, y, x].any() else 0.0
        assert np.allclose(median[y, x], expected) and count[y, x] == valid[:, y, x].sum()


def _standing_samples(walk, standing: int, total: int = 20) -> tuple[list[np.ndarray], np.ndarray]:
    """`standing` samples with the walker frozen at one place, the rest with it elsewhere."""
    whole = wholly_visible(walk.masks)
    still = whole[len(whole) // 2]
    figure = walk.masks[still]
    away = [t for t in range(len(walk.masks)) if not (walk.masks[t] & np.roll(figure, 0, 1)).any()
            and walk.masks[t].any() and abs(t - still) > 15]
    samples = [walk.frames[still]] * standing + [walk.frames[t] for t in away[:total - standing]]
    return samples, figure


def test_background_leaves_out_someone_who_stands_still_for_most_samples(walk):
    samples, figure = _standing_samples(walk, standing=12)
    error = lambda image: np.abs(image.astype(int) - walk.background)[figure].mean()  # noqa: E731
    assert error(np.median(np.stack(samples), axis=0)) > 20, "a plain median keeps the ghost"
    assert error(build_background(samples).image) > 20, "so does a median that does not know people"
    model = ClipSegmenter.from_frames(samples).background
    assert error(model.image) < 4
    assert model.never_seen[figure].mean() < 0.15, "only the ghost's rim is left to inpaint"


def test_background_inpaints_what_was_never_seen(walk):
    """Someone who sways on the spot in every sample: the middle of their body is never seen empty."""
    samples, figure = _standing_samples(walk, standing=20)
    samples = [np.roll(frame, 3 * (k % 2), axis=1) for k, frame in enumerate(samples)]
    model = ClipSegmenter.from_frames(samples).background
    core = figure & np.roll(figure, 3, axis=1)
    assert model.never_seen[core].mean() > 0.8 and model.never_seen.mean() < 0.1
    truth = walk.background.astype(int)
    assert np.abs(model.image.astype(int) - truth)[core].mean() < 0.6 * np.abs(samples[0] - truth)[core].mean()


def test_camera_motion_is_detected_and_a_walker_is_not_motion(walk):
    model = build_background(list(walk.frames[::6]))
    t = wholly_visible(walk.masks)[10]
    people = np.zeros(walk.masks[t].shape, bool)
    people[np.ix_(*[np.arange(a.min() - 5, a.max() + 6) for a in np.nonzero(walk.masks[t])])] = True
    assert not camera_moved(walk.frames[t], model, people & (np.indices(people.shape)[0] < 180))
    shifted = np.roll(walk.frames[t], (3, 4), axis=(0, 1))
    assert camera_moved(shifted, model, people)
    assert global_shift(walk.background, np.roll(walk.background, 5, axis=1)) == pytest.approx(5, abs=0.6)


def test_the_camera_check_leaves_the_cached_background_image_unchanged(walk):
    """OpenCV's phase correlation windows its inputs in place; the cached reference must survive every check."""
    model = build_background(list(walk.frames[::6]))
    before = model.correlation_image.copy()
    nobody = np.zeros(walk.frames[0].shape[:2], bool)
    assert [camera_moved(walk.frames[t], model, nobody) for t in (0, 0)] == [False, False]
    assert np.array_equal(model.correlation_image, before)


def test_a_moving_camera_is_flagged_on_the_frames(walk):
    frames = [f.copy() for f in walk.frames]
    for t in range(100, 110):
        frames[t] = np.roll(frames[t], 6, axis=1)
    masks = segment_frames(frames)
    assert all(masks[t].camera_moved for t in range(100, 110))
    assert not any(masks[t].camera_moved for t in range(90, 100))


# ---- gap bridging -------------------------------------------------------------------------


def _frame_mask(index: int, x: int | None, body: str = "whole") -> FrameMask:
    person = np.zeros((40, 80), bool)
    if x is not None:
        person[10:30, x:x + 6] = True
    return FrameMask(index, person, np.zeros_like(person), "fused" if x is not None else "none",
                     body if x is not None else "absent", int(x is not None), False)


def test_short_gaps_are_bridged_from_the_neighbours():
    masks = [_frame_mask(0, 10), _frame_mask(1, None), _frame_mask(2, None), _frame_mask(3, 40)]
    out = list(bridge_gaps(masks))
    assert [m.segmenter for m in out] == ["fused", "bridged", "bridged", "fused"]
    assert [m.index for m in out] == [0, 1, 2, 3]
    centres = [np.flatnonzero(m.person.any(axis=0)).mean() for m in out]
    assert centres[0] < centres[1] < centres[2] < centres[3]
    assert all(m.body == "whole" and m.people == 1 for m in out)


def test_long_gaps_and_off_screen_stretches_stay_absent():
    long_gap = [_frame_mask(0, 10)] + [_frame_mask(k, None) for k in range(1, MAX_GAP + 2)] + [_frame_mask(9, 40)]
    assert [m.segmenter for m in bridge_gaps(long_gap)].count("bridged") == 0
    left_and_back = [_frame_mask(0, 0, "cut"), _frame_mask(1, None), _frame_mask(2, 0, "cut")]
    assert [m.body for m in bridge_gaps(left_and_back)] == ["cut", "absent", "cut"]


# ---- normalisation, file streaming and the overlay CLI ------------------------------------


def test_normalise_like_casiab_crops_scales_and_centres():
    mask = np.zeros((300, 200), bool)
    mask[50:250, 40:90] = True  # 200 rows x 50 columns
    out = normalise_like_casiab(mask)
    assert out.shape == (64, 64)
    assert out.any(axis=1).all(), "the person spans every row"
    cols = np.flatnonzero(out.any(axis=0))
    assert len(cols) == pytest.approx(16, abs=1) and (cols[0] + cols[-1]) / 2 == pytest.approx(32, abs=1)
    assert not normalise_like_casiab(np.zeros((10, 10), bool)).any()


def test_segment_clip_streams_the_bundled_demo_clip():
    info = probe(demo_clip_path())
    masks = list(segment_clip(demo_clip_path(), info, start=2.0, end=3.0))
    assert [m.index for m in masks] == list(range(50, 75))
    assert all(m.person.shape == (info.height, info.width) for m in masks)
    assert all(m.segmenter == "fused" and m.body == "whole" for m in masks)


def test_cli_writes_the_overlay_video(tmp_path, capsys):
    target = tmp_path / "overlay.mp4"
    args = ["silhouettes", str(demo_clip_path()), "-o", str(target), "--start", "2", "--end", "3"]
    assert cli_main(args) == EXIT_OK
    assert probe(target).frame_count == 25 and not probe(target).has_audio
    assert "fused/whole 25" in capsys.readouterr().out
    assert cli_main(args) == EXIT_USAGE, "an existing output is not overwritten without --overwrite"
    assert cli_main(args + ["--overwrite"]) == EXIT_OK


def test_flags_text_says_everything_the_overlay_shows():
    mask = replace(_frame_mask(7, 10), people=2, camera_moved=True)
    assert flags_text(mask) == "#7 fused | body whole | people 2 | CAMERA MOVED"


@pytest.mark.parametrize("shape", [(40, 80), (1280, 720), (480, 640)])
def test_the_overlay_draws_the_outline_and_keeps_the_flags_inside_the_frame(shape):
    person = np.zeros(shape, bool)
    person[shape[0] // 2:, shape[1] // 2:] = True
    mask = FrameMask(1234, person, np.zeros(shape, bool), "fused", "whole", 1, True)
    drawn = draw_overlay(np.zeros((*shape, 3), np.uint8), mask)
    changed = drawn.any(axis=-1)
    assert changed[: shape[0] // 4].any() and not changed[: shape[0] // 4, -2:].any(), "flags fit the width"
    assert (drawn[shape[0] // 2, shape[1] // 2:] == (0, 255, 0)).all(axis=-1).any(), "the outline is drawn"


# ---- against CASIA-B's own silhouettes -------------------------------------------------------


@needs_shared_data
@pytest.mark.slow
def test_casiab_iou_does_not_regress(shared_data):
    """README "Silhouettes": measured by scripts/measure_silhouettes.py; asserted a little below."""
    ours, with_shadow, plain = {}, {}, {}
    for subject in CLIP_ALIGNMENT:
        frames = read_clip(subject, shared_data)
        masks = segment_frames(frames)
        ours[subject] = casiab_ious([m.person for m in masks], subject, shared_data)
        with_shadow[subject] = casiab_ious([m.person | m.shadow for m in masks], subject, shared_data)
        plain[subject] = casiab_ious(plain_background_masks(frames), subject, shared_data)
    held_out = np.concatenate([ours[s] for s in HELD_OUT_CLIPS])
    everything = np.concatenate(list(ours.values()))
    assert held_out.mean() > 0.92 and held_out.min() > 0.74
    assert everything.mean() > 0.91 and everything.min() > 0.69
    # The dataset's silhouettes keep the shadow at the feet: like for like, person + shadow beats the plain method.
    like_for_like = np.concatenate(list(with_shadow.values())).mean()
    assert like_for_like > 0.93 and like_for_like > np.concatenate(list(plain.values())).mean() + 0.01


def test_frames_taller_than_the_working_height_are_segmented_reduced_at_full_resolution_quality():
    """640x360 is segmented at WORK_HEIGHT rows; the masks come back at full size with the edge redecided."""
    walk = render_walk(WalkerIdentity(), (640, 360))
    masks = segment_frames(list(walk.frames))
    assert work_factor(walk.frames[0].shape[:2]) < 1.0
    assert all(m.person.shape == (360, 640) for m in masks)
    whole = wholly_visible(walk.masks)
    scores = [iou(masks[t].person, walk.masks[t]) for t in whole]
    assert min(scores) > 0.85 and np.mean(scores) > 0.93
    assert np.mean([iou(masks[t].shadow, walk.shadows[t]) for t in whole]) > 0.5
