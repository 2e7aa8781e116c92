"""A trained ST-GAN generator and its noise input, shared by the trainer, the validation, the export
and the 2017 baseline (so that validation need not import the trainer that calls it)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from gaitanon_core.shape.codec import N_POINTS

from .common import cache_root, load_checkpoint
from .dataset import Augment, ClipBatch, Walk
from .models import STGANGenerator
from .train_noise import load_generator

GROUP = "anonymiser"  # the subjects the ST-GAN trains on


class NoiseSource:
    """The generator's noise input for a batch of clips: G_N(z) with z ~ N(0, I), or (baseline)
    another anonymiser subject's walk of the same view, one frame per clip frame."""

    def __init__(self, config: dict[str, Any], walks: list[Walk]) -> None:
        self.mode = config["noise"]
        self.generator = load_generator(config["noise_model"])[0] if config["noise_model"] else None
        self.by_view: dict[str, list[Walk]] = {}
        for walk in walks:
            self.by_view.setdefault(walk.view, []).append(walk)

    @torch.no_grad()
    def draw(self, batch: ClipBatch, rng: np.random.Generator) -> torch.Tensor:
        if self.generator is not None:
            z = torch.from_numpy(rng.standard_normal((len(batch.walks), self.generator.z_dim)).astype(np.float32))
            return self.generator(z)
        length = batch.clips.shape[1]
        return torch.from_numpy(np.stack([
            Augment(mirror_p=0.0).clip(self.other_walk(w, rng).contours, length, rng, flip)
            for w, flip in zip(batch.walks, batch.flipped)
        ]).astype(np.float32))

    def other_walk(self, walk: Walk, rng: np.random.Generator) -> Walk:
        """A walk of another subject seen from the same view (the 2017 'noise gait')."""
        others = [w for w in self.by_view[walk.view] if w.subject != walk.subject and len(w.contours) >= 2]
        return others[int(rng.integers(len(others)))]


def build_generator(config: dict[str, Any]) -> STGANGenerator:
    return STGANGenerator(config["noise"], config["skip"], N_POINTS, width=config["width"])


def load_stgan(name: str, best: bool = True) -> tuple[STGANGenerator, dict[str, Any]]:
    """A trained G (the validation-selected checkpoint unless best=False) and its checkpoint state."""
    state = load_checkpoint(name)
    best_path = cache_root() / "ckpt" / name / "best.pt"
    if best and best_path.exists():
        state = torch.load(best_path, map_location="cpu", weights_only=False)
    generator = build_generator(state["config"])
    generator.load_state_dict(state["modules"]["generator"])
    return generator.eval(), state
