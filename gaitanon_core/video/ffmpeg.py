"""The ffmpeg child processes every video module runs: start, stop, watch, run to completion.

A neutral home for the process helpers, so the writer and the reader do not
import them from the probe. Every child is killed when Python exits, and a
`Watchdog` kills one that stops making progress.
"""

from __future__ import annotations

import atexit
import math
import subprocess
import tempfile
import threading
import time
import weakref
from pathlib import Path

import imageio_ffmpeg

from ..errors import InputError

__all__ = [
    "Watchdog", "ffmpeg_args", "ffmpeg_exe", "last_error_line", "run_ffmpeg", "source_input",
    "start_ffmpeg", "stop_ffmpeg", "stopped_by_signal",
]  # fmt: skip

_LIVE_CHILDREN: weakref.WeakSet[subprocess.Popen] = weakref.WeakSet()


def ffmpeg_exe() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg_args(*args: str, loglevel: str = "error") -> list[str]:
    return [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", loglevel, *args]


def source_input(path: Path) -> list[str]:
    """`-i` for a user's file: local files only, so a playlist in disguise cannot reach a network."""
    return ["-protocol_whitelist", "file", "-i", str(path)]


def start_ffmpeg(args: list[str], stdin=None, stdout=None, stderr_pipe: bool = False) -> subprocess.Popen:
    """Start ffmpeg; its stderr goes to a temporary file (read by `last_error_line`),
    or to a pipe the caller drains when `stderr_pipe`."""
    stderr = subprocess.PIPE if stderr_pipe else tempfile.TemporaryFile()
    process = subprocess.Popen(args, stdin=stdin, stdout=stdout, stderr=stderr)
    process.stderr_file = None if stderr_pipe else stderr  # type: ignore[attr-defined]
    _LIVE_CHILDREN.add(process)
    return process


def stop_ffmpeg(process: subprocess.Popen) -> None:
    """Kill a child that is still running and reap it, so nothing is left behind."""
    if process.poll() is None:
        process.kill()
    # A stderr pipe belongs to the thread that drains it (it closes it at the end).
    for stream in (process.stdin, process.stdout, process.stderr_file):  # type: ignore[attr-defined]
        if stream is not None:
            try:
                stream.close()
            except OSError:  # a broken pipe to a killed child
                pass
    process.wait()


def last_error_line(process: subprocess.Popen) -> str:
    stderr = process.stderr_file  # type: ignore[attr-defined]
    stderr.seek(0)
    lines = stderr.read().decode("utf-8", "replace").strip().splitlines()
    return lines[-1].strip() if lines else f"ffmpeg exited with code {process.returncode}"


def stopped_by_signal(ffmpeg_message: str) -> bool:
    """ffmpeg's last line when Ctrl-C or kill reached it too: the user is stopping us, not a bad file."""
    return "received signal" in ffmpeg_message


@atexit.register
def _kill_live_children() -> None:
    for process in list(_LIVE_CHILDREN):
        if process.poll() is None:
            process.kill()


class Watchdog:
    """Kills a child that makes no progress for `timeout` seconds; `feed()` on progress."""

    def __init__(self, process: subprocess.Popen, timeout: float):
        self._process = process
        self._timeout = timeout
        self._deadline = time.monotonic() + timeout
        self._stopped = threading.Event()
        self.fired = False
        threading.Thread(target=self._watch, daemon=True).start()

    def feed(self) -> None:
        self._deadline = time.monotonic() + self._timeout

    def pause(self) -> None:
        """Stop counting until the next `feed()`: the caller is busy, not the child."""
        self._deadline = math.inf

    def stop(self) -> None:
        self._stopped.set()

    def _watch(self) -> None:
        while not self._stopped.wait(0.5):
            if time.monotonic() > self._deadline and self._process.poll() is None:
                self.fired = True
                self._process.kill()
                return


def run_ffmpeg(args: list[str], timeout: float) -> tuple[int, str, str]:
    """Run ffmpeg to completion; returns (exit code, stdout, stderr) as text."""
    try:
        done = subprocess.run(args, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as error:  # run() has killed the child
        raise InputError(f"ffmpeg took longer than {timeout:.0f} s on this file; it may be damaged") from error
    return done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
