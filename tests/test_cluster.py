"""`gaitanon-cli batch --cluster local` on the clips in ../shared/data/clips, against the plain batch.

The cluster is the one a user gets: the CLI in a process of its own, pinned to
2 cores, so `--cluster local` starts `ray.init(num_cpus=2)`. One cluster batch is
killed (every process of it, SIGKILL) after its first finished clip and resumed
with --skip-existing; its outputs are then compared with a plain batch of the
same clips and the same --seed, and its manifest is checked. A damaged file
sits among the clips.

Sockets: while it runs, the local cluster listens on TCP ports of 127.0.0.1 only
(seen here: the GCS server, the raylet, the runtime-env agent, and the core-worker
gRPC server of the driver and of each worker; ports are random; the dashboard
agent only connects) and on Unix sockets in its private session folder.
`test_the_local_cluster_listens_on_loopback_only` checks every TCP socket the
batch's processes hold: listening on the loopback address, or connected to it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from gaitanon_core.batch import model_sha256s
from gaitanon_core.options import default_strength
from gaitanon_core.paths import models_dir
from gaitanon_core.video import probe, read_frames
from gaitanon_core.video.writer import STALE_TEMP_AGE_S, TEMP_PREFIX
from tests.conftest import HAVE_SHARED_DATA, SHARED_DATA
from tests.hardening.support import cli_command, cli_env, sha256

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                       reason="Ray is not installed (pip install -e '.[cluster]')"),
    pytest.mark.skipif(not HAVE_SHARED_DATA, reason=f"research data not found at {SHARED_DATA}"),
    pytest.mark.skipif(not (models_dir() / "manifest.json").is_file(), reason="no shipped models in models/"),
]

SEED = "7"
CLUSTER_CORES = 2
GREY_LEVELS = 2  # a frame of the cluster's output may differ from the local one by this much on average
RUN_TIMEOUT_S = 900
FIRST_CLIP_TIMEOUT_S = 300
GONE_TIMEOUT_S = 30
LOOPBACK = ("127.0.0.1", "::1", "::ffff:127.0.0.1")


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """The shared clips and a damaged file, in a folder of their own."""
    folder = tmp_path_factory.mktemp("archive") / "in"
    folder.mkdir()
    for clip in sorted((SHARED_DATA / "clips").iterdir()):
        shutil.copy(clip, folder / clip.name)
    (folder / "damaged.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    return folder


def _on_two_cores() -> None:
    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:CLUSTER_CORES])


@pytest.fixture(scope="module")
def short_tmp() -> Iterator[Callable[[], Path]]:
    """Private temporary folders short enough for Ray's Unix sockets (else the cluster falls back to /tmp)."""
    made: list[Path] = []

    def make() -> Path:
        made.append(Path(tempfile.mkdtemp(prefix="gt16-", dir="/tmp")))
        return made[-1]

    yield make
    for folder in made:
        shutil.rmtree(folder, ignore_errors=True)


def _start(tmpdir: Path, *args: str) -> subprocess.Popen:
    """The CLI as a job of its own (a new session, so every process of the batch can be found)."""
    return subprocess.Popen(cli_command(*args), env=cli_env(tmpdir), start_new_session=True,
                            preexec_fn=_on_two_cores, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _run(tmpdir: Path, *args: str) -> subprocess.CompletedProcess:
    process = _start(tmpdir, *args)
    out, err = process.communicate(timeout=RUN_TIMEOUT_S)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def _session(sid: int) -> list[int]:
    """The live processes of session `sid` (from /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text() if entry.name.isdigit() else ""
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split() if stat else []
        if fields and int(fields[3]) == sid and fields[0] != "Z":
            pids.append(int(entry.name))
    return pids


def _kill_session(sid: int) -> None:
    for pid in _session(sid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _wait_gone(sid)


def _wait_gone(sid: int) -> None:
    deadline = time.monotonic() + GONE_TIMEOUT_S
    while _session(sid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _session(sid) == [], "processes of the batch outlived it"


def _address(hex_address: str) -> str:
    """/proc/net/tcp's '0100007F:1F90' (or its IPv6 form) -> '127.0.0.1'."""
    raw = bytes.fromhex(hex_address.split(":")[0])
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    if len(words) == 4:
        return ".".join(str(b) for b in words)
    if words[:12] == bytes(10) + b"\xff\xff":
        return "::ffff:" + ".".join(str(b) for b in words[12:])
    return "::1" if words == bytes(15) + b"\x01" else words.hex()


def _tcp_sockets(sid: int) -> list[tuple[str, str, str]]:
    """(process name, local address, remote address or 'LISTEN') of every TCP socket the session holds."""
    owners: dict[str, str] = {}
    for pid in _session(sid):
        try:
            name = Path(f"/proc/{pid}/comm").read_text().strip()
            links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        except OSError:
            continue
        owners.update({link[8:-1]: name for link in links if link.startswith("socket:[")})
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            local, remote, state, inode = (row.split()[i] for i in (1, 2, 3, 9))
            if inode in owners:
                found.append((owners[inode], _address(local), "LISTEN" if state == "0A" else _address(remote)))
    return found


@dataclass
class ClusterRun:
    out: Path
    manifest: Path
    before_kill: list[dict]
    sockets: list[tuple[str, str, str]]
    resumed: subprocess.CompletedProcess
    resumed_tmp: Path  # the resumed run's TMPDIR


def _records(manifest: Path) -> list[dict]:
    return [json.loads(line) for line in manifest.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def local_batch(archive, tmp_path_factory, short_tmp) -> Path:
    root = tmp_path_factory.mktemp("local")
    done = _run(short_tmp(), "batch", str(archive), "-o", str(root / "out"), "--seed", SEED)
    assert done.returncode == 1, done.stderr[-3000:]  # the damaged file failed
    return root / "out"


@pytest.fixture(scope="module")
def cluster_batch(archive, tmp_path_factory, short_tmp) -> ClusterRun:
    root = tmp_path_factory.mktemp("cluster")
    out, manifest = root / "out", root / "out.manifest.jsonl"
    args = ("batch", str(archive), "-o", str(out), "--seed", SEED, "--cluster", "local")
    first = _start(short_tmp(), *args)
    try:
        deadline = time.monotonic() + FIRST_CLIP_TIMEOUT_S
        while not any(r["status"] != "failed" for r in (_records(manifest) if manifest.exists() else [])):
            assert first.poll() is None and time.monotonic() < deadline, first.stderr.read()[-3000:]
            time.sleep(0.2)
        sockets = _tcp_sockets(first.pid)
    finally:
        _kill_session(first.pid)  # the whole job, Ray's processes included, as a kill -9 or a power cut
    first.communicate()
    old = time.time() - STALE_TEMP_AGE_S - 60  # time passes: a killed writer's leftover becomes stale
    for leftover in out.rglob(f"{TEMP_PREFIX}*"):
        os.utime(leftover, (old, old))
    before_kill = _records(manifest)
    resumed_tmp = short_tmp()
    resumed = _run(resumed_tmp, *args, "--skip-existing")
    return ClusterRun(out, manifest, before_kill, sockets, resumed, resumed_tmp)


def _grey_frames(path: Path) -> list[np.ndarray]:
    info = probe(path)
    return [cv2.cvtColor(frame.image, cv2.COLOR_BGR2GRAY).astype(np.int16) for frame in read_frames(path, info)]


def test_cluster_outputs_match_the_local_batch_within_two_grey_levels(archive, local_batch, cluster_batch) -> None:
    local = sorted(p.name for p in local_batch.iterdir())
    assert sorted(p.name for p in cluster_batch.out.iterdir()) == local, "the same outputs, no temporary file"
    assert len(local) == len([p for p in archive.iterdir() if p.name != "damaged.mp4"])
    for name in local:
        ours, theirs = _grey_frames(cluster_batch.out / name), _grey_frames(local_batch / name)
        assert len(ours) == len(theirs) > 0, name
        differences = [float(np.abs(a - b).mean()) for a, b in zip(ours, theirs)]
        assert max(differences) <= GREY_LEVELS, (name, max(differences))


def test_the_manifest_records_every_clip_with_its_checksums(archive, cluster_batch) -> None:
    assert cluster_batch.resumed.returncode == 1, cluster_batch.resumed.stderr[-3000:]  # the damaged file
    assert "1 failed" in cluster_batch.resumed.stdout
    models, strength = model_sha256s(None), default_strength()
    latest = {record["input"]: record for record in _records(cluster_batch.manifest)}
    assert sorted(latest) == sorted(str(p.resolve()) for p in archive.iterdir())
    for source, record in latest.items():
        assert record["input_sha256"] == sha256(Path(source))
        assert record["strength"] == strength and record["models"] == models
        if source.endswith("damaged.mp4"):
            assert record["status"] == "failed" and record["exit_code"] == 1 and record["output_sha256"] is None
            continue
        if record["status"] == "unrecorded":  # renamed complete just before the kill, its line not yet written:
            assert record["output_sha256"] == sha256(cluster_batch.out / record["output"])  # found on resume
            continue
        assert record["status"] in ("done", "flagged") and record["exit_code"] == (3 if record["flagged_frames"] else 0)
        assert record["output_sha256"] == sha256(cluster_batch.out / record["output"])
    flagged = sorted(r["output"] for r in latest.values() if r["status"] == "flagged")
    review = [line for line in cluster_batch.resumed.stdout.splitlines() if line.startswith("review first")]
    assert all(name in review[0] for name in flagged) if flagged else review == []


def test_kill_and_resume_redoes_exactly_what_was_missing(archive, cluster_batch) -> None:
    finished = [r for r in cluster_batch.before_kill if r["status"] != "failed"]
    assert finished, "the batch was killed after its first finished clip"
    records = _records(cluster_batch.manifest)
    for record in finished:
        again = [r for r in records if r["input"] == record["input"]]
        assert again == [record], "a clip finished before the kill is neither redone nor recorded again"
        assert sha256(cluster_batch.out / record["output"]) == record["output_sha256"]
        assert f"{Path(record['input']).name}: skipped" in cluster_batch.resumed.stderr
    videos = len(list(archive.iterdir()))
    done_now = [line for line in cluster_batch.resumed.stderr.splitlines() if line.startswith("[")]
    # A clip renamed complete in the instant before the kill has no line yet: the resumed run skips it and
    # records it as found ("unrecorded"), without doing it again.
    unrecorded = [r for r in records if r["status"] == "unrecorded"]
    assert all(f"{Path(r['input']).name}: skipped" in cluster_batch.resumed.stderr for r in unrecorded)
    assert len(done_now) == videos - len(finished) - len(unrecorded), "one progress line per clip the resumed run did"
    assert "Traceback" not in cluster_batch.resumed.stderr
    assert list(cluster_batch.out.rglob(f"{TEMP_PREFIX}*")) == []
    assert list(cluster_batch.resumed_tmp.iterdir()) == [], "the cluster's session folder is removed"


def test_the_local_cluster_listens_on_loopback_only(cluster_batch) -> None:
    listening = [(name, local) for name, local, remote in cluster_batch.sockets if remote == "LISTEN"]
    assert listening, "the cluster was up when its sockets were read"
    assert [s for s in cluster_batch.sockets if s[1] not in LOOPBACK or s[2] not in (*LOOPBACK, "LISTEN")] == []


def test_ctrl_c_cancels_the_cluster_batch_and_leaves_no_partial_file(tmp_path, short_tmp) -> None:
    source, out = tmp_path / "in", tmp_path / "out"
    source.mkdir()
    for name in ("demo1.mp4", "demo2.mp4"):  # the longest clips: both still running when Ctrl-C comes
        shutil.copy(SHARED_DATA / "clips" / name, source / name)
    tmpdir = short_tmp()
    process = _start(tmpdir, "batch", str(source), "-o", str(out), "--cluster", "local")
    try:
        deadline = time.monotonic() + FIRST_CLIP_TIMEOUT_S
        while not list(out.glob(f"{TEMP_PREFIX}*")):
            assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()[-3000:]
            time.sleep(0.1)
        os.killpg(process.pid, signal.SIGINT)  # what a terminal sends its foreground job
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            _kill_session(process.pid)
    assert process.returncode == 130 and "interrupted" in err and "Traceback" not in err, err[-3000:]
    _wait_gone(process.pid)
    finished = {r["output"] for r in _records(tmp_path / "out.manifest.jsonl")} if (
        tmp_path / "out.manifest.jsonl").exists() else set()
    assert sorted(p.name for p in out.iterdir()) == sorted(finished), "finished outputs only, no partial file"
    assert list(tmpdir.iterdir()) == [], "the cluster's session folder is removed"
