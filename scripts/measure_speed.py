"""Speed of the whole `gaitanon-cli anonymize` process on 20 s clips: issue #15's targets (not a test).

The clips are made into a temporary folder:

- walker: the CASIA-B clip 002 of the shared data (else the bundled demo walker), one person crossing a
  static room, looped to 20 s and scaled to each of `--sizes` (nearly lossless, `benchmark.scaled_copy`);
- crowd: three demo walkers (`training.demo_walker.render_crowd`, 320x240, entering one after another from
  both sides, one nearer the camera), looped to 20 s and scaled to 640x480;
- handheld (`--handheld`): CASIA-B 002 filmed by a drawn handheld camera (`training.handheld_clips`, seed 4,
  as scripts/measure_handheld.py) and the static clip enlarged to the same size, 5 s each.

Each clip is anonymized `--repeats` times, each time by a fresh `python -m gaitanon_core.cli anonymize IN -o OUT
--seed 1` process. Per clip: the median wall-time frames per second, the median CPU seconds per frame (the
process and its ffmpeg children, from wait4: on a machine shared with other work it is the steadier figure),
and the largest peak resident memory of a run. Targets (#15, #17): one walker >= 30 fps at 640x480 and
>= 15 fps at 1280x720; three walkers >= 12 fps at 640x480; handheld CPU time <= 1.5x the static clip's.

    python scripts/measure_speed.py [--sizes 640x480 1280x720] [--repeats 3] [--no-crowd] [--handheld]
                                    [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from benchmark import default_clip, scaled_copy
from gaitanon_core.video import probe
from training.demo_walker import WalkerPath, random_identity, render_crowd, write_clip
from training.handheld_clips import make_handheld, read_static_clip, write_handheld

DEFAULT_SIZES = ("640x480", "1280x720")
CLIP_S = 20.0
CROWD_SIZE = "640x480"
CROWD_ROOM = (320, 240)  # rendered at this size (a quarter of the drawing's cost), then scaled up
CROWD = [WalkerPath(random_identity(11)), WalkerPath(random_identity(12), direction=-1, delay=20, nearer=0.08),
         WalkerPath(random_identity(13), delay=45)]
HANDHELD_SEED = 4  # as scripts/measure_handheld.py for clip 002
LOSSLESS_CRF = 8


@dataclass
class Run:
    wall_s: float
    cpu_s: float  # user + system, the process and every child it waited for
    peak_rss_mb: float
    code: int


@dataclass
class Figures:
    clip: str
    size: str
    frames: int
    fps: float  # median over the runs, wall time
    cpu_ms_per_frame: float  # median over the runs
    peak_rss_mb: float  # the largest of the runs
    runs: list[Run]


def anonymize_timed(source: Path, target: Path) -> Run:
    """One whole `gaitanon-cli anonymize` process; its CPU time and peak memory from wait4 (that child alone)."""
    command = [sys.executable, "-m", "gaitanon_core.cli", "anonymize", str(source), "-o", str(target), "--seed",
               "1", "--overwrite"]
    with open(target.with_suffix(".log"), "wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=log, stderr=log)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    process.returncode = code = os.waitstatus_to_exitcode(status)
    if code not in (0, 3):  # 3: done, with flagged frames
        raise RuntimeError(f"anonymize failed on {source.name} (exit {code}); see {target.with_suffix('.log')}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0, code)


def measure(name: str, source: Path, repeats: int) -> Figures:
    frames = probe(source).frame_count
    runs = [anonymize_timed(source, source.with_name(f"{source.stem}_out{k}.mp4")) for k in range(repeats)]
    print(f"{name} {source.stem}: " + ", ".join(f"{r.wall_s:.1f} s wall / {r.cpu_s:.1f} s CPU" for r in runs),
          file=sys.stderr, flush=True)
    width, height = probe(source).width, probe(source).height
    return Figures(name, f"{width}x{height}", frames, frames / statistics.median(r.wall_s for r in runs),
                   1000.0 * statistics.median(r.cpu_s for r in runs) / frames, max(r.peak_rss_mb for r in runs),
                   runs)


def crowd_clip(folder: Path) -> Path:
    """The three walkers' room, looped to CLIP_S and scaled to CROWD_SIZE."""
    clip = render_crowd(CROWD, CROWD_ROOM)
    room = folder / "crowd.mp4"
    write_clip(room, clip.frames, clip.fps, crf=LOSSLESS_CRF)
    return scaled_copy(room, CROWD_SIZE, folder, CLIP_S)


def handheld_pair(clip: Path, folder: Path) -> tuple[Path, Path]:
    """(handheld, static enlarged to the handheld's size) versions of `clip`."""
    static, fps = read_static_clip(clip)
    filmed = make_handheld(static, fps, HANDHELD_SEED)
    handheld = folder / "handheld.mp4"
    write_handheld(filmed, handheld)
    size = (filmed.frames.shape[2], filmed.frames.shape[1])
    enlarged = folder / "static_enlarged.mp4"
    write_clip(enlarged, np.stack([cv2.resize(f, size, interpolation=cv2.INTER_CUBIC) for f in static]), fps)
    return handheld, enlarged


def print_table(rows: list[Figures]) -> None:
    print("| clip | size | frames | fps (median, wall) | CPU ms per frame (median) | peak RSS MiB |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row.clip} | {row.size} | {row.frames} | {row.fps:.1f} | {row.cpu_ms_per_frame:.0f} | "
              f"{row.peak_rss_mb:.0f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="*", default=list(DEFAULT_SIZES), help="WIDTHxHEIGHT of the walker clip")
    parser.add_argument("--repeats", type=int, default=3, help="runs per clip (the median is reported)")
    parser.add_argument("--no-crowd", action="store_true", help="leave out the three walkers")
    parser.add_argument("--handheld", action="store_true", help="also time a handheld clip against a static one")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    clip = default_clip()
    rows: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="gaitanon-speed-") as scratch:
        folder = Path(scratch)
        for size in args.sizes:
            rows.append(measure("walker", scaled_copy(clip, size, folder, CLIP_S), args.repeats))
        if not args.no_crowd:
            rows.append(measure("3 walkers", crowd_clip(folder), args.repeats))
        if args.handheld:
            rows += [measure(name, source, args.repeats) for name, source in
                     zip(("handheld", "static"), handheld_pair(clip, folder))]
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"walker clip: {clip.name}; {os.cpu_count()} cores, load average {load}; "
          f"{args.repeats} runs each, whole `gaitanon-cli anonymize` process")
    print_table(rows)
    if args.handheld:
        handheld, static = rows[-2:]
        print(f"handheld / static CPU per frame: {handheld.cpu_ms_per_frame / static.cpu_ms_per_frame:.2f}x")
    if args.json:
        args.json.write_text(json.dumps([asdict(row) for row in rows], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
