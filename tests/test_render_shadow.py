"""The cast shadow (issue 14): the light read off the removed shadow, and the new silhouette's shadow cast with
it; nothing cast where there is no shadow to read."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from gaitanon_core.render.colouring import colour_frame, overlap
from gaitanon_core.render.shadow import cast_shade, measure_light
from gaitanon_core.render.warp import OutlinePair
from test_render_warp import BODY, H, W, WALL, ellipse, fill

KEPT = 0.6  # the drawn shadow keeps this share of the wall's light


def scene_with_shadow() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(original, background, person, shadow): a standing body and a flat shadow on the floor to its right."""
    person = fill(ellipse(80, 75, 15, 50))
    shadow = fill(ellipse(110, 128, 30, 5)) & ~person
    background = np.full((H, W, 3), WALL, np.uint8)
    original = background.copy()
    original[shadow] = np.round(KEPT * background[shadow]).astype(np.uint8)
    original[person] = BODY
    return original, background, person, shadow


def test_the_light_is_read_off_the_removed_shadow() -> None:
    original, background, person, shadow = scene_with_shadow()
    light = measure_light(original, background, person, shadow)
    assert light is not None
    assert light.kept == pytest.approx(KEPT, abs=0.02)
    assert light.offset[0] > 20 and light.offset[1] > 40, "to the right of and below the body's centre"
    assert light.matrix[0, 0] > 1.0 > light.matrix[1, 1], "wider and flatter than the body"


@pytest.mark.parametrize("shadow", ["none", "lighter"])
def test_nothing_is_cast_without_a_shadow_to_read(shadow: str) -> None:
    original, background, person, dark = scene_with_shadow()
    if shadow == "lighter":
        original[dark] = np.minimum(background[dark].astype(int) + 60, 255).astype(np.uint8)
    else:
        original[dark], dark = background[dark], np.zeros_like(dark)
    assert measure_light(original, background, person, dark) is None


def test_the_new_body_casts_its_shadow_the_way_the_original_s_fell() -> None:
    original, background, person, shadow = scene_with_shadow()
    source, target = ellipse(80, 75, 15, 50), ellipse(120, 75, 20, 50)  # the new body stands 40 px further right
    new = fill(target)
    out = colour_frame(original, background, person, new, shadow=shadow, outline=OutlinePair(source, target),
                       cast=True)
    darker = (out.astype(float) < 0.9 * background.astype(float)).all(axis=2) & ~new
    rows, cols = np.nonzero(darker)
    assert len(rows) > 50
    assert 150 - 15 < np.median(cols) < 150 + 15 and np.median(rows) > 115, "moved with the body"
    moved_away = shadow.copy()
    moved_away[:, 97:] = False  # the new shadow (centre x 150, half-width about 40, blurred) ends right of this
    assert np.abs(out[moved_away].astype(int) - background[moved_away]).max() <= 2, "the old shadow is gone"
    off = colour_frame(original, background, person, new, shadow=shadow, outline=OutlinePair(source, target),
                       cast=False)
    beside = ~cv2.dilate(new.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)  # past the soft edge
    assert np.abs(off[beside].astype(int) - background[beside]).max() <= 2, "cast=False casts nothing"


def test_the_shade_keeps_the_measured_light_at_the_shadow_s_core() -> None:
    original, background, person, shadow = scene_with_shadow()
    light = measure_light(original, background, person, shadow)
    box = (slice(20, 130), slice(60, 100))
    region, kept = cast_shade(person[box], box, light, person.shape)
    assert kept.shape[:2] == (region[0].stop - region[0].start, region[1].stop - region[1].start)
    assert region[0].start > 100 and region[1].stop > 110, "below the body and to its right"
    assert kept.min() == pytest.approx(KEPT, abs=0.05)
    assert kept.max() == 1.0


def test_overlap_gives_the_shared_part_of_two_boxes_in_each_crop() -> None:
    a, b = (slice(10, 50), slice(0, 30)), (slice(40, 80), slice(20, 60))
    in_a, in_b = overlap(a, b)
    assert in_a == (slice(30, 40), slice(20, 30)) and in_b == (slice(0, 10), slice(0, 10))
    assert overlap(a, (slice(60, 70), slice(0, 30))) is None
