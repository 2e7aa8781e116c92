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


def strongest_attack(rates: dict[str, float | None]) -> tuple[str, float] | None:
    """The success figure to show: against the adaptive attacker where measured, else the lowest.

    Success is the share of walks an attacker does NOT identify, so the lowest
    success is the strongest attacker's: quoting it is the honest choice.
    """
    measured = {name: rate for name, rate in rates.items() if isinstance(rate, int | float)}
    adaptive = {name: rate for name, rate in measured.items() if "adaptive" in name}
    pool = adaptive or measured
    if not pool:
        return None
    name = min(pool, key=pool.get)
    return name, pool[name]


def _naturalness(block: dict[str, Any]) -> list[str]:
    parts = []
    if frame_score := _percent(block.get("frame_score_relative")):
        parts.append(f"person detector keeps {frame_score} of its confidence")
    if isinstance(motion := block.get("motion_ratio"), int | float):
        parts.append(f"walking motion {motion:.2f}\u00d7 the original's")
    return parts


def _test_figures(evaluation: dict[str, Any]) -> tuple[str | None, list[str]]:
    """The evaluation's figures on the test subjects (written by `python -m training.evaluate`)."""
    attack = strongest_attack(evaluation.get("success_rank1_same_view_nm") or {})
    success = (f"{_percent(attack[1])} of test walks not identified (rank-1, same view, by \u201c{attack[0]}\u201d)"
               if attack else None)
    return success, _naturalness(evaluation)


def _validation_figures(validation: dict[str, Any]) -> tuple[str | None, list[str]]:
    """Model-selection figures on the validation subjects, labelled as such (no test figure yet)."""
    rate = _percent(validation.get("attacker_success"))
    success = (f"{rate} of validation walks not identified by the distortion-trained GEI CNN "
               "(validation subjects; test figures not measured yet)" if rate else None)
    return success, [f"{part} (validation)" for part in _naturalness(validation)]


def describe(entry: ModelEntry) -> str:
    """alpha, measured success and naturalness from the manifest, or 'not measured'."""
    evaluation, validation = entry.entry.get("evaluation") or {}, entry.entry.get("validation") or {}
    success, naturalness = _test_figures(evaluation) if evaluation else _validation_figures(validation)
    return (f"alpha = {entry.alpha:g} \u00b7 {entry.name}<br>Success: {success or 'not measured'}<br>"
            f"Naturalness: {'; '.join(naturalness) if naturalness else 'not measured'}")


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
