"""The strength slider: one stop per shipped anonymizer, described by the manifest's own figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from gaitanon_core.inference.manifest import MeasuredFigures, ModelEntry, manifest_entries, read_manifest
from gaitanon_core.options import default_strength
from gaitanon_core.report import WHAT_IS_KEPT

from ..views.strength_view import StrengthView

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


def _naturalness(figures: MeasuredFigures) -> list[str]:
    parts = []
    if frame_score := _percent(figures.frame_score_relative):
        parts.append(f"person detector keeps {frame_score} of its confidence")
    if figures.motion_ratio is not None:
        parts.append(f"walking motion {figures.motion_ratio:.2f}\u00d7 the original's")
    return parts


def _test_figures(figures: MeasuredFigures) -> tuple[str | None, list[str]]:
    """The evaluation's figures on the test subjects (written by `python -m training.evaluate`): against an
    attacker who owns the tool where measured, with how often two anonymizations are linked."""
    if figures.owner_success is not None:
        success = (f"{_percent(figures.owner_success)} of test walks not identified by an attacker who owns the tool "
                   "(retrained on its output, or undoing its mean change; rank-1, same view)")
        if figures.linked is not None:
            success += f"; {_percent(figures.linked)} of anonymized walks still linked to each other"
        return success, _naturalness(figures)
    attack = strongest_attack(figures.success_by_attacker)
    success = (f"{_percent(attack[1])} of test walks not identified (rank-1, same view, by \u201c{attack[0]}\u201d)"
               if attack else None)
    return success, _naturalness(figures)


def _validation_figures(figures: MeasuredFigures) -> tuple[str | None, list[str]]:
    """Model-selection figures on the validation subjects, labelled as such (no test figure yet)."""
    rate = _percent(figures.attacker_success)
    success = (f"{rate} of validation walks not identified by the distortion-trained GEI CNN "
               "(validation subjects; test figures not measured yet)" if rate else None)
    return success, [f"{part} (validation)" for part in _naturalness(figures)]


def describe(entry: ModelEntry) -> str:
    """alpha, measured success and naturalness from the manifest, or 'not measured'."""
    figures = entry.figures
    if figures is None:
        success, naturalness = None, []
    elif figures.measured_on == "test":
        success, naturalness = _test_figures(figures)
    else:
        success, naturalness = _validation_figures(figures)
    return (f"alpha = {entry.alpha:g} \u00b7 {entry.name}<br>Success: {success or 'not measured'}<br>"
            f"Naturalness: {'; '.join(naturalness) if naturalness else 'not measured'}<br>"
            f"{WHAT_IS_KEPT}")


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
        self.select(preferred if preferred is not None else default_strength(models_dir))
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
