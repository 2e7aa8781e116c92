"""The shipped default model's privacy floor: a regression guard, not a published figure.

    python -m training.privacy_floor [--write] [--data DIR]

Runs the shipped default anonymizer through the engine (the evaluation's own condition) on the
validation subjects' nm-05/06 walks at three views, lets the tool owner undo its mean change (learnt
on anonymiser subjects, whom the tool owner knows), and asks the shipped gait recogniser to identify
the walks against the originals nm-01..04. `--write` stores the measured success and the floor,
FLOOR_MARGIN below it, in the default anonymizer's manifest entry; tests/test_privacy_floor.py
measures again and fails under the floor, so a weaker model cannot land silently. Published figures
come from `python -m training.evaluate` on the test subjects, never from here.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gaitanon_core.inference.attacker import attacker_model
from gaitanon_core.inference.manifest import file_sha256
from gaitanon_core.options import default_strength
from gaitanon_core.paths import models_dir as shipped_models_dir
from training.evaluation.conditions import Condition, model_conditions
from training.evaluation.data import GALLERY_WALKS, NATURALNESS_VIEWS, PROBE_SETS, QUICK_FRAMES, load_records
from training.evaluation.metrics import Embedded, headline, recognition_tables, success_tables
from training.evaluation.suite import Walks, mean_change, onnx_gei_attacker, undo_mean_change
from training.splits import NM_WALKS, subjects

FLOOR_VIEWS = NATURALNESS_VIEWS  # front-ish, side and back-ish
FLOOR_MARGIN = 0.10  # the floor lies this far under the measured success (draw-to-draw spread is a few points)
OWNER_SUBJECTS = subjects("anonymiser")[:8]  # whom the tool owner anonymizes to learn the mean change
SEED = 0


def default_condition(models_dir: Path) -> Condition:
    alpha = default_strength(models_dir)
    return next(c for c in model_conditions(models_dir) if abs(c.alpha - alpha) < 1e-9)


def measure_floor(models_dir: Path, data_dir: Path | None, cache: Path,
                  log: Callable[[str], None] = print) -> dict[str, Any]:
    """Tool-owner success (1 - rank-1, same view, nm) of the default stop on the validation walks."""
    condition = default_condition(models_dir)
    records = load_records(subjects("validation"), data_dir, QUICK_FRAMES, walks=NM_WALKS, views=FLOOR_VIEWS)
    gallery = [r for r in records if r.walk in GALLERY_WALKS]
    probes = [r for r in records if r.walk in PROBE_SETS["nm"]]
    rng = np.random.default_rng(SEED)
    anonymized = [condition.run(r, rng).silhouettes for r in probes]
    change = mean_change(condition, cache, data_dir, SEED, OWNER_SUBJECTS, log, views=FLOOR_VIEWS)
    undone = undo_mean_change(anonymized, [r.view for r in probes], change)
    model = attacker_model(models_dir)
    attacker = onnx_gei_attacker(model.name, model.path)
    tables = recognition_tables(Embedded.of(attacker.embed(undone), probes),
                                Embedded.of(attacker.embed(Walks.of([r.silhouettes for r in gallery])), gallery))
    success = headline(success_tables(tables))
    return {
        "anonymizer": condition.entry_name,
        "fingerprint": condition.fingerprint,  # every model file the outputs depend on
        "attacker_sha256": file_sha256(model.path),
        "subjects": list(subjects("validation")),
        "views": list(FLOOR_VIEWS),
        "tool_owner_subjects": list(OWNER_SUBJECTS),
        "frames_per_walk": QUICK_FRAMES,
        "probes": len(probes),
        "tool_owner_success": success,
    }


def write_floor(models_dir: Path, figures: dict[str, Any]) -> dict[str, Any]:
    from training.manifest import update_entry

    block = {**figures, "floor": round(figures["tool_owner_success"] - FLOOR_MARGIN, 4),
             "command": "python -m training.privacy_floor --write"}
    update_entry(figures["anonymizer"], models_dir, privacy_floor=block)
    return block


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.privacy_floor", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None, help="data folder holding casiab64/ (default: ../shared/data)")
    parser.add_argument("--models", type=Path, default=None, help="models folder (default: the shipped one)")
    parser.add_argument("--write", action="store_true", help="store the figure and its floor in the manifest")
    args = parser.parse_args(argv)
    models_dir = args.models or shipped_models_dir()
    with tempfile.TemporaryDirectory() as cache:
        figures = measure_floor(models_dir, args.data, Path(cache))
    print(f"{figures['anonymizer']}: tool-owner success {100 * figures['tool_owner_success']:.1f}% "
          f"({figures['probes']} validation probes, views {', '.join(figures['views'])})")
    if args.write:
        block = write_floor(models_dir, figures)
        print(f"floor {100 * block['floor']:.1f}% written to {models_dir / 'manifest.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
