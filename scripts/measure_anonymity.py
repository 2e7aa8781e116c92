"""How much the anonymized silhouette differs from the original, over several random draws (not a test).

The issue's acceptance measure: anonymize a clip, re-segment both encoded videos,
and in the frames where the whole person is in view (by the original's
segmentation) take |S_original XOR S_anonymized| / |S_original|. Prints, per
strength and draw, the share of those frames that differ by at least 15 % and
the median difference; the draws are seeded 0, 1, ... so the figures repeat.

    python scripts/measure_anonymity.py [--clip FILE] [--alphas 0.2 0.3 0.4] [--draws 8] [--models DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from gaitanon_core.paths import shared_data_dir
from gaitanon_core.pipeline import AnonymizeOptions, anonymize_clip
from gaitanon_core.people.silhouettes import FrameMask, segment_clip

MIN_CHANGE = 0.15


def changed_shares(originals: list[FrameMask], anonymized: Path) -> np.ndarray:
    """Per whole-body frame, the XOR of the two re-segmented silhouettes over the original's area."""
    return np.array([np.count_nonzero(a.person ^ b.person) / np.count_nonzero(a.person)
                     for a, b in zip(originals, segment_clip(anonymized)) if a.body == "whole"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clip", type=Path, default=shared_data_dir() / "clips" / "002-nm-01-090.avi")
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.3])
    parser.add_argument("--draws", type=int, default=8)
    parser.add_argument("--models", type=Path, default=None, help="models folder (default: the shipped models)")
    args = parser.parse_args(argv)
    originals = list(segment_clip(args.clip))
    print(f"{args.clip.name}: {sum(m.body == 'whole' for m in originals)} whole-body frames")
    with tempfile.TemporaryDirectory(prefix="gaitanon-anonymity-") as folder:
        for alpha in args.alphas:
            shares = []
            for seed in range(args.draws):
                target = Path(folder) / f"a{alpha:g}_s{seed}.mp4"
                anonymize_clip(args.clip, target, AnonymizeOptions(strength=alpha, seed=seed, models_dir=args.models))
                changed = changed_shares(originals, target)
                shares.append(float(np.mean(changed >= MIN_CHANGE)))
                print(f"alpha {alpha:g} seed {seed}: {shares[-1]:.2f} of the frames differ by >= 15 %, "
                      f"median difference {np.median(changed):.3f}", flush=True)
            print(f"alpha {alpha:g}: share {min(shares):.2f}-{max(shares):.2f} over {args.draws} draws, "
                  f"{sum(s >= 0.9 for s in shares)} of {args.draws} draws reach 0.90")
    return 0


if __name__ == "__main__":
    sys.exit(main())
