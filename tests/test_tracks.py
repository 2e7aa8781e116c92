"""The people tracker on its own (`people.tracks.BoxTracker`): small jittery boxes keep their id, unsure
detections continue tracks but start none, a lost person is re-identified by their colours within a
walker's reach, and two people who cross keep their ids."""

from __future__ import annotations

import numpy as np

from gaitanon_core.people.tracks import LOOK_BINS, BoxTracker, Sighting

FPS = 10.0
FRAME = (192, 256)  # the working resolution of a 768x576 clip, where vtest's people are about 30 px tall
SIZE = np.array([10.0, 30.0])


def _tracker() -> BoxTracker:
    return BoxTracker(lost_frames=10, remember_frames=40, fps=FPS)


def _look(colour: int, rng: np.random.Generator) -> np.ndarray:
    """A colour histogram mostly in one bin, with some noise (a person's clothes)."""
    histogram = rng.uniform(0.0, 0.02, LOOK_BINS).astype(np.float32)
    histogram.flat[colour] += 1.0
    return histogram / histogram.sum()


def _sighting(centre: tuple[float, float], look: np.ndarray, confidence: float = 0.9) -> Sighting:
    x, y = centre
    return Sighting(np.array([x - SIZE[0] / 2, y - SIZE[1] / 2, x + SIZE[0] / 2, y + SIZE[1] / 2]), confidence, look)


def _ids_near(tracker: BoxTracker, position: int, centre: tuple[float, float]) -> list[int]:
    """The tracks whose box holds `centre` on this frame."""
    return [track for track, box in tracker.boxes(position, FRAME).items()
            if box.x0 <= centre[0] <= box.x1 and box.y0 <= centre[1] <= box.y1]


def test_a_small_jittery_walker_keeps_one_id():
    rng = np.random.default_rng(1)
    tracker, look = _tracker(), _look(5, rng)
    seen = set()
    for position in range(40):
        centre = (40 + 3 * position + rng.uniform(-3, 3), 80 + rng.uniform(-3, 3))
        tracker.update(position, [_sighting(centre, _look(5, rng) if position else look)])
        seen |= set(tracker.boxes(position, FRAME))
    assert seen == {1}


def test_unsure_detections_continue_a_track_but_start_none():
    rng = np.random.default_rng(2)
    tracker = _tracker()
    tracker.update(0, [_sighting((60, 80), _look(3, rng)), _sighting((200, 80), _look(9, rng), confidence=0.4)])
    assert list(tracker.boxes(0, FRAME)) == [1], "an unsure detection alone starts nobody"
    for position in range(1, 25):  # the detector is unsure of the walker from now on, for longer than LOST_S
        tracker.update(position, [_sighting((60 + 2 * position, 80), _look(3, rng), confidence=0.4)])
    assert _ids_near(tracker, 24, (108, 80)) == [1]


def test_a_lost_walker_is_reidentified_by_their_colours():
    rng = np.random.default_rng(3)
    tracker = _tracker()
    for position in range(10):
        tracker.update(position, [_sighting((60 + 2 * position, 80), _look(3, rng)),
                                  _sighting((180, 60), _look(20, rng))])
    for position in range(10, 30):  # the first walker behind a post for 2 s: the tracker loses them
        tracker.update(position, [_sighting((180, 60), _look(20, rng))])
        tracker.boxes(position, FRAME)
    assert [t.id for t in tracker.lost] == [1]
    tracker.update(30, [_sighting((110, 80), _look(3, rng)), _sighting((180, 60), _look(20, rng))])
    assert _ids_near(tracker, 30, (110, 80)) == [1], "the same colours within walking reach: the same person"


def test_someone_else_where_a_walker_was_lost_is_a_new_person():
    rng = np.random.default_rng(4)
    tracker = _tracker()
    for position in range(10):
        tracker.update(position, [_sighting((60 + 2 * position, 80), _look(3, rng))])
    for position in range(10, 30):
        tracker.update(position, [])
        tracker.boxes(position, FRAME)
    tracker.update(30, [_sighting((90, 80), _look(40, rng))])
    assert _ids_near(tracker, 30, (90, 80)) == [2]


def test_two_walkers_who_cross_keep_their_ids():
    rng = np.random.default_rng(5)
    tracker = _tracker()
    for position in range(31):
        right, left = (40 + 4 * position, 80), (160 - 4 * position, 82)
        tracker.update(position, [_sighting(right, _look(3, rng)), _sighting(left, _look(30, rng))])
    assert _ids_near(tracker, 30, (160, 80)) == [1] and _ids_near(tracker, 30, (40, 82)) == [2]
