"""Nothing lost: a CLI killed mid-export (SIGTERM, SIGKILL, Ctrl-C) leaves the target absent or the
complete earlier file, the input intact and no ffmpeg behind; the next run cleans up after it; an
interrupted batch restarted with --skip-existing finishes the rest.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from gaitanon_core.video import probe
from gaitanon_core.video.writer import STALE_TEMP_AGE_S, TEMP_PREFIX
from tests.hardening import corpus as C
from tests.hardening.support import cli_command, cli_env, folder_listing, sha256

LONG_CLIP_S = 12.0  # long enough that the export is surely still running when the signal arrives
EXPORT_START_TIMEOUT_S = 120.0
EXIT_TIMEOUT_S = 30.0
CHILD_GRACE_S = 10.0
EXIT_INTERRUPTED = 130  # the shell's code for Ctrl-C, which the CLI returns


@pytest.fixture(scope="module")
def long_walk(corpus) -> Path:
    """The walker window looped to LONG_CLIP_S seconds."""
    case = C.GoodCase("long_walk", "long_walk.mp4", seconds=LONG_CLIP_S)
    return C.build_good(case, corpus.walker_scene(), corpus.root / "long_walk")


def _start(args: list[str], tmpdir: Path) -> subprocess.Popen:
    """The CLI in a process group of its own (as a shell job), so its children can be found."""
    return subprocess.Popen(cli_command(*args), env=cli_env(tmpdir), cwd=tmpdir, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_for_temp_file(folder: Path, process: subprocess.Popen) -> None:
    """Until the writer has put some frames into its temporary file beside the target."""
    deadline = time.monotonic() + EXPORT_START_TIMEOUT_S
    while time.monotonic() < deadline:
        temps = list(folder.glob(f"{TEMP_PREFIX}*"))
        if temps and temps[0].stat().st_size > 0:
            return
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        time.sleep(0.1)
    raise AssertionError("the export never started")


def _group_members(group: int) -> list[str]:
    """Command names of the live processes in process group `group` (from /proc)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[2]) == group and fields[0] != "Z":
            members.append(stat[stat.index("(") + 1: stat.rindex(")")])
    return members


def _assert_group_gone(group: int) -> None:
    deadline = time.monotonic() + CHILD_GRACE_S
    while _group_members(group) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _group_members(group) == [], f"still running after the CLI died: {_group_members(group)}"


def _interrupt(source: Path, target: Path, models: Path, tmpdir: Path, sig: signal.Signals,
               *extra: str) -> subprocess.CompletedProcess:
    """Run the CLI, send `sig` mid-export (to the CLI; SIGINT to its whole group, as a terminal does)."""
    process = _start(["anonymize", str(source), "-o", str(target), "--models", str(models), *extra], tmpdir)
    try:
        _wait_for_temp_file(target.parent, process)
        if sig == signal.SIGINT:
            os.killpg(process.pid, sig)
        else:
            process.send_signal(sig)
        _, stderr = process.communicate(timeout=EXIT_TIMEOUT_S)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    _assert_group_gone(process.pid)
    return subprocess.CompletedProcess(process.args, process.returncode, b"", stderr)


def _age_leftovers(folder: Path) -> None:
    """Make the killed run's temporary files older than the writer's stale age.

    The writer removes a leftover only once its process is gone AND it is older
    than STALE_TEMP_AGE_S (a file that young may belong to a live run on another
    machine sharing the folder); this stands for the time passing before the next run.
    """
    old = time.time() - STALE_TEMP_AGE_S - 60
    for path in folder.glob(f"{TEMP_PREFIX}*"):
        os.utime(path, (old, old))


def _finish_normally(source: Path, target: Path, models: Path, tmpdir: Path, *extra: str) -> None:
    done = subprocess.run(cli_command("anonymize", str(source), "-o", str(target), "--models", str(models),
                                      *extra), env=cli_env(tmpdir), capture_output=True, timeout=300, check=False)
    assert done.returncode in (0, 3), done.stderr.decode()[-2000:]


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)
def test_killed_export_leaves_no_target_and_the_next_run_cleans_up(sig, long_walk, product_models, tmp_path):
    before = sha256(long_walk)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "anonymized.mp4"
    _interrupt(long_walk, target, product_models, tmp_path, sig)
    assert not target.exists()
    assert sha256(long_walk) == before
    _age_leftovers(out_dir)
    _finish_normally(long_walk, target, product_models, tmp_path)
    assert folder_listing(out_dir) == ["anonymized.mp4"]  # the killed run's temporary file is gone
    assert probe(target).frame_count == probe(long_walk).frame_count


@pytest.mark.slow
def test_killed_overwrite_keeps_the_earlier_complete_file(long_walk, product_models, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "anonymized.mp4"
    _finish_normally(long_walk, target, product_models, tmp_path)
    earlier = sha256(target)
    _interrupt(long_walk, target, product_models, tmp_path, signal.SIGKILL, "--overwrite")
    assert sha256(target) == earlier


@pytest.mark.slow
def test_ctrl_c_removes_the_partial_output_at_once(long_walk, product_models, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    done = _interrupt(long_walk, out_dir / "anonymized.mp4", product_models, tmp_path, signal.SIGINT)
    stderr = done.stderr.decode()
    assert done.returncode == EXIT_INTERRUPTED, stderr[-2000:]
    assert "Traceback" not in stderr and "interrupted" in stderr
    assert folder_listing(out_dir) == []


@pytest.mark.slow
def test_interrupted_batch_resumes_with_skip_existing(corpus, product_models, tmp_path):
    in_dir, out_dir = tmp_path / "in", tmp_path / "out"
    names = ["a.mp4", "b.mov", "sub/c.mkv"]
    for name in names:
        case = C.GoodCase(f"batch_{name}", Path(name).name, seconds=LONG_CLIP_S / 2)
        C.build_good(case, corpus.walker_scene(), (in_dir / name).parent)
    first_output = out_dir / "a_mp4.mp4"
    process = _start(["batch", str(in_dir), "-o", str(out_dir), "--models", str(product_models)], tmp_path)
    try:
        deadline = time.monotonic() + 2 * EXPORT_START_TIMEOUT_S
        while not first_output.exists() and time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            time.sleep(0.1)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=EXIT_TIMEOUT_S)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    _assert_group_gone(process.pid)
    for folder in {out_dir, *(p.parent for p in out_dir.rglob("*"))}:
        _age_leftovers(folder)
    finished_first = sha256(first_output)
    resumed = subprocess.run(
        cli_command("batch", str(in_dir), "-o", str(out_dir), "--models", str(product_models), "--skip-existing"),
        env=cli_env(tmp_path), capture_output=True, timeout=600, check=False)
    assert resumed.returncode in (0, 3), resumed.stderr.decode()[-2000:]
    assert "skipped" in resumed.stderr.decode()
    assert sha256(first_output) == finished_first  # skipped, not redone
    outputs = sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file())
    assert outputs == ["a_mp4.mp4", "b_mov.mp4", "sub/c_mkv.mp4"]  # and no temporary file anywhere
    for output, name in zip(outputs, sorted(names)):
        assert probe(out_dir / output).frame_count == probe(in_dir / name).frame_count
