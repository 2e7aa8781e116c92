"""The whole-frame face pass: faces of people no track follows (a face at a window) are hidden; a missed
search does not show a face, nor do the frames before a search that finds one (a face coming into view, or
moving with a panning camera); a person the user keeps keeps their face; --faces keep turns it off."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from model_fixtures import build_model_bank
from moving_scenes import similarity, texture, view

from gaitanon_core.people.face_detection import FaceDetector
from gaitanon_core.people.person_mask import Box
from gaitanon_core.pipeline import AnonymizeOptions, anonymize_clip
from gaitanon_core.pipeline.camera import MOVING, Camera
from gaitanon_core.render.faces import HOLD_S, SCAN_S, FaceWatch, hide_face
from gaitanon_core.shape import codec
from gaitanon_core.video import ExportOptions, read_frames
from gaitanon_core.video.camera_motion import CameraMotion
from training.demo_walker import WalkerIdentity, render_walk, write_clip
from training.face_walker import face_picture
from training.render_eval import face_boxes, face_detectors

WINDOW = (40, 60, 34)  # top, left, size of the face at the window (the cartoon face is found at 24-36 px)


def with_face(image: np.ndarray, top: int, left: int, size: int) -> np.ndarray:
    colour, cover = face_picture(size)
    out = image.astype(np.float32)
    region = out[top : top + size, left : left + size]
    out[top : top + size, left : left + size] = cover[..., None] * colour + (1.0 - cover[..., None]) * region
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def wall(height: int = 200, width: int = 240) -> np.ndarray:
    return np.full((height, width, 3), 225, np.uint8)


def detail(image: np.ndarray) -> float:
    return float(np.abs(np.diff(image.astype(np.float32), axis=1)).mean())


def test_the_packaged_face_detector_finds_a_face_and_not_a_wall() -> None:
    detector = FaceDetector()
    found = detector.faces(with_face(wall(), *WINDOW))
    assert len(found) == 1 and found[0].x0 < 60 + 17 < found[0].x1 and found[0].y0 < 40 + 17 < found[0].y1
    assert detector.faces(wall()) == []


@pytest.mark.parametrize("mode", ["blur", "pixelate", "fill"])
def test_a_hidden_face_keeps_no_detail_and_nothing_around_it_changes(mode: str) -> None:
    image = with_face(wall(), *WINDOW)
    hidden = image.copy()
    hide_face(hidden, Box(60, 40, 94, 74), mode)
    assert detail(hidden[46:68, 66:88]) < 0.3 * detail(image[46:68, 66:88])
    assert np.array_equal(hidden[110:], image[110:]) and np.array_equal(hidden[:, 130:], image[:, 130:])


def at_the_window(boxes: list[tuple[int, int, int, int]]) -> bool:
    """Is one of the (x, y, w, h) boxes centred on the face at the window?"""
    top, left, size = WINDOW
    return any(left <= x + w / 2 <= left + size and top <= y + h / 2 <= top + size for x, y, w, h in boxes)


def passed(watch: FaceWatch, images: list[np.ndarray], first: int = 0,
           kept: np.ndarray | None = None) -> list[tuple[int, np.ndarray, int]]:
    """(frame index, image, faces hidden) of `images` (frames `first`...) through the watch, in order."""
    return list(watch.hidden((first + k, first + k, image, kept) for k, image in enumerate(images)))


def test_a_face_stays_hidden_between_searches_and_for_a_while_after_the_detector_misses_it() -> None:
    fps = 25.0
    image = with_face(wall(), *WINDOW)
    searches: list[int] = []

    def finds_only_on_the_first_search(picture: np.ndarray) -> list[Box]:
        searches.append(1)
        return [Box(60, 40, 94, 74)] if len(searches) == 1 else []

    watch = FaceWatch(finds_only_on_the_first_search, fps, "blur")
    out = passed(watch, [image.copy() for _ in range(13, 73)], first=13)  # a clip cut to start at frame 13
    assert [index for index, _, _ in out] == list(range(13, 73)), "every frame, in order"
    assert [index for index, _, hidden in out if hidden] == list(range(13, 13 + round(HOLD_S * fps) + 1))
    assert len(searches) == len(range(13, 73, round(SCAN_S * fps))) + 1, "each SCAN_S, and the last frames"


def test_a_face_that_comes_into_view_between_searches_is_hidden_from_the_frame_it_came() -> None:
    """The real detector searches frames 0, 10, 20 ...; the face comes at frame 14 and leaves after 31."""
    watch = FaceWatch(FaceDetector().faces, 25.0, "blur")
    face = [14 <= k <= 31 for k in range(40)]
    images = [with_face(wall(), *WINDOW) if shown else wall() for shown in face]
    region = (slice(46, 68), slice(66, 88))
    before = detail(images[20][region])
    out = passed(watch, [image.copy() for image in images])
    shown = [k for k, image, _ in out if face[k] and detail(image[region]) > 0.3 * before]
    assert shown == [], f"the face shows on frames {shown}"
    assert all(hidden for k, _, hidden in out if face[k])


def test_a_face_found_on_both_sides_of_a_wait_is_hidden_where_it_moved_in_between() -> None:
    """It moves 7 px a frame, 70 px between two searches: more than the hidden ellipse's width (34 px face)."""
    size, step, top = 34, 7, 40
    lefts = [10 + step * k for k in range(35)]
    images = [with_face(wall(240, 320), top, left, size) for left in lefts]
    frames = {id(image): k for k, image in enumerate(images)}  # the finder knows where the face is: a truthful one
    watch = FaceWatch(lambda picture: [Box(lefts[frames[id(picture)]], top, lefts[frames[id(picture)]] + size,
                                           top + size)], 25.0, "blur")
    plain = detail(images[0][top + 6: top + 28, lefts[0] + 6: lefts[0] + 28])
    out = list(watch.hidden((k, k, image, None) for k, image in enumerate(images)))
    shown = [k for k, image, _ in out
             if detail(image[top + 6: top + 28, lefts[k] + 6: lefts[k] + 28]) > 0.3 * plain]
    assert shown == [], f"the face shows on frames {shown}"


def panning(step: float, frames: int, first: int = 0) -> Camera:
    """A camera whose picture moves `step` px left each frame."""
    to_first = np.repeat(np.eye(3)[None], frames, axis=0)
    to_first[:, 0, 2] = step * np.arange(frames)
    return Camera(MOVING, CameraMotion(to_first, np.ones(frames)), first)


def test_the_camera_carries_a_box_with_the_picture() -> None:
    camera = panning(5.0, 30, first=100)
    assert camera.carry(Box(60, 40, 94, 74), 100, 110) == Box(10, 40, 44, 74)
    assert camera.carry(Box(10, 40, 44, 74), 110, 100) == Box(60, 40, 94, 74)
    def unmeasured(step: int) -> Camera:  # the step into frame 100 + `step` was not measured
        return Camera(MOVING, CameraMotion(camera.motion.to_first, np.where(np.arange(30) == step, 0.0, 1.0)), 100)

    for step in (5, 10):  # between them, and into the target: the box also covers where it was
        assert unmeasured(step).carry(Box(60, 40, 94, 74), 100, 110) == Box(10, 40, 94, 74)
    assert unmeasured(10).carry(Box(10, 40, 44, 74), 110, 100) == Box(10, 40, 94, 74)
    assert unmeasured(0).carry(Box(60, 40, 94, 74), 100, 110) == Box(10, 40, 44, 74), "the step into frame 100"
    assert unmeasured(11).carry(Box(60, 40, 94, 74), 100, 110) == Box(10, 40, 44, 74), "a step after frame 110"


def test_a_face_held_after_a_missed_search_moves_with_a_panning_camera() -> None:
    """Found on the first search only, on a picture panning 5 px a frame: hidden where it is for HOLD_S."""
    size, top, step = 34, 40, 5
    lefts = [200 - step * k for k in range(26)]
    images = [with_face(wall(240, 320), top, left, size) for left in lefts]
    found = [Box(lefts[0], top, lefts[0] + size, top + size)]
    searches: list[int] = []

    def finds_on_the_first_search_only(picture: np.ndarray) -> list[Box]:
        searches.append(1)
        return found if len(searches) == 1 else []

    plain = detail(images[0][top + 6: top + 28, lefts[0] + 6: lefts[0] + 28])
    watch = FaceWatch(finds_on_the_first_search_only, 25.0, "blur", panning(step, len(images)).carry)
    out = passed(watch, images)
    shown = [k for k, image, _ in out if detail(image[top + 6: top + 28, lefts[k] + 6: lefts[k] + 28]) > 0.3 * plain]
    assert shown == [], f"the face shows on frames {shown}"


def test_a_face_that_comes_beside_one_already_found_is_hidden_where_it_is() -> None:
    """Face A is found by both searches (frames 0 and 4 at 10 fps); face B comes beside it at frame 1."""
    size, top = 30, 40
    images = [with_face(wall(240, 320), top, 100, size) for _ in range(9)]
    for image in images[1:]:
        image[...] = with_face(image, top, 150, size)
    frames = {id(image): k for k, image in enumerate(images)}
    a, b = Box(100, top, 100 + size, top + size), Box(150, top, 150 + size, top + size)
    watch = FaceWatch(lambda picture: [a] + ([b] if frames[id(picture)] >= 1 else []), 10.0, "blur")
    plain = detail(images[1][top + 5: top + 25, 155:175])
    out = passed(watch, images)
    shown = [k for k, image, _ in out[1:] if detail(image[top + 5: top + 25, 155:175]) > 0.3 * plain]
    assert shown == [], f"face B shows on frames {shown}"


def test_a_face_carried_off_the_picture_with_a_kept_person_in_it_is_no_error() -> None:
    """The camera pans 30 px a frame: the face's box goes off the left edge (its centre at negative columns,
    which indexed the kept region from its right end) and a kept person stands at the right."""
    kept = np.zeros((200, 240), bool)
    kept[:, 200:] = True
    watch = FaceWatch(lambda picture: [Box(10, 40, 44, 74)], 25.0, "blur", panning(30.0, 30).carry)
    out = passed(watch, [with_face(wall(), 40, 10, 34) for _ in range(30)], kept=kept)
    assert [k for k, _, _ in out] == list(range(30))


def test_frames_handed_on_before_a_failure_are_hidden_and_the_failure_comes_through() -> None:
    def clip() -> Iterator[tuple[int, int, np.ndarray, None]]:
        for k in range(15):
            yield k, k, with_face(wall(), *WINDOW), None
        raise RuntimeError("cancelled")

    watch = FaceWatch(lambda picture: [Box(60, 40, 94, 74)], 25.0, "blur")
    out = []
    with pytest.raises(RuntimeError, match="cancelled"):
        for handed in watch.hidden(clip()):
            out.append(handed)
    assert [k for k, _, _ in out] == list(range(11)) and all(hidden for _, _, hidden in out)


def test_a_kept_person_keeps_their_face_and_keep_mode_searches_nothing() -> None:
    image = with_face(wall(), *WINDOW)
    kept = np.zeros(image.shape[:2], bool)
    kept[30:180, 50:120] = True
    watch = FaceWatch(lambda picture: [Box(60, 40, 94, 74)], 25.0, "blur")
    out = passed(watch, [image.copy() for _ in range(12)], kept=kept)
    assert all(hidden == 0 and np.array_equal(picture, image) for _, picture, hidden in out)
    never = FaceWatch(lambda picture: pytest.fail("searched in keep mode"), 25.0, "keep")
    assert [hidden for _, _, hidden in passed(never, [image.copy()])] == [0]


@pytest.mark.slow
@pytest.mark.parametrize("first", [0, 7], ids=["from the start", "coming between two searches"])
def test_a_face_at_a_window_is_hidden_in_the_output(first: int, tmp_path: Path) -> None:
    """An independent detector (OpenCV's Haar cascades) finds the face at the window in every input frame that
    shows it and in none of the output's; the walker is anonymized as usual (their head is tests/test_faces.py's:
    on this test's stand-in models' rough bodies the cascades now and then take a hidden head for a face)."""
    clip = render_walk(WalkerIdentity(), (480, 270), empty_seconds=0.5)
    frames = np.stack([with_face(frame, *WINDOW) if k >= first else frame for k, frame in enumerate(clip.frames)])
    source = tmp_path / "window.mp4"
    write_clip(source, frames, clip.fps, crf=8)
    target = tmp_path / "out.mp4"
    models = build_model_bank(tmp_path / "models", codec.N_POINTS, codec.LAYOUT)
    report = anonymize_clip(source, target, AnonymizeOptions(models_dir=models, seed=0, export=ExportOptions(crf=8)))
    detectors = face_detectors()
    inputs = [at_the_window(face_boxes(f.image, detectors)) for f in read_frames(source)]
    outputs = [at_the_window(face_boxes(f.image, detectors)) for f in read_frames(target)]
    assert sum(inputs[first:]) >= 0.9 * len(inputs[first:])
    assert sum(outputs) == 0, f"a face shows on {sum(outputs)} of {len(outputs)} frames"
    assert report.face_frames >= report.frames - first and report.frames_anonymized > 0
    assert any("faces of people no track follows hidden" in line for line in report.summary_lines())


@pytest.mark.slow
def test_a_face_a_pan_brings_into_view_between_searches_is_hidden_from_its_first_frame(tmp_path: Path) -> None:
    """A camera panning 5 px a frame over a wall with a face on it, which comes into view at frame 12 (searches
    at 0, 10, 20, ...) and moves 50 px between two searches: no frame of the output shows it to OpenCV's Haar
    cascades. Without people nothing is covered as unfollowed motion: the face pass is all that hides it. With
    a search's faces held forward only (the pass before), it showed on frames 14, 16-19, 26-29 and 36-39."""
    size, height, width, step = 34, 270, 480, 5.0
    scene = texture((height, width + 200), seed=3)
    scene = with_face(scene, 60, width + 25, size)  # just beyond the first frame's right edge
    frames = [view(scene, similarity(-step * k, 0.0), (height, width)) for k in range(40)]
    source = tmp_path / "pan.mp4"
    write_clip(source, np.stack(frames), 25.0, crf=8)
    target = tmp_path / "out.mp4"
    models = build_model_bank(tmp_path / "models", codec.N_POINTS, codec.LAYOUT)
    anonymize_clip(source, target, AnonymizeOptions(models_dir=models, seed=0, export=ExportOptions(crf=8)))
    detectors = face_detectors()
    shown_in = [k for k, f in enumerate(read_frames(source)) if face_boxes(f.image, detectors)]
    assert shown_in and shown_in[0] % 10 != 0, f"the face should come between two searches: {shown_in}"
    shown_out = [k for k, f in enumerate(read_frames(target)) if face_boxes(f.image, detectors)]
    assert shown_out == [], f"a face shows on frames {shown_out} (in the input: {shown_in})"

