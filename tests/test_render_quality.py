"""The anonymized person drawn on real frames (issue 14): no seam along the original outline, no limb drawn
twice, faces hidden. The demo walker uses its true silhouettes and part labels; the CASIA-B and phone clips
go through the whole engine. Figures and commands: README, "How the person is drawn"."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from conftest import SHARED_DATA, needs_shared_data
from gaitanon_core.pipeline import anonymize_clip
from training.demo_walker import LIMBS, WalkerIdentity, render_walk
from training.render_eval import (
    CASIA_CLIPS, engine_options, limbs_drawn_twice, measure_clip, seam_ratio, true_silhouette_frames,
)

SEAM_P90_MAX = 1.3


@pytest.fixture(scope="module")
def labelled_walk():
    return render_walk(WalkerIdentity(), limbs=True)


def test_the_demo_walker_labels_every_silhouette_pixel_with_its_part(labelled_walk) -> None:
    clip = labelled_walk
    assert np.array_equal(clip.limbs > 0, clip.masks)
    middle = clip.limbs[len(clip.limbs) // 2]
    assert all(np.count_nonzero(middle == LIMBS[name]) > 100 for name in ("near arm", "near leg", "far leg"))


@pytest.fixture(scope="module")
def demo_measures(labelled_walk) -> dict[str, tuple[list[float], int]]:
    """Per colouring: the seam ratio of each frame, and how many frames draw a limb twice."""
    measures = {}
    for colouring in ("warp", "eq9"):
        seams, twice = [], 0
        for frame in true_silhouette_frames(labelled_walk, colouring):
            ratio = seam_ratio(frame.image, frame.original, frame.anonymized)
            if ratio is not None:
                seams.append(ratio)
            twice += bool(limbs_drawn_twice(labelled_walk.limbs[frame.index], frame.labels))
        measures[colouring] = seams, twice
    return measures


@pytest.mark.slow
def test_demo_walker_has_no_seam_and_no_limb_drawn_twice(demo_measures) -> None:
    seams, twice = demo_measures["warp"]
    assert len(seams) > 50
    assert np.percentile(seams, 90) <= SEAM_P90_MAX
    assert twice == 0, "no frame draws a limb twice"


@pytest.mark.slow
def test_eq9_control_shows_what_the_measures_catch(demo_measures) -> None:
    """The paper's rule, measured the same way: it draws limbs twice, and its seam is higher than the warp's."""
    eq9_seams, twice = demo_measures["eq9"]
    assert twice > 0
    assert np.percentile(eq9_seams, 90) > np.percentile(demo_measures["warp"][0], 90)


@pytest.mark.slow
@needs_shared_data
@pytest.mark.parametrize("name", CASIA_CLIPS)
def test_casia_clips_have_no_seam(name: str, tmp_path) -> None:
    measures = measure_clip(SHARED_DATA / "clips" / name, "warp", tmp_path)
    assert len(measures.seams) > 20
    assert measures.seam_p90() <= SEAM_P90_MAX


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
