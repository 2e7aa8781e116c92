"""`gaitanon --self-test` (the installer's check) and the program's command line."""

from __future__ import annotations

import pytest

from app.main import parse_args
from app.self_test import MOST_FRAMES, changed_share, run_self_test
from gaitanon_core.paths import demo_clip_path
from gui_helpers import model_bank  # noqa: F401 (shared fixture)


def test_command_line_takes_a_file_or_the_self_test_flag(tmp_path):
    assert parse_args([]).file is None and not parse_args([]).self_test
    assert parse_args([str(tmp_path / "a.mp4")]).file == tmp_path / "a.mp4"
    assert parse_args(["--self-test"]).self_test


def test_a_missing_file_is_a_usage_error(tmp_path, capsys):
    from app.main import main

    assert main([str(tmp_path / "nowhere.mp4")]) == 2
    assert "is not a file" in capsys.readouterr().err


@pytest.mark.slow
def test_the_check_fails_on_an_unchanged_clip():
    share, whole, frames = changed_share(demo_clip_path(), demo_clip_path())
    assert whole > 0 and frames > whole
    assert share < MOST_FRAMES  # the same clip twice: nothing changed, so the self-test would fail


@pytest.mark.slow
def test_self_test_passes_on_the_demo_clip(model_bank, capsys):
    assert run_self_test(models_dir=model_bank) == 0
    assert "self-test: passed" in capsys.readouterr().out
