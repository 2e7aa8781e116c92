"""`gaitanon-cli anonymize` and `batch`: exit codes, one-line errors, progress, report, batch tree."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from model_fixtures import build_model_bank
from pipeline_fixtures import WalkerCase, make_walker_case, use_truth

from gaitanon_core.shape import codec as contours
from gaitanon_core.cli import main
from gaitanon_core.paths import models_dir
from gaitanon_core.people.silhouettes import segment_clip
from gaitanon_core.video import frame_times, probe
from tests.conftest import needs_shared_data

SHORT = ["--start", "2", "--end", "3"]  # 25 frames with the walker in view


@pytest.fixture(scope="module")
def case(tmp_path_factory) -> WalkerCase:
    return make_walker_case(tmp_path_factory.mktemp("walker"))


@pytest.fixture
def truth(case: WalkerCase, monkeypatch) -> WalkerCase:
    use_truth(monkeypatch, case)
    return case


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("gaitanon-cli: error:"), err
    assert "Traceback" not in err
    return lines[0]


def test_anonymize_writes_video_and_report(truth: WalkerCase, tmp_path: Path, capsys) -> None:
    target, report = tmp_path / "out.mp4", tmp_path / "report.json"
    code, out, err = _run(capsys, "anonymize", truth.video, "-o", target, "--models", truth.models, "--seed", 3,
                          "--device", "cpu", "--report", report, *SHORT)
    assert code == 0, err
    assert target.is_file() and "25 frames, 25 anonymized" in out
    assert "25/25 frames (100%)" in err, "progress goes to stderr"
    data = json.loads(report.read_text())
    assert data["frames"] == 25 and data["alpha"] == 0.3 and data["provider"] == "CPUExecutionProvider"
    assert data["flagged"] == [] and set(data["timings_s"]) >= {"decode", "silhouette", "colour", "encode"}


def test_flagged_frames_exit_3(case: WalkerCase, tmp_path: Path, capsys, monkeypatch) -> None:
    def lose(mask):
        if mask.index == 60:
            return replace(mask, person=np.zeros_like(mask.person), shadow=np.zeros_like(mask.shadow),
                           segmenter="none", body="absent", people=0)
        return mask

    use_truth(monkeypatch, case, lose)
    code, out, _ = _run(capsys, "anonymize", case.video, "-o", tmp_path / "out.mp4", "--models", case.models, *SHORT)
    assert code == 3
    assert ("flagged (bridged): person 1: the person was lost by the segmenter; their region is covered and a "
            "stand-in body drawn where their walk places them: frames 60") in out


def test_not_a_video_is_one_line_and_no_output(truth: WalkerCase, tmp_path: Path, capsys) -> None:
    fake = tmp_path / "holiday.mp4"
    fake.write_text("this is not a video")
    code, _, err = _run(capsys, "anonymize", fake, "-o", tmp_path / "out.mp4", "--models", truth.models)
    assert code == 1
    assert "holiday.mp4" in _one_error_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["holiday.mp4"]


def test_missing_input(truth: WalkerCase, tmp_path: Path, capsys) -> None:
    code, _, err = _run(capsys, "anonymize", tmp_path / "nope.avi", "-o", tmp_path / "out.mp4")
    assert code == 1 and "no such file" in _one_error_line(err)


def test_a_folder_as_input_points_to_batch(truth: WalkerCase, tmp_path: Path, capsys) -> None:
    code, _, err = _run(capsys, "anonymize", tmp_path, "-o", tmp_path / "out.mp4")
    assert code == 1 and "this is a folder" in _one_error_line(err) and "batch" in err


def test_strength_must_be_shipped(truth: WalkerCase, tmp_path: Path, capsys) -> None:
    code, _, err = _run(capsys, "anonymize", truth.video, "-o", tmp_path / "out.mp4", "--models", truth.models,
                        "--strength", "0.35")
    assert code == 2 and "0.2, 0.3, 0.4" in _one_error_line(err)
    assert list(tmp_path.iterdir()) == []


def test_existing_output_needs_overwrite(truth: WalkerCase, tmp_path: Path, capsys) -> None:
    target = tmp_path / "out.mp4"
    target.write_bytes(b"earlier result")
    code, _, err = _run(capsys, "anonymize", truth.video, "-o", target, "--models", truth.models, *SHORT)
    assert code == 2 and "already exists" in _one_error_line(err)
    assert target.read_bytes() == b"earlier result"
    code, _, _ = _run(capsys, "anonymize", truth.video, "-o", target, "--models", truth.models, "--overwrite", *SHORT)
    assert code == 0 and target.stat().st_size > 1000


def test_a_missing_output_folder_is_refused_before_the_work(truth: WalkerCase, tmp_path: Path, capsys) -> None:
    """Told at once, not after the people pass (minutes on a long clip): no progress line comes before it."""
    code, _, err = _run(capsys, "anonymize", truth.video, "-o", tmp_path / "gone" / "out.mp4", "--models",
                        truth.models, *SHORT)
    assert code == 2 and "the output folder does not exist" in _one_error_line(err)
    assert list(tmp_path.iterdir()) == []


def test_cuda_without_gpu_is_a_usage_error(truth: WalkerCase, tmp_path: Path, capsys) -> None:
    if Path("/dev/nvidia0").exists():
        pytest.skip("this machine has a GPU")
    code, _, err = _run(capsys, "anonymize", truth.video, "-o", tmp_path / "out.mp4", "--models", truth.models,
                        "--device", "cuda")
    assert code == 2 and "no usable CUDA GPU" in _one_error_line(err)


def test_bad_option_value_is_a_usage_error(truth: WalkerCase, tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["anonymize", str(truth.video), "-o", str(tmp_path / "out.mp4"), "--audio", "maybe"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def _batch_tree(case: WalkerCase, root: Path) -> Path:
    folder = root / "in"
    (folder / "day2").mkdir(parents=True)
    for name in ("a.avi", "a.mov", "day2/b.mp4"):
        shutil.copy(case.video, folder / name)
    (folder / "notes.txt").write_text("interview notes")
    (folder / "day2" / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    return folder


def test_batch_mirrors_tree_and_goes_on_after_a_failure(truth: WalkerCase, tmp_path: Path, capsys) -> None:
    source, target = _batch_tree(truth, tmp_path), tmp_path / "out"
    code, out, err = _run(capsys, "batch", source, "-o", target, "--models", truth.models, *SHORT)
    assert code == 1, "one file failed"
    written = sorted(str(p.relative_to(target)) for p in target.rglob("*.mp4"))
    assert written == ["a_avi.mp4", "a_mov.mp4", "day2/b_mp4.mp4"]
    assert "notes.txt: skipped (not a video)" in err
    assert "day2/broken.mp4: failed:" in err and "Traceback" not in err
    assert "batch: 3 anonymized (0 with flagged frames), 1 skipped, 1 failed" in out

    code, out, _ = _run(capsys, "batch", source, "-o", target, "--models", truth.models, "--skip-existing", *SHORT)
    assert "batch: 0 anonymized (0 with flagged frames), 4 skipped, 1 failed" in out


def test_batch_output_inside_input_is_refused(truth: WalkerCase, tmp_path: Path, capsys) -> None:
    source = _batch_tree(truth, tmp_path)
    code, _, err = _run(capsys, "batch", source, "-o", source / "anonymized", "--models", truth.models)
    assert code == 2 and "outside the input folder" in _one_error_line(err)


# --- the acceptance check on a real CASIA-B colour clip -------------------------------------------

MIN_CHANGE = 0.15  # the anonymized silhouette differs from the original by >= 15 % of its area ...
MIN_SHARE = 0.90  # ... in >= 90 % of the frames where the whole person is in view


def _model_folder(kind: str, tmp_path_factory) -> Path | None:
    """The shipped models (None: the default folder) or the test fixture's."""
    if kind == "shipped":
        if not (models_dir() / "manifest.json").is_file():
            pytest.skip("the shipped models are not in models/ yet")
        return None
    return build_model_bank(tmp_path_factory.mktemp("models"), contours.N_POINTS, contours.LAYOUT)


@needs_shared_data
@pytest.mark.slow
@pytest.mark.parametrize("kind", ["shipped", "fixture"])
def test_acceptance_on_a_casia_clip(kind: str, shared_data: Path, tmp_path: Path, tmp_path_factory, capsys) -> None:
    source, target = shared_data / "clips" / "002-nm-01-090.avi", tmp_path / "out.mp4"
    models = _model_folder(kind, tmp_path_factory)
    # One fixed draw (seed 0, the first tried) so the check is reproducible; README "Pipeline and CLI"
    # gives the spread over draws.
    code, _, err = _run(capsys, "anonymize", source, "-o", target, "--seed", 0,
                        *(["--models", models] if models else []))
    assert code in (0, 3), err
    before, after = probe(source), probe(target)
    assert after.frame_count == before.frame_count
    np.testing.assert_allclose(frame_times(target), frame_times(source), atol=0.5 / before.fps)
    assert after.metadata == {} and not after.has_audio and after.other_streams == []
    changed = [
        np.count_nonzero(a.person ^ b.person) / np.count_nonzero(a.person)
        for a, b in zip(segment_clip(source), segment_clip(target))
        if a.body == "whole"
    ]
    assert len(changed) > 40
    assert np.mean(np.array(changed) >= MIN_CHANGE) >= MIN_SHARE, sorted(np.round(changed, 3))[:10]


@needs_shared_data
@pytest.mark.slow
def test_phone_clip_keeps_times_and_audio_only_when_asked(shared_data: Path, tmp_path: Path, tmp_path_factory,
                                                           capsys) -> None:
    """A real portrait phone clip (variable frame rate, AAC audio): half a second of it, audio dropped then kept."""
    source = shared_data / "clips" / "demo1.mp4"
    models = _model_folder("fixture", tmp_path_factory)
    source_times = frame_times(source)
    wanted = source_times[(source_times >= 1.0) & (source_times < 1.5)]
    for audio in ("drop", "keep"):
        target = tmp_path / f"{audio}.mp4"
        code, _, err = _run(capsys, "anonymize", source, "-o", target, "--models", models, "--start", "1",
                            "--end", "1.5", "--audio", audio)
        assert code in (0, 3), err
        info = probe(target)
        assert info.has_audio == (audio == "keep") and info.metadata == {}
        np.testing.assert_allclose(frame_times(target), wanted - wanted[0], atol=0.5 / probe(source).fps)
