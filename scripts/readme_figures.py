"""The README's side-by-side figures, original | anonymized by the shipped models at their default strength:

- `people`: two generated walkers (no real people) crossing the room the opposite way, one nearer the camera
  (`training.demo_walker.render_crowd`), on the frame where both are well inside the picture and farthest
  apart -> docs/two_walkers.png;
- `handheld`: CASIA-B 003 filmed by the virtual handheld camera of `training.handheld_clips` (seed 12, as
  `scripts/measure_handheld.py` uses), on the frame where the walker's whole body is largest -> docs/handheld.png.

    python scripts/readme_figures.py people|handheld [--out FILE] [--seed 1]

Each clip is written losslessly into a temporary folder and anonymized there with `--seed` (reproducible).
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from gaitanon_core.paths import shared_data_dir
from gaitanon_core.pipeline import AnonymizeOptions, PreviewFrame, anonymize_clip
from gaitanon_core.video import ExportOptions
from training.demo_walker import WalkerPath, random_identity, render_crowd, write_clip
from training.handheld_clips import make_handheld, read_static_clip

SIZE = (640, 360)
WALKERS = [WalkerPath(random_identity(3)), WalkerPath(random_identity(4), direction=-1, nearer=0.06)]
ROOM_SEED = 5
HANDHELD_CLIP, HANDHELD_SEED = "003-nm-01-090.avi", 12
GAP = 8  # px of white between the two pictures
MARGIN = 0.12  # the people figure: both walkers at least this share of the width from the picture's sides


def people_frames() -> tuple[np.ndarray, float, int]:
    clip = render_crowd(WALKERS, SIZE, seed=ROOM_SEED)
    return clip.frames, clip.fps, farthest_apart(clip.masks)


def farthest_apart(masks: np.ndarray) -> int:
    """The frame where every walker is well inside the picture and they are farthest apart."""
    width = masks.shape[3]

    def apart(k: int) -> float:
        boxes = [np.flatnonzero(m[k].any(axis=0)) for m in masks]
        if any(b.size == 0 or b[0] < MARGIN * width or b[-1] > (1 - MARGIN) * width for b in boxes):
            return -1.0
        return float(abs(boxes[0].mean() - boxes[1].mean()))
    return max(range(masks.shape[1]), key=apart)


def handheld_frames() -> tuple[np.ndarray, float, None]:
    static, fps = read_static_clip(shared_data_dir() / "clips" / HANDHELD_CLIP)
    return make_handheld(static, fps, HANDHELD_SEED).frames, fps, None


def largest_whole_body(shots: list[PreviewFrame]) -> PreviewFrame:
    """The frame whose largest piece of the people's own silhouettes (not the covered motion no track follows)
    is largest without touching the picture's border."""
    def area(shot: PreviewFrame) -> int:
        count, labels, stats, _ = cv2.connectedComponentsWithStats(shot.people_silhouette.astype(np.uint8))
        if count < 2:
            return 0
        x, y, w, h, size = stats[1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))]
        inside = x > 0 and y > 0 and x + w < labels.shape[1] and y + h < labels.shape[0]
        return int(size) if inside else 0
    return max(shots, key=area)


FIGURES: dict[str, tuple[Callable[[], tuple[np.ndarray, float, int | None]], str]] = {
    "people": (people_frames, "docs/two_walkers.png"),
    "handheld": (handheld_frames, "docs/handheld.png"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("figure", choices=FIGURES)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    make_frames, default_out = FIGURES[args.figure]
    frames, fps, index = make_frames()
    shots: list[PreviewFrame] = []
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "source.mp4"
        write_clip(source, frames, fps, crf=0)
        options = AnonymizeOptions(seed=args.seed, export=ExportOptions(crf=0))
        anonymize_clip(source, Path(folder) / "out.mp4", options,
                       on_frame=lambda shot: shots.append(shot) if index in (None, shot.index) else None)
    shot = largest_whole_body(shots)
    gap = np.full((shot.original.shape[0], GAP, 3), 255, np.uint8)
    out = args.out or Path(default_out)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), cv2.cvtColor(np.hstack([shot.original, gap, shot.anonymized]), cv2.COLOR_RGB2BGR))
    print(f"frame {shot.index} -> {out}")


if __name__ == "__main__":
    main()
