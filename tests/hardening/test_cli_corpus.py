"""`gaitanon-cli anonymize` on every corpus case, as a user runs it (a subprocess with a timeout).

Good cases (the demo walker in every container, codec, size, rotation, rate and
file name of the corpus): exit 0 or 3, an upright H.264 MP4 with every frame at
its source time, no audio, no metadata, the input untouched, nothing else
written. Bad cases and bad requests: one `gaitanon-cli: error:` line, the
documented exit code, no output, no temporary file, the input untouched.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gaitanon_core.errors import EXIT_FAILED, EXIT_FLAGGED, EXIT_OK, EXIT_USAGE
from gaitanon_core.video import frame_times, probe
from tests.hardening import corpus as C
from tests.hardening import leakcheck
from tests.hardening.support import assert_clean_failure, folder_listing, media_file, sha256

CLI_GOOD = [c for c in C.GOOD_CASES if not c.slow]
NOBODY_WORDS = ("nobody", "no person", "no one", "no walking person")
DISK_LIMIT_BYTES = 16 * 1024  # far below one anonymized clip, far above any text the CLI prints
NOBODY_UID = 65534
UHD_TIMEOUT_S = 600.0  # measured: 280 s on the shared 2-core machine (background model and silhouettes)


def anonymize(run_cli, source: Path, target: Path, models: Path, *extra: str, **limits):
    report = target.with_suffix(".json")
    return run_cli("anonymize", str(source), "-o", str(target), "--models", str(models), "--report", str(report),
                   *extra, **limits)


def _relative(times: np.ndarray) -> np.ndarray:
    return times - times[0]


def assert_correct_output(source: Path, target: Path, shown: tuple[int, int]) -> dict:
    """The output is a complete, upright, stripped copy of the source's time line; returns the report."""
    out, original = probe(target), probe(source)
    assert out.frame_count == original.frame_count
    assert abs(out.width - shown[0]) <= 1 and abs(out.height - shown[1]) <= 1, (out.width, out.height, shown)
    assert out.rotation == 0 and not out.has_audio
    assert out.metadata == {} and out.other_streams == []
    source_times = frame_times(source)
    half_frame = 0.5 * float(np.min(np.diff(source_times)))
    assert np.max(np.abs(_relative(frame_times(target)) - _relative(source_times))) < half_frame
    report = json.loads(target.with_suffix(".json").read_text())
    assert report["frames"] == original.frame_count
    return report


def assert_no_crash(result) -> None:
    text = result.stdout + result.stderr
    assert "Traceback" not in text and "internal error" not in text, text[-3000:]
    assert result.stray_files() == [], result.stray_files()


def assert_nobody_not_silent(result, target: Path) -> None:
    """A clip with nobody in it is refused, or copied through with a note: never silently."""
    if result.returncode == EXIT_FAILED:
        assert_clean_failure(result, {EXIT_FAILED})
        assert not target.exists()
        return
    assert_no_crash(result)
    assert result.returncode in (EXIT_OK, EXIT_FLAGGED), result.stderr[-2000:]
    said = (result.stdout + result.stderr).lower()
    assert any(word in said for word in NOBODY_WORDS), said[-2000:]


@pytest.mark.parametrize("case", CLI_GOOD, ids=lambda c: c.name)
def test_good_case_gives_a_correct_output(case, corpus, product_models, run_cli, tmp_path):
    source = corpus.walker(case)
    before = sha256(source)
    target = tmp_path / "out" / "anonymized.mp4"
    target.parent.mkdir()
    result = anonymize(run_cli, source, target, product_models)
    assert sha256(source) == before
    if not case.findable and result.returncode == EXIT_FAILED:
        assert_nobody_not_silent(result, target)  # refusing a person too small to find is fine
        return
    assert_no_crash(result)
    assert result.returncode in (EXIT_OK, EXIT_FLAGGED), result.stderr[-2000:]
    assert folder_listing(target.parent) == ["anonymized.json", "anonymized.mp4"]
    report = assert_correct_output(source, target, case.shown_size(corpus.walker_scene()))
    if report["frames_without_person"] == report["frames"]:
        assert_nobody_not_silent(result, target)


@pytest.mark.slow
def test_uhd_4k_gives_a_correct_output(corpus, product_models, run_cli, tmp_path):
    """3840x2160, 2 s (50 frames)."""
    case = next(c for c in C.GOOD_CASES if c.name == "uhd_4k")
    source = corpus.walker(case)
    target = tmp_path / "anonymized.mp4"
    result = anonymize(run_cli, source, target, product_models, "--preset", "ultrafast", timeout=UHD_TIMEOUT_S)
    assert_no_crash(result)
    assert result.returncode in (EXIT_OK, EXIT_FLAGGED), result.stderr[-2000:]
    assert_correct_output(source, target, (3840, 2160))


def test_person_entering_and_leaving(corpus, product_models, run_cli, tmp_path):
    """The whole walk: empty room, the walker entering at one edge, crossing and leaving at the other."""
    scene = corpus.walker_full()
    source = C.build_good(C.GOOD_CASES[0], scene, tmp_path / "in")
    target = tmp_path / "anonymized.mp4"
    result = anonymize(run_cli, source, target, product_models)
    assert_no_crash(result)
    assert result.returncode in (EXIT_OK, EXIT_FLAGGED), result.stderr[-2000:]
    report = assert_correct_output(source, target, (scene.width, scene.height))
    in_view = sum(1 for k in range(scene.count) if scene.person(k).sum() >= leakcheck.MIN_BODY_PIXELS)
    assert report["frames_without_person"] <= scene.count - in_view, (report, in_view)  # none passed as empty


@pytest.mark.parametrize("case", C.BAD_CASES, ids=lambda c: c.name)
def test_bad_case_gives_one_clear_error(case, corpus, product_models, run_cli, tmp_path):
    source = corpus.bad(case)
    before = sha256(source)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = anonymize(run_cli, source, out_dir / "anonymized.mp4", product_models)
    assert_clean_failure(result, {case.exit_code})
    assert folder_listing(out_dir) == []
    assert sha256(source) == before


@pytest.fixture
def plain_source(corpus, tmp_path) -> Path:
    """A private copy of the plain walker clip (some tests put things beside it)."""
    folder = tmp_path / "in"
    folder.mkdir()
    return Path(shutil.copy(corpus.walker(C.GOOD_CASES[0]), folder / "walk.mp4"))


@pytest.mark.parametrize(("name", "extra", "exit_codes"), [
    ("strength_not_shipped", ("--strength", "0.25"), {EXIT_USAGE}),
    ("start_after_end", ("--start", "1.0", "--end", "0.5"), {EXIT_USAGE}),
    ("start_beyond_clip", ("--start", "999"), {EXIT_USAGE}),
    ("negative_start", ("--start", "-3"), {EXIT_USAGE}),
    ("crf_out_of_range", ("--crf", "99"), {EXIT_USAGE}),
    ("cuda_without_gpu", ("--device", "cuda"), {EXIT_USAGE}),
])
def test_bad_request_gives_one_clear_error(name, extra, exit_codes, plain_source, product_models, run_cli,
                                           tmp_path):
    if name == "cuda_without_gpu" and Path("/dev/nvidia0").exists():
        pytest.skip("this machine has a GPU")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = anonymize(run_cli, plain_source, out_dir / "anonymized.mp4", product_models, *extra)
    assert_clean_failure(result, exit_codes)
    assert folder_listing(out_dir) == []


def test_output_equal_to_input_is_refused(plain_source, product_models, run_cli):
    before = sha256(plain_source)
    result = run_cli("anonymize", str(plain_source), "-o", str(plain_source), "--models", str(product_models),
                     "--overwrite")
    assert_clean_failure(result, {EXIT_USAGE})
    assert sha256(plain_source) == before
    assert folder_listing(plain_source.parent) == ["walk.mp4"]


def test_existing_output_is_not_overwritten(plain_source, product_models, run_cli, tmp_path):
    target = tmp_path / "earlier.mp4"
    target.write_bytes(b"an earlier export")
    result = anonymize(run_cli, plain_source, target, product_models)
    assert_clean_failure(result, {EXIT_USAGE})
    assert target.read_bytes() == b"an earlier export"


@pytest.mark.parametrize(("name", "target"), [
    ("missing_folder", "no/such/folder/out.mp4"),
    ("not_mp4", "out.avi"),
])
def test_bad_output_path_is_refused(name, target, plain_source, product_models, run_cli, tmp_path):
    result = anonymize(run_cli, plain_source, tmp_path / target, product_models)
    assert_clean_failure(result, {EXIT_USAGE})
    assert not (tmp_path / target).exists()


@pytest.mark.parametrize("name", ["missing_input", "input_is_a_folder"])
def test_unusable_input_path_is_refused(name, product_models, run_cli, tmp_path):
    source = tmp_path / ("missing.mp4" if name == "missing_input" else "folder.mp4")
    if name == "input_is_a_folder":
        source.mkdir()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = anonymize(run_cli, source, out_dir / "anonymized.mp4", product_models)
    assert_clean_failure(result, {EXIT_FAILED, EXIT_USAGE})
    assert folder_listing(out_dir) == []


def test_full_disk_leaves_nothing(plain_source, product_models, run_cli, tmp_path):
    """RLIMIT_FSIZE stands for a full disk: every write past the limit fails (ffmpeg dies of SIGXFSZ)."""

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (DISK_LIMIT_BYTES, DISK_LIMIT_BYTES))

    out_dir = tmp_path / "out"
    out_dir.mkdir()
    before = sha256(plain_source)
    result = run_cli("anonymize", str(plain_source), "-o", str(out_dir / "anonymized.mp4"),
                     "--models", str(product_models), preexec_fn=small_disk)
    assert_clean_failure(result, {EXIT_FAILED})
    assert folder_listing(out_dir) == []
    assert sha256(plain_source) == before


@pytest.fixture
def open_to_others():
    """`open_to_others(folder)` lets another user read `folder` and traverse down to it (pytest makes
    its folders private to root); every mode changed is restored afterwards."""
    changed: dict[Path, int] = {}

    def add(path: Path, bits: int) -> None:
        mode = path.stat().st_mode
        if mode & bits != bits:
            changed.setdefault(path, mode)
            path.chmod(mode | bits)

    def open_folder(folder: Path) -> Path:
        for parent in folder.parents:
            add(parent, stat.S_IXOTH)
        for path in [folder, *folder.rglob("*")]:
            add(path, stat.S_IROTH | (stat.S_IXOTH if path.is_dir() else 0))
        return folder

    yield open_folder
    for path, mode in changed.items():
        path.chmod(mode)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root and setpriv to run the CLI as an unprivileged user")
def test_unwritable_output_folder_as_unprivileged_user(plain_source, product_models, run_cli, open_to_others,
                                                       tmp_path):
    """Root ignores permissions, so the CLI runs as `nobody` against a folder only root may write."""
    open_to_others(plain_source.parent)
    open_to_others(product_models)
    locked = tmp_path / "locked"
    locked.mkdir()
    open_to_others(locked)  # readable and enterable by anyone, writable by root only
    as_nobody = ("setpriv", f"--reuid={NOBODY_UID}", f"--regid={NOBODY_UID}", "--clear-groups")
    probe_run = subprocess.run([*as_nobody, sys.executable, "-c", "import gaitanon_core.cli"], capture_output=True,
                               timeout=60, check=False)
    if probe_run.returncode != 0:
        pytest.skip(f"an unprivileged user cannot run this checkout's Python here: {probe_run.stderr[-300:]!r}")
    result = run_cli("anonymize", str(plain_source), "-o", str(locked / "anonymized.mp4"),
                     "--models", str(product_models), prefix=as_nobody)
    assert_clean_failure(result, {EXIT_FAILED, EXIT_USAGE})
    assert folder_listing(locked) == []


def test_static_scene_with_nobody_is_not_silent(corpus, product_models, run_cli, tmp_path):
    room = corpus.walker_scene().clip.background
    scene = C.WalkerScene(type(corpus.walker_scene().clip)(
        frames=np.repeat(room[None], 40, axis=0), masks=np.zeros((40, *room.shape[:2]), bool),
        shadows=np.zeros((40, *room.shape[:2]), bool), background=room, fps=C.FPS), 0, 40)
    source = C.build_good(C.GOOD_CASES[0], scene, tmp_path / "in")
    target = tmp_path / "anonymized.mp4"
    assert_nobody_not_silent(anonymize(run_cli, source, target, product_models), target)


def test_damaged_opencv_sample_is_handled(product_models, run_cli, tmp_path):
    """OpenCV's deliberately damaged AVI (an animated face, nobody walking): refused or not silent."""
    source = media_file("Megamind_bugy.avi")
    before = sha256(source)
    target = tmp_path / "anonymized.mp4"
    result = anonymize(run_cli, source, target, product_models, "--end", "3")
    assert sha256(source) == before
    if result.returncode in (EXIT_OK, EXIT_FLAGGED) and target.exists():
        assert_no_crash(result)
        assert json.loads(target.with_suffix(".json").read_text())["flagged"], "a clip without a walker is flagged"
    else:
        assert_clean_failure(result, {EXIT_FAILED})
