"""Nothing identifying leaks through the container: tags, chapters, subtitles, attachments, cover art.

Inputs carry a creation time, GPS location, make/model, encoder-ish and
free-text tags, chapters, a subtitle, an attachment (Matroska) or cover art
(MP4), and audio. The anonymized output must carry none of it, read three ways
with the bundled ffmpeg: `-f ffmetadata`, the `ffmpeg -i` stream listing, and a
search for every planted string in the raw bytes. The keep option must keep
them (so the checks can see metadata when it is there).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gaitanon_core import pipeline
from gaitanon_core.video import ExportOptions, probe
from tests.hardening import corpus as C

CONTAINERS = ("mkv", "mp4", "mp4_cover")
# What an MP4 muxer writes by itself; they say nothing about the source.
NEUTRAL_KEYS = {"major_brand", "minor_version", "compatible_brands"}
IDENTIFYING_KEYS = {"creation_time", "location", "location-eng", "make", "model", "encoder", "encoded_by",
                    "title", "comment", "artist", "date", "com.apple.quicktime.location.iso6709"}
TAG_LINE = re.compile(r"^\s+([\w.-]+)\s*: (.*)$")


@pytest.fixture
def rich_input(corpus, request, tmp_path) -> Path:
    picture = corpus.walker(C.GOOD_CASES[0])
    source = C.build_metadata_rich(picture, tmp_path / "in", request.param)
    planted = C.markers_in(source)
    assert {"chapter Arrival", "stream handler", "tag title"} <= set(planted), planted  # the input is rich
    return source


def ffmetadata_keys(text: str) -> set[str]:
    return {line.split("=", 1)[0] for line in text.splitlines() if "=" in line and not line.startswith(";")}


def assert_no_metadata(output: Path) -> None:
    assert C.markers_in(output) == []
    meta = C.ffmetadata(output)
    assert ffmetadata_keys(meta) <= NEUTRAL_KEYS, meta
    assert "[CHAPTER]" not in meta, meta
    banner = C.ffmpeg_banner(output)
    streams = [line.strip() for line in banner.splitlines() if line.strip().startswith("Stream #")]
    assert len(streams) == 1 and "Video: h264" in streams[0] and "attached pic" not in streams[0], streams
    assert "Chapter #" not in banner
    tags = [match.groups() for match in map(TAG_LINE.match, banner.splitlines()) if match]
    filled = {key.lower(): value.strip() for key, value in tags if value.strip()}
    assert not IDENTIFYING_KEYS & set(filled), filled  # an empty `encoder` tag is ffmpeg's placeholder
    info = probe(output)
    assert info.metadata == {} and info.other_streams == [] and not info.has_audio


def _anonymize(source: Path, target: Path, models: Path, export: ExportOptions) -> None:
    pipeline.anonymize_clip(source, target, pipeline.AnonymizeOptions(models_dir=models, seed=2, export=export))


@pytest.mark.parametrize("rich_input", CONTAINERS, indirect=True)
def test_anonymized_output_carries_no_metadata(rich_input, fixture_models, tmp_path):
    target = tmp_path / "out.mp4"
    _anonymize(rich_input, target, fixture_models, ExportOptions())
    assert_no_metadata(target)


@pytest.mark.parametrize("rich_input", ["mp4"], indirect=True)
def test_kept_metadata_is_kept(rich_input, fixture_models, tmp_path):
    target = tmp_path / "kept.mp4"
    _anonymize(rich_input, target, fixture_models, ExportOptions(keep_metadata=True, keep_audio=True))
    kept = C.markers_in(target)
    assert "tag location" in kept and "tag model" in kept, kept
    assert probe(target).has_audio
