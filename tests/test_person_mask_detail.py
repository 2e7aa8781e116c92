"""The learned person mask reads a small person's crop from the full-resolution frame (`person_mask._crop_source`)."""

from __future__ import annotations

import cv2
import numpy as np

from gaitanon_core.people.person_mask import INPUT_SIZE, Box, _crop_source, _roi_transform
from moving_scenes import texture


def _crop(source: np.ndarray, source_to_crop: np.ndarray) -> np.ndarray:
    return cv2.warpAffine(source, source_to_crop, (INPUT_SIZE, INPUT_SIZE), flags=cv2.INTER_LINEAR)


def test_a_small_person_s_crop_is_the_same_place_read_from_full_resolution() -> None:
    full = cv2.GaussianBlur(texture((480, 640), 5), (0, 0), 2.0)  # smooth: both reads agree but for detail
    small = cv2.resize(full, (320, 240), interpolation=cv2.INTER_AREA)
    box = Box(140, 60, 180, 160)  # 100 px tall at the working size: the crop would be enlarged
    to_crop = _roi_transform(box)
    source, source_to_crop = _crop_source(small, full, to_crop, box)
    assert source is full
    from_full, from_small = _crop(full, source_to_crop), _crop(small, to_crop)
    assert np.abs(from_full.astype(int) - from_small).mean() < 3  # same place (a pixel off would differ more)
    shifted = _crop(small, to_crop + np.array([[0, 0, 4.0], [0, 0, 0]], np.float32))
    assert np.abs(shifted.astype(int) - from_small).mean() > np.abs(from_full.astype(int) - from_small).mean()


def test_the_working_size_is_read_where_it_has_the_pixels_or_full_size_would_be_reduced_too_far() -> None:
    full = texture((2160, 3840), 6)
    small = cv2.resize(full, (480, 270), interpolation=cv2.INTER_AREA)  # 4K: 8x
    for box, detail in [(Box(100, 20, 300, 260), full),  # 240 px tall: the working size fills the crop
                        (Box(200, 100, 230, 160), full),  # 60 px: 8x of it would be reduced 3.75x
                        (Box(200, 100, 230, 160), None)]:  # no full-resolution frame given
        source, to_crop = _crop_source(small, detail, _roi_transform(box), box)
        assert source is small and np.array_equal(to_crop, _roi_transform(box))
