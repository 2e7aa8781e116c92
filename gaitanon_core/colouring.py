"""Colour an anonymized frame by the paper's four-region rule (Tieu et al. 2019, eq. 9).

With the background image I_Bg (static camera), the original frame I_Or and the
silhouettes S_Or (original) and S_An (anonymized):

    outside both      -> I_Bg
    in both           -> I_Or
    only in S_Or      -> I_Bg
    only in S_An      -> I_Or at the nearest pixel of S_Or

The original's shadow is outside S_An, so it takes I_Bg like the rest of the
background: a clean shadow is a second silhouette of the same gait. The
anonymized outline gets a soft edge of about 1-2 px (a Gaussian of
`SOFT_EDGE_SIGMA` on S_An) so it does not look cut out. All work happens in the
person's bounding box; the rest of the frame is a copy of I_Bg.
"""

from __future__ import annotations

import cv2
import numpy as np

SOFT_EDGE_SIGMA = 0.8  # px; the 5-95 % ramp of the edge is then about 2 px wide
_EDGE_PAD = 3  # px around the silhouettes covered by the Gaussian's reach


def bounding_box(mask: np.ndarray, pad: int) -> tuple[slice, slice] | None:
    """Rows and columns holding the mask, padded and clipped to the frame; None if empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    height, width = mask.shape
    return (slice(max(rows[0] - pad, 0), min(rows[-1] + pad + 1, height)),
            slice(max(cols[0] - pad, 0), min(cols[-1] + pad + 1, width)))


def nearest_fill(image: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Every pixel takes the colour of the nearest pixel of `region` (its own colour inside it).

    cv2's labelled distance transform numbers the zero pixels (here: `region`)
    in raster order, the same order as np.nonzero, so a label indexes them
    directly. Its 5x5 mask finds the nearest pixel to within half a pixel.
    """
    _, labels = cv2.distanceTransformWithLabels(
        (~region).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5, labelType=cv2.DIST_LABEL_PIXEL
    )
    rows, cols = np.nonzero(region)
    flat = labels - 1
    return image[rows[flat], cols[flat]]


def soft_alpha(mask: np.ndarray, sigma: float = SOFT_EDGE_SIGMA) -> np.ndarray:
    """The mask as a float coverage in 0..1 with a blurred edge (H, W, 1)."""
    alpha = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), sigmaX=sigma, sigmaY=sigma)
    return alpha[..., None]


def colour_frame(original: np.ndarray, background: np.ndarray,
                 person: np.ndarray, anonymized: np.ndarray) -> np.ndarray:
    """The output frame (H, W, 3 uint8) of eq. 9 from I_Or, I_Bg, S_Or and S_An."""
    out = background.copy()
    box = bounding_box(person | anonymized, _EDGE_PAD)
    if box is None:
        return out
    if not person[box].any():
        raise ValueError("the anonymized silhouette needs an original silhouette to take its colours from")
    colours = nearest_fill(original[box], person[box]).astype(np.float32)
    alpha = soft_alpha(anonymized[box])
    blended = alpha * colours + (1.0 - alpha) * background[box].astype(np.float32)
    out[box] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    return out
