"""Identity replacement: a generated person's walk, in step with the input, instead of a fixed template.

Why (issue 12): the ST-GAN anonymizers apply nearly the same deformation to everyone (97% of the
per-point displacement is the same whatever the noise draw), so an attacker who subtracts the mean
change, or retrains on outputs, identifies most walks. Here the change IS another person: the output
keeps what the scene needs from the input (position and size live outside the graph in the canonical
transform; the view, the step phase and the speed are read from the input inside the graph), and takes
its body shape and limb motion from a person who does not exist, drawn fresh per clip from z.

Two networks, the engine's contract unchanged:

- IdentityGenerator (role noise_generator): z [B, 32] -> noise [B, V*P, N, 2]: ONE generated person's
  walking cycle of P phase frames at each of the V = 11 CASIA-B views, view-major (frames
  v*P .. v*P+P-1 are view VIEWS[v]). It is a joint PCA over subject-level samples of the noise group
  (051-060): a sample is one walk session's gait cycles at all 11 views concatenated, so a component
  moves the same body consistently at every view; new people are a Gaussian over the whitened
  coefficients (the first K entries of z, times `temperature`). Its outputs lie in the span of real
  people's outlines.
- IdentitySwap (role anonymizer): contours [B, T, N, 2] + noise -> anonymized [B, T, N, 2].
  1. View: the noise holds 11 view blocks and their mirrors (a mirrored view v is the walk seen from
     180 - v in the other direction); the window takes the ONE block that fits it best, in pose and in
     mean outline (as NoiseAlign picks mirror or plain).
  2. Phase: each frame takes that block's phases nearest in POSE: distances between the frame minus
     the window's mean outline and the phase minus the block's mean outline, so the two people's
     different bodies do not swamp the pose (they do in NoiseAlign, whose soft weights then spread
     over the whole cycle and damp the walk). Soft nearest neighbour with the distances rescaled per
     frame (nearest 0, cycle mean 1), weights smoothed over 3 frames (no flicker from a phase flip).
  3. Blend: output = input + w * (target - input smoothed over 3 frames). w is the strength stop (the
     manifest's alpha). The input's own frame-to-frame jitter stays, so the output does not look
     frozen (motion ratio); an optional Gaussian low-pass of the displacement along the outline exists
     but is off (it folds outlines at the feet).
  No learned weights: nothing to overfit, and every output is a blend of two outlines in the
  anchored layout, so it folds only where the two people's poses cross.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from training.splits import VIEWS

from .models import mirror_points

PHASE_SHARPNESS = 12.0  # pose distance rescaled per frame (nearest 0, cycle mean 1): the mean phase weighs e^-12
SMOOTH_SIGMA_POINTS = 0.0  # optional low-pass of the displacement along the outline, in points (off: at 2 it
# moved points across the sharp corners of feet and crotch and folded 20% of outlines)


class IdentityGenerator(nn.Module):
    """z (B, Z) -> one generated person's gait cycles at every view, (B, V*P, N, 2), view-major."""

    def __init__(self, mean: np.ndarray, basis: np.ndarray, scale: np.ndarray, views: int, phases: int,
                 n_points: int, z_dim: int = 32, temperature: float = 1.0) -> None:
        super().__init__()
        if len(scale) > z_dim:
            raise ValueError(f"{len(scale)} components need a latent of at least that size, got z_dim {z_dim}")
        self.views, self.phases, self.n_points, self.z_dim = views, phases, n_points, z_dim
        self.components = len(scale)
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32).reshape(-1))  # (V*P*N*2,)
        self.register_buffer("basis", torch.as_tensor(basis, dtype=torch.float32))  # (K, V*P*N*2)
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32) * float(temperature))  # (K,)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        coefficients = z[:, : self.components] * self.scale
        flat = self.mean + coefficients @ self.basis
        return flat.reshape(-1, self.views * self.phases, self.n_points, 2)


def fit_identity_pca(samples: np.ndarray, components: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean (D,), orthonormal principal directions (K, D) and their standard deviations (K,) of (M, D)
    samples, through the M x M Gram matrix (M is a few hundred, D over 10^5)."""
    data = samples.reshape(len(samples), -1).astype(np.float64)
    mean = data.mean(0)
    centred = data - mean
    values, vectors = np.linalg.eigh(centred @ centred.T)
    order = np.argsort(values)[::-1][:components]
    values, vectors = np.maximum(values[order], 1e-12), vectors[:, order]
    basis = (vectors.T @ centred) / np.sqrt(values)[:, None]
    scale = np.sqrt(values / (len(data) - 1))
    return mean.astype(np.float32), basis.astype(np.float32), scale.astype(np.float32)


def _sq_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean squared coordinate distance between every row of a (B, T, D) and of b (B, Q, D): (B, T, Q)."""
    cross = a @ b.transpose(1, 2)
    squared = (a * a).sum(-1, keepdim=True) + (b * b).sum(-1).unsqueeze(1) - 2.0 * cross
    return squared.clamp_min(0.0) / a.shape[-1]


def _smooth_time(weights: torch.Tensor) -> torch.Tensor:
    """[1, 2, 1] / 4 along axis 1 with the ends repeated; any length, 1 included."""
    padded = torch.cat([weights[:, :1], weights, weights[:, -1:]], dim=1)
    return 0.25 * padded[:, :-2] + 0.5 * padded[:, 1:-1] + 0.25 * padded[:, 2:]


def gaussian_taps(sigma: float) -> tuple[list[int], list[float]]:
    radius = max(1, int(np.ceil(3 * sigma)))
    offsets = list(range(-radius, radius + 1))
    taps = np.exp(-0.5 * (np.array(offsets) / sigma) ** 2)
    return offsets, list((taps / taps.sum()).astype(float))


class IdentitySwap(nn.Module):
    """contours (B, T, N, 2) + an IdentityGenerator's noise (B, V*P, N, 2) -> anonymized (B, T, N, 2).

    `weight` is the share of the way to the aligned generated walker (the strength stop)."""

    def __init__(self, weight: float, views: int, phases: int, n_points: int,
                 sharpness: float = PHASE_SHARPNESS, smooth_sigma: float = SMOOTH_SIGMA_POINTS,
                 jitter_keep: float = 1.0) -> None:
        super().__init__()
        self.jitter_keep = float(jitter_keep)
        self.views, self.phases, self.n_points, self.sharpness = views, phases, n_points, sharpness
        self.register_buffer("weight", torch.tensor(float(weight)))
        self.register_buffer("mirror_order", torch.as_tensor((-np.arange(n_points)) % n_points, dtype=torch.long))
        self.offsets, taps = gaussian_taps(smooth_sigma) if smooth_sigma > 0 else ([0], [1.0])
        self.register_buffer("taps", torch.tensor(taps, dtype=torch.float32))

    def candidates(self, noise: torch.Tensor) -> torch.Tensor:
        """The 2V view blocks (plain, then mirrored): (B, 2V, P, N, 2)."""
        bank = noise.reshape(noise.shape[0], self.views, self.phases, self.n_points, 2)
        return torch.cat([bank, mirror_points(bank, self.mirror_order)], dim=1)

    def align(self, contours: torch.Tensor, noise: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The generated walker in step with the clip, (B, T, N, 2), and the chosen block (B,) (0..2V-1)."""
        batch, frames, n, _ = contours.shape
        blocks = self.candidates(noise)
        count = blocks.shape[1]
        clip = contours.reshape(batch, frames, n * 2)
        flat_blocks = blocks.reshape(batch, count * self.phases, n * 2)
        # 1. View: the block that fits the window best in pose (nearest phases of the mean-removed
        # outlines) and in mean outline, each term relative to its mean over the blocks (on validation
        # walks 60% of the picks are the true view and 85% within 18 degrees; either term alone 46-54%).
        pose_clip = clip - clip.mean(1, keepdim=True)
        per_block = blocks.reshape(batch, count, self.phases, n * 2)
        block_mean = per_block.mean(2)  # (B, 2V, D)
        pose_blocks = (per_block - block_mean.unsqueeze(2)).reshape(batch, count * self.phases, n * 2)
        pose_fit = _sq_distance(pose_clip, pose_blocks).reshape(batch, frames, count, self.phases).amin(-1).mean(1)
        shape_fit = _sq_distance(clip.mean(1, keepdim=True), block_mean)[:, 0]  # (B, 2V)
        fit = pose_fit / (pose_fit.mean(-1, keepdim=True) + 1e-12) + shape_fit / (shape_fit.mean(-1, keepdim=True) + 1e-12)
        chosen = fit.argmin(-1)  # (B,)
        one_hot = (torch.arange(count, device=contours.device).unsqueeze(0) == chosen.unsqueeze(1)).to(contours.dtype)
        block = (one_hot.reshape(batch, count, 1) * flat_blocks.reshape(batch, count, -1)).sum(1)
        block = block.reshape(batch, self.phases, n * 2)
        # 2. Phase: nearest in pose (each outline minus its own sequence's mean), rescaled per frame.
        pose_block = block - block.mean(1, keepdim=True)
        distance = _sq_distance(pose_clip, pose_block)  # (B, T, P)
        nearest = distance.amin(-1, keepdim=True)
        spread = distance.mean(-1, keepdim=True) - nearest + 1e-8
        weights = _smooth_time(torch.softmax(-self.sharpness * (distance - nearest) / spread, dim=-1))
        return (weights @ block).reshape(batch, frames, n, 2), chosen

    def smooth_along(self, displacement: torch.Tensor) -> torch.Tensor:
        """Gaussian low-pass along the closed outline (axis -2)."""
        out = torch.zeros_like(displacement)
        for k, offset in enumerate(self.offsets):
            out = out + self.taps[k] * torch.roll(displacement, shifts=offset, dims=-2)
        return out

    def forward(self, contours: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        target, _ = self.align(contours, noise)
        # The displacement is taken from the input smoothed over 3 frames: the input's frame-to-frame
        # jitter (the 64-px outline's pixel steps, about 40% of its per-frame point motion) stays in the
        # output instead of being scaled down with the rest of the input.
        # jitter_keep scales that kept jitter (1: all of it; 0: a plain blend with the smoothed input, whose
        # outlines fold less often: on validation 0.5-0.9% against 7-10% of frames, at motion 0.45x against 0.87x).
        smoothed = _smooth_time(contours)
        base = smoothed + self.jitter_keep * (contours - smoothed)
        return base + self.weight * self.smooth_along(target - smoothed)
