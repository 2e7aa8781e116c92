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
SHADOW_STEP = 4  # the soft shadow is drawn at a quarter of the resolution (a sharp copy would cost 4x the body)


@dataclass(frozen=True)
class ShadowLight:
    """How the original shadow fell, relative to the original body."""

    matrix: np.ndarray  # (2, 2): the body's spread -> the shadow's spread
    offset: np.ndarray  # (2,) x, y: the shadow's centre minus the body's
    sigma: float  # px: the softness
    kept: np.ndarray  # (3,) the share of the light the shadow keeps, per channel



def _moments(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mask's centre (x, y) and the covariance of its pixels' x, y."""
    m = cv2.moments(mask.astype(np.uint8), binaryImage=True)
    cov = np.array([[m["mu20"], m["mu11"]], [m["mu11"], m["mu02"]]]) / m["m00"]
    return np.array([m["m10"], m["m01"]]) / m["m00"], cov + np.eye(2) / 12.0  # a pixel's own spread


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


def cast_shade(body: np.ndarray, box: tuple[slice, slice], light: ShadowLight,
               frame: tuple[int, int]) -> tuple[tuple[slice, slice], np.ndarray]:
    """The new body's shadow: the frame region it falls in and the light kept there (h, w, 3 float32;
    1 = no shadow). `body` is the new silhouette cropped to `box` of a `frame` (H, W).

    The shadow is soft, so it is drawn at 1/`SHADOW_STEP` of the resolution and enlarged."""
    top, left = box[0].start, box[1].start
    centre = _moments(body)[0] + (left, top)
    shift = centre + light.offset - light.matrix @ centre  # x -> matrix x + shift, in frame coordinates
    corners = np.array([[left, top], [box[1].stop, top], [left, box[0].stop], [box[1].stop, box[0].stop]], float)
    moved = corners @ light.matrix.T + shift
    reach = 3.0 * light.sigma
    low = np.maximum(np.floor(moved.min(axis=0) - reach).astype(int), 0)
    high = np.maximum(np.minimum(np.ceil(moved.max(axis=0) + reach).astype(int), [frame[1], frame[0]]), low + 1)
    region = (slice(low[1], high[1]), slice(low[0], high[0]))
    size = high - low  # width, height
    small = cv2.resize(body.astype(np.float32), None, fx=1 / SHADOW_STEP, fy=1 / SHADOW_STEP,
                       interpolation=cv2.INTER_AREA)
    # body pixel p (box coords) sits at frame p + corner; in the region, matrix (p + corner) + shift - low
    local = light.matrix @ np.array([left, top], float) + shift - low
    affine = np.hstack([light.matrix, local[:, None] / SHADOW_STEP]).astype(np.float32)
    small_size = (int(np.ceil(size[0] / SHADOW_STEP)), int(np.ceil(size[1] / SHADOW_STEP)))
    cover = cv2.warpAffine(small, affine, small_size, flags=cv2.INTER_LINEAR)
    sigma = light.sigma / SHADOW_STEP
    if sigma > 0.3:
        cover = cv2.GaussianBlur(cover, (0, 0), sigmaX=sigma, sigmaY=sigma)
    cover = cv2.resize(cover, (small_size[0] * SHADOW_STEP, small_size[1] * SHADOW_STEP),
                       interpolation=cv2.INTER_LINEAR)[: size[1], : size[0]]
    return region, 1.0 - cover[..., None] * (1.0 - light.kept.astype(np.float32))
