"""The whole-frame face pass: faces of people no track follows (a face at a window) are hidden; a missed
search does not show a face; a person the user keeps keeps their face; --faces keep turns it off."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from model_fixtures import build_model_bank

from gaitanon_core.people.face_detection import FaceDetector
from gaitanon_core.people.person_mask import Box
from gaitanon_core.pipeline import AnonymizeOptions, anonymize_clip
from gaitanon_core.render.faces import HOLD_S, SCAN_S, FaceWatch, hide_face
from gaitanon_core.shape import codec
from gaitanon_core.video import ExportOptions, read_frames
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


def test_a_face_stays_hidden_between_searches_and_for_a_while_after_the_detector_misses_it() -> None:
    fps = 25.0
    image = with_face(wall(), *WINDOW)
    searches: list[int] = []

    def finds_only_on_the_first_search(picture: np.ndarray) -> list[Box]:
        searches.append(1)
        return [Box(60, 40, 94, 74)] if len(searches) == 1 else []

    watch = FaceWatch(finds_only_on_the_first_search, fps, "blur")
    hidden_on = [k for k in range(13, 73) if watch.hide(k, image.copy())]  # a clip cut to start at frame 13
    assert hidden_on == list(range(13, 13 + round(HOLD_S * fps) + 1))
    assert len(searches) == len(range(13, 73, round(SCAN_S * fps)))


def test_a_kept_person_keeps_their_face_and_keep_mode_searches_nothing() -> None:
    image = with_face(wall(), *WINDOW)
    kept = np.zeros(image.shape[:2], bool)
    kept[30:180, 50:120] = True
    watch = FaceWatch(lambda picture: [Box(60, 40, 94, 74)], 25.0, "blur")
    out = image.copy()
    assert watch.hide(0, out, kept) == 0 and np.array_equal(out, image)
    never = FaceWatch(lambda picture: pytest.fail("searched in keep mode"), 25.0, "keep")
    assert never.hide(0, image.copy()) == 0


@pytest.mark.slow
def test_a_face_at_a_window_is_hidden_in_the_output(tmp_path: Path) -> None:
    """An independent detector (OpenCV's Haar cascades) finds the face in every input frame and in none of
    the output's; the walker is anonymized as usual."""
    clip = render_walk(WalkerIdentity(), (480, 270), empty_seconds=0.5)
    frames = np.stack([with_face(frame, *WINDOW) for frame in clip.frames])
    source = tmp_path / "window.mp4"
    write_clip(source, frames, clip.fps, crf=8)
    target = tmp_path / "out.mp4"
    models = build_model_bank(tmp_path / "models", codec.N_POINTS, codec.LAYOUT)
    report = anonymize_clip(source, target, AnonymizeOptions(models_dir=models, seed=0, export=ExportOptions(crf=8)))
    detectors = face_detectors()
    inputs = [bool(face_boxes(f.image, detectors)) for f in read_frames(source)]
    outputs = [bool(face_boxes(f.image, detectors)) for f in read_frames(target)]
    assert sum(inputs) >= 0.9 * len(inputs)
    assert sum(outputs) == 0, f"a face shows on {sum(outputs)} of {len(outputs)} frames"
    assert report.face_frames == report.frames and report.frames_anonymized > 0
    assert any("faces of people no track follows hidden" in line for line in report.summary_lines())
