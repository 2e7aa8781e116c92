"""`gaitanon-cli info`: text and JSON description, one plain error line and exit 1 on a bad file."""

from __future__ import annotations

import json

import pytest

from gaitanon_core.cli import main
from gaitanon_core.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from video_factory import IDENTIFYING_TAGS, make_video


@pytest.fixture(scope="module")
def tagged_clip(tmp_path_factory):
    folder = tmp_path_factory.mktemp("info")
    return make_video(folder / "tagged.mp4", vfr=True, audio=True, rotation=90, identifying=True,
                      chapters=True, subtitles=True)  # fmt: skip


def test_info_text_says_what_an_export_changes(tagged_clip, capsys):
    assert main(["info", str(tagged_clip)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "size:        120x160 (upright)\n" in out
    assert "variable" in out and "90 degrees clockwise" in out
    assert "frames:      20" in out and "aac (dropped on export" in out
    assert "subtitle (mov_text)" in out
    for key in ("make", "model", "location", "creation_time", "chapters"):
        assert f"  {key}: " in out
    assert IDENTIFYING_TAGS["model"] in out


def test_info_json_is_machine_readable(tagged_clip, capsys):
    assert main(["info", "--json", str(tagged_clip)]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert (data["width"], data["height"], data["rotation"], data["frame_count"]) == (120, 160, 90, 20)
    assert data["is_vfr"] is True and data["has_audio"] is True
    assert data["metadata"]["make"] == IDENTIFYING_TAGS["make"]


@pytest.mark.parametrize(("content", "message"), [(b"", "empty"), (b"not a video at all\n" * 40, "not a video")])
def test_info_on_a_bad_file_prints_one_line_and_fails(tmp_path, capsys, content, message):
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    assert main(["info", str(path)]) == EXIT_FAILED
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and message in captured.err and "Traceback" not in captured.err


def test_info_on_a_missing_file_fails(tmp_path, capsys):
    assert main(["info", str(tmp_path / "nope.mp4")]) == EXIT_FAILED
    assert "no such file" in capsys.readouterr().err


def test_info_without_a_file_is_a_usage_error():
    with pytest.raises(SystemExit) as exit_info:
        main(["info"])
    assert exit_info.value.code == EXIT_USAGE
