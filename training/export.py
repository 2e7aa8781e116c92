"""ONNX export of the trained networks, with a parity check against torch.

STACK.md's traps: the dynamo exporter (the legacy one fails on some ops),
`external_data=False` (else the weights land in a side file), an example batch of
2 or more and dynamic shapes for batch and time (else it bakes the example's
sizes into the graph). Every export is run in ONNX Runtime at several (B, T),
including T = 1 and a T longer than any training clip, and must match torch to
PARITY_TOLERANCE.

Usage: python -m training.export --which shipped     (models/: G_N + anonymizers at 0.2 0.3 0.4)
       python -m training.export --which reference   (the paper's configuration, outside models/)
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

from gaitanon_core.shape.codec import LAYOUT, N_POINTS
from gaitanon_core.paths import models_dir
from training.splits import subjects

from .common import cache_root, load_checkpoint
from .dataset import load_walks
from .manifest import set_top_level, update_entry
from .models import NoiseGenerator, STGANGenerator
from .train_noise import load_generator as load_noise_generator
from .train_noise import noise_quality
from .train_stgan import GROUP, NoiseSource, load_stgan
from .surrogate import load_surrogate
from .validation import surrogate_success, validate

OPSET = 18
PARITY_TOLERANCE = 1e-4
# (B, T) checked after every anonymizer export; 300 frames is longer than any CASIA-B walk (<= 146).
PARITY_SHAPES = ((1, 1), (1, 37), (3, 64), (2, 300))


class AnonymizerGraph(nn.Module):
    """The exported anonymizer: G at one fixed alpha, contours + noise -> anonymized."""

    def __init__(self, generator: STGANGenerator, alpha: float) -> None:
        super().__init__()
        self.generator = generator
        self.register_buffer("alpha", torch.tensor([alpha], dtype=torch.float32))

    def forward(self, contours: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        alpha = self.alpha.expand(contours.shape[0])
        return self.generator(contours, noise, alpha)[0]


def export_noise_generator(generator: NoiseGenerator, path: Path) -> dict:
    """Write G_N as ONNX (z [B, Z] -> noise) and check parity; returns the manifest I/O fields."""
    generator = generator.eval()
    batch = torch.export.Dim("B", min=1, max=4096)
    example = (torch.randn(2, generator.z_dim),)
    _export(generator, example, path, ["z"], ["noise"], {"z": {0: batch}})
    for b in (1, 3):
        _check_parity(generator, path, {"z": torch.randn(b, generator.z_dim)})
    noise_shape = ["B", generator.n_points, 2] if generator.phases == 1 else ["B", generator.phases, generator.n_points, 2]
    return {
        "opset": OPSET,
        "inputs": [{"name": "z", "shape": ["B", generator.z_dim]}],
        "outputs": [{"name": "noise", "shape": noise_shape}],
    }


def export_anonymizer(generator: STGANGenerator, alpha: float, noise_example: torch.Tensor, path: Path) -> dict:
    """Write G at `alpha` as ONNX (contours [B, T, N, 2] + noise -> anonymized) and check parity.

    `noise_example` is one noise input of batch 1 (its batch is repeated for the
    checks); for the sequence-noise baseline its time axis follows the clip's.
    """
    graph = AnonymizerGraph(generator.eval(), alpha).eval()
    n = noise_example.shape[-2]
    batch, time = torch.export.Dim("B", min=1, max=4096), torch.export.Dim("T", min=1, max=100000)
    mode = generator.align.mode
    # A cycle is aligned inside the graph, so any number of its frames works (a window may repeat them).
    noise_dims = {"static": {0: batch}, "sequence": {0: batch, 1: time},
                  "cycle": {0: batch, 1: torch.export.Dim("P", min=1, max=100000)}}[mode]

    def inputs(b: int, t: int, noise_frames: int | None = None) -> dict[str, torch.Tensor]:
        contours = 0.5 + 0.1 * torch.randn(b, t, n, 2)
        noise = noise_example.expand(b, *noise_example.shape[1:]).clone()
        if mode == "sequence":
            noise = 0.5 + 0.1 * torch.randn(b, t, n, 2)
        elif mode == "cycle" and noise_frames is not None:
            noise = noise[:, torch.arange(noise_frames) % noise.shape[1]]
        return {"contours": contours, "noise": noise}

    example = inputs(2, 5)
    _export(graph, (example["contours"], example["noise"]), path, ["contours", "noise"], ["anonymized"],
            {"contours": {0: batch, 1: time}, "noise": noise_dims})
    for b, t in PARITY_SHAPES:
        _check_parity(graph, path, inputs(b, t))
    if mode == "cycle":
        _check_parity(graph, path, inputs(1, 37, noise_frames=37))
    noise_shape = {"static": ["B", n, 2], "sequence": ["B", "T", n, 2], "cycle": ["B", "P", n, 2]}[mode]
    return {
        "opset": OPSET,
        "inputs": [{"name": "contours", "shape": ["B", "T", n, 2]}, {"name": "noise", "shape": noise_shape}],
        "outputs": [{"name": "anonymized", "shape": ["B", "T", n, 2]}],
    }


def _export(module: nn.Module, args: tuple, path: Path, inputs: list[str], outputs: list[str], dynamic: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.onnx")
    torch.onnx.export(module, args, str(tmp), input_names=inputs, output_names=outputs,
                      dynamic_shapes=dynamic, opset_version=OPSET, dynamo=True, external_data=False,
                      verbose=False)
    tmp.replace(path)


def _check_parity(module: nn.Module, path: Path, feeds: dict[str, torch.Tensor]) -> float:
    """Max abs difference between torch and ONNX Runtime on `feeds`; raises above PARITY_TOLERANCE."""
    with torch.no_grad():
        expected = module(*feeds.values())
        expected = expected[0] if isinstance(expected, tuple) else expected
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {k: v.numpy() for k, v in feeds.items()})[0]
    diff = float(np.max(np.abs(got - expected.numpy())))
    shape = {k: tuple(v.shape) for k, v in feeds.items()}
    if got.shape != tuple(expected.shape) or not diff < PARITY_TOLERANCE:
        raise RuntimeError(f"ONNX parity failed for {path.name} at {shape}: max abs diff {diff:.2e}")
    return diff


# --- releases: ONNX files + manifest entries -------------------------------------------------------------


def training_record(state: dict[str, Any]) -> dict[str, Any]:
    """What the manifest says about how a network was trained: the exported checkpoint's step and
    wall time, and (when validation selected an earlier checkpoint) the whole run's."""
    config = state["config"]
    record = {"group": config["group"], "subjects": config["subjects"], "seed": config["seed"],
              "steps": state["step"], "wall_time_s": round(state["wall_time_s"], 1)}
    last = load_checkpoint(config["name"])
    if last["step"] != state["step"]:
        record.update(selected_on_validation=True, run_steps=last["step"], run_wall_time_s=round(last["wall_time_s"], 1))
    return record


def noise_description(generator: NoiseGenerator) -> dict[str, Any]:
    if generator.phases == 1:
        return {"kind": "static", "description": "one contour per clip, copied to every frame (the paper)"}
    return {
        "kind": "walking_cycle",
        "frames": generator.phases,
        "phase_alignment": "in_graph",
        "description": (
            f"one generated gait cycle of {generator.phases} frames per clip; pass it to the anonymizer "
            "whole and unchanged for every window: the anonymizer gives each clip frame the cycle's "
            "frames nearest in pose (soft nearest neighbour), from the cycle or its mirror, whichever "
            "fits the window better"
        ),
    }


def release(noise_name: str, stgan_name: str, alphas: list[float], folder: Path, prefix: str, role: str) -> None:
    """Export G_N and G at each alpha into `folder`, validate, and write their manifest entries there."""
    noise_generator, noise_state = load_noise_generator(noise_name)
    generator, stgan_state = load_stgan(stgan_name)
    if stgan_state["config"]["noise_model"] != noise_name:
        raise SystemExit(f"{stgan_name} was trained with noise from {stgan_state['config']['noise_model']}, not {noise_name}")
    noise_file = folder / f"{prefix}noise_generator.onnx"
    io = export_noise_generator(noise_generator, noise_file)
    common = {"n_points": N_POINTS, "layout": LAYOUT}
    update_entry(f"{prefix}noise_generator", models_dir=folder, role="noise_generator", file=noise_file.name, **io,
                 **common, noise=noise_description(noise_generator), training=training_record(noise_state),
                 quality=noise_quality(noise_generator))
    set_top_level(models_dir=folder, layout=LAYOUT, n_points=N_POINTS)
    config = {**stgan_state["config"], "alphas": alphas}
    noise_source = NoiseSource(config, load_walks(GROUP))
    figures = validate(generator, config, noise_source, quick=False)
    example = noise_generator(torch.randn(1, noise_generator.z_dim)).detach()
    for alpha in alphas:
        file = folder / f"{prefix}anonymizer_a{alpha:g}.onnx"
        io = export_anonymizer(generator, alpha, example, file)
        privacy = surrogate_success(generator, noise_source, alpha, load_surrogate(config["surrogate"]), None)
        update_entry(f"{prefix}stgan_a{alpha:g}", models_dir=folder, role=role, file=file.name, alpha=alpha, **io,
                     **common, noise_generator=f"{prefix}noise_generator",
                     noise=noise_description(noise_generator), configuration=configuration_record(stgan_state["config"]),
                     training=training_record(stgan_state),
                     validation={"group": "validation", "subjects": list(subjects("validation")),
                                 **figures["per_alpha"][f"{alpha:g}"], **privacy})
        print(f"wrote {file}", flush=True)


def configuration_record(config: dict[str, Any]) -> dict[str, Any]:
    keys = ("preset", "loss", "noise", "skip", "alphas", "w_adv", "w_priv", "w_smooth", "w_fold", "surrogate",
            "width", "batch", "length", "lr")
    return {k: config[k] for k in keys if k in config}  # w_fold: runs before the fold penalty have none


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Export trained networks to ONNX (parity-checked) with manifest entries.")
    parser.add_argument("--which", choices=("shipped", "reference"), default="shipped",
                        help="shipped: into models/; reference: the paper's configuration into $GAITANON_CACHE/reference")
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.2, 0.3, 0.4])
    parser.add_argument("--stgan", default="stgan_shipped", help="ST-GAN checkpoint exported with --which shipped")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.which == "shipped":
        release("noise_cycle", args.stgan, args.alphas, models_dir(), "", "anonymizer")
    else:
        release("noise_static", "stgan_paper", [0.3], cache_root() / "reference", "reference_", "reference")


if __name__ == "__main__":
    main()
