"""Compose an anonymized frame: the person's own texture on the new silhouette, the background elsewhere.

With the background image I_Bg (static camera), the original frame I_Or and the
silhouettes S_Or (original) and S_An (anonymized):

    outside both      -> I_Bg
    only in S_Or      -> I_Bg
    in S_An           -> the person's texture moved onto S_An (`warp.py`): each pixel takes the colour
                         of the place on the original body its outline points came from

The texture is the original body without its outermost pixels (a blend of body
and wall), filled outward with the nearest interior colour (`body_texture`), so
the new edge is never drawn with original edge pixels, and the head is hidden in
it before the warp moves it (`faces.py`). Where the new body covers the original
outline, the warp can still land a texture edge on it (an arm swallowed by a
wider torso keeps its edge where it was), and an edge detector would trace the
original silhouette there: where the outline's gradient stands out from the
texture around it, it is softened (`soften_original_outline`).
The paper's rule (Tieu et al. 2019,
eq. 9) kept I_Or where both silhouettes overlap and took the nearest pixel of
S_Or elsewhere in S_An; it traces the original outline inside the new body and
doubles limbs, so it stays only as an evaluation condition (`outline=None`).

The original's shadow takes I_Bg too: a clean shadow is a second silhouette of
the same gait. S_An can cast its own soft shadow instead, the way the removed one
fell (`shadow.py`, `cast`), so the person does not float; off by default. The
anonymized outline gets a soft edge of about 1-2 px (a Gaussian of
`SOFT_EDGE_SIGMA` on S_An) so it does not look cut out.

"Outside both" is I_Bg only near the person (`scene_margin`): beyond a band
around S_Or and its shadow the frame stays the original. I_Bg is a median
over the clip, so using it everywhere (the paper's letter, `margin=None`)
freezes everything else in the scene (traffic, trees, light) while the
person walks, and the switch from live to frozen shows where the person is.
The band covers the segmenter's ragged edge and the anti-aliased halo, and it
fades into the live frame over `FEATHER_PX` so it leaves no seam; I_Bg is
shifted there to the live frame's light just beyond the band (`matched_light`),
or the band would show as a lighter or darker copy of the outline. All work
happens in the person's bounding box.
"""

from __future__ import annotations

import cv2
import numpy as np

from .faces import head_rows, hide_head
from .shadow import cast_shade, measure_light
from .warp import OutlinePair, warp

CAST_SHADOW = False  # off: the person detector did not score the output higher with it (README)

SOFT_EDGE_SIGMA = 0.8  # px; the 5-95 % ramp of the edge is then about 2 px wide
_EDGE_PAD = 3  # px around the silhouettes covered by the Gaussian's reach
MARGIN_FRACTION = 0.04  # the band around the person, as a share of the person's height ...
MARGIN_MIN_PX = 3.0  # ... and at least this many pixels
FEATHER_PX = 2.0  # the band's outer edge fades into the live frame over this width
LIGHT_RING_PX = 4.0  # beyond the band, this wide a ring of the live frame sets the band's light ...
MIN_RING_PIXELS = 50  # ... when it holds at least this many pixels
LIGHT_TRUST_WEIGHT = 0.05  # below this share of ring within reach, the ring's median shift is used
OUTLINE_SOFTEN_SIGMA = 1.5  # px: the blur that erases a texture edge lying on the original outline ...
OUTLINE_SOFTEN_HALF_WIDTH = 1.0  # ... over this many px either side of it (README: seam ratio with and without)
EDGE_AROUND_SIGMA = 4.0  # px: the surroundings an edge on the outline is compared with
EDGE_INSET_FRACTION = 0.015  # S_An's new parts take colours this far (share of the height) inside S_Or


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


def scene_margin(person: np.ndarray) -> float:
    """The width (px) of the band around the person that takes I_Bg: grows with the person's size."""
    rows = np.flatnonzero(person.any(axis=1))
    height = rows[-1] - rows[0] + 1 if rows.size else 0
    return max(MARGIN_MIN_PX, MARGIN_FRACTION * height)


def removal_weight(distance: np.ndarray, margin: float) -> np.ndarray:
    """1 on the removed region and within margin - FEATHER_PX of it, falling linearly to 0 at `margin` (H, W, 1);
    `distance` is each pixel's distance from that region."""
    return np.clip((margin - distance) / FEATHER_PX, 0.0, 1.0)[..., None]


def matched_light(background: np.ndarray, original: np.ndarray, ring: np.ndarray, reach: float) -> np.ndarray:
    """I_Bg (float) shifted per channel to the live frame's light on `ring`, the scene just beyond the band.

    I_Bg is a median over the clip; a camera that adjusts its exposure, a cloud,
    or the person's own reflected light makes the frame lighter or darker than
    it, and the band would then show as a copy of the original outline grown by
    the margin (its edge 2-3x as sharp as the scene around it on CASIA-B, README).
    The shift is local, the ring's difference spread over `reach` px
    (normalised convolution), so it meets the live frame all along the band's
    edge; far from the ring it is the ring's median difference.
    """
    background = background.astype(np.float32)
    if np.count_nonzero(ring) < MIN_RING_PIXELS:
        return background
    difference = original.astype(np.float32) - background
    overall = np.median(difference[ring], axis=0)
    return background + _light_shift(difference * ring[..., None], ring, overall, reach)


def _light_shift(ring_difference: np.ndarray, ring: np.ndarray, overall: np.ndarray, reach: float) -> np.ndarray:
    """The ring's difference spread over `reach` px (normalised convolution), `overall` where no ring is near.

    A smooth field: made on a copy reduced so the Gaussian spans about 4 of its
    pixels, then enlarged (at 720p a tenth of the full-size cost).
    """
    height, width = ring.shape
    factor = max(1, int(reach // 4))
    small, sigma = (max(1, width // factor), max(1, height // factor)), reach / factor
    weight = cv2.GaussianBlur(cv2.resize(ring.astype(np.float32), small, interpolation=cv2.INTER_AREA), (0, 0),
                              sigmaX=sigma).reshape(small[1], small[0], 1)
    spread = cv2.GaussianBlur(cv2.resize(ring_difference, small, interpolation=cv2.INTER_AREA), (0, 0),
                              sigmaX=sigma).reshape(small[1], small[0], 3)
    trust = np.clip(weight / LIGHT_TRUST_WEIGHT, 0.0, 1.0)  # where the ring is near enough to speak for
    shift = trust * spread / np.maximum(weight, 1e-6) + (1.0 - trust) * overall
    return cv2.resize(shift, (width, height), interpolation=cv2.INTER_LINEAR).reshape(height, width, 3)


def row_colours(image: np.ndarray, region: np.ndarray) -> np.ndarray:
    """`image` with each row of `region` ((H, W) bool) set to that row's median colour there: colours with no
    upright edge in them (no outline of what lay in the region)."""
    out = image.copy()
    for y in np.flatnonzero(region.any(axis=1)):
        out[y, region[y]] = np.median(image[y, region[y]], axis=0)
    return out


def body_texture(original: np.ndarray, person: np.ndarray) -> np.ndarray:
    """Float colours of S_Or's interior, every other pixel taking the nearest interior colour.

    The outermost pixels of a silhouette are a blend of the person and the
    background (anti-aliasing, the segmenter's ragged edge); drawn on the new
    body they would paint it half in the background's colour. So the colours
    come from `EDGE_INSET_FRACTION` of the person's height inside.
    """
    rows = np.flatnonzero(person.any(axis=1))
    inset = max(1.0, EDGE_INSET_FRACTION * (rows[-1] - rows[0] + 1))
    depth = cv2.distanceTransform(np.pad(person, 1).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)[1:-1, 1:-1]
    interior = depth > inset  # the frame's border counts as outside the person
    return nearest_fill(original, interior if interior.any() else person).astype(np.float32)


def soften_original_outline(colours: np.ndarray, person: np.ndarray, anonymized: np.ndarray) -> np.ndarray:
    """`colours` blurred where a texture edge lies on S_Or's outline inside S_An (away from S_An's own edge).

    Only where the gradient on the outline stands out from its surroundings (an
    edge the warp left there): blurring the whole outline would trace it as a
    line smoother than the texture beside it. The band fades out over a pixel on
    each side and towards S_An's edge, so the new outline stays as drawn.
    """
    edge = cv2.morphologyEx(person.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    distance = cv2.distanceTransform(1 - edge, cv2.DIST_L2, cv2.DIST_MASK_5)
    depth = cv2.distanceTransform(np.pad(anonymized, 1).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)[1:-1, 1:-1]
    band = np.clip(OUTLINE_SOFTEN_HALF_WIDTH + 1.0 - distance, 0.0, 1.0) * np.clip(depth - 1.0, 0.0, 1.0)
    inside = band > 0
    if not inside.any():
        return colours
    weight = (band[inside] * _edge_excess(colours)[inside])[:, None]
    blurred = cv2.GaussianBlur(colours, (0, 0), sigmaX=OUTLINE_SOFTEN_SIGMA, sigmaY=OUTLINE_SOFTEN_SIGMA)
    softened = colours.copy()
    softened[inside] = weight * blurred[inside] + (1.0 - weight) * colours[inside]  # a thin band: index it
    return softened


def _edge_excess(colours: np.ndarray) -> np.ndarray:
    """0..1 per pixel: how far its gradient exceeds the mean gradient around it (0 at or below it, 1 at 1.5x),
    spread over the edge's width. Colour gradient, so an edge between two colours of one brightness counts."""
    gradient = np.sqrt((cv2.Sobel(colours, cv2.CV_32F, 1, 0) ** 2 + cv2.Sobel(colours, cv2.CV_32F, 0, 1) ** 2)
                       .sum(axis=2))
    around = cv2.GaussianBlur(gradient, (0, 0), sigmaX=EDGE_AROUND_SIGMA)
    excess = np.clip(gradient / np.maximum(around, 1e-3) - 1.0, 0.0, 1.0)
    return np.clip(2.0 * cv2.GaussianBlur(excess, (0, 0), sigmaX=1.0), 0.0, 1.0)


def person_colours(original: np.ndarray, person: np.ndarray) -> np.ndarray:
    """Eq. 9's colours for S_An: the original inside S_Or, else the nearest pixel of S_Or's interior."""
    colours = body_texture(original, person)
    colours[person] = original[person]
    return colours


def body_colours(original: np.ndarray, person: np.ndarray, anonymized: np.ndarray, outline: OutlinePair | None,
                 faces: str) -> np.ndarray:
    """The float colours S_An is drawn with: the warped texture, or eq. 9's when `outline` is None."""
    if outline is None:
        colours = person_colours(original, person)
        hide_head(colours, head_rows(np.flatnonzero(person.any(axis=1))), faces)
        return colours
    texture = body_texture(original, person)
    hide_head(texture, head_rows(outline.source[:, 1]), faces)
    return soften_original_outline(warp(texture, outline, anonymized), person, anonymized)


def cast_shadow(out: np.ndarray, scene: np.ndarray, original: np.ndarray, background: np.ndarray,
                person: np.ndarray, shadow: np.ndarray, anonymized: np.ndarray, box: tuple[slice, slice]) -> np.ndarray:
    """The scene of `box` darkened by S_An's shadow, which also darkens `out` where it falls beyond the box
    (in place); the scene as it was when the removed shadow gives no light to cast with."""
    light = measure_light(original, background, person, shadow)
    if light is None:
        return scene
    region, kept = cast_shade(anonymized[box], box, light, anonymized.shape)
    out[region] = np.clip(out[region] * kept + 0.5, 0, 255).astype(np.uint8)  # the box is redrawn after this
    shared = overlap(box, region)
    if shared is not None:
        scene[shared[0]] *= kept[shared[1]]
    return scene


def overlap(a: tuple[slice, slice], b: tuple[slice, slice]) -> tuple[tuple[slice, slice], ...] | None:
    """Where two frame boxes overlap, as slices into `a`'s crop and into `b`'s; None if they do not."""
    spans = [(max(x.start, y.start), min(x.stop, y.stop)) for x, y in zip(a, b)]
    if any(start >= stop for start, stop in spans):
        return None
    return tuple(tuple(slice(start - box[i].start, stop - box[i].start) for i, (start, stop) in enumerate(spans))
                 for box in (a, b))


def colour_frame(original: np.ndarray, background: np.ndarray, person: np.ndarray, anonymized: np.ndarray,
                 shadow: np.ndarray | None = None, margin: float | None = 0.0, outline: OutlinePair | None = None,
                 faces: str = "keep", cast: bool = CAST_SHADOW) -> np.ndarray:
    """The output frame (H, W, 3 uint8) from I_Or, I_Bg, S_Or and S_An.

    `margin=None` applies I_Bg to the whole frame (the paper's rule); a number
    is the band width in px around S_Or and the shadow, 0 picks `scene_margin`.
    `outline` (image coordinates) moves the texture from S_Or's outline onto
    S_An's; None is eq. 9 (evaluation only). `faces` is a `faces.FACE_MODES` mode. `cast` casts a shadow
    of S_An the way `shadow` fell (`shadow.py`).
    """
    remove = person if shadow is None else person | shadow
    if margin is None:
        out, pad = background.copy(), _EDGE_PAD
    else:
        margin = margin or scene_margin(person)
        out, pad = original.copy(), int(np.ceil(margin + LIGHT_RING_PX)) + _EDGE_PAD
    box = bounding_box(remove | anonymized, pad)
    if box is None:
        return out
    if anonymized[box].any() and not person[box].any():
        raise ValueError("the anonymized silhouette needs an original silhouette to take its colours from")
    scene = background[box].astype(np.float32)
    if margin is not None:
        distance = cv2.distanceTransform((~remove[box]).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)
        ring = (distance > margin) & (distance <= margin + LIGHT_RING_PX) & ~anonymized[box]
        scene = matched_light(background[box], original[box], ring, margin)
        weight = removal_weight(distance, margin)
        scene = weight * scene + (1.0 - weight) * original[box].astype(np.float32)
    if cast and shadow is not None and anonymized[box].any():
        scene = cast_shadow(out, scene, original[box], background[box], person[box], shadow[box], anonymized, box)
    if anonymized[box].any():
        in_box = None if outline is None else outline.shifted(box[0].start, box[1].start)
        alpha = soft_alpha(anonymized[box])
        scene = alpha * body_colours(original[box], person[box], anonymized[box], in_box, faces) + (1.0 - alpha) * scene
    out[box] = np.clip(scene + 0.5, 0, 255).astype(np.uint8)
    return out
