"""The contour codec (DESIGN.md "Canonical frame" and "Contour"): gaitanon_core.contours."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import ndimage

from gaitanon_core.shape import codec as C
from gaitanon_core.errors import GaitanonError, InputError
from tests.conftest import needs_shared_data
from tests.contour_reference import (
    GOLDEN_DIR,
    golden_masks,
    mask_from_rows,
    reference_encode,
    reference_self_intersects,
)

GOLDEN_NAMES = ("ellipse", "stick_figure", "two_blobs", "hole")
GOLDEN_TOLERANCE = 1e-5  # the JSON keeps 6 decimals; a 64-px frame's pixel is 0.0156


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def kept_by_definition(frame: np.ndarray) -> np.ndarray:
    """The largest 8-connected part, holes filled: what the codec keeps of a frame."""
    labels, _ = ndimage.label(frame, structure=np.ones((3, 3)))
    return ndimage.binary_fill_holes(labels == 1 + int(np.argmax(np.bincount(labels.ravel())[1:])))


def golden(name: str) -> tuple[np.ndarray, np.ndarray]:
    record = json.loads((GOLDEN_DIR / f"contours_{name}.json").read_text())
    assert record["layout"] == C.LAYOUT and record["n"] == C.N_POINTS
    return mask_from_rows(record["mask"]), np.array(record["points"])


def enlarged(frame: np.ndarray, factor: int, offset: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
    """A 64x64 frame drawn `factor` times larger (nearest) at (x, y) `offset` on a blank canvas."""
    big = np.repeat(np.repeat(frame, factor, axis=0), factor, axis=1)
    canvas = np.zeros(shape, bool)
    canvas[offset[1] : offset[1] + big.shape[0], offset[0] : offset[0] + big.shape[1]] = big
    return canvas


STICK = golden_masks()["stick_figure"]


# --- layout and orientation ----------------------------------------------------------------------


def test_encode_gives_n_float32_points_ccw_from_the_head_top():
    points = C.encode_casiab(STICK[None])[0]
    assert points.shape == (C.N_POINTS, 2) and points.dtype == np.float32
    assert C.signed_area(points.astype(np.float64)) < 0  # counter-clockwise on screen (y down)
    assert points[0, 1] == pytest.approx(points[:, 1].min())  # starts at the topmost point
    assert points[0, 0] == pytest.approx(0.0)  # ... on the head, at the median column
    assert points[1:10, 0].max() < 0.0  # and first runs down the left side


def test_start_tie_goes_to_the_top_point_nearest_the_median_column():
    frame = np.zeros((64, 64), bool)
    frame[1:64, 20:41] = True
    frame[0, 20:25] = frame[0, 35:38] = True  # two bumps on top, neither over column 32 (x = 0)
    points = C.encode_casiab(frame[None])[0] * 64 + (32, 0)  # back to pixel coordinates
    assert points[0] == pytest.approx((35 - C.OUTLINE_OUTSET, -C.OUTLINE_OUTSET))  # nearest end of a bump


def test_anchors_sit_on_the_body_parts_of_a_stick_figure():
    points = C.encode_casiab(STICK[None])[0] * 64 + (32, 0)  # back to pixel coordinates
    at = {name: points[i] for name, i in C.anchor_indices().items()}
    assert at["left_foot"][1] > 62 and at["right_foot"][1] > 62  # both feet on the bottom row
    assert at["left_foot"][0] < 28 and at["right_foot"][0] > 36  # one each side
    assert 40 < at["crotch"][1] < 46 and 28 < at["crotch"][0] < 35  # where the legs part
    assert at["left_reach"][0] < 21 and at["right_reach"][0] > 43  # the two hands
    assert at["left_knee"][1] == pytest.approx(48, abs=1.5) and at["right_knee"][1] == pytest.approx(48, abs=1.5)


def test_anchor_indices_are_mirror_symmetric():
    index = C.anchor_indices()
    assert list(index.values()) == sorted(index.values()) and sum(C.SEGMENT_POINTS) == C.N_POINTS
    assert index["left_foot"] + index["right_foot"] == C.N_POINTS
    assert index["left_reach"] + index["right_reach"] == C.N_POINTS
    assert index["crotch"] == C.N_POINTS // 2


def test_mirrored_frame_gives_the_mirrored_contour():
    mirrored = np.roll(STICK[:, ::-1], 1, axis=1)  # column c -> 64 - c, so x -> -x
    direct, flipped = C.encode_casiab(np.stack([STICK, mirrored]))
    expected = direct[(-np.arange(C.N_POINTS)) % C.N_POINTS] * (-1, 1)
    np.testing.assert_allclose(flipped, expected, atol=1e-6)


def test_other_n_and_the_arc_length_layout():
    for n in (64, 100, 512):
        assert C.encode_casiab(STICK[None], n).shape == (1, n, 2)
    plain = C.encode_casiab(STICK[None], layout=C.ARC_LENGTH)[0].astype(np.float64)
    steps = np.hypot(*np.diff(plain, axis=0).T)
    assert steps.max() < 1.6 * np.median(steps)  # evenly spaced (chords cut corners a little)
    with pytest.raises(ValueError, match="unknown contour layout"):
        C.encode_casiab(STICK[None], layout="spline")
    with pytest.raises(ValueError, match="at least 16 points"):
        C.encode_casiab(STICK[None], 8)


# --- golden vectors and the reference implementation ----------------------------------------------


@pytest.mark.parametrize("name", GOLDEN_NAMES)
def test_codec_matches_the_golden_vectors(name):
    mask, expected = golden(name)
    np.testing.assert_allclose(C.encode_casiab(mask[None])[0], expected, atol=GOLDEN_TOLERANCE)


@pytest.mark.parametrize("name", GOLDEN_NAMES)
def test_reference_matches_the_golden_vectors(name):
    mask, expected = golden(name)
    np.testing.assert_allclose(np.array(reference_encode(mask)), expected, atol=GOLDEN_TOLERANCE)


@pytest.mark.parametrize("name", GOLDEN_NAMES)
def test_golden_round_trip_keeps_the_largest_part_with_holes_filled(name):
    mask, _ = golden(name)
    decoded = C.decode_casiab(C.encode_casiab(mask[None]))[0]
    assert iou(decoded, kept_by_definition(mask)) >= 0.97
    assert not C.self_intersects(C.encode_casiab(mask[None])[0])


def test_two_blobs_keep_only_the_largest():
    mask, _ = golden("two_blobs")
    decoded = C.decode_casiab(C.encode_casiab(mask[None]))[0]
    assert not decoded[35:46, 47:58].any()  # the detached bag is gone
    assert decoded[10:60, 26:39].all()  # the body stays


def test_hole_is_filled():
    mask, _ = golden("hole")
    assert not mask[30, 32]
    assert C.decode_casiab(C.encode_casiab(mask[None]))[0][30, 32]


# --- errors and self-intersection --------------------------------------------------------------------


def test_empty_mask_is_a_clear_error():
    with pytest.raises(InputError, match="frame 1 is empty"):
        C.encode_casiab(np.stack([STICK, np.zeros((64, 64), bool)]))
    with pytest.raises(InputError, match="empty"):
        C.mask_to_contour(np.zeros((120, 80), bool))


def test_wrong_shapes_are_refused():
    with pytest.raises(ValueError, match=r"\(T, 64, 64\)"):
        C.encode_casiab(np.zeros((2, 64, 44), bool))
    with pytest.raises(ValueError, match=r"\(T, N, 2\)"):
        C.decode_casiab(np.zeros((256, 2)))


def test_self_intersects():
    square = np.array([[0, 0], [0, 1], [1, 1], [1, 0]], float)
    bow_tie = np.array([[0, 0], [1, 1], [1, 0], [0, 1]], float)
    there_and_back = np.array([[0, 0], [1, 0], [2, 0], [1, 0]], float)  # zero width: touches, never crosses
    assert not C.self_intersects(square)
    assert C.self_intersects(bow_tie)
    assert not C.self_intersects(there_and_back)
    folded = C.encode_casiab(STICK[None])[0].copy()
    folded[[40, 60]] = folded[[60, 40]]  # swap two points of the left side
    assert C.self_intersects(folded)


def test_unfolded_pulls_a_fold_back_only_as_far_as_needed():
    original = C.encode_casiab(STICK[None])[0].astype(np.float64)
    folded = original.copy()
    folded[[40, 60]] = folded[[60, 40]]  # two points of one side swapped: the outline crosses itself
    assert C.unfolded(original, original) is original  # a simple outline is left as it is
    result = C.unfolded(original, folded)
    assert not C.self_intersects(result)
    share = np.linalg.norm(result - original) / np.linalg.norm(folded - original)
    assert share == pytest.approx(max(k for k in C.UNFOLD_KEEP if not C.self_intersects(original + k * (folded - original))))


def test_unfolded_never_falls_back_to_the_original():
    square = np.array([[0, 0], [0, 1], [1, 1], [1, 0]], float)
    through = np.array([[0, 0], [0, 1], [1, 1], [-2, 0.5]], float)  # one corner pushed through the far side
    # Every share tried still crosses: the change is kept whole rather than undone.
    assert all(C.self_intersects(square + k * (through - square)) for k in C.UNFOLD_KEEP)
    assert C.unfolded(square, through) is through


def test_self_intersects_agrees_with_the_reference_on_random_polygons():
    rng = np.random.default_rng(7)
    outline = C.encode_casiab(STICK[None])[0].astype(np.float64)
    answers = []
    for trial in range(45):
        if trial < 30:  # small random polygons: about half of them cross
            polygon = rng.uniform(0, 1, size=(int(rng.integers(4, 9)), 2))
        else:  # the stick figure with a few points jittered: mostly simple, sometimes folded
            polygon = outline + rng.normal(0, 0.012, outline.shape) * (rng.random(len(outline)) < 0.1)[:, None]
        answers.append(C.self_intersects(polygon))
        assert answers[-1] == reference_self_intersects([tuple(p) for p in polygon])
    assert 0 < sum(answers[:30]) < 30 and 0 < sum(answers[30:]) < 15  # both answers were tested in each kind


def test_one_pixel_strands_do_not_make_crossings():
    frame = np.zeros((64, 64), bool)
    frame[8:64, 26:38] = True
    for row in range(20, 40):
        frame[row, 38 + (row - 20) // 2] = True  # a one-pixel-wide diagonal hair, 8-connected
    points = C.encode_casiab(frame[None])[0]
    assert not C.self_intersects(points)
    assert iou(C.decode_casiab(points[None])[0], frame) > 0.97


# --- full-resolution masks (run time) -------------------------------------------------------------------


def test_mask_to_contour_of_an_enlarged_frame_equals_encode_casiab():
    centred = np.roll(STICK, 32 - C.median_column(STICK), axis=1)  # as CASIA-B centres its frames
    canvas = enlarged(centred, 5, (70, 30), (400, 500))
    points, transform = C.mask_to_contour(canvas)
    np.testing.assert_allclose(points, C.encode_casiab(centred[None])[0], atol=1e-5)
    # pixel centre of grid cell (32, 0) = image index 70 + 32.5 * 5 - 0.5, 30 + 0.5 * 5 - 0.5
    assert (transform.scale, transform.x0, transform.y0) == pytest.approx((320.0, 232.0, 32.0))


def test_coarse_contour_drawn_at_full_size_keeps_the_body_width():
    canvas = enlarged(STICK, 5, (70, 30), (400, 500))
    points, transform = C.mask_to_contour(canvas)
    assert iou(C.contour_to_mask(points, transform, canvas.shape, outline_rows=64), canvas) > 0.9
    assert iou(C.contour_to_mask(points, transform, canvas.shape, outline_rows=64), canvas) > iou(
        C.contour_to_mask(points, transform, canvas.shape), canvas
    )


def test_mask_to_contour_in_a_given_frame():
    canvas = enlarged(STICK, 4, (40, 20), (300, 400))
    own, transform = C.mask_to_contour(canvas)
    moved = C.CanonicalTransform(transform.scale, transform.x0 + 32.0, transform.y0)  # 32 image px = 0.125
    points, kept = C.mask_to_contour(canvas, transform=moved)
    assert kept == moved
    assert points[:, 0].min() == pytest.approx(own[:, 0].min() - 0.125)  # the same outline, moved
    assert points[:, 0].max() == pytest.approx(own[:, 0].max() - 0.125)
    same = C.contour_to_mask(points, moved, canvas.shape)
    assert iou(same, C.contour_to_mask(own, transform, canvas.shape)) > 0.99


def test_restore_detail_puts_full_resolution_detail_back():
    canvas = enlarged(STICK, 5, (70, 30), (400, 500))
    canvas[130:132, 230:265] = True  # detail finer than a 64-row pixel: a thin strap off the trunk
    points, transform = C.mask_to_contour(canvas)
    fine = C.detailed_contour(canvas, transform)
    assert len(fine) % C.N_POINTS == 0 and len(fine) > C.N_POINTS
    unchanged = C.contour_to_mask(C.restore_detail(fine, points, points), transform, canvas.shape)
    assert iou(unchanged, kept_by_definition(canvas)) > 0.99
    assert unchanged[130:132, 245:262].all()  # the strap is back
    wider = points * (1.2, 1.0)  # the "network" widens the body by 20 %
    restored = C.contour_to_mask(C.restore_detail(fine, points, wider), transform, canvas.shape)
    expected = C.contour_to_mask(fine * (1.2, 1.0), transform, canvas.shape)
    coarse = C.contour_to_mask(wider, transform, canvas.shape, outline_rows=64)
    assert iou(restored, expected) > 0.97 and iou(restored, expected) > iou(coarse, expected)


def test_restore_detail_refuses_mismatched_counts():
    with pytest.raises(ValueError, match="fine points"):
        C.restore_detail(np.zeros((300, 2)), np.zeros((256, 2)), np.zeros((256, 2)))


# --- the transform over time ---------------------------------------------------------------------------


def walking_transforms(frames: int) -> tuple[np.ndarray, list[C.CanonicalTransform]]:
    """A walker moving 5 px per frame with a step sway of 3 px (period 12 frames), and its true track."""
    t = np.arange(frames)
    true_x = 100.0 + 5.0 * t
    sway = 3.0 * np.sin(2 * np.pi * t / 12)
    raw = [C.CanonicalTransform(300.0 + sway[i], true_x[i] + sway[i], 50.0 - sway[i]) for i in range(frames)]
    return true_x, raw


def test_smoothing_removes_the_sway_bridges_a_gap_and_extends_to_cut_frames():
    true_x, raw = walking_transforms(80)
    whole = [True] * 80
    whole[:8] = [False] * 8  # entering: cut by the frame edge
    transforms: list[C.CanonicalTransform | None] = list(raw)
    transforms[36:44] = [None] * 8  # occluded or no mask
    smooth = C.smooth_transforms(transforms, whole)
    x = np.array([s.x0 for s in smooth])
    assert len(smooth) == 80
    assert np.abs(np.r_[x[14:28], x[52:70]] - np.r_[true_x[14:28], true_x[52:70]]).max() < 0.3  # no sway (3 px)
    assert np.abs(x[36:44] - true_x[36:44]).max() < 1.5  # the gap is bridged on the line
    assert np.abs(x[:8] - true_x[:8]).max() < 3.0  # the cut frames continue the walk (5 px/frame)
    assert all(290 < s.scale < 310 and 45 < s.y0 < 55 for s in smooth)
    assert np.all(np.diff(x) > 0)  # never bobs backwards


def test_smoothing_ignores_what_cut_frames_measure():
    _, raw = walking_transforms(30)
    cut = C.CanonicalTransform(120.0, 0.0, 0.0)  # half a body: a wrong size and place
    transforms = [cut] * 5 + raw[5:]
    smooth = C.smooth_transforms(transforms, [False] * 5 + [True] * 25)
    assert all(s.scale > 290 for s in smooth[:5])


def test_one_whole_frame_holds_the_body_still():
    only = C.CanonicalTransform(250.0, 120.0, 40.0)
    assert C.smooth_transforms([None, only, None], [False, True, False]) == [only] * 3


def test_smoothing_without_a_whole_body_frame_is_a_clear_error():
    with pytest.raises(InputError, match="No frame shows the whole body"):
        C.smooth_transforms([C.CanonicalTransform(100.0, 0.0, 0.0), None], [False, False])


# --- CASIA-B frames (research data) ------------------------------------------------------------------------


@needs_shared_data
def test_casiab_round_trip_and_no_self_intersections(shared_data):
    from gaitanon_core.shape.casiab import load_walk

    frames = np.concatenate(
        [load_walk("085", walk, view, shared_data)[::3] for walk, view in
         (("nm-05", "090"), ("bg-01", "000"), ("cl-01", "054"), ("nm-06", "180"))]
    )
    contours = C.encode_casiab(frames)
    decoded = C.decode_casiab(contours)
    assert decoded.shape == frames.shape and decoded.dtype == bool
    assert np.mean([iou(d, f) for d, f in zip(decoded, frames)]) >= 0.95
    assert np.mean([C.self_intersects(c) for c in contours]) <= 0.01


def test_drawing_invalid_points_is_a_clear_error():
    points = C.encode_casiab(STICK[None])[0].astype(np.float64)
    points[7] = np.nan
    with pytest.raises(GaitanonError, match="not finite"):
        C.contour_to_mask(points, C.CASIAB_TRANSFORM, (64, 64))


@needs_shared_data
def test_anchored_layout_folds_blends_of_two_people_far_less_than_arc_length(shared_data):
    from gaitanon_core.shape.casiab import load_walk

    one = load_walk("085", "nm-05", "090", shared_data)
    other = load_walk("090", "nm-05", "090", shared_data)
    rng = np.random.default_rng(3)
    a, b = one[rng.integers(len(one), size=150)], other[rng.integers(len(other), size=150)]
    folded = {
        layout: np.mean([C.self_intersects(0.5 * (p + q)) for p, q in
                         zip(C.encode_casiab(a, layout=layout), C.encode_casiab(b, layout=layout))])
        for layout in C.LAYOUTS
    }
    assert folded[C.LAYOUT] < folded[C.ARC_LENGTH] / 3, folded


def test_an_anonymized_outline_is_put_back_across_where_the_original_stands():
    """The network gives a body back centred; `placed_like` moves it sideways onto the original's centre of
    area, leaving its shape and its height as they are."""
    square = np.array([[-0.1, 0.0], [-0.1, 1.0], [0.1, 1.0], [0.1, 0.0]])
    assert C.centroid_x(square) == pytest.approx(0.0)
    assert C.centroid_x(square + (0.3, 0.0)) == pytest.approx(0.3)
    lopsided = np.array([[0.0, 0.0], [0.0, 1.0], [0.4, 1.0], [0.4, 0.9], [0.1, 0.9], [0.1, 0.0]])  # an L
    assert C.centroid_x(lopsided) == pytest.approx(0.0125 / 0.13)  # the area's centre, not the vertices' (0.167)
    original = C.encode_mask(np.pad(np.ones((40, 12), bool), ((12, 12), (20, 32))), C.CASIAB_TRANSFORM)
    off_centre = original + (0.05, 0.0)  # fed 5 % of the height to the right of the centre ...
    returned = (original * (1.1, 1.0) - (C.centroid_x(original * (1.1, 1.0)), 0.0)).astype(np.float32)  # ... centred
    placed = C.placed_like(off_centre, returned)
    assert C.centroid_x(placed) == pytest.approx(C.centroid_x(off_centre), abs=1e-5)
    np.testing.assert_allclose(np.diff(placed, axis=0), np.diff(returned, axis=0), atol=1e-5)  # the same shape
    np.testing.assert_allclose(placed[:, 1], returned[:, 1], atol=1e-6)  # at the same height
    assert placed.dtype == np.float32  # as the network gave it
