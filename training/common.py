"""What every trainer shares: the cache folder outside the work tree, seeding, thread pinning,
resumable checkpoints and the loss log.

Checkpoints live in `$GAITANON_CACHE/ckpt/<name>/` (default /work/cache), never in
the repository: a session's untracked files may not survive, and weights of
half-trained networks are not a product.
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

RESUMABLE_CHANGES = ("steps", "log_every", "eval_every")
PIXELS_PER_UNIT = 64.0  # canonical unit = body height = 64 CASIA-B pixels; losses are in pixels


def cache_root() -> Path:
    """$GAITANON_CACHE, else /work/cache: contours, checkpoints, logs, reference exports."""
    return Path(os.environ.get("GAITANON_CACHE", "/work/cache"))


def checkpoint_dir(name: str) -> Path:
    folder = cache_root() / "ckpt" / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def pin_threads_and_seed(seed: int) -> None:
    """One torch thread (the 2 cores are shared) and every RNG seeded."""
    torch.set_num_threads(1)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class TrainingRun:
    """Checkpoint + JSON-lines loss log of one named training; resumes where it stopped."""

    def __init__(self, name: str, config: dict[str, Any], resume: bool = True) -> None:
        self.folder = checkpoint_dir(name)
        self.config = config
        self.checkpoint = self.folder / "checkpoint.pt"
        self.log_path = self.folder / "loss_log.jsonl"
        self.best = self.folder / "best.pt"  # the checkpoint that validation selected (if the trainer selects)
        self.step = 0
        self.wall_time_s = 0.0
        self._started = time.monotonic()
        if not resume:
            for stale in (self.checkpoint, self.log_path, self.best):
                stale.unlink(missing_ok=True)
        (self.folder / "config.json").write_text(json.dumps(config, indent=2))

    def restore(self, modules: dict[str, torch.nn.Module | torch.optim.Optimizer]) -> dict[str, Any]:
        """Load the last checkpoint into `modules` (if any); returns its extra state."""
        if not self.checkpoint.exists():
            return {}
        state = torch.load(self.checkpoint, map_location="cpu", weights_only=False)
        if _without_schedule(state["config"]) != _without_schedule(self.config):
            raise SystemExit(f"{self.checkpoint} was trained with another configuration; use --no-resume")
        for key, module in modules.items():
            module.load_state_dict(state["modules"][key])
        self.step = state["step"]
        self.wall_time_s = state["wall_time_s"]
        return state.get("extra", {})

    def elapsed(self) -> float:
        return self.wall_time_s + time.monotonic() - self._started

    def save(self, modules: dict[str, torch.nn.Module | torch.optim.Optimizer], extra: dict[str, Any] | None = None) -> None:
        state = {
            "config": self.config,
            "step": self.step,
            "wall_time_s": self.elapsed(),
            "modules": {key: module.state_dict() for key, module in modules.items()},
            "extra": extra or {},
        }
        tmp = self.checkpoint.with_suffix(".tmp")
        torch.save(state, tmp)
        os.replace(tmp, self.checkpoint)

    def log(self, values: dict[str, float]) -> None:
        record = {"step": self.step, "wall_time_s": round(self.elapsed(), 1), **{k: round(float(v), 5) for k, v in values.items()}}
        with open(self.log_path, "a") as handle:
            handle.write(json.dumps(record) + "\n")
        print(json.dumps(record), flush=True)


def _without_schedule(config: dict[str, Any]) -> dict[str, Any]:
    """The configuration minus what may change on resume (train longer, log more often)."""
    return {k: v for k, v in config.items() if k not in RESUMABLE_CHANGES}


def load_checkpoint(name: str) -> dict[str, Any]:
    """A finished training's checkpoint (config, step, wall time, module states)."""
    path = cache_root() / "ckpt" / name / "checkpoint.pt"
    if not path.exists():
        raise SystemExit(f"no checkpoint for '{name}' at {path}; train it first")
    return torch.load(path, map_location="cpu", weights_only=False)
