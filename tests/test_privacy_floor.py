"""The shipped default model keeps its privacy floor against the tool owner (issue 12): the
figure `python -m training.privacy_floor --write` measured on validation walks, minus 10 points."""

from __future__ import annotations

import json

import pytest

from gaitanon_core.paths import models_dir


def _default_entry() -> dict:
    manifest = json.loads((models_dir() / "manifest.json").read_text())
    return next(e for e in manifest["models"] if e.get("role") == "anonymizer" and e.get("default"))


def test_the_default_model_carries_a_floor_measured_on_its_own_files():
    from training.privacy_floor import FLOOR_MARGIN, default_condition

    block = _default_entry().get("privacy_floor")
    assert block, "the default anonymizer has no privacy floor: run `python -m training.privacy_floor --write`"
    assert block["fingerprint"] == default_condition(models_dir()).fingerprint, "the floor was measured on other files"
    assert block["floor"] == pytest.approx(block["tool_owner_success"] - FLOOR_MARGIN, abs=1e-4)


def test_the_default_model_stays_above_its_privacy_floor(shared_data, tmp_path):
    from training.privacy_floor import measure_floor

    block = _default_entry()["privacy_floor"]
    figures = measure_floor(models_dir(), shared_data, tmp_path, log=lambda line: None)
    assert figures["probes"] == block["probes"]
    assert figures["tool_owner_success"] >= block["floor"], (
        f"the default model lets the tool owner identify more walks than its floor allows: success "
        f"{figures['tool_owner_success']:.3f} < floor {block['floor']:.3f}"
    )
