"""Train the attackers once, on the attacker subjects only, and cache them outside the work tree.

    python -m training.train_attackers [--cache DIR] [--data DIR]

Attackers (each cached as a file; an existing file is reused, so the command resumes):
  gei_lda_plain.npz, gei_lda_distorted.npz      GEI + PCA/LDA, without / with cheap distortions
  gei_cnn_plain.onnx, gei_cnn_distorted.onnx    the GEI CNN, exported to ONNX
The distortion-trained CNN is also shipped in models/ as the role "attacker" (the privacy
check uses it). The adaptive attackers (fine-tuned on an anonymizer's own outputs) are made
by `ensure_adaptive`, which the evaluation calls once the anonymizer exists.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gaitanon_core.shape.casiab import load_subject
from training.splits import NM_WALKS, subjects
from training.attackers import EMBEDDING_DIM, GeiCnn, GeiLdaAttacker, gei
from training.distortions import random_training_distortion
from training.manifest import update_entry
from training.plateau import BestState, train_until_plateau

DEFAULT_CACHE = Path(os.environ.get("GAITANON_CACHE", "/work/cache")) / "attackers"
DISTORTED_VARIANTS = 4  # distorted copies of every training walk
CNN_EPOCHS = 12
SHIPPED_ATTACKER = "attacker_gei_cnn"
SHIPPED_FILE = "attacker_gei_cnn.onnx"


@dataclass
class GeiBank:
    """Gait energy images of many walks with their labels; `variant` 0 is the original walk."""

    geis: np.ndarray  # (n, 64, 44) float32
    subject: np.ndarray  # (n,) str
    view: np.ndarray  # (n,) str
    variant: np.ndarray  # (n,) int
    walk: np.ndarray  # (n,) str, "nm-01" ...

    def select(self, mask: np.ndarray) -> GeiBank:
        return GeiBank(*(getattr(self, f.name)[mask] for f in dataclasses.fields(self)))

    def save(self, path: Path) -> None:
        np.savez_compressed(path, **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)})

    @classmethod
    def load(cls, path: Path) -> GeiBank:
        with np.load(path) as stored:
            return cls(*(stored[f.name] for f in dataclasses.fields(cls)))


def middle_frames(walk: np.ndarray, max_frames: int | None) -> np.ndarray:
    """At most `max_frames` frames from the middle of a walk (the body is whole there)."""
    if max_frames is None or len(walk) <= max_frames:
        return walk
    start = (len(walk) - max_frames) // 2
    return walk[start : start + max_frames]


WalkTransform = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def build_bank(
    subject_ids: Sequence[str],
    transforms: Sequence[WalkTransform],
    data_dir: Path | None = None,
    seed: int = 0,
    max_frames: int | None = None,
    walks: Sequence[str] | None = None,
) -> GeiBank:
    """GEIs of the walks of `subject_ids` (all, or those named in `walks`; at most `max_frames`
    from the middle of each): the original (variant 0) and one per transform."""
    rng = np.random.default_rng(seed)
    geis, subject, view, variant, walk_names = [], [], [], [], []
    for sid in subject_ids:
        for key, walk in sorted(load_subject(sid, data_dir).items()):
            if len(walk) == 0 or (walks is not None and key.split("_")[0] not in walks):
                continue
            walk = middle_frames(walk, max_frames)
            versions = [walk] + [transform(walk, rng) for transform in transforms]
            for index, version in enumerate(versions):
                geis.append(gei(version))
                subject.append(sid)
                view.append(key.split("_")[1])
                variant.append(index)
                walk_names.append(key.split("_")[0])
    return GeiBank(np.stack(geis), np.array(subject), np.array(view), np.array(variant), np.array(walk_names))


def attacker_bank(cache: Path, data_dir: Path | None = None) -> GeiBank:
    """The attacker subjects' walks with DISTORTED_VARIANTS distorted copies each (cached)."""
    path = cache / f"bank_attacker_x{DISTORTED_VARIANTS}_w.npz"  # _w: walks named
    if path.exists():
        return GeiBank.load(path)
    bank = build_bank(subjects("attacker"), [random_training_distortion] * DISTORTED_VARIANTS, data_dir)
    cache.mkdir(parents=True, exist_ok=True)
    bank.save(path)
    return bank


def train_lda(bank: GeiBank, name: str) -> GeiLdaAttacker:
    labels = np.char.add(np.char.add(bank.subject, "_"), bank.view)
    return GeiLdaAttacker.fit(name, bank.geis, labels)


# --- the CNN -----------------------------------------------------------------------------


def _cosface_logits(embeddings: torch.Tensor, weights: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Additive-margin cosine softmax (CosFace): tight classes on the unit sphere, so that
    plain Euclidean distance between embeddings is what identifies."""
    scale, margin = 16.0, 0.25
    cosine = embeddings @ torch.nn.functional.normalize(weights, dim=1).T
    return scale * (cosine - margin * torch.nn.functional.one_hot(labels, weights.shape[0]))


def _shift_columns(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random horizontal shift of up to 2 px: the median-column centring wobbles that much."""
    shift = int(torch.randint(-2, 3, (1,), generator=generator))
    return torch.roll(batch, shifts=shift, dims=-1)


def train_cnn(
    bank: GeiBank,
    checkpoint: Path,
    epochs: int = CNN_EPOCHS,
    init: Path | None = None,
    lr: float = 1e-3,
    log: Callable[[str], None] = print,
    seed: int = 0,
    validate: Callable[[GeiCnn], float] | None = None,
    patience: int = 2,
) -> GeiCnn:
    """Train (or resume) the GEI CNN on `bank` with a cosine-margin softmax over subjects.

    With `validate` (a score to maximise, e.g. rank-1 on held-out walks) it runs until the score has not
    risen for `patience` epochs (at most `epochs`; training.plateau) and returns the best epoch's network,
    which may be the starting one (epoch 0)."""
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    names, labels = np.unique(bank.subject, return_inverse=True)
    geis = torch.from_numpy(bank.geis).unsqueeze(1)  # (n, 1, 64, 44): a one-frame walk is its GEI
    targets = torch.from_numpy(labels)
    model = GeiCnn()
    weights = torch.nn.Parameter(torch.randn(len(names), EMBEDDING_DIM) * 0.01)
    optimiser = torch.optim.Adam([*model.parameters(), weights], lr=lr, weight_decay=1e-4)
    start_epoch, history = 0, []
    if checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(state["model"])
        weights.data.copy_(state["weights"])
        optimiser.load_state_dict(state["optimiser"])
        start_epoch, history = state["epoch"], state.get("validation", [])
    elif init is not None:  # fine-tuning: start from another run's network and its centres of these subjects
        state = torch.load(init, weights_only=False)
        model.load_state_dict(state["model"])
        weights.data.copy_(state["weights"][np.searchsorted(state["subjects"], names)])
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, epochs, last_epoch=start_epoch - 1)

    def run_epoch(epoch: int) -> None:
        generator = torch.Generator().manual_seed(seed * 1000 + epoch)
        model.train()
        began, total, correct = time.time(), 0.0, 0
        for batch in torch.randperm(len(geis), generator=generator).split(64):
            logits = _cosface_logits(model(_shift_columns(geis[batch], generator)), weights, targets[batch])
            loss = torch.nn.functional.cross_entropy(logits, targets[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item() * len(batch)
            correct += int((logits.argmax(1) == targets[batch]).sum())
        schedule.step()
        model.eval()
        log(f"epoch {epoch}/{epochs}: loss {total / len(geis):.3f}, train acc {correct / len(geis):.3f}, {time.time() - began:.0f}s")

    def save(epoch: int, scores: Sequence[float] = ()) -> None:
        torch.save({"model": model.state_dict(), "weights": weights.data, "optimiser": optimiser.state_dict(),
                    "epoch": epoch, "validation": list(scores), "subjects": names}, checkpoint)

    if validate is None:
        for epoch in range(start_epoch + 1, epochs + 1):
            run_epoch(epoch)
            save(epoch)
    else:
        model.eval()
        best = BestState(model=model)
        initial = validate(model)
        best.save(0)  # a resumed run's earlier best is re-found from its scores, its state is the start's
        result = train_until_plateau(
            run_epoch, lambda: validate(model), patience, epochs, save_best=best.save, restore_best=best.restore,
            after_epoch=lambda epoch, score, so_far: save(epoch, so_far.scores), history=history,
            initial_score=None if history else initial, log=log,
        )
        log(f"kept epoch {result.best_epoch} (validation {result.best_score:.3f}; before retraining {initial:.3f})")
    model.eval()
    return model


def export_onnx(model: GeiCnn, path: Path) -> None:
    """ONNX with dynamic batch and time (STACK.md: example batch >= 2, no external data)."""
    model.eval()
    example = torch.rand(2, 5, 64, 44)
    batch, frames = torch.export.Dim("batch"), torch.export.Dim("frames")
    tmp = path.with_suffix(".tmp.onnx")
    torch.onnx.export(
        model,
        (example,),
        str(tmp),
        input_names=["silhouettes"],
        output_names=["embedding"],
        dynamic_shapes={"silhouettes": {0: batch, 1: frames}},
        external_data=False,
    )
    tmp.replace(path)


# --- the command ----------------------------------------------------------------------------


def ensure_attackers(cache: Path = DEFAULT_CACHE, data_dir: Path | None = None, log: Callable[[str], None] = print) -> None:
    """Train whatever attacker is not cached yet (plain and distortion-trained, both kinds)."""
    cache.mkdir(parents=True, exist_ok=True)
    bank = None
    for distorted in (False, True):
        kind = "distorted" if distorted else "plain"
        lda_path, onnx_path = cache / f"gei_lda_{kind}.npz", cache / f"gei_cnn_{kind}.onnx"
        if lda_path.exists() and onnx_path.exists():
            continue
        bank = bank or attacker_bank(cache, data_dir)
        training = bank if distorted else bank.select(bank.variant == 0)
        if not lda_path.exists():
            log(f"training GEI+PCA/LDA ({kind}) on {len(training.geis)} walks")
            train_lda(training, f"gei_lda_{kind}").save(lda_path)
        if not onnx_path.exists():
            log(f"training GEI CNN ({kind}) on {len(training.geis)} walks")
            model = train_cnn(training, cache / f"gei_cnn_{kind}.pt", log=log)
            export_onnx(model, onnx_path)


ADAPTIVE_FRAMES = 40  # frames per walk anonymized for the adaptive attackers (bounds the cost)
ADAPTIVE_MAX_EPOCHS = 20
ADAPTIVE_PATIENCE = 2


def held_out_rank1(originals: GeiBank, anonymized: GeiBank, holdout: Sequence[str]) -> Callable[[GeiCnn], float]:
    """Same-view rank-1 of the held-out subjects' anonymized nm-05/06 (every draw) against their
    original nm-01..04: what the adaptive attacker is retrained to maximise."""
    from training.attackers import identify

    gallery = originals.select(np.isin(originals.subject, holdout) & (originals.variant == 0)
                               & np.isin(originals.walk, NM_WALKS[:4]))
    probes = anonymized.select(np.isin(anonymized.subject, holdout) & np.isin(anonymized.walk, NM_WALKS[4:]))

    @torch.no_grad()
    def score(model: GeiCnn) -> float:
        embed = lambda b: model(torch.from_numpy(b.geis).unsqueeze(1)).numpy()  # noqa: E731
        g, p = embed(gallery), embed(probes)
        hits = [identify(p[probes.view == v], probes.subject[probes.view == v], g[gallery.view == v],
                         gallery.subject[gallery.view == v]).rank1 for v in np.unique(probes.view)]
        return float(np.mean(np.concatenate(hits)))

    return score


def ensure_adaptive(
    cache: Path,
    key: str,
    outputs: GeiBank,
    holdout: Sequence[str],
    data_dir: Path | None = None,
    log: Callable[[str], None] = print,
    seed: int = 0,
) -> tuple[Path, Path]:
    """Attackers that have seen an anonymizer's outputs (identified by `key`; `outputs` holds the GEIs of
    the attacker subjects' normal walks anonymized several times each): the GEI+PCA/LDA refitted with
    them, and the distortion-trained CNN retrained on them beside the originals and one distorted copy,
    leaving the `holdout` subjects out, until their validation rank-1 stops rising (patience
    ADAPTIVE_PATIENCE, at most ADAPTIVE_MAX_EPOCHS). `seed` makes independent attackers. Cached."""
    lda_path, onnx_path = cache / f"gei_lda_adaptive_{key}.npz", cache / f"gei_cnn_adaptive_{key}_s{seed}.onnx"
    if lda_path.exists() and onnx_path.exists():
        return lda_path, onnx_path
    distorted = attacker_bank(cache, data_dir)
    if not lda_path.exists():
        log("refitting GEI+PCA/LDA with the anonymizer's outputs")
        train_lda(concatenate([distorted, outputs]), lda_path.stem).save(lda_path)
    if not onnx_path.exists():
        log(f"retraining the distortion-trained GEI CNN on the anonymizer's outputs (seed {seed})")
        training = concatenate([distorted.select(distorted.variant <= 1), outputs])
        training = training.select(~np.isin(training.subject, holdout))
        model = train_cnn(
            training, cache / f"{onnx_path.stem}.pt", ADAPTIVE_MAX_EPOCHS, init=cache / "gei_cnn_distorted.pt",
            lr=3e-4, log=log, seed=seed, validate=held_out_rank1(distorted, outputs, holdout), patience=ADAPTIVE_PATIENCE,
        )
        export_onnx(model, onnx_path)
    return lda_path, onnx_path


def concatenate(banks: Sequence[GeiBank]) -> GeiBank:
    return GeiBank(*(np.concatenate([getattr(b, f.name) for b in banks]) for f in dataclasses.fields(GeiBank)))


def ship_attacker(cache: Path = DEFAULT_CACHE, models_dir: Path | None = None, wall_time_s: float | None = None) -> None:
    """Copy the distortion-trained CNN into models/ and list it in the manifest."""
    from training.manifest import manifest_path

    target_dir = manifest_path(models_dir).parent
    target_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cache / "gei_cnn_distorted.onnx", target_dir / SHIPPED_FILE)
    fields = dict(
        role="attacker",
        file=SHIPPED_FILE,
        opset=_onnx_opset(target_dir / SHIPPED_FILE),
        inputs=[{"name": "silhouettes", "shape": ["B", "T", 64, 44]}],
        outputs=[{"name": "embedding", "shape": ["B", EMBEDDING_DIM]}],
        description="GEI CNN gait recogniser trained with cheap distortions (dilation, erosion, "
        "width and leg stretches, blur); used by the per-clip privacy check and the evaluation",
        training_subjects=f"attacker group {subjects('attacker')[0]}-{subjects('attacker')[-1]}",
        epochs=CNN_EPOCHS,
    )
    if wall_time_s is not None:
        fields["wall_time_s"] = round(wall_time_s)
    update_entry(SHIPPED_ATTACKER, models_dir, **fields)


def _onnx_opset(path: Path) -> int:
    import onnx

    return next(o.version for o in onnx.load(str(path)).opset_import if o.domain in ("", "ai.onnx"))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where trained attackers are cached")
    parser.add_argument("--data", type=Path, default=None, help="research data folder (default: ../shared/data)")
    parser.add_argument("--no-ship", action="store_true", help="do not copy the attacker into models/")
    args = parser.parse_args(argv)
    began = time.time()
    ensure_attackers(args.cache, args.data)
    if not args.no_ship:
        ship_attacker(args.cache, wall_time_s=time.time() - began)


if __name__ == "__main__":
    main()
