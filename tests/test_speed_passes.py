"""The fast passes of issue #15: what they skip must not change what they give."""

from __future__ import annotations

import os
import subprocess
import sys
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from gaitanon_core.people import moving_background, tracks
from gaitanon_core.people.detection import Detection, PersonDetector
from gaitanon_core.people.person_mask import Box
from gaitanon_core.pipeline import camera, route
from gaitanon_core.pipeline.events import Ticker
from gaitanon_core.errors import Cancelled
from gaitanon_core.report import StageClock
from gaitanon_core.people.silhouettes import sample_count
from gaitanon_core.pipeline.people import SAMPLING, clip_segmenter, find_people
from gaitanon_core.video import Frame, probe, read_frames
from gaitanon_core.video import stream
from gaitanon_core.video.stream import read_chosen_frames
from gaitanon_core.video.camera_motion import still
from moving_scenes import similarity, texture, view
from video_factory import make_video
from training.demo_walker import WalkerIdentity, render_walk, write_clip


@pytest.fixture(scope="module")
def walk(tmp_path_factory) -> Path:
    clip = render_walk(WalkerIdentity(), (320, 180))  # smaller, too few corners to measure the camera by
    return write_clip_at(tmp_path_factory.mktemp("walk") / "walk.mp4", clip.frames, clip.fps)


def write_clip_at(path: Path, frames: np.ndarray, fps: float) -> Path:
    write_clip(path, frames, fps)
    return path


def test_the_chosen_frames_are_those_of_a_full_read(walk: Path) -> None:
    every = {frame.index: frame for frame in read_frames(walk)}
    for chosen in (range(2, len(every), 7), [0, 5, 6, len(every) - 1]):
        picked = list(read_chosen_frames(walk, chosen))
        assert [frame.index for frame in picked] == list(chosen)
        for frame in picked:
            assert frame.time == every[frame.index].time
            assert np.array_equal(frame.image, every[frame.index].image)


def test_the_background_samples_are_counted_and_can_be_cancelled(walk: Path) -> None:
    """Sampling the background decodes most of the clip (70 s of a 10-minute 720p one): it counts its samples
    as a stage of its own, and a cancel stops it between two of them."""
    info = probe(walk)
    seen = []
    clip_segmenter(info, None, None, Ticker(info.frame_count, seen.append, None))
    count = sample_count(info, None, None)
    assert 1 < count < info.frame_count
    assert seen and {p.stage for p in seen} == {SAMPLING} and seen[-1].done == seen[-1].total == count
    checks = []
    with pytest.raises(Cancelled):
        clip_segmenter(info, None, None, Ticker(info.frame_count, None, lambda: checks.append(1) or len(checks) > 2))
    assert len(checks) == 3


def test_chosen_frames_far_apart_are_each_sought_and_are_those_of_a_full_read(walk: Path, tmp_path: Path,
                                                                             monkeypatch) -> None:
    """Frames chosen further apart than SEEK_GAP_S are reached by a seek each (not by decoding all between
    them), and are the very frames of a full read, also on a variable-rate and a rotated clip."""
    monkeypatch.setattr(stream, "SEEK_GAP_S", 0.1)
    decode, seeks = stream._decode, []
    monkeypatch.setattr(stream, "_decode", lambda info, times, seek, pick=None: seeks.append(seek) or
                        decode(info, times, seek, pick))
    for clip in (walk, make_video(tmp_path / "vfr.mp4", vfr=True, duration=3.0),
                 make_video(tmp_path / "rot90.mp4", rotation=90, duration=3.0)):
        every = {frame.index: frame for frame in read_frames(clip)}
        chosen = list(range(1, len(every), 11))
        seeks.clear()
        picked = list(read_chosen_frames(clip, chosen))
        assert [frame.index for frame in picked] == chosen, clip.name
        assert len(seeks) == len(chosen) and all(seek is not None for seek in seeks), clip.name
        for frame in picked:
            assert frame.time == every[frame.index].time and np.array_equal(frame.image, every[frame.index].image)


def test_the_detector_remembers_a_frame_it_saw(walk: Path) -> None:
    detector = PersonDetector()
    run = detector.session.run
    runs = []
    detector.session = type("Counted", (), {"run": lambda self, *args: runs.append(1) or run(*args)})()
    frames = [frame.image for frame in read_frames(walk)][20:23]
    first = [detector.people(image, 0.3) for image in frames]
    again = [detector.people(image, 0.3) for image in frames]
    assert first == again and len(runs) == len(frames)
    assert detector.people(frames[0], 0.9) == [d for d in first[0] if d.confidence >= 0.9]


def test_a_still_camera_is_judged_in_the_people_pass_without_measuring_its_path(walk: Path, monkeypatch) -> None:
    def path_measured(*_):
        raise AssertionError("a still camera's path was measured")

    monkeypatch.setattr(camera, "measure_camera", path_measured)
    info = probe(walk)
    stillness = camera.StillnessWatch(0)
    people = find_people(clip_segmenter(info, None, None), read_frames(walk, info), info.fps, 64,
                         watch=stillness.see_people)
    assert len(stillness.offsets) == (info.frame_count - 1) // camera.STILL_EVERY  # every tenth after the first
    judged = camera.survey_camera(info, None, None, 0, people, stillness.offsets, Ticker(info.frame_count, None, None))
    assert judged.kind == camera.STATIC
    assert len(judged.motion.flagged) == info.frame_count and not judged.motion.flagged.any()


def test_the_stillness_watch_stops_at_the_first_frame_that_moved() -> None:
    scene = texture((300, 400), 3)
    stillness = camera.StillnessWatch(first=5)
    for index, dx in enumerate([0.0] * 15 + [3.0] * 20, start=5):
        image = view(scene, similarity(dx - 40, -30), (240, 320))
        stillness.see(Frame(index, index / 25, image), None)
    assert len(stillness.offsets) == 2 and stillness.offsets[0] < 0.3 and 2.5 < stillness.offsets[1] < 3.5


def test_the_camera_stops_looking_once_it_saw_it_move() -> None:
    assert still([0.2, None, 1.4])
    assert not still([0.2, 3.0])
    assert not still([None, None, 0.3])


@pytest.mark.parametrize("calm_from", [0, 7, 1000])
@pytest.mark.parametrize("calm_every", [6, 12])  # someone in view; nobody
def test_keyframes_stay_on_the_grid_and_thin_out_while_calm(calm_from: int, calm_every: int) -> None:
    """The detector every 3rd frame while busy, every `calm_every`-th once calm (from `calm_from` on), always
    on the grid."""
    follower = tracks._Follower.__new__(tracks._Follower)
    follower.keyframe, follower.calm_keyframe, follower.empty_keyframe = 3, 6, 12
    follower.detected, follower.calm = -6, False
    follower.tracker = tracks.BoxTracker(lost_frames=25, remember_frames=100, fps=25.0)
    if calm_every == 6:
        follower.tracker.start(0, [tracks.Sighting(np.array([10.0, 10.0, 20.0, 40.0]), 0.9, None)])
    keyframes = []
    for position in range(30):
        if follower._keyframe(position):
            keyframes.append(position)
            follower.detected = position
        follower.calm = position >= calm_from
    assert all(k % 3 == 0 for k in keyframes)
    busy = [k for k in keyframes if k <= calm_from]
    assert busy == list(range(0, min(calm_from, 29) + 1, 3))
    calm = [k for k in keyframes if k > calm_from]
    assert all(b - a == calm_every for a, b in zip(calm, calm[1:]))


def test_people_near_each_other_or_motion_nobody_follows_are_not_calm() -> None:
    shape = (90, 160)
    found = np.zeros(shape, bool)
    found[20:60, 20:30] = True
    masks = {1: (found, np.zeros(shape, bool)), 2: (found, np.zeros(shape, bool))}
    apart = {1: Box(20, 20, 30, 60), 2: Box(100, 20, 110, 60)}
    near = {1: Box(20, 20, 30, 60), 2: Box(35, 20, 45, 60)}
    nothing = np.zeros(shape, bool)
    assert tracks._settled(masks, apart, nothing)
    assert not tracks._settled(masks, near, nothing)
    assert not tracks._settled(masks, apart, found)
    assert not tracks._settled({1: (nothing, nothing)}, {1: apart[1]}, nothing)


def test_a_mask_reaching_past_its_box_is_not_calm() -> None:
    """A box the detector has not refreshed for a while (they came nearer, turned) cuts the mask off: detect."""
    shape = (90, 160)
    near = np.zeros(shape, bool)
    near[10:70, 15:35] = True
    person = np.zeros(shape, bool)
    person[20:60, 20:30] = True
    assert not tracks._outgrows(person, near)
    person[60:75, 20:30] = True
    assert tracks._outgrows(person, near)


def test_one_offset_beyond_the_shift_is_measured_again_on_the_next_frame() -> None:
    """A static camera's single thrown measurement (a mask that missed a limb) does not send the clip down the
    moving route: the next frame's offset takes its place; a camera that moved stays off and is confirmed."""
    scene = texture((400, 600), seed=3)
    stillness = camera.StillnessWatch(first=0)
    shifts = {20: 3.0}  # frame 20 alone is off (as a thrown measurement reads)
    for index in range(32):
        image = view(scene, similarity(shifts.get(index, 0.0) - 40, -30), (240, 320))
        stillness.see(Frame(index, index / 25, image), None)
    assert len(stillness.offsets) == 3 and max(stillness.offsets) < 0.3
    assert still(stillness.offsets)


def test_a_camera_the_samples_saw_move_is_surveyed_in_one_light_pass(tmp_path: Path, monkeypatch) -> None:
    """A pan the background's samples show: no people pass against their median (no scene), one light pass
    for the path, then the people found once, each frame against its own background (#17's speed)."""
    scene = texture((300, 900), seed=5)
    frames = np.stack([view(scene, similarity(-4.0 * k, -20), (240, 320)) for k in range(50)])
    clip = write_clip_at(tmp_path / "pan.mp4", frames, 25.0)
    passes, prepared_again = [], []
    monkeypatch.setattr(route, "find_people", lambda *args, **kwargs: passes.append(kwargs.get("join", True)) or
                        find_people(*args, **kwargs))
    monkeypatch.setattr(moving_background, "prepare", lambda *args: prepared_again.append(1))
    info = probe(clip)
    assert not clip_segmenter(info, None, None).samples_still
    _, judged, people = route.people_and_camera(info, None, None, 64, StageClock(), Ticker(len(frames), None, None))
    assert judged.kind == camera.MOVING and not judged.motion.flagged.any()
    assert passes == [False] and people.tracks == {}  # the second pass only
    assert len(judged.known) == 2 * (len(frames) - moving_background.DIRECT_REACH)  # each pair, both ways ...
    assert prepared_again == []  # ... measured in the light pass: the backgrounds register nothing again


class _CountingDetector:
    """Stands in for the shared detector: one person on each keyframe, 10 px further right each time."""

    def __init__(self) -> None:
        self.calls = 0

    def people(self, image: np.ndarray, confidence: float) -> list:
        self.calls += 1
        return [Detection(Box(10 * self.calls, 20, 10 * self.calls + 8, 60), 0.9)]


def test_each_frame_leaves_out_the_people_of_the_keyframes_either_side(monkeypatch) -> None:
    detector = _CountingDetector()
    monkeypatch.setattr(camera, "shared_detector", lambda: detector)
    segmenter = type("Full", (), {"at_work_size": staticmethod(lambda image: image)})()
    frames = [Frame(k, k / 25, np.zeros((120, 160, 3), np.uint8)) for k in range(8)]
    found = list(camera.detected_boxes(frames, segmenter, fps=25.0))  # keyframes 0, 3, 6
    assert [frame.index for frame, _ in found] == list(range(8)) and detector.calls == 3
    lefts = [sorted(box.x0 for box in boxes) for _, boxes in found]
    assert lefts == [[10, 20]] * 3 + [[20, 30]] * 3 + [[30]] * 2


def test_the_engine_asks_its_libraries_threads_to_sleep_unless_told_otherwise() -> None:
    """Set before OpenCV and numpy load (the command line and the app import the engine first); a user's own
    setting stands."""
    read = "import gaitanon_core, os; print(os.environ['OPENCV_THREAD_POOL_ACTIVE_WAIT_WORKER'], " \
           "os.environ['OPENCV_THREAD_POOL_ACTIVE_WAIT_MAIN'], os.environ['OPENBLAS_NUM_THREADS'])"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENCV_THREAD_POOL", "OPENBLAS"))}
    run = partial(subprocess.run, [sys.executable, "-c", read], capture_output=True, text=True, check=True)
    assert run(env=clean).stdout.split() == ["0", "0", "1"]
    assert run(env={**clean, "OPENCV_THREAD_POOL_ACTIVE_WAIT_MAIN": "500"}).stdout.split() == ["0", "500", "1"]
