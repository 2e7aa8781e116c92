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
     frame (nearest 0, cycle mean 1), weights smoothed over 3 frames half way (PHASE_SMOOTHING: no
     flicker from a phase flip, less damping of the walk than smoothing them fully).
  3. Blend: output = input + w * (target - input smoothed over 3 frames). w is the strength stop (the
     manifest's alpha). The input's own frame-to-frame jitter stays, so the output does not look
     frozen (motion ratio); an optional Gaussian low-pass of the displacement along the outline exists
     but is off (it folds outlines at the feet).
  4. Loop cut: the blend, and the input's jitter laid onto another body, make small loops (two edges
     at most `loop_cut` edges apart along the outline crossing: about 90% of the folds, median span 3
     edges, mostly in the arms' and the crotch's densely sampled pieces; the generated people's own
     frames fold 5.6% of the time, the same way). Each loop's points are moved onto the chord across
     it, evenly spaced (cut_small_loops). It is a geometric repair inside the graph, not a blend that
     cannot fold: on validation (identity_v4) 4.9% / 10.6% / 16.1% / 19.9% of the frames fold before it at
     w 0.5 / 0.7 / 0.85 / 1.0 and 0.07% / 0.2% / 0.5% / 0.9% after; the worst point of a cut frame moves a
     median 0.5 px (90th percentile 1.6-2.0 px, at most 15 px: a whole hand or foot loop) at a 64-px body.
  No learned weights: nothing to overfit. The input's jitter (its second difference / 4) cannot be
  carried over more safely by laying it along the target's outline normals: on validation that folds
  31-33% of frames against 11% as it is (identity_v2, w 0.85, before any loop cut) (the anchored layout samples the arms and the crotch densely,
  0.2-px edges, and normals there turn fast); clamping it to 0.5-1 local edge length folds less
  (2.4-3.3%) but keeps too little of it (motion 0.52-0.60x).

Generated people move less than real ones: a 24-component PCA keeps 80% of the noise group's
pose deviation (each cycle frame minus the cycle's mean outline). IdentityGenerator.pose_gain (fitted:
real over generated pose deviation, about 1.2) scales each generated cycle's pose deviation back.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from gaitanon_core.shape.codec import N_POINTS
from training.splits import VIEWS

from .common import load_checkpoint
from .models import mirror_points

PHASE_SHARPNESS = 30.0  # pose distance rescaled per frame (nearest 0, cycle mean 1): the mean phase weighs e^-30
# (12 in identity_v2: the weights then spread over neighbouring phases and damp the walk; on validation 30
# gives the target 0.43x against 0.40x of the input's frame-to-frame motion, the w 0.85 output's jitter
# ratio 0.91x against 0.90x)
PHASE_SMOOTHING = 0.5  # share of the [1, 2, 1] / 4 smoothing of the phase weights over time ([1, 6, 1] / 8 at 0.5;
# identity_v2: 1): at 1 the target keeps 0.81x of the input's smoothed motion at w 0.85, at 0.5 0.84x, flicker
# (jitter ratio) 0.92x -> 1.06x, at 0 0.87x and 1.24x
LOOP_CUT_EDGES = 32  # loops spanning up to this many edges are cut (0: off)
LOOP_CUT_ROUNDS = 3
POSE_GAIN_DRAWS = 256  # generated people whose pose deviation is set against the samples' when fitting
CROSS_EPS = 1e-12  # as gaitanon_core.shape.codec: smaller cross products count as collinear
SMOOTH_SIGMA_POINTS = 0.0  # optional low-pass of the displacement along the outline, in points (off: at 2 it
# moved points across the sharp corners of feet and crotch and folded 20% of outlines)


class IdentityGenerator(nn.Module):
    """z (B, Z) -> one generated person's gait cycles at every view, (B, V*P, N, 2), view-major."""

    def __init__(self, mean: np.ndarray, basis: np.ndarray, scale: np.ndarray, views: int, phases: int,
                 n_points: int, z_dim: int = 32, temperature: float = 1.0, pose_gain: float = 1.0) -> None:
        super().__init__()
        if len(scale) > z_dim:
            raise ValueError(f"{len(scale)} components need a latent of at least that size, got z_dim {z_dim}")
        self.views, self.phases, self.n_points, self.z_dim = views, phases, n_points, z_dim
        self.components = len(scale)
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32).reshape(-1))  # (V*P*N*2,)
        self.register_buffer("basis", torch.as_tensor(basis, dtype=torch.float32))  # (K, V*P*N*2)
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32) * float(temperature))  # (K,)
        self.register_buffer("pose_gain", torch.tensor(float(pose_gain)))  # fitted (see module doc)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        coefficients = z[:, : self.components] * self.scale
        flat = self.mean + coefficients @ self.basis
        cycles = flat.reshape(-1, self.views, self.phases, self.n_points, 2)
        cycles = cycles + (self.pose_gain - 1.0) * (cycles - cycles.mean(2, keepdim=True))
        return cycles.reshape(-1, self.views * self.phases, self.n_points, 2)


def pose_deviation(cycles: np.ndarray) -> float:
    """Mean point distance of each cycle frame from its cycle's mean outline; (..., P, N, 2), phases on axis -3."""
    return float(np.mean(np.linalg.norm(cycles - cycles.mean(-3, keepdims=True), axis=-1)))


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


def _side(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """-1, 0 or +1 per point: which side of the line a -> b the point c lies on (as the codec's _side)."""
    cross = (b[..., 0] - a[..., 0]) * (c[..., 1] - a[..., 1]) - (b[..., 1] - a[..., 1]) * (c[..., 0] - a[..., 0])
    return (cross > CROSS_EPS).to(a.dtype) - (cross < -CROSS_EPS).to(a.dtype)


def crossings_at(points: torch.Tensor, k: int) -> torch.Tensor:
    """(..., N) bool: edge i (point i -> i+1) properly crosses edge i+k of the closed outline (..., N, 2)."""
    a, b = points, torch.roll(points, -1, -2)
    c, d = torch.roll(a, -k, -2), torch.roll(b, -k, -2)
    return (_side(a, b, c) * _side(a, b, d) < 0) & (_side(c, d, a) * _side(c, d, b) < 0)


def cut_small_loops(points: torch.Tensor, max_edges: int = LOOP_CUT_EDGES, rounds: int = LOOP_CUT_ROUNDS) -> torch.Tensor:
    """Outlines (..., N, 2) with their small loops cut: where edge i crosses edge i+k (2 <= k <= max_edges),
    points i+1 .. i+k go evenly onto the chord from point i to point i+k+1. Per round every crossing is
    found at once; each start keeps its largest loop and each point the largest loop it lies in; `rounds`
    rounds (a cut can leave a smaller loop beside it). Vectorised over the spans so the ONNX graph stays
    small (a Python loop over the spans unrolled to 11k nodes and stalled the exporter's optimizer)."""
    n = points.shape[-2]
    most = min(max_edges, n // 2 - 1)
    if most < 2:
        return points
    index = torch.arange(n)
    spans = torch.arange(2, most + 1)  # (S,)
    ahead = (index.unsqueeze(0) + spans.unsqueeze(1)) % n  # (S, N): the edge k ahead of edge i
    offsets = torch.arange(1, most + 1)  # (M,): point j lies m after the loop's first edge i = j - m
    behind = (index.unsqueeze(0) - offsets.unsqueeze(1)) % n  # (M, N)
    pairs = points.shape[:-2] + (n, 2)
    for _ in range(rounds):
        a, b = points.unsqueeze(-3), torch.roll(points, -1, -2).unsqueeze(-3)  # (..., 1, N, 2)
        c, d = points[..., ahead, :], b[..., 0, :, :][..., ahead, :]  # (..., S, N, 2)
        crossing = (_side(a, b, c) * _side(a, b, d) < 0) & (_side(c, d, a) * _side(c, d, b) < 0)  # (..., S, N)
        span = (crossing.to(points.dtype) * spans.to(points.dtype).unsqueeze(1)).amax(-2)  # (..., N); 0: none
        start_span = span[..., behind]  # (..., M, N): the loop starting m before each point
        score = torch.where(start_span >= offsets.to(points.dtype).unsqueeze(1), start_span, torch.zeros_like(start_span))
        best = score.amax(-2)  # (..., N): the largest loop the point lies in; 0: none
        m = (score.argmax(-2) + 1).to(points.dtype)
        first = (index - m.long()) % n
        last = (first + best.long() + 1) % n
        p_first = torch.gather(points, -2, first.unsqueeze(-1).expand(pairs))
        p_last = torch.gather(points, -2, last.unsqueeze(-1).expand(pairs))
        chord = p_first + (m / (best + 1.0)).unsqueeze(-1) * (p_last - p_first)
        points = torch.where((best > 0).unsqueeze(-1), chord, points)
    return points


class IdentitySwap(nn.Module):
    """contours (B, T, N, 2) + an IdentityGenerator's noise (B, V*P, N, 2) -> anonymized (B, T, N, 2).

    `weight` is the share of the way to the aligned generated walker (the strength stop)."""

    def __init__(self, weight: float, views: int, phases: int, n_points: int,
                 sharpness: float = PHASE_SHARPNESS, smooth_sigma: float = SMOOTH_SIGMA_POINTS,
                 jitter_keep: float = 1.0, loop_cut: int = LOOP_CUT_EDGES, loop_rounds: int = LOOP_CUT_ROUNDS,
                 phase_smoothing: float = PHASE_SMOOTHING) -> None:
        super().__init__()
        self.phase_smoothing = float(phase_smoothing)
        self.jitter_keep = float(jitter_keep)
        self.loop_cut, self.loop_rounds = int(loop_cut), int(loop_rounds)
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
        weights = torch.softmax(-self.sharpness * (distance - nearest) / spread, dim=-1)
        weights = self.phase_smoothing * _smooth_time(weights) + (1.0 - self.phase_smoothing) * weights
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
        out = base + self.weight * self.smooth_along(target - smoothed)
        return cut_small_loops(out, self.loop_cut, self.loop_rounds) if self.loop_cut >= 2 else out


# --- building and loading a fitted identity model (shared by the trainer, its validation and export) -----


def build_generator(config: dict[str, Any], samples: np.ndarray | None = None) -> IdentityGenerator:
    """The generator of `config`; fitted to `samples` (PCA, then the pose gain) when given."""
    views, phases, k = len(VIEWS), config["phases"], config["components"]
    dim = views * phases * N_POINTS * 2
    if samples is None:
        mean, basis, scale = np.zeros(dim, np.float32), np.zeros((k, dim), np.float32), np.ones(k, np.float32)
        return IdentityGenerator(mean, basis, scale, views, phases, N_POINTS, z_dim=config["z_dim"],
                                 temperature=config["temperature"])
    mean, basis, scale = fit_identity_pca(samples, k)
    generator = IdentityGenerator(mean, basis, scale, views, phases, N_POINTS, z_dim=config["z_dim"],
                                  temperature=config["temperature"])
    if config.get("pose_gain", True):
        z = np.random.default_rng(config["seed"]).standard_normal((POSE_GAIN_DRAWS, config["z_dim"]))
        with torch.no_grad():
            drawn = generator(torch.from_numpy(z.astype(np.float32))).numpy()
        drawn = drawn.reshape(len(z), views, phases, N_POINTS, 2)
        generator.pose_gain.fill_(pose_deviation(samples) / pose_deviation(drawn))
    return generator


def build_anonymizer(config: dict[str, Any], weight: float) -> IdentitySwap:
    return IdentitySwap(weight, len(VIEWS), config["phases"], N_POINTS, sharpness=config["sharpness"],
                        smooth_sigma=config["smooth_sigma"], jitter_keep=config.get("jitter_keep", 1.0),
                        loop_cut=config.get("loop_cut", 0), loop_rounds=config.get("loop_rounds", 2),
                        phase_smoothing=config.get("phase_smoothing", 1.0)).eval()


def load_identity(name: str) -> tuple[IdentityGenerator, dict[str, Any]]:
    state = load_checkpoint(name)
    generator = build_generator(state["config"])
    weights = dict(state["modules"]["generator"])
    weights.setdefault("pose_gain", torch.tensor(1.0))  # fitted before the pose gain (identity_v2)
    generator.load_state_dict(weights)
    return generator.eval(), state
