"""The CASIA-B frame: reading its 64x64 silhouettes, and normalising a mask the way it was made.

Reading the CASIA-B 64x64 silhouettes (../shared/data/casiab64/SSS.npz).

Keys are `COND_VVV` (e.g. `nm-05_090`); values are (T, 64, 8) uint8 arrays of
bit-packed 64x64 binary silhouettes. Every key is optional.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..paths import shared_data_dir


def casiab_dir(data_dir: Path | None = None) -> Path:
    return (data_dir or shared_data_dir()) / "casiab64"


def walk_key(walk: str, view: str) -> str:
    return f"{walk}_{view}"


def load_subject(subject: str, data_dir: Path | None = None) -> dict[str, np.ndarray]:
    """All walks of one subject as {key: bool array (T, 64, 64)}."""
    with np.load(casiab_dir(data_dir) / f"{subject}.npz") as packed:
        return {key: unpack(packed[key]) for key in packed.files}


def load_walk(subject: str, walk: str, view: str, data_dir: Path | None = None) -> np.ndarray | None:
    """One walk (T, 64, 64) bool, or None when the source lacks it."""
    key = walk_key(walk, view)
    with np.load(casiab_dir(data_dir) / f"{subject}.npz") as packed:
        return unpack(packed[key]) if key in packed.files else None


def unpack(bits: np.ndarray) -> np.ndarray:
    return np.unpackbits(bits, axis=-1).astype(bool)


def crop_44(silhouettes: np.ndarray) -> np.ndarray:
    """The central 44 columns that gait recognisers use: (..., 64, 64) -> (..., 64, 44)."""
    return silhouettes[..., 10:54]


def normalise_like_casiab(mask: np.ndarray, size: int = 64) -> np.ndarray:
    """The dataset's own normalisation: crop to the person's rows, height `size` keeping the aspect,
    centred on the column where the silhouette's mass passes half, `size` x `size` bool."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return np.zeros((size, size), bool)
    strip = mask[rows[0]:rows[-1] + 1].astype(np.uint8) * 255
    width = max(1, int(size * strip.shape[1] / strip.shape[0]))
    strip = cv2.resize(strip, (width, size), interpolation=cv2.INTER_CUBIC)
    mass = strip.astype(np.float64).sum(axis=0).cumsum()
    centre = int(np.argmax(mass > mass[-1] / 2))
    half = size // 2
    padded = np.pad(strip, ((0, 0), (half, half)))
    return padded[:, centre:centre + size] > 127
