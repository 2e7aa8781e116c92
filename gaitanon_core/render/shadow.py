"""A soft shadow of the NEW silhouette, cast the way the original's fell.

The original shadow is removed (a clean shadow is a second silhouette of the same gait); without one the
person floats. The removed region (the foreground that is not the person) says how the light falls: its
darkening (per channel, against the background image), its place and spread relative to the body (first and
second moments) and its thickness. The new shadow is the anonymized silhouette moved by the affine map that
takes the body's moments to the shadow's (anchored at the new body), blurred in proportion to the shadow's
thickness, darkening the scene by the measured amount. Only a handful of numbers pass from the original
shadow; its shape never does.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MIN_SHADOW_SHARE = 0.005  # a shadow smaller than this share of the body's area is noise: none is cast
SOFTNESS = 0.5  # the blur's sigma as a share of the shadow's thickness (the sqrt of its smaller variance)
MIN_DARKENING = 0.35  # the darkest a cast shadow may make the scene (share of the light kept)


@dataclass(frozen=True)
class ShadowLight:
    """How the original shadow fell, relative to the original body."""

    matrix: np.ndarray  # (2, 2): the body's spread -> the shadow's spread
    offset: np.ndarray  # (2,) x, y: the shadow's centre minus the body's
    sigma: float  # px: the softness
    kept: np.ndarray  # (3,) the share of the light the shadow keeps, per channel

    def reach(self, body: np.ndarray) -> int:
        """How far (px) beyond `body`'s box the shadow of `body` may fall: its offset, its blur, its growth."""
        rows, cols = np.flatnonzero(body.any(axis=1)), np.flatnonzero(body.any(axis=0))
        extent = 0.5 * float(np.hypot(rows[-1] - rows[0], cols[-1] - cols[0]))
        growth = max(0.0, float(np.linalg.norm(self.matrix, 2)) - 1.0) * extent
        return int(np.ceil(np.linalg.norm(self.offset) + 3.0 * self.sigma + growth))


def _moments(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.nonzero(mask)
    points = np.column_stack([cols, rows]).astype(np.float64)
    return points.mean(axis=0), np.cov(points, rowvar=False) + 0.25 * np.eye(2)  # a pixel's own spread


def _sqrtm(cov: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh(cov)
    return vectors @ np.diag(np.sqrt(np.maximum(values, 1e-6))) @ vectors.T


def measure_light(original: np.ndarray, background: np.ndarray, person: np.ndarray,
                  shadow: np.ndarray) -> ShadowLight | None:
    """The light read off the removed shadow, or None when there is too little shadow to read it from."""
    if np.count_nonzero(shadow) < max(8, MIN_SHADOW_SHARE * np.count_nonzero(person)):
        return None
    kept = np.median((original[shadow].astype(np.float64) + 1.0) / (background[shadow].astype(np.float64) + 1.0),
                     axis=0)
    if np.all(kept >= 1.0):
        return None  # lighter than the background: not a shadow
    body_centre, body_cov = _moments(person)
    shadow_centre, shadow_cov = _moments(shadow)
    matrix = _sqrtm(shadow_cov) @ np.linalg.inv(_sqrtm(body_cov))
    thickness = float(np.sqrt(np.linalg.eigvalsh(shadow_cov)[0]))
    return ShadowLight(matrix, shadow_centre - body_centre, SOFTNESS * thickness,
                       np.clip(kept, MIN_DARKENING, 1.0))


def shade(anonymized: np.ndarray, light: ShadowLight) -> np.ndarray:
    """The light kept at each pixel under the new silhouette's shadow (H, W, 3 float32; 1 = no shadow)."""
    centre, _ = _moments(anonymized)
    # x -> matrix (x - centre) + centre + offset: the new body's spread mapped as the original's was
    shift = centre + light.offset - light.matrix @ centre
    affine = np.hstack([light.matrix, shift[:, None]]).astype(np.float32)
    height, width = anonymized.shape
    cover = cv2.warpAffine(anonymized.astype(np.float32), affine, (width, height), flags=cv2.INTER_LINEAR)
    if light.sigma > 0.3:
        cover = cv2.GaussianBlur(cover, (0, 0), sigmaX=light.sigma, sigmaY=light.sigma)
    return 1.0 - cover[..., None] * (1.0 - light.kept.astype(np.float32))
