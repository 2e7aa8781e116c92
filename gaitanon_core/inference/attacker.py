"""Per-clip privacy check: would a gait recogniser link the anonymized walk to the original?

It embeds both walks with a shipped attacker (role "attacker" in models/manifest.json,
`silhouettes [B, T, 64, 44]` -> `embedding [B, D]`): the one retrained on the chosen strength's own
outputs where the manifest lists one (`"adapted_to": <anonymizer entry>`, an attacker who owns the
tool), else the recogniser trained with cheap distortions; and places their distance against the
distances between two walks of the same person and of two different people. Those distributions were measured on
the validation subjects (never the test subjects) and live in the attacker's manifest
entry under "calibration", written by `python -m training.evaluate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..shape.casiab import crop_44, normalise_like_casiab
from ..errors import GaitanonError, InputError
from .anonymizer import open_session
from .manifest import ModelEntry, manifest_entries, read_manifest, verify_file
from ..paths import models_dir as default_models_dir

ATTACKER_ROLE = "attacker"
MIN_CHECK_FRAMES = 8  # under a third of a stride: too little walk to judge

LIMITS_TEXT = (
    "This check asks one gait recogniser (a CNN on the silhouette's average shape, trained on "
    "the CASIA-B research walks with cheap distortions) about body shape only. It cannot see "
    "faces, clothing, hair, speed, cadence, the place or the time, which can also identify "
    "someone; a recogniser trained on this anonymizer's own outputs, or better than this one, "
    "may still link the walks; and its calibration comes from indoor research walks, so it is "
    "less certain on other footage."
)
ADAPTED_LIMITS_TEXT = (
    "This check asks one gait recogniser (a CNN on the silhouette's average shape, trained on the "
    "CASIA-B research walks and then retrained on this strength's own outputs, as someone who owns "
    "the tool would) about body shape only. It cannot see faces, clothing, hair, speed, cadence, "
    "the place or the time, which can also identify someone; a better recogniser may still link "
    "the walks; and its calibration comes from indoor research walks, so it is less certain on "
    "other footage."
)


@dataclass(frozen=True)
class PrivacyVerdict:
    distance: float  # between the two walks' embeddings (0 = identical, at most 2)
    same_person_quantile: float  # share of same-person walk pairs at least this similar
    verdict_text: str
    limits_text: str
    attacker: str = ""  # the manifest entry that judged


class AttackerEmbedder:
    """A shipped attacker's ONNX session (sha256 checked): walks -> L2-normalised embeddings;
    the one adapted to the anonymizer entry `adapted_to` where the manifest lists one.

    `onnx_path` runs an unlisted attacker file instead (the evaluation's cached ones)."""

    def __init__(self, models_dir: Path | None = None, onnx_path: Path | None = None, device: str = "cpu",
                 adapted_to: str | None = None) -> None:
        if onnx_path is None:
            model = attacker_model(models_dir or default_models_dir(), adapted_to)
            verify_file(model)
            onnx_path, self.entry = model.path, model.entry
        else:
            self.entry = {}
        self.session = open_session(onnx_path, device)

    def embed(self, walks: Sequence[np.ndarray]) -> np.ndarray:
        """Each walk (T, 64, 44) or (T, 64, 64) silhouettes -> one row of the (n, D) result."""
        return np.concatenate([self._embed_one(_as_input(walk)) for walk in walks])

    def _embed_one(self, walk: np.ndarray) -> np.ndarray:
        return self.session.run(["embedding"], {"silhouettes": walk[None]})[0]


def _as_input(walk: np.ndarray) -> np.ndarray:
    walk = np.asarray(walk)
    if walk.ndim != 3 or walk.shape[1] != 64 or walk.shape[2] not in (44, 64) or len(walk) == 0:
        raise InputError(
            f"a walk for the privacy check must be normalised silhouettes of shape (T, 64, 44) or (T, 64, 64), "
            f"not {walk.shape}"
        )
    return (crop_44(walk) if walk.shape[2] == 64 else walk).astype(np.float32)


def attacker_model(folder: Path, adapted_to: str | None = None) -> ModelEntry:
    """The attacker retrained on anonymizer `adapted_to`'s outputs if one is listed, else the
    one that has not seen any anonymizer's outputs."""
    attackers = [m for m in manifest_entries(folder, read_manifest(folder)) if m.role == ATTACKER_ROLE]
    adapted = [m for m in attackers if adapted_to is not None and m.entry.get("adapted_to") == adapted_to]
    plain = [m for m in attackers if not m.entry.get("adapted_to")]
    if not adapted and not plain:
        raise GaitanonError("no gait recogniser (role 'attacker') is installed, so the privacy check cannot run")
    return (adapted or plain)[0]


@dataclass(frozen=True)
class Calibration:
    """Distances between two walks on the validation subjects, as quantiles at `levels`."""

    levels: np.ndarray  # ascending shares 0..1
    same_person: np.ndarray  # distance at each level, same person (different walks, same view)
    different_person: np.ndarray  # distance at each level, two different people, same view
    threshold: float  # equal-error distance: below it a recogniser calls two walks one person

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> Calibration:
        block = entry.get("calibration")
        if not block:
            raise GaitanonError(
                "the gait recogniser has not been calibrated yet (run `python -m training.evaluate`), "
                "so the privacy check cannot judge distances"
            )
        return cls(
            np.asarray(block["levels"]),
            np.asarray(block["same_person"]),
            np.asarray(block["different_person"]),
            float(block["threshold"]),
        )

    def same_person_quantile(self, distance: float) -> float:
        """Share of same-person pairs whose distance is at most `distance`."""
        return float(np.interp(distance, self.same_person, self.levels, left=0.0, right=1.0))

    def different_person_quantile(self, distance: float) -> float:
        return float(np.interp(distance, self.different_person, self.levels, left=0.0, right=1.0))


def word_verdict(distance: float, calibration: Calibration) -> str:
    """Plain wording of where `distance` falls between the two calibrated distributions."""
    same_share = calibration.same_person_quantile(distance)
    closer_strangers = calibration.different_person_quantile(distance)
    if distance <= calibration.threshold and same_share < 0.95:
        return (
            f"A gait recogniser would link these two walks: they are closer than {100 * (1 - same_share):.0f}% "
            f"of pairs of walks by the same person."
        )
    if distance <= calibration.threshold:
        return (
            f"A gait recogniser would probably link these two walks: they are further apart than most pairs of "
            f"walks by the same person, but closer than {100 * (1 - closer_strangers):.0f}% of pairs of different people."
        )
    if same_share < 0.95:
        return (
            f"A gait recogniser might link these two walks: {100 * (1 - same_share):.0f}% of pairs of walks by "
            f"the same person are even further apart, and {100 * closer_strangers:.0f}% of pairs of different "
            f"people are closer."
        )
    return (
        f"A gait recogniser would probably not link these two walks: they are further apart than "
        f"{100 * same_share:.0f}% of pairs of walks by the same person, and as far apart as "
        f"{100 * closer_strangers:.0f}% of pairs of different people."
    )


def check_privacy(original_sils: np.ndarray, anonymized_sils: np.ndarray, models_dir: Path | None = None,
                  adapted_to: str | None = None) -> PrivacyVerdict:
    """Distance between the original and the anonymized walk in the attacker's embedding (the one
    adapted to anonymizer `adapted_to` where shipped), judged against the validation subjects'
    same-person and different-person distances."""
    embedder = AttackerEmbedder(models_dir, adapted_to=adapted_to)
    calibration = Calibration.from_entry(embedder.entry)
    original, anonymized = embedder.embed([original_sils, anonymized_sils])
    distance = float(np.linalg.norm(original - anonymized))
    return PrivacyVerdict(
        distance=distance,
        same_person_quantile=calibration.same_person_quantile(distance),
        verdict_text=word_verdict(distance, calibration),
        limits_text=ADAPTED_LIMITS_TEXT if embedder.entry.get("adapted_to") else LIMITS_TEXT,
        attacker=embedder.entry.get("name", ""),
    )


# Frames kept for the clip-level check: the recogniser averages over the walk, so a few
# hundred evenly spaced whole-body frames decide as well as all of them, in bounded memory.
MAX_CHECK_FRAMES = 240


class WalkSampler:
    """Collects a clip's whole-body frames, original and anonymized, normalised like CASIA-B."""

    def __init__(self, total_frames: int) -> None:
        self.stride = max(1, -(-total_frames // MAX_CHECK_FRAMES))
        self.seen = 0
        self.original: list[np.ndarray] = []
        self.anonymized: list[np.ndarray] = []

    def add(self, original_mask: np.ndarray, anonymized_mask: np.ndarray) -> None:
        if self.seen % self.stride == 0:
            self.original.append(normalise_like_casiab(original_mask))
            self.anonymized.append(normalise_like_casiab(anonymized_mask))
        self.seen += 1


def check_clip_privacy(walks: WalkSampler, models_dir: Path | None = None, adapted_to: str | None = None) -> dict[str, Any]:
    """The check's result for a clip report (by the attacker adapted to anonymizer `adapted_to` where
    shipped); where it cannot run, the reason instead of a verdict."""
    if len(walks.original) < MIN_CHECK_FRAMES:
        return {"available": False, "reason": f"fewer than {MIN_CHECK_FRAMES} whole-body frames to compare"}
    try:
        verdict = check_privacy(np.stack(walks.original), np.stack(walks.anonymized), models_dir, adapted_to)
    except GaitanonError as error:
        return {"available": False, "reason": str(error)}
    return {"available": True, "distance": round(verdict.distance, 4),
            "same_person_quantile": round(verdict.same_person_quantile, 4),
            "verdict": verdict.verdict_text, "limits": verdict.limits_text, "frames_compared": len(walks.original),
            "attacker": verdict.attacker}
