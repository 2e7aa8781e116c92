"""The anonymizers under test: what an attacker sees of a walk after each of them.

Every condition returns the walk as an attacker sees it: pre-treated like the dataset, and, for the
ones that make contours, drawn without clipping (data.draw_as_attacker_sees). Shipped models run
through the engine's own ModelBank (windows, cross-fades, folds pulled back), and their raw network
output is kept beside it so that self-intersections are counted before the engine mends them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gaitanon_core.shape.codec import encode_casiab
from gaitanon_core.errors import GaitanonError
from gaitanon_core.inference.anonymizer import ModelBank
from training.splits import subjects
from training import distortions
from training.attackers import as_attacker_sees
from training.manifest import load_manifest

from .data import WalkRecord, draw_as_attacker_sees, in_naturalness_sample, load_records


@dataclass(frozen=True)
class Anonymized:
    silhouettes: np.ndarray  # (T, 64, 64) bool, what an attacker sees (pre-treated like the dataset)
    contours: np.ndarray | None  # (T, N, 2) the outline the product draws, if the anonymizer makes one
    raw_contours: np.ndarray | None = None  # the network's own output before the engine unfolds it


@dataclass(frozen=True)
class Condition:
    name: str
    kind: str  # "reference" | "trivial" | "model" | "baseline"
    run: Callable[[WalkRecord, np.random.Generator], Anonymized]
    alpha: float | None = None
    entry_name: str | None = None
    fingerprint: str = ""  # what the cached results depend on besides the name (every model file's sha256)
    models_dir: Path | None = None  # the models folder a shipped-model condition runs from


def _silhouette_condition(name: str, transform: Callable[[np.ndarray], np.ndarray]) -> Condition:
    return Condition(name, "trivial", lambda rec, rng: Anonymized(as_attacker_sees(transform(rec.silhouettes)), None))


def _contour_condition(
    name: str, kind: str, transform: Callable[[np.ndarray, WalkRecord, np.random.Generator], np.ndarray], **extra: Any
) -> Condition:
    def run(record: WalkRecord, rng: np.random.Generator) -> Anonymized:
        contours = transform(encode_casiab(record.silhouettes), record, rng)
        return Anonymized(draw_as_attacker_sees(contours), contours)

    return Condition(name, kind, run, **extra)


ORIGINAL = "original (no anonymization)"


class DonorWalks:
    """Walks of the noise-group subjects (never evaluated) to blend toward, per view, encoded once."""

    def __init__(self, data_dir: Path | None) -> None:
        self.data_dir = data_dir
        self._by_view: dict[str, list[np.ndarray]] = {}

    def pick(self, view: str, rng: np.random.Generator) -> np.ndarray:
        if view not in self._by_view:
            donors = load_records(subjects("noise"), self.data_dir, None, walks=("nm-01",))
            self._by_view[view] = [encode_casiab(d.silhouettes) for d in donors if d.view == view]
        choices = self._by_view[view]
        return choices[int(rng.integers(len(choices)))]


def trivial_conditions(data_dir: Path | None) -> list[Condition]:
    donors = DonorWalks(data_dir)
    return [
        Condition(ORIGINAL, "reference", lambda rec, rng: Anonymized(rec.silhouettes, None)),  # already pre-treated
        _contour_condition("codec round trip", "reference", lambda c, rec, rng: c),
        _silhouette_condition("width stretch x1.15", lambda s: distortions.width_stretch(s, 1.15)),
        _silhouette_condition("leg stretch x1.15", lambda s: distortions.leg_stretch(s, 1.15)),
        _silhouette_condition("dilation 1 px", lambda s: distortions.dilate(s, 1)),
        _silhouette_condition("blur sigma 1.5 px", lambda s: distortions.blur(s, 1.5)),
        _contour_condition(
            "smooth contour jitter 2 px", "trivial", lambda c, rec, rng: distortions.smooth_contour_jitter(c, 2 / 64, rng)
        ),
        _contour_condition(
            "30% blend toward another walk",
            "trivial",
            lambda c, rec, rng: distortions.blend_toward(c, donors.pick(rec.view, rng), 0.3),
        ),
    ]


def model_fingerprint(bank: ModelBank, alpha: float) -> str:
    """Every file an output at `alpha` depends on: the anonymizer and the noise generator it names."""
    entry = bank.anonymizer_entry(alpha)
    named = entry.entry.get("noise_generator")
    noise = next(m for m in bank.entries if m.role == "noise_generator" and named in (None, m.name))
    return f"{entry.sha256}+{noise.sha256}"


def model_conditions(models_dir: Path) -> list[Condition]:
    """One condition per shipped anonymizer, run through the engine's own ModelBank."""
    try:
        bank = ModelBank(models_dir, device="cpu")
    except GaitanonError:
        return []  # no anonymizers shipped yet: the trivial ones are still measured
    conditions = []
    for alpha in bank.strengths:

        def run(record: WalkRecord, rng: np.random.Generator, a: float = alpha) -> Anonymized:
            contours = encode_casiab(record.silhouettes)
            clip = bank.start_clip(a, rng)
            final = np.stack([out for _, out in clip.stream((None, c) for c in contours)])
            # the network's own output in one window, for the naturalness sample only (it costs a second run)
            raw = clip.network.run(contours[None], clip.noise)[0] if in_naturalness_sample(record) else None
            return Anonymized(draw_as_attacker_sees(final), final, raw)

        entry_name = bank.anonymizer_entry(alpha).name
        conditions.append(
            Condition(f"{entry_name} (alpha {alpha:g})", "model", run, alpha=alpha,
                      entry_name=entry_name, fingerprint=model_fingerprint(bank, alpha))
        )
    return conditions


EVALUATION_ONLY_ROLES = {"reference": "paper's configuration", "baseline": "2017 baseline"}


def evaluation_only_conditions() -> list[Condition]:
    """The paper's configuration (the reference row) and the 2017 baseline (another person's walk
    as the noise): built by the models' commands outside models/, never shipped."""
    from training.anonymize_sils import anonymize_silhouettes, model_folders

    conditions = []
    for folder in model_folders()[1:]:
        for entry in load_manifest(folder).get("models", []):
            if entry.get("role") not in EVALUATION_ONLY_ROLES:
                continue

            def run(record: WalkRecord, rng: np.random.Generator, name: str = entry["name"]) -> Anonymized:
                out = anonymize_silhouettes(record.silhouettes, name, rng, view=record.view)
                return Anonymized(as_attacker_sees(out), None)

            label = f"{EVALUATION_ONLY_ROLES[entry['role']]} ({entry['name']}, alpha {entry.get('alpha', 0):g})"
            conditions.append(Condition(label, "baseline", run, fingerprint=entry.get("sha256", "")))
    return conditions
