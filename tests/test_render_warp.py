"""The texture-following transfer on synthetic bodies: the texture moves with the outline points,
the original outline and its edge pixels never show inside the new body, the new edge is soft."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from gaitanon_core.render.colouring import colour_frame, soften_original_outline
from gaitanon_core.render.warp import OutlinePair, backward_map, warp
from gaitanon_core.shape import codec
from gaitanon_core.shape.tracking import FrameShape, MaskCrop, anonymized_silhouette, outline_pair

H, W = 160, 200
BODY, EDGE, WALL = (200, 40, 40), (40, 220, 40), (40, 40, 200)


def ellipse(cx: float, cy: float, ax: float, ay: float, n: int = 256) -> np.ndarray:
    """(n, 2) image x, y around an ellipse, counter-clockwise on screen from the top."""
    t = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    return np.column_stack([cx - ax * np.sin(t), cy - ay * np.cos(t)])


def fill(points: np.ndarray) -> np.ndarray:
    canvas = np.zeros((H, W), np.uint8)
    cv2.fillPoly(canvas, [np.round(points * 16).astype(np.int32)], 1, shift=4)
    return canvas.astype(bool)


def edged_scene(person: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(original, background): a body whose outermost pixels are a colour found nowhere else."""
    background = np.full((H, W, 3), WALL, np.uint8)
    original = background.copy()
    original[person] = BODY
    ring = person & ~cv2.erode(person.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    original[ring] = EDGE
    return original, background


def near(image: np.ndarray, colour: tuple[int, int, int], tolerance: float = 40.0) -> np.ndarray:
    return np.linalg.norm(image.astype(float) - colour, axis=-1) < tolerance


def test_same_outline_maps_every_pixel_to_itself() -> None:
    points = ellipse(100, 80, 30, 60)
    map_x, map_y = backward_map(OutlinePair(points, points), fill(points))
    ys, xs = np.nonzero(fill(points))
    assert np.abs(map_x[ys, xs] - xs).max() < 0.05 and np.abs(map_y[ys, xs] - ys).max() < 0.05


def test_a_moved_outline_moves_the_texture_with_it() -> None:
    source = ellipse(90, 80, 30, 60)
    target = source + (12.0, -5.0)
    texture = np.random.default_rng(0).random((H, W, 3)).astype(np.float32)
    body = fill(target)
    out = warp(texture, OutlinePair(source, target), body)
    ys, xs = np.nonzero(body)
    assert np.abs(out[ys, xs] - texture[ys + 5, xs - 12]).max() < 0.02


def test_a_widened_body_is_its_own_texture_stretched() -> None:
    """Left half one colour, right half another: widening the outline moves the boundary to the new middle."""
    source = ellipse(100, 80, 20, 60)
    target = ellipse(100, 80, 36, 60)
    texture = np.zeros((H, W, 3), np.float32)
    texture[:, 100:] = 1.0
    out = warp(texture, OutlinePair(source, target), fill(target))
    row = out[80, :, 0]
    assert row[70] < 0.1 and row[130] > 0.9, "each half of the body stays its own colour, stretched"
    assert np.count_nonzero((row > 0.1) & (row < 0.9)) <= 3, "one boundary, in the middle: no second copy"


@pytest.mark.parametrize("grow", [0.82, 1.0, 1.25])
def test_the_original_edge_never_shows_in_the_output(grow: float) -> None:
    source = ellipse(100, 80, 25, 60)
    target = ellipse(104, 80, 25 * grow, 60 * min(grow, 1.1))
    person, new = fill(source), fill(target)
    original, background = edged_scene(person)
    out = colour_frame(original, background, person, new, outline=OutlinePair(source, target))
    assert not near(out, EDGE).any(), "no pixel of the original outline's colour"
    inside = cv2.erode(new.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert near(out[inside], BODY, 10.0).all(), "the new body's inside is the body's own colour, no seam"


def test_eq9_kept_the_original_edge_inside_the_new_body() -> None:
    """The control: the paper's rule draws the original outline wherever the new body covers it."""
    source, target = ellipse(100, 80, 25, 60), ellipse(104, 80, 31, 66)
    person, new = fill(source), fill(target)
    original, background = edged_scene(person)
    out = colour_frame(original, background, person, new)
    assert near(out, EDGE).sum() > 100


def test_the_new_edge_is_matted_over_two_pixels_at_most() -> None:
    source, target = ellipse(100, 80, 25, 60), ellipse(104, 80, 32, 60)
    person, new = fill(source), fill(target)
    original, background = edged_scene(person)
    out = colour_frame(original, background, person, new, outline=OutlinePair(source, target)).astype(float)
    share = (out[80, :, 0] - WALL[0]) / (BODY[0] - WALL[0])  # 0 on the wall, 1 on the body, along one row
    ramp = np.count_nonzero((share > 0.05) & (share < 0.95))
    assert 1 <= ramp <= 4, "a soft edge, 1-2 px each side of the outline"


def test_a_stand_in_takes_the_texture_where_it_lies_on_this_frame() -> None:
    """A body cut by the frame's left edge: no point of the visible outline corresponds, so the warp runs
    from the whole stand-in placed on this frame to its anonymized outline; the visible part's cut edge and
    its outermost pixels never reach the output."""
    transform = codec.CanonicalTransform(scale=120.0, x0=10.0, y0=20.0)  # the body's middle is 10 px in view
    stand_in = ellipse(0.0, 0.5, 0.12, 0.5)  # canonical: centred on x = 0, height 1
    anonymized = stand_in * (1.25, 1.0)
    person = fill(transform.to_image(stand_in))
    original, background = edged_scene(person)
    shape = FrameShape(index=0, person=MaskCrop.of(person), shadow=MaskCrop.of(np.zeros((H, W), bool)),
                       segmenter="fused", body="cut", people=1, camera_moved=False, transform=transform,
                       contour=stand_in)
    pair = outline_pair(shape, anonymized)
    assert np.allclose(pair[0], transform.to_image(stand_in)) and np.allclose(pair[1], transform.to_image(anonymized))
    new = anonymized_silhouette(shape, anonymized)
    out = colour_frame(original, background, person, new, outline=OutlinePair(*pair))
    assert not near(out, EDGE).any()
    assert near(out[new & (np.arange(W) < 15)[None, :]], BODY, 60.0).mean() > 0.9


def _step_colours(column: int) -> np.ndarray:
    """Float colours: BODY left of `column`, WALL from it on (one sharp vertical edge)."""
    colours = np.empty((H, W, 3), np.float32)
    colours[:, :column], colours[:, column:] = BODY, WALL
    return colours


def _edge_strength(colours: np.ndarray, column: int) -> float:
    return float(np.abs(colours[40:120, column].astype(np.float32) - colours[40:120, column - 1]).sum(axis=1).mean())


def test_an_edge_left_on_the_original_outline_is_softened() -> None:
    person = np.zeros((H, W), bool)
    person[20:140, 40:100] = True  # its right outline runs down column 99/100
    anonymized = np.zeros((H, W), bool)
    anonymized[10:150, 20:160] = True  # a wider new body: that outline lies deep inside it
    on_outline, away = _step_colours(100), _step_colours(130)
    assert _edge_strength(soften_original_outline(on_outline, person, anonymized), 100) < \
        0.7 * _edge_strength(on_outline, 100)
    assert np.array_equal(soften_original_outline(away, person, anonymized), away), "other edges are left"
    flat = np.full((H, W, 3), BODY, np.float32)
    assert np.allclose(soften_original_outline(flat, person, anonymized), flat), "a plain texture is not touched"
