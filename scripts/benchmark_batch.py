"""Clips per hour of `gaitanon-cli batch` on this machine: one clip after another vs `--cluster local` (not a test).

The clips (default: ../shared/data/clips) are copied `--copies` times into a
temporary archive, then the same archive is batched twice, each run a fresh
`gaitanon-cli batch` process with the same --seed into its own output folder:

- local: `gaitanon-cli batch ARCHIVE -o OUT`
- cluster: `gaitanon-cli batch ARCHIVE -o OUT --cluster local` (a private Ray cluster on this
  machine's cores, one task per clip; its start-up time is counted)

It prints each run's wall time and clips per hour. On a machine loaded by other
work both runs compete with that work: run them back to back and quote them together.

    python scripts/benchmark_batch.py [--clips DIR] [--copies N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gaitanon_core.options import VIDEO_SUFFIXES
from gaitanon_core.paths import shared_data_dir

SEED = "1"
RUNS = {"local": (), "cluster": ("--cluster", "local")}


def build_archive(clips: Path, copies: int, folder: Path) -> int:
    sources = sorted(p for p in clips.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
    for copy in range(copies):
        (folder / f"copy{copy}").mkdir(parents=True)
        for source in sources:
            shutil.copy(source, folder / f"copy{copy}" / source.name)
    return len(sources) * copies


def time_batch(archive: Path, out: Path, extra: tuple[str, ...]) -> dict[str, float]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "gaitanon_core.cli", "batch", str(archive), "-o", str(out),
                           "--seed", SEED, *extra], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode not in (0, 3):
        sys.exit(f"benchmark_batch: the batch failed ({done.returncode}): {done.stderr[-2000:]}")
    return {"wall_s": round(wall, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=Path, default=shared_data_dir() / "clips", help="folder of clips")
    parser.add_argument("--copies", type=int, default=2, help="how many times the clips go into the archive")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gaitanon-benchmark-batch-") as scratch:
        archive = Path(scratch) / "archive"
        count = build_archive(args.clips, args.copies, archive)
        results: dict[str, object] = {"clips": count, "cores": len(os.sched_getaffinity(0))}
        for name, extra in RUNS.items():
            figures = time_batch(archive, Path(scratch) / name, extra)
            figures["clips_per_hour"] = round(count / figures["wall_s"] * 3600)
            results[name] = figures
            print(f"{name}: {count} clips in {figures['wall_s']} s -> {figures['clips_per_hour']} clips/hour",
                  flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
