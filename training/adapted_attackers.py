"""Ship, for each shipped strength, the gait recogniser retrained on that strength's own outputs, so
that the per-clip privacy check asks an attacker who owns the tool.

    python -m training.adapted_attackers [--cache DIR] [--data DIR]

The attackers are the evaluation's seed-0 adaptive GEI CNNs (`python -m training.evaluate` trains
and caches them: the distortion-trained CNN retrained on the attacker subjects' walks anonymized at
that strength, four draws each, until the held-out subjects' rank-1 stops rising). Each is copied
into models/ as `attacker_adapted_<anonymizer>.onnx`, listed with `"adapted_to"`, and calibrated on
the validation subjects like the shipped attacker. A strength whose adaptive attacker is not cached
yet is named and skipped, and so is one whose retraining never beat its distortion-trained start
(the same network: the check keeps asking the distortion-trained one).
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gaitanon_core.inference.attacker import AttackerEmbedder, attacker_model
from gaitanon_core.paths import models_dir as shipped_models_dir
from training.evaluation.conditions import model_conditions
from training.evaluation.metrics import calibrate_embedder
from training.evaluation.suite import condition_key
from training.manifest import update_entry
from training.splits import subjects
from training.set_attacker import ADAPTIVE_DRAWS, ADAPTIVE_HOLDOUT
from training.train_attackers import ADAPTIVE_FRAMES, ADAPTIVE_MAX_EPOCHS, ADAPTIVE_PATIENCE, DEFAULT_CACHE

TRAINING_DATA = (
    f"the attacker subjects' originals, one distorted copy, and their nm-01..06 walks at every view anonymized "
    f"at this strength ({ADAPTIVE_DRAWS} draws each, {ADAPTIVE_FRAMES} middle frames); held out for stopping: "
    f"{', '.join(ADAPTIVE_HOLDOUT)} (patience {ADAPTIVE_PATIENCE}, at most {ADAPTIVE_MAX_EPOCHS} epochs)"
)


def ship_adapted_attackers(cache: Path, models_dir: Path, data_dir: Path | None) -> list[str]:
    """Copy and list every cached seed-0 adaptive CNN of a shipped strength; returns the entry names."""
    plain = attacker_model(models_dir)
    shipped = []
    for condition in model_conditions(models_dir):
        key = condition_key(condition)
        source = cache / f"gei_cnn_adaptive_{key}_s0.onnx"
        if not source.exists():
            print(f"{condition.name}: no adaptive attacker cached ({source.name}); run python -m training.evaluate first")
            continue
        if _same_network(source, cache / "gei_cnn_distorted.onnx"):
            print(f"{condition.name}: retraining on its outputs never beat the distortion-trained start (the plateau "
                  f"rule kept epoch 0), so the privacy check keeps asking {plain.name}; nothing shipped")
            continue
        name = f"attacker_adapted_{condition.entry_name}"
        target = models_dir / f"{name}.onnx"
        shutil.copyfile(source, target)
        update_entry(
            name, models_dir, role="attacker", file=target.name, adapted_to=condition.entry_name,
            opset=plain.entry.get("opset"), inputs=plain.entry["inputs"], outputs=plain.entry["outputs"],
            description=f"GEI CNN gait recogniser retrained on {condition.entry_name}'s own outputs (an attacker "
            "who owns the tool); used by the per-clip privacy check at that strength",
            training_subjects=f"attacker group {subjects('attacker')[0]}-{subjects('attacker')[-1]}",
            training={"start": plain.name, "data": TRAINING_DATA, "seed": 0, "cache_key": key,
                      "command": "python -m training.evaluate (trains and caches it), then python -m training.adapted_attackers"},
            calibration=calibrate_embedder(AttackerEmbedder(onnx_path=target), data_dir),
        )
        shipped.append(name)
        print(f"{condition.name}: shipped {target.name}")
    return shipped


def _same_network(a: Path, b: Path) -> bool:
    """Whether two attacker files embed a seeded random batch of walks alike (the same weights, exported twice)."""
    walks = np.random.default_rng(0).random((2, 8, 64, 44)) > 0.5
    first, second = (AttackerEmbedder(onnx_path=path).embed(list(walks)) for path in (a, b))
    return bool(np.allclose(first, second, atol=1e-5))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.adapted_attackers", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where the evaluation cached its attackers")
    parser.add_argument("--data", type=Path, default=None, help="data folder holding casiab64/ (default: ../shared/data)")
    parser.add_argument("--models", type=Path, default=None, help="models folder (default: the shipped one)")
    args = parser.parse_args(argv)
    ship_adapted_attackers(args.cache, args.models or shipped_models_dir(), args.data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
