"""The strength slider: one stop per shipped anonymizer, described by the manifest's own figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from gaitanon_core.inference import ModelEntry, manifest_entries, read_manifest

from ..views.strength_view import StrengthView

PAPER_DEFAULT_ALPHA = 0.3  # the paper's choice, and the CLI's default


def shipped_anonymizers(models_dir: Path) -> list[ModelEntry]:
    folder = Path(models_dir)
    entries = manifest_entries(folder, read_manifest(folder))
    return sorted((e for e in entries if e.role == "anonymizer" and e.alpha is not None), key=lambda e: e.alpha)


def _percent(value: Any) -> str | None:
    return f"{100 * float(value):.0f}%" if isinstance(value, int | float) else None


def describe(entry: ModelEntry) -> str:
    """alpha, success against the strongest attacker measured, naturalness; or 'not measured'."""
    evaluation = entry.entry.get("evaluation") or {}
    success = evaluation.get("success") or {}
    attacker = next((name for name in ("adaptive", "distortion_trained", "plain") if name in success), None)
    success_text = "not measured"
    if attacker is not None:
        rate = _percent(success[attacker].get("rank1") if isinstance(success[attacker], dict) else success[attacker])
        success_text = f"{rate} of walks not identified (rank-1, {attacker.replace('_', '-')} attacker)"
    naturalness = _percent(evaluation.get("naturalness", {}).get("person_score_ratio")
                           if isinstance(evaluation.get("naturalness"), dict) else None)
    naturalness_text = (f"person detector keeps {naturalness} of its confidence" if naturalness
                        else "not measured")
    return (f"alpha = {entry.alpha:g} · {entry.name}<br>"
            f"Success: {success_text}<br>Naturalness: {naturalness_text}")


class StrengthController(QObject):
    changed = Signal(float)

    def __init__(self, view: StrengthView) -> None:
        super().__init__()
        self.view = view
        self.entries: list[ModelEntry] = []
        view.slider.valueChanged.connect(self._on_slider)

    def load(self, models_dir: Path, preferred: float | None) -> None:
        self.entries = shipped_anonymizers(models_dir)
        self.view.set_stops(len(self.entries))
        self.select(preferred if preferred is not None else PAPER_DEFAULT_ALPHA)
        self._on_slider(self.view.slider.value())

    def select(self, alpha: float) -> None:
        """Snap to the shipped strength nearest `alpha`."""
        if self.entries:
            nearest = min(range(len(self.entries)), key=lambda i: abs(self.entries[i].alpha - alpha))
            self.view.slider.setValue(nearest)

    @property
    def alpha(self) -> float | None:
        return self.entries[self.view.slider.value()].alpha if self.entries else None

    def _on_slider(self, position: int) -> None:
        if not self.entries:
            self.view.info.setText("No anonymizer is installed.")
            return
        self.view.info.setText(describe(self.entries[position]))
        self.changed.emit(self.entries[position].alpha)
