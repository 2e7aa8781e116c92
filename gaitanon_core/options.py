"""Every default the CLI, the GUI and the library share, written once.

The default strength is the models' own: the anonymizer entry that
`models/manifest.json` marks `"default": true` (a stop that the evaluation
measured), else the middle of the shipped stops (a development models folder).
No strength is written in code.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEFAULT_CRF", "DEFAULT_PRESET", "VIDEO_SUFFIXES", "default_strength"]

DEFAULT_CRF = 20  # H.264 quality of an export (0 lossless .. 51)
DEFAULT_PRESET = "veryfast"  # x264 speed preset of an export
# Containers a camera or phone writes: what the GUI's file dialog lists and what a batch takes.
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".mts", ".m2ts",
                            ".ts", ".wmv", ".flv", ".3gp", ".ogv"})


def default_strength(models_dir: Path | None = None) -> float:
    """The alpha of the anonymizer the manifest marks as the default, else the middle shipped stop."""
    from .errors import GaitanonError
    from .inference.manifest import read_manifest  # the manifest is read only when asked
    from .paths import models_dir as shipped_models_dir

    manifest = read_manifest(Path(models_dir) if models_dir is not None else shipped_models_dir())
    anonymizers = [e for e in manifest.get("models", []) if e.get("role") == "anonymizer" and "alpha" in e]
    marked = [e["alpha"] for e in anonymizers if e.get("default")]
    if marked:
        return float(marked[0])
    if not anonymizers:
        raise GaitanonError("no anonymizer is installed (the model manifest lists none)")
    stops = sorted(float(e["alpha"]) for e in anonymizers)
    return stops[len(stops) // 2]
