"""`gaitanon-cli people` (numbered tracks with thumbnails), `anonymize --keep-track N`, `--cover-track N` and
`--cover-box` on two walkers."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from model_fixtures import build_model_bank

from gaitanon_core.cli import main
from gaitanon_core.pipeline import people_in_clip
from gaitanon_core.render.covers import COVER_COLOUR
from gaitanon_core.shape import codec
from gaitanon_core.video import read_frames
from tests.hardening import leakcheck
from training.demo_walker import WalkerPath, random_identity, render_crowd, write_clip

SIZE = (240, 180)
# Two walkers who never meet: one after the other, the second the other way round, nearer the camera.
APART = [WalkerPath(random_identity(3)), WalkerPath(random_identity(4), direction=-1, nearer=0.05, delay=130)]


@pytest.fixture(scope="module")
def clip_file(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("apart")
    clip = render_crowd(APART, SIZE, seed=11)
    write_clip(folder / "apart.mp4", clip.frames, clip.fps, crf=0)  # lossless 4:2:0, like the output at --crf 0
    return folder / "apart.mp4"


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.slow
def test_people_lists_each_walker_with_a_thumbnail(clip_file: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    code, out, err = _run(capsys, "people", clip_file, "--thumbnails", tmp_path / "thumbs")
    assert code == 0, err
    listed = [line for line in out.splitlines() if line.startswith("person ")]
    assert len(listed) >= 2, out
    assert sorted(p.name for p in (tmp_path / "thumbs").iterdir()) == sorted(
        f"person-{line.split()[1].rstrip(':')}.png" for line in listed if "thumbnail none" not in line)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the default folder is made here, not left in /tmp
    code, out, _ = _run(capsys, "people", clip_file, "--end", "1")
    assert code == 0 and f"thumbnails in {tmp_path}{os.sep}gaitanon-people-" in out  # a private temporary folder


@pytest.mark.slow
def test_keep_track_leaves_that_walker_and_anonymizes_the_other(clip_file: Path, tmp_path: Path, capsys) -> None:
    tracks = people_in_clip(clip_file)
    kept = min(tracks)
    models = build_model_bank(tmp_path / "models", codec.N_POINTS, codec.LAYOUT)
    target = tmp_path / "out.mp4"
    code, _, err = _run(capsys, "anonymize", clip_file, "-o", target, "--models", models, "--keep-track", kept,
                        "--crf", "0")  # a kept person comes out exactly as they went in
    assert code in (0, 3), err
    originals = [f.image for f in read_frames(clip_file)]
    outputs = [f.image for f in read_frames(target)]
    for number, track in tracks.items():
        whole = [s for s in track.shapes if s.body == "whole"]
        changed = [leakcheck.body_changed_fraction(originals[s.index], outputs[s.index], s.person.full())
                   for s in whole]
        assert whole, f"person {number} never whole"
        if number == kept:
            assert np.median(changed) < leakcheck.MIN_CHANGED, "the kept walker is left as they were"
        else:
            assert min(changed) >= leakcheck.MIN_CHANGED, f"person {number} is anonymized"


def test_keeping_a_person_not_in_the_clip_is_a_usage_error(clip_file: Path, tmp_path: Path, capsys) -> None:
    models = build_model_bank(tmp_path / "models", codec.N_POINTS, codec.LAYOUT)
    code, _, err = _run(capsys, "anonymize", clip_file, "-o", tmp_path / "out.mp4", "--models", models,
                        "--keep-track", "99", "--end", "1")
    assert code == 2 and "no person 99" in err and "Traceback" not in err
    assert not (tmp_path / "out.mp4").exists()


@pytest.mark.slow
def test_cover_track_hides_that_walker_under_a_filled_shape_and_a_box_covers_its_frames(
        clip_file: Path, tmp_path: Path, capsys) -> None:
    tracks = people_in_clip(clip_file)
    covered = min(tracks)
    models = build_model_bank(tmp_path / "models", codec.N_POINTS, codec.LAYOUT)
    target = tmp_path / "out.mp4"
    code, out, err = _run(capsys, "anonymize", clip_file, "-o", target, "--models", models, "--cover-track", covered,
                          "--cover-box", "0,0,40,30@1-2", "--crf", "0")
    assert code in (0, 3), err
    assert f"person {covered}:" in out and "(covered whole, as chosen)" in out and "cover boxes painted on" in out
    originals = [f.image for f in read_frames(clip_file)]
    outputs = {f.index: (f.time, f.image) for f in read_frames(target)}
    for shape in tracks[covered].shapes:
        region = shape.person.full()
        if region.any():
            grey = np.abs(outputs[shape.index][1][region].astype(int) - COVER_COLOUR).max(axis=1) <= 8
            assert grey.mean() >= 0.95, f"frame {shape.index}: the covered walker shows through"
    for number, track in tracks.items():
        if number != covered:
            changed = [leakcheck.body_changed_fraction(originals[s.index], outputs[s.index][1], s.person.full())
                       for s in track.shapes if s.body == "whole"]
            assert min(changed) >= leakcheck.MIN_CHANGED, f"person {number} is anonymized"
    for time_s, image in outputs.values():
        in_box = np.abs(image[:30, :40].astype(int) - COVER_COLOUR).max() <= 8
        assert in_box == (1 <= time_s <= 2), f"the cover box at {time_s:.2f} s"


@pytest.mark.parametrize("argv, says", [
    (["--keep-track", "1", "--cover-track", "1"], "both kept unchanged and covered"),
    (["--cover-track", "99"], "no person 99"),
    (["--cover-box", "200,150,100,100"], "outside the 240x180 frame"),
])
def test_contradictory_or_impossible_covers_are_usage_errors(clip_file: Path, tmp_path: Path, capsys, argv,
                                                             says) -> None:
    models = build_model_bank(tmp_path / "models", codec.N_POINTS, codec.LAYOUT)
    code, _, err = _run(capsys, "anonymize", clip_file, "-o", tmp_path / "out.mp4", "--models", models,
                        "--end", "1", *argv)
    assert code == 2 and says in err and "Traceback" not in err, err
    assert not (tmp_path / "out.mp4").exists()
