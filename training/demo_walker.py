"""A procedural walking figure: the bundled demo clip and ground truth for fast tests.

A side-view person (head, hair, neck, torso, arms with hands, legs with shoes)
walks across a static textured room, casting a soft shadow on the floor. Each
`WalkerIdentity` fixes body proportions, limb widths, cadence, stride, arm swing
and clothing colours, so different identities walk visibly differently (which
is what gait recognition keys on). Joint angles follow the textbook sagittal
gait curves (hip, knee, ankle against the gait-cycle phase); the figure is
lowered each frame until its lowest foot touches the floor, which gives the
natural vertical bob. The figure enters at one edge and leaves at the other,
so the clip has empty frames, partial-body frames and whole-body frames.

Rendering is supersampled (drawn at `SUPERSAMPLE` times the size, then area-
averaged), so edges are anti-aliased like a camera's; the true silhouette is the
same drawing thresholded at half coverage, and the true shadow is the floor
region the shadow darkens visibly outside the person.

Regenerate the bundled clip with `python -m training.demo_walker resources/demo_walker.mp4`.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

SUPERSAMPLE = 4
DEFAULT_SIZE = (480, 270)  # width, height: small enough to ship, big enough to segment
DEFAULT_FPS = 25.0
DEFAULT_SEED = 7
EMPTY_SECONDS = 0.6  # empty room before the walker enters and after it leaves
SHADOW_DARKENING = 0.38  # the darkest shadow keeps 62 % of the floor's light
SHADOW_VISIBLE = 0.15  # darkening beyond 15 % counts as shadow in the true shadow mask (fainter is invisible)
FAR_SHADE = 0.72  # the far arm and leg are in the body's own shade
Colour = tuple[int, int, int]
Joints = dict[str, np.ndarray]  # joint name -> (x, y) in body-height units
ToPixels = Callable[[np.ndarray], np.ndarray]  # body-height units -> supersampled pixels
LIMBS = {"far arm": 1, "far leg": 2, "near leg": 4, "near arm": 5}  # label values of the limbs in `limbs`
TRUNK = 3  # the label of the trunk, neck and head


@dataclass(frozen=True)
class WalkerIdentity:
    """Everything that makes one walker look and move like a particular person.

    Lengths are fractions of the body height (top of head to sole); widths are
    fractions of the body height too; colours are RGB.
    """

    height: float = 0.58  # body height as a fraction of the frame height
    head: float = 0.13  # head height
    neck: float = 0.035
    torso: float = 0.30  # shoulder to hip joint
    thigh: float = 0.245
    shank: float = 0.235
    foot: float = 0.14
    upper_arm: float = 0.175
    forearm: float = 0.16
    torso_depth: float = 0.15  # chest depth seen from the side
    hip_depth: float = 0.13
    limb_width: float = 1.0  # scales every limb's thickness (build)
    cadence: float = 1.85  # steps per second
    stride: float = 0.40  # step length as a fraction of the height
    hip_swing: float = 21.0  # half the hip flexion range, degrees
    knee_lift: float = 62.0  # peak swing-phase knee flexion, degrees
    arm_swing: float = 22.0  # shoulder swing amplitude, degrees
    lean: float = 4.0  # forward trunk lean, degrees
    skin: Colour = (205, 160, 130)
    hair: Colour = (55, 38, 28)
    shirt: Colour = (60, 95, 160)
    trousers: Colour = (45, 45, 60)
    shoes: Colour = (30, 25, 25)


def random_identity(seed: int) -> WalkerIdentity:
    """A plausible, distinct identity drawn from `seed` (proportions within human ranges)."""
    rng = np.random.default_rng(seed)

    def around(value: float, spread: float) -> float:
        return float(value * (1.0 + rng.uniform(-spread, spread)))

    def colour(low: int, high: int) -> Colour:
        return tuple(int(c) for c in rng.integers(low, high, size=3))  # type: ignore[return-value]

    skin_tone = rng.uniform(0.45, 1.0)
    return WalkerIdentity(
        height=around(0.58, 0.06),
        head=around(0.13, 0.08),
        torso=around(0.30, 0.06),
        thigh=around(0.245, 0.06),
        shank=around(0.235, 0.06),
        upper_arm=around(0.175, 0.06),
        forearm=around(0.16, 0.06),
        torso_depth=around(0.15, 0.15),
        hip_depth=around(0.13, 0.15),
        limb_width=around(1.0, 0.2),
        cadence=around(1.85, 0.1),
        stride=around(0.40, 0.1),
        hip_swing=around(21.0, 0.15),
        knee_lift=around(62.0, 0.1),
        arm_swing=around(22.0, 0.35),
        lean=around(4.0, 0.5),
        skin=(int(225 * skin_tone), int(180 * skin_tone), int(150 * skin_tone)),
        hair=colour(15, 90),
        shirt=colour(30, 220),
        trousers=colour(20, 140),
        shoes=colour(10, 70),
    )


# ---- kinematics -----------------------------------------------------------------


def _bump(phase: float, centre: float, width: float) -> float:
    """A periodic Gaussian bump on the gait cycle (phase and centre in cycles)."""
    d = (phase - centre + 0.5) % 1.0 - 0.5
    return math.exp(-((d / width) ** 2))


def hip_angle(identity: WalkerIdentity, phase: float) -> float:
    """Thigh angle from vertical, degrees, forward positive; heel strike at phase 0."""
    return 9.0 + identity.hip_swing * math.cos(2 * math.pi * (phase - 0.03))


def knee_flexion(identity: WalkerIdentity, phase: float) -> float:
    """Knee flexion, degrees: a small loading-response peak and the large swing peak."""
    return 17.0 * _bump(phase, 0.15, 0.09) + identity.knee_lift * _bump(phase, 0.72, 0.13) + 3.0


def foot_pitch(phase: float) -> float:
    """Plantar flexion, degrees (positive: toes down): push-off, then toes up before heel strike."""
    return 15.0 * _bump(phase, 0.6, 0.07) - 10.0 * _bump(phase, 0.97, 0.06)


def shoulder_angle(identity: WalkerIdentity, phase: float) -> float:
    """Upper arm from vertical, degrees; swings against the leg of the same side."""
    return 4.0 - identity.arm_swing * math.cos(2 * math.pi * (phase - 0.05))


def elbow_flexion(identity: WalkerIdentity, phase: float) -> float:
    """More bend on the forward swing, as people do."""
    return 18.0 + 0.6 * identity.arm_swing * (0.5 - 0.5 * math.cos(2 * math.pi * (phase - 0.55)))


def _along(origin: np.ndarray, length: float, degrees_from_vertical: float) -> np.ndarray:
    """The end of a segment hanging down from `origin`, rotated forward (+x) by the angle."""
    a = math.radians(degrees_from_vertical)
    return origin + length * np.array([math.sin(a), math.cos(a)])


@dataclass(frozen=True)
class Pose:
    """Joint positions in body-height units, hip joint at the origin, y down, facing +x."""

    joints: Joints

    def lowest(self) -> float:
        return max(p[1] for k, p in self.joints.items() if k.endswith(("heel", "toe")))


def walker_pose(identity: WalkerIdentity, phase: float) -> Pose:
    """The skeleton at one gait phase: 'near' is the camera-side leg and arm."""
    j: Joints = {"hip": np.zeros(2)}
    lean = identity.lean
    j["shoulder"] = _along(j["hip"], -identity.torso, -lean)  # up the trunk, leaning forward
    j["neck_top"] = _along(j["shoulder"], -identity.neck, -lean * 1.5)
    for side, offset in (("near", 0.0), ("far", 0.5)):
        p = (phase + offset) % 1.0
        thigh = hip_angle(identity, p)
        shank = thigh - knee_flexion(identity, p)
        j[f"{side}_knee"] = _along(j["hip"], identity.thigh, thigh)
        j[f"{side}_ankle"] = _along(j[f"{side}_knee"], identity.shank, shank)
        # The foot is square to the shank, flattened on the floor in mid stance, toes down at push-off.
        sole = math.radians(shank * (1.0 - _bump(p, 0.3, 0.16)) - foot_pitch(p))
        toe_dir = np.array([math.cos(sole), -math.sin(sole)])
        down = np.array([-toe_dir[1], toe_dir[0]])
        j[f"{side}_heel"] = j[f"{side}_ankle"] + identity.foot * (0.3 * down - 0.22 * toe_dir)
        j[f"{side}_toe"] = j[f"{side}_heel"] + identity.foot * toe_dir
        upper = shoulder_angle(identity, p) + lean
        j[f"{side}_elbow"] = _along(j["shoulder"], identity.upper_arm, upper)
        j[f"{side}_wrist"] = _along(j[f"{side}_elbow"], identity.forearm, upper + elbow_flexion(identity, p))
    return Pose(j)


# ---- drawing ---------------------------------------------------------------------


def _tapered(canvas: np.ndarray, p0: np.ndarray, p1: np.ndarray, r0: float, r1: float, colour: Colour) -> None:
    """A limb: two discs joined by their tangent quadrilateral (a tapered capsule)."""
    d = p1 - p0
    n = np.array([-d[1], d[0]]) / (np.linalg.norm(d) + 1e-9)
    quad = np.array([p0 + n * r0, p1 + n * r1, p1 - n * r1, p0 - n * r0])
    cv2.fillConvexPoly(canvas, np.round(quad).astype(np.int32), colour, lineType=cv2.LINE_8)
    for p, r in ((p0, r0), (p1, r1)):
        cv2.circle(canvas, _int_point(p), max(1, int(round(r))), colour, -1)


def _shade(colour: Colour, factor: float) -> Colour:
    return tuple(int(min(255, c * factor)) for c in colour)  # type: ignore[return-value]


def _draw_leg(canvas: np.ndarray, pt: ToPixels, j: Joints, side: str, identity: WalkerIdentity,
              w: float, shade: float) -> None:
    trousers, shoes = _shade(identity.trousers, shade), _shade(identity.shoes, shade)
    _tapered(canvas, pt(j["hip"]), pt(j[f"{side}_knee"]), 0.060 * w, 0.042 * w, trousers)
    _tapered(canvas, pt(j[f"{side}_knee"]), pt(j[f"{side}_ankle"]), 0.042 * w, 0.030 * w, trousers)
    _tapered(canvas, pt(j[f"{side}_heel"]), pt(j[f"{side}_toe"]), 0.026 * w, 0.020 * w, shoes)
    _tapered(canvas, pt(j[f"{side}_ankle"]), pt(j[f"{side}_heel"]), 0.028 * w, 0.026 * w, shoes)


def _draw_arm(canvas: np.ndarray, pt: ToPixels, j: Joints, side: str, identity: WalkerIdentity,
              w: float, shade: float) -> None:
    shirt, skin = _shade(identity.shirt, shade), _shade(identity.skin, shade)
    _tapered(canvas, pt(j["shoulder"]), pt(j[f"{side}_elbow"]), 0.036 * w, 0.029 * w, shirt)
    _tapered(canvas, pt(j[f"{side}_elbow"]), pt(j[f"{side}_wrist"]), 0.026 * w, 0.020 * w, skin)
    wrist, elbow = j[f"{side}_wrist"], j[f"{side}_elbow"]
    hand = wrist + 0.35 * (wrist - elbow) / (np.linalg.norm(wrist - elbow) + 1e-9) * 0.12
    _tapered(canvas, pt(wrist), pt(hand), 0.022 * w, 0.024 * w, skin)


def _draw_trunk_and_head(canvas: np.ndarray, pt: ToPixels, j: Joints, identity: WalkerIdentity,
                         w: float, scale: float) -> None:
    """Trunk polygon (chest deeper than the waist), waist band, neck, head with hair."""
    hip, shoulder = j["hip"], j["shoulder"]
    up = (shoulder - hip) / np.linalg.norm(shoulder - hip)
    fwd = np.array([-up[1], up[0]])  # perpendicular to the trunk, pointing the way the walker faces
    chest, pelvis = identity.torso_depth / 2, identity.hip_depth / 2
    trunk = [
        shoulder + fwd * chest * 0.8 - up * 0.02,
        shoulder + fwd * chest * 0.2 + up * 0.015,
        shoulder - fwd * chest * 0.8 - up * 0.01,
        hip - fwd * pelvis - up * 0.02,
        hip + fwd * pelvis * 0.85 - up * 0.02,
        hip + fwd * chest * 0.75 + up * identity.torso * 0.45,
    ]
    cv2.fillPoly(canvas, [np.round([pt(p) for p in trunk]).astype(np.int32)], identity.shirt)
    # The waist band in trouser colour joins the legs to the trunk.
    band = 0.055 * w * scale
    _tapered(canvas, pt(hip - fwd * pelvis * 0.3), pt(hip + fwd * pelvis * 0.3), band, band, identity.trousers)
    _tapered(canvas, pt(shoulder), pt(j["neck_top"]), 0.028 * scale, 0.026 * scale, identity.skin)
    head_centre = j["neck_top"] + np.array([0.012, -identity.head * 0.42])
    axes = (int(identity.head * 0.40 * scale), int(identity.head * 0.52 * scale))
    cv2.ellipse(canvas, _int_point(pt(head_centre)), axes, -8, 0, 360, identity.skin, -1)
    # Hair covers the top and back of the head.
    hair_axes = (int(axes[0] * 1.04), int(axes[1] * 0.9))
    hair_centre = _int_point(pt(head_centre + np.array([-0.01, -0.012])))
    cv2.ellipse(canvas, hair_centre, hair_axes, -8, 150, 390, identity.hair, -1)


def _int_point(p: np.ndarray) -> tuple[int, int]:
    return int(round(p[0])), int(round(p[1]))


def _draw_figure(canvas: np.ndarray, pose: Pose, identity: WalkerIdentity, origin: np.ndarray, scale: float,
                 far_shade: float = FAR_SHADE) -> None:
    """Far limbs (shaded), trunk and head, then near limbs, so occlusion is right."""
    def pt(p: np.ndarray) -> np.ndarray:
        return origin + p * scale

    w = identity.limb_width
    _draw_arm(canvas, pt, pose.joints, "far", identity, w * scale, far_shade)
    _draw_leg(canvas, pt, pose.joints, "far", identity, w * scale, far_shade)
    _draw_trunk_and_head(canvas, pt, pose.joints, identity, w, scale)
    _draw_leg(canvas, pt, pose.joints, "near", identity, w * scale, 1.0)
    _draw_arm(canvas, pt, pose.joints, "near", identity, w * scale, 1.0)


# ---- the room ---------------------------------------------------------------------


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cell: int) -> np.ndarray:
    """Low-frequency noise in -1..1 (bicubic upsampling of a coarse random grid)."""
    coarse = rng.uniform(-1, 1, size=(shape[0] // cell + 2, shape[1] // cell + 2)).astype(np.float32)
    return cv2.resize(coarse, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)


def floor_line(height: int) -> int:
    """The image row where the walker's feet touch the floor."""
    return int(height * 0.86)


def _tiled_floor(rng: np.random.Generator, width: int, height: int, horizon: int) -> np.ndarray:
    """Floor below the horizon: mottled colour with tile joints in perspective."""
    rows = height - horizon
    colour = np.array(rng.integers(90, 160, size=3), np.float32)
    floor = np.empty((rows, width, 3), np.float32)
    floor[:] = colour
    floor *= 1.0 + 0.08 * _smooth_noise(rng, (rows, width), 12)[..., None]
    joint = (colour * 0.8).tolist()
    vanish = (width // 2, -int(height * 0.8))  # above the frame: joints converge upwards
    for x in np.linspace(-width, 2 * width, 19):
        cv2.line(floor, vanish, (int(x), rows), joint, 1, cv2.LINE_AA)
    for t in (0.08, 0.2, 0.38, 0.65):
        cv2.line(floor, (0, int(t * rows)), (width, int(t * rows)), joint, 1, cv2.LINE_AA)
    return floor


def _wall(rng: np.random.Generator, width: int, horizon: int) -> np.ndarray:
    """Wall above the horizon: plaster texture, light from above, a door and a framed picture."""
    colour = np.array(rng.integers(150, 215, size=3), np.float32)
    wall = np.empty((horizon, width, 3), np.float32)
    wall[:] = colour
    wall *= 1.0 + 0.06 * _smooth_noise(rng, (horizon, width), 24)[..., None]
    wall *= np.linspace(1.05, 0.92, horizon)[:, None, None]
    cv2.rectangle(wall, (0, horizon - 6), (width, horizon), (colour * 0.55).tolist(), -1)  # skirting board
    door_x = int(rng.uniform(0.1, 0.3) * width)
    cv2.rectangle(wall, (door_x, int(horizon * 0.18)), (door_x + width // 8, horizon - 6), (colour * 0.7).tolist(), -1)
    cv2.circle(wall, (door_x + width // 8 - 6, int(horizon * 0.6)), 2, (colour * 0.4).tolist(), -1)
    pic_x = int(rng.uniform(0.55, 0.8) * width)
    corners = (pic_x, int(horizon * 0.25)), (pic_x + width // 10, int(horizon * 0.5))
    cv2.rectangle(wall, *corners, rng.integers(40, 230, size=3).tolist(), -1)
    cv2.rectangle(wall, *corners, (40, 30, 20), 2)
    return wall


def render_background(width: int, height: int, seed: int = DEFAULT_SEED) -> np.ndarray:
    """The static room the walker crosses, (H, W, 3) uint8 RGB."""
    rng = np.random.default_rng(seed)
    horizon = int(height * 0.62)
    img = np.concatenate([_wall(rng, width, horizon), _tiled_floor(rng, width, height, horizon)], axis=0)
    img += rng.normal(0, 2.0, img.shape)  # fine texture
    return np.clip(img, 0, 255).astype(np.uint8)


# ---- the clip ---------------------------------------------------------------------


@dataclass(frozen=True)
class WalkerClip:
    frames: np.ndarray  # (T, H, W, 3) uint8 RGB
    masks: np.ndarray  # (T, H, W) bool: the true silhouette
    shadows: np.ndarray  # (T, H, W) bool: visible shadow outside the silhouette
    background: np.ndarray  # (H, W, 3) uint8: the empty room
    fps: float
    limbs: np.ndarray | None = None  # (T, H, W) uint8: which part each silhouette pixel shows (LIMBS, TRUNK)


def _shadow_map(shape: tuple[int, int], pose: Pose, origin: np.ndarray, scale: float) -> np.ndarray:
    """Darkening 0..1 of a soft shadow cast on the floor around the feet (light above, slightly behind)."""
    j = pose.joints
    feet = np.array([origin + j[k] * scale for k in ("near_heel", "near_toe", "far_heel", "far_toe")])
    x0, x1 = feet[:, 0].min(), feet[:, 0].max()
    ground = feet[:, 1].max()
    shade = np.zeros(shape, np.float32)
    centre = (int((x0 + x1) / 2 + 0.06 * scale), int(ground))
    axes = (int((x1 - x0) / 2 + 0.12 * scale), max(2, int(0.035 * scale)))
    cv2.ellipse(shade, centre, axes, 0, 0, 360, 1.0, -1)
    blur = max(3, int(0.03 * scale) * 2 + 1)
    return cv2.GaussianBlur(shade, (blur, blur), 0) * SHADOW_DARKENING


def walk_frames(width: int, identity: WalkerIdentity, fps: float, height: int) -> int:
    """How many frames the walker needs to cross from beyond one edge to beyond the other."""
    body = identity.height * height
    travel = width + 1.2 * body
    speed = identity.stride * body * identity.cadence  # px per second
    return int(math.ceil(travel / speed * fps))


def _part_labels(shape: tuple[int, int], pose: Pose, identity: WalkerIdentity, origin: np.ndarray,
                 scale: float) -> np.ndarray:
    """Supersampled labels: each pixel the part drawn last there, in the order of `_draw_figure` (its occlusion)."""
    white, w = _white(identity), identity.limb_width * scale
    labels = np.zeros(shape, np.uint8)

    def pt(p: np.ndarray) -> np.ndarray:
        return origin + p * scale

    parts = [
        (LIMBS["far arm"], lambda c: _draw_arm(c, pt, pose.joints, "far", white, w, 1.0)),
        (LIMBS["far leg"], lambda c: _draw_leg(c, pt, pose.joints, "far", white, w, 1.0)),
        (TRUNK, lambda c: _draw_trunk_and_head(c, pt, pose.joints, white, identity.limb_width, scale)),
        (LIMBS["near leg"], lambda c: _draw_leg(c, pt, pose.joints, "near", white, w, 1.0)),
        (LIMBS["near arm"], lambda c: _draw_arm(c, pt, pose.joints, "near", white, w, 1.0)),
    ]
    for label, draw in parts:
        canvas = np.zeros(shape, np.uint8)
        draw(canvas)
        labels[canvas > 0] = label
    return labels


def _majority(labels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Supersampled labels (1..5) -> each output pixel the label covering most of it."""
    cover = [cv2.resize((labels == v).astype(np.float32), size, interpolation=cv2.INTER_AREA) for v in range(1, 6)]
    return (np.argmax(cover, axis=0) + 1).astype(np.uint8)


def render_walk(identity: WalkerIdentity, size: tuple[int, int] = DEFAULT_SIZE, fps: float = DEFAULT_FPS,
                seed: int = DEFAULT_SEED, empty_seconds: float = EMPTY_SECONDS, limbs: bool = False) -> WalkerClip:
    """The walker crossing the room left to right, with empty frames before and after; `limbs` adds the
    per-part label masks (the ground truth for counting a limb drawn twice)."""
    width, height = size
    rng = np.random.default_rng(seed)
    background = render_background(width, height, seed)
    empty = int(round(empty_seconds * fps))
    total = 2 * empty + walk_frames(width, identity, fps, height)
    big = (height * SUPERSAMPLE, width * SUPERSAMPLE)
    frames = np.empty((total, height, width, 3), np.uint8)
    masks = np.zeros((total, height, width), bool)
    shadows = np.zeros((total, height, width), bool)
    labels = np.zeros((total, height, width), np.uint8) if limbs else None
    for t in range(total):
        image = background.astype(np.float32)
        placed = _place(WalkerPath(identity), t - empty, size, fps)
        if placed is not None:
            pose, origin, scale = placed
            cover, paint, dark = _figure_layer(identity, pose, origin, scale, size)
            image *= 1.0 - dark[..., None]
            image = image * (1.0 - cover[..., None]) + paint  # paint is premultiplied by coverage
            masks[t] = cover >= 0.5
            shadows[t] = (dark > SHADOW_VISIBLE) & ~masks[t]
            if labels is not None:
                parts = _part_labels(big, pose, identity, origin, scale)
                labels[t] = _majority(parts, (width, height)) * masks[t]
        image += rng.normal(0, 1.5, image.shape)  # sensor noise: the background model must cope
        frames[t] = np.clip(image, 0, 255).astype(np.uint8)
    return WalkerClip(frames, masks, shadows, background, fps, labels)


def _figure_layer(identity: WalkerIdentity, pose: Pose, origin: np.ndarray, scale: float,
                  size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One figure at output size: its coverage 0..1, its colours premultiplied by it, its shadow's darkening."""
    width, height = size
    big = (height * SUPERSAMPLE, width * SUPERSAMPLE)
    colour = np.zeros((*big, 3), np.uint8)
    coverage = np.zeros(big, np.uint8)
    _draw_figure(colour, pose, identity, origin, scale)
    _draw_figure(coverage, pose, _white(identity), origin, scale, far_shade=1.0)
    cover = cv2.resize(coverage, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    paint = cv2.resize(colour, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32)
    dark = cv2.resize(_shadow_map(big, pose, origin, scale), (width, height), interpolation=cv2.INTER_AREA)
    return cover, paint, dark


# ---- several walkers ---------------------------------------------------------------


@dataclass(frozen=True)
class WalkerPath:
    """How one of several walkers crosses the room."""

    identity: WalkerIdentity
    direction: int = 1  # +1: left to right; -1: right to left
    delay: int = 0  # frames after the clip's empty start before the walker enters
    nearer: float = 0.0  # feet this share of the frame height lower than the floor line: nearer the camera
    pause: tuple[int, int] = (0, 0)  # (after how many frames of walking, for how many) the walker stands still


@dataclass(frozen=True)
class CrowdClip:
    frames: np.ndarray  # (T, H, W, 3) uint8 RGB
    masks: np.ndarray  # (P, T, H, W) bool: each walker's visible silhouette (hidden parts belong to who is in front)
    shadows: np.ndarray  # (P, T, H, W) bool: each walker's visible shadow, outside every silhouette
    background: np.ndarray
    fps: float

    def union(self) -> np.ndarray:
        return self.masks.any(axis=0)


def _path_frames(path: WalkerPath, width: int, fps: float, height: int) -> int:
    return path.delay + walk_frames(width, path.identity, fps, height) + path.pause[1]


def _place(path: WalkerPath, step: int, size: tuple[int, int], fps: float) -> tuple[Pose, np.ndarray, float] | None:
    """The walker's pose, origin and scale (supersampled px) `step` frames after the start; None when out of view."""
    width, height = size
    identity = path.identity
    walked = step - path.delay - min(max(step - path.delay - path.pause[0], 0), path.pause[1])
    if step < path.delay or walked >= walk_frames(width, identity, fps, height):
        return None
    body = identity.height * height
    speed = identity.stride * body * identity.cadence  # px per second
    travel = -0.6 * body + walked / fps * speed
    pose = walker_pose(identity, (walked / fps * identity.cadence / 2.0) % 1.0)  # two steps per gait cycle
    if path.direction < 0:  # mirrored: the same walk towards the left
        pose = Pose({k: v * np.array([-1.0, 1.0]) for k, v in pose.joints.items()})
        travel = width - travel
    scale = body * SUPERSAMPLE
    ground = (floor_line(height) + path.nearer * height) * SUPERSAMPLE
    return pose, np.array([travel * SUPERSAMPLE, ground - pose.lowest() * scale]), scale


def render_crowd(paths: list[WalkerPath], size: tuple[int, int] = DEFAULT_SIZE, fps: float = DEFAULT_FPS,
                 seed: int = DEFAULT_SEED, empty_seconds: float = EMPTY_SECONDS) -> CrowdClip:
    """Several walkers in one room, drawn far to near (the nearer one hides the farther where they overlap),
    each with their own true visible silhouette and shadow."""
    width, height = size
    rng = np.random.default_rng(seed)
    background = render_background(width, height, seed)
    empty = int(round(empty_seconds * fps))
    total = 2 * empty + max(_path_frames(p, width, fps, height) for p in paths)
    order = sorted(range(len(paths)), key=lambda k: paths[k].nearer)
    frames = np.empty((total, height, width, 3), np.uint8)
    masks = np.zeros((len(paths), total, height, width), bool)
    darkness = np.zeros((len(paths), height, width), np.float32)
    shadows = np.zeros_like(masks)
    for t in range(total):
        image = background.astype(np.float32)
        darkness[:] = 0.0
        for k in order:
            placed = _place(paths[k], t - empty, size, fps)
            if placed is None:
                continue
            cover, paint, darkness[k] = _figure_layer(paths[k].identity, *placed, size)
            image *= 1.0 - darkness[k][..., None]
            image = image * (1.0 - cover[..., None]) + paint
            masks[k, t] = cover >= 0.5
            masks[:, t] &= ~masks[k, t] | (np.arange(len(paths)) == k)[:, None, None]  # nearer hides farther
        anyone = masks[:, t].any(axis=0)
        shadows[:, t] = (darkness > SHADOW_VISIBLE) & ~anyone
        image += rng.normal(0, 1.5, image.shape)
        frames[t] = np.clip(image, 0, 255).astype(np.uint8)
    return CrowdClip(frames, masks, shadows, background, fps)


def _white(identity: WalkerIdentity) -> WalkerIdentity:
    """The same figure with every colour white: drawn alone it gives each pixel's coverage."""
    white = (255, 255, 255)
    return replace(identity, skin=white, hair=white, shirt=white, trousers=white, shoes=white)


def render_walker(identity: WalkerIdentity, size: tuple[int, int] = DEFAULT_SIZE, fps: float = DEFAULT_FPS,
                  seed: int = DEFAULT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Colour frames (T, H, W, 3) uint8 RGB and true silhouettes (T, H, W) bool."""
    clip = render_walk(identity, size, fps, seed)
    return clip.frames, clip.masks


# ---- the bundled clip ---------------------------------------------------------------

# No metadata, no encoder tag or x264 settings (SEI), no chapters: the clip carries only pictures.
_CLEAN_OUTPUT = ["-map_metadata", "-1", "-map_chapters", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact",
                 "-metadata:s:v", "encoder= ", "-bsf:v", "filter_units=remove_types=6", "-movflags", "+faststart"]


def write_clip(path: Path, frames: np.ndarray, fps: float, crf: int = 23) -> None:
    """Write RGB frames as an H.264 MP4 with imageio-ffmpeg's ffmpeg (temporary file, then rename)."""
    import imageio_ffmpeg

    path = Path(path)
    temp = path.with_name(f".{path.name}.part")
    height, width = frames.shape[1:3]
    writer = imageio_ffmpeg.write_frames(
        str(temp), (width, height), fps=fps, codec="libx264", pix_fmt_out="yuv420p", quality=None,
        macro_block_size=2, output_params=["-crf", str(crf), "-preset", "slow", *_CLEAN_OUTPUT, "-f", "mp4"],
    )
    try:
        writer.send(None)
        for frame in frames:
            writer.send(np.ascontiguousarray(frame))
        writer.close()
        temp.replace(path)
    finally:
        temp.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.demo_walker",
        description="Render the procedural demo walker to an MP4 (the bundled demo clip).",
    )
    parser.add_argument("output", type=Path, help="the MP4 to write, e.g. resources/demo_walker.mp4")
    parser.add_argument("--identity", type=int, default=None,
                        help="seed of a random walker identity (default: the standard walker)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the room and the sensor noise")
    parser.add_argument("--size", default=f"{DEFAULT_SIZE[0]}x{DEFAULT_SIZE[1]}", help="WIDTHxHEIGHT")
    args = parser.parse_args(argv)
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        parser.error(f"--size must look like 480x270, not {args.size!r}")
    identity = WalkerIdentity() if args.identity is None else random_identity(args.identity)
    clip = render_walk(identity, (width, height), seed=args.seed)
    write_clip(args.output, clip.frames, clip.fps)
    print(f"wrote {args.output}: {len(clip.frames)} frames, {width}x{height}, {clip.fps:g} fps")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
