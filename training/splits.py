"""The one subject split that every trainer and the evaluation read.

It mirrors ../shared/data/README.md: disjoint subject groups, so no figure is
reported on subjects that a model was trained on.
"""

from __future__ import annotations


def _ids(first: int, last: int) -> tuple[str, ...]:
    return tuple(f"{i:03d}" for i in range(first, last + 1))


SUBJECT_SPLIT: dict[str, tuple[str, ...]] = {
    "clip": _ids(2, 6),  # colour clips: the video-domain test, never trained on
    "attacker": _ids(7, 50),  # gait recognisers that play the attacker
    "noise": _ids(51, 60),  # the noise generator G_N
    "anonymiser": _ids(61, 76),  # the ST-GAN and any surrogate recogniser it uses
    "validation": _ids(77, 84),  # model selection, privacy-check calibration
    "test": _ids(85, 100),  # every published silhouette-domain figure
}

VIEWS: tuple[str, ...] = tuple(f"{v:03d}" for v in range(0, 181, 18))
NM_WALKS: tuple[str, ...] = tuple(f"nm-{i:02d}" for i in range(1, 7))
BG_WALKS: tuple[str, ...] = ("bg-01", "bg-02")
CL_WALKS: tuple[str, ...] = ("cl-01", "cl-02")
ALL_WALKS: tuple[str, ...] = NM_WALKS + BG_WALKS + CL_WALKS


def subjects(group: str) -> tuple[str, ...]:
    """Subject ids of one group; an unknown group name is an error."""
    try:
        return SUBJECT_SPLIT[group]
    except KeyError:
        raise KeyError(f"unknown subject group {group!r}; groups: {', '.join(SUBJECT_SPLIT)}") from None
