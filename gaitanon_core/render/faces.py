"""Hide the walker's face: the head region of the person's texture, before the warp moves it.

A walker whose gait is changed but whose face shows is not anonymous. The region
is the top `HEAD_SHARE` of the walker's outline (head and neck: a head is about
13 % of a standing person's height), so profile and back views are hidden too,
where a face detector would miss them. It is hidden in the texture the warp
samples, so it follows the head onto the new outline, and a sharp face is never
carried there. The texture outside the body already holds body colours (see
`colouring.body_texture`), so a blur never pulls the wall, or the original
head's outline, into it.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import UsageError

FACE_MODES = ("blur", "pixelate", "fill", "keep")
DEFAULT_FACES = "blur"
HEAD_SHARE = 0.17  # share of the body's height, from the top, that is hidden (head + neck)
BLUR_SHARE = 0.25  # the blur's sigma as a share of the region's height: no feature survives it
PIXEL_CELLS = 5  # a pixelated head is this many cells tall
FADE_SHARE = 0.3  # the lowest share of the region fades back to the body (no hard line at the neck)


def check_mode(mode: str) -> str:
    if mode not in FACE_MODES:
        raise UsageError(f"faces must be one of {', '.join(FACE_MODES)}, not {mode!r}")
    return mode


def head_rows(outline_y: np.ndarray) -> tuple[int, int]:
    """(first, last + 1) image rows of the head region from the outline's y coordinates."""
    top, bottom = float(outline_y.min()), float(outline_y.max())
    return int(np.floor(top)), int(np.ceil(top + HEAD_SHARE * (bottom - top))) + 1


def hide_head(texture: np.ndarray, rows: tuple[int, int], mode: str) -> None:
    """Blur, pixelate or fill rows `rows` of `texture` (H, W, 3 float32) in place, fading out at the bottom."""
    if check_mode(mode) == "keep":
        return
    first, last = max(rows[0], 0), min(rows[1], texture.shape[0])
    if last - first < 2:
        return
    band = texture[first:last]
    hidden = _hidden(band, mode, rows[1] - rows[0])
    weight = _fade(last - first, first - rows[0], rows[1] - rows[0])
    band[...] = weight * hidden + (1.0 - weight) * band


def _hidden(band: np.ndarray, mode: str, height: int) -> np.ndarray:
    if mode == "blur":
        sigma = max(1.0, BLUR_SHARE * height)
        return cv2.GaussianBlur(band, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REPLICATE)
    if mode == "pixelate":
        cell = max(1, height // PIXEL_CELLS)
        small = cv2.resize(band, (max(1, band.shape[1] // cell), max(1, band.shape[0] // cell)),
                           interpolation=cv2.INTER_AREA)
        return cv2.resize(small, (band.shape[1], band.shape[0]), interpolation=cv2.INTER_NEAREST)
    return np.broadcast_to(band.reshape(-1, band.shape[2]).mean(axis=0), band.shape)  # "fill"


def _fade(count: int, offset: int, height: int) -> np.ndarray:
    """Per-row weight (count, 1, 1): 1 over the region, falling to 0 over its lowest `FADE_SHARE`."""
    position = (np.arange(count, dtype=np.float32) + offset) / max(height, 1)
    weight = np.clip((1.0 - position) / FADE_SHARE, 0.0, 1.0)
    return weight[:, None, None]
