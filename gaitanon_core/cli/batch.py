"""`gaitanon-cli batch`: every video under a folder, through the engine's one batch loop (`gaitanon_core.batch`).

It takes every option of `anonymize`. Each clip's report goes to stdout, skips
and failures to stderr; the summary counts done / flagged / failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..batch import BatchTally, batch_plan, run_batch as run_batch_plan
from ..errors import GaitanonError
from ..pipeline import model_bank
from .anonymize import ProgressLine, _add_common_options, _print_report, _write_json, options_from


def register(subparsers) -> None:
    batch = subparsers.add_parser(
        "batch",
        help="anonymize every video in a folder tree",
        description="Anonymize every video under INPUT_DIR into OUTPUT_DIR, mirroring the folders. Output names "
        "keep the input's extension (a.avi -> a_avi.mp4, a.mov -> a_mov.mp4) so they cannot collide. "
        "Non-videos are skipped; a failed file does not stop the batch.",
    )
    batch.add_argument("input_dir", type=Path, help="folder with the videos (searched recursively)")
    batch.add_argument("-o", "--output", type=Path, required=True, help="folder for the anonymized videos")
    batch.add_argument("--skip-existing", action="store_true", help="leave videos whose output already exists")
    _add_common_options(batch)
    batch.set_defaults(func=run_batch)


def run_batch(args: argparse.Namespace) -> int:
    input_dir = args.input_dir.resolve()
    plan = batch_plan(args.input_dir, args.output, shown_input=args.input_dir)
    options = options_from(args)
    model_bank(options.models_dir, options.device).check_strength(options.strength)  # usage errors once, up front
    reports = []
    events = run_batch_plan(plan, options, lambda source: ProgressLine(str(source.relative_to(input_dir))),
                            skip_existing=args.skip_existing)
    while True:
        try:
            event = next(events)
        except StopIteration as finished:
            tally: BatchTally = finished.value
            break
        shown = event.source.relative_to(input_dir)
        if event.status == "skipped":
            print(f"{shown}: skipped ({event.reason})", file=sys.stderr)
        elif event.status == "failed":
            error = event.error
            reason = str(error) if isinstance(error, GaitanonError) else f"internal error: {type(error).__name__}: {error}"
            print(f"{shown}: failed: {reason}", file=sys.stderr)
        elif event.report is not None:
            _print_report(event.report)
            reports.append(event.report.to_dict())
    print(tally.summary())
    if args.report:
        _write_json(args.report, {"summary": tally.__dict__, "clips": reports})
    return tally.exit_code()
