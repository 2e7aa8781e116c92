"""The four-region rule (eq. 9), the nearest-pixel fill and the soft edge."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from gaitanon_core.render.colouring import colour_frame, nearest_fill

H, W = 120, 160
BACKGROUND = np.full((H, W, 3), (20, 120, 40), np.uint8)


def _scene() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An original frame with a person bar whose colour changes per row, and its masks."""
    person = np.zeros((H, W), bool)
    person[20:100, 60:80] = True
    original = BACKGROUND.copy()
    rows = np.arange(H, dtype=np.uint8)[:, None]
    original[person] = np.broadcast_to(np.stack([rows * 2, 255 - rows, rows], -1), (H, W, 3))[person]
    anonymized = np.zeros((H, W), bool)
    anonymized[20:100, 70:110] = True  # keeps the bar's right half, adds a band to its right
    return original, person, anonymized


def test_four_regions_of_the_paper() -> None:
    original, person, anonymized = _scene()
    original[5:15, 5:15] = 255  # something in the scene outside both silhouettes
    out = colour_frame(original, BACKGROUND, person, anonymized, margin=None)
    assert np.array_equal(out[5:15, 5:15], BACKGROUND[5:15, 5:15]), "outside both -> background"
    assert np.array_equal(out[25:95, 73:77], original[25:95, 73:77]), "in both -> original"
    assert np.array_equal(out[25:95, 60:66], BACKGROUND[25:95, 60:66]), "only original -> background"
    # only anonymized -> the original colour of the nearest original pixel: the bar's right edge, same row
    assert np.array_equal(out[25:95, 84:106], np.repeat(original[25:95, 79:80], 22, axis=1))


def test_live_scene_keeps_the_frame_away_from_the_person() -> None:
    original, person, anonymized = _scene()
    original[5:15, 5:15] = 255  # something far from the person
    shadow = np.zeros((H, W), bool)
    shadow[100:106, 30:140] = True
    original[shadow] = (5, 5, 5)  # a dark shadow beside the feet, outside both silhouettes
    out = colour_frame(original, BACKGROUND, person, anonymized, shadow=shadow, margin=6.0, cast=False)
    assert np.array_equal(out[5:15, 5:15], original[5:15, 5:15]), "far from the person: the live frame"
    assert np.array_equal(out[103:106, 30:140], BACKGROUND[103:106, 30:140]), "the shadow takes the background"
    assert np.array_equal(out[25:95, 55:66], BACKGROUND[25:95, 55:66]), "only original (+ its band) -> background"
    assert np.array_equal(out[25:95, 73:77], original[25:95, 73:77]), "in both -> original"
    band = out[60, 40:56, 0].astype(int)  # from the live frame into the band left of the person
    assert np.all(np.diff(band) <= 0) or np.all(np.diff(band) >= 0), "the band fades in without a seam"


def test_the_band_takes_the_live_frame_s_light() -> None:
    """A frame 20 levels lighter than the clip's median background (exposure): the band where the person was
    is lightened with it, so it meets the live frame without a step and shows no grown copy of the outline."""
    original, person, _ = _scene()
    lighter = BACKGROUND.astype(np.int32) + 20
    original[~person] = lighter[~person]
    out = colour_frame(original, BACKGROUND, person, np.zeros((H, W), bool), margin=6.0)
    assert np.abs(out[25:95, 40:100].astype(int) - lighter[25:95, 40:100]).max() <= 1


def test_cover_paints_the_region_with_background() -> None:
    original, person, _ = _scene()
    out = colour_frame(original, BACKGROUND, person, np.zeros((H, W), bool))
    assert np.array_equal(out[person], BACKGROUND[person])


def test_soft_edge_is_one_to_two_pixels() -> None:
    original, person, anonymized = _scene()
    out = colour_frame(original, BACKGROUND, person, anonymized).astype(int)
    row = out[60, 100:120, 1]  # across the anonymized band's right edge (column 109|110)
    inside, outside = int(original[60, 79, 1]), int(BACKGROUND[0, 0, 1])
    mixed = np.flatnonzero((np.abs(row - inside) > 5) & (np.abs(row - outside) > 5))
    assert 1 <= mixed.size <= 3
    assert np.all(np.diff(row) <= 0) or np.all(np.diff(row) >= 0), "the edge is a monotone ramp"


def test_nothing_to_colour() -> None:
    original, _, _ = _scene()
    empty = np.zeros((H, W), bool)
    assert np.array_equal(colour_frame(original, BACKGROUND, empty, empty, margin=None), BACKGROUND)
    assert np.array_equal(colour_frame(original, BACKGROUND, empty, empty), original)


def test_anonymized_without_original_is_refused() -> None:
    original, _, anonymized = _scene()
    with pytest.raises(ValueError):
        colour_frame(original, BACKGROUND, np.zeros((H, W), bool), anonymized)


def test_nearest_fill_picks_a_nearest_pixel() -> None:
    rng = np.random.default_rng(3)
    region = rng.random((90, 70)) > 0.99
    rows, cols = np.indices(region.shape)
    image = np.stack([rows, cols, np.zeros_like(rows)], -1).astype(np.uint8)  # colour = own coordinates
    filled = nearest_fill(image, region).astype(float)
    exact = ndimage.distance_transform_edt(~region)
    chosen = np.hypot(filled[..., 0] - rows, filled[..., 1] - cols)
    assert np.array_equal(filled[region], image[region]), "pixels of the region keep their own colour"
    assert region[filled[..., 0].astype(int), filled[..., 1].astype(int)].all(), "colours come from the region"
    assert np.abs(chosen - exact).max() <= 0.5, "the 5x5 distance mask is within half a pixel of exact"


def test_new_parts_take_the_colour_inside_the_edge() -> None:
    """A blended outer ring (anti-aliasing) must not be what the anonymized body's new parts are painted with."""
    original, person, anonymized = _scene()
    ring = person & ~np.pad(person[1:-1, 1:-1], 1)  # the outermost pixels of the bar
    original[ring] = (BACKGROUND[ring].astype(int) + original[ring]) // 2  # half background, as at a real edge
    out = colour_frame(original, BACKGROUND, person, anonymized, margin=None)
    np.testing.assert_array_equal(out[25:95, 90], original[25:95, 77], "from inside the edge, same row")
    assert np.array_equal(out[25:95, 73:77], original[25:95, 73:77]), "in both -> original, edge included"
