"""The attackers of the evaluation, all trained on the attacker subjects (007-050) only.

- GEI + PCA/LDA and the GEI CNN, plain and distortion-trained (training.train_attackers);
- the set-based recogniser, distortion-trained (training.set_attacker), when it is trained;
- ADAPTIVE ones for every anonymizer under test at a shipped strength: retrained on that anonymizer's
  own outputs for the attacker subjects (several draws a walk) until their validation stops rising,
  several seeds for the default strength;
- the TOOL OWNER: an attacker who ran the tool on other people, measured its mean change of the outline
  per view, and undoes it on a probe before matching it with the distortion-trained recognisers.

Every attacker judges a walk through `Walks` (GEIs and sampled frames as an attacker sees them)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from gaitanon_core.shape.codec import encode_casiab
from gaitanon_core.errors import InputError
from gaitanon_core.inference.anonymizer import OUTPUT_VERSION
from gaitanon_core.inference.attacker import AttackerEmbedder
from training.attackers import GeiLdaAttacker, gei
from training.set_attacker import WalkSet
from training.splits import VIEWS
from training.train_attackers import ADAPTIVE_FRAMES, GeiBank, ensure_adaptive

from .conditions import Condition
from .data import DRAWING_VERSION, SET_FRAMES, WalkRecord, draw_as_attacker_sees, evenly_spaced, load_records


@dataclass
class Walks:
    """Walks as attackers see them: one GEI each (from every frame) and SET_FRAMES sampled frames."""

    geis: np.ndarray  # (n, 64, 44) float32
    frames: np.ndarray  # (n, SET_FRAMES, 64, 8) uint8, bit-packed pre-treated frames

    @classmethod
    def of(cls, walks: Sequence[np.ndarray]) -> Walks:
        return cls(np.stack([gei(w) for w in walks]),
                   np.stack([np.packbits(evenly_spaced(w), axis=-1) for w in walks]))

    def frame_walks(self) -> list[np.ndarray]:
        return [np.unpackbits(f, axis=-1).astype(bool) for f in self.frames]


class Attacker(Protocol):
    name: str

    def embed(self, walks: Walks) -> np.ndarray: ...


@dataclass
class GeiAttacker:
    """Any recogniser that judges a walk by its GEI (LDA, or an ONNX GEI CNN)."""

    name: str
    embed_geis: Callable[[np.ndarray], np.ndarray]

    def embed(self, walks: Walks) -> np.ndarray:
        return self.embed_geis(walks.geis)


def lda_attacker(name: str, path: Path) -> GeiAttacker:
    return GeiAttacker(name, GeiLdaAttacker.load(path).embed_geis)


def onnx_gei_attacker(name: str, path: Path) -> GeiAttacker:
    embedder = AttackerEmbedder(onnx_path=path)
    return GeiAttacker(name, lambda geis: embedder.embed(list(geis[:, None])))  # a GEI is a one-frame walk


@dataclass
class FrameSetAttacker:
    """A set-based recogniser: it sees the frames, not only their mean."""

    name: str
    path: Path
    _model: object = field(init=False, repr=False)

    def __post_init__(self) -> None:
        from training.set_attacker import SetAttacker

        self._model = SetAttacker(self.name, self.path)

    def embed(self, walks: Walks) -> np.ndarray:
        return self._model.embed_walks(walks.frame_walks())


GEI_CNN_DISTORTED = "GEI CNN, distortion-trained"
SET_DISTORTED = "set-based, distortion-trained"


def standard_attackers(cache: Path, data_dir: Path | None, with_set: bool, log: Callable[[str], None]) -> dict[str, Attacker]:
    attackers: dict[str, Attacker] = {}
    for kind, label in (("plain", "plain"), ("distorted", "distortion-trained")):
        attackers[f"GEI+PCA/LDA, {label}"] = lda_attacker(f"GEI+PCA/LDA, {label}", cache / f"gei_lda_{kind}.npz")
        attackers[f"GEI CNN, {label}"] = onnx_gei_attacker(f"GEI CNN, {label}", cache / f"gei_cnn_{kind}.onnx")
    if with_set:
        from training.set_attacker import ensure_set_attacker

        attackers[SET_DISTORTED] = FrameSetAttacker(SET_DISTORTED, ensure_set_attacker(cache, data_dir, seed=0, log=log))
    return attackers


def attacker_view(condition: Condition) -> Callable[[np.ndarray, np.random.Generator], np.ndarray]:
    """`condition` as a walk transform, (T, 64, 64) bool -> what an attacker sees of it (for anonymizers
    that do not need to know the view, as the shipped models)."""

    def anonymize(silhouettes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        record = WalkRecord("", "", "", np.packbits(silhouettes, axis=-1))
        return condition.run(record, rng).silhouettes

    return anonymize


def adaptive_attackers(condition: Condition, cache: Path, data_dir: Path | None, seeds: Sequence[int],
                       set_seeds: Sequence[int], log: Callable[[str], None]) -> dict[str, Attacker]:
    """Attackers retrained on `condition`'s outputs for the attacker subjects (one bank of several
    draws a walk, shared by every kind and seed): GEI ones per seed in `seeds`, set-based ones per
    seed in `set_seeds` (each needs its own distortion-trained start, most of an hour)."""
    from training.set_attacker import ADAPTIVE_HOLDOUT, ensure_adaptive_bank, ensure_adaptive_set

    key = condition_key(condition)
    bank = ensure_adaptive_bank(cache, key, attacker_view(condition), data_dir, log=log)
    outputs = gei_bank(bank)
    label = f"adaptive to {condition.name}"
    attackers: dict[str, Attacker] = {}
    for seed in seeds:
        lda_path, onnx_path = ensure_adaptive(cache, key, outputs, ADAPTIVE_HOLDOUT, data_dir, log=log, seed=seed)
        attackers[f"GEI+PCA/LDA, {label}"] = lda_attacker(f"GEI+PCA/LDA, {label}", lda_path)
        attackers[f"GEI CNN, {label}, seed {seed}"] = onnx_gei_attacker(f"GEI CNN, {label}, seed {seed}", onnx_path)
    for seed in set_seeds:
        path = ensure_adaptive_set(cache, key, attacker_view(condition), data_dir, seed=seed, log=log)
        attackers[f"set-based, {label}, seed {seed}"] = FrameSetAttacker(f"set-based, {label}, seed {seed}", path)
    return attackers


def gei_bank(walks: WalkSet) -> GeiBank:
    """The GEIs of a bank of anonymized walks (variant = draw + 1: never mistaken for an original)."""
    return GeiBank(np.stack([gei(walks.walk_frames(i)) for i in range(len(walks))]), walks.subject, walks.view,
                   walks.draw + 1, walks.walk)


def condition_key(condition: Condition) -> str:
    """A file-name-safe key of everything the condition's outputs depend on (model files, drawing)."""
    text = f"{condition.name}|{condition.fingerprint}|engine{OUTPUT_VERSION}|draw{DRAWING_VERSION}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# --- the tool owner ---------------------------------------------------------------------------------


TOOL_OWNER_WALKS = ("nm-01", "nm-02")  # the attacker subjects' walks the tool owner anonymizes to learn the change


def mean_change(condition: Condition, cache: Path, data_dir: Path | None, seed: int, people: Sequence[str],
                log: Callable[[str], None], views: Sequence[str] = VIEWS) -> dict[str, np.ndarray]:
    """Per view, the mean change `condition` makes to an outline as an attacker re-traces it from what
    they see: (N, 2) canonical offsets, measured on `people` (the attacker subjects, never the evaluated ones)."""
    named = ",".join(people) if tuple(views) == tuple(VIEWS) else ",".join([*people, "views", *views])
    group = hashlib.sha256(named.encode()).hexdigest()[:8]
    path = cache / "tool_owner" / f"{condition_key(condition)}_{group}_s{seed}.npz"
    if path.exists():
        with np.load(path) as stored:
            return {view: stored[view] for view in stored.files}
    log(f"  tool owner: measuring the mean change of {condition.name} on {len(people)} subjects they know")
    rng = np.random.default_rng(seed)
    changes: dict[str, list[np.ndarray]] = {}
    for record in load_records(people, data_dir, ADAPTIVE_FRAMES, walks=TOOL_OWNER_WALKS, views=views):
        original = record.silhouettes
        try:
            before = encode_casiab(original)
            after = encode_casiab(condition.run(record, rng).silhouettes)
        except InputError:
            continue  # an output frame with no outline: nothing to learn from this walk
        changes.setdefault(record.view, []).append((after - before).mean(axis=0))
    means = {view: np.mean(c, axis=0).astype(np.float32) for view, c in changes.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **means)
    return means


def undo_mean_change(walks: Sequence[np.ndarray], views: Sequence[str], change: dict[str, np.ndarray]) -> Walks:
    """The tool owner's probes: each anonymized walk re-traced, its view's mean change subtracted, re-drawn."""
    restored = []
    for walk, view in zip(walks, views):
        try:
            restored.append(draw_as_attacker_sees(encode_casiab(walk) - change[view]))
        except InputError:
            restored.append(walk)  # a frame with no outline: the attacker keeps what they see
    return Walks.of(restored)
