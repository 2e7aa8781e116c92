"""Measure the moving-camera route on handheld versions of the CASIA-B clips; prints README "Moving camera".

For each of the four colour clips: a handheld version (`training.handheld_clips`,
the seeds of SEEDS) is anonymized, and so is the static clip. Per clip:

- person IoU: the route's people's own silhouettes on the handheld clip (not the
  motion no track follows, which is covered and flagged), warped back
  to the static clip's grid with the true transforms and normalised the
  dataset's way, against CASIA-B's own silhouettes; beside it the static run's
  figure on the same frames (those where the body is wholly in both views);
- changed: the output warped back and re-segmented against the static clip's
  background, XOR with the static clip's own silhouette over its area: the
  share of whole-body frames changed by >= 15 % (static run beside it);
- covered / flagged frames of the report;
- speed: wall time of the handheld clip and of the static clip enlarged to the
  same size (a static camera at the handheld size), one after the other.

Usage: nice -n 10 .venv/bin/python scripts/measure_handheld.py [--clips 002 003 004 006] [--out /tmp/handheld]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from gaitanon_core import pipeline
from gaitanon_core.pipeline.events import PreviewFrame
from gaitanon_core.report import ClipReport
from training.demo_walker import write_clip
from training.handheld_clips import (
    in_view, make_handheld, read_static_clip, resegment_in_static, warp_to_static, write_handheld,
)
from training.silhouette_eval import CLIP_ALIGNMENT, casiab_ious, clip_path

MIN_CHANGE = 0.15  # as tests/test_cli_anonymize.py: XOR >= 15 % of the area ...
# Of seeds 1-12, those whose path keeps the walker's whole body in the window longest (the window is 70 % of
# the picture, and most paths cut the feet in most frames): 17, 47, 28 and 23 whole-body frames.
SEEDS = (4, 12, 3, 7)


def anonymized(source: Path, target: Path) -> tuple[ClipReport, list[PreviewFrame], float]:
    """The report, every frame as the review sees it, and the wall time."""
    frames: list[PreviewFrame] = []
    started = time.perf_counter()
    report = pipeline.anonymize_clip(source, target, pipeline.AnonymizeOptions(seed=0), on_frame=frames.append)
    return report, frames, time.perf_counter() - started


def changed_shares(masks: list[np.ndarray], originals: list[np.ndarray], frames: list[int]) -> np.ndarray:
    """XOR of re-segmented outputs with the static clip's own silhouettes, over their area, on `frames`."""
    return np.array([np.count_nonzero(masks[t] ^ originals[t]) / np.count_nonzero(originals[t]) for t in frames])


def measure_clip(subject: str, seed: int, folder: Path) -> dict[str, float]:
    static, fps = read_static_clip(clip_path(subject))
    clip = make_handheld(static, fps, seed)
    handheld = folder / f"{subject}-handheld.mp4"
    write_handheld(clip, handheld)
    size = (clip.frames.shape[2], clip.frames.shape[1])
    enlarged = folder / f"{subject}-static-enlarged.mp4"
    write_clip(enlarged, np.stack([cv2.resize(f, size, interpolation=cv2.INTER_CUBIC) for f in static]), fps)
    moving_report, moving, moving_s = anonymized(handheld, folder / f"{subject}-handheld-out.mp4")
    static_report, still, _ = anonymized(clip_path(subject), folder / f"{subject}-out.mp4")
    _, _, enlarged_s = anonymized(enlarged, folder / f"{subject}-static-enlarged-out.mp4")

    source_size = (static.shape[2], static.shape[1])
    originals = [f.original_silhouette for f in still]
    whole = [t for t, f in enumerate(still) if f.original_silhouette.sum() > 200 and not _at_edge(originals[t])
             and in_view(originals[t], clip.transforms[t], size)]
    back = [warp_to_static(f.people_silhouette, clip.transforms[t], source_size) for t, f in enumerate(moving)]
    alignment = CLIP_ALIGNMENT[subject]
    dataset = [k for k in range(alignment.frames) if alignment.first_frame + k in whole]
    handheld_masks = resegment_in_static([f.anonymized for f in moving], clip.transforms, static)
    static_masks = resegment_in_static([f.anonymized for f in still], np.tile(np.eye(3), (len(still), 1, 1)), static)
    return {
        "frames": len(static), "whole": len(whole),
        "iou_handheld": float(casiab_ious(back, subject)[dataset].mean()),
        "iou_static": float(casiab_ious([f.people_silhouette for f in still], subject)[dataset].mean()),
        "changed_handheld": float(np.mean(changed_shares(handheld_masks, originals, whole) >= MIN_CHANGE)),
        "changed_static": float(np.mean(changed_shares(static_masks, originals, whole) >= MIN_CHANGE)),
        "covered": len({f.index for f in moving_report.flagged if f.action == "covered"}),
        "covered_static": len({f.index for f in static_report.flagged if f.action == "covered"}),
        "unseen_px": moving_report.unseen_pixels, "camera": moving_report.camera,
        "handheld_s": moving_s, "enlarged_s": enlarged_s,
    }


def _at_edge(mask: np.ndarray, margin: int = 4) -> bool:
    return bool(mask[:margin].any() or mask[-margin:].any() or mask[:, :margin].any() or mask[:, -margin:].any())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", nargs="+", default=list(CLIP_ALIGNMENT))
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS),
                        help="the camera path's seed for each clip, in order")
    parser.add_argument("--out", type=Path, default=None, help="keep the clips here (default: a temporary folder)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.out or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        for seed, subject in zip(args.seeds, args.clips, strict=True):
            m = measure_clip(subject, seed, folder)
            print(f"clip {subject} seed {seed}: camera {m['camera']}, {m['whole']} whole-body frames in view of "
                  f"{m['frames']}; person IoU handheld {m['iou_handheld']:.3f} vs static {m['iou_static']:.3f} "
                  f"(diff {m['iou_handheld'] - m['iou_static']:+.3f}); changed >= 15 %: handheld "
                  f"{m['changed_handheld']:.0%}, static {m['changed_static']:.0%}; frames covered handheld "
                  f"{m['covered']} (static {m['covered_static']}), {m['unseen_px']} px never seen; wall "
                  f"{m['handheld_s']:.1f} s vs static at the same size {m['enlarged_s']:.1f} s "
                  f"({m['handheld_s'] / m['enlarged_s']:.2f}x)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
