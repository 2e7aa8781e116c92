"""Measure the camera-motion estimator (gaitanon_core.video.camera_motion) on handheld CASIA-B clips.

- accuracy: each of the four colour clips filmed again by training.handheld_clips
  (seed 1..4, written as H.264 and read back), the estimate against the known
  path, with the people masked out (the static clip's median-background
  foreground, carried into the handheld frames by the true path) and without,
  as the largest corner displacement (px) between estimated and true
  transforms: per reliable step (frame t-1 -> t); over the compensated
  background's farthest span (t-8 -> t, reliable steps only) as chained and as
  the background warps it (measured directly from the chain, falling back to
  it); chained to the first frame (failed steps bridged); mean and max over
  the clip, how many steps failed (never warped across) and how many frames
  were flagged (tied to no neighbour: the caller covers their people);
- masks without a static background: the foreground against the compensated
  background (people masked in the neighbours, or not), warped back onto the
  static clip and compared with the static clip's own median-background
  foreground (IoU, every sixth frame with someone in view);
- speed on one core (CPU time of this process): milliseconds per frame of the
  estimator and of one compensated background (NEIGHBOUR_OFFSETS each side),
  at 640x480 and 1280x720 (handheld frames resized).

Usage: nice -n 10 .venv/bin/python scripts/measure_camera_motion.py
"""

from __future__ import annotations

import argparse
import itertools
import os
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from gaitanon_core.paths import shared_data_dir
from gaitanon_core.people.background import build_background, sample_indices
from gaitanon_core.people.moving_background import (
    NEIGHBOUR_OFFSETS, compensated_background, foreground, neighbour_transform,
)
from gaitanon_core.video.camera_motion import CameraMotion, corner_error, estimate_camera_motion
from gaitanon_core.video.stream import read_frames
from training.handheld_clips import (
    load_truth, make_handheld, read_static_clip, warp_to_handheld, warp_to_static, write_handheld,
)

CLIPS = ("002", "003", "004", "006")
SIZES = ((640, 480), (1280, 720))
TIMED_FRAMES = 40
MASK_EVERY = 6
MIN_PERSON_PX = 500  # frames where less of a person is in view are left out of the mask figures
SPAN = max(NEIGHBOUR_OFFSETS)  # the farthest neighbour the compensated background warps in


Align = Callable[[int, int], np.ndarray]  # (source, target) -> (3, 3) source -> target


def span_errors(align: Align, motion: CameraMotion, transforms: np.ndarray, shape: tuple[int, int], span: int
                ) -> np.ndarray:
    """Corner error of frame t-span -> t against the truth, for every t joined to t-span by reliable steps
    (the only spans anything is warped over)."""
    return np.array([corner_error(align(t - span, t), transforms[t] @ np.linalg.inv(transforms[t - span]), shape)
                     for t in range(span, len(transforms)) if t - span in motion.linked(t, span)])


def chain_errors(motion: CameraMotion, transforms: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    return np.array([corner_error(motion.to_first[t], transforms[0] @ np.linalg.inv(transforms[t]), shape)
                     for t in range(len(transforms))])


def static_people(frames: np.ndarray) -> list[np.ndarray]:
    """The static clip's people: its median-background foreground."""
    background = build_background(frames[sample_indices(len(frames))])
    return [background.foreground(frame) for frame in frames]


def mask_ious(filmed: list[np.ndarray], people: list[np.ndarray], motion: CameraMotion, static: list[np.ndarray],
              transforms: np.ndarray, source_size: tuple[int, int]) -> np.ndarray:
    """IoU of the handheld foreground (against the compensated background), warped back, with the static
    clip's people, where the handheld frame sees them (every MASK_EVERY frames with someone in view)."""
    ious = []
    for t in range(0, len(filmed), MASK_EVERY):
        found = foreground(filmed[t], compensated_background(filmed, people, motion, t))
        seen = warp_to_static(np.ones(found.shape, bool), transforms[t], source_size)
        truth = static[t] & seen
        if np.count_nonzero(truth) >= MIN_PERSON_PX:
            back = warp_to_static(found, transforms[t], source_size)
            ious.append(np.count_nonzero(back & truth) / np.count_nonzero(back | truth))
    return np.array(ious)


def measure_clip(source: Path, seed: int, folder: Path, masked: bool) -> tuple[list[np.ndarray], dict[str, float]]:
    """The handheld clip's decoded frames and its accuracy figures (people masked out or not)."""
    frames, fps = read_static_clip(source)
    video = folder / f"{source.stem}-handheld.mp4"
    transforms, source_size = load_truth(write_handheld(make_handheld(frames, fps, seed), video))
    filmed = [frame.image for frame in read_frames(video)]
    shape = filmed[0].shape[:2]
    static = static_people(frames)
    people = [warp_to_handheld(mask, transform, shape[::-1]) for mask, transform in zip(static, transforms)]
    if not masked:
        people = [None] * len(filmed)
    motion = estimate_camera_motion(filmed, people)
    figures = {"frames": len(filmed), "flagged": int(motion.flagged.sum()),
               "unreliable": int((~motion.step_reliable).sum())}
    direct = partial(neighbour_transform, filmed, people, motion)
    for name, errors in (("step", span_errors(motion.between, motion, transforms, shape, 1)),
                         ("span", span_errors(motion.between, motion, transforms, shape, SPAN)),
                         ("direct", span_errors(direct, motion, transforms, shape, SPAN)),
                         ("chain", chain_errors(motion, transforms, shape))):
        figures[f"{name} mean"], figures[f"{name} max"] = float(errors.mean()), float(errors.max())
    ious = mask_ious(filmed, people, motion, static, transforms, source_size)
    figures["mask IoU mean"], figures["mask IoU min"] = float(ious.mean()), float(ious.min())
    return filmed, figures


def time_size(frames: list[np.ndarray], size: tuple[int, int]) -> tuple[float, float]:
    """(estimator ms per frame, compensated background ms per frame) at `size`, CPU time."""
    resized = [cv2.resize(frame, size, interpolation=cv2.INTER_CUBIC) for frame in frames[:TIMED_FRAMES]]
    started = time.process_time()
    motion = estimate_camera_motion(resized)
    estimate_ms = (time.process_time() - started) / (len(resized) - 1) * 1000
    middle = range(SPAN, len(resized) - SPAN, 4)
    started = time.process_time()
    for t in middle:
        compensated_background(resized, [None] * len(resized), motion, t)
    return estimate_ms, (time.process_time() - started) / len(middle) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=shared_data_dir(), help="the research data folder")
    args = parser.parse_args(argv)
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    cv2.setNumThreads(1)
    print("corner error (px) of the estimate against the true path; step: t-1 -> t, "
          f"span: t-{SPAN} -> t chained, direct: the same as the background warps it, chain: t -> frame 0")
    columns = [f"{name} {stat}" for name in ("step", "span", "direct", "chain") for stat in ("mean", "max")]
    columns += ["mask IoU mean", "mask IoU min"]
    print(f"{'clip':<22}{'people':>8}{'frames':>7}{'flagged':>8}{'failed steps':>13}"
          + "".join(f"{column:>14}" for column in columns))
    timed = None
    with tempfile.TemporaryDirectory(prefix="gaitanon-handheld-") as folder:
        for (seed, subject), masked in itertools.product(enumerate(CLIPS, start=1), (True, False)):
            source = args.data / "clips" / f"{subject}-nm-01-090.avi"
            filmed, f = measure_clip(source, seed, Path(folder), masked)
            timed = timed or filmed
            people = "masked" if masked else "in"
            print(f"{source.stem + ' seed ' + str(seed):<22}{people:>8}{f['frames']:>7}{f['flagged']:>8}"
                  f"{f['unreliable']:>13}" + "".join(f"{f[column]:>14.2f}" for column in columns))
    print(f"one core, CPU time per frame ({TIMED_FRAMES} handheld frames resized); load average "
          + ", ".join(f"{value:.1f}" for value in os.getloadavg()))
    for size in SIZES:
        estimate_ms, background_ms = time_size(timed, size)
        print(f"  {size[0]}x{size[1]}: estimator {estimate_ms:.1f} ms, compensated background "
              f"({2 * len(NEIGHBOUR_OFFSETS)} neighbours) {background_ms:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
