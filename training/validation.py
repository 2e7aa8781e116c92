"""Validation figures of an anonymizer on the validation subjects (077-084), for selection and the model card.

Geometry, in canonical units (1 = body height), on fixed un-augmented validation clips:
- distance_from_input / distance_from_noise: mean point distance of the output from the
  original contour and from the (aligned) noise contour. The paper's L1 trap shows here as
  a distance from the input near 0.
- self_intersecting_share: share of output contours that cross themselves (the originals'
  share on the same frames beside it).
- motion_ratio: frame-to-frame point motion of the output over the original's (1 = the walk
  keeps its movement; a static noise contour damps it).
- jitter_ratio: the same for second differences (flicker).
Privacy proxy: surrogate_success = 1 - rank-1 of the surrogate recogniser (trained on the
anonymiser subjects only) with anonymized nm-05/06 probes against original nm-01..04.
Attacker check (`python -m training.validation`): the same protocol with the
project's shipped distortion-trained attacker (models/, trained on subjects 007-050) on the
exported ONNX files, views ATTACKER_VIEWS; written into each entry's "validation" block as
attacker_success. The test-subject figures are the evaluation's (training.evaluate).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import torch

from gaitanon_core.shape.codec import self_intersects
from training.splits import subjects

from .manifest import load_manifest, update_entry
from .dataset import ClipBatch, Walk, load_walks
from .surrogate import PROBES, load_privacy_surrogate, privacy_surrogate_trained, reidentification_rank1

GROUP = "validation"
CLIPS, CLIP_LENGTH, SEED = 64, 48, 2026
# While training (quick): the selection alpha only, the first QUICK_CLIPS clips, the proxy on
# the side view; at the end: every alpha, every clip, every view. The machine's cores are shared.
QUICK_CLIPS = 16
QUICK_VIEWS = ("090",)


@lru_cache(maxsize=1)
def validation_clips() -> ClipBatch:
    """Fixed clips of real consecutive frames of the validation walks (all views and conditions).

    Whole frames only: a clip starting between two frames would be interpolated, and
    interpolating two outlines folds about 1% of them, which the originals never do.
    """
    rng = np.random.default_rng(SEED)
    walks = [w for w in load_walks(GROUP) if len(w.contours) >= CLIP_LENGTH]
    chosen = [walks[i] for i in rng.integers(0, len(walks), CLIPS)]
    starts = [int(rng.integers(0, len(w.contours) - CLIP_LENGTH + 1)) for w in chosen]
    clips = np.stack([w.contours[s : s + CLIP_LENGTH] for w, s in zip(chosen, starts)])
    return ClipBatch(clips, chosen, np.zeros(CLIPS, bool))


@lru_cache(maxsize=1)
def validation_walks() -> list[Walk]:
    return load_walks(GROUP, ("nm",))


def geometry(original: np.ndarray, anonymized: np.ndarray, noise: np.ndarray, frame_step: int) -> dict[str, float]:
    """The geometric figures of module doc over (B, T, N, 2) arrays."""
    def mean_point_distance(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.mean(np.linalg.norm(a - b, axis=-1)))

    def motion(seq: np.ndarray, order: int) -> float:
        return float(np.mean(np.linalg.norm(np.diff(seq, n=order, axis=1), axis=-1)))

    frames_out = anonymized[:, ::frame_step].reshape(-1, *anonymized.shape[2:])
    frames_in = original[:, ::frame_step].reshape(-1, *original.shape[2:])
    return {
        "distance_from_input": mean_point_distance(anonymized, original),
        "distance_from_noise": mean_point_distance(anonymized, noise),
        "self_intersecting_share": float(np.mean([self_intersects(c) for c in frames_out])),
        "original_self_intersecting_share": float(np.mean([self_intersects(c) for c in frames_in])),
        "motion_ratio": motion(anonymized, 1) / motion(original, 1),
        "jitter_ratio": motion(anonymized, 2) / motion(original, 2),
    }


@torch.no_grad()
def run_generator(generator: torch.nn.Module, batch: ClipBatch, noise_source: Any, alpha: float,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """G on a batch at one alpha: (anonymized, aligned noise) as numpy arrays."""
    original = torch.from_numpy(batch.clips)
    noise = noise_source.draw(batch, rng)
    anonymized, aligned = generator(original, noise, torch.full((len(original),), alpha))
    return anonymized.numpy(), aligned.numpy()


def surrogate_success(generator: torch.nn.Module, noise_source: Any, alpha: float, surrogate: torch.nn.Module,
                      views: tuple[str, ...] | None) -> dict[str, float]:
    """1 - rank-1 of a frozen surrogate on anonymized validation probes, and its rank-1 on the originals."""
    walks = [w for w in validation_walks() if views is None or w.view in views]
    rng = np.random.default_rng(SEED)
    anonymized = {
        i: run_generator(generator, ClipBatch(w.contours[None], [w], np.zeros(1, bool)), noise_source, alpha, rng)[0][0]
        for i, w in enumerate(walks) if w.condition in PROBES
    }
    return {
        "surrogate_rank1_original": reidentification_rank1(surrogate, walks),
        "surrogate_success": 1.0 - reidentification_rank1(surrogate, walks, anonymized),
    }


def selection_alpha(alphas: list[float]) -> float:
    """The alpha that selection looks at: 0.3 (the paper's and the default) when trained, else the middle one."""
    return 0.3 if 0.3 in alphas else sorted(alphas)[len(alphas) // 2]


def validate(generator: torch.nn.Module, config: dict[str, Any], noise_source: Any, quick: bool) -> dict[str, Any]:
    """Figures per trained alpha, with the selection alpha's figures also at the top level."""
    generator.eval()
    batch = validation_clips()
    chosen = selection_alpha(config["alphas"])
    if quick:
        batch = ClipBatch(batch.clips[:QUICK_CLIPS], batch.walks[:QUICK_CLIPS], batch.flipped[:QUICK_CLIPS])
    per_alpha: dict[str, dict[str, float]] = {}
    for alpha in [chosen] if quick else config["alphas"]:
        anonymized, aligned = run_generator(generator, batch, noise_source, alpha, np.random.default_rng(SEED))
        per_alpha[f"{alpha:g}"] = geometry(batch.clips, anonymized, aligned, frame_step=4 if quick else 2)
    top: dict[str, Any] = dict(per_alpha[f"{chosen:g}"])
    if privacy_surrogate_trained(config):
        # Selection looks through the recogniser the privacy term pushes on.
        top.update(surrogate_success(generator, noise_source, chosen, load_privacy_surrogate(config),
                                     QUICK_VIEWS if quick else None))
    generator.train()
    return {**top, "selection_alpha": chosen, "per_alpha": per_alpha}


ATTACKER_VIEWS = ("036", "090", "144")


Anonymize = Callable[[np.ndarray, str, np.random.Generator], np.ndarray]  # (silhouettes, view, rng) -> silhouettes


def attacker_success(anonymize: Anonymize, seed: int = SEED) -> dict[str, float]:
    """1 - rank-1 of the shipped attacker with anonymized validation probes (nm-05/06 vs nm-01..04, same view)."""
    from gaitanon_core.shape.casiab import load_subject
    from gaitanon_core.inference.attacker import AttackerEmbedder

    from .attackers import as_attacker_sees

    from .surrogate import GALLERY

    attacker = AttackerEmbedder()
    gallery, probes = [], []
    for subject in subjects(GROUP):
        walks = load_subject(subject)
        for view in ATTACKER_VIEWS:
            gallery += [(subject, view, walks[f"{w}_{view}"]) for w in GALLERY if f"{w}_{view}" in walks]
            probes += [(subject, view, walks[f"{w}_{view}"]) for w in PROBES if f"{w}_{view}" in walks]
    gallery_embeddings = attacker.embed([g[2] for g in gallery])

    def rank1(walks: list[np.ndarray]) -> float:
        hits = 0
        for (subject, view, _), probe in zip(probes, attacker.embed(walks)):
            same_view = [i for i, g in enumerate(gallery) if g[1] == view]
            hits += gallery[max(same_view, key=lambda i: float(gallery_embeddings[i] @ probe))][0] == subject
        return hits / len(probes)

    rng = np.random.default_rng(seed)
    anonymized = [as_attacker_sees(anonymize(p[2], p[1], rng)) for p in probes]
    return {"attacker_rank1_original": rank1([p[2] for p in probes]), "attacker_success": 1.0 - rank1(anonymized),
            "attacker_probes": len(probes)}


def record_attacker_success() -> None:
    """Measure attacker_success for every shipped anonymizer and evaluation row, into its validation block."""
    from .anonymize_sils import anonymize_silhouettes, model_folders

    for folder in model_folders():
        for entry in load_manifest(folder).get("models", []):
            if entry["role"] in ("anonymizer", "reference", "baseline") and "validation" in entry:
                figures = attacker_success(lambda sils, view, rng, name=entry["name"]: anonymize_silhouettes(sils, name, rng, view))
                update_entry(entry["name"], models_dir=folder, validation={**entry["validation"], **figures})
                print(entry["name"], figures, flush=True)


def checkpoint_figures(name: str, alphas: list[float]) -> dict[str, dict[str, float]]:
    """Attacker success and geometry of a trained (not exported) ST-GAN checkpoint, per alpha: for
    comparing training settings before exporting one."""
    from gaitanon_core.shape.codec import decode_casiab

    from .dataset import MIN_FRAME_PIXELS, encode_walk
    from .train_stgan import GROUP as TRAIN_GROUP
    from .train_stgan import NoiseSource, load_stgan

    generator, state = load_stgan(name)
    noise_source = NoiseSource(state["config"], load_walks(TRAIN_GROUP))
    figures = {}
    for alpha in alphas:
        def anonymize(sils: np.ndarray, view: str, rng: np.random.Generator) -> np.ndarray:
            contours = encode_walk(sils)
            walk = Walk("probe", f"nm-05_{view}", contours)
            out, _ = run_generator(generator, ClipBatch(contours[None], [walk], np.zeros(1, bool)), noise_source, alpha, rng)
            result = np.zeros_like(sils)
            result[sils.reshape(len(sils), -1).sum(axis=1) >= MIN_FRAME_PIXELS] = decode_casiab(out[0])
            return result

        batch = validation_clips()
        anonymized, aligned = run_generator(generator, batch, noise_source, alpha, np.random.default_rng(SEED))
        figures[f"{alpha:g}"] = {**geometry(batch.clips, anonymized, aligned, frame_step=2), **attacker_success(anonymize)}
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(
        "Measure success against the shipped attacker on the validation subjects: for every exported "
        "anonymizer (models/) and evaluation row (reference, baseline), into their manifest entries; or "
        "with --checkpoint, for a trained ST-GAN checkpoint (printed only)."))
    parser.add_argument("--checkpoint", help="an ST-GAN checkpoint name, e.g. stgan_priv8")
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.3, 0.7])
    args = parser.parse_args(argv)
    if args.checkpoint:
        torch.set_num_threads(1)
        print(json.dumps(checkpoint_figures(args.checkpoint, args.alphas), indent=1))
    else:
        record_attacker_success()


if __name__ == "__main__":
    main()
