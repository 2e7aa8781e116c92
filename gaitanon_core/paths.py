"""Where the shipped models, resources and the shared research data live.

`models/` and `resources/` are top-level in the repository. An editable install
finds them beside the package; a built wheel carries them inside the package
(`gaitanon_core/_data/`); a PyInstaller bundle puts them under `sys._MEIPASS`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = _PACKAGE_DIR.parent


def _find_top_level(name: str) -> Path:
    candidates = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / name)
    candidates += [_PACKAGE_DIR / "_data" / name, REPO_ROOT / name]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"cannot find the '{name}' folder (looked in: {', '.join(map(str, candidates))}); "
        "the installation is incomplete"
    )


def models_dir() -> Path:
    return _find_top_level("models")


def resources_dir() -> Path:
    return _find_top_level("resources")


def demo_clip_path() -> Path:
    return resources_dir() / "demo_walker.mp4"


def shared_data_dir() -> Path:
    """The research data folder: $GAITANON_DATA, else ../shared/data beside the repository."""
    env = os.environ.get("GAITANON_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"
