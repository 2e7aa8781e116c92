"""The evaluation: distortions, the identification protocol, and one tiny end-to-end run whose
manifest figures must equal its evaluation.json; plus a check that the committed manifest's
figures were measured on the very model files it lists."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import needs_shared_data
from gaitanon_core.paths import REPO_ROOT
from test_naturalness import stick_walker
from training import distortions
from training.attackers import GeiLdaAttacker, identify
from training.evaluation.data import parse_subjects
from training.evaluation.metrics import Embedded, equal_error_threshold, recognition_tables, success_tables


def rows(walk: np.ndarray) -> int:
    return int(walk.any(axis=2).sum(axis=1).max())


def test_distortions_keep_the_normalised_frame():
    walk = stick_walker(20, 28)
    for distorted in (distortions.dilate(walk), distortions.erode(walk), distortions.width_stretch(walk),
                      distortions.leg_stretch(walk), distortions.blur(walk)):
        assert distorted.shape == walk.shape and distorted.dtype == bool
        assert rows(distorted) == 64  # head to feet fills the height again
    assert distortions.dilate(walk).sum() > walk.sum() > distortions.erode(walk).sum()
    width = lambda w: w.any(axis=1).sum(axis=1).mean()  # noqa: E731
    assert width(distortions.width_stretch(walk, 1.3)) > 1.2 * width(walk)


def test_leg_stretch_lengthens_the_legs_relative_to_the_body():
    walk = stick_walker(8, 28)[7:]  # a quarter cycle: legs wide apart

    def crotch_row(w: np.ndarray) -> int:  # first empty row of the centre column below the torso
        return int(np.flatnonzero(~w[0, 12:, 32])[0]) + 12

    assert crotch_row(distortions.leg_stretch(walk, 1.3)) < crotch_row(walk) - 2


def test_contour_jitter_has_the_asked_amplitude_and_blend_weights():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(5, 100, 2))
    jittered = distortions.smooth_contour_jitter(points, 0.03, rng)
    assert np.sqrt(np.mean(np.sum((jittered - points) ** 2, axis=-1))) == pytest.approx(0.03)
    other = rng.normal(size=(3, 100, 2))
    assert np.allclose(distortions.blend_toward(points, other, 0.0), points)
    assert np.allclose(distortions.blend_toward(points, other, 1.0)[3], other[0])


def test_identify_ranks_subjects_by_their_nearest_walk():
    gallery = np.array([[0.0], [10.0], [20.0], [30.0]])
    subjects = np.array(["a", "a", "b", "c"])
    probes = np.array([[9.0], [21.0], [26.0]])
    result = identify(probes, np.array(["a", "c", "a"]), gallery, subjects)
    assert result.rank1.tolist() == [True, False, False]
    assert result.rank3.tolist() == [True, True, True]


def fake_embedded(subjects: list[str], walks: list[str], views: list[str], offset: float) -> Embedded:
    """One embedding per (subject, walk, view); a change of view makes each subject look like the next."""
    records = [(s, w, v) for s in subjects for w in walks for v in views]
    vectors = np.array([[10.0 * ((subjects.index(s) + views.index(v)) % len(subjects)) + offset] for s, w, v in records])
    return Embedded(vectors, *(np.array(column) for column in zip(*records)))


def test_recognition_tables_same_view_and_cross_view():
    gallery = fake_embedded(["s1", "s2", "s3"], ["nm-01", "nm-02"], ["000", "090"], 0.0)
    probes = fake_embedded(["s1", "s2", "s3"], ["nm-05"], ["000", "090"], 1.0)
    tables = recognition_tables(probes, gallery)
    assert set(tables) == {"nm"}  # no bg / cl probes given
    assert tables["nm"]["same_view"]["mean"]["rank1"] == 1.0
    assert tables["nm"]["cross_view"]["mean"]["rank1"] == 0.0  # the other view never counts as the same
    assert tables["nm"]["cross_view"]["per_view"]["000"]["rank3"] == 1.0  # 3 subjects: always in the top 3
    success = success_tables(tables)
    assert success["nm"]["same_view"]["mean"]["rank1"] == 0.0
    assert success["nm"]["cross_view"]["mean"]["rank1"] == 1.0
    assert success["nm"]["same_view"]["per_view"]["090"]["probes"] == 3


def test_parse_subjects_and_equal_error_threshold():
    assert parse_subjects(["085-087", "090", "086"]) == ("085", "086", "087", "090")
    threshold, eer = equal_error_threshold(np.array([0.1, 0.2, 0.3]), np.array([0.8, 0.9, 1.0]))
    assert 0.3 <= threshold < 0.8 and eer == 0.0


class GuessingAttacker:
    """Random embeddings: an attacker far below the 90% bar, whose success rates must be refused."""

    name = "guesser"

    def embed(self, walks) -> np.ndarray:
        return np.random.default_rng(len(walks.geis)).normal(size=(len(walks.geis), 8))


def tiny_attackers(data_dir: Path, models_dir: Path) -> dict:
    """A GEI+PCA/LDA fitted on a few attacker subjects (strong enough on same-view probes) and a
    guesser; an untrained CNN is installed as the models folder's attacker so the calibration runs."""
    import torch

    from training.attackers import GeiCnn
    from training.evaluation.suite import GeiAttacker
    from training.manifest import update_entry
    from training.train_attackers import build_bank, export_onnx, train_lda

    bank = build_bank(["007", "008", "009", "010"], [], data_dir, max_frames=30)
    torch.manual_seed(0)
    export_onnx(GeiCnn(), models_dir / "attacker.onnx")
    update_entry("test_attacker", models_dir, role="attacker", file="attacker.onnx")
    return {"lda": GeiAttacker("lda", train_lda(bank, "lda").embed_geis), "guesser": GuessingAttacker()}


@needs_shared_data
@pytest.mark.slow
def test_tiny_evaluation_writes_reports_and_the_same_figures_into_the_manifest(shared_data, tmp_path):
    from gaitanon_core.shape.codec import LAYOUT, N_POINTS
    from model_fixtures import build_model_bank
    from training.evaluate import EvaluationConfig, run_evaluation
    from training.manifest import load_manifest

    models = build_model_bank(tmp_path / "models", N_POINTS, LAYOUT, alphas=(0.3,))
    attackers = tiny_attackers(shared_data, models)
    config = EvaluationConfig(
        subjects=("085", "086"), data_dir=shared_data, quick=True, out_dir=tmp_path / "reports",
        cache=tmp_path / "cache", models_dir=models, write_manifest=True, video=False, adaptive=False,
        tool_owner_subjects=("007", "008"), log=lambda line: None,
    )
    run_evaluation(config, attackers=attackers)
    report = json.loads((tmp_path / "reports" / "evaluation.json").read_text())
    assert (tmp_path / "reports" / "evaluation.md").read_text().startswith("# Evaluation")
    assert report["attackers"]["lda"]["qualified"] and not report["attackers"]["guesser"]["qualified"]
    alpha = report["anonymity"]["fixture_anonymizer_a0.3 (alpha 0.3)"]
    assert set(alpha["success"]) == {"lda"}  # refused against the weak attacker
    assert "refused" in (tmp_path / "reports" / "evaluation.md").read_text()
    assert report["naturalness"]["original (no anonymization)"]["iou_with_original"] == 1.0
    entries = {e["name"]: e for e in load_manifest(models)["models"]}
    assert entries["fixture_anonymizer_a0.3"]["evaluation"] == report["manifest_blocks"][str(models)]["fixture_anonymizer_a0.3"]
    assert set(alpha["tool_owner"]) == {"lda"} and alpha["linkability"]["two_draws_same_walk"]["rank1"] >= 0.0
    assert entries["test_attacker"]["calibration"] == report["calibration"]
    assert report["calibration"]["pairs"]["same_person"] > 0


def test_committed_manifest_figures_belong_to_the_shipped_files():
    """Figures in the manifest were measured on exactly the files it lists, by the evaluation protocol
    of this code (the tool owner's attacks included); the default strength and the attacker always carry
    them (rerun `python -m training.evaluate` after retraining). A strength measured only under an older
    protocol carries no test figures at all, rather than flattering ones."""
    from gaitanon_core.options import default_strength

    manifest = json.loads((REPO_ROOT / "models" / "manifest.json").read_text())
    anonymizers = [e for e in manifest["models"] if e.get("role") == "anonymizer"]
    attackers = [e for e in manifest["models"] if e.get("role") == "attacker"]
    if not anonymizers and not attackers:
        pytest.skip("no model is shipped in models/ yet")
    assert any(abs(e["alpha"] - default_strength(REPO_ROOT / "models")) < 1e-6 for e in anonymizers)
    plain = [e for e in attackers if not e.get("adapted_to")]
    for entry in anonymizers + plain:  # every shipped strength has its own figures
        block = entry.get("evaluation")
        assert block is not None, f"{entry['name']} has no evaluation figures"
        assert block["model_sha256"] == entry["sha256"], f"{entry['name']}: figures are from another file"
    for entry in anonymizers:
        block = entry["evaluation"]
        assert block["mode"] in ("full", "quick")
        assert block["protection"]["weakest_success_rank1"] is not None  # measured against the tool owner
        assert any("adaptive" in attack for attack in block["protection"]["success_rank1"]), (
            f"{entry['name']} has no figure against an attacker retrained on its outputs")
        assert all(0.0 <= v <= 1.0 for v in block["success_rank1_same_view_nm"].values())
    names = {e["name"] for e in anonymizers}
    for entry in attackers:
        assert entry["calibration"]["threshold"] > 0
        assert entry.get("adapted_to") in (None, *names), f"{entry['name']} is adapted to a model that is not shipped"


def test_readme_figures_are_generated_from_the_manifest():
    """The README's headline table is the manifest's figures, never typed (python -m training.model_card)."""
    from training.model_card import README_BEGIN, README_END, all_entries, readme_figures

    text = (REPO_ROOT / "README.md").read_text()
    block = text[text.index(README_BEGIN): text.index(README_END) + len(README_END)]
    assert block == readme_figures(all_entries())
