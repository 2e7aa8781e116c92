"""ONNX export of the trained networks, with a parity check against torch.

STACK.md's traps: the dynamo exporter (the legacy one fails on some ops),
`external_data=False` (else the weights land in a side file), an example batch of
2 or more and dynamic shapes for batch and time (else it bakes the example's
sizes into the graph). Every export is run in ONNX Runtime at several (B, T),
including T = 1 and a T longer than any training clip, and must match torch to
PARITY_TOLERANCE.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

from .models import NoiseGenerator, STGANGenerator

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
    sequence_noise = generator.align.mode == "sequence"
    noise_dims = {0: batch, 1: time} if sequence_noise else {0: batch}

    def inputs(b: int, t: int) -> dict[str, torch.Tensor]:
        contours = 0.5 + 0.1 * torch.randn(b, t, n, 2)
        noise = 0.5 + 0.1 * torch.randn(b, t, n, 2) if sequence_noise else noise_example.expand(b, *noise_example.shape[1:]).clone()
        return {"contours": contours, "noise": noise}

    example = inputs(2, 5)
    _export(graph, (example["contours"], example["noise"]), path, ["contours", "noise"], ["anonymized"],
            {"contours": {0: batch, 1: time}, "noise": noise_dims})
    for b, t in PARITY_SHAPES:
        _check_parity(graph, path, inputs(b, t))
    noise_shape = ["B", "T", n, 2] if sequence_noise else ["B", *noise_example.shape[1:]]
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
