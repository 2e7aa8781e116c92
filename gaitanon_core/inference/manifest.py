"""`models/manifest.json`, typed: which models ship, their files and checksums, and what was measured.

The evaluation (training/) writes the measured figures into each anonymizer's
entry; everything that shows them (the GUI's strength control) reads the typed
`MeasuredFigures` here, never the JSON keys.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import GaitanonError

__all__ = ["MeasuredFigures", "ModelEntry", "file_sha256", "manifest_entries", "read_manifest", "verify_file"]


@dataclass(frozen=True)
class MeasuredFigures:
    """One anonymizer's figures, as measured on the test subjects ("test") or, before that, on validation."""

    measured_on: str  # "test" | "validation"
    success_by_attacker: dict[str, float | None]  # test: share of walks each attacker does NOT identify
    # (rank-1, same view, normal walks); None where that attacker was not measured
    attacker_success: float | None  # validation: the same share for the distortion-trained GEI CNN
    frame_score_relative: float | None  # the person detector's confidence kept, relative to the original's
    motion_ratio: float | None  # walking motion relative to the original's
    owner_success: float | None = None  # test: the lowest success against an attacker who owns the tool
    # (retrained on its outputs, or undoing its mean change)
    linked: float | None = None  # test: the higher rank-1 of linking anonymized walks to anonymized walks


@dataclass(frozen=True)
class ModelEntry:
    name: str
    role: str
    path: Path
    sha256: str
    alpha: float | None
    entry: dict[str, Any]

    @property
    def figures(self) -> MeasuredFigures | None:
        """The measured figures: the evaluation's on the test subjects, else the validation's, else None."""
        if evaluation := self.entry.get("evaluation"):
            success = evaluation.get("success_rank1_same_view_nm") or {}
            protection = evaluation.get("protection") or {}
            links = [_number(v) for v in (protection.get("linkability_rank1") or {}).values()]
            colour = _number((evaluation.get("video") or {}).get("frame_score_relative"))  # on the engine's colour output
            return MeasuredFigures("test", {name: _number(rate) for name, rate in success.items()}, None,
                                   colour if colour is not None else _number(evaluation.get("frame_score_relative")),
                                   _number(evaluation.get("motion_ratio")),
                                   _number(protection.get("weakest_success_rank1")),
                                   max((v for v in links if v is not None), default=None))
        if validation := self.entry.get("validation"):
            return MeasuredFigures("validation", {}, _number(validation.get("attacker_success")),
                                   _number(validation.get("frame_score_relative")),
                                   _number(validation.get("motion_ratio")))
        return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    if not path.is_file():
        raise GaitanonError(f"no model manifest at {path}; the installation has no trained models")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise GaitanonError(f"the model manifest {path} cannot be read ({error})") from None
    if not isinstance(manifest.get("models"), list):
        raise GaitanonError(f"the model manifest {path} lists no models")
    return manifest


def manifest_entries(folder: Path, manifest: dict[str, Any]) -> list[ModelEntry]:
    return [
        ModelEntry(name=e["name"], role=e["role"], path=folder / e["file"], sha256=e["sha256"],
                   alpha=float(e["alpha"]) if "alpha" in e else None, entry=e)
        for e in manifest["models"] if "file" in e and "role" in e
    ]


def verify_file(model: ModelEntry) -> None:
    """Refuse a model file whose bytes differ from what the manifest recorded."""
    if not model.path.is_file():
        raise GaitanonError(f"the model file {model.path} is missing; reinstall the models")
    if file_sha256(model.path) != model.sha256:
        raise GaitanonError(
            f"the model file {model.path.name} does not match its recorded checksum "
            "(damaged or replaced); refusing to run it"
        )
