"""Compact storage of a clip's per-frame shapes (issue #15: memory flat in clip length): the packed mask crops
and the full-resolution outline made when asked for give back exactly what was stored or made before."""

from __future__ import annotations

import pickle

import cv2
import numpy as np
import pytest

from gaitanon_core.shape import codec
from gaitanon_core.shape.tracking import FrameShape, MaskCrop, anonymized_outlines, anonymized_silhouette, \
    complete_shapes, measure_shape
from gaitanon_core.people.silhouettes import FrameMask


def _walker(height: int = 240, width: int = 320, x: int = 160, stride: int = 20) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    cv2.ellipse(mask, (x, 95), (18, 45), 0, 0, 360, 1, -1)
    cv2.circle(mask, (x, 42), 12, 1, -1)
    cv2.line(mask, (x, 130), (x - stride, 215), 1, 9)
    cv2.line(mask, (x, 130), (x + stride, 215), 1, 9)
    return mask.astype(bool)


@pytest.mark.parametrize("size", [(1, 1), (1, 9), (7, 1), (3, 5), (8, 8), (17, 33), (64, 44), (121, 67)])
def test_a_packed_crop_gives_back_its_mask_exactly(size: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(size))
    mask = rng.random(size) < 0.4
    crop = MaskCrop(5, 7, mask, (200, 300))
    assert crop.mask.dtype == bool and crop.mask.shape == size
    assert np.array_equal(crop.mask, mask)
    assert (crop.height, crop.width, crop.area) == (*size, int(mask.sum()))
    assert (crop.box.x0, crop.box.y0, crop.box.x1, crop.box.y1) == (7, 5, 7 + size[1], 5 + size[0])


def test_a_crop_of_a_frame_gives_back_the_frame() -> None:
    rng = np.random.default_rng(3)
    full = np.zeros((97, 131), bool)
    full[20:71, 33:90] = rng.random((51, 57)) < 0.5
    crop = MaskCrop.of(full)
    assert np.array_equal(crop.full(), full)
    assert (crop.top, crop.left) == (int(np.flatnonzero(full.any(1))[0]), int(np.flatnonzero(full.any(0))[0]))
    assert crop.area == int(full.sum()) and not crop.empty


def test_an_empty_crop() -> None:
    crop = MaskCrop.of(np.zeros((40, 60), bool))
    assert crop.empty and crop.area == 0 and crop.mask.shape == (0, 0)
    assert not crop.full().any() and crop.full().shape == (40, 60)


def test_a_crop_is_immutable_and_its_mask_a_read_only_copy() -> None:
    mask = np.ones((4, 6), bool)
    crop = MaskCrop(0, 0, mask, (10, 10))
    mask[:] = False  # the crop keeps its own copy
    assert crop.mask.all()
    with pytest.raises(ValueError):
        crop.mask[0, 0] = False
    with pytest.raises(AttributeError):
        crop.top = 3


def test_a_crop_is_stored_packed() -> None:
    crop = MaskCrop.of(_walker())
    assert crop._bits.nbytes * 8 >= crop.height * crop.width > crop._bits.nbytes * 8 - 8


def test_a_crop_survives_pickling() -> None:
    crop = MaskCrop.of(_walker())
    back = pickle.loads(pickle.dumps(crop))
    assert (back.top, back.left, back.shape) == (crop.top, crop.left, crop.shape)
    assert np.array_equal(back.mask, crop.mask)


def _masks(frames: int = 30) -> list[FrameMask]:
    masks = []
    for i in range(frames):
        person = _walker(x=60 + 6 * i, stride=5 + (i * 7) % 20)
        masks.append(FrameMask(i, person, np.zeros_like(person), "fused", "whole", 1, False))
    return masks


def test_the_outline_made_when_asked_is_the_one_made_before() -> None:
    """`FrameShape.fine` is what `complete_shape` used to keep: `codec.detailed_contour` of the frame's mask."""
    masks = _masks()
    shapes = list(complete_shapes((measure_shape(m, codec.N_POINTS) for m in masks), codec.N_POINTS, 25.0))
    assert len(shapes) == len(masks)
    for mask, shape in zip(masks, shapes):
        assert shape.contour is not None and shape.detail == codec.N_POINTS
        kept_before = codec.detailed_contour(mask.person, shape.transform, codec.N_POINTS)
        assert np.array_equal(shape.fine, kept_before)
        assert np.array_equal(shape.fine, kept_before), "asked again, the same outline"
    assert np.array_equal(shapes[0].fine, codec.detailed_contour(masks[0].person, shapes[0].transform, codec.N_POINTS))


def test_the_drawn_silhouette_uses_the_full_resolution_outline() -> None:
    mask = _masks(1)[0]
    shape = next(complete_shapes([measure_shape(mask, codec.N_POINTS)], codec.N_POINTS, 25.0))
    points = shape.contour + 0.01
    fine = codec.detailed_contour(mask.person, shape.transform, codec.N_POINTS)
    outlines = anonymized_outlines(shape, points)
    assert np.array_equal(outlines[0], fine)
    assert np.array_equal(outlines[1], codec.restore_detail(fine, shape.contour, points))
    drawn = anonymized_silhouette(shape, points)
    assert np.array_equal(drawn, codec.contour_to_mask(outlines[1], shape.transform, mask.person.shape))


def test_a_covered_frame_has_no_outline() -> None:
    shape = FrameShape(index=0, person=MaskCrop.of(_walker()), shadow=MaskCrop.of(np.zeros((240, 320), bool)),
                       segmenter="fused", body="whole", people=1, camera_moved=False)
    assert shape.fine is None
