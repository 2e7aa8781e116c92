"""The GUI's batch dialog writes the same batch manifest as `gaitanon-cli batch`, beside the output folder."""

from __future__ import annotations

import json
import shutil

import pytest
from PySide6.QtCore import Qt

from gaitanon_core.batch import model_sha256s
from gui_helpers import wait_until
from gui_helpers import model_bank, walker_clips, window  # noqa: F401 (shared fixtures)
from tests.hardening.support import sha256

pytestmark = pytest.mark.slow  # anonymizes a short clip


def test_the_batch_dialog_writes_the_batch_manifest(window, qtbot, walker_clips, model_bank, tmp_path):
    from app.controllers.batch import BatchController
    from app.settings import Settings

    source, output = tmp_path / "in", tmp_path / "out"
    source.mkdir()
    shutil.copy(walker_clips["lost"], source / "a.mp4")  # three frames lost: flagged
    (source / "broken.mov").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    batch = BatchController(window, Settings(), 0.3, window.models_dir)
    qtbot.addWidget(batch)
    batch.input.setText(str(source))
    batch.output.setText(str(output))
    qtbot.mouseClick(batch.start, Qt.MouseButton.LeftButton)
    wait_until(lambda: batch.worker is None, timeout_s=300)

    manifest = tmp_path / "out.manifest.jsonl"
    records = {r["output"]: r for r in map(json.loads, manifest.read_text().splitlines())}
    assert sorted(records) == ["a_mp4.mp4", "broken_mov.mp4"]
    clip = records["a_mp4.mp4"]
    assert clip["status"] == "flagged" and clip["exit_code"] == 3 and clip["flagged_frames"]
    assert clip["output_sha256"] == sha256(output / "a_mp4.mp4") and clip["input_sha256"] == sha256(source / "a.mp4")
    assert clip["strength"] == 0.3 and clip["models"] == model_sha256s(model_bank)
    assert records["broken_mov.mp4"]["status"] == "failed"
    assert "Review first: a_mp4.mp4" in batch.summary.text() and str(manifest) in batch.summary.text()
