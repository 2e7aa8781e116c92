"""A small set-based gait recogniser (GaitSet-style) that plays the attacker (issue 12, item 2).

    python -m training.set_attacker [--seed 0] [--cache DIR] [--data DIR]

trains (or reuses) the distortion-trained set attacker of one seed and prints its rank-1 on the
ORIGINAL test-subject probes (gallery nm-01..04, probes nm-05/06; same-view and cross-view, mean
over the 11 views).

Unlike the GEI attackers it sees the frames, not only their mean: a frame CNN (16/32/64 channels on
32x22 inputs: the 64x44 crop is halved by average pooling inside the graph) runs on every frame,
the frames' feature maps are max-pooled over the set (order-free, any number of frames), and a
horizontal pyramid (1, 2 and 4 strips; mean + max per strip, a small linear map per strip) gives
the embedding, L2-normalised. ONNX contract as the other attackers: `silhouettes [B, T, 64, 44]`
float 0..1 -> `embedding [B, D]`, dynamic B and T.

Training sees the attacker subjects 007-050 only (all walks and views), 16 random frames per walk per
step, half the walks distorted (`training.distortions.random_training_distortion`, one draw per walk
applied to its frames), with the cosine-margin softmax of the GEI CNN. Cached under the attacker
cache (resumable, one checkpoint per epoch):
  set_distorted_s{seed}.pt / .onnx / .json        the distortion-trained attacker
  set_bank_{key}.npz                              an anonymizer's outputs for the attacker subjects
  set_adaptive_{key}_s{seed}.pt / .onnx / .json   that attacker retrained on them (`ensure_adaptive_set`)
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

from gaitanon_core.shape.casiab import crop_44, load_subject
from training.attackers import identify
from training.distortions import random_training_distortion
from training.plateau import Plateau, train_until_plateau
from training.splits import NM_WALKS, VIEWS, subjects
from training.train_attackers import (
    ADAPTIVE_FRAMES,
    DEFAULT_CACHE,
    _cosface_logits,
    _shift_columns,
    export_onnx,
    middle_frames,
)

STRIPS = (1, 2, 4)  # horizontal pyramid: the whole body, halves, quarters
STRIP_DIM = 32
SET_EMBEDDING_DIM = sum(STRIPS) * STRIP_DIM
TRAIN_FRAMES = 16  # frames sampled per walk per training step
EMBED_FRAMES = 32  # at most this many evenly spaced frames per walk when embedding (bounds the cost)
BATCH_WALKS = 32
SET_EPOCHS = 16
DISTORT_SHARE = 0.5  # share of the walks distorted in each epoch of the distortion-trained run
GALLERY_WALKS = NM_WALKS[:4]
PROBE_WALKS = NM_WALKS[4:]

ADAPTIVE_DRAWS = 4
ADAPTIVE_PATIENCE = 2
ADAPTIVE_MAX_EPOCHS = 20
ADAPTIVE_LR = 3e-4
# Attacker subjects held out of the adaptive retraining: their anonymized nm-05/06 against their
# original nm-01..04 decide when the retraining stops (fixed, spread over 007-050).
ADAPTIVE_HOLDOUT = ("010", "017", "024", "031", "038", "045")
BANK_SEED = 1  # the anonymizer's noise draws for the bank (shared by every attacker seed)


# --- the network ---------------------------------------------------------------------------


def _conv(cin: int, cout: int, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.1))


class SetNet(nn.Module):
    """Silhouettes [B, T, 64, 44] -> L2-normalised embedding [B, SET_EMBEDDING_DIM]; max over the
    frames' feature maps, so the order of the frames does not matter and any T >= 1 works."""

    def __init__(self, strips: Sequence[int] = STRIPS, strip_dim: int = STRIP_DIM) -> None:
        super().__init__()
        self.strips = tuple(strips)
        self.frames = nn.Sequential(
            _conv(1, 16, 5), _conv(16, 16), nn.MaxPool2d(2),  # 32x22 -> 16x11
            _conv(16, 32), _conv(32, 32), nn.MaxPool2d(2),  # -> 8x5
            _conv(32, 64), _conv(64, 64),
        )
        self.strip_maps = nn.Parameter(torch.empty(sum(self.strips), 64, strip_dim))
        nn.init.xavier_uniform_(self.strip_maps)

    def forward(self, silhouettes: torch.Tensor) -> torch.Tensor:
        batch, frames = silhouettes.shape[0], silhouettes.shape[1]
        small = nn.functional.avg_pool2d(silhouettes.reshape(-1, 1, 64, 44), 2)  # 32x22, area downsampling
        maps = self.frames(small)  # (B*T, 64, 8, 5)
        pooled = maps.reshape(batch, frames, 64, 8, 5).amax(dim=1)  # set pooling
        parts = []
        for count in self.strips:
            strips = pooled.reshape(batch, 64, count, (8 // count) * 5)
            parts.append(strips.mean(dim=3) + strips.amax(dim=3))  # (B, 64, count)
        features = torch.cat(parts, dim=2).permute(2, 0, 1)  # (S, B, 64)
        embedding = torch.bmm(features, self.strip_maps).permute(1, 0, 2).reshape(batch, -1)
        return nn.functional.normalize(embedding, dim=1)


def embedding_frames(length: int, limit: int | None = EMBED_FRAMES) -> np.ndarray:
    """Indices of the frames a walk is embedded from: all of them, or `limit` evenly spaced."""
    if limit is None or length <= limit:
        return np.arange(length)
    return np.round(np.linspace(0, length - 1, limit)).astype(int)


def _model_input(frames: np.ndarray) -> np.ndarray:
    """(T, 64, 64) or (T, 64, 44) silhouettes -> (T, 64, 44) float32 in 0..1."""
    frames = np.asarray(frames)
    if frames.ndim != 3 or frames.shape[1] != 64 or frames.shape[2] not in (44, 64) or len(frames) == 0:
        raise ValueError(f"a walk must be (T, 64, 64) or (T, 64, 44) silhouettes with T >= 1, not {frames.shape}")
    return (crop_44(frames) if frames.shape[2] == 64 else frames).astype(np.float32)


def _embed_grouped(walks: Sequence[np.ndarray], run: Callable[[np.ndarray], np.ndarray], limit: int | None, batch: int = 16) -> np.ndarray:
    """Embed walks in batches of equal frame counts (no padding: a padded frame would join the max)."""
    inputs = [_model_input(np.asarray(w)[embedding_frames(len(w), limit)]) for w in walks]
    out: list[np.ndarray | None] = [None] * len(inputs)
    by_length: dict[int, list[int]] = {}
    for i, x in enumerate(inputs):
        by_length.setdefault(len(x), []).append(i)
    for members in by_length.values():
        for start in range(0, len(members), batch):
            chosen = members[start : start + batch]
            vectors = run(np.stack([inputs[i] for i in chosen]))
            for i, v in zip(chosen, vectors, strict=True):
                out[i] = v
    return np.stack(out) if out else np.zeros((0, SET_EMBEDDING_DIM), np.float32)


class SetAttacker:
    """The exported set recogniser run by ONNX Runtime on the CPU."""

    def __init__(self, name: str, onnx_path: Path, threads: int = 1, max_frames: int | None = EMBED_FRAMES) -> None:
        self.name = name
        self.onnx_path = Path(onnx_path)
        self.max_frames = max_frames
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])

    def embed_walks(self, walks: Sequence[np.ndarray]) -> np.ndarray:
        """Each walk (T, 64, 64) bool, pre-treated like the dataset (or already (T, 64, 44)) -> one row
        of the (n, D) result; all its frames, or `max_frames` evenly spaced over it."""
        return _embed_grouped(walks, lambda x: self.session.run(["embedding"], {"silhouettes": x})[0], self.max_frames)


def embed_torch(model: SetNet, walks: Sequence[np.ndarray], limit: int | None = EMBED_FRAMES) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        return _embed_grouped(walks, lambda x: model(torch.from_numpy(x)).numpy(), limit)


# --- walks, kept bit-packed -----------------------------------------------------------------


@dataclass
class WalkSet:
    """Many walks, bit-packed and concatenated; `draw` is -1 for an original walk, else the index of
    the anonymizer's noise draw that made it."""

    frames: np.ndarray  # (total frames, 64, 8) uint8
    start: np.ndarray  # (n,) first frame of each walk
    length: np.ndarray  # (n,)
    subject: np.ndarray  # (n,) str
    walk: np.ndarray  # (n,) str, e.g. "nm-05"
    view: np.ndarray  # (n,) str
    draw: np.ndarray  # (n,) int

    def __len__(self) -> int:
        return len(self.start)

    def walk_frames(self, i: int, index: np.ndarray | None = None) -> np.ndarray:
        """Walk i as (T, 64, 64) bool (or only the frames at `index`)."""
        packed = self.frames[self.start[i] : self.start[i] + self.length[i]]
        return np.unpackbits(packed if index is None else packed[index], axis=-1).astype(bool)

    def select(self, mask: np.ndarray) -> WalkSet:
        return WalkSet(self.frames, *(getattr(self, f)[mask] for f in ("start", "length", "subject", "walk", "view", "draw")))

    def save(self, path: Path) -> None:
        chunks = [self.frames[s : s + n] for s, n in zip(self.start, self.length, strict=True)]
        frames = np.concatenate(chunks) if chunks else np.zeros((0, 64, 8), np.uint8)
        start = np.concatenate([[0], np.cumsum(self.length)[:-1]]).astype(np.int64) if len(self) else self.start
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez_compressed(tmp, frames=frames, start=start, length=self.length, subject=self.subject, walk=self.walk, view=self.view, draw=self.draw)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> WalkSet:
        with np.load(path) as s:
            return cls(s["frames"], s["start"], s["length"], s["subject"], s["walk"], s["view"], s["draw"])

    @classmethod
    def from_walks(cls, records: Sequence[tuple[str, str, str, int, np.ndarray]]) -> WalkSet:
        """From (subject, walk, view, draw, (T, 64, 64) bool) records."""
        packed = [np.packbits(np.asarray(r[4], dtype=bool), axis=-1) for r in records]
        length = np.array([len(p) for p in packed], dtype=np.int64)
        start = np.concatenate([[0], np.cumsum(length)[:-1]]).astype(np.int64) if records else np.zeros(0, np.int64)
        frames = np.concatenate(packed) if packed else np.zeros((0, 64, 8), np.uint8)
        column = lambda k: np.array([r[k] for r in records])  # noqa: E731
        return cls(frames, start, length, column(0), column(1), column(2), np.array([r[3] for r in records], dtype=np.int64))

    @classmethod
    def concatenate(cls, sets: Sequence[WalkSet]) -> WalkSet:
        offsets = np.cumsum([0] + [len(s.frames) for s in sets[:-1]])
        return cls(
            np.concatenate([s.frames for s in sets]),
            np.concatenate([s.start + o for s, o in zip(sets, offsets, strict=True)]),
            *(np.concatenate([getattr(s, f) for s in sets]) for f in ("length", "subject", "walk", "view", "draw")),
        )


def load_walks(
    subject_ids: Sequence[str], data_dir: Path | None = None, walks: Sequence[str] | None = None, max_frames: int | None = None
) -> WalkSet:
    """The original walks of `subject_ids` (all, or those named in `walks`; at most `max_frames` from
    the middle of each)."""
    records = []
    for sid in subject_ids:
        for key, frames in sorted(load_subject(sid, data_dir).items()):
            walk, view = key.split("_")
            if len(frames) and (walks is None or walk in walks):
                records.append((sid, walk, view, -1, middle_frames(frames, max_frames)))
    return WalkSet.from_walks(records)


def embed_set(embed: Callable[[Sequence[np.ndarray]], np.ndarray], walks: WalkSet, chunk: int = 64) -> np.ndarray:
    """Embeddings of every walk of a WalkSet (unpacked a chunk at a time)."""
    parts = [embed([walks.walk_frames(i) for i in range(s, min(s + chunk, len(walks)))]) for s in range(0, len(walks), chunk)]
    return np.concatenate(parts) if parts else np.zeros((0, SET_EMBEDDING_DIM), np.float32)


# --- identification --------------------------------------------------------------------------


def rank1_by_view(probe_vectors: np.ndarray, probes: WalkSet, gallery_vectors: np.ndarray, gallery: WalkSet) -> dict:
    """Rank-1 per probe view, same-view and cross-view (the mean over the other gallery views), and
    their means over views, as the evaluation's tables average them."""
    same, cross = {}, {}
    for view in VIEWS:
        chosen = probes.view == view
        if not chosen.any():
            continue
        rates = {}
        for gallery_view in VIEWS:
            in_view = gallery.view == gallery_view
            if in_view.any():
                hits = identify(probe_vectors[chosen], probes.subject[chosen], gallery_vectors[in_view], gallery.subject[in_view])
                rates[gallery_view] = float(hits.rank1.mean())
        if view in rates:
            same[view] = rates[view]
        others = [r for g, r in rates.items() if g != view]
        if others:
            cross[view] = float(np.mean(others))
    return {
        "same_view": float(np.mean(list(same.values()))) if same else float("nan"),
        "cross_view": float(np.mean(list(cross.values()))) if cross else float("nan"),
        "same_view_per_view": same,
        "cross_view_per_view": cross,
    }


def original_rank1(attacker: SetAttacker, data_dir: Path | None = None, group: str = "test") -> dict:
    """The attacker's own strength: rank-1 of the ORIGINAL nm-05/06 probes of a subject group against
    their nm-01..04 gallery (16 test subjects by default)."""
    walks = load_walks(subjects(group), data_dir, walks=NM_WALKS)
    vectors = embed_set(attacker.embed_walks, walks)
    probe = np.isin(walks.walk, PROBE_WALKS)
    return rank1_by_view(vectors[probe], walks.select(probe), vectors[~probe], walks.select(~probe))


# --- training --------------------------------------------------------------------------------


Sample = tuple[WalkSet, int, bool]  # (walks, index, distort it)


def _batch(samples: Sequence[Sample], rng: np.random.Generator) -> torch.Tensor:
    clips = []
    for walks, i, distort in samples:
        n = int(walks.length[i])
        index = np.sort(rng.choice(n, TRAIN_FRAMES, replace=n < TRAIN_FRAMES))
        frames = walks.walk_frames(i, index)
        if distort:
            frames = random_training_distortion(frames, rng)
        clips.append(_model_input(frames))
    return torch.from_numpy(np.stack(clips))


def _train_epoch(
    model: SetNet,
    centres: nn.Parameter,
    optimiser: torch.optim.Optimizer,
    samples: list[Sample],
    targets: np.ndarray,
    rng: np.random.Generator,
    generator: torch.Generator,
) -> tuple[float, float]:
    """One pass over `samples` (in a random order) -> (mean loss, train accuracy)."""
    model.train()
    total, correct = 0.0, 0
    order = rng.permutation(len(samples))
    for start in range(0, len(order), BATCH_WALKS):
        chosen = order[start : start + BATCH_WALKS]
        if len(chosen) < 2:  # batch norm needs two walks
            continue
        inputs = _shift_columns(_batch([samples[i] for i in chosen], rng), generator)
        labels = torch.from_numpy(targets[chosen])
        logits = _cosface_logits(model(inputs), centres, labels)
        loss = nn.functional.cross_entropy(logits, labels)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        total += loss.item() * len(chosen)
        correct += int((logits.argmax(1) == labels).sum())
    return total / len(samples), correct / len(samples)


def _epoch_streams(seed: int, epoch: int) -> tuple[np.random.Generator, torch.Generator]:
    """Random streams of one epoch, the same whether or not the run was resumed."""
    return np.random.default_rng([seed, epoch]), torch.Generator().manual_seed(seed * 100_003 + epoch)


def _validation_rank1(model: SetNet, probes: WalkSet, gallery: WalkSet) -> float:
    embed = lambda walks: embed_torch(model, walks)  # noqa: E731
    return rank1_by_view(embed_set(embed, probes), probes, embed_set(embed, gallery), gallery)["same_view"]


def _save(state: dict, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def _resume(checkpoint: Path, model: SetNet, centres: nn.Parameter, optimiser: torch.optim.Optimizer) -> dict | None:
    """Load a run's checkpoint into its network, class centres and optimiser; the checkpoint's
    fields, or None when there is none yet."""
    if not checkpoint.exists():
        return None
    state = torch.load(checkpoint, weights_only=False)
    model.load_state_dict(state["model"])
    centres.data.copy_(state["centres"])
    optimiser.load_state_dict(state["optimiser"])
    return state


def _export(model: SetNet, onnx_path: Path) -> None:
    model.eval()
    export_onnx(model, onnx_path)  # the GEI CNN's export: example batch 2, dynamic batch and time


def _write_info(path: Path, **fields) -> None:
    info = json.loads(path.read_text()) if path.exists() else {}
    info.update(fields)
    path.write_text(json.dumps(info, indent=2) + "\n")


def set_paths(cache: Path, seed: int, key: str | None = None) -> tuple[Path, Path, Path]:
    """(checkpoint, onnx, info json) of the distortion-trained (key None) or adaptive attacker."""
    stem = f"set_distorted_s{seed}" if key is None else f"set_adaptive_{key}_s{seed}"
    return cache / f"{stem}.pt", cache / f"{stem}.onnx", cache / f"{stem}.json"


def ensure_set_attacker(
    cache: Path = DEFAULT_CACHE, data_dir: Path | None = None, seed: int = 0, log: Callable[[str], None] = print, epochs: int = SET_EPOCHS
) -> Path:
    """Train (or resume, or reuse) the distortion-trained set attacker of `seed`; its ONNX path."""
    checkpoint, onnx_path, info_path = set_paths(cache, seed)
    if onnx_path.exists():
        return onnx_path
    cache.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    began = time.time()
    walks = load_walks(subjects("attacker"), data_dir)
    names = np.unique(walks.subject)
    targets = np.searchsorted(names, walks.subject)
    validation = load_walks(subjects("validation"), data_dir, walks=NM_WALKS)
    val_probe = np.isin(validation.walk, PROBE_WALKS)
    val_probes, val_gallery = validation.select(val_probe), validation.select(~val_probe)
    torch.manual_seed(seed)
    model = SetNet()
    centres = nn.Parameter(torch.randn(len(names), SET_EMBEDDING_DIM) * 0.01)
    optimiser = torch.optim.Adam([*model.parameters(), centres], lr=1e-3, weight_decay=1e-4)
    start_epoch, spent, history = 0, 0.0, []
    if (state := _resume(checkpoint, model, centres, optimiser)) is not None:
        start_epoch, spent, history = state["epoch"], state["seconds"], state["validation"]
        log(f"set attacker s{seed}: resuming after epoch {start_epoch}")
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, epochs, last_epoch=start_epoch - 1)
    log(f"set attacker s{seed}: {len(walks)} walks of {len(names)} attacker subjects, {epochs} epochs")
    for epoch in range(start_epoch, epochs):
        rng, generator = _epoch_streams(seed, epoch)
        samples = [(walks, i, bool(d)) for i, d in enumerate(rng.random(len(walks)) < DISTORT_SHARE)]
        loss, accuracy = _train_epoch(model, centres, optimiser, samples, targets, rng, generator)
        schedule.step()
        rank1 = _validation_rank1(model, val_probes, val_gallery)
        history.append(rank1)
        spent += time.time() - began
        began = time.time()
        log(
            f"set attacker s{seed} epoch {epoch + 1}/{epochs}: loss {loss:.3f}, train acc {accuracy:.3f}, "
            f"validation same-view rank-1 {rank1:.3f}, {spent / 60:.1f} min so far"
        )
        _save(
            {"model": model.state_dict(), "centres": centres.data, "optimiser": optimiser.state_dict(),
             "epoch": epoch + 1, "seconds": spent, "validation": history, "subjects": names, "seed": seed},
            checkpoint,
        )  # fmt: skip
    _export(model, onnx_path)
    spent += time.time() - began
    _write_info(
        info_path, kind="set_distorted", seed=seed, epochs=epochs, train_seconds=round(spent),
        validation_same_view_rank1=history, training_subjects="attacker 007-050",
    )  # fmt: skip
    log(f"set attacker s{seed}: exported {onnx_path} ({spent / 60:.1f} min of training)")
    return onnx_path


# --- the adaptive set attacker ---------------------------------------------------------------


Anonymize = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def adaptive_bank_path(cache: Path, key: str) -> Path:
    return cache / f"set_bank_{key}.npz"


def ensure_adaptive_bank(
    cache: Path, key: str, anonymize: Anonymize, data_dir: Path | None = None, draws: int = ADAPTIVE_DRAWS, log: Callable[[str], None] = print
) -> WalkSet:
    """The anonymizer's outputs for the attacker subjects' normal walks (nm-01..06, all views, at most
    ADAPTIVE_FRAMES middle frames each), `draws` independent draws per walk (`draw` 0..draws-1),
    cached bit-packed; built one subject at a time so an interrupted build resumes."""
    path = adaptive_bank_path(cache, key)
    if path.exists():
        bank = WalkSet.load(path)
        if len(bank) and int(bank.draw.max()) + 1 < draws:
            raise ValueError(f"{path} holds {int(bank.draw.max()) + 1} draws per walk, fewer than the {draws} asked for")
        return bank.select(bank.draw < draws)
    parts_dir = cache / f"set_bank_{key}.parts"
    parts_dir.mkdir(parents=True, exist_ok=True)
    parts = []
    for sid in subjects("attacker"):
        part = parts_dir / f"{sid}_x{draws}.npz"
        if not part.exists():
            began = time.time()
            rng = np.random.default_rng([BANK_SEED, int(sid)])
            originals = load_walks([sid], data_dir, walks=NM_WALKS, max_frames=ADAPTIVE_FRAMES)
            records = []
            for i in range(len(originals)):
                walk = originals.walk_frames(i)
                for draw in range(draws):
                    out = np.asarray(anonymize(walk, rng), dtype=bool)
                    if out.ndim != 3 or out.shape[1:] != (64, 64) or len(out) == 0:
                        raise ValueError(f"anonymize must return a (T, 64, 64) walk, not {out.shape}")
                    records.append((sid, str(originals.walk[i]), str(originals.view[i]), draw, out))
            WalkSet.from_walks(records).save(part)
            log(f"adaptive bank {key}: subject {sid}, {len(records)} anonymized walks, {time.time() - began:.0f}s")
        parts.append(WalkSet.load(part))
    bank = WalkSet.concatenate(parts)
    bank.save(path)
    shutil.rmtree(parts_dir)
    return bank


def ensure_adaptive_set(
    cache: Path,
    key: str,
    anonymize: Anonymize,
    data_dir: Path | None = None,
    seed: int = 0,
    draws: int = ADAPTIVE_DRAWS,
    log: Callable[[str], None] = print,
    max_epochs: int = ADAPTIVE_MAX_EPOCHS,
    patience: int = ADAPTIVE_PATIENCE,
) -> Path:
    """The set attacker that has seen the anonymizer `key`: the distortion-trained one of `seed`,
    retrained on the attacker subjects' originals (each epoch half of them distorted) and the
    anonymized bank (each epoch one of the `draws` draws of every walk, chosen at random), minus
    ADAPTIVE_HOLDOUT, until the held-out subjects' same-view rank-1 (anonymized nm-05/06 probes of
    every draw against their ORIGINAL nm-01..04) stops rising; the best epoch is exported (epoch 0,
    the distortion-trained start, when no retraining epoch beats it). Returns the ONNX path."""
    checkpoint, onnx_path, info_path = set_paths(cache, seed, key)
    if onnx_path.exists():
        return onnx_path
    base_checkpoint = set_paths(cache, seed)[0]
    ensure_set_attacker(cache, data_dir, seed, log)
    bank = ensure_adaptive_bank(cache, key, anonymize, data_dir, draws, log)
    torch.set_num_threads(1)
    began = time.time()
    originals = load_walks(subjects("attacker"), data_dir)
    train_ids = [s for s in subjects("attacker") if s not in ADAPTIVE_HOLDOUT]
    names = np.array(sorted(train_ids))
    train_orig = originals.select(np.isin(originals.subject, names))
    train_anon = bank.select(np.isin(bank.subject, names))
    held = np.isin(originals.subject, ADAPTIVE_HOLDOUT)
    gallery = originals.select(held & np.isin(originals.walk, GALLERY_WALKS))
    probes = bank.select(np.isin(bank.subject, ADAPTIVE_HOLDOUT) & np.isin(bank.walk, PROBE_WALKS))

    model = SetNet()
    base = torch.load(base_checkpoint, weights_only=False)
    model.load_state_dict(base["model"])
    rows = np.searchsorted(np.asarray(base["subjects"]), names)
    centres = nn.Parameter(base["centres"][torch.from_numpy(rows)].clone())
    optimiser = torch.optim.Adam([*model.parameters(), centres], lr=ADAPTIVE_LR, weight_decay=1e-4)
    best_path = checkpoint.with_name(checkpoint.stem + "_best.pt")
    if (state := _resume(checkpoint, model, centres, optimiser)) is not None:
        history, initial, spent = state["validation"], state["initial"], state["seconds"]
        log(f"adaptive set attacker {key} s{seed}: resuming after epoch {len(history)}")
    else:
        initial, history, spent = _validation_rank1(model, probes, gallery), [], 0.0
        _save({"model": model.state_dict(), "centres": centres.data}, best_path)  # epoch 0: the start
        log(f"adaptive set attacker {key} s{seed}: distortion-trained start, validation rank-1 {initial:.3f}")
    anon_by_walk: dict[tuple[str, str, str], list[int]] = {}
    for i in range(len(train_anon)):
        anon_by_walk.setdefault((train_anon.subject[i], train_anon.walk[i], train_anon.view[i]), []).append(i)
    anon_groups = list(anon_by_walk.values())
    orig_targets = np.searchsorted(names, train_orig.subject)
    anon_targets = np.searchsorted(names, train_anon.subject)
    log(
        f"adaptive set attacker {key} s{seed}: {len(train_orig)} original and {len(anon_groups)} anonymized walks "
        f"(x{draws} draws) of {len(names)} subjects; validation on {len(probes)} probes of {len(ADAPTIVE_HOLDOUT)} held-out subjects"
    )
    clock = {"began": began, "spent": spent}

    def run_epoch(epoch: int) -> None:
        rng, generator = _epoch_streams(seed + 1_000, epoch)
        distort = rng.random(len(train_orig)) < DISTORT_SHARE
        picks = [group[rng.integers(len(group))] for group in anon_groups]
        samples = [(train_orig, i, bool(d)) for i, d in enumerate(distort)] + [(train_anon, i, False) for i in picks]
        targets = np.concatenate([orig_targets, anon_targets[picks]]).astype(np.int64)
        loss, accuracy = _train_epoch(model, centres, optimiser, samples, targets, rng, generator)
        log(f"adaptive set attacker {key} s{seed} epoch {epoch}: loss {loss:.3f}, train acc {accuracy:.3f}")

    def after_epoch(epoch: int, score: float, so_far: Plateau) -> None:
        clock["spent"] += time.time() - clock["began"]
        clock["began"] = time.time()
        _save(
            {"model": model.state_dict(), "centres": centres.data, "optimiser": optimiser.state_dict(),
             "validation": list(so_far.scores), "initial": initial, "seconds": clock["spent"]},
            checkpoint,
        )  # fmt: skip

    def save_best(epoch: int) -> None:
        _save({"model": model.state_dict(), "centres": centres.data, "epoch": epoch}, best_path)

    def restore_best(epoch: int) -> None:
        model.load_state_dict(torch.load(best_path, weights_only=False)["model"])

    result = train_until_plateau(
        run_epoch, lambda: _validation_rank1(model, probes, gallery), patience, max_epochs,
        save_best=save_best, restore_best=restore_best, after_epoch=after_epoch,
        history=history, initial_score=initial, log=lambda m: log(f"adaptive set attacker {key} s{seed} {m}"),
    )  # fmt: skip
    _export(model, onnx_path)
    clock["spent"] += time.time() - clock["began"]
    _write_info(
        info_path, kind="set_adaptive", key=key, seed=seed, draws=draws, best_epoch=result.best_epoch,
        best_validation_rank1=result.best_score, initial_validation_rank1=initial,
        validation_same_view_rank1=list(result.scores), plateaued=result.plateaued,
        train_seconds=round(clock["spent"]), holdout=list(ADAPTIVE_HOLDOUT),
    )  # fmt: skip
    log(
        f"adaptive set attacker {key} s{seed}: best epoch {result.best_epoch} (validation rank-1 {result.best_score:.3f}) "
        f"after {len(result.scores)} epochs, {clock['spent'] / 60:.1f} min; exported {onnx_path}"
    )
    return onnx_path


# --- the command -----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where trained attackers are cached")
    parser.add_argument("--data", type=Path, default=None, help="research data folder (default: ../shared/data)")
    args = parser.parse_args(argv)
    log = lambda message: print(message, flush=True)  # noqa: E731
    onnx_path = ensure_set_attacker(args.cache, args.data, args.seed, log)
    began = time.time()
    result = original_rank1(SetAttacker(f"set_distorted_s{args.seed}", onnx_path), args.data)
    per_view = " ".join(f"{v}:{r:.3f}" for v, r in result["same_view_per_view"].items())
    log(f"original test probes (nm-05/06 vs nm-01..04, 16 subjects), measured in {time.time() - began:.0f}s:")
    log(f"  same-view rank-1 {result['same_view']:.4f} (per view {per_view})")
    log(f"  cross-view rank-1 {result['cross_view']:.4f}")
    _write_info(
        set_paths(args.cache, args.seed)[2],
        test_original_rank1_same_view=result["same_view"], test_original_rank1_cross_view=result["cross_view"],
        test_original_rank1_same_view_per_view=result["same_view_per_view"],
    )  # fmt: skip


if __name__ == "__main__":
    main()
