"""Scrubbing speed with the overlays on: time to get one reviewed frame ready to show (not a test).

The clip is scaled to one size (1280x720 by default, nearly lossless, as in
scripts/benchmark.py) and anonymized once the way the window does it
(`app.controllers.jobs.anonymize`, which also fills the review's preview proxy
as frames are finished). Then the same random jumps over the reviewed frames
are timed three ways, each a frame with both pictures, both silhouettes and
their XOR:

- ffmpeg: `gaitanon_core.pipeline.preview_frame`, two ffmpeg runs per frame
  (what the window used while overlays were on, before the stored-file path);
- window, seeking: `ReviewSession.frame(i, with_silhouettes=True)` just after
  the clip was opened, its original pictures coming from the seekable decoder;
- window, proxied: the same once the clip's own preview proxy is filled (a few
  seconds after opening, in the background).

Turning a frame into what the panes draw (two pictures and three overlay
layers as QImages, in the GUI thread) is timed apart; it is the same for all
three. Figures: median and 95th percentile, ms.

    python scripts/benchmark_scrub.py [--clip FILE] [--size 1280x720] [--jumps 40] [--models DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
from benchmark import default_clip, scaled_copy

from app.controllers import jobs
from app.views.images import (
    ANONYMIZED_OUTLINE_COLOUR,
    ORIGINAL_OUTLINE_COLOUR,
    XOR_COLOUR,
    mask_overlay,
    rgb_to_qimage,
)
from app.workers import JobControl, WorkerSignals
from gaitanon_core.paths import models_dir as shipped_models
from gaitanon_core.pipeline import preview_frame

Item = TypeVar("Item")


def timed_ms(show: Callable[[Item], object], items: list[Item]) -> np.ndarray:
    """Milliseconds per call of `show(item)`, over the items in order."""
    times = []
    for item in items:
        started = time.perf_counter()
        show(item)
        times.append(1000 * (time.perf_counter() - started))
    return np.array(times)


def to_images(frame) -> None:
    """What the window does with a served frame before the panes paint it."""
    rgb_to_qimage(frame.original)
    rgb_to_qimage(frame.anonymized)
    mask_overlay(frame.original_mask, ORIGINAL_OUTLINE_COLOUR, True)
    mask_overlay(frame.anonymized_mask, ANONYMIZED_OUTLINE_COLOUR, True)
    mask_overlay(frame.xor, XOR_COLOUR, False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clip", type=Path, default=None, help="source clip (default: CASIA-B 002, else the demo)")
    parser.add_argument("--size", default="1280x720", help="WIDTHxHEIGHT to scale the clip to")
    parser.add_argument("--jumps", type=int, default=40, help="random frames to show")
    parser.add_argument("--models", type=Path, default=None, help="models folder (default: the shipped models)")
    args = parser.parse_args(argv)
    clip = args.clip or default_clip()
    control = JobControl(WorkerSignals())
    with tempfile.TemporaryDirectory(prefix="gaitanon-bench-") as folder:
        source = scaled_copy(clip, args.size, Path(folder))
        opened = jobs.open_clip(control, source)
        session = jobs.ReviewSession(opened, 0.3, args.models or shipped_models())
        print(f"rendering the review of {source.name} ({opened.info.frame_count} frames)…", file=sys.stderr)
        jobs.anonymize(control, session)
        try:
            rng = np.random.default_rng(0)
            indices = [int(i) for i in rng.choice(session.reviewed, size=args.jumps)]
            rows = {"ffmpeg (preview_frame)": timed_ms(lambda i: preview_frame(session.engine, i), indices)}

            def with_overlays(index: int) -> object:
                return session.frame(index, with_silhouettes=True)

            rows["window, seeking decoder"] = timed_ms(with_overlays, indices)
            for _ in jobs.fill_proxy(control, opened.proxy, source):
                pass
            rows["window, proxies filled"] = timed_ms(with_overlays, indices)
            frames = [session.frame(i, with_silhouettes=True) for i in indices]
            rows["+ to QImages: 2 pictures, 3 overlay layers (GUI thread)"] = timed_ms(to_images, frames)
        finally:
            session.discard()
            opened.proxy.close()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"clip: {clip.name} scaled to {args.size}; {args.jumps} random jumps; {os.cpu_count()} cores, "
          f"load average {load}")
    print("| frame with overlays from | median ms | 95th percentile ms |")
    print("|---|---|---|")
    for name, ms in rows.items():
        print(f"| {name} | {np.median(ms):.1f} | {np.percentile(ms, 95):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
