"""The covers a user asks for: boxes over a frame range, and a person covered whole by a filled capsule whose
size does not follow the stride."""

from __future__ import annotations

import numpy as np
import pytest

from gaitanon_core.errors import UsageError
from gaitanon_core.render.covers import (
    COVER_COLOUR, CoverBox, check_cover_boxes, held_extents, paint_capsule, paint_cover_boxes, parse_cover_box,
)


@pytest.mark.parametrize("text, box", [
    ("10,20,30,40", CoverBox(10, 20, 30, 40)),
    ("10,20,30,40@1.5-3", CoverBox(10, 20, 30, 40, 1.5, 3.0)),
    ("1,2,3,4@-2", CoverBox(1, 2, 3, 4, None, 2.0)),
    ("1,2,3,4@2-", CoverBox(1, 2, 3, 4, 2.0, None)),
])
def test_a_cover_box_is_read_as_the_cli_writes_it(text: str, box: CoverBox) -> None:
    assert parse_cover_box(text) == box
    assert parse_cover_box(box.label()) == box


@pytest.mark.parametrize("text", ["10,20,30", "a,b,c,d", "1,2,3,4@3-1", "1,2,3,4@x-y"])
def test_a_malformed_cover_box_says_how_to_write_one(text: str) -> None:
    with pytest.raises(UsageError, match="cover box"):
        parse_cover_box(text)


def test_a_box_off_the_frame_or_without_area_is_refused() -> None:
    check_cover_boxes([CoverBox(0, 0, 320, 240)], 320, 240)
    for box in (CoverBox(300, 0, 30, 10), CoverBox(0, 0, 0, 10), CoverBox(0, 230, 10, 11)):
        with pytest.raises(UsageError, match="outside the 320x240 frame"):
            check_cover_boxes([box], 320, 240)


def test_a_box_is_painted_only_within_its_times() -> None:
    boxes = [CoverBox(2, 3, 4, 5, 1.0, 2.0)]
    for time_s, painted in ((0.9, 0), (1.0, 1), (2.0, 1), (2.1, 0)):
        image = np.zeros((20, 20, 3), np.uint8)
        assert paint_cover_boxes(image, boxes, time_s) == painted
        assert (image[3:8, 2:6] == COVER_COLOUR).all() == bool(painted)
        assert image.sum() == painted * 4 * 5 * sum(COVER_COLOUR)


def test_the_capsule_keeps_its_size_while_the_legs_open_and_close() -> None:
    fps = 25.0
    # a walker 100 px tall moving right, the box's width swinging 20-50 px with the stride
    extents = {k: (50, 10 + 3 * k, 150, 10 + 3 * k + int(35 + 15 * np.sin(k / 2))) for k in range(100)}
    held = held_extents(extents, fps)
    middle = range(20, 80)  # a whole window either side
    widths = {held[k][3] - held[k][1] for k in middle}
    assert max(widths) - min(widths) <= 2, widths  # the 30 px swing does not show (2: sampling of its peaks)
    for k, (y0, x0, y1, x1) in extents.items():  # the person's own box always lies inside
        hy0, hx0, hy1, hx1 = held[k]
        assert hy0 <= y0 and hx0 <= x0 and hy1 >= y1 and hx1 >= x1


def test_the_capsule_covers_the_whole_box_it_is_given_but_its_corners() -> None:
    image = np.zeros((200, 200, 3), np.uint8)
    paint_capsule(image, (40, 80, 160, 120))
    grey = (image == COVER_COLOUR).all(axis=2)
    assert grey[40:160, 80:120].all()  # grown by a margin: even the box's corners are covered
    assert not grey[:20].any() and not grey[:, :60].any()
