"""The per-clip privacy check: attacker loading (checksum), calibration, plain wording."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gaitanon_core.errors import GaitanonError, InputError
from gaitanon_core.inference.attacker import Calibration, check_privacy, word_verdict
from test_naturalness import stick_walker

LEVELS = np.linspace(0, 1, 21)
CALIBRATION = {
    "levels": LEVELS.tolist(),
    "same_person": np.linspace(0.1, 0.6, 21).tolist(),
    "different_person": np.linspace(0.5, 1.4, 21).tolist(),
    "threshold": 0.55,
    "equal_error_rate": 0.1,
}


@pytest.fixture(scope="module")
def attacker_models(tmp_path_factory) -> Path:
    """A models folder holding an untrained GEI CNN exported as the attacker, with a calibration."""
    import torch

    from training.attackers import GeiCnn
    from training.manifest import update_entry
    from training.train_attackers import export_onnx

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("models")
    export_onnx(GeiCnn(), folder / "attacker.onnx")
    update_entry("attacker", folder, role="attacker", file="attacker.onnx", calibration=CALIBRATION)
    return folder


def test_a_walk_and_itself_would_be_linked(attacker_models):
    walk = stick_walker(40, 28)
    verdict = check_privacy(walk, walk, attacker_models)
    assert verdict.distance == pytest.approx(0, abs=1e-5)
    assert verdict.same_person_quantile == 0.0
    assert verdict.verdict_text.startswith("A gait recogniser would link")
    assert "body shape only" in verdict.limits_text


def test_full_width_and_cropped_frames_give_the_same_embedding(attacker_models):
    wide, other = stick_walker(40, 28), stick_walker(40, 20, swing=0.2)
    assert check_privacy(wide, other, attacker_models).distance == pytest.approx(
        check_privacy(wide[..., 10:54], other[..., 10:54], attacker_models).distance, abs=1e-5
    )


def test_wording_follows_the_calibrated_distributions():
    calibration = Calibration.from_entry({"calibration": CALIBRATION})
    assert "would link" in word_verdict(0.3, calibration)
    assert "might link" in word_verdict(0.56, calibration)
    assert "would probably not link" in word_verdict(1.0, calibration)
    wide_threshold = Calibration(calibration.levels, calibration.same_person, calibration.different_person, 0.8)
    assert "would probably link" in word_verdict(0.7, wide_threshold)
    assert calibration.same_person_quantile(0.35) == pytest.approx(0.5)
    assert calibration.different_person_quantile(2.0) == 1.0


def test_badly_shaped_walk_is_an_input_error(attacker_models):
    with pytest.raises(InputError, match="normalised silhouettes"):
        check_privacy(np.zeros((10, 32, 32)), np.zeros((10, 64, 44)), attacker_models)


def test_uncalibrated_or_tampered_attacker_is_refused(attacker_models, tmp_path):
    import json
    import shutil

    folder = tmp_path / "models"
    shutil.copytree(attacker_models, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["models"][0]["calibration"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    walk = stick_walker(20, 28)
    with pytest.raises(GaitanonError, match="not been calibrated"):
        check_privacy(walk, walk, folder)
    with open(folder / "attacker.onnx", "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(GaitanonError, match="checksum"):
        check_privacy(walk, walk, folder)


def test_no_attacker_installed(tmp_path):
    from training.manifest import update_entry

    update_entry("noise", tmp_path, role="noise_generator")
    walk = stick_walker(20, 28)
    with pytest.raises(GaitanonError, match="no gait recogniser"):
        check_privacy(walk, walk, tmp_path)
