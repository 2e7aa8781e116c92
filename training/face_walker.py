"""The demo walker with a face an independent face detector finds: the clip for issue 14's face criterion.

The shipped clips give OpenCV's packaged face cascades nothing to find on the walker (side views, faces of
about 40 px), and no photograph of a face ships inside an installed package, so the face is drawn: a
frontal cartoon face (skin oval, brows, eyes with pupils, nose, mouth) that OpenCV's frontal Haar cascades
find from about 24 px up, painted over the head of the procedural walker (`demo_walker.render_walk`) in
every frame (and added to its true silhouette), as a walker turned towards the camera.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from training.demo_walker import WalkerClip, WalkerIdentity, render_walk

FACE_CLIP_SIZE = (640, 360)  # width, height; with FACE_WALKER the head is about 37 px tall, enough for the cascades
FACE_WALKER = WalkerIdentity(height=0.8)  # the walker fills most of the frame's height
FACE_DRAW_SCALE = 4  # drawn this many times larger, then area-averaged (anti-aliased like a camera)
FACE_HEAD_SHARE = 0.14  # the face is about as tall as the walker's head: this share of the body's height


def face_picture(size: int) -> tuple[np.ndarray, np.ndarray]:
    """A frontal cartoon face with hair, `size` px square: RGB float32 and its coverage 0..1."""
    s = FACE_DRAW_SCALE * size
    c = s // 2

    def at(fx: float, fy: float) -> tuple[int, int]:
        return c + int(fx * s), c + int(fy * s)

    def axes(fx: float, fy: float) -> tuple[int, int]:
        return max(1, int(fx * s)), max(1, int(fy * s))

    img = np.zeros((s, s, 3), np.uint8)
    oval = np.zeros((s, s), np.uint8)  # hair framing the face: the cascades need a dark frame around a light face
    cv2.ellipse(oval, (c, c - int(0.02 * s)), axes(0.47, 0.49), 0, 0, 360, 255, -1, cv2.LINE_AA)
    cv2.ellipse(img, (c, c - int(0.02 * s)), axes(0.47, 0.49), 0, 0, 360, (55, 38, 28), -1, cv2.LINE_AA)
    cv2.ellipse(img, (c, c), axes(0.36, 0.47), 0, 0, 360, (200, 170, 150), -1, cv2.LINE_AA)
    for side in (-1, 1):
        cv2.ellipse(img, at(side * 0.16, -0.17), axes(0.10, 0.025), 0, 0, 360, (60, 40, 30), -1, cv2.LINE_AA)
        cv2.ellipse(img, at(side * 0.16, -0.08), axes(0.08, 0.04), 0, 0, 360, (250, 250, 250), -1, cv2.LINE_AA)
        cv2.circle(img, at(side * 0.16, -0.08), int(0.035 * s), (40, 30, 20), -1, cv2.LINE_AA)
    cv2.ellipse(img, at(0, 0.10), axes(0.05, 0.04), 0, 0, 360, (170, 130, 115), -1, cv2.LINE_AA)
    cv2.ellipse(img, at(0, 0.24), axes(0.14, 0.04), 0, 0, 360, (120, 50, 50), -1, cv2.LINE_AA)
    small = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32)
    cover = cv2.resize(oval, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    return small / np.maximum(cover, 1e-6)[..., None], cover  # un-premultiplied colour


def paint_face(frame: np.ndarray, mask: np.ndarray) -> None:
    """Paint the face over the top of the walker in `frame` (RGB uint8) and add it to `mask`, both in place.

    The face is wider than the side-view head it covers; cut to the head, the cascades would not find it."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return
    size = int(round(FACE_HEAD_SHARE * (rows[-1] - rows[0] + 1)))
    centre_x = int(round(np.nonzero(mask[rows[0] : rows[0] + size])[1].mean()))
    top, left = rows[0], centre_x - size // 2
    if left < 0 or left + size > frame.shape[1]:
        return  # the head is cut by the frame's edge
    colour, cover = face_picture(size)
    region = frame[top : top + size, left : left + size].astype(np.float32)
    blended = cover[..., None] * colour + (1.0 - cover[..., None]) * region
    frame[top : top + size, left : left + size] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    mask[top : top + size, left : left + size] |= cover >= 0.5


def face_walk(identity: WalkerIdentity | None = None, size: tuple[int, int] = FACE_CLIP_SIZE) -> WalkerClip:
    """The demo walker (true silhouettes, shadows, background) with the face painted on its head in every frame."""
    clip = render_walk(identity or FACE_WALKER, size)
    frames, masks = clip.frames.copy(), clip.masks.copy()
    for frame, mask in zip(frames, masks):
        paint_face(frame, mask)
    return replace(clip, frames=frames, masks=masks, shadows=clip.shadows & ~masks)
