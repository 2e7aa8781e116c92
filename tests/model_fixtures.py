"""A small ONNX model bank built with torch for the tests (never shipped, never in models/).

The fixture anonymizer is a fixed blend toward the noise contour,
`y + w * (noise - y)` with w = 2 * alpha (the shape of what an L2-trained ST-GAN
learns), and the noise generator maps z to a template body outline plus a small
z-dependent offset. Both have the manifest layout and ONNX I/O of DESIGN.md
"Models", so the engine runs them exactly as it runs the shipped ones.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import torch

FIXTURE_ALPHAS = (0.2, 0.3, 0.4)
Z_DIM = 8


def template_outline(n_points: int) -> np.ndarray:
    """A wide body-like outline in the canonical frame: topmost point first, counter-clockwise on screen."""
    theta = np.linspace(0.0, 2.0 * np.pi, n_points, endpoint=False)
    x = -0.22 * np.sin(theta)  # from the top, going left first (counter-clockwise with y down)
    y = 0.5 - 0.5 * np.cos(theta)
    return np.stack([x, y], axis=1).astype(np.float32)


class _NoiseGenerator(torch.nn.Module):
    """z -> the template plus a z-dependent offset: [B, N, 2], or a cycle [B, P, N, 2] of such frames."""

    def __init__(self, template: np.ndarray, cycle_frames: int | None) -> None:
        super().__init__()
        frames = cycle_frames or 1
        self.register_buffer("template", torch.from_numpy(template))
        gen = torch.Generator().manual_seed(0)
        self.register_buffer("mix", 0.01 * torch.randn(Z_DIM, frames * template.size, generator=gen))
        self.shape = (frames, *template.shape) if cycle_frames else template.shape

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.template + (z @ self.mix).reshape(z.shape[0], *self.shape)


class _BlendAnonymizer(torch.nn.Module):
    """y + weight * (noise - y), toward the one noise contour or the mean of a noise cycle."""

    def __init__(self, weight: float) -> None:
        super().__init__()
        self.weight = weight

    def forward(self, contours: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        target = noise.mean(dim=1, keepdim=True) if noise.dim() == 4 else noise.unsqueeze(1)
        return contours + self.weight * (target - contours)


def _export(module: torch.nn.Module, args: tuple, path: Path, inputs: list[str], output: str,
            dynamic: dict[str, dict[int, str]]) -> None:
    # The legacy exporter: quick, no onnxscript, and enough for these one-op graphs.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(module, args, str(path), input_names=inputs, output_names=[output],
                          dynamic_axes=dynamic, opset_version=17, dynamo=False)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_model_bank(folder: Path, n_points: int, layout: str, alphas: tuple[float, ...] = FIXTURE_ALPHAS,
                     cycle_frames: int | None = None) -> Path:
    """Write a noise generator, one anonymizer per alpha and their manifest into `folder`.

    `cycle_frames` makes the noise one generated gait cycle of that many frames
    (the manifest's "walking_cycle" kind) instead of one contour.
    """
    torch.set_num_threads(1)
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    noise_file = folder / "noise_generator.onnx"
    generator = _NoiseGenerator(template_outline(n_points), cycle_frames)
    _export(generator, (torch.zeros(2, Z_DIM),), noise_file, ["z"], "noise", {"z": {0: "B"}, "noise": {0: "B"}})
    entries.append({"name": "noise_generator", "role": "noise_generator", "file": noise_file.name,
                    "sha256": _sha256(noise_file), "opset": 17, "inputs": ["z"], "outputs": ["noise"]})
    noise_kind = {"kind": "walking_cycle", "frames": cycle_frames} if cycle_frames else {"kind": "static"}
    example = (torch.zeros(2, 3, n_points, 2), torch.zeros(2, *generator.shape))
    for alpha in alphas:
        file = folder / f"anonymizer_a{alpha:.1f}.onnx"
        _export(_BlendAnonymizer(2.0 * alpha), example, file, ["contours", "noise"], "anonymized",
                {"contours": {0: "B", 1: "T"}, "noise": {0: "B"}, "anonymized": {0: "B", 1: "T"}})
        entries.append({"name": f"fixture_anonymizer_a{alpha:.1f}", "role": "anonymizer",
                        "file": file.name, "sha256": _sha256(file), "opset": 17, "alpha": alpha,
                        "n_points": n_points, "noise_generator": "noise_generator", "noise": noise_kind,
                        "inputs": ["contours", "noise"], "outputs": ["anonymized"]})
    manifest = {"format": 1, "layout": layout, "n_points": n_points, "models": entries}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return folder
