"""CASIA-B silhouettes -> canonical contour sequences (the run-time codec), and what the trainers sample.

Every walk of a subject (11 views, nm/bg/cl) is encoded once with
`gaitanon_core.contours.encode_casiab` and cached as float16 in
`$GAITANON_CACHE/contours/<layout>-<N>-<codec fingerprint>/<subject>.npz`, outside
the work tree. The fingerprint hashes the codec's output on fixed frames, so a codec
change never reads stale points.

Augmentations (each keeps a walk a plausible walk): mirror (x -> -x with the
point order reversed, which is the same walk seen from the mirrored view),
small width changes (the canonical frame fixes the height at 1), and speed
changes by resampling time.

Usage: `python -m training.dataset --groups noise anonymiser validation` fills the cache.
"""

from __future__ import annotations

import argparse
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from gaitanon_core.shape.casiab import load_subject, load_walk
from gaitanon_core.shape.codec import LAYOUT, N_POINTS, anchor_indices, encode_casiab
from training.splits import subjects

from .common import cache_root

MIN_FRAME_PIXELS = 50  # frames with fewer silhouette pixels are segmentation drop-outs, not a body
# Gait period search range in frames at 25 fps: a full cycle (two steps) takes about 0.9-1.4 s.
MIN_PERIOD, MAX_PERIOD = 20, 36


FINGERPRINT_WALK = ("061", "nm-01", "090")  # the codec's output on these frames names its version


@lru_cache(maxsize=1)
def codec_tag() -> str:
    """Layout, N and a hash of what the codec outputs on fixed real frames: cached contours of
    another codec behaviour are never read (a refactor of the codec keeps the cache)."""
    frames = load_walk(*FINGERPRINT_WALK)[::8]
    digest = hashlib.sha256(encode_casiab(frames).tobytes()).hexdigest()[:10]
    return f"{LAYOUT}-{N_POINTS}-{digest}"


def contour_cache_dir() -> Path:
    folder = cache_root() / "contours" / codec_tag()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def encode_walk(silhouettes: np.ndarray) -> np.ndarray:
    """(T, 64, 64) bool -> (T', N, 2) float32, dropping near-empty frames the codec cannot outline."""
    keep = silhouettes.reshape(len(silhouettes), -1).sum(axis=1) >= MIN_FRAME_PIXELS
    return encode_casiab(silhouettes[keep])


def subject_contours(subject: str) -> dict[str, np.ndarray]:
    """{walk key: (T, N, 2) float32} for one subject, from the cache (encoded on first use)."""
    path = contour_cache_dir() / f"{subject}.npz"
    if not path.exists():
        encoded = {key: encode_walk(sils).astype(np.float16) for key, sils in load_subject(subject).items()}
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **{k: v for k, v in encoded.items() if len(v) >= 2})
        tmp.replace(path)
    with np.load(path) as packed:
        return {key: packed[key].astype(np.float32) for key in packed.files}


@dataclass(frozen=True)
class Walk:
    subject: str
    key: str  # COND_VVV, e.g. nm-01_090
    contours: np.ndarray  # (T, N, 2) float32 canonical

    @property
    def view(self) -> str:
        return self.key.split("_")[1]

    @property
    def condition(self) -> str:
        return self.key.split("_")[0]


def load_walks(group: str, walk_prefixes: tuple[str, ...] = ("nm", "bg", "cl")) -> list[Walk]:
    """Every cached walk of a subject group (see gaitanon_core.splits), in a stable order."""
    return [
        Walk(subject, key, seq)
        for subject in subjects(group)
        for key, seq in sorted(subject_contours(subject).items())
        if key.split("-")[0] in walk_prefixes
    ]


# --- augmentations ------------------------------------------------------------------------------------


def mirror_index(n: int) -> np.ndarray:
    """Point order of the mirrored contour: the start (head top) stays, the rest runs backwards.

    The anchored layout is mirror-symmetric, so the reversal maps each anchor onto
    its mirror anchor (left foot <-> right foot).
    """
    return (-np.arange(n)) % n


def mirror(contours: np.ndarray) -> np.ndarray:
    """(..., N, 2) -> the same walk seen mirrored (the view v becomes 180 - v)."""
    flipped = contours[..., mirror_index(contours.shape[-2]), :].copy()
    flipped[..., 0] *= -1.0
    return flipped


def resample_time(seq: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Linear interpolation of a (T, N, 2) sequence at fractional frame times within [0, T-1]."""
    times = np.clip(times, 0.0, len(seq) - 1.0)
    low = np.floor(times).astype(int)
    high = np.minimum(low + 1, len(seq) - 1)
    frac = (times - low)[:, None, None]
    return (1.0 - frac) * seq[low] + frac * seq[high]


@dataclass(frozen=True)
class Augment:
    mirror_p: float = 0.5
    speed: tuple[float, float] = (0.85, 1.2)  # source frames per output frame
    width: tuple[float, float] = (0.93, 1.07)  # x scale; the canonical height is 1 by definition

    def clip(self, seq: np.ndarray, length: int, rng: np.random.Generator, flip: bool | None = None) -> np.ndarray:
        """A random `length`-frame clip of the walk, speed- and width-changed, mirrored when `flip`
        (None: at random with probability mirror_p)."""
        speed = min(rng.uniform(*self.speed), (len(seq) - 1) / max(length - 1, 1))
        span = speed * (length - 1)
        start = rng.uniform(0.0, max(0.0, len(seq) - 1 - span))  # max: rounding when the walk is just long enough
        out = resample_time(seq, start + speed * np.arange(length))
        out[..., 0] *= rng.uniform(*self.width)
        flip = rng.random() < self.mirror_p if flip is None else flip
        return mirror(out) if flip else out




@dataclass(frozen=True)
class ClipBatch:
    clips: np.ndarray  # (B, length, N, 2) float32
    walks: list[Walk]  # where each clip came from
    flipped: np.ndarray  # (B,) bool: mirrored by the augmentation


def sample_clips(walks: list[Walk], batch: int, length: int, rng: np.random.Generator,
                 augment: Augment = Augment()) -> ClipBatch:
    """`batch` random augmented clips of random walks."""
    chosen = [walks[i] for i in rng.integers(0, len(walks), size=batch)]
    flipped = rng.random(batch) < augment.mirror_p
    clips = np.stack([augment.clip(w.contours, length, rng, f) for w, f in zip(chosen, flipped)])
    return ClipBatch(clips.astype(np.float32), chosen, flipped)


# --- gait cycles (for the walking-sequence noise generator) -----------------------------------------------


def gait_period(seq: np.ndarray) -> int:
    """Frames per full gait cycle: the lag (within MIN..MAX_PERIOD) where the walk repeats best."""
    if len(seq) < MIN_PERIOD + 3:
        raise ValueError(f"a walk of {len(seq)} frames is shorter than one gait cycle")
    lags = np.arange(MIN_PERIOD, min(MAX_PERIOD, len(seq) - 2) + 1)
    cost = [np.mean((seq[lag:] - seq[:-lag]) ** 2) for lag in lags]
    return int(lags[int(np.argmin(cost))])


def stride(seq: np.ndarray) -> np.ndarray:
    """Per-frame distance between the two foot anchors: largest at double support."""
    anchors = anchor_indices(seq.shape[1])
    return np.hypot(*(seq[:, anchors["left_foot"]] - seq[:, anchors["right_foot"]]).T)


def extract_cycles(seq: np.ndarray, phases: int) -> np.ndarray:
    """Whole gait cycles of a walk, each resampled to `phases` frames, starting at the widest stride.

    Returns (K, phases, N, 2); K = 0 when the walk is shorter than one cycle.
    """
    if len(seq) < MIN_PERIOD + 3:  # shorter than one cycle
        return np.zeros((0, phases, *seq.shape[1:]), np.float32)
    period = gait_period(seq)
    start = int(np.argmax(stride(seq)[:period]))
    starts = range(start, len(seq) - period, period)
    cycles = [resample_time(seq, s + period * np.arange(phases) / phases) for s in starts]
    return np.array(cycles, dtype=np.float32).reshape(-1, phases, *seq.shape[1:])


def cycle_set(walks: list[Walk], phases: int) -> np.ndarray:
    """All gait cycles of the walks plus their mirrors: (K, phases, N, 2)."""
    cycles = np.concatenate([extract_cycles(w.contours, phases) for w in walks])
    return np.concatenate([cycles, mirror(cycles)]).astype(np.float32)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Encode CASIA-B subject groups into the contour cache.")
    parser.add_argument("--groups", nargs="+", default=["noise", "anonymiser", "validation"])
    args = parser.parse_args(argv)
    for group in args.groups:
        for subject in subjects(group):
            walks = subject_contours(subject)
            print(f"{group} {subject}: {len(walks)} walks, {sum(len(v) for v in walks.values())} frames", flush=True)


if __name__ == "__main__":
    main()
