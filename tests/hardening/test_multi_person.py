"""Several people: anonymize every walker, or refuse clearly; never one anonymized and another left.

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
from gaitanon_core.errors import EXIT_FAILED, EXIT_FLAGGED, EXIT_OK, GaitanonError
from gaitanon_core.video import read_frames
from tests.hardening import corpus as C
from tests.hardening import leakcheck
from tests.hardening.support import assert_clean_failure, folder_listing, media_file

SIZE = (320, 240)
ROOM_SEED = 11
SECOND_WALKER_DELAY = 40  # frames: the second walker enters while the first is mid-room
PEOPLE_WORDS = ("more than one person", "several people", "people")


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


def test_two_walkers_both_anonymized_or_refused(fixture_models, tmp_path):
    both, second = _two_walkers()
    scene = C.WalkerScene(both, 0, len(both.frames))
    source = C.build_good(C.GOOD_CASES[0], scene, tmp_path / "in")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "anonymized.mp4"
    try:
        pipeline.anonymize_clip(source, target, pipeline.AnonymizeOptions(models_dir=fixture_models, seed=4))
    except GaitanonError as refusal:
        assert any(word in str(refusal) for word in PEOPLE_WORDS), str(refusal)
        assert folder_listing(out_dir) == []
        return
    originals = [f.image for f in read_frames(source)]
    outputs = [f.image for f in read_frames(target)]
    leaks = {"first walker": _leaks_of(both, originals, outputs), "second walker": _leaks_of(second, originals, outputs)}
    assert leaks == {"first walker": {}, "second walker": {}}


def test_pets_pedestrians_are_refused_or_flagged(product_models, run_cli, tmp_path):
    source = media_file("vtest.avi")
    target = tmp_path / "anonymized.mp4"
    result = run_cli("anonymize", str(source), "-o", str(target), "--models", str(product_models),
                     "--report", str(tmp_path / "report.json"), "--end", "4", timeout=600)
    if result.returncode == EXIT_FAILED:
        assert_clean_failure(result, {EXIT_FAILED})
        assert any(word in result.stderr for word in PEOPLE_WORDS), result.stderr
        assert not target.exists()
        return
    assert result.returncode in (EXIT_OK, EXIT_FLAGGED) and "Traceback" not in result.stderr, result.stderr[-2000:]
    report = json.loads(Path(tmp_path / "report.json").read_text())
    crowded = {f["index"] for f in report["flagged"] if any(w in f["reason"] for w in PEOPLE_WORDS)}
    assert len(crowded) >= report["frames"] // 2, "several walkers in every frame, and the report must say so"
