"""The latent never leaves the process, temporary files never outlive a run, tampered models never run.

The latent z (one per person) is what would let someone redo the random draw (and
so undo the noise): with the random generator patched to hand out known ones, none
of their bytes or digits may appear in the output, the report, the terminal, the log
records, the temporary folder or the home folder.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from gaitanon_core import cli
from gaitanon_core.errors import EXIT_FAILED, Cancelled
from gaitanon_core import pipeline
from tests.hardening import corpus as C
from tests.hardening.support import ORT_SESSION_FILE, assert_clean_failure, folder_listing

KNOWN_Z_SEED = 20261128


class KnownLatent:
    """Stands in for an unseeded numpy Generator: records every `standard_normal` draw (the latent)."""

    def __init__(self) -> None:
        self.real = np.random.Generator(np.random.PCG64(KNOWN_Z_SEED))
        self.drawn: list[np.ndarray] = []

    def standard_normal(self, size=None, dtype=np.float64, out=None):
        z = self.real.standard_normal(size, dtype=dtype)
        self.drawn.append(np.array(z, copy=True))
        return z

    def __getattr__(self, name):
        return getattr(self.real, name)


def latent_traces(z: np.ndarray) -> list[bytes]:
    """How z would look if written: raw float32/float64 bytes, and each value to 5 decimals as text
    (cut and rounded, as printing and JSON would write it)."""
    flat = z.ravel()
    traces = [flat.astype(np.float32).tobytes(), flat.astype(np.float64).tobytes()]
    for value in (abs(float(v)) for v in flat if abs(v) > 0.1):
        traces += [f"{value:.12f}"[:7].encode(), f"{value:.5f}".encode()]
    return traces


def files_under(*folders: Path) -> list[Path]:
    return [p for folder in folders for p in folder.rglob("*") if p.is_file()]


def test_latent_is_never_written_or_logged(corpus, fixture_models, tmp_path, monkeypatch, capsys, caplog):
    home, temp, out = tmp_path / "home", tmp_path / "temp", tmp_path / "out"
    for folder in (home, temp, out):
        folder.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local/share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr("tempfile.tempdir", None)
    source = corpus.walker(C.GOOD_CASES[0])
    known, seeded = KnownLatent(), np.random.default_rng
    monkeypatch.setattr(np.random, "default_rng", lambda seed=None: known if seed is None else seeded(seed))
    caplog.set_level(logging.DEBUG)
    code = cli.main(["anonymize", str(source), "-o", str(out / "anonymized.mp4"), "--models", str(fixture_models),
                     "--report", str(out / "report.json")])
    assert code in (0, 3)
    people = json.loads((out / "report.json").read_text())["people"]
    assert people and len(known.drawn) == len(people), "a latent per person, from an unseeded default_rng (OS entropy)"
    said = capsys.readouterr()
    written = [said.out.encode(), said.err.encode(), caplog.text.encode()]
    written += [path.read_bytes() for path in files_under(out, temp, home)]
    for trace in (t for z in known.drawn for t in latent_traces(z)):
        assert not any(trace in blob for blob in written), trace


def test_cancel_leaves_nothing(corpus, fixture_models, tmp_path, monkeypatch):
    temp, out = tmp_path / "temp", tmp_path / "out"
    temp.mkdir()
    out.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr("tempfile.tempdir", None)
    calls = []

    def cancel_after_some_progress() -> bool:
        calls.append(1)
        return len(calls) > 5

    with pytest.raises(Cancelled):
        pipeline.anonymize_clip(corpus.walker(C.GOOD_CASES[0]), out / "anonymized.mp4",
                                pipeline.AnonymizeOptions(models_dir=fixture_models),
                                cancel=cancel_after_some_progress)
    assert folder_listing(out) == []
    assert files_under(temp) == []


def _tampered_copy(models: Path, folder: Path, role: str) -> Path:
    """models/ copied with one bit flipped in the middle of every file of `role`."""
    copy = Path(shutil.copytree(models, folder / "models"))
    manifest = json.loads((copy / "manifest.json").read_text())
    for victim in {copy / m["file"] for m in manifest["models"] if m["role"] == role}:
        data = bytearray(victim.read_bytes())
        data[len(data) // 2] ^= 0x01
        victim.write_bytes(bytes(data))
    return copy


@pytest.mark.parametrize("role", ["noise_generator", "anonymizer"])
def test_tampered_model_is_refused(role, product_models, corpus, run_cli, tmp_path):
    tampered = _tampered_copy(product_models, tmp_path, role)
    out = tmp_path / "out"
    out.mkdir()
    result = run_cli("anonymize", str(corpus.walker(C.GOOD_CASES[0])), "-o", str(out / "anonymized.mp4"),
                     "--models", str(tampered))
    assert_clean_failure(result, {EXIT_FAILED})
    assert "checksum" in result.stderr
    assert folder_listing(out) == []


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed (Debian package strace)")
def test_anonymizing_opens_no_network_socket(corpus, product_models, run_cli, tmp_path):
    """Every process of the run (the CLI, ONNX Runtime, ffmpeg) traced: no internet socket at all."""
    trace = tmp_path / "syscalls.txt"
    result = run_cli("anonymize", str(corpus.walker(C.GOOD_CASES[0])), "-o", str(tmp_path / "anonymized.mp4"),
                     "--models", str(product_models),
                     prefix=("strace", "-f", "-qq", "-e", "trace=socket,connect", "-o", str(trace)))
    assert result.returncode in (0, 3), result.stderr[-2000:]
    internet = [line for line in trace.read_text().splitlines() if "AF_INET" in line]
    assert internet == []


def test_no_telemetry_id_is_left_behind(corpus, product_models, run_cli, tmp_path):
    """onnxruntime-gpu carries a telemetry client that keeps a device id in $TMPDIR/.ses unless
    ORT_DISABLE_TELEMETRY is set before it is imported: a journalist's tool must not keep one."""
    result = run_cli("anonymize", str(corpus.walker(C.GOOD_CASES[0])), "-o", str(tmp_path / "anonymized.mp4"),
                     "--models", str(product_models))
    assert result.returncode in (0, 3), result.stderr[-2000:]
    assert not (result.tmpdir / ORT_SESSION_FILE).exists()
