"""Helpers of the hardening suite: the corpus cache, the CLI runner and the checks every case shares.

Every CLI run happens in a subprocess with a timeout, an empty working folder and
an empty private TMPDIR, so a test can tell that nothing was written anywhere
but where the user asked.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hardening import corpus as C

PATTERN = C.PatternScene(320, 240, 50)
WALKER_SIZE = (320, 240)
WALKER_FRAMES = 40  # whole-body frames per good case: enough for the background model, short for CI
CLI_TIMEOUT_S = 180.0
ORT_SESSION_FILE = ".ses"  # onnxruntime's telemetry device id, unless ORT_DISABLE_TELEMETRY is set
MEDIA_DIR = Path(os.environ.get("GAITANON_TEST_MEDIA",
                                Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "gaitanon" / "test-media"))


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def media_file(name: str) -> Path:
    """A real sample video fetched by scripts/ci_fetch_test_media.sh; skip when absent."""
    path = MEDIA_DIR / name
    if not path.is_file():
        pytest.skip(f"{name} not found in {MEDIA_DIR}: run scripts/ci_fetch_test_media.sh "
                    "(Debian's opencv-doc sample videos) or set GAITANON_TEST_MEDIA")
    return path


class Corpus:
    """Builds each case on first use into a session folder and hands out its path."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._built: dict[tuple[str, str], Path] = {}
        self._walker = None

    def _cached(self, key: tuple[str, str], build: Callable[[Path], Path]) -> Path:
        if key not in self._built:
            self._built[key] = build(self.root / key[0] / key[1])
        return self._built[key]

    def pattern(self, case: C.GoodCase) -> Path:
        return self._cached(("pattern", case.name), lambda folder: C.build_good(case, PATTERN, folder))

    def walker_scene(self, count: int = WALKER_FRAMES) -> C.WalkerScene:
        if self._walker is None:
            self._walker = C.walker_clip(WALKER_SIZE)
        return C.walker_window(*self._walker, count)

    def walker_full(self) -> C.WalkerScene:
        """The whole walk: empty room, walker entering, crossing, leaving, empty room."""
        self.walker_scene()
        return C.WalkerScene(self._walker[0], 0, len(self._walker[0].frames))

    def walker(self, case: C.GoodCase) -> Path:
        return self._cached(("walker", case.name), lambda folder: C.build_good(case, self.walker_scene(), folder))

    def bad(self, case: C.BadCase) -> Path:
        base = self.pattern(C.GOOD_CASES[0])
        return self._cached(("bad", case.name), lambda folder: C.build_bad(case, base, folder))


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    workdir: Path  # the process's working folder: must stay empty
    tmpdir: Path  # the process's TMPDIR: must be empty afterwards

    def stray_files(self) -> list[Path]:
        return sorted(self.workdir.rglob("*")) + sorted(self.tmpdir.rglob("*"))


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "gaitanon_core.cli", *args]


def cli_env(tmpdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "GAITANON_DEBUG"}
    env.update(TMPDIR=str(tmpdir), PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS="1")
    return env


def assert_clean_failure(result: CliRun, exit_codes: set[int]) -> None:
    """One plain error line, a documented exit code, no traceback, nothing written."""
    assert result.returncode in exit_codes, (result.returncode, result.stderr[-2000:])
    text = result.stdout + result.stderr
    assert "Traceback" not in text, text[-3000:]
    assert "internal error" not in result.stderr, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1, result.stderr[-2000:]
    assert errors[0].startswith("gaitanon-cli: error: "), errors
    assert result.stray_files() == [], result.stray_files()


def folder_listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())
