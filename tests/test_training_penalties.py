"""The surrogates' contour-domain distortions and drawing, and the ST-GAN's fold penalty, on synthetic outlines."""

import numpy as np
import torch

from gaitanon_core.shape.casiab import crop_44
from gaitanon_core.shape.codec import decode_casiab, signed_area
from training.attackers import GeiCnn, as_attacker_sees
from training.gei_surrogate import GeiSurrogate, normalised_like_casiab, soft_silhouettes
from training.surrogate import PIXEL, distort_clip, offset_along_normals
from training.train_stgan import folding, privacy


def ellipse(n: int = 64, width: float = 0.2) -> np.ndarray:
    angle = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([width * np.cos(angle), 0.5 + 0.5 * np.sin(angle)], axis=-1).astype(np.float32)


def test_offset_along_normals_grows_and_shrinks_either_orientation() -> None:
    for outline in (ellipse(), ellipse()[::-1].copy()):
        clip = outline[None]
        area = abs(signed_area(outline))
        assert abs(signed_area(offset_along_normals(clip, 2 * PIXEL)[0])) > area
        assert abs(signed_area(offset_along_normals(clip, -2 * PIXEL)[0])) < area


def test_distort_clip_keeps_shape_and_body_height() -> None:
    clip = np.repeat(ellipse()[None], 5, axis=0)
    rng = np.random.default_rng(0)
    for _ in range(20):
        out = distort_clip(clip, rng)
        assert out.shape == clip.shape and out.dtype == clip.dtype
        assert out[..., 1].max() <= 1.0 + 2 * PIXEL


def test_folding_is_zero_for_the_original_and_grows_as_a_gap_closes() -> None:
    # A thin outline: its two sides run close (like two legs); squeezing x closes the gap between them.
    outline = torch.from_numpy(ellipse(width=0.03))[None, None]
    squeezed = outline.clone()
    squeezed[..., 0] *= 0.2
    assert folding(outline, outline).item() == 0.0
    assert folding(squeezed, outline).item() > 0.0


def test_soft_silhouettes_draw_what_the_codec_draws_and_pass_gradients() -> None:
    # A walking-figure-sized ellipse and a wider one (the second crosses the 44-column crop's edge).
    outlines = np.stack([ellipse(256, 0.12), ellipse(256, 0.4)])[None]
    points = torch.from_numpy(outlines).requires_grad_(True)
    soft = soft_silhouettes(points)
    hard = crop_44(decode_casiab(outlines[0]))
    drawn = soft.detach().numpy()[0] > 0.5
    assert soft.shape == (1, 2, 64, 44)
    assert (drawn & hard).sum() / (drawn | hard).sum() > 0.97
    soft.sum().backward()
    width_gradient = points.grad[0, 0, :, 0] * torch.sign(points[0, 0, :, 0].detach())
    assert torch.isfinite(points.grad).all() and width_gradient.sum() > 0  # widening fills more pixels


def walker_outline() -> np.ndarray:
    """A 64-px-high upright ellipse in the codec's canonical placement (top at 0, height 1)."""
    return ellipse(256, 0.12) * np.float32([1.0, 0.98]) + np.float32([0.0, 0.01])


def test_normalising_outlines_undoes_a_shift_and_scale_and_gives_it_no_gradient() -> None:
    outline = torch.from_numpy(walker_outline())[None]
    moved = outline * 0.9 + torch.tensor([0.06, 0.05])
    difference = normalised_like_casiab(moved) - normalised_like_casiab(outline)
    assert difference.abs().max().item() * 64 < 1.0  # under a pixel of a 64-px body
    points = moved.clone().requires_grad_(True)
    normalised_like_casiab(points)[..., 0].sum().backward()
    assert abs(points.grad[..., 0].sum().item()) < 1e-3  # moving every point sideways changes nothing


def test_attackers_see_walks_pretreated_like_the_dataset() -> None:
    outline = walker_outline()[None]
    centred = decode_casiab(outline)[0]
    shrunk_and_shifted = decode_casiab(outline * 0.8 + np.float32([0.15, 0.1]))[0]
    walk = np.stack([shrunk_and_shifted, np.zeros_like(centred)])
    seen = as_attacker_sees(walk)
    again = as_attacker_sees(centred[None])[0]
    assert (seen[0] & again).sum() / (seen[0] | again).sum() > 0.9  # shrunk and shifted comes back centred
    assert (again & centred).sum() / (again | centred).sum() > 0.9  # nearly as it was (the pointed ends re-round)
    assert not seen[1].any()


def test_the_gei_privacy_term_reaches_the_outline_but_not_the_frozen_surrogate() -> None:
    torch.manual_seed(0)
    surrogate = GeiSurrogate(GeiCnn())
    original = torch.from_numpy(np.repeat(walker_outline()[None, None], 4, axis=1))  # (1, 4, N, 2)
    anonymized = (original + 0.01 * torch.randn_like(original)).requires_grad_(True)
    privacy(surrogate, anonymized, original).sum().backward()
    assert anonymized.grad.abs().sum() > 0
    assert all(p.grad is None for p in surrogate.parameters())
