"""The set-based attacker (training/set_attacker.py) and the plateau loop (training/plateau.py):
the exported ONNX's contract on a tiny untrained network, set pooling's order invariance, and when
training stops. Nothing here trains a real attacker (that is cached, never part of CI)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnxscript")

from tests.conftest import needs_shared_data  # noqa: E402
from training.plateau import BestState, train_until_plateau  # noqa: E402
from training.set_attacker import (  # noqa: E402
    SET_EMBEDDING_DIM,
    SetAttacker,
    SetNet,
    WalkSet,
    _export,
    embed_torch,
    embedding_frames,
    load_walks,
)


def _random_walk(rng: np.random.Generator, frames: int) -> np.ndarray:
    walk = np.zeros((frames, 64, 64), dtype=bool)
    for t in range(frames):
        left, width = 24 + rng.integers(0, 6), 8 + rng.integers(0, 8)
        walk[t, rng.integers(0, 4) :, left : left + width] = True
    return walk


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    model = SetNet()
    model.eval()
    return model


@pytest.fixture(scope="module")
def exported(tiny_model, tmp_path_factory):
    path = tmp_path_factory.mktemp("set") / "set_tiny.onnx"
    _export(tiny_model, path)
    return path


def test_onnx_has_dynamic_batch_and_frames_and_matches_torch(tiny_model, exported):
    import onnxruntime as ort

    session = ort.InferenceSession(str(exported), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["silhouettes"]
    assert [o.name for o in session.get_outputs()] == ["embedding"]
    rng = np.random.default_rng(0)
    for batch, frames in [(1, 1), (1, 7), (2, 5), (3, 16), (2, 33)]:
        x = (rng.random((batch, frames, 64, 44)) > 0.5).astype(np.float32)
        out = session.run(["embedding"], {"silhouettes": x})[0]
        assert out.shape == (batch, SET_EMBEDDING_DIM)
        np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-4)
        with torch.no_grad():
            expected = tiny_model(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(out, expected, atol=1e-4)


def test_set_pooling_ignores_frame_order(tiny_model):
    rng = np.random.default_rng(1)
    x = torch.from_numpy((rng.random((2, 9, 64, 44)) > 0.5).astype(np.float32))
    shuffled = x[:, torch.from_numpy(rng.permutation(9))]
    with torch.no_grad():
        torch.testing.assert_close(tiny_model(x), tiny_model(shuffled), atol=1e-5, rtol=0)
        # a repeated frame adds nothing to a max over the set
        torch.testing.assert_close(tiny_model(x), tiny_model(torch.cat([x, x[:, :3]], dim=1)), atol=1e-5, rtol=0)


def test_set_attacker_embeds_walks_of_any_length_like_torch(tiny_model, exported):
    rng = np.random.default_rng(2)
    walks = [_random_walk(rng, n) for n in (1, 5, 40, 40, 90)]
    attacker = SetAttacker("tiny", exported)
    vectors = attacker.embed_walks(walks)
    assert vectors.shape == (5, SET_EMBEDDING_DIM)
    np.testing.assert_allclose(vectors, embed_torch(tiny_model, walks), atol=1e-4)
    # a walk's embedding does not depend on the walks beside it
    np.testing.assert_allclose(attacker.embed_walks(walks[2:3])[0], vectors[2], atol=1e-5)
    assert len(embedding_frames(90)) == 32 and list(embedding_frames(5)) == [0, 1, 2, 3, 4]


def test_walkset_round_trip(tmp_path):
    rng = np.random.default_rng(3)
    records = [("007", "nm-01", "090", -1, _random_walk(rng, 6)), ("008", "nm-05", "000", 2, _random_walk(rng, 3))]
    walks = WalkSet.from_walks(records)
    walks.select(np.array([False, True])).save(tmp_path / "bank.npz")
    loaded = WalkSet.load(tmp_path / "bank.npz")
    assert len(loaded) == 1 and loaded.subject[0] == "008" and loaded.draw[0] == 2
    np.testing.assert_array_equal(loaded.walk_frames(0), records[1][4])
    both = WalkSet.concatenate([walks, loaded])
    np.testing.assert_array_equal(both.walk_frames(2), records[1][4])
    np.testing.assert_array_equal(both.walk_frames(0, np.array([1, 4])), records[0][4][[1, 4]])


@needs_shared_data
def test_load_walks_reads_middle_frames_of_normal_walks():
    walks = load_walks(["007"], walks=["nm-05"], max_frames=40)
    assert len(walks) > 0 and set(walks.walk) == {"nm-05"}
    assert walks.length.max() <= 40 and walks.walk_frames(0).shape[1:] == (64, 64)


def _scripted(scores):
    run, validated = [], iter(scores)
    return run, (lambda epoch: run.append(epoch)), (lambda: next(validated))


def test_plateau_stops_after_patience_and_restores_the_best():
    run, run_epoch, validate = _scripted([0.5, 0.7, 0.65, 0.7, 0.9])
    saved, restored = [], []
    result = train_until_plateau(run_epoch, validate, patience=2, max_epochs=20, save_best=saved.append, restore_best=restored.append)
    assert run == [1, 2, 3, 4]  # 0.65 and then a tie (0.7) do not rise: stop before 0.9
    assert (result.best_epoch, result.best_score, result.plateaued) == (2, 0.7, True)
    assert result.scores == (0.5, 0.7, 0.65, 0.7)
    assert saved == [1, 2] and restored == [2]


def test_plateau_stops_at_max_epochs_while_still_rising():
    run, run_epoch, validate = _scripted([0.1, 0.2, 0.3, 0.4])
    result = train_until_plateau(run_epoch, validate, patience=2, max_epochs=3)
    assert run == [1, 2, 3] and (result.best_epoch, result.best_score, result.plateaued) == (3, 0.3, False)


def test_plateau_keeps_the_start_when_no_epoch_beats_it():
    run, run_epoch, validate = _scripted([0.5, 0.6])
    restored = []
    result = train_until_plateau(run_epoch, validate, initial_score=0.8, restore_best=restored.append)
    assert run == [1, 2] and result.best_epoch == 0 and result.best_score == 0.8 and restored == [0]


def test_plateau_resumes_from_history():
    run, run_epoch, validate = _scripted([0.75, 0.72, 0.9])
    after = []
    result = train_until_plateau(
        run_epoch, validate, patience=2, history=[0.6, 0.8, 0.7], after_epoch=lambda e, s, p: after.append((e, p.scores))
    )
    assert run == [4]  # epoch 3 was already one without a rise; epoch 4 is the second
    assert result.best_epoch == 2 and after == [(4, (0.6, 0.8, 0.7, 0.75))]
    # a finished run does nothing more
    run2, run_epoch2, validate2 = _scripted([])
    assert train_until_plateau(run_epoch2, validate2, history=[0.6, 0.8, 0.7, 0.75]).best_epoch == 2 and run2 == []


def test_best_state_restores_a_module(tiny_model):
    net = torch.nn.Linear(2, 2)
    keeper = BestState(net=net)
    keeper.save(3)
    before = net.weight.detach().clone()
    with torch.no_grad():
        net.weight.add_(1.0)
    keeper.restore(3)
    torch.testing.assert_close(net.weight, before)
    with pytest.raises(RuntimeError):
        keeper.restore(4)
