"""The anonymized person drawn on real frames (issue 14): no seam along the original outline, no limb drawn
twice, faces hidden, an independent person detector's score at least eq. 9's. The demo walker uses its true
silhouettes and part labels; the CASIA-B and phone clips go through the whole engine. Figures and commands: README, "How the person is drawn"."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from conftest import SHARED_DATA, needs_shared_data
from gaitanon_core.pipeline import anonymize_clip
from training.demo_walker import LIMBS, WalkerIdentity, render_walk
from training.render_eval import (
    CASIA_CLIPS, demo_walker_measures, engine_options, limbs_drawn_twice, measure_clip,
)

SEAM_P90_MAX = 1.3
BAND_EDGE_MEDIAN_MAX = 1.25  # 2.3-3.3 before the band took the live frame's light


@pytest.fixture(scope="module")
def labelled_walk():
    return render_walk(WalkerIdentity(), limbs=True)


def test_the_demo_walker_labels_every_silhouette_pixel_with_its_part(labelled_walk) -> None:
    clip = labelled_walk
    assert np.array_equal(clip.limbs > 0, clip.masks)
    middle = clip.limbs[len(clip.limbs) // 2]
    assert all(np.count_nonzero(middle == LIMBS[name]) > 100 for name in ("near arm", "near leg", "far leg"))


@pytest.fixture(scope="module")
def demo_measures(labelled_walk) -> dict[str, dict]:
    """Per condition: the seam ratio's 90th percentile, the frames that draw a limb twice, the person detector."""
    from training.naturalness import PersonDetector

    return demo_walker_measures(PersonDetector(), labelled_walk)


@pytest.mark.slow
def test_demo_walker_draws_no_limb_twice(demo_measures) -> None:
    assert demo_measures["warp"]["seam_frames"] > 50
    assert demo_measures["warp"]["limbs_twice"] == 0, "no frame draws a limb twice"


@pytest.mark.slow
def test_demo_walker_has_no_seam(demo_measures) -> None:
    assert demo_measures["warp"]["seam_p90"] <= SEAM_P90_MAX
    assert demo_measures["eq9"]["seam_p90"] > demo_measures["warp"]["seam_p90"], "the measure catches eq. 9"


def test_the_limb_count_catches_an_arm_drawn_beside_itself(labelled_walk) -> None:
    """The control: the same frame's labels with the near arm copied a body width ahead count as a limb drawn twice.
    (Eq. 9 no longer serves: with the identity model's outlines it doubled a limb in 0 of 85 frames.)"""
    before = labelled_walk.limbs[len(labelled_walk.limbs) // 2]
    after = before.copy()
    arm = before == LIMBS["near arm"]
    width = int(np.ptp(np.flatnonzero(before.any(axis=0))))
    after[np.roll(arm, width, axis=1)] = LIMBS["near arm"]  # clear of the walker: a second arm beside the first
    assert limbs_drawn_twice(before, before) == []
    assert limbs_drawn_twice(before, after) == ["near arm"]


@pytest.mark.slow
@needs_shared_data
@pytest.mark.parametrize("name", CASIA_CLIPS)
def test_casia_clips_have_no_seam(name: str, tmp_path) -> None:
    measures = measure_clip(SHARED_DATA / "clips" / name, "warp", tmp_path)
    assert len(measures.seams) > 20
    assert measures.seam_p90() <= SEAM_P90_MAX
    assert np.median(measures.bands) <= BAND_EDGE_MEDIAN_MAX, "the band around the original shows no grown outline"


def _head_detail(frame) -> float:
    """Mean horizontal difference inside the top 12 % of the new silhouette, 2 px in from its edge (the edge
    against the wall stays sharp): a face has it, a hidden one not."""
    rows = np.flatnonzero(frame.anonymized_silhouette.any(axis=1))
    head = cv2.erode(frame.anonymized_silhouette.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    head[int(rows[0] + 0.12 * (rows[-1] - rows[0])):] = False
    grey = frame.anonymized.astype(np.float32).mean(axis=2)
    inside = head[:, 1:] & head[:, :-1]
    return float(np.abs(np.diff(grey, axis=1))[inside].mean()) if inside.sum() >= 10 else np.nan


@pytest.mark.slow
@needs_shared_data
def test_the_engine_hides_the_walker_s_head_by_default(tmp_path) -> None:
    """OpenCV's packaged face cascades never find this walker's face (side view, small), so the check is
    the head's own detail: the default (blur) against faces="keep", same draw."""
    detail = {}
    for faces in ("blur", "keep"):
        frames = []
        options = engine_options(0, faces=faces)
        anonymize_clip(SHARED_DATA / "clips" / CASIA_CLIPS[0], tmp_path / f"{faces}.mp4", options,
                       on_frame=lambda f: frames.append(_head_detail(f)) if f.anonymized_silhouette.any() else None)
        detail[faces] = np.nanmedian(frames)
    assert detail["blur"] < 0.5 * detail["keep"]


@pytest.mark.slow
def test_an_independent_person_detector_scores_the_default_at_least_as_eq9(demo_measures) -> None:
    """Issue 14: naturalness with the warp >= eq. 9's (SSD-MobileNet COCO on the colour output, the demo walker
    on its true silhouettes; the CASIA-B clips: README)."""
    assert demo_measures["warp"]["person"] >= demo_measures["eq9"]["person"]
