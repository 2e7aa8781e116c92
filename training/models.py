"""The networks of the ST-GAN (Tieu et al. 2019, sections 3.3-3.4) over canonical contours.

Shapes: a contour is (N, 2) canonical points (anchored-v1 layout of
gaitanon_core.contours); sequences are (B, T, N, 2). Every convolution over the
points uses circular padding, because the contour is closed.

- NoiseGenerator G_N: z ~ N(0, I) -> noise. The output is a whole gait cycle of P
  phase frames (B, P, N, 2), or one static contour (B, N, 2) when P = 1 (the
  paper). It is an MLP onto the principal components of real cycles of the
  noise group, so every sample lies in the span of real outlines; the GAN (with
  NoiseDiscriminator D_N) learns which combinations look like gait.
- NoiseAlign: turns the generator's cycle into one noise frame per clip frame:
  each clip frame takes the cycle's frames nearest in pose (soft nearest
  neighbour), from the cycle or its mirror, whichever the whole clip matches
  better. So the noise walks in step with the person (a static noise contour
  damps the walk) and the alignment lives inside the exported graph.
- STGANGenerator G: two encoders (contour, aligned noise) merged by a sum, one
  decoder; it outputs a displacement added to a skip path: the input itself
  (the paper's configuration) or the L2 blend y + alpha/(1+alpha) (noise - y),
  which is the exact minimiser of L_rec + alpha L_per in L2, so training starts
  at it and the adversarial and privacy terms move away from it.
- SpatialDiscriminator D_S (1-D conv + FC; sigmoid in the loss) on one contour,
  TemporalDiscriminator D_T (LSTM over per-frame features, all step outputs
  concatenated + FC) on a fixed-length sequence.
- SurrogateRecogniser: a small gait-identity network on contour sequences,
  trained on the anonymiser subjects only and frozen; its embedding feeds the
  privacy term.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from torch import nn

NoiseMode = Literal["static", "cycle", "sequence"]
Skip = Literal["input", "blend"]
ALIGN_SHARPNESS = 8.0  # soft nearest neighbour: a frame 10% farther than the nearest weighs e^-0.8 as much


def circular_conv(c_in: int, c_out: int, kernel: int = 5, stride: int = 1) -> nn.Conv1d:
    return nn.Conv1d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, padding_mode="circular")


def as_channels(points: torch.Tensor) -> torch.Tensor:
    """(M, N, 2) points -> (M, 2, N) channels for Conv1d."""
    return points.transpose(1, 2)


def blend_weight(alpha: torch.Tensor) -> torch.Tensor:
    """The share of the way to the noise that minimises |o - y|^2 + alpha |o - noise|^2."""
    return alpha / (1.0 + alpha)


def mirror_points(points: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    """(..., N, 2) contours mirrored (x -> -x, point order reversed from the head top)."""
    flipped = points.index_select(-2, order)
    return torch.cat([-flipped[..., :1], flipped[..., 1:]], dim=-1)


# --- noise generator G_N and D_N -------------------------------------------------------------------------


class NoiseGenerator(nn.Module):
    """z (B, Z) -> a gait cycle (B, P, N, 2), or one contour (B, N, 2) when P = 1."""

    def __init__(self, mean: np.ndarray, basis: np.ndarray, scale: np.ndarray, phases: int, n_points: int,
                 z_dim: int = 32, hidden: int = 256) -> None:
        super().__init__()
        self.phases, self.n_points, self.z_dim = phases, n_points, z_dim
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))  # (P*N*2,)
        self.register_buffer("basis", torch.as_tensor(basis, dtype=torch.float32))  # (K, P*N*2) orthonormal rows
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))  # (K,) std of each component
        self.mlp = nn.Sequential(
            nn.Linear(z_dim, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, len(scale)),
        )

    def coefficients(self, z: torch.Tensor) -> torch.Tensor:
        """Whitened principal-component coefficients (B, K)."""
        return self.mlp(z)

    def decode(self, coefficients: torch.Tensor) -> torch.Tensor:
        flat = self.mean + (coefficients * self.scale) @ self.basis
        if self.phases == 1:
            return flat.reshape(-1, self.n_points, 2)
        return flat.reshape(-1, self.phases, self.n_points, 2)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.decode(self.coefficients(z))


class NoiseDiscriminator(nn.Module):
    """D_N on whitened principal-component coefficients (B, K) -> logit (B,)."""

    def __init__(self, components: int, hidden: int = 256) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(components, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, 1),
        )

    def forward(self, coefficients: torch.Tensor) -> torch.Tensor:
        return self.net(coefficients).squeeze(-1)


# --- the anonymizer G ------------------------------------------------------------------------------------


class NoiseAlign(nn.Module):
    """The noise input -> one noise contour per clip frame, (B, T, N, 2).

    static: one contour (B, N, 2) copied to every frame (the paper).
    cycle: a generated cycle (B, P, N, 2), phase-aligned by pose (see module doc).
    sequence: a noise walk already one frame per clip frame (B, T, N, 2) (the 2017 baseline).
    """

    def __init__(self, mode: NoiseMode, n_points: int) -> None:
        super().__init__()
        self.mode = mode
        self.register_buffer("mirror_order", torch.as_tensor((-np.arange(n_points)) % n_points, dtype=torch.long))

    def forward(self, contours: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        if self.mode == "static":
            return noise.unsqueeze(1).expand(-1, contours.shape[1], -1, -1)
        if self.mode == "sequence":
            return noise
        return self._align_cycle(contours, noise)

    def _align_cycle(self, contours: torch.Tensor, cycle: torch.Tensor) -> torch.Tensor:
        batch, frames, n, _ = contours.shape
        phases = cycle.shape[1]
        mirrored = mirror_points(cycle, self.mirror_order)
        flat_clip = contours.reshape(batch, frames, n * 2)
        distance_plain = _mean_sq_distance(flat_clip, cycle.reshape(batch, phases, n * 2))
        distance_mirror = _mean_sq_distance(flat_clip, mirrored.reshape(batch, phases, n * 2))
        # One direction per clip: the one whose nearest phases fit the whole clip better.
        use_mirror = (distance_mirror.amin(-1).mean(1) < distance_plain.amin(-1).mean(1)).to(contours.dtype)
        pick = use_mirror.reshape(batch, 1, 1)
        distance = distance_plain + pick * (distance_mirror - distance_plain)
        bank = cycle + pick.unsqueeze(-1) * (mirrored - cycle)
        nearest = distance.amin(-1, keepdim=True)
        weights = torch.softmax(-ALIGN_SHARPNESS * distance / (nearest + 1e-8), dim=-1)  # (B, T, P)
        return (weights @ bank.reshape(batch, phases, n * 2)).reshape(batch, frames, n, 2)


def _mean_sq_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean squared point distance between every frame of a (B, T, D) and of b (B, P, D): (B, T, P)."""
    cross = a @ b.transpose(1, 2)
    squared = (a * a).sum(-1, keepdim=True) + (b * b).sum(-1).unsqueeze(1) - 2.0 * cross
    return squared.clamp_min(0.0) / a.shape[-1]


def contour_encoder(width: int) -> nn.Sequential:
    """(M, 2, N) -> (M, 4w, N/4)."""
    return nn.Sequential(
        circular_conv(2, width), nn.LeakyReLU(0.2),
        circular_conv(width, 2 * width, stride=2), nn.LeakyReLU(0.2),
        circular_conv(2 * width, 4 * width, stride=2), nn.LeakyReLU(0.2),
    )


def contour_decoder(width: int) -> nn.Sequential:
    """(M, 4w, N/4) -> (M, 2, N); the last layer starts at zero, so G starts at its skip path."""
    last = circular_conv(width, 2)
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    return nn.Sequential(
        circular_conv(4 * width, 4 * width), nn.LeakyReLU(0.2),
        nn.Upsample(scale_factor=2.0, mode="nearest"),
        circular_conv(4 * width, 2 * width), nn.LeakyReLU(0.2),
        nn.Upsample(scale_factor=2.0, mode="nearest"),
        circular_conv(2 * width, width), nn.LeakyReLU(0.2),
        last,
    )


class STGANGenerator(nn.Module):
    """G(contours (B, T, N, 2), noise, alpha (B,)) -> (anonymized (B, T, N, 2), aligned noise (B, T, N, 2))."""

    def __init__(self, noise_mode: NoiseMode, skip: Skip, n_points: int, width: int = 32) -> None:
        super().__init__()
        self.skip = skip
        self.align = NoiseAlign(noise_mode, n_points)
        self.encode_contour = contour_encoder(width)
        self.encode_noise = contour_encoder(width)
        self.embed_alpha = nn.Linear(1, 4 * width)  # one network serves every strength
        self.decode = contour_decoder(width)

    def forward(self, contours: torch.Tensor, noise: torch.Tensor, alpha: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        batch, frames, n, _ = contours.shape
        aligned = self.align(contours, noise)
        merged = self.encode_contour(as_channels(contours.reshape(-1, n, 2))) + self.encode_noise(
            as_channels(aligned.reshape(-1, n, 2))
        )
        strength = self.embed_alpha(alpha.reshape(batch, 1)).unsqueeze(1).expand(-1, frames, -1)
        merged = merged + strength.reshape(batch * frames, -1, 1)
        displacement = self.decode(merged).transpose(1, 2).reshape(batch, frames, n, 2)
        base = contours
        if self.skip == "blend":
            base = contours + blend_weight(alpha).reshape(batch, 1, 1, 1) * (aligned - contours)
        return base + displacement, aligned


# --- discriminators ------------------------------------------------------------------------------------


class SpatialDiscriminator(nn.Module):
    """D_S: one contour (M, N, 2) -> realism logit (M,)."""

    def __init__(self, n_points: int, width: int = 32) -> None:
        super().__init__()
        self.features = nn.Sequential(
            circular_conv(2, width, stride=2), nn.LeakyReLU(0.2),
            circular_conv(width, 2 * width, stride=2), nn.LeakyReLU(0.2),
            circular_conv(2 * width, 2 * width, stride=2), nn.LeakyReLU(0.2),
        )
        self.head = nn.Linear(2 * width * (n_points // 8), 1)

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(as_channels(points)).flatten(1)).squeeze(-1)


class FrameEmbedding(nn.Module):
    """One contour (M, N, 2) -> a feature vector (M, F): the per-frame front end of D_T and the surrogate."""

    def __init__(self, n_points: int, features: int = 128, width: int = 16) -> None:
        super().__init__()
        self.net = nn.Sequential(
            circular_conv(2, width, stride=4), nn.LeakyReLU(0.2),
            circular_conv(width, 2 * width, stride=4), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(2 * width * (n_points // 16), features), nn.LeakyReLU(0.2),
        )

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        return self.net(as_channels(points))


class TemporalDiscriminator(nn.Module):
    """D_T: a sequence (B, T, N, 2) of fixed T -> realism logit (B,); LSTM outputs of all steps concatenated."""

    def __init__(self, n_points: int, frames: int, hidden: int = 64) -> None:
        super().__init__()
        self.frame = FrameEmbedding(n_points)
        self.lstm = nn.LSTM(128, hidden, batch_first=True)
        self.head = nn.Linear(frames * hidden, 1)

    def forward(self, sequence: torch.Tensor) -> torch.Tensor:
        batch, frames, n, _ = sequence.shape
        features = self.frame(sequence.reshape(-1, n, 2)).reshape(batch, frames, -1)
        outputs, _ = self.lstm(features)
        return self.head(outputs.flatten(1)).squeeze(-1)


class SurrogateRecogniser(nn.Module):
    """Gait identity from a contour sequence (B, T, N, 2): embedding (B, E) and class logits."""

    def __init__(self, n_points: int, identities: int, embedding: int = 64) -> None:
        super().__init__()
        self.frame = FrameEmbedding(n_points)
        self.temporal = nn.Sequential(
            nn.Conv1d(128, 128, 3, padding=1), nn.LeakyReLU(0.2),
            nn.Conv1d(128, embedding, 3, padding=1),
        )
        self.classify = nn.Linear(embedding, identities)

    def embed(self, sequence: torch.Tensor) -> torch.Tensor:
        batch, frames, n, _ = sequence.shape
        features = self.frame(sequence.reshape(-1, n, 2)).reshape(batch, frames, -1).transpose(1, 2)
        return self.temporal(features).amax(-1)  # set-like pooling over time, as GaitSet does

    def forward(self, sequence: torch.Tensor) -> torch.Tensor:
        return self.classify(self.embed(sequence))
