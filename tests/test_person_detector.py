"""The engine's person detector: the ONNX model cut to "person" gives the rows OpenCV gave for the wheel's graph."""

from __future__ import annotations

import numpy as np
import pytest

from gaitanon_core.errors import GaitanonError
from gaitanon_core.paths import demo_clip_path
from gaitanon_core.people import detection
from gaitanon_core.people.detection import PersonDetector, suppressed
from gaitanon_core.video import read_frames


def test_suppression_keeps_the_best_of_each_overlapping_group():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [20, 20, 30, 30], [0, 0, 10, 9.5], [21, 20, 31, 30]], float)
    scores = np.array([0.5, 0.9, 0.4, 0.95, 0.3])
    # 3 (0.95) drops 1 and 0 (IoU 0.78, 0.95 > 0.6); 2 drops 4 (IoU 0.82)
    assert suppressed(boxes, scores, 0.6) == [3, 2]
    assert suppressed(boxes, scores, 0.99) == [3, 1, 0, 2, 4]
    assert suppressed(boxes, scores, 0.6, top_k=2) == [3]  # only the two best are looked at
    assert suppressed(np.zeros((0, 4)), np.zeros(0), 0.6) == []


def test_boxes_that_do_not_meet_or_have_no_area_overlap_nothing():
    boxes = np.array([[0, 0, 10, 10], [10, 0, 20, 10], [5, 5, 5, 5]], float)
    assert suppressed(boxes, np.array([0.9, 0.8, 0.7]), 0.0) == [0, 1, 2]


def test_a_missing_model_is_a_plain_error(monkeypatch, tmp_path):
    monkeypatch.setattr(detection, "resources_dir", lambda: tmp_path)
    with pytest.raises(GaitanonError, match="reinstall gaitanon"):
        detection.detector_path()


def demo_frames(step: int) -> list[np.ndarray]:
    """Every `step`-th frame of the demo clip (frames step - 1, 2 * step - 1, ...)."""
    return [frame.image for frame in read_frames(demo_clip_path())][step - 1::step]


def test_the_model_finds_the_rows_opencv_found_with_the_whole_graph():
    naturalness = pytest.importorskip("training.naturalness")
    theirs = naturalness.PersonDetector()  # the wheel the model was cut from (the test extra installs it)
    ours = PersonDetector()
    compared = 0
    for frame in demo_frames(step=7):
        expected, rows = theirs.rows(frame), ours.rows(frame)
        expected, rows = expected[expected[:, 2] >= 0.1], rows[rows[:, 2] >= 0.1]
        assert rows.shape == expected.shape
        np.testing.assert_allclose(rows[:, 2:], expected[:, 2:], atol=1e-4)
        compared += len(rows)
    assert compared >= 10  # the walker is in most of these frames


def test_people_are_boxes_in_the_frames_pixels():
    frame = demo_frames(step=5)[15]  # the walker in the middle of the room
    people = PersonDetector().people(frame)
    assert len(people) == 1
    box = people[0].box
    assert 0 <= box.x0 < box.x1 <= frame.shape[1] and 0 <= box.y0 < box.y1 <= frame.shape[0]
    assert box.height > 2 * box.width  # a standing person


def test_the_networks_threads_do_not_spin_between_runs():
    """Spinning, ONNX Runtime's idle threads took a core from the route's own work (README "Speed")."""
    from gaitanon_core.people.face_detection import FaceDetector

    for session in (PersonDetector().session, FaceDetector().session):
        assert session.get_session_options().get_session_config_entry("session.intra_op.allow_spinning") == "0"
