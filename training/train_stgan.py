"""Train the ST-GAN anonymizer (paper 3.4) on the anonymiser group (061-076), selected on validation (077-084).

Generator loss (eq. 4-8): L(G) = w_adv (L_S + L_T) + L_rec + alpha L_per [+ w_priv L_priv + w_smooth L_smooth],
discriminators D_S and D_T trained alternately with the usual GAN objective (eq. 2-3).
Distances are in pixels of a 64-px-high body (canonical units x 64), as the paper's pixel contours.

Configurations (`--preset`; every field can be overridden):
- paper: the reference row. L1 losses, one static noise contour per clip, skip = input,
  no extra terms, alpha 0.3. Its known trap: with L1 and alpha < 1 the minimiser is the input.
- shipped: L2 losses (minimiser: the blend y + alpha/(1+alpha) (noise - y)), a generated
  walking cycle phase-aligned to the clip as noise, skip = that blend, one network
  conditioned on alpha (trained on every shipped alpha), a privacy term against the
  frozen surrogate recogniser (anonymiser subjects only) and a smoothness term on the
  displacement along the contour (folds are what make outlines self-intersect).
- baseline: Tieu et al. 2017, see training.baseline.

Usage: python -m training.train_stgan --preset shipped --name stgan_shipped --steps 300 --eval-every 50
Resumable (checkpoint + loss log in $GAITANON_CACHE/ckpt/<name>/); the best checkpoint by
validation is kept as best.pt beside it.
"""

from __future__ import annotations

import argparse
import json
import shutil
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from gaitanon_core.shape.codec import N_POINTS
from training.splits import subjects

from .common import PIXELS_PER_UNIT, TrainingRun, cache_root, load_checkpoint, pin_threads_and_seed
from .dataset import Augment, ClipBatch, Walk, load_walks, sample_clips
from .models import SpatialDiscriminator, STGANGenerator, TemporalDiscriminator
from .surrogate import load_privacy_surrogate
from .train_noise import load_generator
from .validation import validate

GROUP = "anonymiser"
PRESETS: dict[str, dict[str, Any]] = {
    "paper": {"loss": "l1", "noise": "static", "noise_model": "noise_static", "skip": "input", "alphas": [0.3],
              "w_adv": 1.0, "w_priv": 0.0, "w_smooth": 0.0, "w_fold": 0.0},
    # w_priv 16: measured against 2, 8 and 32 (MODEL_CARD.md "Privacy weight").
    "shipped": {"loss": "l2", "noise": "cycle", "noise_model": "noise_cycle", "skip": "blend",
                "alphas": [0.2, 0.3, 0.4, 0.7], "w_adv": 1.0, "w_priv": 16.0, "w_smooth": 4.0, "w_fold": 0.0},
    # L2 and the blend skip as shipped: with the paper's L1 at alpha < 1 it would only copy its input.
    "baseline": {"loss": "l2", "noise": "sequence", "noise_model": None, "skip": "blend", "alphas": [0.3],
                 "w_adv": 1.0, "w_priv": 0.0, "w_smooth": 0.0, "w_fold": 0.0},
}


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


def distance(a: torch.Tensor, b: torch.Tensor, kind: str) -> torch.Tensor:
    """Per-clip mean L1 or L2 distance in pixels: (B, T, N, 2) x2 -> (B,)."""
    diff = (a - b) * PIXELS_PER_UNIT
    per_coordinate = diff.abs() if kind == "l1" else diff.square()
    return per_coordinate.flatten(1).mean(1)


def smoothness(displacement: torch.Tensor) -> torch.Tensor:
    """Mean squared second difference of the displacement along the closed contour, in pixels: (B,)."""
    pixels = displacement * PIXELS_PER_UNIT
    laplace = 2.0 * pixels - pixels.roll(1, dims=2) - pixels.roll(-1, dims=2)
    return laplace.square().flatten(1).mean(1)


def folding(anonymized: torch.Tensor, original: torch.Tensor, near: float = 0.06, skip: int = 8) -> torch.Tensor:
    """Smooth fold penalty: where two parts of the original outline run close (legs, arm and
    body; within `near`, over `skip` points apart along it), the output's gap may shrink to
    at most half the original's before it pays (squared, in pixels); gaps that close make the
    outline cross itself. (B,)"""
    points_out, points_in = anonymized.flatten(0, 1), original.flatten(0, 1)
    gap_out, gap_in = torch.cdist(points_out, points_out), torch.cdist(points_in, points_in)
    index = torch.arange(points_in.shape[1])
    apart = (index[:, None] - index[None, :]).abs()
    apart = torch.minimum(apart, points_in.shape[1] - apart) > skip
    close = (gap_in < near) & apart
    shortfall = F.relu(0.5 * gap_in - gap_out) * close * PIXELS_PER_UNIT
    return shortfall.square().sum(-1).mean(-1).reshape(anonymized.shape[:2]).mean(1)


def privacy(surrogate: torch.nn.Module, anonymized: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """Cosine similarity of the surrogate's identity embeddings of output and input: (B,), lower is more private."""
    return F.cosine_similarity(surrogate.embed(anonymized), surrogate.embed(original).detach(), dim=1)


def adversarial(logits: torch.Tensor, real: bool) -> torch.Tensor:
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return F.binary_cross_entropy_with_logits(logits, target)


def train(config: dict[str, Any], resume: bool = True) -> STGANGenerator:
    pin_threads_and_seed(config["seed"])
    rng = np.random.default_rng(config["seed"])
    walks = load_walks(GROUP)
    noise_source = NoiseSource(config, walks)
    surrogate = load_privacy_surrogate(config) if config["w_priv"] > 0 else None
    generator = build_generator(config)
    d_spatial = SpatialDiscriminator(N_POINTS, width=config["width"])
    d_temporal = TemporalDiscriminator(N_POINTS, config["length"])
    opt_g = torch.optim.Adam(generator.parameters(), lr=config["lr"], betas=(0.5, 0.999))
    opt_d = torch.optim.Adam([*d_spatial.parameters(), *d_temporal.parameters()], lr=config["lr"], betas=(0.5, 0.999))
    modules = {"generator": generator, "d_spatial": d_spatial, "d_temporal": d_temporal, "opt_g": opt_g, "opt_d": opt_d}
    run = TrainingRun(config["name"], config, resume)
    best_score = run.restore(modules).get("best_score", -np.inf)
    alphas = np.array(config["alphas"], dtype=np.float32)
    while run.step < config["steps"]:
        batch = sample_clips(walks, config["batch"], config["length"], rng, Augment())
        original = torch.from_numpy(batch.clips)
        noise = noise_source.draw(batch, rng)
        alpha = torch.from_numpy(rng.choice(alphas, config["batch"]))
        anonymized, aligned = generator(original, noise, alpha)
        # Discriminators (eq. 2-3): real = original walks of the anonymiser group, fake = G's output.
        fake = anonymized.detach()
        loss_d = adversarial(d_spatial(original.flatten(0, 1)), True) + adversarial(d_spatial(fake.flatten(0, 1)), False) \
            + adversarial(d_temporal(original), True) + adversarial(d_temporal(fake), False)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        # Generator (eq. 4-8).
        terms = {
            "adv": adversarial(d_spatial(anonymized.flatten(0, 1)), True) + adversarial(d_temporal(anonymized), True),
            "rec": distance(anonymized, original, config["loss"]).mean(),
            "per": (alpha * distance(anonymized, aligned, config["loss"])).mean(),
        }
        if surrogate is not None:
            terms["priv"] = privacy(surrogate, anonymized, original).mean()
        if config["w_smooth"] > 0:
            terms["smooth"] = smoothness(anonymized - original).mean()
        if config["w_fold"] > 0:
            terms["fold"] = folding(anonymized, original).mean()
        weights = {"adv": config["w_adv"], "rec": 1.0, "per": 1.0, "priv": config["w_priv"], "smooth": config["w_smooth"],
                   "fold": config["w_fold"]}
        loss_g = sum(weights[k] * v for k, v in terms.items())
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        run.step += 1
        if run.step % config["log_every"] == 0 or run.step == config["steps"]:
            record = {"loss_d": loss_d.item(), "loss_g": loss_g.item(), **{k: v.item() for k, v in terms.items()}}
            if run.step % config["eval_every"] == 0 or run.step == config["steps"]:
                metrics = validate(generator, config, noise_source, quick=True)
                record.update({k: v for k, v in metrics.items() if isinstance(v, float)})
                score = selection_score(metrics)
                if score > best_score:
                    best_score = score
                    run.save(modules, {"best_score": best_score, "best_metrics": metrics})
                    shutil.copyfile(run.checkpoint, run.best)
            run.log(record)
            run.save(modules, {"best_score": best_score})
    return generator.eval()


MAX_EXTRA_FOLDS = 0.01  # output contours may self-intersect at most 1 point more often than the originals


def selection_score(metrics: dict[str, Any]) -> float:
    """Model selection on validation: privacy (surrogate re-identification missed) and kept motion once
    the outlines are clean; while the output folds more than the originals (the codec's own outlines
    cross in about 1% of frames) by over MAX_EXTRA_FOLDS, fewer folds come first."""
    extra_folds = metrics["self_intersecting_share"] - metrics["original_self_intersecting_share"]
    if extra_folds > MAX_EXTRA_FOLDS:
        return -extra_folds
    return metrics.get("surrogate_success", 0.0) + 0.5 * min(metrics["motion_ratio"], 1.0)


def config_from_args(argv: list[str] | None = None) -> tuple[dict[str, Any], bool]:
    parser = argparse.ArgumentParser(description="Train the ST-GAN anonymizer (paper 3.4) on the anonymiser group.")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="shipped")
    parser.add_argument("--name", help="checkpoint name (default stgan_<preset>)")
    parser.add_argument("--alphas", type=float, nargs="+", help="alpha values trained (the network is conditioned on alpha)")
    parser.add_argument("--loss", choices=("l1", "l2"))
    parser.add_argument("--noise", choices=("static", "cycle", "sequence"))
    parser.add_argument("--noise-model", help="checkpoint name of the trained noise generator")
    parser.add_argument("--skip", choices=("input", "blend"))
    parser.add_argument("--w-adv", type=float)
    parser.add_argument("--w-priv", type=float)
    parser.add_argument("--w-smooth", type=float)
    parser.add_argument("--w-fold", type=float, help="weight of the fold penalty (gaps of the outline closing)")
    parser.add_argument("--surrogate", default="surrogate", help="checkpoint name of the contour surrogate recogniser")
    parser.add_argument("--surrogate-kind", choices=("contour", "gei"), default="contour",
                        help="privacy term's recogniser: contour surrogate, or the GEI CNN on drawn silhouettes (training.gei_surrogate)")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=6)
    parser.add_argument("--length", type=int, default=24, help="frames per training clip")
    parser.add_argument("--width", type=int, default=16, help="channels of the first conv layer")
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--seed", type=int, default=5, help="for reproducibility only")
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument("--eval-every", type=int, default=200)
    parser.add_argument("--no-resume", action="store_true", help="start over instead of resuming")
    args = parser.parse_args(argv)
    config = {"name": args.name or f"stgan_{args.preset}", "preset": args.preset, **PRESETS[args.preset]}
    overrides = {"alphas": args.alphas, "loss": args.loss, "noise": args.noise, "noise_model": args.noise_model,
                 "skip": args.skip, "w_adv": args.w_adv, "w_priv": args.w_priv, "w_smooth": args.w_smooth, "w_fold": args.w_fold}
    config.update({k: v for k, v in overrides.items() if v is not None})
    config.update({"surrogate": args.surrogate, "surrogate_kind": args.surrogate_kind, "steps": args.steps, "batch": args.batch, "length": args.length,
                   "width": args.width, "lr": args.lr, "seed": args.seed, "log_every": args.log_every,
                   "eval_every": args.eval_every, "group": GROUP, "subjects": list(subjects(GROUP))})
    return config, not args.no_resume


def main(argv: list[str] | None = None) -> None:
    config, resume = config_from_args(argv)
    generator = train(config, resume)
    noise_source = NoiseSource(config, load_walks(GROUP))
    print(json.dumps(validate(generator, config, noise_source, quick=False), indent=1))


if __name__ == "__main__":
    main()
