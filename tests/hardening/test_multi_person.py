"""Several people: every walker is a track of their own, anonymized or covered, and listed in the
report; never one anonymized and another left as they were.

A synthetic clip puts two demo walkers (two identities) in one room, with their
true silhouettes, so the output can be checked against both. The PETS 2009
pedestrians of OpenCV's samples (`vtest.avi`, fetched by
scripts/ci_fetch_test_media.sh) are the real-footage case.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from gaitanon_core import pipeline
from training.demo_walker import WalkerClip, random_identity, render_walk
from gaitanon_core.errors import EXIT_FLAGGED, EXIT_OK
from gaitanon_core.video import read_frames
from tests.hardening import corpus as C
from tests.hardening import leakcheck
from tests.hardening.support import folder_listing, media_file

SIZE = (320, 240)
ROOM_SEED = 11
SECOND_WALKER_DELAY = 40  # frames: the second walker enters while the first is mid-room


def _second_walker_over(first: WalkerClip, second: WalkerClip, delay: int) -> WalkerClip:
    """`second`, `delay` frames late, pasted (figure and shadow) into `first`'s frames of the same room."""
    count = len(first.frames)
    later = np.clip(np.arange(count) - delay, 0, len(second.frames) - 1)
    present = (np.arange(count) >= delay)[:, None, None]
    person = second.masks[later] & present
    shadow = second.shadows[later] & present & ~first.masks
    pasted = person | shadow
    frames = np.where(pasted[..., None], second.frames[later], first.frames)
    return WalkerClip(frames=frames, masks=person, shadows=shadow, background=first.background, fps=first.fps)


def _two_walkers() -> tuple[WalkerClip, WalkerClip]:
    """(the composite clip with the first walker's truth, the second walker's truth in that clip)."""
    first = render_walk(random_identity(3), size=SIZE, fps=C.FPS, seed=ROOM_SEED)
    second_alone = render_walk(random_identity(4), size=SIZE, fps=C.FPS, seed=ROOM_SEED)
    second = _second_walker_over(first, second_alone, SECOND_WALKER_DELAY)
    both = WalkerClip(frames=second.frames, masks=first.masks, shadows=first.shadows & ~second.masks,
                      background=first.background, fps=first.fps)
    return both, second


def _leaks_of(truth: WalkerClip, originals, outputs) -> dict[int, str]:
    return leakcheck.leaking_frames(originals, outputs, truth.background, list(truth.masks), list(truth.shadows))


def _people_at(people: dict, frame: int) -> int:
    """How many of the report's people (tracks) span `frame`."""
    return sum(1 for p in people.values() if p["first_frame"] <= frame <= p["last_frame"])


def _assert_everyone_anonymized_or_covered(people: dict) -> None:
    for track, p in people.items():
        assert p["kept"] == 0, f"person {track} was left as they were without being asked to"
        assert p["anonymized"] + p["covered"] + p["absent"] == p["frames"], (track, p)


def test_two_walkers_both_anonymized(fixture_models, tmp_path):
    both, second = _two_walkers()
    scene = C.WalkerScene(both, 0, len(both.frames))
    source = C.build_good(C.GOOD_CASES[0], scene, tmp_path / "in")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "anonymized.mp4"
    report = pipeline.anonymize_clip(source, target, pipeline.AnonymizeOptions(models_dir=fixture_models, seed=4))
    assert folder_listing(out_dir) == ["anonymized.mp4"]
    originals = [f.image for f in read_frames(source)]
    outputs = [f.image for f in read_frames(target)]
    leaks = {"first walker": _leaks_of(both, originals, outputs), "second walker": _leaks_of(second, originals, outputs)}
    assert leaks == {"first walker": {}, "second walker": {}}
    _assert_everyone_anonymized_or_covered(report.people)
    together = [t for t in range(len(both.frames)) if both.masks[t].any() and second.masks[t].any()]
    listed_both = [t for t in together if _people_at(report.people, t) >= 2]
    assert len(listed_both) >= len(together) // 2, "while both walk, the report lists each as a person"


def test_pets_pedestrians_are_each_anonymized_and_listed(product_models, run_cli, tmp_path):
    source = media_file("vtest.avi")
    target = tmp_path / "anonymized.mp4"
    result = run_cli("anonymize", str(source), "-o", str(target), "--models", str(product_models),
                     "--report", str(tmp_path / "report.json"), "--end", "4", timeout=600)
    assert result.returncode in (EXIT_OK, EXIT_FLAGGED) and "Traceback" not in result.stderr, result.stderr[-2000:]
    report = json.loads(Path(tmp_path / "report.json").read_text())
    people = report["people"]
    assert len(people) >= 3, "several pedestrians, each a track of their own"
    _assert_everyone_anonymized_or_covered(people)
    for track in people:
        assert f"person {track}: frames" in result.stdout, f"person {track} missing from the printed report"
    crowded = [t for t in range(report["frames"]) if _people_at(people, t) >= 2]
    assert len(crowded) >= report["frames"] // 2, "several walkers in most frames, and the report must say so"
