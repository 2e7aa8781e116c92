"""The training code on small synthetic walkers: shapes, losses, resumable runs, ONNX export and parity,
and the shipped models' manifest (seconds each; the export tests are marked slow)."""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pytest
import torch

from gaitanon_core.shape.codec import LAYOUT, N_POINTS, anchor_indices, encode_casiab
from training import dataset, surrogate, train_noise, train_stgan, validation
from training.dataset import Walk, extract_cycles, gait_period, mirror
from training.manifest import file_sha256, load_manifest
from training.models import NoiseAlign, STGANGenerator, blend_weight
from training.train_stgan import distance

from tests.conftest import needs_shared_data

PERIOD = 24


def walker_silhouettes(frames: int, width: float, leg: float, phase0: float = 0.0) -> np.ndarray:
    """A 64x64 CASIA-B-like side-view walker: head, torso and two swinging legs, (T, 64, 64) bool."""
    out = np.zeros((frames, 64, 64), np.uint8)
    for t in range(frames):
        swing = 0.45 * math.sin(2.0 * math.pi * t / PERIOD + phase0)
        canvas = out[t]
        cv2.circle(canvas, (32, 6), 5, 1, -1)
        cv2.ellipse(canvas, (32, 22), (int(5 * width), 12), 0, 0, 360, 1, -1)
        hip = (32, 32)
        for sign in (1, -1):
            foot = (int(32 + sign * leg * 28 * math.sin(swing)), int(32 + leg * 31 * math.cos(swing)))
            cv2.line(canvas, hip, foot, 1, 4)
    return out.astype(bool)


def synthetic_walks(subjects: tuple[str, ...], views: tuple[str, ...] = ("090",)) -> list[Walk]:
    """One identity per subject (body width, leg length), nm-01..06 per view, 50 frames each."""
    walks = []
    for i, subject in enumerate(subjects):
        for walk in ("nm-01", "nm-02", "nm-03", "nm-04", "nm-05", "nm-06"):
            sils = walker_silhouettes(50, width=0.9 + 0.15 * i, leg=0.8 + 0.05 * i, phase0=0.3 * i)
            walks += [Walk(subject, f"{walk}_{view}", encode_casiab(sils)) for view in views]
    return walks


@pytest.fixture(scope="module")
def walks() -> list[Walk]:
    return synthetic_walks(("061", "062", "063"))


def test_mirror_is_an_involution_and_swaps_the_feet(walks):
    seq = walks[0].contours
    np.testing.assert_allclose(mirror(mirror(seq)), seq)
    anchors = anchor_indices(N_POINTS)
    flipped = mirror(seq)
    np.testing.assert_allclose(flipped[:, anchors["left_foot"], 0], -seq[:, anchors["right_foot"], 0])


def test_gait_period_and_cycles_of_a_synthetic_walk(walks):
    seq = walks[0].contours
    assert abs(gait_period(seq) - PERIOD) <= 1
    cycles = extract_cycles(seq, phases=8)
    assert cycles.shape[1:] == (8, N_POINTS, 2) and len(cycles) >= 1


def test_cycle_noise_is_aligned_to_the_walk_in_either_direction(walks):
    seq = torch.from_numpy(walks[1].contours[:PERIOD])
    align = NoiseAlign("cycle", N_POINTS)
    shuffled = seq[torch.randperm(PERIOD)][None]  # phase order of the noise must not matter
    torch.testing.assert_close(align(seq[None], shuffled), seq[None], atol=1e-4, rtol=0)
    mirrored = torch.from_numpy(mirror(walks[1].contours[:PERIOD]))[None]
    torch.testing.assert_close(align(mirrored, shuffled), mirrored, atol=1e-4, rtol=0)


def test_l1_losses_keep_the_input_and_l2_losses_learn_the_blend():
    """The paper's trap: argmin |o - y| + alpha |o - n| is y for alpha < 1; in L2 it is the blend."""
    y, n, alpha = torch.zeros(1, 1, 1, 2), torch.ones(1, 1, 1, 2) / 64.0, 0.3
    grid = torch.linspace(-0.5, 1.5, 2001) / 64.0
    candidates = grid.reshape(-1, 1, 1, 1).expand(-1, 1, 1, 2)
    for kind, expected in (("l1", 0.0), ("l2", alpha / (1 + alpha))):
        total = distance(candidates, y, kind) + alpha * distance(candidates, n, kind)
        assert abs(float(grid[total.argmin()]) * 64.0 - expected) < 2e-3
    assert float(blend_weight(torch.tensor(alpha))) == pytest.approx(alpha / (1 + alpha))


def test_a_fresh_generator_outputs_the_l2_blend(walks):
    clip = torch.from_numpy(walks[0].contours[None, :10])
    noise = torch.from_numpy(walks[-1].contours[None, :PERIOD])  # another identity
    generator = STGANGenerator("cycle", "blend", N_POINTS, width=4)
    out, aligned = generator(clip, noise, torch.tensor([0.4]))
    torch.testing.assert_close(out, clip + (0.4 / 1.4) * (aligned - clip))
    assert out.shape == clip.shape


@pytest.fixture
def tiny_world(tmp_path, monkeypatch, walks):
    """Every trainer reads these synthetic walks, and writes under tmp_path instead of the cache."""
    monkeypatch.setenv("GAITANON_CACHE", str(tmp_path / "cache"))
    held_out = synthetic_walks(("077", "078"))

    def fake_load_walks(group, walk_prefixes=("nm", "bg", "cl")):
        return held_out if group == "validation" else walks

    for module in (dataset, surrogate, train_noise, train_stgan, validation):
        monkeypatch.setattr(module, "load_walks", fake_load_walks, raising=False)
    validation.validation_clips.cache_clear()
    validation.validation_walks.cache_clear()
    yield tmp_path
    validation.validation_clips.cache_clear()
    validation.validation_walks.cache_clear()


def tiny_stgan_config(steps: int) -> dict:
    config, _ = train_stgan.config_from_args(
        ["--preset", "shipped", "--steps", str(steps), "--batch", "2", "--length", "8", "--width", "4",
         "--log-every", "1", "--eval-every", "2", "--alphas", "0.2", "0.3"])
    return config


@pytest.mark.slow
def test_short_training_resumes_and_exports_with_parity(tiny_world):
    from training.export import export_anonymizer, export_noise_generator

    noise_config, _ = train_noise.config_from_args(["--phases", "8", "--components", "4", "--steps", "6", "--batch", "8",
                                                    "--log-every", "3"])
    noise_generator = train_noise.train(noise_config)
    surrogate_config = {"name": "surrogate", "steps": 3, "batch": 2, "length": 8, "lr": 1e-3, "seed": 1,
                        "log_every": 1, "group": "anonymiser", "subjects": ["061", "062", "063"]}
    surrogate.train(surrogate_config)
    train_stgan.train(tiny_stgan_config(steps=2))
    generator = train_stgan.train(tiny_stgan_config(steps=4))  # resumes at step 2
    log = [json.loads(line) for line in (tiny_world / "cache" / "ckpt" / "stgan_shipped" / "loss_log.jsonl").open()]
    assert [record["step"] for record in log] == [1, 2, 3, 4]
    assert all(np.isfinite(log[-1][k]) for k in ("loss_d", "loss_g", "adv", "rec", "per", "priv", "smooth"))
    assert 0.0 < log[-1]["distance_from_input"] < log[-1]["distance_from_noise"] + 1.0
    assert (tiny_world / "cache" / "ckpt" / "stgan_shipped" / "best.pt").exists()

    noise_io = export_noise_generator(noise_generator, tiny_world / "noise.onnx")
    assert noise_io["outputs"][0]["shape"] == ["B", 8, N_POINTS, 2]
    cycle = noise_generator(torch.randn(1, noise_generator.z_dim)).detach()
    io = export_anonymizer(generator, 0.3, cycle, tiny_world / "anonymizer.onnx")  # raises unless parity holds
    assert io["inputs"][0]["shape"] == ["B", "T", N_POINTS, 2]


SHIPPED = load_manifest()


@pytest.mark.skipif(not SHIPPED.get("models"), reason="no shipped models in models/manifest.json yet")
def test_shipped_models_match_the_manifest_and_run():
    import onnxruntime as ort

    from gaitanon_core.paths import models_dir

    folder = models_dir()
    assert SHIPPED["layout"] == LAYOUT and SHIPPED["n_points"] == N_POINTS
    entries = {e["role"]: e for e in SHIPPED["models"]}
    anonymizers = [e for e in SHIPPED["models"] if e["role"] == "anonymizer"]
    from gaitanon_core.options import default_strength

    assert default_strength(folder) in {e["alpha"] for e in anonymizers}
    for entry in [entries["noise_generator"], *anonymizers]:
        assert file_sha256(folder / entry["file"]) == entry["sha256"], entry["name"]
    noise_entry = entries["noise_generator"]
    z = np.random.default_rng(0).standard_normal((1, noise_entry["inputs"][0]["shape"][1])).astype(np.float32)
    noise = ort.InferenceSession(str(folder / noise_entry["file"])).run(None, {"z": z})[0]
    contours = encode_casiab(walker_silhouettes(37, 1.0, 0.85))[None]
    for entry in anonymizers:
        out = ort.InferenceSession(str(folder / entry["file"])).run(None, {"contours": contours, "noise": noise})[0]
        assert out.shape == contours.shape and np.isfinite(out).all()
        assert entry["validation"]["distance_from_input"] > 0.0


@needs_shared_data
@pytest.mark.skipif(not SHIPPED.get("models"), reason="no shipped models in models/manifest.json yet")
def test_anonymize_silhouettes_changes_a_real_walk_but_keeps_a_body():
    from gaitanon_core.shape.casiab import load_walk
    from training.anonymize_sils import anonymize_silhouettes

    sils = load_walk("085", "nm-05", "090")
    from gaitanon_core.options import default_strength

    out = anonymize_silhouettes(sils, default_strength(), np.random.default_rng(0))
    assert out.shape == sils.shape and out.dtype == bool
    iou = (out & sils).sum() / (out | sils).sum()
    assert 0.5 < iou < 0.99
