"""`gaitanon-cli batch`: every video under a folder, through the engine's one batch loop (`gaitanon_core.batch`),
here one clip after another or on a Ray cluster (`--cluster`, `gaitanon_core.cluster`).

It takes every option of `anonymize`. Each clip's report goes to stdout; one
progress line per finished clip (with the overall count and the time left),
skips and failures go to stderr; the summary counts done / flagged / failed and
lists the clips to review first. The batch manifest goes beside OUTPUT_DIR.
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import closing, nullcontext
from pathlib import Path

from ..batch import (
    BatchEvent,
    BatchManifest,
    BatchTally,
    batch_plan,
    error_line,
    local_runner,
    model_sha256s,
    run_batch as run_batch_plan,
    time_left,
)
from ..pipeline import model_bank
from .anonymize import ProgressLine, _add_common_options, _print_report, _write_json, options_from


def register(subparsers) -> None:
    batch = subparsers.add_parser(
        "batch",
        help="anonymize every video in a folder tree",
        description="Anonymize every video under INPUT_DIR into OUTPUT_DIR, mirroring the folders. Output names "
        "keep the input's extension (a.avi -> a_avi.mp4, a.mov -> a_mov.mp4) so they cannot collide. "
        "Non-videos are skipped; a failed file does not stop the batch. A manifest (OUTPUT_DIR.manifest.jsonl, "
        "beside the output folder, never inside it: it names the sources) gets a line as each clip finishes.",
    )
    batch.add_argument("input_dir", type=Path, help="folder with the videos (searched recursively)")
    batch.add_argument("-o", "--output", type=Path, required=True, help="folder for the anonymized videos")
    batch.add_argument("--skip-existing", action="store_true",
                       help="leave videos whose output already exists (resume a stopped batch)")
    batch.add_argument("--cluster", metavar="local|ray://HOST:PORT",
                       help="run one Ray task per clip: 'local' starts a private Ray cluster on this machine "
                       "(127.0.0.1 only), ray://HOST:PORT joins an existing one, whose every worker must reach "
                       "INPUT_DIR and OUTPUT_DIR at the same paths (needs the cluster extra: "
                       "pip install 'gaitanon[cluster]')")
    _add_common_options(batch)
    batch.set_defaults(func=run_batch)


def run_batch(args: argparse.Namespace) -> int:
    input_dir = args.input_dir.resolve()
    plan = batch_plan(args.input_dir, args.output, shown_input=args.input_dir)
    options = options_from(args)
    strength = model_bank(options.models_dir, options.device).check_strength(options.strength)  # usage errors once
    models = model_sha256s(options.models_dir)
    manifest = BatchManifest(args.output, strength, models)
    reports = []
    with _cluster(args.cluster) as ray:
        if ray is None:
            runner = local_runner(options, lambda source: ProgressLine(str(source.relative_to(input_dir))))
        else:
            from ..cluster import ray_runner  # noqa: PLC0415 - Ray only when asked for

            runner = ray_runner(ray, options, models)
        started = time.monotonic()
        # closed before the cluster shuts down, so a Ctrl-C cancels the clips still queued or running
        with closing(run_batch_plan(plan, runner, manifest, args.skip_existing)) as events:
            while True:
                try:
                    event = next(events)
                except StopIteration as finished:
                    tally: BatchTally = finished.value
                    break
                _show(event, event.source.relative_to(input_dir), started)
                if event.report is not None:
                    _print_report(event.report)
                    reports.append(event.report.to_dict())
    print(tally.summary())
    review = manifest.review_first()
    if review:
        print("review first (flagged frames, or finished by a run that did not record them): " + ", ".join(review))
    print(f"manifest: {manifest.path}")
    if args.report:
        _write_json(args.report, {"summary": tally.__dict__, "clips": reports})
    return tally.exit_code()


def _cluster(address: str | None):
    if address is None:
        return nullcontext(None)
    from ..cluster import connected  # noqa: PLC0415 - imports nothing of Ray until it is called

    return connected(address)


def _show(event: BatchEvent, shown: Path, started: float) -> None:
    """Skips, failures and one line per finished clip (with the batch's count and time left) on stderr."""
    if event.status == "skipped":
        print(f"{shown}: skipped ({event.reason})", file=sys.stderr)
        return
    if event.outcome is None:
        return
    what = f"failed: {error_line(event.error)}" if event.error else event.status
    if event.report is not None and event.report.flagged:
        what += f" ({len(event.report.flagged)} flagged frames)"
    left = time_left(started, event.finished, event.to_do)
    eta = f", about {_duration(left)} left" if left else ""
    print(f"[{event.finished}/{event.to_do}] {shown}: {what} in {event.outcome.seconds:.0f} s{eta}",
          file=sys.stderr, flush=True)


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 2:
        return f"{seconds:.0f} s"
    return f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"
