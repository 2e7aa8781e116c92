"""Run an exported anonymizer (ONNX) on a CASIA-B silhouette walk, for the evaluation.

silhouettes (T, 64, 64) bool -> contours by the codec -> noise from the noise
generator (z ~ N(0, I) from `rng`) -> anonymizer -> silhouettes by the codec.
Frames the codec cannot outline (near-empty drop-outs) stay empty in the output.

Models are found by name or alpha in a manifest: the shipped ones in models/,
the paper's configuration in $GAITANON_CACHE/reference/ (training.export --which
reference) and the 2017 baseline in $GAITANON_CACHE/baseline/ (training.baseline).
The baseline's noise is a real walk of another anonymiser subject (061-076) seen
from the same view, so it needs the probe's view.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from gaitanon_core.shape.codec import decode_casiab
from gaitanon_core.paths import models_dir
from training.splits import NM_WALKS, subjects

from .common import cache_root
from .dataset import encode_walk, MIN_FRAME_PIXELS, resample_time, subject_contours
from .manifest import load_manifest

BASELINE_NOISE_GROUP = "anonymiser"


def model_folders() -> list[Path]:
    """Where models are looked up, in order: shipped, reference, baseline."""
    return [models_dir(), cache_root() / "reference", cache_root() / "baseline"]


def find_entry(model: str | float) -> tuple[Path, dict[str, Any]]:
    """The manifest entry of an anonymizer-like model by name, or the shipped anonymizer of that alpha."""
    for folder in model_folders():
        for entry in load_manifest(folder).get("models", []):
            if entry["name"] == model or (not isinstance(model, str) and entry["role"] == "anonymizer"
                                           and abs(entry["alpha"] - float(model)) < 1e-6):
                return folder, entry
    raise KeyError(f"no anonymizer {model!r} in {', '.join(map(str, model_folders()))}")


@lru_cache(maxsize=16)
def session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # the evaluation runs beside trainings on shared cores
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def noise_for(folder: Path, entry: dict[str, Any], contours: np.ndarray, rng: np.random.Generator,
              view: str | None) -> np.ndarray:
    """The anonymizer's noise input (batch 1): G_N(z), or for the baseline another person's walk."""
    if entry["noise"]["kind"] == "sequence":
        if view is None:
            raise ValueError("the 2017 baseline needs the walk's view to pick another person's walk of that view")
        return baseline_noise_walk(view, len(contours), rng)[None]
    generator = next(e for e in load_manifest(folder)["models"] if e["name"] == entry["noise_generator"])
    net = session(folder / generator["file"])
    z_dim = int(generator["inputs"][0]["shape"][1])
    return net.run(None, {"z": rng.standard_normal((1, z_dim)).astype(np.float32)})[0]


def baseline_noise_walk(view: str, length: int, rng: np.random.Generator) -> np.ndarray:
    """A random anonymiser subject's normal walk at `view`, looped or cut to `length` frames: (length, N, 2)."""
    subject = subjects(BASELINE_NOISE_GROUP)[int(rng.integers(len(subjects(BASELINE_NOISE_GROUP))))]
    walks = subject_contours(subject)
    keys = [f"{w}_{view}" for w in NM_WALKS if f"{w}_{view}" in walks]
    seq = walks[keys[int(rng.integers(len(keys)))]]
    return resample_time(seq, np.arange(length) % len(seq)).astype(np.float32)


def anonymize_silhouettes(silhouettes: np.ndarray, model: str | float, rng: np.random.Generator,
                          view: str | None = None) -> np.ndarray:
    """(T, 64, 64) bool -> anonymized (T, 64, 64) bool with the named model (or shipped alpha).

    `view` (e.g. "090") is needed only by the 2017 baseline.
    """
    silhouettes = np.asarray(silhouettes, dtype=bool)
    present = silhouettes.reshape(len(silhouettes), -1).sum(axis=1) >= MIN_FRAME_PIXELS
    out = np.zeros_like(silhouettes)
    if not present.any():
        return out
    contours = encode_walk(silhouettes)
    folder, entry = find_entry(model)
    noise = noise_for(folder, entry, contours, rng, view)
    anonymized = session(folder / entry["file"]).run(None, {"contours": contours[None], "noise": noise})[0][0]
    out[present] = decode_casiab(anonymized)
    return out
