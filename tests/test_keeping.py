"""A kept person is re-confirmed by their colours after every crossing: the same colours keep them kept,
other colours (an identity switch) or none to compare end the keep at the crossing's end."""

from __future__ import annotations

import numpy as np

from gaitanon_core.people.silhouettes import FrameMask
from gaitanon_core.pipeline.keeping import crossing, kept_until, person_look
from gaitanon_core.shape import codec
from gaitanon_core.shape.tracking import measure_shape

SIZE = (120, 200)
RED, BLUE = (200, 30, 30), (30, 30, 200)


def shape_at(index: int, left: int):
    person = np.zeros(SIZE, bool)
    person[20:100, left : left + 20] = True
    return measure_shape(FrameMask(index, person, np.zeros_like(person), "fused", "whole", 2, False), codec.N_POINTS)


def look(colour: tuple[int, int, int], index: int = 0) -> np.ndarray:
    image = np.zeros((*SIZE, 3), np.uint8)
    image[20:100, 40:60] = colour
    return person_look(image, shape_at(index, 40))


def two_crossing(frames: int = 40) -> dict[int, dict]:
    """Person 1 walks right, person 2 left; their boxes overlap on frames 18-22."""
    return {1: {i: shape_at(i, 10 + 4 * i) for i in range(frames)},
            2: {i: shape_at(i, 170 - 4 * i) for i in range(frames)}}


def crossed_frames(shapes: dict[int, dict]) -> list[int]:
    return [i for i in shapes[1] if crossing(shapes[1][i], shapes[2][i])]


def test_the_same_colours_after_the_crossing_keep_the_person_kept() -> None:
    shapes = two_crossing()
    assert crossed_frames(shapes) == list(range(18, 23))
    assert kept_until(1, shapes, {i: look(RED) for i in range(40)}) is None


def test_other_colours_after_the_crossing_end_the_keep_there() -> None:
    shapes = two_crossing()
    switched = {i: look(RED if i < 18 else BLUE) for i in range(40)}  # the tracker went on with the other
    assert kept_until(1, shapes, switched) == 23


def test_no_whole_frame_after_the_crossing_ends_the_keep_there() -> None:
    shapes = two_crossing()
    assert kept_until(1, shapes, {i: look(RED) for i in range(18)}) == 23


def test_without_a_crossing_the_person_stays_kept() -> None:
    shapes = two_crossing()
    del shapes[2]
    assert kept_until(1, shapes, {}) is None
