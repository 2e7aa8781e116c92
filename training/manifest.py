"""Read-modify-write of models/manifest.json, shared by the trainers and the evaluation.

Schema (read at run time by gaitanon_core.inference):
{"format": 1, "layout": str, "n_points": int,
 "models": [{"name", "role", "file", "sha256", "opset", "inputs", "outputs", ...}]}
Anonymizer entries add alpha, training subjects, seed, steps, wall time and an
"evaluation" block that only training.evaluate writes.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from gaitanon_core.inference.manifest import file_sha256
from gaitanon_core.paths import REPO_ROOT

MANIFEST_FORMAT = 1


def manifest_path(models_dir: Path | None = None) -> Path:
    return (models_dir or REPO_ROOT / "models") / "manifest.json"


def load_manifest(models_dir: Path | None = None) -> dict[str, Any]:
    path = manifest_path(models_dir)
    if not path.exists():
        return {"format": MANIFEST_FORMAT, "models": []}
    return json.loads(path.read_text())


def save_manifest(manifest: dict[str, Any], models_dir: Path | None = None) -> None:
    """Atomic write (temp file + rename) so a reader never sees half a manifest."""
    path = manifest_path(models_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".manifest-", suffix=".json")
    with os.fdopen(fd, "w") as handle:
        json.dump(manifest, handle, indent=2, sort_keys=False)
        handle.write("\n")
    os.chmod(tmp, 0o644)  # mkstemp makes it private; the manifest is read by every user of an install
    os.replace(tmp, path)


def update_entry(name: str, models_dir: Path | None = None, **fields: Any) -> dict[str, Any]:
    """Create or update the entry called `name`; a `file` field refreshes its sha256."""
    manifest = load_manifest(models_dir)
    entries = manifest.setdefault("models", [])
    entry = next((e for e in entries if e["name"] == name), None)
    if entry is None:
        entry = {"name": name}
        entries.append(entry)
    entry.update(fields)
    if "file" in entry:
        entry["sha256"] = file_sha256(manifest_path(models_dir).parent / entry["file"])
    save_manifest(manifest, models_dir)
    return entry


def set_top_level(models_dir: Path | None = None, **fields: Any) -> None:
    manifest = load_manifest(models_dir)
    manifest.update(fields)
    save_manifest(manifest, models_dir)
