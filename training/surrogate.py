"""A surrogate gait recogniser on contour sequences, trained on the ANONYMISER subjects (061-076) only.

It serves two purposes, neither of which touches attacker, validation-training or
test subjects: (1) frozen, its embedding gives the ST-GAN's privacy term (push
the anonymized walk away from the original in identity space); (2) on the
validation subjects (never trained on) it gives a quick re-identification
proxy for model selection (gallery nm-01..04, probes nm-05/06, same view). The
reported privacy figures come from the evaluation's attackers, not from this.

Usage: python -m training.surrogate --steps 3000 --seed 5
       python -m training.surrogate --name surrogate_robust --distort --steps 2000   # distortion-trained
With --distort each training clip is first distorted at random like the attacker's training
silhouettes (outline grown or shrunk by 1-2 px, width or leg stretch), in the contour domain, so
the privacy term pushes along directions a distortion-robust recogniser still uses.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from gaitanon_core.shape.codec import N_POINTS
from training.splits import subjects

from .common import TrainingRun, cache_root, load_checkpoint, pin_threads_and_seed
from .dataset import Augment, Walk, load_walks, sample_clips
from .distortions import HIP_LEVEL
from .models import SurrogateRecogniser

GROUP = "anonymiser"
PIXEL = 1.0 / 64  # one pixel of a 64-px-high body in canonical units
GALLERY, PROBES = ("nm-01", "nm-02", "nm-03", "nm-04"), ("nm-05", "nm-06")


def offset_along_normals(clip: np.ndarray, distance: float) -> np.ndarray:
    """Move every point of every outline (T, N, 2) `distance` outward (negative: inward), like a
    dilation or erosion of the silhouette."""
    tangent = np.roll(clip, -1, axis=1) - np.roll(clip, 1, axis=1)
    normal = np.stack([tangent[..., 1], -tangent[..., 0]], axis=-1)
    normal /= np.maximum(np.linalg.norm(normal, axis=-1, keepdims=True), 1e-9)
    x, y = clip[..., 0], clip[..., 1]
    area = np.sum(x * np.roll(y, -1, axis=1) - np.roll(x, -1, axis=1) * y, axis=1)  # shoelace, sign = orientation
    outward = np.sign(area)[:, None, None] * normal  # the rotated tangent points outward for one orientation only
    return clip + distance * outward


def distort_clip(clip: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One of the attacker's cheap training distortions, in the contour domain (or none)."""
    kind = int(rng.integers(4))
    out = clip.copy()
    if kind == 0:
        out = offset_along_normals(out, float(rng.choice([-2, -1, 1, 2])) * PIXEL)
    elif kind == 1:
        out[..., 0] *= rng.uniform(0.85, 1.2)
    elif kind == 2:
        legs = out[..., 1] > HIP_LEVEL
        out[..., 1][legs] = HIP_LEVEL + (out[..., 1][legs] - HIP_LEVEL) * rng.uniform(0.85, 1.2)
        out[..., 1] /= out[..., 1].max()  # re-normalised to body height 1, as the dataset's crop does
    return out.astype(clip.dtype)


def train(config: dict[str, Any], resume: bool = True) -> SurrogateRecogniser:
    pin_threads_and_seed(config["seed"])
    rng = np.random.default_rng(config["seed"])
    walks = load_walks(GROUP)
    ids = {s: i for i, s in enumerate(config["subjects"])}
    model = SurrogateRecogniser(N_POINTS, len(ids))
    opt = torch.optim.Adam(model.parameters(), lr=config["lr"])
    modules = {"model": model, "opt": opt}
    run = TrainingRun(config["name"], config, resume)
    run.restore(modules)
    while run.step < config["steps"]:
        batch = sample_clips(walks, config["batch"], config["length"], rng, Augment())
        # .get: configs written before --distort (or by hand) have no such key: undistorted
        clips = np.stack([distort_clip(c, rng) for c in batch.clips]) if config.get("distort") else batch.clips
        labels = torch.tensor([ids[w.subject] for w in batch.walks])
        logits = model(torch.from_numpy(clips))
        loss = F.cross_entropy(logits, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        run.step += 1
        if run.step % config["log_every"] == 0 or run.step == config["steps"]:
            accuracy = (logits.argmax(1) == labels).float().mean().item()
            run.log({"loss": loss.item(), "train_accuracy": accuracy})
            run.save(modules)
    return model.eval()


def load_surrogate(name: str = "surrogate") -> SurrogateRecogniser:
    """The trained surrogate, frozen and in eval mode."""
    state = load_checkpoint(name)
    model = SurrogateRecogniser(N_POINTS, len(state["config"]["subjects"]))
    model.load_state_dict(state["modules"]["model"])
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model.eval()


def _uses_gei_surrogate(config: dict[str, Any]) -> bool:
    return config.get("surrogate_kind", "contour") == "gei"  # configs written before the GEI surrogate: contour


def load_privacy_surrogate(config: dict[str, Any]) -> torch.nn.Module:
    """The frozen recogniser of an ST-GAN config's privacy term: this contour surrogate (by name),
    or the GEI surrogate (training.gei_surrogate); anything with `embed` (B, T, N, 2) -> (B, E)."""
    if _uses_gei_surrogate(config):
        from .gei_surrogate import load_gei_surrogate

        return load_gei_surrogate()
    return load_surrogate(config["surrogate"])


def privacy_surrogate_trained(config: dict[str, Any]) -> bool:
    """Whether the recogniser `load_privacy_surrogate(config)` loads has been trained."""
    if _uses_gei_surrogate(config):
        from .gei_surrogate import checkpoint_path

        return checkpoint_path().exists()
    return (cache_root() / "ckpt" / config["surrogate"] / "checkpoint.pt").exists()


@torch.no_grad()
def walk_embedding(model: SurrogateRecogniser, contours: np.ndarray) -> np.ndarray:
    """Unit-length embedding of one whole walk (T, N, 2)."""
    embedding = model.embed(torch.from_numpy(np.ascontiguousarray(contours, dtype=np.float32))[None])[0]
    return F.normalize(embedding, dim=0).numpy()


def reidentification_rank1(model: SurrogateRecogniser, walks: list[Walk], probe_contours: dict[int, np.ndarray] | None = None) -> float:
    """Rank-1 of the surrogate: gallery nm-01..04, probes nm-05/06, same view, cosine nearest neighbour.

    `probe_contours` maps an index into `walks` to replacement (anonymized) probe
    contours; missing probes are used as they are (the original walks).
    """
    probe_contours = probe_contours or {}
    gallery = [(w.subject, w.view, walk_embedding(model, w.contours)) for w in walks if w.condition in GALLERY]
    hits, total = 0, 0
    for index, walk in enumerate(walks):
        if walk.condition not in PROBES:
            continue
        probe = walk_embedding(model, probe_contours.get(index, walk.contours))
        same_view = [(s, e) for s, v, e in gallery if v == walk.view]
        if not same_view:
            continue
        best = max(same_view, key=lambda item: float(item[1] @ probe))[0]
        hits += best == walk.subject
        total += 1
    return hits / max(total, 1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the surrogate gait recogniser on the anonymiser subjects.")
    parser.add_argument("--name", default="surrogate")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=32, help="frames per training clip")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=5, help="for reproducibility only")
    parser.add_argument("--log-every", type=int, default=100)
    parser.add_argument("--distort", action="store_true", help="train on distorted clips (module doc)")
    parser.add_argument("--no-resume", action="store_true", help="start over instead of resuming")
    args = parser.parse_args(argv)
    config = {"name": args.name, "steps": args.steps, "batch": args.batch, "length": args.length, "lr": args.lr,
              "seed": args.seed, "log_every": args.log_every, "distort": args.distort, "group": GROUP, "subjects": list(subjects(GROUP))}
    model = train(config, not args.no_resume)
    print({"validation_rank1_original": reidentification_rank1(model, load_walks("validation", ("nm",)))})


if __name__ == "__main__":
    main()
