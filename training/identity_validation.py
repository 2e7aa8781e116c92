"""Quick selection figures for the identity-replacement anonymizers, on the validation subjects (077-084) only.

Extends training.validation's ideas (it is not edited): per strength stop,
- geometry on its fixed validation clips: distance from input, self-intersecting share of the RAW
  output, motion and jitter ratios (training.validation.geometry); beside them
  motion_ratio_smoothed, the motion ratio with both sequences smoothed over time first ([1, 2, 1] / 4
  twice): about 36% of the input's frame-to-frame point motion is its pixel-step jitter and anchor
  slides (the [1, 2, 1] / 4 smoothed input keeps 0.64x of it), which motion_ratio counts as motion,
  so an output that carries the input's jitter over scores well on motion_ratio without walking like
  the input; and, for the identity models, self_intersecting_share_without_loop_cut (the same model
  with its in-graph loop cut off) and loop_cut_frames (share of the measured frames the cut changed);
- iou_with_input: IoU of the drawn output with the drawn input (same tall canvas, no re-centring);
- attacker_success: 1 - rank-1 of the shipped distortion-trained GEI CNN (models/attacker_gei_cnn.onnx),
  anonymized nm-05/06 probes against the ORIGINAL nm-01..04 gallery of the same view. Outputs are drawn
  on a canvas tall enough for a raised head (128 x 128, body height 64 px, head top at row 32), then
  pre-treated like the dataset (training.attackers.as_attacker_sees);
- tool_owner_success: the same after subtracting the mean contour displacement of this model at that
  view, measured on the anonymiser subjects (061-076; the tool owner runs the tool on people they know);
- tool_owner_scaled_success: a stronger tool owner who also undoes the blend:
  x^ = mean_in + (out - mean_out) / (1 - w), with w the model's blend weight;
- linkability_rank1: two independent draws of the same probe walk; draw B's rank-1 against a gallery of
  draw A of every probe walk of that view (chance is 1 / 8 with 8 validation subjects).
The same figures for the shipped alpha-0.3 ST-GAN (ONNX, its own noise generator) and for the
identity (no change) give the comparison and the attacker's strength through this drawing path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import onnxruntime as ort
import torch

from gaitanon_core.shape.casiab import load_subject
from gaitanon_core.paths import models_dir
from gaitanon_core.inference.attacker import AttackerEmbedder
from training.splits import NM_WALKS, VIEWS, subjects

from .evaluation.data import draw_as_attacker_sees, draw_tall
from .dataset import subject_contours
from .identity import _smooth_time, build_anonymizer, load_identity
from .validation import SEED, geometry, validation_clips

# (contours (T, N, 2), rng) -> anonymized (T, N, 2)
Model = Callable[[np.ndarray, np.random.Generator], np.ndarray]

GALLERY, PROBES = NM_WALKS[:4], NM_WALKS[4:]
TOOL_OWNER_WALKS = ("nm-01", "nm-02")


# --- the models compared ---------------------------------------------------------------------------------


def identity_model(name: str, weight: float, loop_cut: bool = True) -> Model:
    generator, state = load_identity(name)
    anonymizer = build_anonymizer({**state["config"], **({} if loop_cut else {"loop_cut": 0})}, weight)

    @torch.no_grad()
    def run(contours: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        z = torch.from_numpy(rng.standard_normal((1, generator.z_dim)).astype(np.float32))
        return anonymizer(torch.from_numpy(contours[None]), generator(z))[0].numpy()

    return run


def onnx_model(folder: Any, alpha: float) -> Model:
    """An exported anonymizer of a models folder (shipped or candidate) by alpha, with its noise generator."""
    import json

    manifest = json.loads((folder / "manifest.json").read_text())
    entry = next(e for e in manifest["models"] if e["role"] == "anonymizer" and abs(e["alpha"] - alpha) < 1e-6)
    noise_entry = next(e for e in manifest["models"] if e["name"] == entry["noise_generator"])
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    net = ort.InferenceSession(str(folder / entry["file"]), options, providers=["CPUExecutionProvider"])
    noise_net = ort.InferenceSession(str(folder / noise_entry["file"]), options, providers=["CPUExecutionProvider"])
    z_dim = int(noise_entry["inputs"][0]["shape"][1])

    def run(contours: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        noise = noise_net.run(None, {"z": rng.standard_normal((1, z_dim)).astype(np.float32)})[0]
        return net.run(None, {"contours": contours[None].astype(np.float32), "noise": noise})[0][0]

    return run


def no_change(contours: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return contours


# --- the figures -----------------------------------------------------------------------------------------


class Protocol:
    """Validation gallery (original silhouettes) and probes (cached contours), embedded once."""

    def __init__(self, views: tuple[str, ...]) -> None:
        self.views = views
        self.attacker = AttackerEmbedder()
        self.gallery: list[tuple[str, str]] = []
        gallery_walks = []
        self.probes: list[tuple[str, str, np.ndarray]] = []
        for subject in subjects("validation"):
            silhouettes = load_subject(subject)
            contours = subject_contours(subject)
            for view in views:
                for walk in GALLERY:
                    if f"{walk}_{view}" in silhouettes:
                        self.gallery.append((subject, view))
                        gallery_walks.append(silhouettes[f"{walk}_{view}"])
                for walk in PROBES:
                    if f"{walk}_{view}" in contours:
                        self.probes.append((subject, view, contours[f"{walk}_{view}"]))
        self.gallery_embeddings = self.attacker.embed(gallery_walks)

    def rank1(self, probe_walks: list[np.ndarray]) -> float:
        """Share of probes whose nearest same-view gallery walk is their subject's."""
        hits = 0
        for (subject, view, _), probe in zip(self.probes, self.attacker.embed(probe_walks)):
            same_view = [i for i, g in enumerate(self.gallery) if g[1] == view]
            best = max(same_view, key=lambda i: float(self.gallery_embeddings[i] @ probe))
            hits += self.gallery[best][0] == subject
        return hits / len(self.probes)

    def linkability(self, draws_a: list[np.ndarray], draws_b: list[np.ndarray]) -> float:
        """Rank-1 of draw B of each probe walk against draw A of every probe walk of its view."""
        a, b = self.attacker.embed(draws_a), self.attacker.embed(draws_b)
        hits = 0
        for i, (subject, view, _) in enumerate(self.probes):
            same_view = [j for j, p in enumerate(self.probes) if p[1] == view]
            best = max(same_view, key=lambda j: float(a[j] @ b[i]))
            hits += self.probes[best][0] == subject
        return hits / len(self.probes)


def mean_change(model: Model, views: tuple[str, ...], rng: np.random.Generator) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per view, the time- and walk-averaged input and output contours on the anonymiser subjects."""
    inputs: dict[str, list[np.ndarray]] = {v: [] for v in views}
    outputs: dict[str, list[np.ndarray]] = {v: [] for v in views}
    for subject in subjects("anonymiser"):
        contours = subject_contours(subject)
        for view in views:
            for walk in TOOL_OWNER_WALKS:
                key = f"{walk}_{view}"
                if key in contours:
                    inputs[view].append(contours[key].mean(0))
                    outputs[view].append(model(contours[key], rng).mean(0))
    return {v: (np.mean(inputs[v], 0), np.mean(outputs[v], 0)) for v in views}


def privacy_figures(protocol: Protocol, model: Model, weight: float | None, seed: int = SEED) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    outputs = [model(c, rng) for _, _, c in protocol.probes]
    draws_b = [model(c, rng) for _, _, c in protocol.probes]
    means = mean_change(model, protocol.views, rng)
    corrected = [out - (means[view][1] - means[view][0]) for out, (_, view, _) in zip(outputs, protocol.probes)]
    figures = {
        "attacker_success": 1.0 - protocol.rank1([draw_as_attacker_sees(o) for o in outputs]),
        "tool_owner_success": 1.0 - protocol.rank1([draw_as_attacker_sees(o) for o in corrected]),
        "linkability_rank1": protocol.linkability([draw_as_attacker_sees(o) for o in outputs], [draw_as_attacker_sees(o) for o in draws_b]),
        "iou_with_input": float(np.mean([_iou(draw_tall(o), draw_tall(c)) for o, (_, _, c) in zip(outputs, protocol.probes)])),
        "probes": len(protocol.probes),
    }
    if weight is not None and weight < 1.0:
        scaled = [means[view][0] + (out - means[view][1]) / (1.0 - weight) for out, (_, view, _) in zip(outputs, protocol.probes)]
        figures["tool_owner_scaled_success"] = 1.0 - protocol.rank1([draw_as_attacker_sees(o) for o in scaled])
    return figures


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.logical_and(a, b).sum() / max(np.logical_or(a, b).sum(), 1))


def smoothed_motion_ratio(original: np.ndarray, anonymized: np.ndarray) -> float:
    """Frame-to-frame point motion of the output over the input's, both smoothed over time ([1, 2, 1] / 4 twice)."""
    def smooth(seq: np.ndarray) -> np.ndarray:
        return _smooth_time(_smooth_time(torch.from_numpy(np.ascontiguousarray(seq)))).numpy()

    def motion(seq: np.ndarray) -> float:
        return float(np.mean(np.linalg.norm(np.diff(seq, axis=1), axis=-1)))

    return motion(smooth(anonymized)) / motion(smooth(original))


def geometry_figures(model: Model, seed: int = SEED, uncut: Model | None = None) -> dict[str, float]:
    """Geometry on the validation clips; with `uncut` (the same model, loop cut off, same draws) also the
    fold share without the cut and the share of frames the cut changed (every other frame, as the folds)."""
    batch = validation_clips()
    rng = np.random.default_rng(seed)
    out = np.stack([model(c, rng) for c in batch.clips])
    figures = geometry(batch.clips, out, out, frame_step=2)
    figures.pop("distance_from_noise")
    figures["motion_ratio_smoothed"] = smoothed_motion_ratio(batch.clips, out)
    if uncut is not None:
        rng = np.random.default_rng(seed)
        raw = np.stack([uncut(c, rng) for c in batch.clips])
        figures["self_intersecting_share_without_loop_cut"] = geometry(batch.clips, raw, raw, frame_step=2)["self_intersecting_share"]
        figures["loop_cut_frames"] = float(np.mean(np.abs(out - raw)[:, ::2].max(axis=(-1, -2)) > 0))
    return figures


def measure_identity(name: str, weights: list[float], views: tuple[str, ...] | None = None,
                     compare_shipped: bool = True) -> dict[str, Any]:
    torch.set_num_threads(1)
    views = views or VIEWS
    protocol = Protocol(views)
    result: dict[str, Any] = {"views": list(views), "subjects": list(subjects("validation")), "per_weight": {}}
    original = privacy_figures(protocol, no_change, None)
    result["attacker_rank1_original_drawn"] = 1.0 - original["attacker_success"]
    print("original", original, flush=True)
    for weight in weights:
        model = identity_model(name, weight)
        figures = {**geometry_figures(model, uncut=identity_model(name, weight, loop_cut=False)),
                   **privacy_figures(protocol, model, weight)}
        result["per_weight"][f"{weight:g}"] = figures
        print(f"w {weight:g}", figures, flush=True)
    if compare_shipped:
        shipped = onnx_model(models_dir(), 0.3)
        figures = {**geometry_figures(shipped), **privacy_figures(protocol, shipped, 0.3 / 1.3)}
        result["shipped_alpha_0.3"] = figures
        print("shipped 0.3", figures, flush=True)
    return result
