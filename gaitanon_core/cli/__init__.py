"""`gaitanon-cli`: the command-line shell over the engine.

Each subcommand lives in its own module with `register(subparsers)`, which adds
its parser and sets `func(args) -> exit code`. Exit codes: 0 done, 1 failed,
2 usage, 3 done with flagged frames. A user never sees a traceback (set
GAITANON_DEBUG=1 to get one).
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys

from ..errors import EXIT_FAILED, GaitanonError

COMMAND_MODULES: tuple[str, ...] = ("info", "anonymize", "batch", "people", "silhouettes")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gaitanon-cli",
        description="Anonymize the way people walk in video (gait anonymization).",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(subparsers)
    return parser


def _interrupt_on_sigterm(_signum: int, _frame: object) -> None:
    # `kill` or a logout: unwind like Ctrl-C, so the writer removes its temporary file and its ffmpeg
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    # Ctrl-C must stop an export even when started from a shell that ignores SIGINT (`cmd &`)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 on a usage error, as argparse does
    try:
        return int(args.func(args))
    except GaitanonError as error:
        print(f"gaitanon-cli: error: {error}", file=sys.stderr)
        return error.exit_code
    except BrokenPipeError:
        # the reader of our output went away (`| head`): not an error of the run
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("gaitanon-cli: interrupted; partial output removed", file=sys.stderr)
        return 130
    except Exception as error:  # a bug of ours: one line, never a traceback
        if os.environ.get("GAITANON_DEBUG"):
            raise
        print(f"gaitanon-cli: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_FAILED


