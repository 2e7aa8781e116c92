from training.splits import SUBJECT_SPLIT, subjects

import pytest


def test_groups_are_disjoint_and_cover_002_to_100():
    seen: list[str] = [s for group in SUBJECT_SPLIT.values() for s in group]
    assert len(seen) == len(set(seen)), "a subject sits in two groups"
    assert sorted(seen) == [f"{i:03d}" for i in range(2, 101)]


def test_groups_match_the_data_readme():
    assert subjects("attacker")[0] == "007" and subjects("attacker")[-1] == "050"
    assert subjects("test") == tuple(f"{i:03d}" for i in range(85, 101))


def test_unknown_group_is_a_clear_error():
    with pytest.raises(KeyError, match="unknown subject group"):
        subjects("train")
