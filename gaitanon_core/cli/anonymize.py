"""`gaitanon-cli anonymize`: the pipeline from the command line (`batch.py` reuses its options).

Progress (with an ETA) goes to stderr, the per-clip report to stdout. Exit
codes: 0 done, 1 failed, 2 usage, 3 done with flagged frames (see the report).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from ..errors import EXIT_FLAGGED, EXIT_OK, GaitanonError, UsageError
from ..inference.anonymizer import DEVICES
from ..options import DEFAULT_CRF, DEFAULT_PRESET, default_strength
from ..pipeline import AnonymizeOptions, Progress, anonymize_clip
from ..render.covers import parse_cover_box
from ..render.faces import DEFAULT_FACES, FACE_MODES
from ..report import ClipReport
from ..video import X264_PRESETS, ExportOptions
from ..video.probing import existing_file


def register(subparsers) -> None:
    single = subparsers.add_parser(
        "anonymize",
        help="anonymize every walking person in one video",
        description="Change every walking person's body shape and motion so that gait recognition no longer "
        "identifies them, and write the result as H.264 MP4. Audio and metadata are dropped unless kept.",
    )
    single.add_argument("input", type=Path, help="the video to anonymize (never modified)")
    single.add_argument("-o", "--output", type=Path, required=True, help="the anonymized video (.mp4)")
    single.add_argument("--keep-track", type=int, action="append", default=[], metavar="N",
                        help="leave person N (as numbered by gaitanon-cli people, same --start/--end) unchanged; "
                        "repeatable. Everyone else is anonymized. Where N crosses another person, N is anonymized "
                        "too (the tracker may switch people there)")
    single.add_argument("--cover-track", type=int, action="append", default=[], metavar="N",
                        help="cover person N whole with a filled grey shape instead of reshaping them (no body "
                        "shape shows); repeatable")
    single.add_argument("--cover-box", type=cover_box_argument, action="append", default=[], metavar="X,Y,W,H[@S-E]",
                        help="paint a grey box (pixels: left, top, width, height) over every frame, or from S to "
                        "E seconds (either may be left out), for anything the detector missed; repeatable")
    _add_common_options(single)
    single.set_defaults(func=run_anonymize)


def _add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strength", type=float,
                        help="anonymization strength: one of the shipped models' alphas (default: the one the "
                        "models mark as default; higher is more private, lower more natural)")
    parser.add_argument("--audio", choices=("keep", "drop"), default="drop",
                        help="keep or drop the soundtrack (default drop: voices and footsteps identify people)")
    parser.add_argument("--keep-metadata", action="store_true",
                        help="keep the container's metadata (dates, location, device); stripped by default")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    add_time_options(parser, "anonymize")
    parser.add_argument("--crf", type=int, default=DEFAULT_CRF,
                        help=f"H.264 quality, 0 (lossless) to 51; lower is better (default {DEFAULT_CRF})")
    parser.add_argument("--preset", choices=X264_PRESETS, default=DEFAULT_PRESET,
                        help=f"H.264 speed preset (default {DEFAULT_PRESET})")
    parser.add_argument("--faces", choices=FACE_MODES, default=DEFAULT_FACES,
                        help=f"how the walker's head is hidden (default {DEFAULT_FACES}; keep leaves the face "
                        "visible, and a visible face identifies people)")
    parser.add_argument("--report", type=Path, metavar="FILE.json", help="also write the report as JSON")
    parser.add_argument("--device", choices=DEVICES, default="auto",
                        help="where the models run: auto (a usable CUDA GPU, else the CPU), cpu or cuda")
    parser.add_argument("--seed", type=int,
                        help="FOR TESTS AND REPRODUCIBILITY ONLY: fixes the random draw, so anyone who knows the "
                        "seed can redo it; leave it out for real use (a fresh draw from the system's entropy)")
    parser.add_argument("--models", type=Path, metavar="DIR", help="folder with manifest.json and the ONNX models "
                        "(default: the models shipped with gaitanon)")


def cover_box_argument(text: str):
    """--cover-box's value; argparse reports a malformed one as a usage error (exit 2)."""
    try:
        return parse_cover_box(text)
    except UsageError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_time_options(parser: argparse.ArgumentParser, verb: str) -> None:
    parser.add_argument("--start", type=float, metavar="S", help=f"first second to {verb} (default: the start)")
    parser.add_argument("--end", type=float, metavar="S", help="second to stop at (default: the end)")


def options_from(args: argparse.Namespace) -> AnonymizeOptions:
    export = ExportOptions(keep_audio=args.audio == "keep", keep_metadata=args.keep_metadata, crf=args.crf,
                           preset=args.preset, overwrite=args.overwrite)
    strength = args.strength if args.strength is not None else default_strength(args.models)
    return AnonymizeOptions(strength=strength, device=args.device, seed=args.seed, start=args.start,
                            end=args.end, export=export, models_dir=args.models, faces=args.faces)


def run_anonymize(args: argparse.Namespace) -> int:
    source = args.input
    existing_file(source)  # a clear line for a folder or a missing file; the name stays as typed
    options = replace(options_from(args), keep_tracks=frozenset(args.keep_track),
                      cover_tracks=frozenset(args.cover_track), cover_boxes=tuple(args.cover_box))
    report = anonymize_clip(source, args.output, options, progress=ProgressLine(source.name))
    _print_report(report)
    if args.report:
        _write_json(args.report, report.to_dict())
    return EXIT_FLAGGED if report.flagged else EXIT_OK


def _print_report(report: ClipReport) -> None:
    print(f"{report.target}:")
    for line in report.summary_lines():
        print(f"  {line}")


def _write_json(path: Path, data: object) -> None:
    try:
        path.write_text(json.dumps(data, indent=2) + "\n")
    except OSError as error:
        raise GaitanonError(f"cannot write the report {path}: {error.strerror}") from None


class ProgressLine:
    """One self-updating progress line with an ETA on stderr (plain lines when stderr is not a terminal)."""

    PLAIN_INTERVAL_S = 5.0

    def __init__(self, name: str) -> None:
        self.name = name
        self.live = sys.stderr.isatty()
        self.last_plain = 0.0

    def __call__(self, progress: Progress) -> None:
        share = progress.done / progress.total if progress.total else 1.0
        eta = f", about {progress.eta_s:.0f} s left" if progress.eta_s is not None else ""
        text = f"{self.name}: {progress.stage} {progress.done}/{progress.total} frames ({share:.0%}){eta}"
        finished = progress.done >= progress.total
        if self.live:
            print(f"\r{text}\033[K", end="\n" if finished else "", file=sys.stderr, flush=True)
        elif finished or time.monotonic() - self.last_plain >= self.PLAIN_INTERVAL_S:
            self.last_plain = time.monotonic()
            print(text, file=sys.stderr, flush=True)

