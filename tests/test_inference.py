"""ModelBank: manifest, integrity, provider reporting, one draw per clip, seamless windows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from model_fixtures import build_model_bank

from gaitanon_core.errors import GaitanonError, UsageError
from gaitanon_core.inference.anonymizer import ClipAnonymizer, ModelBank

N = 64


@pytest.fixture(scope="module")
def bank_dir(tmp_path_factory) -> Path:
    return build_model_bank(tmp_path_factory.mktemp("models"), N, "fixture-layout")


def _contours(t: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 0.2, (t, N, 2)).astype(np.float32)


def _gpu_usable() -> bool:
    return any(p == "CUDAExecutionProvider" for p in ort.get_available_providers()) and Path("/dev/nvidia0").exists()


def test_cpu_machine_reports_cpu_and_says_so(bank_dir: Path, capfd) -> None:
    if _gpu_usable():
        pytest.skip("this machine has a GPU")
    bank = ModelBank(bank_dir, device="auto")
    assert bank.provider == "CPUExecutionProvider"
    assert "CPU" in bank.device_note
    assert "libcublas" not in capfd.readouterr().err, "ONNX Runtime's CUDA-missing line is silenced"
    assert ModelBank(bank_dir, device="cpu").device_note is None


def test_explicit_cuda_without_gpu_is_a_usage_error(bank_dir: Path) -> None:
    if _gpu_usable():
        pytest.skip("this machine has a GPU")
    with pytest.raises(UsageError, match="cuda"):
        ModelBank(bank_dir, device="cuda")


def test_unknown_device_is_a_usage_error(bank_dir: Path) -> None:
    with pytest.raises(UsageError, match="auto, cpu, cuda"):
        ModelBank(bank_dir, device="tpu")


def test_tampered_model_is_refused(bank_dir: Path, tmp_path: Path) -> None:
    for file in bank_dir.iterdir():
        (tmp_path / file.name).write_bytes(file.read_bytes())
    target = tmp_path / "anonymizer_a0.3.onnx"
    target.write_bytes(target.read_bytes() + b"\0")
    bank = ModelBank(tmp_path, device="cpu")  # the noise generator is intact
    with pytest.raises(GaitanonError, match="checksum"):
        bank.anonymize(_contours(3), 0.3)


def test_missing_manifest_is_one_plain_error(tmp_path: Path) -> None:
    with pytest.raises(GaitanonError, match="manifest"):
        ModelBank(tmp_path)


def test_strengths_are_the_shipped_alphas(bank_dir: Path) -> None:
    bank = ModelBank(bank_dir, device="cpu")
    assert bank.strengths == [0.2, 0.3, 0.4]
    with pytest.raises(UsageError, match="0.2, 0.3, 0.4"):
        bank.check_strength(0.25)


def test_one_noise_per_clip_and_a_fresh_draw_each_clip(bank_dir: Path) -> None:
    bank = ModelBank(bank_dir, device="cpu")
    contours = _contours(20)
    clip = bank.start_clip(0.3, np.random.default_rng(7))
    out = np.stack([o for _, o in clip.stream((None, c) for c in contours)])
    expected = contours + 0.6 * (clip.noise[0][None] - contours)  # the fixture's blend, one noise for all frames
    np.testing.assert_allclose(out, expected, atol=1e-5)
    assert not np.allclose(bank.anonymize(contours, 0.3), bank.anonymize(contours, 0.3)), "OS entropy each clip"
    np.testing.assert_array_equal(bank.anonymize(contours, 0.3, np.random.default_rng(1)),
                                  bank.anonymize(contours, 0.3, np.random.default_rng(1)))


@pytest.mark.parametrize("length", [1, 15, 64, 65, 112, 113, 200])
def test_windows_keep_order_and_payloads(bank_dir: Path, length: int) -> None:
    bank = ModelBank(bank_dir, device="cpu")
    contours = _contours(length)
    clip = bank.start_clip(0.2, np.random.default_rng(0))
    out = list(clip.stream(enumerate(contours)))
    assert [p for p, _ in out] == list(range(length))
    whole = clip.network.run(contours[None], clip.noise)[0]  # per-frame model: windows change nothing
    np.testing.assert_allclose(np.stack([o for _, o in out]), whole, atol=1e-5)


class _WindowAwareNetwork:
    """A stand-in for a time-aware generator: each run adds its own constant offset."""

    def __init__(self) -> None:
        self.runs = 0

    def run(self, contours: np.ndarray, noise: np.ndarray) -> np.ndarray:
        self.runs += 1
        return contours + 0.1 * self.runs


def test_windows_are_cross_faded_without_a_seam() -> None:
    network = _WindowAwareNetwork()
    clip = ClipAnonymizer(network, np.zeros((1, N, 2), np.float32))  # type: ignore[arg-type]
    still = np.zeros((150, N, 2), np.float32)
    out = np.stack([o for _, o in clip.stream(((None, c) for c in still), window=32, overlap=8)])
    steps = np.abs(np.diff(out[:, 0, 0]))
    assert network.runs > 3
    assert steps.max() <= 0.1 / 9 + 1e-6, "a window change is spread over the overlap, never a jump"


def test_manifest_io_names_are_used(bank_dir: Path, tmp_path: Path) -> None:
    for file in bank_dir.iterdir():
        (tmp_path / file.name).write_bytes(file.read_bytes())
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    for entry in manifest["models"]:
        entry["inputs"] = [{"name": n} for n in entry["inputs"]]
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert ModelBank(tmp_path, device="cpu").anonymize(_contours(4), 0.4).shape == (4, N, 2)


def test_frames_without_a_contour_pass_through_in_order(bank_dir: Path) -> None:
    bank = ModelBank(bank_dir, device="cpu")
    contours = _contours(90)
    clip = bank.start_clip(0.3, np.random.default_rng(0))
    items = [(i, None if i % 7 == 3 else contours[i]) for i in range(90)]
    out = list(clip.stream(items, window=16, overlap=4))
    assert [p for p, _ in out] == list(range(90))
    assert all((o is None) == (i % 7 == 3) for i, o in out)
    whole = clip.network.run(contours[None], clip.noise)[0]
    np.testing.assert_allclose(np.stack([o for _, o in out if o is not None]),
                               whole[[i for i in range(90) if i % 7 != 3]], atol=1e-5)


def test_a_generated_gait_cycle_reaches_every_window_whole(tmp_path: Path) -> None:
    folder = build_model_bank(tmp_path, N, "fixture-layout", cycle_frames=5)
    bank = ModelBank(folder, device="cpu")
    clip = bank.start_clip(0.3, np.random.default_rng(2))
    assert clip.noise.shape == (1, 5, N, 2)
    contours = _contours(100)
    out = np.stack([o for _, o in clip.stream(((None, c) for c in contours), window=32, overlap=8)])
    expected = contours + 0.6 * (clip.noise[0].mean(axis=0)[None] - contours)  # the fixture uses the cycle's mean
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_a_per_frame_noise_sequence_is_refused(bank_dir: Path, tmp_path: Path) -> None:
    for file in bank_dir.iterdir():
        (tmp_path / file.name).write_bytes(file.read_bytes())
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    for entry in manifest["models"]:
        entry["noise"] = {"kind": "sequence"}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(GaitanonError, match="never runs"):
        ModelBank(tmp_path, device="cpu")
