"""Handheld versions of static clips, with the camera's true path: test data for a moving camera.

A static clip is filmed again by a virtual handheld camera: a window that pans
along a smooth random path, turns (up to 5 degrees), zooms slowly (within 10 %),
and shakes by 1-3 output pixels a frame. The window is sampled from the source
magnified (bicubic), so it can move without ever leaving the picture. Each frame
is blurred along the path during its exposure and carries a little rolling-
shutter skew (lower rows are read later). The transform of each frame (source
pixel coordinates -> this frame's, at its middle row, averaged over the exposure) is known,
so masks found in the handheld clip can be warped back onto the static clip's
and compared.

    python -m training.handheld_clips ../shared/data/clips/002-nm-01-090.avi --out /tmp/handheld --seed 1
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from gaitanon_core.people.background import sample_indices
from gaitanon_core.people.silhouettes import ClipSegmenter
from gaitanon_core.video.probing import probe
from gaitanon_core.video.stream import read_frames
from training.demo_walker import write_clip

MAGNIFICATION = 2.0  # output pixels per source pixel at zoom 1 (the "upscale")
WINDOW = 0.7  # the window's side as a share of the source's at zoom 1: room to pan and turn
MAX_ROTATION_DEG = 5.0
MAX_ZOOM = 1.1
JITTER_PX = (1.0, 3.0)  # hand shake: an offset of 1-3 output pixels, new each frame
PAN_PERIODS_S = (2.0, 8.0)  # the smooth path is a sum of slow waves with periods in this range
EXPOSURE = 0.5  # frames: the shutter is open for half a frame (motion blur)
BLUR_SAMPLES = 5
READOUT = 0.2  # frames: the sensor reads its top row this long before its bottom row


@dataclass(frozen=True)
class CameraPath:
    """Per-frame window parameters in source pixels; between frames they are interpolated linearly."""

    centre: np.ndarray  # (T, 2) the window's centre
    angle: np.ndarray  # (T,) radians, counter-clockwise turn of the picture
    zoom: np.ndarray  # (T,) 1..MAX_ZOOM

    def at(self, time: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(centre x, centre y, angle, zoom) at fractional frame times."""
        frames = np.arange(len(self.angle))
        return tuple(np.interp(time, frames, values) for values in  # type: ignore[return-value]
                     (self.centre[:, 0], self.centre[:, 1], self.angle, self.zoom))


@dataclass(frozen=True)
class HandheldClip:
    frames: np.ndarray  # (T, H, W, 3) uint8 RGB
    transforms: np.ndarray  # (T, 3, 3) source pixel coordinates -> each frame's
    source_size: tuple[int, int]  # (width, height) of the static clip
    fps: float


def output_size(source_size: tuple[int, int]) -> tuple[int, int]:
    """(width, height) of the handheld frames: the window at zoom 1, magnified (even, for H.264)."""
    width, height = (int(round(side * WINDOW * MAGNIFICATION / 2)) * 2 for side in source_size)
    return width, height


def _slow_waves(rng: np.random.Generator, count: int, fps: float, limit: float) -> np.ndarray:
    """A smooth random signal of `count` samples within +-limit: three waves of random period and phase."""
    t = np.arange(count) / fps
    periods = rng.uniform(*PAN_PERIODS_S, size=3)
    signal = sum(np.sin(2 * np.pi * t / p + rng.uniform(0, 2 * np.pi)) * rng.uniform(0.5, 1) for p in periods)
    return signal / max(1e-9, np.abs(signal).max()) * limit


def random_path(rng: np.random.Generator, count: int, fps: float, source_size: tuple[int, int]) -> CameraPath:
    """A smooth pan, turn and zoom plus per-frame shake, kept so the window never leaves the source."""
    width, height = source_size
    rotation = np.radians(MAX_ROTATION_DEG)
    window = np.array([width, height]) * WINDOW
    # The turned window's bounding box at zoom 1 (zooming in only shrinks it) sets how far it can pan.
    box = np.abs([[np.cos(rotation), np.sin(rotation)], [np.sin(rotation), np.cos(rotation)]]) @ window
    shake = JITTER_PX[1] / MAGNIFICATION
    room = (np.array([width, height]) - box) / 2 - shake
    angle = _slow_waves(rng, count, fps, rotation * 0.95)
    angle += rng.uniform(-1, 1, count) * rotation * 0.05  # a little rotational shake
    zoom = 1 + (MAX_ZOOM - 1) * (0.5 - 0.5 * np.cos(np.linspace(0, rng.uniform(0.5, 1.5) * np.pi, count)))
    direction = rng.uniform(0, 2 * np.pi, count)
    jitter = rng.uniform(*JITTER_PX, count)[:, None] * np.stack([np.cos(direction), np.sin(direction)], 1)
    centre = np.stack([width / 2 + _slow_waves(rng, count, fps, room[0]),
                       height / 2 + _slow_waves(rng, count, fps, room[1])], 1)
    return CameraPath(centre + jitter / (MAGNIFICATION * zoom[:, None]), angle, zoom)


def window_transform(path: CameraPath, frame: float, size: tuple[int, int]) -> np.ndarray:
    """(3, 3) source pixel coordinates -> pixel coordinates of an output frame of `size` at time `frame`."""
    cx, cy, angle, zoom = (float(v) for v in path.at(np.array(frame)))
    k = MAGNIFICATION * zoom
    rotate = k * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    matrix = np.eye(3)
    matrix[:2, :2] = rotate
    matrix[:2, 2] = (np.array(size) - 1) / 2 - rotate @ np.array([cx, cy])
    return matrix


def _exposure_offsets() -> np.ndarray:
    return np.linspace(-EXPOSURE / 2, EXPOSURE / 2, BLUR_SAMPLES)


def exposure_transform(path: CameraPath, frame: int, size: tuple[int, int]) -> np.ndarray:
    """A frame's true transform: the window's, averaged over its exposure.

    A blurred frame shows where the window was on average: when the shake turns
    at a frame, the window at mid-exposure is off that average by a few tenths of a pixel.
    """
    return np.mean([window_transform(path, frame + offset, size) for offset in _exposure_offsets()], axis=0)


def _sample_maps(path: CameraPath, time: float, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Where each output pixel looks in the source, each row at its own read-out time (rolling shutter)."""
    width, height = size
    rows = np.arange(height, dtype=np.float64)
    cx, cy, angle, zoom = path.at(time + READOUT * (rows / (height - 1) - 0.5))
    dx = np.arange(width) - (width - 1) / 2
    dy = (rows - (height - 1) / 2)[:, None]
    cos, sin, k = np.cos(angle)[:, None], np.sin(angle)[:, None], (MAGNIFICATION * zoom)[:, None]
    map_x = cx[:, None] + (cos * dx + sin * dy) / k
    map_y = cy[:, None] + (-sin * dx + cos * dy) / k
    return map_x.astype(np.float32), map_y.astype(np.float32)


def film_frame(source: np.ndarray, path: CameraPath, frame: int, size: tuple[int, int]) -> np.ndarray:
    """One handheld frame: the window averaged over the exposure (motion blur), each row read in turn."""
    total = np.zeros((size[1], size[0], 3), np.float32)
    for offset in _exposure_offsets():
        map_x, map_y = _sample_maps(path, frame + offset, size)
        total += cv2.remap(source, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    return np.clip(total / BLUR_SAMPLES + 0.5, 0, 255).astype(np.uint8)


def make_handheld(frames: np.ndarray, fps: float, seed: int) -> HandheldClip:
    """The handheld version of a static clip's frames ((T, H, W, 3) RGB uint8), its path drawn from `seed`."""
    source_size = (frames.shape[2], frames.shape[1])
    size = output_size(source_size)
    path = random_path(np.random.default_rng(seed), len(frames), fps, source_size)
    filmed = np.stack([film_frame(image, path, t, size) for t, image in enumerate(frames)])
    transforms = np.stack([exposure_transform(path, t, size) for t in range(len(frames))])
    return HandheldClip(filmed, transforms, source_size, fps)


def read_static_clip(path: Path, limit: int | None = None) -> tuple[np.ndarray, float]:
    """(frames, fps) of a clip; at most `limit` frames from its start."""
    frames = []
    for frame in read_frames(path):
        if limit is not None and len(frames) == limit:
            break
        frames.append(frame.image)
    return np.stack(frames), probe(path).fps


def write_handheld(clip: HandheldClip, video: Path) -> Path:
    """Write the clip as an H.264 MP4 and its true transforms beside it (same name, .npz); returns the .npz."""
    write_clip(video, clip.frames, clip.fps)
    truth = video.with_suffix(".npz")
    np.savez(truth, transforms=clip.transforms, source_size=np.array(clip.source_size))
    return truth


def load_truth(truth: Path) -> tuple[np.ndarray, tuple[int, int]]:
    """(transforms (T, 3, 3), source (width, height)) as `write_handheld` stored them."""
    with np.load(truth) as data:
        return data["transforms"], tuple(int(v) for v in data["source_size"])  # type: ignore[return-value]


def warp_to_static(image: np.ndarray, transform: np.ndarray, source_size: tuple[int, int]) -> np.ndarray:
    """A handheld frame's mask (bool) or picture, put back into the static clip's pixel grid.

    Static pixels this frame did not see come out False (mask) or black (picture).
    """
    back = np.linalg.inv(transform)
    if image.dtype == bool:
        warped = cv2.warpPerspective(image.astype(np.uint8), back, source_size, flags=cv2.INTER_NEAREST)
        return warped > 0
    return cv2.warpPerspective(image, back, source_size, flags=cv2.INTER_LINEAR)


def resegment_in_static(frames: list[np.ndarray], transforms: np.ndarray, static: np.ndarray) -> list[np.ndarray]:
    """Person masks of handheld frames (an anonymized output, say) put back into the static clip's grid and
    segmented against the static clip's (`static`, (T, H, W, 3)) own background, as its own frames are; what a
    frame did not see is filled from that background (nothing to find there)."""
    segmenter = ClipSegmenter.from_frames([static[i] for i in sample_indices(len(static))])
    background = segmenter.background.image
    source_size = (background.shape[1], background.shape[0])
    backs = []
    for image, transform in zip(frames, transforms):
        seen = warp_to_static(np.ones(image.shape[:2], bool), transform, source_size)
        backs.append(np.where(seen[..., None], warp_to_static(image, transform, source_size), background))
    return [mask.person for mask in segmenter.track(enumerate(backs))]


def in_view(mask: np.ndarray, transform: np.ndarray, frame_size: tuple[int, int], margin: int = 4) -> bool:
    """Is the static clip's `mask` wholly inside the handheld frame (of `frame_size`, (width, height)) with
    `margin` px to spare?"""
    inside = np.zeros((frame_size[1], frame_size[0]), np.uint8)
    inside[margin:-margin, margin:-margin] = 1
    warped = warp_to_handheld(mask, transform, frame_size)
    return bool(mask.any()) and int(warped.sum()) > 0 and not (warped & (inside == 0)).any() and \
        warped.sum() >= 0.9 * mask.sum() * abs(np.linalg.det(transform[:2, :2]))


def warp_to_handheld(image: np.ndarray, transform: np.ndarray, frame_size: tuple[int, int]) -> np.ndarray:
    """A static clip's mask (bool) or picture as a handheld frame of `frame_size` (width, height) frames it."""
    if image.dtype == bool:
        return cv2.warpPerspective(image.astype(np.uint8), transform, frame_size, flags=cv2.INTER_NEAREST) > 0
    return cv2.warpPerspective(image, transform, frame_size, flags=cv2.INTER_LINEAR)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.handheld_clips",
        description="Film static clips again with a virtual handheld camera; write each as an MP4 and its "
                    "true per-frame transforms as an .npz beside it.",
    )
    parser.add_argument("clips", type=Path, nargs="+", help="static source clips")
    parser.add_argument("--out", type=Path, required=True, help="folder for the handheld clips")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first clip's camera path (then +1 each)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for number, source in enumerate(args.clips):
        frames, fps = read_static_clip(source)
        clip = make_handheld(frames, fps, args.seed + number)
        video = args.out / f"{source.stem}-handheld.mp4"
        write_handheld(clip, video)
        print(f"wrote {video}: {len(clip.frames)} frames, {clip.frames.shape[2]}x{clip.frames.shape[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
