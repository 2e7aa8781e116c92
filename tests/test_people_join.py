"""Motion no track follows, next to a followed person (a foot stepping past their box, a hand cut off), is
theirs and anonymized with them; farther motion stays unfollowed (covered and flagged)."""

from __future__ import annotations

import numpy as np

from gaitanon_core.people.silhouettes import FrameMask
from gaitanon_core.people.tracks import PeopleFrame
from gaitanon_core.pipeline.people import _join_to_people
from gaitanon_core.pipeline.route import Person, kept_region, with_kept_joins
from gaitanon_core.shape import codec
from gaitanon_core.shape.tracking import measure_shape


def test_a_piece_beside_a_person_joins_them_and_a_far_one_stays_unfollowed() -> None:
    person = np.zeros((120, 200), bool)
    person[20:100, 40:60] = True  # 80 px tall: pieces within 12 px of them are theirs
    unowned = np.zeros_like(person)
    unowned[90:100, 66:72] = True  # a foot 6 px past the body
    unowned[90:100, 73:76] = True  # the toes, 1 px past the foot: joined through it
    unowned[40:50, 150:160] = True  # somebody else, far away
    mask = FrameMask(0, person.copy(), np.zeros_like(person), "fused", "whole", 1, False)
    rest, joined = _join_to_people(PeopleFrame(0, {1: mask}, unowned))
    assert np.array_equal(joined[1].full(), unowned & mask.person)
    assert mask.person[90:100, 66:76].sum() == 90 and mask.person[20:100, 40:60].all()
    assert np.array_equal(rest, unowned & ~mask.person) and rest[40:50, 150:160].all() and rest.sum() == 100


def test_a_large_piece_joined_to_a_kept_person_is_covered_not_kept() -> None:
    """A stranger touching the reporter must not come out unchanged with them."""
    person = np.zeros((120, 200), bool)
    person[20:100, 40:60] = True
    unowned = np.zeros_like(person)
    unowned[30:100, 62:70] = True  # joined: touches the kept person, 560 px: over a quarter of their 1600
    mask = FrameMask(0, person.copy(), np.zeros_like(person), "fused", "whole", 1, False)
    rest, joined = _join_to_people(PeopleFrame(0, {1: mask}, unowned))
    shape = measure_shape(mask, codec.N_POINTS)
    shape.joined = joined[1]
    kept = Person(1, shape, None, kept=True)
    assert not rest.any() and np.array_equal(joined[1].full(), unowned)
    assert np.array_equal(kept_region(shape), person)  # the person's own pixels, not the joined piece
    assert np.array_equal(with_kept_joins(None, [kept]).full(), unowned)  # covered as unfollowed motion
    kept.kept = False
    assert with_kept_joins(None, [kept]) is None  # anonymized: the piece is drawn with the person


def test_a_foot_joined_to_a_kept_person_stays_theirs() -> None:
    person = np.zeros((120, 200), bool)
    person[20:100, 40:60] = True
    unowned = np.zeros_like(person)
    unowned[94:100, 62:70] = True  # a foot past the box: 48 px
    mask = FrameMask(0, person.copy(), np.zeros_like(person), "fused", "whole", 1, False)
    _, joined = _join_to_people(PeopleFrame(0, {1: mask}, unowned))
    shape = measure_shape(mask, codec.N_POINTS)
    shape.joined = joined[1]
    assert np.array_equal(kept_region(shape), person | unowned)
    assert with_kept_joins(None, [Person(1, shape, None, kept=True)]) is None

