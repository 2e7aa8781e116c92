"""Fixtures of the hardening suite: the corpus (built once per session), the test models, a CLI runner."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.hardening.support import CLI_TIMEOUT_S, CliRun, Corpus, cli_command, cli_env


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Corpus:
    return Corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="session")
def fixture_models(tmp_path_factory) -> Path:
    """The tests' small ONNX model bank (tests/model_fixtures.py): a fixed, strong blend toward a template.

    The fail-closed tests use it so that what they measure is the pipeline's
    bridging and covering, not how far a trained model happens to move a contour.
    """
    from gaitanon_core.shape import codec as contours
    from model_fixtures import build_model_bank

    return build_model_bank(tmp_path_factory.mktemp("models"), contours.N_POINTS, contours.LAYOUT)


@pytest.fixture(scope="session")
def product_models(fixture_models) -> Path:
    """The models a user gets: the shipped ones once `models/manifest.json` exists, else the test bank."""
    from gaitanon_core.paths import models_dir

    shipped = models_dir()
    return shipped if (shipped / "manifest.json").is_file() else fixture_models


@pytest.fixture
def run_cli(tmp_path) -> Callable[..., CliRun]:
    """Run `gaitanon-cli ARGS` in a subprocess (timeout, preexec_fn and a command prefix such as setpriv)."""
    counter = iter(range(1000))

    def run(*args: str, timeout: float = CLI_TIMEOUT_S, preexec_fn=None, prefix: tuple[str, ...] = ()) -> CliRun:
        n = next(counter)
        workdir, tmpdir = tmp_path / f"cwd{n}", tmp_path / f"tmp{n}"
        workdir.mkdir()
        tmpdir.mkdir(mode=0o777)
        tmpdir.chmod(0o777)
        start = time.monotonic()
        done = subprocess.run([*prefix, *cli_command(*args)], cwd=workdir, env=cli_env(tmpdir),
                              capture_output=True, timeout=timeout, preexec_fn=preexec_fn, check=False)
        return CliRun(done.returncode, done.stdout.decode("utf-8", "replace"),
                      done.stderr.decode("utf-8", "replace"), time.monotonic() - start, workdir, tmpdir)

    return run


