"""A silhouette-domain surrogate recogniser for the ST-GAN's privacy term, trained on the
ANONYMISER subjects (061-076) only.

The contour surrogate (training.surrogate) sees outlines as points; the attackers of the
evaluation see silhouettes averaged over the walk (gait energy images). A privacy term
computed in the contour surrogate's feature space carried over only partly to them
(MODEL_CARD.md). This surrogate is the evaluation's kind of recogniser instead: the
same GEI CNN (training.attackers.GeiCnn) with the same cheap distortions, trained with
the same recipe (training.train_attackers.train_cnn), but on the anonymiser subjects,
so it shares no subject with the attackers (007-050), validation (077-084) or test
(085-100), and the evaluation stays independent.

To push on it from contours, the outline is drawn differentiably: each pixel's
occupancy is a sigmoid of its signed distance to the outline (inside as the codec fills
it), over the 64 x 44 centre crop that gait recognisers use. `soft_silhouettes` at the codec's CASIA-B placement gives the frames
`decode_casiab` would draw (IoU with them measured in tests/test_training_penalties.py).

Usage: python -m training.gei_surrogate            # bank + CNN, cached in $GAITANON_CACHE/ckpt/gei_surrogate/
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from torch import nn

from gaitanon_core.shape.casiab import crop_44
from gaitanon_core.shape.codec import CASIAB_CENTRE_COL, CASIAB_SIZE, decode_casiab, median_column
from training.splits import subjects

from .attackers import GeiCnn
from .common import cache_root, checkpoint_dir, pin_threads_and_seed
from .distortions import random_training_distortion
from .train_attackers import DISTORTED_VARIANTS, GeiBank, build_bank, train_cnn

GROUP = "anonymiser"
NAME = "gei_surrogate"
EDGE_SOFTNESS_PX = 0.35  # occupancy 0.5 on the outline, 0.94 one pixel inside
CROP_COLUMNS = crop_44(torch.arange(CASIAB_SIZE)).float()  # image columns of the 44-column crop


def pixel_centres() -> torch.Tensor:
    """(64 * 44, 2) image (x, y) of the crop's pixel centres, row-major."""
    rows = torch.arange(CASIAB_SIZE, dtype=torch.float32)
    y, x = torch.meshgrid(rows, CROP_COLUMNS, indexing="ij")
    return torch.stack([x.reshape(-1), y.reshape(-1)], dim=1)


def normalised_like_casiab(flat: torch.Tensor) -> torch.Tensor:
    """Outlines (M, N, 2) brought to the dataset's pre-treatment in canonical units: top at 0, height 1,
    the silhouette's middle column at 0 (what `attackers.as_attacker_sees` does to drawn frames).

    So a network that only moved or scaled the body gains nothing against the surrogate. The middle
    column comes from the drawn frame; its gradient is that of the points' mean, so moving every point
    sideways by d moves it by d too and the result does not change."""
    with torch.no_grad():
        # The codec's own centring rule, so an outline it encoded comes back where it was.
        columns = [median_column(mask) for mask in decode_casiab(flat.detach().numpy())]
        middle = (torch.tensor(columns, dtype=torch.float32) - CASIAB_CENTRE_COL) / CASIAB_SIZE
    mean_x = flat[..., 0].mean(-1)
    centre = middle + mean_x - mean_x.detach()
    top, bottom = flat[..., 1].amin(-1), flat[..., 1].amax(-1)
    height = (bottom - top).clamp_min(1e-3)
    x = (flat[..., 0] - centre[:, None]) / height[:, None]
    y = (flat[..., 1] - top[:, None]) / height[:, None]
    return torch.stack([x, y], dim=-1)


def soft_silhouettes(contours: torch.Tensor) -> torch.Tensor:
    """Canonical contours (B, T, N, 2) -> soft 64 x 44 silhouettes (B, T, 64, 44) in 0..1,
    placed as `decode_casiab` places them; differentiable in the points.

    Inside or outside is the codec's own fill; the distance to the outline is taken to its
    nearest point (the points lie under a pixel apart, so this is within a fraction of a
    pixel of the distance to the polygon, and a batched cdist is fast on CPU)."""
    batch, frames, n, _ = contours.shape
    flat = contours.reshape(-1, n, 2)
    with torch.no_grad():
        filled = crop_44(decode_casiab(flat.detach().numpy()))
        sign = torch.from_numpy(filled.reshape(len(flat), -1)).float() * 2.0 - 1.0
    image = flat * CASIAB_SIZE + torch.tensor([float(CASIAB_CENTRE_COL), 0.0])
    distance = torch.cdist(pixel_centres().expand(len(flat), -1, -1), image).amin(-1)
    return torch.sigmoid(sign * distance / EDGE_SOFTNESS_PX).reshape(batch, frames, CASIAB_SIZE, len(CROP_COLUMNS))


class GeiSurrogate(nn.Module):
    """Frozen GEI CNN on soft silhouettes drawn from contour sequences: `embed` (B, T, N, 2) -> (B, D)."""

    def __init__(self, cnn: GeiCnn) -> None:
        super().__init__()
        self.cnn = cnn.eval()
        for parameter in self.cnn.parameters():
            parameter.requires_grad_(False)

    def embed(self, contours: torch.Tensor) -> torch.Tensor:
        batch, frames, n, _ = contours.shape
        contours = normalised_like_casiab(contours.reshape(-1, n, 2)).reshape(batch, frames, n, 2)
        if torch.is_grad_enabled():
            return self.cnn(soft_silhouettes(contours))
        # Re-identification (no gradient): the codec's own drawing, which the soft one matches at 0.5.
        drawn = crop_44(decode_casiab(contours.reshape(-1, n, 2).numpy()))
        return self.cnn(torch.from_numpy(drawn.reshape(batch, frames, *drawn.shape[1:])).float())


def checkpoint_path() -> Path:
    """Where the trained CNN is (its folder is made by `surrogate_bank`, which runs first)."""
    return cache_root() / "ckpt" / NAME / "cnn.pt"


def surrogate_bank(seed: int) -> GeiBank:
    """The anonymiser subjects' walks, each with DISTORTED_VARIANTS distorted copies (cached)."""
    path = checkpoint_dir(NAME) / f"bank_x{DISTORTED_VARIANTS}_seed{seed}.npz"
    if path.exists():
        return GeiBank.load(path)
    bank = build_bank(subjects(GROUP), [random_training_distortion] * DISTORTED_VARIANTS, seed=seed)
    bank.save(path)
    return bank


def load_gei_surrogate() -> GeiSurrogate:
    cnn = GeiCnn()
    cnn.load_state_dict(torch.load(checkpoint_path(), map_location="cpu", weights_only=False)["model"])
    return GeiSurrogate(cnn)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the GEI surrogate recogniser on the anonymiser subjects (resumable).")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)
    pin_threads_and_seed(args.seed)
    began = time.monotonic()
    bank = surrogate_bank(args.seed)
    print(f"bank: {len(bank.geis)} GEIs of {len(set(bank.subject))} subjects ({time.monotonic() - began:.0f} s)", flush=True)
    train_cnn(bank, checkpoint_path())
    print(f"done in {time.monotonic() - began:.0f} s: {checkpoint_path()}", flush=True)


if __name__ == "__main__":
    main()
