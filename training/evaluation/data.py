"""Walks of the evaluated subjects, the gallery and probe sets, and how an output is drawn before an
attacker sees it (DESIGN.md "Draw what the product shows")."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gaitanon_core.shape.casiab import casiab_dir, walk_key
from gaitanon_core.shape.codec import CanonicalTransform, contour_to_mask
from gaitanon_core.errors import GaitanonError
from training.splits import ALL_WALKS, BG_WALKS, CL_WALKS, NM_WALKS, VIEWS
from training.attackers import as_attacker_sees
from training.train_attackers import middle_frames

GALLERY_WALKS = NM_WALKS[:4]
PROBE_SETS: dict[str, tuple[str, ...]] = {"nm": NM_WALKS[4:], "bg": BG_WALKS, "cl": CL_WALKS}
QUICK_FRAMES = 30
SET_FRAMES = 30  # frames of each walk kept for the set-based attackers (evenly spaced)

# Outputs are drawn at the dataset's own scale (64 px per body height) on a canvas two body heights
# tall and wide, so a raised head or a wide stride is never cut off by a 64-row frame; then they are
# pre-treated like the dataset (rows cropped, height 64, centred), as a recogniser would see them.
DRAW_SIZE = 128
DRAW_TRANSFORM = CanonicalTransform(scale=64.0, x0=DRAW_SIZE / 2, y0=DRAW_SIZE / 4)
DRAWING_VERSION = 1  # bump when drawing or pre-treatment changes what an attacker sees (cache keys use it)


@dataclass(frozen=True)
class WalkRecord:
    """One walk, kept bit-packed (the dataset's own form) to hold a whole test set in memory."""

    subject: str
    walk: str
    view: str
    packed: np.ndarray  # (T, 64, 8) uint8

    @property
    def silhouettes(self) -> np.ndarray:
        return np.unpackbits(self.packed, axis=-1).astype(bool)


def load_records(
    subject_ids: Iterable[str], data_dir: Path | None, max_frames: int | None, walks: Sequence[str] = ALL_WALKS,
    views: Sequence[str] = VIEWS,
) -> list[WalkRecord]:
    records = []
    for sid in subject_ids:
        path = casiab_dir(data_dir) / f"{sid}.npz"
        if not path.exists():
            raise GaitanonError(f"subject {sid} is not in the data folder {path.parent}")
        with np.load(path) as packed:
            for walk in walks:
                for view in views:
                    key = walk_key(walk, view)
                    if key in packed.files and len(packed[key]):
                        records.append(WalkRecord(sid, walk, view, middle_frames(packed[key], max_frames)))
    return records


NATURALNESS_VIEWS = ("036", "090", "144")


def in_naturalness_sample(record: WalkRecord) -> bool:
    return record.walk == "nm-05" and record.view in NATURALNESS_VIEWS


def parse_subjects(values: Sequence[str]) -> tuple[str, ...]:
    """'085-100' ranges and single ids -> zero-padded ids, in order."""
    ids: list[str] = []
    for value in values:
        first, _, last = value.partition("-")
        ids += [f"{i:03d}" for i in range(int(first), int(last or first) + 1)]
    return tuple(dict.fromkeys(ids))


def draw_tall(contours: np.ndarray) -> np.ndarray:
    """Canonical contours (T, N, 2) -> (T, 128, 128) bool frames, two body heights tall: nothing cut off."""
    return np.stack([contour_to_mask(c, DRAW_TRANSFORM, (DRAW_SIZE, DRAW_SIZE)) for c in contours])


def draw_as_attacker_sees(contours: np.ndarray) -> np.ndarray:
    """Canonical contours (T, N, 2) -> (T, 64, 64) bool frames drawn without clipping and pre-treated
    like the dataset; a frame drawn wholly off the canvas (only a tool owner's inverse makes such
    outlines) stays empty."""
    return np.stack([as_attacker_sees(f[None])[0] if f.any() else np.zeros((64, 64), bool) for f in draw_tall(contours)])


def evenly_spaced(walk: np.ndarray, count: int = SET_FRAMES) -> np.ndarray:
    """`count` frames spread over the walk (repeating frames of a shorter one)."""
    return walk[np.linspace(0, len(walk) - 1, count).round().astype(int)]
