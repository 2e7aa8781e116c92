"""Train the noise generator G_N with its discriminator D_N (paper 3.3) on the noise group (051-060).

Two kinds (`--kind`):
- cycle (shipped): z -> a whole gait cycle of P phase frames, (B, P, N, 2). Real
  cycles are cut from every walk at its estimated gait period, starting at the
  widest stride, resampled to P frames, plus their mirrors.
- static (the paper, the reference row): z -> one contour (B, N, 2), from single frames.

G_N is an MLP onto the top principal components of the real samples (fitted
once, kept as fixed buffers), so outputs stay in the span of real outlines;
D_N judges whitened component coefficients; the usual GAN objective, alternating.

Usage: python -m training.train_noise --kind cycle --steps 4000 --seed 5
Resumable (checkpoint + loss log in $GAITANON_CACHE/ckpt/<name>/).
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from gaitanon_core.shape.codec import N_POINTS, self_intersects
from training.splits import subjects

from .common import TrainingRun, load_checkpoint, pin_threads_and_seed
from .dataset import cycle_set, load_walks, mirror
from .models import NoiseDiscriminator, NoiseGenerator

GROUP = "noise"
STATIC_FRAMES_PER_WALK = 12  # frames sampled from each walk for the static kind (neighbours are near-duplicates)


def real_samples(kind: str, phases: int, rng: np.random.Generator) -> np.ndarray:
    """(M, P*N*2) flattened real cycles (kind=cycle) or single contours (kind=static), mirrors included."""
    walks = load_walks(GROUP)
    if kind == "cycle":
        return cycle_set(walks, phases).reshape(-1, phases * N_POINTS * 2)
    frames = np.concatenate([w.contours[rng.choice(len(w.contours), min(STATIC_FRAMES_PER_WALK, len(w.contours)), replace=False)] for w in walks])
    return np.concatenate([frames, mirror(frames)]).reshape(len(frames) * 2, -1)


def fit_components(samples: np.ndarray, components: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, orthonormal principal directions (K, D) and their standard deviations (K,)."""
    torch.manual_seed(seed)
    data = torch.from_numpy(samples)
    mean = data.mean(0)
    _, singular, directions = torch.pca_lowrank(data - mean, q=components + 8, center=False)
    scale = singular[:components] / np.sqrt(len(samples) - 1)
    return mean.numpy(), directions[:, :components].T.contiguous().numpy(), scale.numpy()


def build_generator(config: dict[str, Any], samples: np.ndarray | None = None) -> NoiseGenerator:
    """G_N for `config`; with `samples` its component buffers are fitted, else they come from a state dict."""
    phases = config["phases"] if config["kind"] == "cycle" else 1
    k, dim = config["components"], phases * N_POINTS * 2
    if samples is not None:
        mean, basis, scale = fit_components(samples, k, config["seed"])
    else:
        mean, basis, scale = np.zeros(dim, np.float32), np.zeros((k, dim), np.float32), np.ones(k, np.float32)
    return NoiseGenerator(mean, basis, scale, phases, N_POINTS, z_dim=config["z_dim"])


def load_generator(name: str) -> tuple[NoiseGenerator, dict[str, Any]]:
    """A trained G_N from its checkpoint, in eval mode, and the checkpoint (config, steps, wall time)."""
    state = load_checkpoint(name)
    generator = build_generator(state["config"])
    generator.load_state_dict(state["modules"]["generator"])
    return generator.eval(), state


def train(config: dict[str, Any], resume: bool = True) -> NoiseGenerator:
    pin_threads_and_seed(config["seed"])
    rng = np.random.default_rng(config["seed"])
    samples = real_samples(config["kind"], config["phases"], rng)
    generator = build_generator(config, samples)
    discriminator = NoiseDiscriminator(config["components"])
    real = (torch.from_numpy(samples) - generator.mean) @ generator.basis.T / generator.scale
    opt_g = torch.optim.Adam(generator.mlp.parameters(), lr=config["lr"], betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=config["lr"], betas=(0.5, 0.999))
    modules = {"generator": generator, "discriminator": discriminator, "opt_g": opt_g, "opt_d": opt_d}
    run = TrainingRun(config["name"], config, resume)
    run.restore(modules)
    ones, zeros = torch.ones(config["batch"]), torch.zeros(config["batch"])
    while run.step < config["steps"]:
        batch_real = real[torch.from_numpy(rng.integers(0, len(real), config["batch"]))]
        fake = generator.coefficients(torch.randn(config["batch"], config["z_dim"]))
        loss_d = F.binary_cross_entropy_with_logits(discriminator(batch_real), ones) + \
            F.binary_cross_entropy_with_logits(discriminator(fake.detach()), zeros)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = F.binary_cross_entropy_with_logits(discriminator(fake), ones)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        run.step += 1
        if run.step % config["log_every"] == 0 or run.step == config["steps"]:
            run.log({"loss_d": loss_d.item(), "loss_g": loss_g.item()})
            run.save(modules)
    return generator.eval()


@torch.no_grad()
def noise_quality(generator: NoiseGenerator, samples: int = 200, seed: int = 0) -> dict[str, float]:
    """Self-intersection share of generated contours, and how far samples sit from each other and
    from the noise group's real samples (a generator that copies real people sits at ~0)."""
    torch.manual_seed(seed)
    noise = generator(torch.randn(samples, generator.z_dim)).reshape(samples, -1, N_POINTS, 2).numpy()
    frames = noise.reshape(-1, N_POINTS, 2)[:: max(1, noise.shape[1] // 4)]
    rng = np.random.default_rng(seed)
    real = real_samples("cycle" if generator.phases > 1 else "static", generator.phases, rng)
    real = real[rng.choice(len(real), min(len(real), 2000), replace=False)]
    flat = noise.reshape(samples, -1)
    to_real = _nearest(flat, real)
    return {
        "self_intersecting_share": float(np.mean([self_intersects(f) for f in frames])),
        "nearest_real_distance": float(np.median(to_real)),
        "nearest_generated_distance": float(np.median(_nearest(flat, flat, exclude_self=True))),
        "real_to_real_distance": float(np.median(_nearest(real[:samples], real[samples:]))),
    }


def _nearest(a: np.ndarray, b: np.ndarray, exclude_self: bool = False) -> np.ndarray:
    """Per row of a, the root-mean-square point distance (canonical units) to its nearest row of b."""
    points = a.shape[1] // 2
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    if exclude_self:
        np.fill_diagonal(sq, np.inf)
    return np.sqrt(np.maximum(sq.min(1), 0.0) / points)


def config_from_args(argv: list[str] | None = None) -> tuple[dict[str, Any], bool]:
    parser = argparse.ArgumentParser(description="Train the noise generator G_N (paper 3.3) on the noise group.")
    parser.add_argument("--kind", choices=("cycle", "static"), default="cycle")
    parser.add_argument("--name", help="checkpoint name (default noise_<kind>)")
    parser.add_argument("--phases", type=int, default=24, help="frames per generated gait cycle")
    parser.add_argument("--components", type=int, default=64)
    parser.add_argument("--z-dim", type=int, default=32)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--seed", type=int, default=5, help="for reproducibility only")
    parser.add_argument("--log-every", type=int, default=200)
    parser.add_argument("--no-resume", action="store_true", help="start over instead of resuming")
    args = parser.parse_args(argv)
    config = {
        "name": args.name or f"noise_{args.kind}", "kind": args.kind, "phases": args.phases,
        "components": args.components, "z_dim": args.z_dim, "steps": args.steps, "batch": args.batch,
        "lr": args.lr, "seed": args.seed, "log_every": args.log_every,
        "group": GROUP, "subjects": list(subjects(GROUP)),
    }
    return config, not args.no_resume


def main(argv: list[str] | None = None) -> None:
    config, resume = config_from_args(argv)
    generator = train(config, resume)
    print(noise_quality(generator))


if __name__ == "__main__":
    main()
