"""`gaitanon-cli batch` on this machine: the batch manifest beside the output folder, resuming with
--skip-existing, the free-space check, progress lines, and what `--cluster` says without Ray.

The Ray runs themselves are in tests/test_cluster.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import namedtuple
from pathlib import Path

import pytest
from pipeline_fixtures import WalkerCase
from test_cli_anonymize import SHORT, case, truth  # noqa: F401 (shared fixtures: the walker and its true masks)

from gaitanon_core import batch as batch_module
from gaitanon_core.batch import model_sha256s
from gaitanon_core.cli import main
from gaitanon_core.cluster import INSTALL_HINT, clip_task
from gaitanon_core.errors import EXIT_FAILED, EXIT_USAGE
from gaitanon_core.pipeline import AnonymizeOptions
from tests.hardening.support import cli_env, sha256

FIELDS = {"input", "input_sha256", "output", "output_sha256", "strength", "models", "status", "flagged_frames",
          "exit_code", "error", "seconds", "time"}


def _tree(case: WalkerCase, root: Path) -> Path:
    folder = root / "in"
    (folder / "day2").mkdir(parents=True)
    for name in ("a.avi", "day2/b.mp4"):
        shutil.copy(case.video, folder / name)
    (folder / "notes.txt").write_text("interview notes")
    (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    return folder


def _batch(capsys, case: WalkerCase, source: Path, target: Path, *extra: str) -> tuple[int, str, str]:
    code = main(["batch", str(source), "-o", str(target), "--models", str(case.models), *SHORT, *extra])
    out, err = capsys.readouterr()
    return code, out, err


def _lines(manifest: Path) -> list[dict]:
    return [json.loads(line) for line in manifest.read_text().splitlines()]


def test_manifest_lies_beside_the_output_with_one_line_per_finished_clip(truth, tmp_path, capsys) -> None:
    source, target = _tree(truth, tmp_path), tmp_path / "out"
    code, out, err = _batch(capsys, truth, source, target, "--seed", "3")
    assert code == EXIT_FAILED, "one file failed"
    manifest = tmp_path / "out.manifest.jsonl"
    assert f"manifest: {manifest}" in out
    assert sorted(p.name for p in target.rglob("*")) == ["a_avi.mp4", "b_mp4.mp4", "day2"], "nothing else inside"
    lines = {line["output"]: line for line in _lines(manifest)}
    assert sorted(lines) == ["a_avi.mp4", "broken_mp4.mp4", "day2/b_mp4.mp4"]
    models = model_sha256s(truth.models)
    for name in ("a_avi.mp4", "day2/b_mp4.mp4"):
        line = lines[name]
        assert set(line) == FIELDS
        assert line["status"] == "done" and line["exit_code"] == 0 and line["flagged_frames"] == []
        assert line["output_sha256"] == sha256(target / name) and line["input_sha256"] == sha256(truth.video)
        assert line["strength"] == 0.3 and line["models"] == models and line["error"] is None
    broken = lines["broken_mp4.mp4"]
    assert broken["status"] == "failed" and broken["exit_code"] == EXIT_FAILED and broken["output_sha256"] is None
    assert broken["input"] == str((source / "broken.mp4").resolve()) and broken["error"]
    progress = [line for line in err.splitlines() if line.startswith("[")]
    assert len(progress) == 3 and progress[-1].startswith("[3/3] ")
    assert "broken.mp4: failed:" in err and "Traceback" not in err


def test_resume_redoes_only_what_is_missing_and_records_what_a_killed_run_did_not(truth, tmp_path, capsys) -> None:
    source, target = _tree(truth, tmp_path), tmp_path / "out"
    _batch(capsys, truth, source, target)
    manifest = tmp_path / "out.manifest.jsonl"
    finished = sha256(target / "a_avi.mp4")
    # a run killed after renaming b's output and before recording it: its line is missing
    kept = [line for line in manifest.read_text().splitlines() if '"day2/b_mp4.mp4"' not in line]
    manifest.write_text("\n".join(kept) + "\n" + '{"input": "torn by a ki')

    code, out, err = _batch(capsys, truth, source, target, "--skip-existing")
    assert code == EXIT_FAILED and "batch: 0 anonymized (0 with flagged frames), 3 skipped, 1 failed" in out
    assert sha256(target / "a_avi.mp4") == finished, "skipped, not redone"
    assert "a.avi: skipped (a_avi.mp4 exists)" in err and "[1/1] broken.mp4: failed" in err
    latest = batch_module.BatchManifest(target, 0.3, {}).latest()
    unrecorded = latest[str((source / "day2" / "b.mp4").resolve())]
    assert unrecorded["status"] == "unrecorded" and unrecorded["output_sha256"] == sha256(target / "day2/b_mp4.mp4")
    assert "review first (flagged frames, or finished by a run that did not record them): day2/b_mp4.mp4" in out
    assert [line["status"] for line in latest.values()].count("failed") == 1


def test_free_space_is_checked_before_anything_is_written(truth, tmp_path, capsys, monkeypatch) -> None:
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(batch_module.shutil, "disk_usage", lambda _path: usage(10**9, 10**9 - 1000, 1000))
    source, target = _tree(truth, tmp_path), tmp_path / "out"
    code, out, err = _batch(capsys, truth, source, target)
    assert code == EXIT_FAILED
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("gaitanon-cli: error: not enough free space"), err
    assert not target.exists() and not (tmp_path / "out.manifest.jsonl").exists()


def test_cluster_without_ray_says_how_to_install_it(truth, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as if it were not installed
    code, _, err = _batch(capsys, truth, _tree(truth, tmp_path), tmp_path / "out", "--cluster", "local")
    assert code == EXIT_USAGE and err.strip() == f"gaitanon-cli: error: {INSTALL_HINT}"
    code, _, err = _batch(capsys, truth, tmp_path / "in", tmp_path / "out", "--cluster", "10.0.0.1:10001")
    assert code == EXIT_USAGE and "ray://HOST:PORT" in err


def test_a_worker_with_other_models_refuses_the_clip(case, tmp_path) -> None:
    models = model_sha256s(case.models)
    models[next(iter(models))] = "0" * 64  # the batch started with another file than this worker has
    target = tmp_path / "out.mp4"
    outcome = clip_task(case.video, target, AnonymizeOptions(models_dir=case.models), models)
    assert outcome.status == "failed" and "differ" in str(outcome.error) and not target.exists()


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed (Debian package strace)")
def test_plain_batch_opens_no_network_socket_and_never_imports_ray(case, tmp_path) -> None:
    """The batch without --cluster, every process traced (the CLI, ONNX Runtime, ffmpeg): no internet socket."""
    source, trace = tmp_path / "in", tmp_path / "syscalls.txt"
    source.mkdir()
    shutil.copy(case.video, source / "a.mp4")
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    run = [sys.executable, "-c", "import sys; from gaitanon_core.cli import main; code = main(sys.argv[1:]); "
           "assert 'ray' not in sys.modules, 'the plain batch imported Ray'; sys.exit(code)",
           "batch", str(source), "-o", str(tmp_path / "out"), "--models", str(case.models), *SHORT]
    done = subprocess.run(["strace", "-f", "-qq", "-e", "trace=socket,connect", "-o", str(trace), *run],
                          env=cli_env(tmpdir), capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode in (0, 3), done.stderr[-2000:]
    assert [line for line in trace.read_text().splitlines() if "AF_INET" in line] == []
