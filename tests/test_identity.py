"""The identity-replacement models (training.identity) on synthetic walkers: shapes, alignment of view and
phase, the no-fold property of a blend on synthetic outlines, different z -> different outputs, and an ONNX
export with parity and a complete candidate folder, all in tmp_path (seconds)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from gaitanon_core.shape.codec import N_POINTS, self_intersects
from training.splits import VIEWS
from training import train_identity
from training.identity import (IdentityGenerator, IdentitySwap, crossings_at, cut_small_loops, fit_identity_pca,
                               pose_deviation)

from tests.test_training import PERIOD, synthetic_walks, walker_silhouettes

PHASES = 8
V = len(VIEWS)


@pytest.fixture(scope="module")
def cycles() -> np.ndarray:
    """Per synthetic subject, an 8-phase cycle (P, N, 2) of a side-view walker."""
    from gaitanon_core.shape.codec import encode_casiab

    out = []
    for i in range(4):
        sils = walker_silhouettes(PERIOD, width=0.9 + 0.15 * i, leg=0.8 + 0.05 * i)
        out.append(encode_casiab(sils)[:: PERIOD // PHASES])
    return np.array(out, np.float32)


@pytest.fixture(scope="module")
def generator(cycles) -> IdentityGenerator:
    # Every "view" holds the same side-view cycle: enough for shapes and alignment.
    samples = np.repeat(cycles[:, None], V, axis=1)  # (4, V, P, N, 2)
    samples = np.concatenate([samples, samples + 0.01 * np.random.default_rng(0).standard_normal(samples.shape)])
    mean, basis, scale = fit_identity_pca(samples.astype(np.float32), 3)
    return IdentityGenerator(mean, basis, scale, V, PHASES, N_POINTS, z_dim=8).eval()


def test_pca_is_orthonormal_and_whitened(cycles):
    samples = np.repeat(cycles[:, None], 2, axis=1).reshape(len(cycles), -1)
    mean, basis, scale = fit_identity_pca(samples, 2)
    np.testing.assert_allclose(basis @ basis.T, np.eye(2), atol=1e-4)
    coefficients = (samples - mean) @ basis.T / scale
    np.testing.assert_allclose(coefficients.std(0, ddof=1), 1.0, atol=1e-3)


def test_shapes_and_different_z_give_different_people(generator, cycles):
    z = torch.randn(2, 8)
    noise = generator(z)
    assert noise.shape == (2, V * PHASES, N_POINTS, 2)
    clip = torch.from_numpy(cycles[0][None]).repeat(2, 3, 1, 1)  # (2, 24, N, 2)
    out = IdentitySwap(0.7, V, PHASES, N_POINTS)(clip, noise)
    assert out.shape == clip.shape
    assert float((out[0] - out[1]).abs().mean()) > 1e-4  # two draws, two people
    one = IdentitySwap(0.7, V, PHASES, N_POINTS)(clip[:1, :1], noise[:1])  # T = 1 works
    assert one.shape == (1, 1, N_POINTS, 2)


def test_zero_weight_is_the_input_and_full_weight_is_the_aligned_walker(generator, cycles):
    clip = torch.from_numpy(cycles[1][None]).repeat(1, 2, 1, 1)
    noise = generator(torch.randn(1, 8))
    torch.testing.assert_close(IdentitySwap(0.0, V, PHASES, N_POINTS)(clip, noise), clip)
    swap = IdentitySwap(1.0, V, PHASES, N_POINTS, jitter_keep=0.0)
    target, _ = swap.align(clip, noise)
    torch.testing.assert_close(swap(clip, noise), cut_small_loops(target))  # the generated walker, its small loops cut


def test_phase_alignment_follows_the_walk(cycles):
    """The generated walker is another (wider) person; each clip frame gets the phase it is in."""
    wider = cycles[0] * np.array([1.15, 1.0], np.float32)
    other = np.repeat(wider[None], V, axis=0).reshape(1, V * PHASES, N_POINTS, 2)
    swap = IdentitySwap(1.0, V, PHASES, N_POINTS, sharpness=200.0)
    clip = torch.from_numpy(np.roll(cycles[0], 3, axis=0)[None])  # clip frame t is phase (t - 3) mod P
    target, _ = swap.align(clip, torch.from_numpy(other))
    for t in range(1, PHASES - 1):  # the ends' phase weights are smoothed with a repeated neighbour
        # The synthetic legs swing symmetrically, so several phases share a pose: the true phase's pose
        # must be (one of) the nearest, allowing for the 3-frame smoothing of the phase weights.
        distance = ((wider - target[0, t].numpy()) ** 2).sum((1, 2))
        true = distance[(t - 3) % PHASES]
        assert true <= distance.min() + 0.25 * (distance.mean() - distance.min()), (t, distance)


def test_view_pick_prefers_the_matching_view(cycles):
    """Views hold different people-sized shapes; a clip of view 5's walker picks block 5 (or its mirror)."""
    blocks = np.stack([cycles[0] * np.array([1.0 + 0.1 * v, 1.0], np.float32) for v in range(V)])
    clip = torch.from_numpy(blocks[5][None])
    _, chosen = IdentitySwap(0.5, V, PHASES, N_POINTS).align(clip, torch.from_numpy(blocks.reshape(1, -1, N_POINTS, 2)))
    assert int(chosen[0]) in (5, V + 5)


def test_a_blend_of_two_walkers_in_step_does_not_fold(cycles):
    """The no-fold property on synthetic outlines: every blend weight between two phase-aligned walkers.

    It holds for the plain blend (jitter_keep 0); the input's kept jitter (jitter_keep 1) is what folds
    (on this 8-phase walker its "jitter" is fast leg motion, and the test fails with it)."""
    noise = np.repeat(cycles[2][None], V, axis=0).reshape(1, V * PHASES, N_POINTS, 2)
    clip = torch.from_numpy(np.tile(cycles[0], (2, 1, 1))[None])
    assert not any(self_intersects(c) for c in cycles.reshape(-1, N_POINTS, 2))
    for weight in (0.5, 0.7, 0.85, 1.0):
        out = IdentitySwap(weight, V, PHASES, N_POINTS, jitter_keep=0.0)(clip, torch.from_numpy(noise))[0].numpy()
        assert not any(self_intersects(c) for c in out), weight


def test_with_the_inputs_jitter_the_loop_cut_leaves_no_small_loop(cycles):
    """The input's jitter kept (jitter_keep 1) makes small loops on this fast synthetic walker; the cut
    removes every crossing of two edges at most 32 apart. (Its legs still cross, 55 edges apart: such
    folds are beyond the cut, and measured as they are.)"""
    noise = torch.from_numpy(np.repeat(cycles[2][None], V, axis=0).reshape(1, V * PHASES, N_POINTS, 2))
    clip = torch.from_numpy(np.tile(cycles[0], (2, 1, 1))[None])
    uncut = IdentitySwap(0.5, V, PHASES, N_POINTS, loop_cut=0)(clip, noise)
    assert any(bool(crossings_at(uncut, k).any()) for k in range(2, 33))
    for weight in (0.5, 0.85, 1.0):
        out = IdentitySwap(weight, V, PHASES, N_POINTS, loop_cut=32)(clip, noise)
        assert not any(bool(crossings_at(out, k).any()) for k in range(2, 33)), weight


def _circle(n: int = N_POINTS) -> np.ndarray:
    angle = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([0.3 * np.cos(angle), -0.5 * np.sin(angle)], -1).astype(np.float32)


def test_loop_cut_removes_small_loops_and_leaves_simple_outlines_alone():
    simple = torch.from_numpy(_circle())[None]
    torch.testing.assert_close(cut_small_loops(simple), simple, rtol=0, atol=0)
    for start, span in ((40, 2), (100, 5), (200, 20), (250, 9)):  # the last wraps round the start point
        looped = _circle()
        inside = (start + 1 + np.arange(span)) % N_POINTS
        looped[inside] = looped[inside[::-1]]  # the loop's points in reverse: its end edges cross
        assert self_intersects(looped), (start, span)
        cut = cut_small_loops(torch.from_numpy(looped)[None])[0].numpy()
        assert not self_intersects(cut), (start, span)
        untouched = np.setdiff1d(np.arange(N_POINTS), inside)
        np.testing.assert_array_equal(cut[untouched], looped[untouched])
    assert self_intersects(cut_small_loops(torch.from_numpy(looped)[None], max_edges=0)[0].numpy())  # 0: off


def test_pose_gain_scales_each_cycles_pose_and_keeps_its_mean(cycles):
    samples = np.repeat(cycles[:, None], V, axis=1)
    mean, basis, scale = fit_identity_pca(samples.astype(np.float32), 3)
    z = torch.randn(2, 8)
    plain = IdentityGenerator(mean, basis, scale, V, PHASES, N_POINTS, z_dim=8)(z).numpy().reshape(2, V, PHASES, N_POINTS, 2)
    gained = IdentityGenerator(mean, basis, scale, V, PHASES, N_POINTS, z_dim=8, pose_gain=1.5)(z).numpy()
    gained = gained.reshape(2, V, PHASES, N_POINTS, 2)
    np.testing.assert_allclose(gained.mean(2), plain.mean(2), atol=1e-5)
    assert pose_deviation(gained) == pytest.approx(1.5 * pose_deviation(plain), rel=1e-4)


@pytest.fixture
def tiny_identity(tmp_path, monkeypatch):
    monkeypatch.setenv("GAITANON_CACHE", str(tmp_path / "cache"))
    walks = synthetic_walks(("051", "052", "053"), views=VIEWS)
    monkeypatch.setattr(train_identity, "load_walks", lambda group, walk_prefixes=("nm", "bg", "cl"): walks)
    return tmp_path


def test_fit_resumes_and_exports_a_candidate_folder_with_parity(tiny_identity):
    args = ["--name", "tiny", "--components", "3", "--phases", "8", "--seed", "1"]
    train_identity.main(["fit", *args])
    generator, state = train_identity.load_identity("tiny")
    assert state["step"] == 1 and generator.components == 3
    assert 0.5 < float(generator.pose_gain) < 3.0  # fitted: real over generated pose deviation
    train_identity.main(["fit", *args])  # resumes: nothing refitted
    assert train_identity.load_identity("tiny")[1]["wall_time_s"] == state["wall_time_s"]
    folder = train_identity.export_candidate("tiny", [0.7], folder=tiny_identity / "candidate")
    manifest = json.loads((folder / "manifest.json").read_text())
    roles = sorted(e["role"] for e in manifest["models"])
    assert roles == ["anonymizer", "attacker", "noise_generator"]
    for entry in manifest["models"]:
        assert (folder / entry["file"]).is_file() and len(entry["sha256"]) == 64
    anonymizer = next(e for e in manifest["models"] if e["role"] == "anonymizer")
    assert anonymizer["alpha"] == 0.7 and anonymizer["noise"]["frames"] == V * 8
    assert anonymizer["configuration"]["loop_cut_edges"] == 32
    # The loop-cut-aware parity check still rejects a graph that differs off the cut points.
    example = generator(torch.zeros(1, generator.z_dim)).detach()
    feeds = {"contours": example[:, :12].contiguous(), "noise": example}
    config = state["config"]
    assert train_identity.loop_cut_parity(train_identity.build_anonymizer(config, 0.7), folder / anonymizer["file"], feeds) < 1e-4
    with pytest.raises(RuntimeError, match="parity"):
        train_identity.loop_cut_parity(train_identity.build_anonymizer(config, 0.5), folder / anonymizer["file"], feeds)
    assert manifest["layout"] and manifest["n_points"] == N_POINTS
