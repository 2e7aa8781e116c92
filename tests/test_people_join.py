"""Motion no track follows, next to a followed person (a foot stepping past their box, a hand cut off), is
theirs and anonymized with them; farther motion stays unfollowed (covered and flagged)."""

from __future__ import annotations

import numpy as np

from gaitanon_core.people.silhouettes import FrameMask
from gaitanon_core.people.tracks import PeopleFrame
from gaitanon_core.pipeline.people import _join_to_people


def test_a_piece_beside_a_person_joins_them_and_a_far_one_stays_unfollowed() -> None:
    person = np.zeros((120, 200), bool)
    person[20:100, 40:60] = True  # 80 px tall: pieces within 12 px of them are theirs
    unowned = np.zeros_like(person)
    unowned[90:100, 66:72] = True  # a foot 6 px past the body
    unowned[90:100, 73:76] = True  # the toes, 1 px past the foot: joined through it
    unowned[40:50, 150:160] = True  # somebody else, far away
    mask = FrameMask(0, person.copy(), np.zeros_like(person), "fused", "whole", 1, False)
    rest = _join_to_people(PeopleFrame(0, {1: mask}, unowned))
    assert mask.person[90:100, 66:76].sum() == 90 and mask.person[20:100, 40:60].all()
    assert np.array_equal(rest, unowned & ~mask.person) and rest[40:50, 150:160].all() and rest.sum() == 100
