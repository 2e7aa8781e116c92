"""Speed of the whole `gaitanon-cli anonymize` process on 20 s clips: issue #15's targets (not a test).

The clips are made into a temporary folder:

- walker: the CASIA-B clip 002 of the shared data (else the bundled demo walker), one person crossing a
  static room, looped to 20 s and scaled to each of `--sizes` (nearly lossless, `benchmark.scaled_copy`);
- crowd: three demo walkers (`training.demo_walker.render_crowd`, 320x240, entering one after another from
  both sides, one nearer the camera), looped to 20 s and scaled to 640x480;
- handheld (`--handheld`): CASIA-B 002 filmed by a drawn handheld camera (`training.handheld_clips`, seed 4,
  as scripts/measure_handheld.py) and the static clip enlarged to the same size, 5 s each, their runs taken
  in turn (the machine's speed wanders within minutes; their ratio should see the same machine).

With `--lengths S [S ...]` it measures memory against clip length instead (issue #15: "a 10-minute 720p clip
under 2 GiB peak"): the walker at each of `--sizes` and the crowd, looped to each length, one run each (or
`--repeats`); a table of peak resident memory and CPU seconds per clip, then per clip kind a least-squares line
of peak RSS against frames (MiB + KiB per frame) and where that line reaches at a 10-minute clip of that size.
That last figure is an extrapolation of the measured lengths, not a measurement.

Each clip is anonymized `--repeats` times, each time by a fresh `python -m gaitanon_core.cli anonymize IN -o OUT
--seed 1` process. Per clip: the median wall-time frames per second, the median CPU seconds per frame (the
process and its ffmpeg children, from wait4: on a machine shared with other work it is the steadier figure),
and the largest peak resident memory of a run. Targets (#15, #17): one walker >= 30 fps at 640x480 and
>= 15 fps at 1280x720; three walkers >= 12 fps at 640x480; handheld CPU time <= 1.5x the static clip's.

    python scripts/measure_speed.py [--sizes 640x480 1280x720] [--repeats 3] [--no-crowd] [--handheld]
                                    [--json FILE]
    python scripts/measure_speed.py --lengths 10 40 120 [--sizes 640x480 1280x720] [--no-crowd]
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
TEN_MINUTES_S = 600.0


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
    return figures_of(name, source, [anonymize_timed(source, source.with_name(f"{source.stem}_out{k}.mp4"))
                                     for k in range(repeats)])


def measure_alternating(clips: list[tuple[str, Path]], repeats: int) -> list[Figures]:
    """`measure` of each clip, their runs taken in turn (a, b, a, b, ...): this machine's speed wanders by 20 %
    within minutes, and a ratio of two clips should see the same machine."""
    runs: list[list[Run]] = [[] for _ in clips]
    for k in range(repeats):
        for (_, source), taken in zip(clips, runs):
            taken.append(anonymize_timed(source, source.with_name(f"{source.stem}_out{k}.mp4")))
    return [figures_of(name, source, taken) for (name, source), taken in zip(clips, runs)]


def figures_of(name: str, source: Path, runs: list[Run]) -> Figures:
    info = probe(source)
    print(f"{name} {source.stem}: " + ", ".join(
        f"{r.wall_s:.1f} s wall / {r.cpu_s:.1f} s CPU / {r.peak_rss_mb:.0f} MiB peak" for r in runs),
          file=sys.stderr, flush=True)
    frames = info.frame_count
    return Figures(name, f"{info.width}x{info.height}", frames, frames / statistics.median(r.wall_s for r in runs),
                   1000.0 * statistics.median(r.cpu_s for r in runs) / frames, max(r.peak_rss_mb for r in runs),
                   runs)


def crowd_clip(folder: Path, seconds: float = CLIP_S) -> Path:
    """The three walkers' room, looped to `seconds` and scaled to CROWD_SIZE."""
    room = folder / "crowd.mp4"
    if not room.is_file():
        clip = render_crowd(CROWD, CROWD_ROOM)
        write_clip(room, clip.frames, clip.fps, crf=LOSSLESS_CRF)
    return scaled_copy(room, CROWD_SIZE, folder, seconds)


def looped(make, folder: Path, seconds: float) -> Path:
    """`make(folder, seconds)`'s clip, renamed for its length (scaled_copy names by size only)."""
    clip = make(folder, seconds)
    target = clip.with_name(f"{clip.stem}_{seconds:g}s.mp4")
    clip.replace(target)
    return target


@dataclass
class Length:
    clip: str
    size: str
    seconds: float
    frames: int
    peak_rss_mb: float  # the largest of the runs
    cpu_s: float  # median over the runs


def measure_lengths(clip: Path, sizes: list[str], lengths: list[float], crowd: bool, repeats: int) -> list[Length]:
    """Peak memory and CPU of one whole anonymize process per clip kind and length (shortest first)."""
    kinds = [("walker", lambda folder, seconds, size=size: scaled_copy(clip, size, folder, seconds))
             for size in sizes]
    if crowd:
        kinds.append(("3 walkers", crowd_clip))
    rows = []
    with tempfile.TemporaryDirectory(prefix="gaitanon-lengths-") as scratch:
        folder = Path(scratch)
        for name, make in kinds:
            for seconds in sorted(lengths):
                source = looped(make, folder, seconds)
                try:
                    figures = measure(name, source, repeats)
                except RuntimeError as error:  # the log goes with the folder: its end is shown, the rest go on
                    log = source.with_name(f"{source.stem}_out0.log").read_text(errors="replace")
                    print(f"{error}\n{log[-2000:]}", file=sys.stderr, flush=True)
                    continue
                rows.append(Length(name, figures.size, seconds, figures.frames, figures.peak_rss_mb,
                                   statistics.median(r.cpu_s for r in figures.runs)))
                for leftover in folder.glob(f"{source.stem}*"):  # the clips grow long: one at a time on disk
                    leftover.unlink()
    return rows


def length_fits(rows: list[Length]) -> list[tuple[str, str, float, float, float, float]]:
    """Per clip kind with two lengths or more: (clip, size, MiB at no frames, KiB per frame, frames in ten
    minutes, MiB there by the line: an extrapolation)."""
    fits = []
    for key in dict.fromkeys((row.clip, row.size) for row in rows):
        mine = [row for row in rows if (row.clip, row.size) == key]
        if len({row.frames for row in mine}) < 2:
            continue
        slope, base = np.polyfit([row.frames for row in mine], [row.peak_rss_mb for row in mine], 1)
        fps = mine[-1].frames / mine[-1].seconds
        ten = round(TEN_MINUTES_S * fps)
        fits.append((*key, float(base), float(slope * 1024.0), ten, float(base + slope * ten)))
    return fits


def print_lengths(rows: list[Length]) -> None:
    print_markdown(["clip", "size", "length s", "frames", "peak RSS MiB", "CPU s"],
                   [[row.clip, row.size, f"{row.seconds:g}", row.frames, f"{row.peak_rss_mb:.0f}", f"{row.cpu_s:.0f}"]
                    for row in rows])
    print()
    print_markdown(["clip", "size", "MiB at 0 frames (fit)", "KiB per frame (fit)", "10 min: frames",
                    "10 min: MiB (extrapolated)"],
                   [[clip, size, f"{base:.0f}", f"{per_frame:.1f}", ten, f"{at_ten:.0f}"]
                    for clip, size, base, per_frame, ten, at_ten in length_fits(rows)])


def print_markdown(header: list[str], rows: list[list]) -> None:
    for cells in (header, ["---"] * len(header), *rows):
        print("| " + " | ".join(str(cell) for cell in cells) + " |")


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
    print_markdown(["clip", "size", "frames", "fps (median, wall)", "CPU ms per frame (median)", "peak RSS MiB"],
                   [[row.clip, row.size, row.frames, f"{row.fps:.1f}", f"{row.cpu_ms_per_frame:.0f}",
                     f"{row.peak_rss_mb:.0f}"] for row in rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="*", default=list(DEFAULT_SIZES), help="WIDTHxHEIGHT of the walker clip")
    parser.add_argument("--repeats", type=int, default=None,
                        help="runs per clip (the median is reported); 3, or 1 with --lengths")
    parser.add_argument("--no-crowd", action="store_true", help="leave out the three walkers")
    parser.add_argument("--handheld", action="store_true", help="also time a handheld clip against a static one")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    parser.add_argument("--lengths", nargs="*", type=float, default=None,
                        help="seconds: peak memory against clip length instead of speed (one run each by default)")
    args = parser.parse_args(argv)
    clip = default_clip()
    if args.lengths:
        repeats = args.repeats or 1
        rows = measure_lengths(clip, args.sizes, args.lengths, not args.no_crowd, repeats)
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        print(f"walker clip: {clip.name}, looped; {os.cpu_count()} cores, load average {load}; {repeats} run(s) each, "
              f"whole `gaitanon-cli anonymize --seed 1` process, peak RSS from wait4")
        print_lengths(rows)
        if args.json:
            args.json.write_text(json.dumps([asdict(row) for row in rows], indent=2) + "\n")
        return 0
    repeats = args.repeats or 3
    rows: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="gaitanon-speed-") as scratch:
        folder = Path(scratch)
        for size in args.sizes:
            rows.append(measure("walker", scaled_copy(clip, size, folder, CLIP_S), repeats))
        if not args.no_crowd:
            rows.append(measure("3 walkers", crowd_clip(folder), repeats))
        if args.handheld:
            rows += measure_alternating(list(zip(("handheld", "static"), handheld_pair(clip, folder))), repeats)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"walker clip: {clip.name}; {os.cpu_count()} cores, load average {load}; "
          f"{repeats} runs each, whole `gaitanon-cli anonymize` process")
    print_table(rows)
    if args.handheld:
        handheld, static = rows[-2:]
        print(f"handheld / static CPU per frame: {handheld.cpu_ms_per_frame / static.cpu_ms_per_frame:.2f}x")
    if args.json:
        args.json.write_text(json.dumps([asdict(row) for row in rows], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
