"""Does an output frame still show the walker's original silhouette or shadow?

Both checks use the demo walker's ground truth (true silhouette, true shadow,
empty room), so they need no segmenter of their own:

- silhouette: inside the true silhouette (dilated a little), the fraction of
  pixels the output changed against the original frame. A frame passed through
  unchanged (decoded, re-encoded by the same writer) changes 0.0-0.5 % of them
  (measured on the 320x240 walk at CRF 20); an anonymized, bridged or covered
  frame changes far more. Below `MIN_CHANGED` the original outline is intact.
- shadow: the fraction of true-shadow pixels (outside the dilated body) that the
  output still darkens like a shadow: every channel at 50-96 % of the empty
  room, all channels alike. Passed through: 85-94 %; elsewhere in the room: 2 %.
"""

from __future__ import annotations

import cv2
import numpy as np

CHANGE_LEVEL = 30  # grey levels: far above the codec's noise at CRF 20
MIN_CHANGED = 0.05  # a frame that changes less of the original body than this shows it
MAX_SHADOW_LIKE = 0.40  # more of the true shadow than this still darkened: the shadow survived
MIN_SHADOW_PIXELS = 40  # smaller shadows are too small to judge
MIN_BODY_PIXELS = 60  # smaller bodies (entering, leaving) are too small to judge


def _dilated(mask: np.ndarray, radius: int = 2) -> np.ndarray:
    kernel = np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)
    return cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)


def body_changed_fraction(original: np.ndarray, output: np.ndarray, person: np.ndarray) -> float:
    """Share of the (dilated) true silhouette where the output differs from the original frame."""
    region = _dilated(person)
    diff = np.abs(original.astype(np.int16) - output.astype(np.int16)).max(axis=2)
    return float((diff[region] > CHANGE_LEVEL).mean())


def shadow_like_fraction(output: np.ndarray, background: np.ndarray, shadow: np.ndarray,
                         person: np.ndarray) -> float | None:
    """Share of the true shadow still darkened like a shadow; None when the shadow is too small."""
    region = shadow & ~_dilated(person, 3)
    if region.sum() < MIN_SHADOW_PIXELS:
        return None
    ratio = output.astype(np.float32) / np.maximum(background.astype(np.float32), 1.0)
    high, low = ratio.max(axis=2), ratio.min(axis=2)
    like = (high < 0.96) & (low > 0.5) & (high - low < 0.1)
    return float(like[region].mean())


def shows_original(original: np.ndarray, output: np.ndarray, background: np.ndarray,
                   person: np.ndarray, shadow: np.ndarray) -> str | None:
    """Why this output frame leaks the walker ('silhouette' / 'shadow'), or None."""
    if person.sum() >= MIN_BODY_PIXELS and body_changed_fraction(original, output, person) < MIN_CHANGED:
        return "silhouette"
    shadow_share = shadow_like_fraction(output, background, shadow, person)
    if shadow_share is not None and shadow_share > MAX_SHADOW_LIKE:
        return "shadow"
    return None


def leaking_frames(originals, outputs, backgrounds, persons, shadows) -> dict[int, str]:
    """{frame index: 'silhouette' | 'shadow'} over aligned sequences of frames and true masks.

    `backgrounds` is one empty-room image for a static camera, or one per frame.
    """
    if isinstance(backgrounds, np.ndarray):
        backgrounds = [backgrounds] * len(persons)
    leaks = {}
    for index, (original, output, background, person, shadow) in enumerate(
            zip(originals, outputs, backgrounds, persons, shadows, strict=True)):
        reason = shows_original(original, output, background, person, shadow)
        if reason:
            leaks[index] = reason
    return leaks
