"""Reading the CASIA-B 64x64 silhouettes (../shared/data/casiab64/SSS.npz).

Keys are `COND_VVV` (e.g. `nm-05_090`); values are (T, 64, 8) uint8 arrays of
bit-packed 64x64 binary silhouettes. Every key is optional.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .paths import shared_data_dir


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
