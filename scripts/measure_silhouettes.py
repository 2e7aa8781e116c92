"""Measure the silhouette segmenter (gaitanon_core.silhouettes); prints the figures of README "Silhouettes".

- IoU against CASIA-B's own silhouettes on the four colour clips (normalised the
  dataset's way, frame by frame): mean and worst frame per clip, on the tuning
  clips (002, 003), the held-out clips (004, 006) and all four; for the plain
  median-background reference of the data README, for our person mask, and for
  our person mask plus shadow (the dataset's silhouettes keep the shadow);
- the demo walker: IoU with the true silhouette in every frame where the figure
  is wholly in view, and of the shadow with the true shadow;
- speed (CPU time of this process): milliseconds per frame of segmenting
  (background built beforehand) and per call of the learned model, and the
  background build time; at 320x240 (the clips), 480x270 (the demo walker) and
  640x480 (the pipeline's target size, the demo walker rendered larger).

Usage: nice -n 10 .venv/bin/python scripts/measure_silhouettes.py [--png /tmp/worst]
(--png writes the worst frames of each clip: frame, our outline, dataset vs ours at 64x64).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import cv2
import numpy as np

from gaitanon_core.people.background import sample_indices
from gaitanon_core.shape.casiab import load_walk
from training.demo_walker import DEFAULT_SIZE, WalkerIdentity, random_identity, render_walk
from gaitanon_core.people.person_mask import Box
from training.silhouette_eval import (
    CLIP_ALIGNMENT, HELD_OUT_CLIPS, TUNING_CLIPS, casiab_ious, iou, plain_background_masks, read_clip,
)
from gaitanon_core.people.silhouettes import ClipSegmenter, FrameMask
from gaitanon_core.shape.casiab import normalise_like_casiab


def segment_timed(frames: list[np.ndarray]) -> tuple[list[FrameMask], float, float, float]:
    """Masks, background build seconds, segment ms per frame, learned model ms per call.

    Times are this process's CPU time (the model runs on one thread): on a shared
    machine wall-clock time measures the neighbours' load as much as ours.
    """
    started = time.process_time()
    segmenter = ClipSegmenter.from_frames([frames[i] for i in sample_indices(len(frames))])
    build_s = time.process_time() - started
    model_time, model_calls = 0.0, 0
    predict = segmenter.model.predict

    def timed_predict(*args, **kwargs):
        nonlocal model_time, model_calls
        t = time.process_time()
        result = predict(*args, **kwargs)
        model_time += time.process_time() - t
        model_calls += 1
        return result

    segmenter.model.predict = timed_predict  # count the model's share without changing the segmenter
    started = time.process_time()
    masks = list(segmenter.track(enumerate(frames)))
    per_frame = (time.process_time() - started) / len(frames) * 1000
    return masks, build_s, per_frame, model_time / max(1, model_calls) * 1000


def summary(values: dict[str, np.ndarray], clips: tuple[str, ...]) -> str:
    joined = np.concatenate([values[c] for c in clips])
    return f"mean {joined.mean():.3f} worst {joined.min():.3f}"


def write_worst(folder: Path, subject: str, frames: list[np.ndarray], masks: list[FrameMask],
                ious: np.ndarray, count: int = 3) -> None:
    """PNG per worst frame: the frame with our outline (shadow in blue), then dataset (red) vs ours (green)."""
    folder.mkdir(parents=True, exist_ok=True)
    alignment = CLIP_ALIGNMENT[subject]
    truth = load_walk(subject, "nm-01", "090")
    for k in np.argsort(ious)[:count]:
        mask = masks[alignment.first_frame + k]
        picture = frames[alignment.first_frame + k].copy()
        picture[mask.shadow] = (picture[mask.shadow] * 0.5 + np.array([0, 0, 127])).astype(np.uint8)
        outline, _ = cv2.findContours(mask.person.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(picture, outline, -1, (0, 255, 0), 1)
        box = Box.of_mask(mask.person | mask.shadow)
        if box is not None:
            picture = picture[box.grown(0.1, picture.shape[:2]).slices()]
        picture = cv2.resize(picture, (int(256 * picture.shape[1] / picture.shape[0]), 256))
        compare = np.zeros((64, 64, 3), np.uint8)
        compare[..., 0] = truth[k] * 255
        compare[..., 1] = normalise_like_casiab(mask.person) * 255
        compare = cv2.resize(compare, (256, 256), interpolation=cv2.INTER_NEAREST)
        name = folder / f"{subject}_frame{alignment.first_frame + k:03d}_iou{ious[k]:.2f}.png"
        cv2.imwrite(str(name), cv2.cvtColor(np.concatenate([picture, compare], axis=1), cv2.COLOR_RGB2BGR))


def measure_casiab(png: Path | None) -> None:
    baseline, ours, with_shadow = {}, {}, {}
    for subject in CLIP_ALIGNMENT:
        frames = read_clip(subject)
        masks, build_s, per_frame, model_ms = segment_timed(frames)
        baseline[subject] = casiab_ious(plain_background_masks(frames), subject)
        ours[subject] = casiab_ious([m.person for m in masks], subject)
        with_shadow[subject] = casiab_ious([m.person | m.shadow for m in masks], subject)
        print(f"clip {subject} ({frames[0].shape[1]}x{frames[0].shape[0]}, {len(frames)} frames): "
              f"plain {baseline[subject].mean():.3f}/{baseline[subject].min():.3f}  "
              f"ours {ours[subject].mean():.3f}/{ours[subject].min():.3f}  "
              f"ours+shadow {with_shadow[subject].mean():.3f}/{with_shadow[subject].min():.3f} (mean/worst IoU); "
              f"CPU: segment {per_frame:.1f} ms/frame, learned model {model_ms:.1f} ms/call, "
              f"background {build_s:.2f} s")
        if png is not None:
            write_worst(png, subject, frames, masks, ours[subject])
    for label, clips in (("tuning 002+003", TUNING_CLIPS), ("held-out 004+006", HELD_OUT_CLIPS),
                         ("all four", tuple(CLIP_ALIGNMENT))):
        print(f"{label:17s} plain: {summary(baseline, clips)} | ours: {summary(ours, clips)} | "
              f"ours+shadow: {summary(with_shadow, clips)}")


def measure_demo_walker(identities: int = 4) -> None:
    """The segmenter on rendered walkers: every wholly visible frame must be found."""
    for n in range(identities + 1):
        identity = WalkerIdentity() if n in (0, identities) else random_identity(n)
        clip = render_walk(identity, size=(640, 480) if n == identities else DEFAULT_SIZE, seed=n + 3)
        masks, _, per_frame, _ = segment_timed(list(clip.frames))
        whole = [t for t, m in enumerate(clip.masks) if m.any() and not (m[:, 0].any() or m[:, -1].any())]
        person = np.array([iou(masks[t].person, clip.masks[t]) for t in whole])
        shadow = np.array([iou(masks[t].shadow, clip.shadows[t]) for t in whole])
        found = sum(masks[t].segmenter != "none" and person[k] > 0.5 for k, t in enumerate(whole))
        print(f"demo walker {n}: found in {found}/{len(whole)} wholly visible frames, person IoU mean "
              f"{person.mean():.3f} worst {person.min():.3f}, shadow IoU mean {shadow.mean():.3f}; "
              f"{per_frame:.1f} ms/frame at {clip.frames.shape[2]}x{clip.frames.shape[1]} (CPU)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--png", type=Path, default=None, help="write PNGs of each clip's worst frames here")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; times are CPU time of this process")
    measure_casiab(args.png)
    measure_demo_walker()


if __name__ == "__main__":
    main()
